/**
 * `updraft factory run --config FILE` (or `updraft factory --config FILE`) runs the factory; `updraft factory downtime ...` and
 * `updraft factory status` read and write its database (found through the same config);
 * `updraft factory stage --out DIR` writes a complete staging folder: this build's pilot install
 * archive, Node.js runtimes for worker nodes without one, and the manifest.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { hasErrorCode } from "../common/errors.js";
import { EXIT, isSystemError } from "../common/exit-codes.js";
import { type FactoryConfig, loadFactoryConfig, pilotLogsDir } from "../factory/config.js";
import { PilotLogStore } from "../factory/pilot-logs.js";
import { formatPilotLogs } from "../factory/pilot-logs-format.js";
import { dbPath } from "../factory/daemon.js";
import { runFactory } from "../factory/main.js";
import { stagingKeepMs, stagingVersionsDir } from "../factory/staging-service.js";
import { openVersionStore } from "../factory/staging/versions.js";
import { formatStatusTable, statusRows } from "../factory/status-report.js";
import { writeInstallArchive } from "../factory/staging/install.js";
import { NODE_RUNTIMES, stageRuntimes, type StagedRuntime } from "../factory/staging/runtime.js";
import { MANIFEST_NAME, stageDirectory } from "../factory/staging/staging-area.js";
import { FactoryStore } from "../factory/store.js";
import { findPackageRoot } from "../wire/schema.js";
import { createDaemonCommand } from "./daemon-command.js";
import { CliError, withCliErrorsSync } from "./errors.js";
import { HtcondorCommand } from "./htcondor-args.js";

const CONFIG_HELP = "factory configuration (YAML); see config/factory.yaml";

function loadConfig(cmd: Command): FactoryConfig {
  const configFile = (cmd.optsWithGlobals() as { config?: string }).config;
  if (!configFile) throw new CliError("give --config FILE (the factory's configuration)");
  return withCliErrorsSync("factory", () => loadFactoryConfig(configFile));
}

function openStore(cmd: Command): FactoryStore {
  const config = loadConfig(cmd);
  try {
    // A downtime may be added before the factory first ran (and made its work folder).
    mkdirSync(config.work_dir, { recursive: true, mode: 0o700 });
    return new FactoryStore(dbPath(config));
  } catch (err) {
    throw new CliError(`cannot open the factory database: ${(err as Error).message}`, EXIT.os);
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
  return new HtcondorCommand("status")
    .description("pilots per entry and client: idle, running, held, requested, limits, failures")
    .option("--entry <name>", "only this entry")
    .option("--json", "JSON instead of a table")
    .action((o: { entry?: string; json?: boolean }, cmd: Command) => {
      const store = openStore(cmd);
      try {
        const rows = statusRows(store, o.entry);
        if (o.json) {
          process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
          return;
        }
        const config = loadConfig(cmd);
        const versions = existsSync(stagingVersionsDir(config)) ? stagedVersionRows(config) : [];
        process.stdout.write(formatStatusTable(rows) + formatStagedVersions(versions));
      } finally {
        store.close();
      }
    });
}

function logsCommand(): Command {
  return new Command("logs")
    .description(
      "finished pilots' kept output (stdout, stderr, outcome) for one entry, newest first",
    )
    .requiredOption("--entry <name>", "the entry")
    .option("--failed", "only pilots that failed")
    .option("--last <n>", "only the newest N pilots")
    .option("--json", "JSON instead of text")
    .action(
      (o: { entry: string; failed?: boolean; last?: string; json?: boolean }, cmd: Command) => {
        const config = loadConfig(cmd);
        if (!config.entries.some((e) => e.name === o.entry)) {
          throw new CliError(
            `no entry '${o.entry}' in the configuration (have: ${config.entries.map((e) => e.name).join(", ")})`,
          );
        }
        let last: number | undefined;
        if (o.last !== undefined) {
          if (!/^[1-9][0-9]{0,8}$/.test(o.last))
            throw new CliError("--last takes a whole number ≥ 1");
          last = Number(o.last);
        }
        const logs = new PilotLogStore(pilotLogsDir(config), config.pilot_logs).read({
          entry: o.entry,
          failed: o.failed,
          last,
        });
        process.stdout.write(o.json ? `${JSON.stringify(logs, null, 2)}\n` : formatPilotLogs(logs));
      },
    );
}

/**
 * What staging throws, as the person at the terminal sees it: each coded error exits by its code,
 * whichever step raised it. A runtime npm could not fetch is a service unavailable (69); an
 * incomplete build, or one with a path the install archive cannot hold, is a file of the install
 * that cannot be used (72); a file in the staging folder a pilot would refuse is wrong input (65);
 * a failed system call is an output that could not be made (73). Anything else is a bug.
 */
export function stageFailure(err: unknown, what: string): CliError {
  if (err instanceof CliError) return err;
  if (hasErrorCode(err, "runtime-stage")) {
    return new CliError(
      `${what}: ${err.message}; check that npm reaches its registry, or give --no-runtime`,
      EXIT.unavailable,
    );
  }
  if (hasErrorCode(err, "pilot-install", "tar-path")) {
    return new CliError(`${what}: ${err.message}`, EXIT.osFile);
  }
  if (hasErrorCode(err, "staging-file")) {
    return new CliError(`${what}: ${err.message}; rename or remove it`, EXIT.dataErr);
  }
  if (isSystemError(err)) return new CliError(`${what}: ${err.message}`, EXIT.cantCreate);
  throw err;
}

function stageCommand(): Command {
  return new Command("stage")
    .description(
      "write a complete staging folder: this build's pilot install, Node.js runtimes and manifest.txt",
    )
    .requiredOption("--out <dir>", "the staging folder (the factory's staging.dir)")
    .option(
      "--machines <list>",
      "Node.js runtimes for these machines (uname -m), comma-separated",
      NODE_RUNTIMES.map((p) => p.machine).join(","),
    )
    .option("--no-runtime", "stage no Node.js runtime (worker nodes bring Node.js 20 themselves)")
    .option("--npm <path>", "the npm client that fetches runtimes from the registry", "npm")
    .action(async (o: { out: string; machines: string; runtime: boolean; npm: string }) => {
      const root = findPackageRoot(dirname(fileURLToPath(import.meta.url)));
      const machines = o.machines.split(",").filter((m) => m !== "");
      const unknown = machines.filter((m) => !NODE_RUNTIMES.some((p) => p.machine === m));
      if (o.runtime && unknown.length > 0) {
        const known = NODE_RUNTIMES.map((p) => p.machine).join(", ");
        throw new CliError(
          `--machines: no Node.js runtime for ${unknown.join(", ")} (there are: ${known})`,
        );
      }
      let w;
      let runtimes: StagedRuntime[] = [];
      try {
        mkdirSync(o.out, { recursive: true });
        w = writeInstallArchive(root, o.out);
      } catch (err) {
        throw stageFailure(err, "cannot stage the pilot install");
      }
      if (o.runtime) {
        try {
          runtimes = await stageRuntimes(o.out, { machines, npm: o.npm });
        } catch (err) {
          throw stageFailure(err, "cannot stage the Node.js runtime");
        }
      }
      let area;
      try {
        area = stageDirectory(o.out);
        writeFileSync(join(o.out, MANIFEST_NAME), area.manifestText, { mode: 0o644 });
      } catch (err) {
        throw stageFailure(err, `cannot write ${MANIFEST_NAME}`);
      }
      const lines = [`${w.file}: ${w.files} files, ${w.bytes} bytes, sha256 ${w.sha256}`];
      for (const r of runtimes) {
        lines.push(
          `${join(o.out, r.path)}: Node.js ${r.version} for ${r.machine}, sha256 ${r.sha256}` +
            (r.fetched ? "" : " (already staged)"),
        );
      }
      lines.push(
        `${join(o.out, MANIFEST_NAME)}: ${area.files.length} files, ${area.runtimes.length} runtimes`,
        `manifest sha256 ${area.manifestSha256}`,
        "serve the folder with any web server (pilots: --staging URL --manifest-sha256 HASH),",
        "or restart the factory to serve it",
      );
      process.stdout.write(lines.join("\n") + "\n");
    });
}

export function createFactoryCommand(): Command {
  return createDaemonCommand({
    name: "factory",
    description:
      "run the factory (submits pilots for frontends), or manage its downtimes, status and pilot logs",
    configHelp: CONFIG_HELP,
    run: runFactory,
  })
    .addCommand(downtimeCommand())
    .addCommand(statusCommand())
    .addCommand(logsCommand())
    .addCommand(stageCommand());
}

interface StagedVersionRow {
  version: string;
  state: "current" | "retired";
  added: string;
  /** When a retired version is purged: no pilot submitted with it can start after that. */
  purgeAfter?: string;
}

function stagedVersionRows(config: FactoryConfig): StagedVersionRow[] {
  const keepMs = stagingKeepMs(config);
  return openVersionStore(stagingVersionsDir(config))
    .list()
    .map((v) => ({
      version: v.sha256,
      state: v.current ? "current" : "retired",
      added: new Date(v.addedMs).toISOString(),
      purgeAfter:
        v.retiredMs === undefined ? undefined : new Date(v.retiredMs + keepMs).toISOString(),
    }));
}

function formatStagedVersions(rows: StagedVersionRow[]): string {
  if (rows.length === 0) return "";
  const lines = rows.map(
    (r) => `${r.version.slice(0, 16)}  ${r.state.padEnd(7)}  ${r.added}  ${r.purgeAfter ?? "-"}`,
  );
  return (
    ["", "STAGED VERSION    STATE    ADDED                     PURGE AFTER", ...lines].join("\n") +
    "\n"
  );
}
