/** CVMFS repositories mounted, and Apptainer/Singularity available. */
import { join } from "node:path";
import { NODE } from "../../ads/names.js";
import { fail, pass, type Attrs, type CheckResult } from "../failure.js";
import type { NodeView } from "./node-view.js";
import type { ValidationSettings } from "./settings.js";

export const cvmfsAttrName = (repo: string) => `HAS_CVMFS_${repo.replace(/[^A-Za-z0-9]/g, "_")}`;

export function checkCvmfs(view: NodeView, s: ValidationSettings): CheckResult {
  const attrs: Attrs = {};
  const missing: string[] = [];
  for (const repo of s.cvmfsRepos ?? []) {
    // An automounted repository shows up only when listed; an empty listing is not mounted.
    const entries = view.listDir(join(view.paths.cvmfsRoot, repo));
    const ok = entries !== undefined && entries.length > 0;
    attrs[cvmfsAttrName(repo)] = ok;
    if (!ok) missing.push(repo);
  }
  if (missing.length > 0 && s.cvmfsRequired) {
    return fail("WN_Resource", `CVMFS repositories not mounted: ${missing.join(", ")}`);
  }
  return pass(attrs);
}

export async function checkSingularity(
  view: NodeView,
  s: ValidationSettings,
): Promise<CheckResult> {
  const path = view.which("apptainer") ?? view.which("singularity");
  if (!path) {
    if (s.singularityRequired)
      return fail("WN_Resource", "apptainer/singularity not found on PATH");
    return pass({ [NODE.HasSingularity]: false });
  }
  const r = await view.run(path, ["--version"], 10_000);
  const version = r.code === 0 ? r.stdout.trim().split("\n")[0]! : "";
  if (!version && s.singularityRequired) {
    return fail("WN_Resource", `${path} --version failed`);
  }
  return pass({
    [NODE.HasSingularity]: version !== "",
    [NODE.SingularityPath]: path,
    ...(version ? { [NODE.SingularityVersion]: version } : {}),
  });
}
