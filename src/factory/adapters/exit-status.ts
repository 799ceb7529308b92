import type { PilotStatus } from "./types.js";

/** sh's exit statuses for a command it could not run at all (not executable, not found). */
const CANNOT_EXECUTE = new Set([126, 127]);

/**
 * A pilot whose command ended with `code`: Finished, or, when sh could not run the pilot command
 * at all, a hold that no release would help. `where` names the place in the reason (" on the CE").
 */
export function pilotEnded(handle: string, code: number, where = ""): PilotStatus {
  if (CANNOT_EXECUTE.has(code)) {
    return {
      handle,
      state: "Held",
      holdReason: `the pilot command could not be executed${where} (exit status ${code})`,
      holdRecoverable: false,
      exitCode: code,
    };
  }
  return { handle, state: "Finished", exitCode: code };
}
