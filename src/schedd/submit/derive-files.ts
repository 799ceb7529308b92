/**
 * Job identity, status and the files of a job: `Cmd`, `Iwd`, `Arguments`, `Environment`, the
 * standard streams, the user log and file-transfer settings.
 */
import { posix } from "node:path";
import { COMMON, JOB } from "../../ads/names.js";
import { unparseValue } from "../../classad/index.js";
import {
  environmentV2Raw,
  isNewSyntax,
  joinV2Raw,
  parseEnvironment,
  splitNewSyntax,
  splitOldArguments,
} from "./arguments.js";
import type { DeriveContext, Derivation } from "./derive-context.js";
import { globToRegExp } from "./glob.js";

export const str = (s: string): string => unparseValue(s);

/** HTCondor's boolean spellings in submit files. */
export function parseBool(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (t === "true" || t === "yes" || t === "t" || t === "y" || t === "1") return true;
  if (t === "false" || t === "no" || t === "f" || t === "n" || t === "0") return false;
  return undefined;
}

export function iwdOf(ctx: DeriveContext): string {
  const dir = ctx.value("initialdir");
  return dir === undefined || dir === "" ? ctx.env.cwd : posix.resolve(ctx.env.cwd, dir);
}

const identity: Derivation = {
  inputs: [],
  derive(ctx) {
    ctx.emit(COMMON.MyType, str("Job"));
    ctx.emit(JOB.TargetType, str("Machine"));
    ctx.emit(JOB.ClusterId, String(ctx.env.clusterId));
  },
};

const procId: Derivation = {
  inputs: [],
  perJob: true,
  derive(ctx, proc) {
    ctx.emit(JOB.ProcId, String(proc));
  },
};

const status: Derivation = {
  inputs: ["universe", "hold", "container_image", "docker_image"],
  derive(ctx) {
    const universe = ctx.value("universe");
    if (universe !== undefined && universe.toLowerCase() !== "vanilla") {
      ctx.fail(
        "universe",
        `universe '${universe}' is not supported: Updraft runs vanilla jobs only`,
      );
    }
    // Either makes condor_submit's job a container (or docker) universe job.
    for (const key of ["container_image", "docker_image"]) {
      if ((ctx.value(key) ?? "") !== "") {
        ctx.fail(
          key,
          `${key} asks for a container, which Updraft does not run: it runs vanilla jobs only, ` +
            `on the pilot's node as it is (remove the line, or run the container from the job)`,
        );
      }
    }
    const { env } = ctx;
    ctx.emit(JOB.Owner, str(env.owner));
    ctx.emit(JOB.QDate, String(env.now));
    ctx.emit(JOB.JobUniverse, "5");
    const holdText = ctx.value("hold");
    const hold = holdText === undefined || holdText === "" ? false : parseBool(holdText);
    if (hold === undefined) ctx.fail("hold", `hold must be true or false, not '${holdText}'`);
    // `hold = true` queues the job Held (5), as condor_submit does, until the user releases it.
    ctx.emit(JOB.JobStatus, hold === true ? "5" : "1");
    if (hold === true) {
      ctx.emit(JOB.HoldReason, str("submitted on hold at user's request"));
      ctx.emit(JOB.HoldReasonCode, "15");
    }
    ctx.emit(JOB.EnteredCurrentStatus, String(env.now));
    ctx.emit(JOB.NumJobStarts, "0");
    ctx.emit(JOB.NumJobCompletions, "0");
    ctx.emit(JOB.NumRestarts, "0");
  },
};

const iwd: Derivation = {
  inputs: ["initialdir"],
  derive(ctx) {
    ctx.emit(JOB.Iwd, str(iwdOf(ctx)));
  },
};

const cmd: Derivation = {
  inputs: ["executable", "transfer_executable"],
  derive(ctx) {
    if (!ctx.isSet("executable")) {
      ctx.fail(null, "no 'executable' given before this queue statement");
      return;
    }
    const exe = ctx.value("executable");
    if (exe === undefined) return;
    if (exe === "") {
      ctx.fail("executable", "'executable' is empty");
      return;
    }
    const transferText = ctx.value("transfer_executable");
    const transfer = transferText === undefined ? true : parseBool(transferText);
    if (transfer === undefined) {
      ctx.fail("transfer_executable", `'${transferText}' is not true or false`);
    }
    // As condor_submit: a transferred executable is found from the directory submit runs in,
    // not initialdir; one left on the worker node keeps a relative name as written.
    const path = transfer === false ? exe : posix.resolve(ctx.env.cwd, exe);
    // An executable left on the worker node is not ours to check.
    if (transfer !== false && !ctx.exists(path)) {
      ctx.fail("executable", `executable '${exe}' not found (looked for ${path})`);
    }
    ctx.emit(JOB.Cmd, str(path));
    if (transfer === false) ctx.emit(JOB.TransferExecutable, "false");
  },
};

const args: Derivation = {
  inputs: ["arguments"],
  derive(ctx) {
    const value = ctx.value("arguments");
    if (value === undefined) return;
    const split = isNewSyntax(value) ? splitNewSyntax(value) : splitOldArguments(value);
    if (!split.ok) {
      ctx.fail("arguments", split.message);
      return;
    }
    ctx.emit(JOB.Arguments, str(joinV2Raw(split.words)));
  },
};

function importedEnvironment(ctx: DeriveContext, getenv: string): Map<string, string> {
  const vars = new Map<string, string>();
  const environ = ctx.env.environ ?? {};
  const all = parseBool(getenv);
  if (all === false) return vars;
  const patterns =
    all === true
      ? [/^/]
      : getenv
          .split(/[\s,]+/)
          .filter((p) => p !== "")
          .map(globToRegExp);
  for (const [name, value] of Object.entries(environ)) {
    if (value !== undefined && patterns.some((p) => p.test(name))) vars.set(name, value);
  }
  return vars;
}

const environment: Derivation = {
  inputs: ["environment", "getenv"],
  derive(ctx) {
    const value = ctx.value("environment");
    const getenv = ctx.value("getenv");
    if (value === undefined && getenv === undefined) return;
    const vars =
      getenv === undefined ? new Map<string, string>() : importedEnvironment(ctx, getenv);
    if (value !== undefined) {
      const parsed = parseEnvironment(value);
      if (!parsed.ok) {
        ctx.fail("environment", parsed.message);
        return;
      }
      // Names set explicitly win over the imported ones.
      for (const [k, v] of parsed.vars) vars.set(k, v);
    }
    ctx.emit(JOB.Environment, str(environmentV2Raw(vars)));
  },
};

/**
 * Why an output name is refused, or undefined: outputs land in the job's sandbox on the worker
 * and in its initialdir here, so a name may not leave either (absolute, `..`) nor be a link.
 */
function unsafeOutputName(ctx: DeriveContext, name: string): string | undefined {
  if (name.startsWith("/")) return "is an absolute path; give a path relative to initialdir";
  if (name.split("/").some((s) => s === "..")) return "leaves initialdir through '..'";
  if (name.includes("\\")) return "contains a backslash";
  if (ctx.env.isSymlink?.(posix.resolve(iwdOf(ctx), name))) {
    return "is a symbolic link in initialdir; outputs are never written through links";
  }
  return undefined;
}

function stream(key: string, attr: string): Derivation {
  return {
    inputs: [key, "initialdir"],
    derive(ctx) {
      const value = ctx.value(key) || "/dev/null";
      const why = key !== "input" && value !== "/dev/null" && unsafeOutputName(ctx, value);
      if (why) ctx.fail(key, `${key} '${value}' ${why}`);
      ctx.emit(attr, str(value));
    },
  };
}

/** A submit file's comma-separated file list, each name trimmed, empty ones dropped. */
function fileList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
}

const outputFiles: Derivation = {
  inputs: ["transfer_output_files", "initialdir"],
  derive(ctx) {
    const files = fileList(ctx.value("transfer_output_files"));
    for (const f of files) {
      const why = unsafeOutputName(ctx, f);
      if (why) ctx.fail("transfer_output_files", `output '${f}' ${why}`);
    }
    if (files.length > 0) ctx.emit(JOB.TransferOutput, str(files.join(",")));
  },
};

/**
 * `transfer_output_remaps = "name = newname; dir/name = sub/other"`: where outputs land when
 * fetched. A source is an output name; a target is relative to initialdir (subdirectories
 * made as needed) or absolute, and never through '..'.
 */
const outputRemaps: Derivation = {
  inputs: ["transfer_output_remaps"],
  derive(ctx) {
    let value = ctx.value("transfer_output_remaps");
    if (value === undefined || value === "") return;
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) {
      value = value.slice(1, -1);
    }
    const pairs: string[] = [];
    for (const part of value.split(";")) {
      if (part.trim() === "") continue;
      const eq = part.indexOf("=");
      const from = eq < 0 ? "" : part.slice(0, eq).trim();
      const to = eq < 0 ? "" : part.slice(eq + 1).trim();
      if (from === "" || to === "") {
        ctx.fail("transfer_output_remaps", `'${part.trim()}' is not 'name = newname'`);
        continue;
      }
      if (from.startsWith("/") || from.split("/").includes("..")) {
        ctx.fail("transfer_output_remaps", `'${from}' is not an output name in the sandbox`);
        continue;
      }
      if (to.split("/").includes("..") || to.endsWith("/")) {
        ctx.fail("transfer_output_remaps", `target '${to}' must name a file without '..'`);
        continue;
      }
      pairs.push(`${from} = ${to}`);
    }
    if (pairs.length > 0) ctx.emit(JOB.TransferOutputRemaps, str(pairs.join(";")));
  },
};

const userLog: Derivation = {
  inputs: ["log", "initialdir"],
  derive(ctx) {
    const log = ctx.value("log");
    if (log !== undefined && log !== "") ctx.emit(JOB.UserLog, str(posix.resolve(iwdOf(ctx), log)));
  },
};

function choice(
  key: string,
  attr: string,
  allowed: readonly string[],
  fallback: string,
): Derivation {
  return {
    inputs: [key],
    derive(ctx) {
      const value = ctx.value(key);
      const upper = value?.toUpperCase() ?? fallback;
      if (!allowed.includes(upper)) {
        ctx.fail(key, `'${value}' is not one of ${allowed.join(", ")}`);
        return;
      }
      ctx.emit(attr, str(upper));
    },
  };
}

/**
 * `transfer_input_files`: local files that exist, as condor_submit checks them. Updraft sends
 * files only, so a URL or a directory is refused here, at submit (and dry-run), with what to do.
 */
const inputFiles: Derivation = {
  inputs: ["transfer_input_files", "initialdir"],
  derive(ctx) {
    const files = fileList(ctx.value("transfer_input_files"));
    for (const f of files) {
      if (f.includes("$$(")) continue; // filled at match time
      if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(f)) {
        ctx.fail(
          "transfer_input_files",
          `input '${f}' is a URL: Updraft transfers local files only (fetch it from the job instead)`,
        );
        continue;
      }
      const path = posix.resolve(iwdOf(ctx), f);
      if (f.endsWith("/") || ctx.env.listDir?.(path) !== undefined) {
        ctx.fail(
          "transfer_input_files",
          `input '${f}' is a directory: Updraft transfers files only (list them, or send a tarball)`,
        );
      } else if (!ctx.exists(path)) {
        ctx.fail("transfer_input_files", `input file '${f}' not found (looked for ${path})`);
      }
    }
    if (files.length > 0) ctx.emit(JOB.TransferInput, str(files.join(",")));
  },
};

export const FILE_DERIVATIONS: readonly Derivation[] = [
  identity,
  procId,
  status,
  iwd,
  cmd,
  args,
  environment,
  stream("input", JOB.In),
  stream("output", JOB.Out),
  stream("error", JOB.Err),
  userLog,
  choice("should_transfer_files", JOB.ShouldTransferFiles, ["YES", "NO", "IF_NEEDED"], "IF_NEEDED"),
  choice(
    "when_to_transfer_output",
    JOB.WhenToTransferOutput,
    ["ON_EXIT", "ON_EXIT_OR_EVICT", "ON_SUCCESS"],
    "ON_EXIT",
  ),
  inputFiles,
  outputFiles,
  outputRemaps,
];
