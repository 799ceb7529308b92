/**
 * One vocabulary at the seams: outside src/ads/, code names the pool's ad types and attributes
 * through the constants of src/ads/names.ts, never as string literals of its own. The scan reads
 * every source file with the TypeScript parser (comments and prose in messages do not count: only
 * a literal whose whole text is a known name) and fails on each such literal, except the few
 * places below where the same word means something else.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import * as names from "../../src/ads/names.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** Where a string equal to a known name is not that attribute or ad type. */
const NOT_ATTRIBUTES: readonly { files: string[]; names: string[]; why: string }[] = [
  {
    files: ["src/cli/status-format.ts"],
    names: ["Name", "Cpus", "Memory", "State", "Activity", "AuthenticatedIdentity", "Ads"],
    why: "column headings, as condor_status prints them",
  },
  {
    files: ["src/cli/status-compact.ts"],
    names: ["Machine", "Owner"],
    why: "a column heading, and a slot state in condor_status's summary",
  },
  {
    files: ["src/pilot/failure-linger.ts"],
    names: ["Owner"],
    why: "a value of State (a slot that takes no jobs), not the job's Owner",
  },
  {
    files: ["src/schedd/submit/derive-files.ts"],
    names: ["Machine"],
    why: "the value of TargetType: HTCondor's name for a machine ad",
  },
  {
    files: ["src/schedd/submit/commands.ts", "src/schedd/submit/derive-proxy.ts"],
    names: ["x509userproxy"],
    why: "the submit command, spelled like the attribute it fills",
  },
  {
    files: ["src/factory/decide-types.ts", "src/factory/decide.ts"],
    names: ["ReqMaxGlideins"],
    why: "the name of the bound a submit count met, in logs and metrics: the request's own limit",
  },
  {
    files: ["src/factory/adapters/arc/job-description.ts"],
    names: ["Name", "Environment"],
    why: "element names of ARC's ADL job description",
  },
  {
    files: ["src/factory/adapters/slurm/states.ts"],
    names: ["Name", "JobId", "ExitCode"],
    why: "sacct's field names",
  },
  {
    files: ["src/security/dn.ts", "src/security/dn-encode.ts"],
    names: ["Name"],
    why: "the ASN.1 type of an X.509 name, in parse errors",
  },
];

/** Every attribute and ad type name src/ads/names.ts defines. */
function knownNames(): Set<string> {
  const known = new Set<string>();
  for (const group of Object.values(names)) {
    if (typeof group !== "object" || group === null) continue;
    for (const v of Object.values(group)) if (typeof v === "string") known.add(v);
  }
  return known;
}

/** The literals of `text` whose whole text is a known name, as `file:line: name`. */
function handSpelled(file: string, text: string, known: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (
      (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) &&
      known.has(node.text)
    ) {
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      found.push(`${file}:${line}: ${node.text}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(join(dir, e.name))
      : e.name.endsWith(".ts")
        ? [join(dir, e.name)]
        : [],
  );
}

const allowed = (hit: string) =>
  NOT_ATTRIBUTES.some((a) =>
    a.files.some((f) => a.names.some((n) => hit.startsWith(`${f}:`) && hit.endsWith(`: ${n}`))),
  );

test("no code outside src/ads spells a known attribute or ad type name by hand", () => {
  const known = knownNames();
  assert.ok(known.size > 200, `names.ts gave only ${known.size} names`);
  const hits = sourceFiles(join(root, "src"))
    .filter((f) => !relative(root, f).startsWith(join("src", "ads")))
    .flatMap((f) => handSpelled(relative(root, f), readFileSync(f, "utf8"), known));
  const bad = hits.filter((h) => !allowed(h));
  assert.deepEqual(bad, [], "use the constants of src/ads/names.ts (JOB, SLOT, AD_TYPE...)");
  // Each exception is still needed: the list stays as short as the code lets it.
  for (const a of NOT_ATTRIBUTES) {
    for (const f of a.files) {
      assert.ok(
        a.names.some((n) => hits.some((h) => h.startsWith(`${f}:`) && h.endsWith(`: ${n}`))),
        `${f} no longer needs its exception (${a.why})`,
      );
    }
  }
});

test("the scan finds a hand-spelled name in code and passes one in a comment or message", () => {
  const known = knownNames();
  const text = [
    "// JobStatus in a comment is prose",
    'const held = ad.evaluate("JobStatus");',
    "const type = `GlideClient`;",
    'log.warn("GlideClient ad skipped");',
    "const c = `${JOB.JobStatus} == 5`;",
  ].join("\n");
  assert.deepEqual(handSpelled("x.ts", text, known), ["x.ts:2: JobStatus", "x.ts:3: GlideClient"]);
});
