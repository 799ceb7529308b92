/** `updraft factory logs` as text: one block per pilot, a header line, then its output. */
import type { PilotLog } from "./pilot-logs.js";

export function formatPilotLogs(logs: readonly PilotLog[]): string {
  if (logs.length === 0) return "no kept pilot logs match\n";
  return logs.map(formatOne).join("\n");
}

function formatOne(l: PilotLog): string {
  const verdict = l.failed
    ? `FAILED${l.failureClass ? ` ${l.failureClass}` : ""}${l.exitReason ? ` (${l.exitReason})` : ""}`
    : `ok${l.exitReason ? ` (${l.exitReason})` : ""}`;
  const header =
    `=== pilot ${l.pilotId}  entry ${l.entry}  client ${l.client}  ` +
    `finished ${new Date(l.finishedAt).toISOString()}  exit ${l.exitCode ?? "?"}  ${verdict}`;
  const section = (name: string, text: string) =>
    `--- ${name} (${l.dir}/${name})\n${text === "" || text.endsWith("\n") ? text : `${text}\n`}`;
  return `${header}\n${section("stdout", l.stdout)}${section("stderr", l.stderr)}`;
}
