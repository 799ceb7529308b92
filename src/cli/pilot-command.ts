/**
 * `updraft pilot`: `validate` checks this node as a pilot would and prints the slot ad it would
 * advertise; `run` is what the bootstrap script starts on a worker node.
 */
import { Command, InvalidArgumentError } from "commander";
import { objectJson } from "../classad/index.js";
import { createLogger } from "../common/logger.js";
import { planLifetime } from "../pilot/lifetime.js";
import {
  initialSlotAd,
  newPilotId,
  runPilotProcess,
  credentialEndMs,
} from "../pilot/pilot-main.js";
import { holdCredential } from "../pilot/credential-hold.js";
import { resolveSettings, type PilotOptions, type PilotSettings } from "../pilot/settings.js";
import { createNodeView, runValidation } from "../pilot/validate/index.js";
import { EXIT_CODES } from "../pilot/failure.js";
import { CliError } from "./errors.js";
import { GLIDEIN_PARAM } from "../ads/names.js";

const collect = (v: string, prev: string[] = []) => [...prev, v];
const seconds = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${what} must be >= 0`);
  return n;
};

function withPilotOptions(cmd: Command): Command {
  return cmd
    .option("--work-dir <dir>", "work directory (default: current directory)")
    .option("--pilot-id <id>", "pilot id [$UPDRAFT_PILOT_ID]")
    .option("--collector <url>", "collector URL [$UPDRAFT_COLLECTOR]")
    .option("--schedd <url>", "schedd URL, repeatable [$UPDRAFT_SCHEDDS]", collect)
    .option("--credential <file>", "pilot credential [$UPDRAFT_PILOT_CREDENTIAL]")
    .option("--trust-dir <dir>", "CA certificates to trust [$X509_CERT_DIR]")
    .option("--entry <name>", "entry name [$GLIDEIN_Entry_Name]")
    .option("--factory <name>", "factory name [$GLIDEIN_Factory]")
    .option("--frontend <name>", "frontend name [$GLIDEIN_Frontend]")
    .option("--site <name>", "site name [$GLIDEIN_Site]")
    .option(
      "--attr <NAME=VALUE>",
      "attribute to publish, repeatable [$UPDRAFT_PILOT_ATTRS]",
      collect,
    )
    .option("--start <expr>", "START expression [$GLIDEIN_Start]")
    .option("--max-walltime <s>", GLIDEIN_PARAM.MaxWalltime, seconds("--max-walltime"))
    .option("--retire-time <s>", GLIDEIN_PARAM.RetireTime, seconds("--retire-time"))
    .option("--retire-spread <s>", "GLIDEIN_Retire_Time_Spread", seconds("--retire-spread"))
    .option("--max-idle <s>", "GLIDEIN_Max_Idle (default 1200)", seconds("--max-idle"))
    .option("--max-tail <s>", "GLIDEIN_Max_Tail", seconds("--max-tail"))
    .option("--script <file>", "site validation script, repeatable", collect)
    .option("--vo-script <file>", "VO validation script, repeatable", collect)
    .option("--script-timeout <s>", "timeout per script (default 60)", seconds("--script-timeout"))
    .option("--min-disk-gb <n>", "MIN_DISK_GBS", seconds("--min-disk-gb"))
    .option("--min-memory-mb <n>", "memory needed at least", seconds("--min-memory-mb"))
    .option("--cvmfs <repo>", "CVMFS repository to look for, repeatable", collect)
    .option("--cvmfs-required", "fail when a listed CVMFS repository is missing")
    .option("--require-singularity", "fail without apptainer/singularity")
    .option(
      "--job-isolation <mode>",
      "namespaces for jobs: auto (when the kernel allows), none, required [$UPDRAFT_JOB_ISOLATION]",
    )
    .option("--hide-dir <dir>", "directory jobs must not see, repeatable", collect)
    .option("--job-wrapper <file>", "every job starts through it [$UPDRAFT_JOB_WRAPPER]")
    .option(
      "--job-wrapper-sha256 <hex>",
      "the wrapper's SHA-256, checked at start [$UPDRAFT_JOB_WRAPPER_SHA256]",
    )
    .option("--pre-job <file>", "script run before each job [$UPDRAFT_PRE_JOB]")
    .option(
      "--pre-job-sha256 <hex>",
      "the pre-job script's SHA-256, checked at start [$UPDRAFT_PRE_JOB_SHA256]",
    )
    .option("--post-job <file>", "script run after each job [$UPDRAFT_POST_JOB]")
    .option(
      "--post-job-sha256 <hex>",
      "the post-job script's SHA-256, checked at start [$UPDRAFT_POST_JOB_SHA256]",
    )
    .option(
      "--hook-timeout <s>",
      "time limit of each pre/post-job script (default 300) [$UPDRAFT_JOB_HOOK_TIMEOUT_S]",
      seconds("--hook-timeout"),
    )
    .option("--vo-bundle <url>", "the VO's script bundle, fetched at start [$UPDRAFT_VO_BUNDLE]")
    .option(
      "--vo-bundle-sha256 <hex>",
      "the VO bundle manifest's SHA-256 [$UPDRAFT_VO_BUNDLE_SHA256]",
    )
    .option(
      "--failure-linger <s>",
      "after failed validation, keep the batch slot this long (default 0) [$UPDRAFT_FAILURE_LINGER_S]",
      seconds("--failure-linger"),
    )
    .option(
      "--blackhole-numjobs <n>",
      "jobs ended within 20 min before the black-hole rate is judged [$GLIDEIN_BLACKHOLE_NUMJOBS]",
      seconds("--blackhole-numjobs"),
    )
    .option(
      "--blackhole-rate <jobs/s>",
      "stop taking jobs when they end faster than this on average; 0 = off [$GLIDEIN_BLACKHOLE_RATE]",
      seconds("--blackhole-rate"),
    );
}

function settingsFrom(o: PilotOptions): PilotSettings {
  const r = resolveSettings(o, process.env, newPilotId);
  if (!r.ok) throw new CliError(r.problems.join("; "), EXIT_CODES.Config);
  return r.settings;
}

export function createPilotCommand(): Command {
  const pilot = new Command("pilot").description("pilot: node validation and the pilot itself");

  withPilotOptions(pilot.command("validate"))
    .description("check this node as a pilot would; connects nowhere unless URLs are given")
    .option("--json", "print JSON instead of text")
    .action(async (o: PilotOptions & { json?: boolean }) => {
      const s = settingsFrom(o);
      const view = createNodeView({ paths: { workDir: s.workDir } });
      const now = Date.now();
      const v = await runValidation(view, s.validation, new Date(now));
      const plan = planLifetime(s.lifetime, now, Math.random, credentialEndMs(v));
      const ad = v.ok ? initialSlotAd(s, v, view.host, plan, now) : undefined;
      if (o.json) {
        // The slot ad's values typed as condor_status -json writes them.
        const head = JSON.stringify({ ok: v.ok, failure: v.failure, checks: v.checks }, null, 2);
        const slotAd =
          ad === undefined ? "" : `,\n  "slotAd": ${objectJson(ad.attributeExprs(), "  ")}`;
        process.stdout.write(`${head.slice(0, -2)}${slotAd}\n}\n`);
      } else {
        for (const c of v.checks) {
          const what = c.ok ? "" : ` ${c.failure!.class}: ${c.failure!.message}`;
          process.stdout.write(`${c.ok ? "[ OK ]" : "[FAIL]"} ${c.name}${what}\n`);
        }
        if (ad) process.stdout.write(`\n${ad.toString("old")}\n`);
        else process.stdout.write(`\nnode FAILED validation: ${v.failure?.class}\n`);
      }
      if (v.failure) process.exitCode = EXIT_CODES[v.failure.class];
    });

  withPilotOptions(pilot.command("run"))
    .description("run a pilot on this node (what the bootstrap script starts)")
    .option(
      "--report <file>",
      "where to write the JSON report (default WORK_DIR/pilot-report.json)",
    )
    .option(
      "--remove-credential-file",
      "remove the credential file once read: it is this pilot's own copy (the bootstrap's way)",
    )
    .action(async (o: PilotOptions & { removeCredentialFile?: boolean }) => {
      const held = holdCredential(settingsFrom(o), {
        removeFile: o.removeCredentialFile === true,
        env: process.env,
      });
      const s = held.settings;
      const terminate = new AbortController();
      // The batch system's SIGTERM means the same as reaching the hard deadline.
      const onTerm = () => terminate.abort();
      process.once("SIGTERM", onTerm);
      process.once("SIGINT", onTerm);
      const log = createLogger({ name: "pilot", destination: process.stderr });
      if (held.removeError) {
        log.warn(
          { file: s.credentialFile, error: held.removeError },
          "cannot remove the credential file: jobs on this node may read it",
        );
      }
      try {
        process.exitCode = await runPilotProcess(s, {
          view: createNodeView({ paths: { workDir: s.workDir } }),
          write: (t) => process.stdout.write(t),
          terminate: terminate.signal,
          log,
        });
      } finally {
        process.off("SIGTERM", onTerm);
        process.off("SIGINT", onTerm);
      }
    });
  return pilot;
}
