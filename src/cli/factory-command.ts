/**
 * `updraft factory --config FILE` runs the factory; `updraft factory downtime ...` and
 * `updraft factory status` read and write its database (found through the same config).
 */
import { mkdirSync } from "node:fs";
import { Command } from "commander";
import { ConfigError } from "../common/config.js";
import { loadFactoryConfig } from "../factory/config.js";
import { dbPath } from "../factory/daemon.js";
import { runFactory } from "../factory/main.js";
import { formatStatusTable, statusRows } from "../factory/status-report.js";
import { FactoryStore } from "../factory/store.js";
import { CliError } from "./errors.js";
import { HtcondorCommand, singleDashMap } from "./htcondor-args.js";

const CONFIG_HELP = "factory configuration (YAML); see config/factory.yaml";

function openStore(cmd: Command): FactoryStore {
  const configFile = (cmd.optsWithGlobals() as { config?: string }).config;
  if (!configFile) throw new CliError("give --config FILE (the factory's configuration)");
  let config;
  try {
    config = loadFactoryConfig(configFile);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 78);
    throw err;
  }
  try {
    // A downtime may be added before the factory first ran (and made its work folder).
    mkdirSync(config.work_dir, { recursive: true, mode: 0o700 });
    return new FactoryStore(dbPath(config));
  } catch (err) {
    throw new CliError(`cannot open the factory database: ${(err as Error).message}`, 71);
  }
}

/** "now", seconds since the epoch, or an ISO 8601 date-time. */
export function parseTime(text: string, now = Date.now()): number {
  if (text === "now") return now;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CliError(`'${text}' is not a time (now, epoch seconds, or ISO 8601)`);
  return t;
}

function downtimeCommand(): Command {
  const dt = new Command("downtime").description(
    "entries' downtimes: no pilots are submitted during one",
  );
  dt.command("add")
    .description("add a downtime")
    .option("--entry <name>", "an entry, or 'all'", "all")
    .option("--start <time>", "start (now, epoch seconds or ISO 8601)", "now")
    .option("--end <time>", "end (default: until removed)")
    .option("--frontend <name>", "only for this frontend")
    .option("--comment <text>", "why", "")
    .action(
      (
        o: {
          entry: string;
          start: string;
          end?: string;
          frontend?: string;
          comment: string;
        },
        cmd: Command,
      ) => {
        const store = openStore(cmd);
        try {
          const start = parseTime(o.start);
          const end = o.end === undefined ? undefined : parseTime(o.end);
          if (end !== undefined && end <= start) throw new CliError("--end must be after --start");
          const id = store.addDowntime(
            { entry: o.entry, frontend: o.frontend, start, end, comment: o.comment },
            Date.now(),
          );
          process.stdout.write(`downtime ${id} added\n`);
        } finally {
          store.close();
        }
      },
    );
  dt.command("list")
    .description("list downtimes")
    .option("--entry <name>", "only those applying to this entry")
    .action((o: { entry?: string }, cmd: Command) => {
      const store = openStore(cmd);
      try {
        const rows = store
          .downtimes()
          .filter((d) => o.entry === undefined || d.entry === o.entry || d.entry === "all");
        const iso = (t?: number) => (t === undefined ? "-" : new Date(t).toISOString());
        const lines = rows.map(
          (d) =>
            `${d.id}\t${d.entry}\t${d.frontend ?? "*"}\t${iso(d.start)}\t${iso(d.end)}\t${d.comment ?? ""}`,
        );
        process.stdout.write(
          ["ID\tENTRY\tFRONTEND\tSTART\tEND\tCOMMENT", ...lines].join("\n") + "\n",
        );
      } finally {
        store.close();
      }
    });
  dt.command("remove")
    .description("remove downtimes: one by --id, or every one of --entry")
    .option("--id <n>", "the downtime's id (from 'list')")
    .option("--entry <name>", "every downtime of this entry ('all' for the all-entries ones)")
    .action((o: { id?: string; entry?: string }, cmd: Command) => {
      if (o.id === undefined && o.entry === undefined) throw new CliError("give --id or --entry");
      const store = openStore(cmd);
      try {
        const ids = store
          .downtimes()
          .filter((d) => (o.id !== undefined ? d.id === Number(o.id) : d.entry === o.entry))
          .map((d) => d.id!);
        for (const id of ids) store.removeDowntime(id);
        process.stdout.write(`${ids.length} downtime(s) removed\n`);
      } finally {
        store.close();
      }
    });
  return dt;
}

function statusCommand(): Command {
  return new HtcondorCommand("status", singleDashMap({ json: "json", entry: "entry" }))
    .description("pilots per entry and client: idle, running, held, requested, limits, failures")
    .option("--entry <name>", "only this entry")
    .option("--json", "JSON instead of a table")
    .action((o: { entry?: string; json?: boolean }, cmd: Command) => {
      const store = openStore(cmd);
      try {
        const rows = statusRows(store, o.entry);
        process.stdout.write(
          o.json ? JSON.stringify(rows, null, 2) + "\n" : formatStatusTable(rows),
        );
      } finally {
        store.close();
      }
    });
}

export function createFactoryCommand(): Command {
  return (
    new Command("factory")
      .description(
        "run the factory (submits pilots for frontends), or manage its downtimes and status",
      )
      // Subcommands read this --config too (commander accepts it before or after them).
      .option("--config <file>", CONFIG_HELP)
      .addCommand(downtimeCommand())
      .addCommand(statusCommand())
      .action(async (o: { config?: string }) => {
        if (!o.config) throw new CliError("give --config FILE (or a subcommand: downtime, status)");
        try {
          await runFactory(o.config);
        } catch (err) {
          if (err instanceof ConfigError) throw new CliError(err.message, 78);
          throw err;
        }
      })
  );
}
