/**
 * `updraft transfer-output ID`: fetch jobs' output sandboxes into their submit directory (the
 * job's Iwd) or --dir, checking each file's SHA-256 and refusing names that leave the directory.
 */
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import type { Command } from "commander";
import { HtcondorCommand } from "./htcondor-args.js";
import { parseJobId } from "../schedd/job-status.js";
import { unsafeName } from "../schedd/sandbox.js";
import { CliError } from "./errors.js";
import { withConnectionOptions, withSchedd, type ScheddFlags } from "./schedd-connection.js";

function unquote(text: string | undefined): string {
  return text?.startsWith('"') ? (JSON.parse(text) as string) : "";
}

export function createTransferOutputCommand(): Command {
  return withConnectionOptions(new HtcondorCommand("transfer-output"))
    .description("fetch the output sandboxes of finished jobs into their submit directory")
    .argument("<id>", "CLUSTER or CLUSTER.PROC")
    .option("--dir <dir>", "put files here instead of each job's submit directory")
    .action(async (id: string, o: ScheddFlags & { dir?: string }) => {
      if (!parseJobId(id)) throw new CliError(`'${id}' is not a job id (CLUSTER or CLUSTER.PROC)`);
      await withSchedd(o, "fetching output", async ({ client }) => {
        const projection = ["ClusterId", "ProcId", "Iwd"];
        const ads = [
          ...(await client.query({ ids: [id], projection })),
          ...(await client.query({ ids: [id], projection, history: true })),
        ];
        if (ads.length === 0) throw new CliError(`no job ${id} in the queue or in history`);
        for (const ad of ads) {
          const jobId = `${ad.ClusterId}.${ad.ProcId}`;
          const dir = resolve(o.dir ?? (unquote(ad.Iwd) || "."));
          let n = 0;
          let hash = createHash("sha256");
          for await (const c of client.fetchOutput(jobId)) {
            const why = unsafeName(c.name);
            const target = resolve(dir, c.name);
            if (why || !target.startsWith(dir + sep)) {
              throw new CliError(`job ${jobId}: refusing file name '${c.name}' from the schedd`);
            }
            const partial = `${target}.partial`;
            mkdirSync(join(target, ".."), { recursive: true });
            if (c.offset === 0) {
              writeFileSync(partial, c.data);
              hash = createHash("sha256");
            } else appendFileSync(partial, c.data);
            hash.update(c.data);
            if (c.last) {
              const got = hash.digest("hex");
              if (got !== c.sha256) {
                rmSync(partial, { force: true });
                throw new CliError(`job ${jobId}: checksum mismatch for ${c.name}`);
              }
              renameSync(partial, target);
              n++;
            }
          }
          process.stdout.write(`Fetched ${n} file(s) of job ${jobId} into ${dir}\n`);
        }
      });
    });
}
