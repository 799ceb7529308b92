/**
 * Site and VO validation scripts, run in order with a timeout. A script reports on its last
 * non-empty stdout line as JSON:
 *   {"status":"OK"|"ERROR","class":"WN_Resource",...,"message":"...","attrs":{"NAME":value}}
 * A script that prints no such line succeeds when it exits 0 and otherwise fails with its kind's
 * default class (site: WN_Resource, vo: VO_Config). Later scripts see earlier attributes.
 * A VO script adds attributes; it may not replace what the system sets (site, entry, slot
 * accounting, the pilot's parameters), which the factory's own site scripts may.
 */
import { accessSync, constants } from "node:fs";
import { attrNameProblem, GLIDEIN_ATTR_LIMITS } from "../../ads/glidein-attrs.js";
import {
  fail,
  isFailureClass,
  pass,
  type AttrValue,
  type Attrs,
  type CheckResult,
} from "../failure.js";
import { hashMismatch } from "./check-job-hooks.js";
import type { NodeView } from "./node-view.js";

export interface ScriptRef {
  path: string;
  kind: "site" | "vo";
  /** The bundle manifest's SHA-256 of the file, checked again right before each run. */
  sha256?: string;
}

interface ScriptReport {
  status?: unknown;
  class?: unknown;
  message?: unknown;
  attrs?: unknown;
}

function lastJsonLine(stdout: string): ScriptReport | undefined {
  const line = stdout.trimEnd().split("\n").pop()?.trim();
  if (!line?.startsWith("{")) return undefined;
  try {
    const v = JSON.parse(line) as unknown;
    return typeof v === "object" && v !== null ? (v as ScriptReport) : undefined;
  } catch {
    return undefined;
  }
}

function cleanAttrs(raw: unknown, kind: ScriptRef["kind"]): Attrs {
  const out: Attrs = {};
  if (typeof raw !== "object" || raw === null) return out;
  for (const [k, v] of Object.entries(raw)) {
    if (
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ||
      !["string", "number", "boolean"].includes(typeof v)
    ) {
      continue;
    }
    if (kind === "vo") {
      if (attrNameProblem(k) !== undefined) continue;
      if (typeof v === "string" && v.length > GLIDEIN_ATTR_LIMITS.valueLength) continue;
      if (Object.keys(out).length >= GLIDEIN_ATTR_LIMITS.count) break;
    }
    out[k] = v as AttrValue;
  }
  return out;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export async function runScript(
  view: NodeView,
  script: ScriptRef,
  attrsSoFar: Attrs,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<CheckResult> {
  const defaultClass = script.kind === "site" ? "WN_Resource" : "VO_Config";
  if (script.sha256 !== undefined) {
    const bad = hashMismatch(script.path, script.sha256);
    if (bad) return fail("Corruption", `not run: ${bad}`);
  }
  const [file, args] = isExecutable(script.path) ? [script.path, []] : ["/bin/sh", [script.path]];
  const r = await view.run(
    file,
    args,
    timeoutMs,
    {
      PILOT_WORK_DIR: view.paths.workDir,
      UPDRAFT_PILOT_ATTRS: JSON.stringify(attrsSoFar),
    },
    signal,
  );
  if (r.timedOut) return fail(defaultClass, `${script.path} timed out after ${timeoutMs} ms`);
  const rep = lastJsonLine(r.stdout);
  const message = typeof rep?.message === "string" ? rep.message : undefined;
  if (rep?.status === "ERROR" || (rep?.status === undefined && r.code !== 0)) {
    const cls = isFailureClass(rep?.class) ? rep.class : defaultClass;
    const why = message ?? (r.stderr.trim().split("\n").pop() || `exit code ${r.code}`);
    return fail(cls, `${script.path}: ${why}`);
  }
  return pass(cleanAttrs(rep?.attrs, script.kind));
}
