/**
 * `updraft up --config-dir DIR`: the daemons a config folder describes, in one process tree,
 * until Ctrl-C. `updraft demo`: the demo pool with a sample workload and a live view (what
 * `npm start` runs).
 */
import { Command } from "commander";
import { basename, join, resolve } from "node:path";
import { runDemo } from "../pool/demo.js";
import { hasErrorCode } from "../common/errors.js";
import { up } from "../pool/up.js";
import { positiveInt } from "./ca-command.js";
import { CliError } from "./errors.js";

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((res) => {
    const on = () => {
      process.off("SIGINT", on);
      process.off("SIGTERM", on);
      res();
    };
    process.on("SIGINT", on);
    process.on("SIGTERM", on);
  });
}

const say = (line: string) => process.stdout.write(`${line}\n`);

export function createUpCommand(): Command {
  return new Command("up")
    .description(
      "start the daemons a config folder describes (collector, schedd, factory, frontend)",
    )
    .requiredOption(
      "--config-dir <dir>",
      "folder with collector.yaml, schedd.yaml, factory.yaml, frontend.yaml",
    )
    .option(
      "--state <dir>",
      "state folder: PKI, databases, logs, env.sh (default .updraft/<config folder name>)",
    )
    .option(
      "--no-dev-pki",
      "do not make a development PKI in <state>/pki (the configs name their own)",
    )
    .action(async (o: { configDir: string; state?: string; devPki: boolean }) => {
      const stateDir = resolve(o.state ?? join(".updraft", basename(resolve(o.configDir))));
      const stopped = untilSignal();
      const pool = await up({ configDir: o.configDir, stateDir, devPki: o.devPki, say }).catch(
        userError,
      );
      say(`started ${pool.daemons.join(", ")}; logs in ${join(stateDir, "log")}`);
      say(`pool ${pool.userEnv.UPDRAFT_POOL}  schedd ${pool.scheddUrl}`);
      say(`in another shell: . ${pool.envFile}`);
      say("Ctrl-C stops the pool");
      await stopped;
      say("stopping...");
      await pool.stop();
      say("stopped");
    });
}

/** A pool that cannot start is the user's to fix: a plain message, no stack. */
function userError(err: unknown): never {
  if (hasErrorCode(err, "pool-start")) throw new CliError(err.message);
  throw err;
}

export function createDemoCommand(): Command {
  return new Command("demo")
    .description("run the demo pool (config/demo) with a sample workload and a live view")
    .option("--jobs <n>", "sample jobs to submit", positiveInt("--jobs"), 300)
    .option("--sleep <s>", "seconds each sample job runs", (v) => Number(v), 1)
    .option("--until-done", "stop once every job has completed, and exit 0 if none failed")
    .option("--json", "print only a final summary as one JSON line")
    .option("--state <dir>", "state folder (default .updraft/demo)", ".updraft/demo")
    .action(
      async (o: {
        jobs: number;
        sleep: number;
        untilDone?: boolean;
        json?: boolean;
        state: string;
      }) => {
        if (!Number.isFinite(o.sleep) || o.sleep < 0)
          throw new CliError("--sleep must be a number of seconds");
        const summary = await runDemo({
          stateDir: resolve(o.state),
          jobs: o.jobs,
          sleepS: o.sleep,
          untilDone: o.untilDone ?? false,
          json: o.json ?? false,
          out: process.stdout,
          stopRequested: untilSignal(),
        }).catch(userError);
        if (o.json) process.stdout.write(JSON.stringify(summary) + "\n");
        else {
          say(
            `${summary.completed} of ${summary.jobs} jobs completed, ${summary.failed} failed, ` +
              `${summary.pilots_used} pilots, ${summary.wall_s} s (${summary.jobs_per_s} jobs/s)`,
          );
        }
        if (o.untilDone && (summary.failed > 0 || summary.completed < summary.jobs))
          process.exitCode = 1;
      },
    );
}
