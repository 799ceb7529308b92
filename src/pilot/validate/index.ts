/**
 * The whole node validation: built-in checks, then site and VO scripts, each recorded with its
 * result. All checks run so an admin sees every problem at once; the first failure is the
 * pilot's failure.
 */
import type { Attrs, CheckResult, PilotFailure } from "../failure.js";
import type { Resources } from "../ledger.js";
import { checkCpus } from "./check-cpus.js";
import { checkCredential } from "./check-credential.js";
import { checkTmp, checkWorkDisk } from "./check-disk.js";
import { checkGpus } from "./check-gpus.js";
import { checkMemory } from "./check-memory.js";
import { checkJobHooks } from "./check-job-hooks.js";
import { checkNetwork } from "./check-network.js";
import { checkArch, checkOs } from "./check-os.js";
import { runScript } from "./check-scripts.js";
import { checkCvmfs, checkSingularity } from "./check-software.js";
import type { NodeView } from "./node-view.js";
import type { ValidationSettings } from "./settings.js";
import { NODE, SLOT } from "../../ads/names.js";

export type { ValidationSettings } from "./settings.js";
export { createNodeView, type NodeView } from "./node-view.js";

export interface CheckRecord {
  name: string;
  ok: boolean;
  attrs?: Attrs;
  failure?: PilotFailure;
  ms: number;
}

export interface ValidationResult {
  ok: boolean;
  checks: CheckRecord[];
  attrs: Attrs;
  failure?: PilotFailure;
  /** What the slot can hand out; absent when the node failed before it could be measured. */
  resources?: Resources;
}

export async function runValidation(
  view: NodeView,
  s: ValidationSettings,
  now = new Date(),
): Promise<ValidationResult> {
  const checks: CheckRecord[] = [];
  const attrs: Attrs = {};
  const timed = async (f: () => CheckResult | Promise<CheckResult>) => {
    const t0 = performance.now();
    const r = await f();
    return { r, ms: Math.round((performance.now() - t0) * 10) / 10 };
  };
  const add = (name: string, { r, ms }: { r: CheckResult; ms: number }) => {
    if (r.ok) {
      Object.assign(attrs, r.attrs);
      checks.push({ name, ok: true, attrs: r.attrs, ms });
    } else checks.push({ name, ok: false, failure: r.failure, ms });
  };
  const record = async (name: string, f: () => CheckResult | Promise<CheckResult>) =>
    add(name, await timed(f));
  // Started first: its connections wait on the network while the checks below read the node.
  // It is recorded in its place, and reads nothing the others give.
  const network =
    (s.urls ?? []).length > 0 || (s.urlsOneOf ?? []).length > 0
      ? timed(() => checkNetwork(s))
      : undefined;
  // Awaited below, where a failure still fails the validation; not an unhandled one meanwhile.
  void network?.catch(() => undefined);
  await record("disk", () => checkWorkDisk(view, s));
  await record("tmp", () => checkTmp(view, s));
  await record("cpus", () => checkCpus(view));
  const detected = attrs[NODE.DetectedCpus];
  const cpus = typeof detected === "number" ? detected : undefined;
  await record("memory", () => checkMemory(view, s, cpus));
  await record("os", () => checkOs(view));
  await record("arch", () => checkArch(view));
  await record("gpus", () => checkGpus(view));
  await record("cvmfs", () => checkCvmfs(view, s));
  await record("singularity", () => checkSingularity(view, s));
  await record("credential", () => checkCredential(view, s, now));
  if ((s.jobHooks ?? []).length > 0) await record("job-hooks", () => checkJobHooks(s.jobHooks!));
  if (network) add("network", await network);
  for (const script of s.scripts ?? []) {
    await record(`script:${script.path}`, () =>
      runScript(view, script, { ...attrs }, s.scriptTimeoutMs ?? 60_000),
    );
  }
  const failure = checks.find((c) => !c.ok)?.failure;
  const num = (k: string) => (typeof attrs[k] === "number" ? (attrs[k] as number) : undefined);
  const cpusN = num(NODE.DetectedCpus);
  const mem = num(NODE.DetectedMemory);
  const disk = num(NODE.DetectedDisk);
  const resources =
    cpusN !== undefined && mem !== undefined && disk !== undefined
      ? { cpus: cpusN, memoryMb: mem, diskKb: disk, gpus: num(SLOT.GPUs) ?? 0 }
      : undefined;
  return {
    ok: !failure,
    checks,
    attrs,
    ...(failure ? { failure } : {}),
    ...(resources ? { resources } : {}),
  };
}
