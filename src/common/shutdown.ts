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
}
