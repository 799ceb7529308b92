/**
 * Plans and explanations as text for the terminal: one table per group, one row per entry.
 */
import { describeReason, type GroupPlan } from "./compute.js";
import type { JobExplanation } from "./explain.js";
import { describeGlideinAttr } from "../ads/glidein-attrs.js";
import type { GroupAttr } from "./group-policy.js";

/** The group's attributes: those sent to pilots, then those kept at the frontend. */
export function formatAttrs(attrs: readonly GroupAttr[]): string[] {
  const sent = attrs.filter((a) => a.parameter);
  const kept = attrs.filter((a) => !a.parameter);
  const show = (xs: readonly GroupAttr[]) =>
    xs.map((a) => `${describeGlideinAttr(a)}${a.from === "group" ? " (group)" : ""}`).join(", ");
  return [
    ...(sent.length ? [`attrs sent: ${show(sent)}`] : []),
    ...(kept.length ? [`attrs kept at the frontend: ${show(kept)}`] : []),
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Entries with nothing matched, no pilots and no request are left out unless `all`. */
export function formatPlan(
  plan: GroupPlan,
  all = false,
  attrs: readonly GroupAttr[] = [],
  voScripts: readonly string[] = [],
): string {
  const rows = plan.entries
    .filter((e) => all || e.jobs.count > 0 || e.pilots.total > 0 || e.request.idle > 0)
    .map((e) => [
      e.entry + (e.inDowntime ? " (down)" : ""),
      String(e.jobs.count),
      String(e.jobs.prop),
      String(e.jobs.hereonly),
      String(e.jobs.propMc),
      String(e.jobs.effectiveIdle),
      `${e.pilots.idleSlots}/${e.pilots.runningSlots}/${e.pilots.queuedIdle}`,
      String(e.request.idle),
      String(e.request.max),
      e.request.removal.type === "NO"
        ? "NO"
        : `${e.request.removal.type}+${e.request.removal.margin}`,
      [
        ...e.reasons.map(describeReason),
        ...(e.matchError ? [`match errors: ${e.matchError.count} (${e.matchError.message})`] : []),
      ].join("; ") || "-",
    ]);
  const head =
    `group ${plan.group}: ${plan.idleJobs} idle jobs, ${plan.unmatchedJobs} unmatched; ` +
    `pilots ${plan.totals.pilots}, idle slots ${plan.totals.idleSlots}, queued ${plan.totals.queuedIdle}`;
  const body = table(
    [
      "ENTRY",
      "COUNT",
      "PROP",
      "HEREONLY",
      "PROP_MC",
      "EFFECTIVE",
      "IDLE/RUN/QUEUED",
      "REQ_IDLE",
      "REQ_MAX",
      "REMOVE",
      "BOUND BY",
    ],
    rows,
  );
  const problems = plan.problems.map((p) => `  problem: ${p}`);
  return [head, ...formatAttrs(attrs), ...sends(voScripts), body, ...problems].join("\n");
}

/** What the group sends its pilots besides the request: its VO scripts and job wrapper. */
function sends(voScripts: readonly string[]): string[] {
  return voScripts.length > 0 ? [`scripts sent: ${voScripts.join("; ")}`] : [];
}

export function formatExplanation(
  x: JobExplanation,
  attrs: readonly GroupAttr[] = [],
  voScripts: readonly string[] = [],
): string {
  const out = [
    `group ${x.group}:`,
    ...formatAttrs(attrs).map((l) => `  ${l}`),
    ...sends(voScripts).map((l) => `  ${l}`),
  ];
  if (x.schedds) {
    const list = x.schedds.join(", ");
    if (!x.servedSchedd) {
      out.push(
        `  serves only the jobs of ${list}; this job's schedd is not among them: it gets no pilots from this group`,
      );
      return out.join("\n");
    }
    out.push(`  serves only the jobs of ${list}`);
  }
  if (!x.selectedByJobQuery) {
    out.push("  the group's job query does not select this job; it gets no pilots from this group");
    return out.join("\n");
  }
  const matching = x.entries.filter((e) => e.matches);
  out.push(`  matches ${matching.length} of ${x.entries.length} entries`);
  for (const e of x.entries) {
    if (e.matches) {
      out.push(`  + ${e.entry}${e.inDowntime ? " (in downtime: no pilots now)" : ""}`);
      continue;
    }
    out.push(`  - ${e.entry}`);
    for (const f of e.failed) out.push(`      fails: ${f.clause}  => ${f.value}`);
  }
  return out.join("\n");
}
