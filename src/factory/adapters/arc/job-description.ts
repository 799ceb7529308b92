/**
 * Job descriptions for A-REX, in xRSL (the default) or ADL. Pure: a pilot's job in, text out.
 *
 * Each pilot runs `/bin/sh <wrapper> <command> <args...>` in its session directory; the wrapper
 * and the pilot command are inputs the adapter uploads, stdout and stderr are declared outputs so
 * they survive the job's end, and the job's name carries the factory's intent id so a restarted
 * factory can find jobs it submitted but never recorded.
 */
import { UpdraftError } from "../../../common/errors.js";

export interface ArcJob {
  name: string;
  /** Files in the session directory: the first is the wrapper, the second the pilot command. */
  wrapper: string;
  command: string;
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  cpus: number;
  memoryMb: number;
  walltimeS: number;
  queue?: string;
  runtimeEnvironments: readonly string[];
  delegationId?: string;
}

export class JobDescriptionError extends UpdraftError {
  readonly code = "arc-job-description";
  override name = "JobDescriptionError";
}

export const STDOUT = "stdout";
export const STDERR = "stderr";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function check(job: ArcJob): void {
  const texts: [string, string][] = [
    ["name", job.name],
    ["wrapper", job.wrapper],
    ["command", job.command],
    ...job.args.map((a, i): [string, string] => [`args[${i}]`, a]),
    ...Object.entries(job.env).map(([k, v]): [string, string] => [`env.${k}`, v]),
    ...job.runtimeEnvironments.map((r, i): [string, string] => [`runtime_environments[${i}]`, r]),
  ];
  if (job.queue !== undefined) texts.push(["queue", job.queue]);
  if (job.delegationId !== undefined) texts.push(["delegation id", job.delegationId]);
  for (const [what, text] of texts) {
    // Neither language can carry a NUL, and A-REX's parsers stop at one.
    if (text.includes("\0")) throw new JobDescriptionError(`${what} contains a NUL character`);
  }
  for (const k of Object.keys(job.env)) {
    if (!ENV_NAME.test(k)) {
      throw new JobDescriptionError(`env: ${JSON.stringify(k)} is not a valid variable name`);
    }
  }
  for (const f of [job.wrapper, job.command]) {
    if (f === "" || f.includes("/") || f === STDOUT || f === STDERR) {
      throw new JobDescriptionError(
        `input file name ${JSON.stringify(f)} is not a plain file name`,
      );
    }
  }
  for (const [what, n] of [
    ["cpus", job.cpus],
    ["memoryMb", job.memoryMb],
    ["walltimeS", job.walltimeS],
  ] as const) {
    if (!Number.isInteger(n) || n <= 0) {
      throw new JobDescriptionError(`${what} must be a positive integer, got ${n}`);
    }
  }
}

/** An xRSL string literal: double quotes, an inner double quote written twice. */
export function xrslString(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** One pilot as an xRSL conjunction `&(...)...`. */
export function toXrsl(job: ArcJob): string {
  check(job);
  const q = xrslString;
  const rel = (attr: string, ...values: string[]) => `(${attr}=${values.join(" ")})`;
  const parts = [
    rel("executable", q("/bin/sh")),
    rel("arguments", ...[job.wrapper, job.command, ...job.args].map(q)),
    rel("jobname", q(job.name)),
    rel("stdout", q(STDOUT)),
    rel("stderr", q(STDERR)),
    rel("inputfiles", `(${q(job.wrapper)} "")`, `(${q(job.command)} "")`),
    rel("outputfiles", `(${q(STDOUT)} "")`, `(${q(STDERR)} "")`),
    rel("count", q(String(job.cpus))),
    // xRSL memory is per requested core, in MB.
    rel("memory", q(String(Math.ceil(job.memoryMb / job.cpus)))),
    // xRSL times are in minutes.
    rel("walltime", q(String(Math.ceil(job.walltimeS / 60)))),
  ];
  const env = Object.entries(job.env);
  if (env.length > 0) parts.push(rel("environment", ...env.map(([k, v]) => `(${q(k)} ${q(v)})`)));
  if (job.queue !== undefined) parts.push(rel("queue", q(job.queue)));
  for (const r of job.runtimeEnvironments) parts.push(rel("runtimeenvironment", q(r)));
  if (job.delegationId !== undefined) parts.push(rel("delegationid", q(job.delegationId)));
  return "&" + parts.join("");
}

/** Several pilots in one xRSL multi-request `+(&...)(&...)`; one pilot stays a plain `&`. */
export function toXrslBatch(jobs: readonly ArcJob[]): string {
  if (jobs.length === 0) throw new JobDescriptionError("no jobs to describe");
  if (jobs.length === 1) return toXrsl(jobs[0]!);
  return "+" + jobs.map((j) => `(${toXrsl(j)})`).join("");
}

export function xmlText(s: string): string {
  return s
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;");
}

const ADL_NS = "http://www.eu-emi.eu/es/2010/12/adl";
const NG_NS = "http://www.nordugrid.org/es/12/nordugrid-adl";

/** One pilot as an EMI ADL ActivityDescription element (no XML declaration). */
export function toAdlElement(job: ArcJob): string {
  check(job);
  const t = xmlText;
  const el = (name: string, body: string) => `<${name}>${body}</${name}>`;
  const args = [job.wrapper, job.command, ...job.args].map((a) => el("Argument", t(a))).join("");
  const env = Object.entries(job.env)
    .map(([k, v]) => el("Environment", el("Name", t(k)) + el("Value", t(v))))
    .join("");
  const resources = [
    job.queue !== undefined ? el("QueueName", t(job.queue)) : "",
    ...job.runtimeEnvironments.map((r) => el("RuntimeEnvironment", el("Name", t(r)))),
    el("SlotRequirement", el("NumberOfSlots", String(job.cpus))),
    // ADL memory is in bytes; per slot, like xRSL's.
    el("IndividualPhysicalMemory", String(Math.ceil(job.memoryMb / job.cpus) * 1024 * 1024)),
    // ADL times are in seconds.
    el("IndividualCPUTime", String(job.walltimeS)),
  ].join("");
  const inputs = [job.wrapper, job.command].map((f) => el("InputFile", el("Name", t(f)))).join("");
  const outputs = [STDOUT, STDERR].map((f) => el("OutputFile", el("Name", f))).join("");
  const delegation =
    job.delegationId !== undefined ? el("nordugrid-adl:DelegationID", t(job.delegationId)) : "";
  return (
    `<ActivityDescription xmlns="${ADL_NS}" xmlns:nordugrid-adl="${NG_NS}">` +
    el("ActivityIdentification", el("Name", t(job.name))) +
    el(
      "Application",
      el("Executable", el("Path", "/bin/sh") + args) +
        el("Output", STDOUT) +
        el("Error", STDERR) +
        env,
    ) +
    el("Resources", resources) +
    el("DataStaging", delegation + inputs + outputs) +
    "</ActivityDescription>"
  );
}

/** Several pilots in one ActivityDescriptions document; one pilot stays a single description. */
export function toAdlBatch(jobs: readonly ArcJob[]): string {
  if (jobs.length === 0) throw new JobDescriptionError("no jobs to describe");
  const head = '<?xml version="1.0" encoding="UTF-8"?>\n';
  if (jobs.length === 1) return head + toAdlElement(jobs[0]!);
  return head + `<ActivityDescriptions>${jobs.map(toAdlElement).join("")}</ActivityDescriptions>`;
}

export function describeBatch(dialect: "xrsl" | "adl", jobs: readonly ArcJob[]): string {
  return dialect === "xrsl" ? toXrslBatch(jobs) : toAdlBatch(jobs);
}
