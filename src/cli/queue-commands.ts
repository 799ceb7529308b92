/**
 * `updraft q`, `updraft history`, `updraft rm|hold|release` and `updraft qedit`, after condor_q,
 * condor_history, condor_rm/hold/release and condor_qedit.
 */
import type { Command } from "commander";
import { HtcondorCommand } from "./htcondor-args.js";
import { parseJobId, type JobAttrs } from "../schedd/job-status.js";
import { CliError } from "./errors.js";
import {
  afLines,
  batchTable,
  holdTable,
  jsonForm,
  longForm,
  nobatchTable,
  runTable,
  totalsLine,
} from "./job-format.js";
import { withConnectionOptions, withSchedd, type ScheddFlags } from "./schedd-connection.js";

type ViewFlags = ScheddFlags & {
  constraint?: string;
  af?: string[];
  long?: boolean;
  json?: boolean;
  totals?: boolean;
  hold?: boolean;
  run?: boolean;
  nobatch?: boolean;
  limit?: string;
};

function out(lines: string | string[]): void {
  process.stdout.write((Array.isArray(lines) ? lines.join("\n") : lines) + "\n");
}

/** Positional arguments: job ids, or a user name. */
function targets(args: readonly string[]): { ids: string[]; owner: string } {
  const ids: string[] = [];
  let owner = "";
  for (const a of args) {
    if (parseJobId(a)) ids.push(a);
    else if (/^[A-Za-z_][\w.-]*$/.test(a)) owner = a;
    else throw new CliError(`'${a}' is neither a job id (CLUSTER[.PROC]) nor a user name`);
  }
  return { ids, owner };
}

function viewOptions(cmd: Command): Command {
  return withConnectionOptions(cmd)
    .option("--constraint <expr>", "only jobs for which this ClassAd expression is true")
    .option("--af <attrs...>", "print these attributes' values, one job per line (autoformat)")
    .option("--long", "print whole job ads in the long form")
    .option("--json", "print job ads as a JSON array");
}

function show(ads: JobAttrs[], o: ViewFlags, table: () => string[]): void {
  if (o.af && o.af.length > 0) {
    if (ads.length > 0) out(afLines(ads, o.af));
    return;
  }
  if (o.long) {
    if (ads.length > 0) out(longForm(ads));
    return;
  }
  if (o.json) return out(jsonForm(ads));
  if (!o.totals) out(table());
  out(["", totalsLine(ads)]);
}

export function createQCommand(): Command {
  return viewOptions(new HtcondorCommand("q"))
    .description("show jobs in the queue (like condor_q)")
    .argument("[targets...]", "job ids (CLUSTER or CLUSTER.PROC) or a user name")
    .option("--totals", "print only the totals")
    .option("--hold", "only held jobs, with their hold reasons")
    .option("--run", "only running jobs, with where they run")
    .option("--nobatch", "one line per job instead of one per batch")
    .option("--allusers", "everyone's jobs (default: only yours, unless ids or a user are given)")
    .action(async (args: string[], o: ViewFlags & { allusers?: boolean }) => {
      const t = targets(args);
      const mine = !o.allusers && t.ids.length === 0 && t.owner === "";
      const extra = o.hold ? "JobStatus == 5" : o.run ? "JobStatus == 2" : "";
      const constraint = [o.constraint, extra]
        .filter(Boolean)
        .map((c) => `(${c})`)
        .join(" && ");
      await withSchedd(o, "querying the queue", async ({ client, url }) => {
        const ads = await client.query({ ...t, mine, constraint, projection: o.af ?? [] });
        const now = Math.floor(Date.now() / 1000);
        show(ads, o, () => [
          `-- Schedd: ${url}`,
          ...(o.hold
            ? holdTable(ads)
            : o.run
              ? runTable(ads, now)
              : o.nobatch || t.ids.length > 0
                ? nobatchTable(ads, now)
                : batchTable(ads)),
        ]);
      });
    });
}

export function createHistoryCommand(): Command {
  return viewOptions(new HtcondorCommand("history"))
    .description("show finished jobs, newest first (like condor_history)")
    .argument("[targets...]", "job ids or a user name")
    .option("--limit <n>", "at most this many jobs")
    .action(async (args: string[], o: ViewFlags) => {
      const limit = o.limit === undefined ? 0 : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 0)
        throw new CliError(`--limit: '${o.limit}' is not a count`);
      await withSchedd(o, "querying history", async ({ client }) => {
        const ads = await client.query({
          ...targets(args),
          constraint: o.constraint ?? "",
          projection: o.af ?? [],
          limit,
          history: true,
        });
        show(ads, o, () => nobatchTable(ads, Math.floor(Date.now() / 1000)));
      });
    });
}

const VERB = { remove: "removal", hold: "hold", release: "release" } as const;

function actCommand(name: string, action: "remove" | "hold" | "release", what: string): Command {
  return withConnectionOptions(new HtcondorCommand(name))
    .description(`${what} (like condor_${name})`)
    .argument("[targets...]", "job ids (CLUSTER or CLUSTER.PROC) or a user name")
    .option("--constraint <expr>", "the jobs for which this expression is true")
    .option("--reason <text>", "reason recorded on the jobs")
    .action(async (args: string[], o: ScheddFlags & { constraint?: string; reason?: string }) => {
      const t = targets(args);
      if (t.ids.length === 0 && !t.owner && !o.constraint) {
        throw new CliError(`${name}: name jobs by id, a user, or -constraint EXPR`);
      }
      await withSchedd(o, `${name}`, async ({ client }) => {
        const res = await client.act(
          action,
          { ...t, constraint: o.constraint ?? "" },
          o.reason ?? "",
        );
        for (const id of res.done) out(`Job ${id} marked for ${VERB[action]}`);
        for (const r of res.refused) process.stderr.write(`Job ${r.id}: ${r.reason}\n`);
        if (res.done.length === 0 && res.refused.length === 0) {
          throw new CliError("no jobs matched");
        }
        if (res.refused.length > 0) process.exitCode = 1;
      });
    });
}

export function createActCommands(): Command[] {
  return [
    actCommand("rm", "remove", "remove jobs from the queue"),
    actCommand("hold", "hold", "put jobs on hold"),
    actCommand("release", "release", "release held jobs"),
  ];
}

export function createQeditCommand(): Command {
  return withConnectionOptions(new HtcondorCommand("qedit"))
    .description("set a job attribute to an expression (like condor_qedit)")
    .argument("<target>", "job id (CLUSTER or CLUSTER.PROC) or a user name")
    .argument("<attribute>", "attribute name")
    .argument("<value>", "ClassAd expression (quote strings: '\"text\"')")
    .option("--constraint <expr>", "also require this expression")
    .action(
      async (
        target: string,
        attribute: string,
        value: string,
        o: ScheddFlags & { constraint?: string },
      ) => {
        await withSchedd(o, "qedit", async ({ client }) => {
          const res = await client.edit(
            { ...targets([target]), constraint: o.constraint ?? "" },
            attribute,
            value,
          );
          for (const r of res.refused) process.stderr.write(`Job ${r.id}: ${r.reason}\n`);
          if (res.done.length === 0) throw new CliError(`no job was changed`);
          out(`Set attribute "${attribute}" for ${res.done.length} matching jobs.`);
          if (res.refused.length > 0) process.exitCode = 1;
        });
      },
    );
}
