/**
 * `updraft q`, `updraft history`, `updraft rm|hold|release` and `updraft qedit`, after condor_q,
 * condor_history, condor_rm/hold/release and condor_qedit.
 */
import { userInfo } from "node:os";
import type { Command } from "commander";
import { AD_TYPE, JOB } from "../ads/index.js";
import { ClassAd, compileExpression } from "../classad/index.js";
import { HtcondorCommand } from "./htcondor-args.js";
import { JobStatus, parseJobId, type JobAttrs } from "../schedd/job-status.js";
import { CliError } from "./errors.js";
import type { EntryAds } from "./entry-analysis.js";
import { analyzeJob } from "./job-analysis.js";
import {
  afLines,
  batchTable,
  holdTable,
  jsonForm,
  longForm,
  nobatchTable,
  parseAfFlags,
  runTable,
  totalsLine,
} from "./job-format.js";
import { resolveClientSettings } from "./client-settings.js";
import { callError as poolCallError, openPool } from "./pool-client.js";
import {
  scheddsInPool,
  withConnectionOptions,
  withSchedd,
  type ScheddFlags,
} from "./schedd-connection.js";

type ViewFlags = ScheddFlags & {
  constraint?: string;
  af?: string[];
  afFlags?: string;
  long?: boolean;
  json?: boolean;
  totals?: boolean;
  hold?: boolean;
  run?: boolean;
  nobatch?: boolean;
  limit?: string;
  match?: string;
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
    .option("--af <exprs...>", "print these attributes' or expressions' values, one job per line")
    .option(
      "--af-flags <letters>",
      "as -af:LETTERS: h header, j job id, l labels, t tabs, , commas",
    )
    .option("--long", "print whole job ads in the long form")
    .option("--json", "print job ads as a JSON array");
}

/** -af's expressions compiled, and the projection that serves them (none for expressions). */
function autoformat(o: ViewFlags) {
  if (!o.af) return undefined;
  const flags = parseAfFlags(o.afFlags ?? "");
  if (typeof flags === "string") throw new CliError(flags);
  const exprs = o.af.map((text) => {
    try {
      return { text, expr: compileExpression(text) };
    } catch (err) {
      throw new CliError(`-af ${text}: ${(err as Error).message}`);
    }
  });
  const plain = o.af.every((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n));
  const projection = plain ? [...o.af, ...(flags.jobId ? [JOB.ClusterId, JOB.ProcId] : [])] : [];
  return { flags, exprs, projection };
}

/** Prints -af, -long or -json and returns true; false for the caller's own table. */
function showAds(ads: JobAttrs[], o: ViewFlags): boolean {
  const af = autoformat(o);
  if (af) {
    if (ads.length > 0) out(afLines(ads, af.exprs, af.flags));
    return true;
  }
  if (o.long) {
    if (ads.length > 0) out(longForm(ads));
    return true;
  }
  if (o.json) {
    out(jsonForm(ads).trimEnd());
    return true;
  }
  return false;
}

type QFlags = ViewFlags & {
  allusers?: boolean;
  global?: boolean;
  betterAnalyze?: boolean;
  analyze?: boolean;
};

/** -json is the form printed: -af and -long come first (see showAds). */
const isJsonForm = (o: QFlags) =>
  o.json === true && !o.af && !o.long && !o.betterAnalyze && !o.analyze;

export function createQCommand(): Command {
  return viewOptions(new HtcondorCommand("q"))
    .description("show jobs in the queue (like condor_q)")
    .argument("[targets...]", "job ids (CLUSTER or CLUSTER.PROC) or a user name")
    .option("--totals", "print only the totals")
    .option("--hold", "only held jobs, with their hold reasons")
    .option("--run", "only running jobs, with where they run")
    .option("--nobatch", "one line per job instead of one per batch")
    .option("--allusers", "everyone's jobs (default: only yours, unless ids or a user are given)")
    .option("--global", "every schedd of the pool, one after another")
    .option("--better-analyze", "why each job matches or not: clause by clause, per slot and entry")
    .option(
      "--wms-pool <url>",
      "for --better-analyze: the WMS collector(s) with the GlideFactory and GlideResource ads, when not the pool's (else $UPDRAFT_WMS_POOL or 'wms_pool:' in the user config)",
    )
    .option("--analyze", "as --better-analyze, the run summary only")
    .action(async (args: string[], o: QFlags) => {
      if (o.global) {
        const { pool, found } = await scheddsInPool(o);
        if (found.length === 0) throw new CliError(`the pool at ${pool} advertises no schedd`);
        // As condor_q -global: a schedd that cannot be asked is reported and the others still
        // are; the exit status says one failed. -json gathers every schedd's jobs into one
        // array, one JSON document, as condor_q -global -json prints them.
        const gathered: JobAttrs[] | undefined = isJsonForm(o) ? [] : undefined;
        for (const s of found) {
          try {
            if (s.address === undefined) throw new CliError("its ad has no wss:// address");
            await queryOne(args, { ...o, schedd: s.address, name: undefined }, s.name, gathered);
          } catch (err) {
            if (!(err instanceof CliError)) throw err;
            process.stderr.write(
              `-- Failed to fetch ads from: ${s.address ?? "(no address)"} : ${s.name}\n` +
                `${err.message}\n`,
            );
            process.exitCode = 1;
          }
        }
        if (gathered) out(jsonForm(gathered).trimEnd());
        return;
      }
      await queryOne(args, o);
    });
}

/** One schedd's jobs, printed; or, given `gathered` (-global -json), added to it instead. */
async function queryOne(
  args: string[],
  o: QFlags,
  scheddName?: string,
  gathered?: JobAttrs[],
): Promise<void> {
  const t = targets(args);
  const mine = !o.allusers && t.ids.length === 0 && t.owner === "";
  const extra = o.hold
    ? `${JOB.JobStatus} == ${JobStatus.Held}`
    : o.run
      ? `${JOB.JobStatus} == ${JobStatus.Running}`
      : "";
  const constraint = [o.constraint, extra]
    .filter(Boolean)
    .map((c) => `(${c})`)
    .join(" && ");
  const analysis = o.betterAnalyze || o.analyze;
  const pool = analysis ? await poolAds(o) : { slots: [], entries: undefined };
  await withSchedd(o, "querying the queue", async ({ client, url }) => {
    const projection = analysis ? [] : (autoformat(o)?.projection ?? []);
    const ads = await client.query({ ...t, mine, constraint, projection });
    if (gathered) {
      gathered.push(...ads);
      return;
    }
    const header = `-- Schedd: ${scheddName === undefined ? url : `${scheddName} : ${url}`}`;
    if (analysis) {
      out(header);
      const opts = { better: o.betterAnalyze === true, entries: pool.entries };
      for (const ad of ads) out(analyzeJob(ad, pool.slots, opts));
      return;
    }
    if (showAds(ads, o)) return;
    const now = Math.floor(Date.now() / 1000);
    if (!o.totals) {
      out([
        header,
        ...(o.hold
          ? holdTable(ads)
          : o.run
            ? runTable(ads, now)
            : o.nobatch || t.ids.length > 0
              ? nobatchTable(ads, now)
              : batchTable(ads)),
      ]);
    }
    // Several schedds' totals, one after another, each say whose they are.
    if (o.totals && scheddName !== undefined) out(header);
    // condor_q's three totals: this query, the user's jobs, everyone's.
    const counts = [JOB.JobStatus, JOB.Owner];
    const own = await client.query({ mine: true, projection: counts });
    const all = await client.query({ projection: counts });
    const me = own.length > 0 ? ClassAd.fromJSON(own[0]!).getString(JOB.Owner) : undefined;
    out([
      "",
      totalsLine(ads),
      totalsLine(own, me ?? userInfo().username),
      totalsLine(all, "all users"),
    ]);
  });
}

/**
 * The pool's slot ads and its factories' entries with the frontends' views, for -analyze. The
 * entries' ads are at the WMS collector when one is set (a glideinWMS factory pool apart from the
 * VO's), else at the pool's.
 */
async function poolAds(o: ScheddFlags): Promise<{ slots: JobAttrs[]; entries: EntryAds }> {
  const wmsPool = await wmsPoolOf(o);
  const open = (flags: ScheddFlags, what: string, give: string) =>
    openPool(flags).catch((err: unknown) => {
      throw new CliError(`-better-analyze reads ${what}: ${(err as Error).message} (give ${give})`);
    });
  const pool = await open(o, "the pool's slots", "--pool or UPDRAFT_POOL");
  let wms = pool;
  try {
    if (wmsPool !== undefined) {
      wms = await open(
        { ...o, pool: wmsPool },
        "the entries at the WMS collector",
        "--wms-pool or UPDRAFT_WMS_POOL",
      );
    }
    const all = (at: typeof pool, type: string) =>
      at.collector
        .query({ type, constraint: "", projection: [], limit: 0 }, { deadlineMs: 120_000 })
        .catch((err: unknown) => poolCallError(at.url, err));
    const [slots, factories, resources] = await Promise.all([
      all(pool, AD_TYPE.Slot),
      all(wms, AD_TYPE.GlideFactory),
      all(wms, AD_TYPE.GlideResource),
    ]);
    return { slots, entries: { factories, resources } };
  } finally {
    await pool.close();
    if (wms !== pool) await wms.close();
  }
}

/** --wms-pool, else the settings' WMS collector; undefined without a pool to read settings of. */
async function wmsPoolOf(o: ScheddFlags): Promise<string | undefined> {
  try {
    return (await resolveClientSettings(o)).wmsPool;
  } catch {
    return o.wmsPool;
  }
}

export function createHistoryCommand(): Command {
  return viewOptions(new HtcondorCommand("history"))
    .description("show finished jobs, newest first (like condor_history)")
    .argument("[targets...]", "job ids or a user name")
    .option("--limit <n>", "at most this many jobs")
    .option("--match <n>", "at most this many jobs (condor_history -match)")
    .action(async (args: string[], o: ViewFlags) => {
      const text = o.match ?? o.limit;
      const limit = text === undefined ? 0 : Number(text);
      if (!Number.isInteger(limit) || limit < 0) {
        throw new CliError(
          `--${o.match === undefined ? "limit" : "match"}: '${text}' is not a count`,
        );
      }
      await withSchedd(o, "querying history", async ({ client }) => {
        const ads = await client.query({
          ...targets(args),
          constraint: o.constraint ?? "",
          projection: autoformat(o)?.projection ?? [],
          limit,
          history: true,
        });
        if (showAds(ads, o)) return;
        out(nobatchTable(ads, Math.floor(Date.now() / 1000)));
        out(["", totalsLine(ads)]);
      });
    });
}

const VERB = { remove: "removal", hold: "hold", release: "release" } as const;

const ALL_DONE = { remove: "marked for removal", hold: "held", release: "released" } as const;

type ActFlags = ScheddFlags & { constraint?: string; reason?: string; all?: boolean };

function actCommand(name: string, action: "remove" | "hold" | "release", what: string): Command {
  return withConnectionOptions(new HtcondorCommand(name))
    .description(`${what} (like condor_${name})`)
    .argument("[targets...]", "job ids (CLUSTER or CLUSTER.PROC) or a user name")
    .option("--constraint <expr>", "the jobs for which this expression is true")
    .option("--all", "all the jobs you may act on (all jobs for an admin)")
    .option("--reason <text>", "reason recorded on the jobs")
    .action(async (args: string[], o: ActFlags) => {
      const t = targets(args);
      if (o.all && (t.ids.length > 0 || t.owner || o.constraint)) {
        throw new CliError(`${name}: -all takes no job ids, user or -constraint`);
      }
      if (!o.all && t.ids.length === 0 && !t.owner && !o.constraint) {
        throw new CliError(`${name}: name jobs by id, a user, -constraint EXPR or -all`);
      }
      await withSchedd(o, `${name}`, async ({ client }) => {
        const constraint = o.all ? "true" : (o.constraint ?? "");
        const res = await client.act(action, { ...t, constraint }, o.reason ?? "");
        if (o.all) {
          // As condor_rm -all: other users' jobs, and jobs already in the state, are not errors.
          if (res.done.length === 0)
            throw new CliError(`no jobs of yours could be ${ALL_DONE[action]}`);
          out(`All jobs ${ALL_DONE[action]}.`);
          return;
        }
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
