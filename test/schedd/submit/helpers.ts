/** A compile with an in-memory file system, so tests need no disk. */
import assert from "node:assert/strict";
import {
  type CompileResult,
  type CompileSubmitOptions,
  type JobAdText,
  type SubmitError,
  compileSubmit,
} from "../../../src/schedd/submit/index.js";

export const CWD = "/home/alice/work";

/** Files by absolute path; a path ending in '/' is a directory; content `-> T` a link to T. */
export type FakeFiles = Readonly<Record<string, string>>;

export const DEFAULT_FILES: FakeFiles = {
  [`${CWD}/run.sh`]: "#!/bin/sh\n",
  [`${CWD}/sub/`]: "",
  [`${CWD}/sub/run.sh`]: "#!/bin/sh\n",
};

export function fakeOptions(
  files: FakeFiles = DEFAULT_FILES,
  extra: Partial<CompileSubmitOptions> = {},
): CompileSubmitOptions {
  return {
    file: "job.sub",
    cwd: CWD,
    owner: "alice",
    clusterId: 42,
    now: 1_700_000_000,
    readFile: (path) => (path in files && !path.endsWith("/") ? files[path] : undefined),
    listDir: (dir) => {
      const prefix = dir.endsWith("/") ? dir : `${dir}/`;
      if (dir !== CWD && !(prefix in files)) return undefined;
      const names = new Map<string, boolean>();
      for (const path of Object.keys(files)) {
        if (!path.startsWith(prefix) || path === prefix) continue;
        const rest = path.slice(prefix.length);
        const slash = rest.indexOf("/");
        names.set(slash < 0 ? rest : rest.slice(0, slash), slash >= 0);
      }
      return [...names].map(([name, isDir]) => ({ name, isDir }));
    },
    fileExists: (path) => path in files,
    isSymlink: (path) => files[path]?.startsWith("-> ") === true,
    ...extra,
  };
}

export function compile(
  text: string,
  files?: FakeFiles,
  extra?: Partial<CompileSubmitOptions>,
): CompileResult {
  return compileSubmit(text, fakeOptions(files, extra));
}

/** The jobs of a file that must compile. */
export function jobsOf(
  text: string,
  files?: FakeFiles,
  extra?: Partial<CompileSubmitOptions>,
): JobAdText[] {
  const result = compile(text, files, extra);
  if (!result.ok) assert.fail(`unexpected errors: ${JSON.stringify(result.errors)}`);
  return result.jobs;
}

/** The only job of a file that must compile to one job. */
export function jobOf(
  text: string,
  files?: FakeFiles,
  extra?: Partial<CompileSubmitOptions>,
): JobAdText {
  const jobs = jobsOf(text, files, extra);
  assert.equal(jobs.length, 1);
  return jobs[0];
}

/** The errors of a file that must fail. */
export function errorsOf(
  text: string,
  files?: FakeFiles,
  extra?: Partial<CompileSubmitOptions>,
): SubmitError[] {
  const result = compile(text, files, extra);
  if (result.ok) assert.fail(`expected errors, got ${result.jobs.length} job(s)`);
  return result.errors;
}
