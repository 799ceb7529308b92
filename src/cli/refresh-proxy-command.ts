/**
 * `updraft refresh-proxy`: send a renewed proxy to jobs that brought one (`x509userproxy`).
 * HTCondor's schedd reads a job's proxy file on the submit host again when it changes; a remote
 * schedd cannot, so the renewed file is sent, as the Python bindings' `refreshGSIProxy` does.
 * Without FILE each job's own `x509userproxy` file is read again; a running job's pilot puts the
 * new proxy in its sandbox at its next heartbeat.
 */
import type { Command } from "commander";
import { JOB } from "../ads/names.js";
import { readBounded } from "../common/bounded-read.js";
import { MAX_PROXY_BYTES } from "../schedd/job-proxy.js";
import { parseJobId, type JobAttrs } from "../schedd/job-status.js";
import { CliError } from "./errors.js";
import { HtcondorCommand } from "./htcondor-args.js";
import { withConnectionOptions, withSchedd, type ScheddFlags } from "./schedd-connection.js";

type Flags = ScheddFlags & { all?: boolean };

/** One RefreshProxy call: a cluster (`12`) or a job (`12.3`), and the file to send it. */
export type Refresh = { target: string; file: string };

/**
 * The calls that refresh `jobs` (each with ClusterId, ProcId, x509userproxy): one per cluster
 * named whole, or per job named, with `file` or else the job's own proxy path. A cluster whose
 * jobs name different proxy files is refreshed job by job. Pure.
 */
export function planRefreshes(
  jobs: readonly JobAttrs[],
  named: readonly { cluster: number; proc?: number }[] | "all",
  file: string | undefined,
): Refresh[] {
  const path = (j: JobAttrs): string | undefined => {
    const v = j.x509userproxy;
    return v?.startsWith('"') ? (JSON.parse(v) as string) : undefined;
  };
  const withProxy = jobs.filter((j) => path(j) !== undefined);
  const wholeClusters = new Set(
    named === "all"
      ? withProxy.map((j) => Number(j.ClusterId))
      : named.filter((n) => n.proc === undefined).map((n) => n.cluster),
  );
  const out: Refresh[] = [];
  const byCluster = new Map<number, JobAttrs[]>();
  for (const j of withProxy) {
    const c = Number(j.ClusterId);
    byCluster.set(c, [...(byCluster.get(c) ?? []), j]);
  }
  for (const [cluster, js] of byCluster) {
    const files = new Set(js.map((j) => file ?? path(j)!));
    if (wholeClusters.has(cluster) && files.size === 1) {
      out.push({ target: String(cluster), file: [...files][0]! });
      continue;
    }
    for (const j of js) out.push({ target: `${cluster}.${j.ProcId}`, file: file ?? path(j)! });
  }
  return out;
}

function readProxy(file: string): Buffer {
  let pem: Buffer | undefined;
  try {
    pem = readBounded(file, MAX_PROXY_BYTES);
  } catch (err) {
    throw new CliError(
      `cannot read proxy ${file}: ${(err as Error).message}; ` +
        "renew it with 'updraft proxy init' (or voms-proxy-init) or name the file to send",
    );
  }
  if (pem === undefined)
    throw new CliError(`proxy ${file} is larger than ${MAX_PROXY_BYTES} bytes`);
  return pem;
}

export function createRefreshProxyCommand(): Command {
  return withConnectionOptions(new HtcondorCommand("refresh-proxy"))
    .description("send a renewed proxy to queued and running jobs that brought one (x509userproxy)")
    .argument("[args...]", "job ids (CLUSTER or CLUSTER.PROC), then optionally the proxy FILE")
    .option("--all", "all your jobs that brought a proxy")
    .action(async (args: string[], o: Flags) => {
      const ids = args.filter((a) => parseJobId(a) !== undefined);
      const rest = args.filter((a) => parseJobId(a) === undefined);
      if (rest.length > 1)
        throw new CliError(`refresh-proxy: one proxy FILE, not ${rest.join(" ")}`);
      if (o.all && ids.length > 0) throw new CliError("refresh-proxy: -all takes no job ids");
      if (!o.all && ids.length === 0) {
        throw new CliError("refresh-proxy: name jobs (CLUSTER or CLUSTER.PROC) or -all");
      }
      const file = rest[0];
      await withSchedd(o, "refresh-proxy", async ({ client }) => {
        const jobs = await client.query({
          ids: o.all ? [] : ids,
          mine: o.all === true,
          projection: [JOB.ClusterId, JOB.ProcId, JOB.X509UserProxy],
        });
        const named = o.all ? "all" : ids.map((id) => parseJobId(id)!);
        const plan = planRefreshes(jobs, named, file);
        if (plan.length === 0)
          throw new CliError("no job of those brought a proxy (x509userproxy)");
        let refused = 0;
        for (const r of plan) {
          const res = await client.refreshProxy(r.target, readProxy(r.file));
          for (const id of res.done)
            process.stdout.write(`Job ${id}: proxy refreshed from ${r.file}\n`);
          for (const x of res.refused) process.stderr.write(`Job ${x.id}: ${x.reason}\n`);
          refused += res.refused.length;
        }
        if (refused > 0) process.exitCode = 1;
      });
    });
}
