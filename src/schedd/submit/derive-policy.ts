/**
 * Resources, matchmaking and policy: `Request*`, `Requirements` with HTCondor-like defaults,
 * `Rank`, `JobPrio`, retries, the periodic and on-exit expressions, and custom `+Attr` values.
 */
import { JOB } from "../../ads/names.js";
import { parseExpression, references, tryParse } from "../../classad/index.js";
import type { DeriveContext, Derivation } from "./derive-context.js";
import { parseBool, str } from "./derive-files.js";
import { parseSize } from "./units.js";

const INTEGER = /^[+-]?[0-9]+$/;

/** HTCondor's DEFAULT_JOB_MAX_RETRIES, used when only success_exit_code or retry_until is set. */
const DEFAULT_JOB_MAX_RETRIES = 2;

/** An integer or a ClassAd expression (`request_cpus = 4`, `request_cpus = $$(Cpus)`). */
function countOrExpression(
  key: string,
  attr: string,
  fallback: (ctx: DeriveContext) => number | null,
): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      if (value === undefined || value === "") {
        const d = fallback(ctx);
        if (d !== null) ctx.emit(attr, String(d));
        return;
      }
      if (INTEGER.test(value)) {
        ctx.emit(attr, String(Number(value)));
        return;
      }
      const text = ctx.expression(key, value);
      if (text !== undefined) ctx.emit(attr, text);
    },
  };
}

/** A size with units, stored as a count of 1024^base bytes; or an expression. */
function size(
  key: string,
  attr: string,
  base: number,
  fallback: (ctx: DeriveContext) => number,
): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      if (value === undefined || value === "") {
        ctx.emit(attr, String(fallback(ctx)));
        return;
      }
      const parsed = parseSize(value, base);
      if (parsed.kind === "size") {
        ctx.emit(attr, String(parsed.value));
        return;
      }
      if (parsed.kind === "bad-unit") {
        ctx.fail(
          key,
          `unknown unit '${parsed.unit}' in '${value}' (use K, M, G, T or P, with B or iB)`,
        );
        return;
      }
      const text = ctx.expression(key, value);
      if (text !== undefined) ctx.emit(attr, text);
    },
  };
}

/** A job that asks for GPUs: `request_gpus` given and not plainly zero. */
function wantsGpus(ctx: DeriveContext): boolean {
  const gpus = ctx.value("request_gpus");
  return gpus !== undefined && gpus !== "" && !/^[+]?0+$/.test(gpus);
}

/** The resource clauses condor_submit adds for what the user's Requirements leaves unsaid. */
const RESOURCE_CLAUSES: readonly (readonly [target: string, clause: string])[] = [
  ["cpus", "(TARGET.Cpus >= RequestCpus)"],
  ["memory", "(TARGET.Memory >= RequestMemory)"],
  ["disk", "(TARGET.Disk >= RequestDisk)"],
  ["gpus", "(TARGET.Gpus >= RequestGPUs)"],
];

const requirements: Derivation = {
  inputs: ["requirements", "request_gpus"],
  derive(ctx) {
    const value = ctx.value("requirements");
    let user: string | undefined;
    let mentioned = new Set<string>();
    if (value !== undefined && value !== "") {
      user = ctx.expression("requirements", value);
      if (user === undefined) return;
      const parsed = tryParse(() => parseExpression(user as string));
      // A job expression's unscoped names that are not job attributes come from the slot.
      if (parsed.ok) mentioned = references(parsed.value, null).external;
    }
    const clauses = user === undefined ? [] : [`(${user})`];
    for (const [target, clause] of RESOURCE_CLAUSES) {
      if (target === "gpus" && !wantsGpus(ctx)) continue;
      if (!mentioned.has(target)) clauses.push(clause);
    }
    ctx.emit(JOB.Requirements, clauses.join(" && "));
  },
};

function expressionAttr(key: string, attr: string, fallback: string | null): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      if (value === undefined || value === "") {
        if (fallback !== null) ctx.emit(attr, fallback);
        return;
      }
      const text = ctx.expression(key, value);
      if (text !== undefined) ctx.emit(attr, text);
    },
  };
}

const priority: Derivation = {
  inputs: ["priority"],
  derive(ctx) {
    const value = ctx.value("priority") || "0";
    if (!INTEGER.test(value)) {
      ctx.fail("priority", `priority must be an integer, not '${value}'`);
      return;
    }
    ctx.emit(JOB.JobPrio, String(Number(value)));
  },
};

/**
 * `max_retries` (alias `num_retries`), `success_exit_code` and `retry_until`: as condor_submit
 * does, they become `JobMaxRetries` and a generated OnExitRemove (leave the queue on success or
 * once the retries are spent), OR'ed with the user's own on_exit_remove.
 */
const retries: Derivation = {
  inputs: ["max_retries", "num_retries", "success_exit_code", "retry_until", "on_exit_remove"],
  derive(ctx) {
    const key = ctx.isSet("max_retries") ? "max_retries" : "num_retries";
    const retryText = ctx.value(key);
    const successText = ctx.value("success_exit_code");
    const untilText = ctx.value("retry_until");
    const onExit = ctx.value("on_exit_remove");
    const user =
      onExit === undefined || onExit === "" ? undefined : ctx.expression("on_exit_remove", onExit);
    const retrying = [retryText, successText, untilText].some((v) => v !== undefined && v !== "");
    if (!retrying) {
      ctx.emit(JOB.OnExitRemove, user ?? "true");
      return;
    }
    let maxRetries = DEFAULT_JOB_MAX_RETRIES;
    if (retryText !== undefined && retryText !== "") {
      if (!/^[0-9]+$/.test(retryText)) {
        ctx.fail(key, `${key} must be a non-negative integer, not '${retryText}'`);
        return;
      }
      maxRetries = Number(retryText);
    }
    let success = 0;
    if (successText !== undefined && successText !== "") {
      if (!INTEGER.test(successText)) {
        ctx.fail("success_exit_code", `success_exit_code must be an integer, not '${successText}'`);
        return;
      }
      success = Number(successText);
      ctx.emit(JOB.SuccessExitCode, String(success));
    }
    const clauses = [
      `${JOB.NumJobCompletions} > ${JOB.JobMaxRetries}`,
      `${JOB.ExitCode} == ${success}`,
    ];
    if (untilText !== undefined && untilText !== "") {
      // An integer names an exit code that stops retrying; anything else is a condition.
      if (INTEGER.test(untilText)) clauses.push(`${JOB.ExitCode} == ${Number(untilText)}`);
      else {
        const until = ctx.expression("retry_until", untilText);
        if (until === undefined) return;
        clauses.push(`(${until})`);
      }
    }
    if (user !== undefined) clauses.push(`(${user})`);
    ctx.emit(JOB.JobMaxRetries, String(maxRetries));
    ctx.emit(JOB.OnExitRemove, clauses.join(" || "));
  },
};

const NOTIFICATION: Readonly<Record<string, number>> = {
  never: 0,
  always: 1,
  complete: 2,
  error: 3,
};

const notification: Derivation = {
  inputs: ["notification"],
  derive(ctx) {
    const value = ctx.value("notification") || "never";
    const code = NOTIFICATION[value.toLowerCase()];
    if (code === undefined) {
      ctx.fail("notification", `notification '${value}' is not Never, Always, Complete or Error`);
      return;
    }
    ctx.emit(JOB.JobNotification, String(code));
  },
};

const batchName: Derivation = {
  inputs: ["batch_name"],
  derive(ctx) {
    const name = ctx.env.batchName ?? ctx.value("batch_name");
    if (name !== undefined && name !== "")
      ctx.emit(JOB.JobBatchName, str(name.replace(/^"(.*)"$/, "$1")));
  },
};

type Kind = "string" | "bool" | "int";

/** Commands copied into one attribute of a simple type. */
function simple(key: string, attr: string, kind: Kind): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      if (value === undefined) return;
      if (kind === "string") ctx.emit(attr, str(value));
      else if (kind === "int") {
        if (INTEGER.test(value)) ctx.emit(attr, String(Number(value)));
        else ctx.fail(key, `${key} must be an integer, not '${value}'`);
      } else {
        const b = parseBool(value);
        if (b === undefined) ctx.fail(key, `${key} must be true or false, not '${value}'`);
        else ctx.emit(attr, String(b));
      }
    },
  };
}

/**
 * `max_materialize` and `max_idle`: late materialization. The schedd keeps the cluster's jobs
 * past these limits out of the queue and lets them in as earlier ones start or leave.
 */
function materializeLimit(key: string, attr: string): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      if (value === undefined || value === "") return;
      if (INTEGER.test(value) && Number(value) > 0) ctx.emit(attr, String(Number(value)));
      else ctx.fail(key, `${key} must be a whole number of jobs above 0, not '${value}'`);
    },
  };
}

export const POLICY_DERIVATIONS: readonly Derivation[] = [
  materializeLimit("max_materialize", JOB.JobMaterializeLimit),
  materializeLimit("max_idle", JOB.JobMaterializeMaxIdle),
  countOrExpression("request_cpus", JOB.RequestCpus, (ctx) => ctx.env.defaults.cpus),
  size("request_memory", JOB.RequestMemory, 2, (ctx) => ctx.env.defaults.memoryMiB),
  size("request_disk", JOB.RequestDisk, 1, (ctx) => ctx.env.defaults.diskKiB),
  countOrExpression("request_gpus", JOB.RequestGPUs, () => null),
  requirements,
  expressionAttr("rank", JOB.Rank, "0.0"),
  priority,
  retries,
  expressionAttr("on_exit_hold", JOB.OnExitHold, "false"),
  expressionAttr("on_exit_hold_reason", JOB.OnExitHoldReason, null),
  expressionAttr("on_exit_hold_subcode", JOB.OnExitHoldSubCode, null),
  expressionAttr("periodic_hold", JOB.PeriodicHold, "false"),
  expressionAttr("periodic_hold_reason", JOB.PeriodicHoldReason, null),
  expressionAttr("periodic_hold_subcode", JOB.PeriodicHoldSubCode, null),
  expressionAttr("periodic_release", JOB.PeriodicRelease, "false"),
  expressionAttr("periodic_remove", JOB.PeriodicRemove, "false"),
  notification,
  batchName,
  // Inputs keep their relative folders in the sandbox (updraft submit names them so).
  simple("preserve_relative_paths", JOB.PreserveRelativePaths, "bool"),
];

/** `+Name = value` / `MY.Name = value`: the value must be a ClassAd expression. */
export function customAttribute(key: string, name: string): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      if (value === undefined) return;
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        ctx.fail(key, `'${name}' is not a valid attribute name`);
        return;
      }
      if (value === "") {
        ctx.fail(key, `custom attribute ${name} has no value`);
        return;
      }
      const text = ctx.expression(key, value);
      if (text !== undefined) ctx.emit(name, text);
    },
  };
}
