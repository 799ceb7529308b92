/**
 * `updraft frontend plan` and `updraft frontend explain`: the frontend's computation on a
 * snapshot file, without a daemon, so operators can try a policy before deploying it; `run` and
 * `snapshot` against the live pool; `status`: what the running frontends advertised.
 */
import { AD_TYPE } from "../ads/index.js";
import { writeFileSync } from "node:fs";
import { createLogger } from "../common/logger.js";
import { connectPeers } from "../frontend/daemon.js";
import { runFrontend } from "../frontend/main.js";
import { gatherSnapshot } from "../frontend/gather.js";
import { Command } from "commander";
import { ClassAd } from "../classad/index.js";
import { hasErrorCode } from "../common/errors.js";
import { loadFrontendConfig, type FrontendConfig } from "../frontend/config.js";
import { planCycle } from "../frontend/compute.js";
import { explainJob } from "../frontend/explain.js";
import { formatExplanation, formatPlan } from "../frontend/format.js";
import { groupPolicies, type GroupPolicy } from "../frontend/group-policy.js";
import { loadSnapshot, type Snapshot } from "../frontend/snapshot.js";
import { entryStatuses, formatStatus, newestByName, type WireAd } from "../frontend/status.js";
import type { ClientFlags } from "./client-settings.js";
import { addRunCommand } from "./daemon-command.js";
import { CliError, withCliErrorsSync } from "./errors.js";
import { HtcondorCommand } from "./htcondor-args.js";
import { voScriptLines } from "../frontend/vo-bundle.js";
import { addPoolOptions, callError, openPool } from "./pool-client.js";
import { MAX_INPUT_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

interface CommonOptions {
  config: string;
  snapshot: string;
  json?: boolean;
  group?: string;
  all?: boolean;
  /** explain: the schedd holding the job, for groups that serve only some schedds. */
  schedd?: string;
}

function load(options: CommonOptions): {
  config: FrontendConfig;
  policies: GroupPolicy[];
  snapshot: Snapshot;
} {
  const config = loadConfigOnly(options.config);
  let snapshot: Snapshot;
  try {
    snapshot = loadSnapshot(options.snapshot);
  } catch (err) {
    if (hasErrorCode(err, "snapshot-invalid")) throw new CliError(err.message);
    throw err;
  }
  let policies = groupPolicies(config);
  if (options.group !== undefined) {
    policies = policies.filter((p) => p.name === options.group);
    if (policies.length === 0) {
      throw new CliError(`${options.config}: no enabled group named "${options.group}"`);
    }
  }
  return { config, policies, snapshot };
}

function nowOf(snapshot: Snapshot): number {
  return snapshot.taken_at ?? Math.floor(Date.now() / 1000);
}

function planAction(options: CommonOptions): void {
  const { config, policies, snapshot } = load(options);
  const now = nowOf(snapshot);
  const plans = policies.map((p) => planCycle(p, snapshot, now));
  if (options.json) {
    const groups = plans.map((p, i) => ({
      ...p,
      attrs: policies[i]!.attrs,
      voScripts: voScriptLines(config, p.group),
    }));
    process.stdout.write(`${JSON.stringify({ groups }, null, 2)}\n`);
    return;
  }
  const text = plans.map((p, i) =>
    formatPlan(p, options.all, policies[i]!.attrs, voScriptLines(config, p.group)),
  );
  process.stdout.write(`${text.join("\n\n")}\n`);
}

function readJob(file: string): ClassAd {
  let text: string;
  try {
    text = readBoundedText(file, MAX_INPUT_FILE_BYTES);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    const trimmed = text.trim();
    // A job ad as JSON (attribute to expression text, the wire form) or as ClassAd text.
    if (trimmed.startsWith("{"))
      return ClassAd.fromJSON(JSON.parse(trimmed) as Record<string, string>);
    return ClassAd.parse(text);
  } catch (err) {
    if (hasErrorCode(err, "classad-syntax") || err instanceof SyntaxError) {
      throw new CliError(`${file}: not a job ad: ${err.message}`);
    }
    throw err;
  }
}

function explainAction(jobFile: string, options: CommonOptions): void {
  const job = readJob(jobFile);
  const { config, policies, snapshot } = load(options);
  const now = nowOf(snapshot);
  const results = policies.map((p) => explainJob(p, job, snapshot, now, options.schedd));
  if (options.json) {
    const groups = results.map((x, i) => ({
      ...x,
      attrs: policies[i]!.attrs,
      voScripts: voScriptLines(config, x.group),
    }));
    process.stdout.write(`${JSON.stringify({ groups }, null, 2)}\n`);
    return;
  }
  const text = results.map((x, i) =>
    formatExplanation(x, policies[i]!.attrs, voScriptLines(config, x.group)),
  );
  process.stdout.write(`${text.join("\n\n")}\n`);
}

function loadConfigOnly(file: string): FrontendConfig {
  return withCliErrorsSync("frontend", () => loadFrontendConfig(file));
}

/** `updraft frontend snapshot`: the live snapshot the daemon would decide on, as `plan` reads it. */
async function snapshotAction(options: { config: string; out?: string }): Promise<void> {
  const config = loadConfigOnly(options.config);
  // Log lines go to standard error so standard output holds only the snapshot.
  const log = createLogger({ name: "frontend", destination: process.stderr });
  const peers = withCliErrorsSync("frontend", () => connectPeers(config));
  try {
    const { snapshot } = await gatherSnapshot(config, peers, log, Math.floor(Date.now() / 1000));
    const text = `${JSON.stringify(snapshot, null, 2)}\n`;
    if (options.out !== undefined) writeFileSync(options.out, text);
    else process.stdout.write(text);
  } finally {
    await peers.close();
  }
}

interface StatusOptions extends ClientFlags {
  collector?: string[];
  frontend?: string;
  group?: string;
  json?: boolean;
}

/** Every ad of one type at one collector. */
async function adsAt(flags: ClientFlags, url: string | undefined, type: string) {
  const pool = await openPool(url === undefined ? flags : { ...flags, pool: url });
  try {
    return await pool.collector.query(
      { type, constraint: "", projection: [], limit: 0 },
      { deadlineMs: 60_000 },
    );
  } catch (err) {
    callError(pool.url, err);
  } finally {
    await pool.close();
  }
}

/**
 * `updraft frontend status`: per entry, what the frontends matched and requested and which
 * limit bound it, from the GlideResource and GlideClient ads they advertised.
 */
async function statusAction(o: StatusOptions, cmd: Command): Promise<void> {
  if (cmd.args.length > 0) throw new CliError(`unexpected argument '${cmd.args[0]}'`);
  const urls: (string | undefined)[] = o.collector?.length ? o.collector : [undefined];
  const resources: WireAd[] = [];
  const clients: WireAd[] = [];
  for (const url of urls) {
    resources.push(...(await adsAt(o, url, AD_TYPE.GlideResource)));
    clients.push(...(await adsAt(o, url, AD_TYPE.GlideClient)));
  }
  const rows = entryStatuses(newestByName(resources), newestByName(clients), {
    frontend: o.frontend,
    group: o.group,
  });
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ entries: rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatStatus(rows));
}

function createStatusSubcommand(): Command {
  const cmd = new HtcondorCommand("status")
    .description(
      "per entry, what the frontends matched and requested and the limit that bound it " +
        "(from their GlideResource and GlideClient ads at the collector)",
    )
    .option(
      "--collector <url>",
      "collector to read (repeat for several; default --pool, $UPDRAFT_POOL)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--frontend <name>", "only this frontend's ads")
    .option("--group <name>", "only this group")
    .option("--json", "print JSON (also -json)")
    .allowExcessArguments();
  addPoolOptions(cmd);
  cmd.action((o: StatusOptions, c: Command) => statusAction(o, c));
  return cmd;
}

export function createFrontendCommand(): Command {
  const frontend = new Command("frontend").description(
    "the VO frontend: the daemon (run), its status, a live snapshot, and plan and explain on a snapshot",
  );
  frontend.addCommand(
    new HtcondorCommand("plan")
      .description(
        "run one cycle's computation on a snapshot file and print the requests per entry",
      )
      .requiredOption("--config <file>", "frontend YAML configuration")
      .requiredOption("--snapshot <file>", "snapshot JSON (see src/frontend/README.md)")
      .option("--group <name>", "only this group")
      .option("--all", "also list entries with no jobs, pilots or request")
      .option("--json", "print JSON (also -json)")
      .action((options: CommonOptions) => planAction(options)),
  );
  frontend.addCommand(
    new HtcondorCommand("explain")
      .description("which entries one job matches and, for the others, which clause fails")
      .argument("<job-ad>", "job ad file (ClassAd text or JSON attribute to expression text)")
      .requiredOption("--config <file>", "frontend YAML configuration")
      .requiredOption("--snapshot <file>", "snapshot JSON with the GlideFactory ads")
      .option("--group <name>", "only this group")
      .option(
        "--schedd <url>",
        "the schedd holding the job, for groups that serve only some schedds",
      )
      .option("--json", "print JSON (also -json)")
      .action((jobFile: string, options: CommonOptions) => explainAction(jobFile, options)),
  );
  addRunCommand(frontend, {
    name: "frontend",
    description: "run the frontend daemon: a cycle every cycle_s seconds",
    configHelp: "frontend YAML configuration (with a tls section)",
    run: runFrontend,
  });
  frontend
    .command("snapshot")
    .description("gather the live snapshot from the collector and schedds (the format plan reads)")
    .requiredOption("--config <file>", "frontend YAML configuration (with a tls section)")
    .option("--out <file>", "write it here instead of standard output")
    .action((options: { config: string; out?: string }) => snapshotAction(options));
  frontend.addCommand(createStatusSubcommand());
  return frontend;
}
