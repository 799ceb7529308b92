/** Free space in the work directory (MIN_DISK_GBS) and a writable, non-full /tmp. */
import { NODE } from "../../ads/names.js";
import { fail, pass, type CheckResult } from "../failure.js";
import type { NodeView } from "./node-view.js";
import type { ValidationSettings } from "./settings.js";

const GB = 1024 ** 3;

export function checkWorkDisk(view: NodeView, s: ValidationSettings): CheckResult {
  const dir = view.paths.workDir;
  if (!view.isWritableDir(dir)) return fail("WN_Resource", `work directory ${dir} is not writable`);
  const space = view.space(dir);
  if (!space) return fail("WN_Resource", `cannot read free space of ${dir}`);
  const freeGb = space.freeBytes / GB;
  const min = s.minDiskGb ?? 0;
  if (freeGb < min) {
    return fail(
      "WN_Resource",
      `work directory ${dir} has ${freeGb.toFixed(2)} GB free, MIN_DISK_GBS is ${min}`,
    );
  }
  return pass({ [NODE.DetectedDisk]: Math.floor(space.freeBytes / 1024) });
}

export function checkTmp(view: NodeView, s: ValidationSettings): CheckResult {
  const dir = view.paths.tmpDir;
  if (!view.isWritableDir(dir)) return fail("WN_Resource", `${dir} is not writable`);
  const space = view.space(dir);
  if (!space) return fail("WN_Resource", `cannot read free space of ${dir}`);
  const freeMb = space.freeBytes / 1048576;
  const min = s.minTmpMb ?? 100;
  if (freeMb < min) {
    return fail("WN_Resource", `${dir} has ${Math.floor(freeMb)} MB free, at least ${min} needed`);
  }
  return pass();
}
