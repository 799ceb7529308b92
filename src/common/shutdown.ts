import type { Logger } from "./logger.js";

/**
 * Stop a daemon cleanly on SIGTERM or SIGINT: log once, run `stop`, exit 0 when it finished and 1
 * when it failed. A second signal while stopping is ignored rather than cutting the stop short.
 */
export function stopOnSignals(
  logger: Logger,
  stop: () => Promise<unknown>,
  message = "shutting down",
): void {
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, message);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
  watchSupervisor();
}

/**
 * A daemon started by `updraft up` (which sets UPDRAFT_SUPERVISOR_PID) stops itself when that
 * process is gone without having stopped it (killed, say), as HTCondor's daemons do when their
 * condor_master dies: otherwise it would hold the pool's ports with nobody to stop it.
 */
export function watchSupervisor(env: NodeJS.ProcessEnv = process.env, intervalMs = 2000): void {
  const supervisor = Number(env.UPDRAFT_SUPERVISOR_PID);
  if (!Number.isInteger(supervisor) || supervisor <= 1) return;
  const timer = setInterval(() => {
    if (process.ppid === supervisor) return;
    clearInterval(timer);
    process.kill(process.pid, "SIGTERM");
  }, intervalMs);
  timer.unref();
}
