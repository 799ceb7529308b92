/**
 * `updraft transfer-output ID`: fetch jobs' output sandboxes into their submit directory (the
 * job's Iwd) or --dir. Only the outputs each job declared are written, renamed as its
 * `transfer_output_remaps` says; each file is checked against its SHA-256, never written through
 * a symbolic link, and never replaces a different file already there unless --force.
 */
import { resolve } from "node:path";
import type { Command } from "commander";
import { JOB } from "../ads/names.js";
import { HtcondorCommand } from "./htcondor-args.js";
import { parseJobId } from "../schedd/job-status.js";
import { CliError } from "./errors.js";
import { declarationOf, placeOutput } from "./output-placement.js";
import { OutputFileWriter } from "./output-writer.js";
import { withConnectionOptions, withSchedd, type ScheddFlags } from "./schedd-connection.js";

function unquote(text: string | undefined): string {
  return text?.startsWith('"') ? (JSON.parse(text) as string) : "";
}

type TransferFlags = ScheddFlags & { dir?: string; force?: boolean };

export function createTransferOutputCommand(): Command {
  return withConnectionOptions(new HtcondorCommand("transfer-output"))
    .description("fetch the output sandboxes of finished jobs into their submit directory")
    .argument("<id>", "CLUSTER or CLUSTER.PROC")
    .option("--dir <dir>", "put files here instead of each job's submit directory")
    .option("--force", "replace existing files that differ from the job's outputs")
    .action(async (id: string, o: TransferFlags) => {
      if (!parseJobId(id)) throw new CliError(`'${id}' is not a job id (CLUSTER or CLUSTER.PROC)`);
      await withSchedd(o, "fetching output", async ({ client }) => {
        const projection = [
          JOB.ClusterId,
          JOB.ProcId,
          JOB.Iwd,
          JOB.Out,
          JOB.Err,
          JOB.TransferOutput,
          JOB.TransferOutputRemaps,
        ];
        const ads = [
          ...(await client.query({ ids: [id], projection })),
          ...(await client.query({ ids: [id], projection, history: true })),
        ];
        if (ads.length === 0) throw new CliError(`no job ${id} in the queue or in history`);
        let refused = 0;
        for (const ad of ads) {
          const jobId = `${ad.ClusterId}.${ad.ProcId}`;
          const dir = resolve(o.dir ?? (unquote(ad.Iwd) || "."));
          const declared = declarationOf(ad);
          const counts = { written: 0, unchanged: 0 };
          let writer: OutputFileWriter | undefined;
          let skipping: string | undefined;
          const refuse = (name: string, why: string) => {
            refused++;
            process.stderr.write(`job ${jobId}: not writing '${name}': ${why}\n`);
          };
          try {
            for await (const c of client.fetchOutput(jobId)) {
              if (c.offset === 0) {
                writer?.abandon();
                writer = undefined;
                skipping = undefined;
                const place = placeOutput(c.name, dir, declared);
                if (!place.ok) {
                  refuse(c.name, place.why);
                  skipping = c.name;
                } else writer = new OutputFileWriter(dir, place.path, o.force === true);
              }
              if (skipping === c.name) continue;
              if (!writer) throw new CliError(`job ${jobId}: '${c.name}' arrived out of order`);
              writer.write(c.data);
              if (c.last) {
                const verdict = writer.finish(c.sha256);
                writer = undefined;
                if (typeof verdict === "object") refuse(c.name, verdict.refused);
                else counts[verdict]++;
              }
            }
          } finally {
            writer?.abandon();
          }
          const same = counts.unchanged ? ` (${counts.unchanged} already there)` : "";
          process.stdout.write(
            `Fetched ${counts.written + counts.unchanged} file(s) of job ${jobId} into ${dir}${same}\n`,
          );
        }
        if (refused > 0) {
          throw new CliError(
            `${refused} file(s) not written (see above); --force replaces differing files`,
          );
        }
      });
    });
}
