/**
 * `updraft status`: condor_status for an Updraft pool. HTCondor's single-dash spellings
 * (-af, -long, -json, -constraint, -total, -any, -pool) are accepted along with the -- forms.
 */
import { hasErrorCode } from "../common/errors.js";
import type { Command } from "commander";
import { compileExpression } from "../classad/index.js";
import { AD_TYPE } from "../ads/names.js";
import { isAttributeName } from "../collector/intern.js";
import { formatCompact } from "./status-compact.js";
import { CliError } from "./errors.js";
import type { ClientFlags } from "./client-settings.js";
import { HtcondorCommand } from "./htcondor-args.js";
import { addPoolOptions, callError, openPool } from "./pool-client.js";
import {
  formatAdTable,
  formatAutoformat,
  formatJson,
  formatLong,
  formatSlotTable,
  formatTotals,
} from "./status-format.js";

/** Connection flags as every client command takes them, plus this command's own. */
interface StatusOptions extends ClientFlags {
  type?: string;
  any?: boolean;
  constraint?: string;
  af?: string[];
  long?: boolean;
  json?: boolean;
  total?: boolean;
  compact?: boolean;
  limit?: number;
}

export function createStatusCommand(): Command {
  const cmd = new HtcondorCommand("status", { autoformat: "af" })
    .description("list the ads held by the pool's collector, like condor_status (default: slots)")
    .option(
      "--type <type>",
      "ad type: Slot, GlideFactory, GlideClient, Scheduler, Collector...",
      AD_TYPE.Slot,
    )
    .option("--any", "ads of every type")
    .option("--constraint <expr>", "only ads for which this ClassAd expression is true")
    .option(
      "--af <expr...>",
      "autoformat: these attributes or expressions, space-separated, one ad per line",
    )
    .option("-l, --long", "every attribute in the old long form, ads separated by blank lines")
    .option("--json", "a JSON array of objects")
    .option("--total", "totals per type and site")
    .option("--compact", "one row per machine with its free CPUs and memory, then a summary")
    .option("--limit <n>", "at most this many ads", (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n <= 0)
        throw new CliError("--limit must be a positive whole number");
      return n;
    })
    .addHelpText(
      "after",
      "\nHTCondor spellings work too: -af, -long (-l), -json, -constraint, -total, -compact, -any, -pool.\n",
    );
  addPoolOptions(cmd);
  cmd.action(async (o: StatusOptions) => {
    const modes = [o.af !== undefined, o.long, o.json, o.total, o.compact].filter(Boolean).length;
    if (modes > 1) throw new CliError("choose one of -af, -long, -json, -total and -compact");
    const exprs = (o.af ?? []).map((text) => {
      try {
        return compileExpression(text);
      } catch (err) {
        if (hasErrorCode(err, "classad-syntax")) throw new CliError(`-af ${text}: ${err.message}`);
        throw err;
      }
    });
    if (o.constraint !== undefined) {
      try {
        compileExpression(o.constraint);
      } catch (err) {
        if (hasErrorCode(err, "classad-syntax")) throw new CliError(`-constraint: ${err.message}`);
        throw err;
      }
    }
    const type = o.any ? "" : (o.type ?? AD_TYPE.Slot);
    // Projection only when -af names plain attributes: expressions may reference anything.
    const projection = o.af && o.af.every(isAttributeName) ? o.af : [];
    const pool = await openPool(o);
    let ads;
    try {
      ads = await pool.collector.query(
        { type, constraint: o.constraint ?? "", projection, limit: o.limit ?? 0 },
        { deadlineMs: 120_000 },
      );
    } catch (err) {
      callError(pool.url, err);
    } finally {
      await pool.close();
    }
    const now = Math.floor(Date.now() / 1000);
    let out: string;
    if (o.af) out = formatAutoformat(ads, exprs);
    else if (o.long) out = formatLong(ads);
    else if (o.json) out = formatJson(ads);
    else if (o.total) out = formatTotals(ads);
    else if (o.compact) out = formatCompact(ads);
    else if (type.toLowerCase() === "slot") out = formatSlotTable(ads, now);
    else out = formatAdTable(ads, now);
    process.stdout.write(out);
  });
  return cmd;
}
