/**
 * `updraft submit FILE` (like condor_submit): compile the submit description with the submit
 * language, reserve a cluster, queue its jobs in one transaction, upload their input files, then
 * let them run. With input files the jobs are queued held (spooling input) and released after
 * the upload, so no pilot starts a job before its sandbox is complete.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { hostname, userInfo } from "node:os";
import { basename, isAbsolute, join, posix } from "node:path";
import type { Command } from "commander";
import { HtcondorCommand } from "./htcondor-args.js";
import { JOB } from "../ads/names.js";
import { ClassAd } from "../classad/index.js";
import type { ScheddClient } from "../schedd/client.js";
import { inputFileNames } from "../schedd/input-files.js";
import { HoldCode, type JobAttrs } from "../schedd/job-status.js";
import { CHUNK_BYTES } from "../schedd/sandbox.js";
import {
  type CompileResult,
  compileSubmit,
  formatErrors,
  formatWarnings,
  jsonChunks,
  localFiles,
  longFormChunks,
} from "../schedd/submit/index.js";
import { CliError } from "./errors.js";
import { appendEvents, eventsFromAd } from "./user-log.js";
import { withConnectionOptions, withSchedd, type ScheddFlags } from "./schedd-connection.js";
import { MAX_INPUT_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

type SubmitFlags = ScheddFlags & {
  dryRun?: boolean;
  json?: boolean;
  append?: string[];
  batchName?: string;
};

/** The submit file's text; a file that cannot be read fails the submit before anything else. */
function readSubmitFile(file: string): string {
  try {
    return readBoundedText(file, MAX_INPUT_FILE_BYTES);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Compile the submit file as the user at this terminal; every error found fails the submit. */
function compile(
  file: string,
  text: string,
  o: SubmitFlags,
  clusterId: number,
): CompileResult & { ok: true } {
  // condor_submit resolves relative paths against the directory it runs in (initialdir's default).
  const result = compileSubmit(text, {
    file,
    cwd: process.cwd(),
    owner: userInfo().username,
    clusterId,
    now: Math.floor(Date.now() / 1000),
    appendLines: o.append ?? [],
    batchName: o.batchName,
    environ: process.env,
    uid: userInfo().uid,
    ...localFiles(),
  });
  process.stderr.write(formatWarnings(result.warnings));
  if (!result.ok) {
    // One `FILE:LINE: message` line per error, as condor_submit prints them, then the verdict.
    process.stderr.write(formatErrors(result.errors));
    throw new CliError("no jobs were submitted");
  }
  return result;
}

/** A local file for a job's input sandbox and its name there. */
export type InputFile = { path: string; name: string };

/**
 * Local files a job needs in its input sandbox (the executable, standard input,
 * transfer_input_files, its proxy and token), each named by its file name in the sandbox; with
 * `preserve_relative_paths`, a relative path in transfer_input_files keeps its folders there, as
 * HTCondor's does (an absolute one, or one climbing out with `..`, lands at the top).
 */
export function inputFiles(job: JobAttrs): InputFile[] {
  const ad = ClassAd.fromJSON(inputAttrs(job) ?? job);
  const iwdValue = ad.evaluate(JOB.Iwd);
  const iwd = typeof iwdValue === "string" && iwdValue !== "" ? iwdValue : process.cwd();
  const listed = ad.evaluate(JOB.TransferInput);
  const preserved = new Set(
    ad.evaluate(JOB.PreserveRelativePaths) === true && typeof listed === "string"
      ? listed.split(",").map((f) => f.trim())
      : [],
  );
  const files = new Map<string, InputFile>();
  for (const f of inputFileNames(ad)) {
    const path = isAbsolute(f) ? f : join(iwd, f);
    files.set(path, { path, name: preserved.has(f) ? relativeName(f) : basename(f) });
  }
  return [...files.values()];
}

/** The attributes `inputFiles` reads; nothing else in the ad matters when they are literals. */
const INPUT_ATTRS = new Set(
  [
    JOB.Iwd,
    JOB.TransferInput,
    JOB.PreserveRelativePaths,
    JOB.TransferExecutable,
    JOB.Cmd,
    JOB.In,
    JOB.X509UserProxy,
    JOB.ScitokensFile,
  ].map((n) => n.toLowerCase()),
);
const LITERAL = /^(?:"(?:[^"\\]|\\.)*"|true|false)$/i;

/**
 * Only the job's input attributes when each is a string or boolean literal, whose value then
 * depends on no other attribute: parsing those few instead of the whole ad of each of thousands
 * of jobs was a tenth of a large submit's CPU. Undefined when one is an expression.
 */
function inputAttrs(job: JobAttrs): JobAttrs | undefined {
  const picked: Record<string, string> = {};
  for (const name in job) {
    let isInput = inputName.get(name);
    if (isInput === undefined) inputName.set(name, (isInput = INPUT_ATTRS.has(name.toLowerCase())));
    if (!isInput) continue;
    const text = job[name]!;
    if (!LITERAL.test(text)) return undefined;
    picked[name] = text;
  }
  return picked;
}
/** Whether an attribute name, in any case, is one of INPUT_ATTRS: jobs share their names. */
const inputName = new Map<string, boolean>();

/** A relative input path as its sandbox name: folders kept, `./` dropped; else its file name. */
function relativeName(f: string): string {
  const n = posix.normalize(f);
  return isAbsolute(n) || n === ".." || n.startsWith("../") ? basename(f) : n;
}

/** One input file, read and sent a chunk at a time; its SHA-256 rides on the last chunk. */
async function upload(client: ScheddClient, jobId: string, input: InputFile): Promise<void> {
  const file = input.path;
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    throw new CliError(`cannot read input file ${file}: ${(err as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    const hash = createHash("sha256");
    const buf = Buffer.alloc(CHUNK_BYTES);
    let offset = 0;
    for (;;) {
      const n =
        size === offset ? 0 : readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
      const part = buf.subarray(0, n);
      hash.update(part);
      const last = n === 0 || offset + n >= size;
      await client.putInput({
        name: input.name,
        offset,
        data: part,
        last,
        sha256: last ? hash.digest("hex") : "",
        leaseId: "",
        jobId,
      });
      offset += n;
      if (last) return;
    }
  } finally {
    closeSync(fd);
  }
}

/** The 000 (submitted) event of each job in its `log = FILE`, on this host, as condor_submit. */
function writeSubmitEvents(jobs: JobAttrs[]): void {
  const byLog = new Map<string, ReturnType<typeof eventsFromAd>>();
  for (const job of jobs) {
    const log = job.UserLog?.startsWith('"') ? (JSON.parse(job.UserLog) as string) : undefined;
    if (!log) continue;
    const submitted = eventsFromAd(job, hostname()).filter((e) => e.code === 0);
    byLog.set(log, [...(byLog.get(log) ?? []), ...submitted]);
  }
  for (const [log, events] of byLog) {
    try {
      appendEvents(log, events);
    } catch (err) {
      process.stderr.write(`WARNING: cannot write the job log ${log}: ${(err as Error).message}\n`);
    }
  }
}

export function createSubmitCommand(): Command {
  return withConnectionOptions(new HtcondorCommand("submit"))
    .description("queue the jobs a submit description file describes (like condor_submit)")
    .argument("<file>", "submit description file")
    .option("--dry-run", "print the job ads the file would queue; needs no schedd")
    .option("--json", "with --dry-run: print a JSON array instead of the long form")
    .option(
      "--append <line>",
      "add a submit command before the queue statement (repeatable)",
      (line: string, all: string[]) => [...all, line],
      [] as string[],
    )
    .option("--batch-name <name>", "batch name shown by updraft q")
    .action(async (file: string, o: SubmitFlags) => {
      const text = readSubmitFile(file);
      if (o.dryRun) {
        // condor_submit -dry-run numbers the cluster 1.
        const { jobs } = compile(file, text, o, 1);
        for (const chunk of o.json ? jsonChunks(jobs) : longFormChunks(jobs)) {
          // Wait for the pipe to drain so a large cluster is not buffered whole in memory.
          if (!process.stdout.write(chunk)) await once(process.stdout, "drain");
        }
        return;
      }
      // As condor_submit does, the cluster is reserved first and the file compiled once, with
      // its number ($(Cluster) is in job ads and file names); a file with errors leaves the
      // reserved number unused. A schedd that cannot be reached or named is reported after the
      // file's own errors, which need no schedd.
      let reserved = false;
      const submitted = withSchedd(o, "submitting", async ({ client }) => {
        const clusterId = await client.newCluster();
        reserved = true;
        const jobs = compile(file, text, o, clusterId).jobs.map((j) => j.toRecord());
        const inputs = jobs.map(inputFiles);
        const key = (l: InputFile[]) => l.map((f) => `${f.path}\0${f.name}`).join("\n");
        const shared = inputs.every((l) => key(l) === key(inputs[0]!));
        const hold = inputs.some((l) => l.length > 0);
        process.stdout.write("Submitting job(s)" + ".".repeat(Math.min(jobs.length, 40)) + "\n");
        const receipt = await client.submitJobs(clusterId, jobs, { holdForInput: hold });
        if (hold) {
          try {
            if (shared) for (const f of inputs[0]!) await upload(client, String(clusterId), f);
            else {
              for (let i = 0; i < jobs.length; i++) {
                for (const f of inputs[i]!)
                  await upload(client, `${clusterId}.${jobs[i]!.ProcId ?? i}`, f);
              }
            }
          } catch (err) {
            // No half-submitted cluster is left held in the queue: all its jobs go, or none.
            await client
              .act("remove", { ids: [String(clusterId)] }, "input upload failed at submit")
              .catch(() => {});
            const why = err instanceof CliError ? err.message : (err as Error).message;
            throw new CliError(`${why}\nno jobs were submitted (cluster ${clusterId} removed)`);
          }
          // Only the jobs held for the upload: a job submitted with `hold = true` stays held.
          await client.act(
            "release",
            {
              ids: [String(clusterId)],
              constraint: `${JOB.HoldReasonCode} == ${HoldCode.SpoolingInput}`,
            },
            "input files uploaded",
          );
        }
        writeSubmitEvents(jobs);
        process.stdout.write(
          `${receipt.count} job(s) submitted to cluster ${receipt.clusterId}.\n`,
        );
      });
      await submitted.catch((err: unknown) => {
        if (!reserved) compile(file, text, o, 0);
        throw err;
      });
    });
}
