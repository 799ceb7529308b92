/**
 * One log line per refusal cause and peer at most every few seconds, so a peer that hammers a
 * listener with bad credentials or too many connections cannot flood the log, nor hide another
 * peer refused for the same cause; the next line says how many refusals went unlogged in between.
 * The peer is the authenticated identity when there is one, else the remote address (without its
 * port). Past a few peers per cause within one interval, the rest share one allowance, so a
 * flood from many addresses still writes a bounded number of lines.
 */
import type { Logger } from "pino";

export const REFUSAL_LOG_INTERVAL_MS = 10_000;
/** Peers per cause with an allowance of their own; the rest share one. */
export const REFUSAL_LOG_PEERS_PER_CAUSE = 16;
const OTHERS = "\0others";

export type RefusalLog = (cause: string, fields: Record<string, unknown>, msg: string) => void;

interface Allowance {
  at: number;
  suppressed: number;
}

export function createRefusalLog(
  log: Logger,
  intervalMs = REFUSAL_LOG_INTERVAL_MS,
  now: () => number = Date.now,
): RefusalLog {
  // Causes are stable codes, so the outer map stays small; the inner one is bounded per cause.
  const byCause = new Map<string, Map<string, Allowance>>();
  return (cause, fields, msg) => {
    const t = now();
    let peers = byCause.get(cause);
    if (!peers) byCause.set(cause, (peers = new Map()));
    let peer = peerOf(fields);
    if (!peers.has(peer) && peers.size >= REFUSAL_LOG_PEERS_PER_CAUSE) {
      for (const [p, a] of peers) if (p !== OTHERS && t - a.at >= intervalMs) peers.delete(p);
      if (peers.size >= REFUSAL_LOG_PEERS_PER_CAUSE) peer = OTHERS;
    }
    const seen = peers.get(peer);
    if (seen && t - seen.at < intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    peers.set(peer, { at: t, suppressed: 0 });
    const extra = {
      ...(suppressed > 0 ? { suppressed } : {}),
      ...(peer === OTHERS ? { manyPeers: true } : {}),
    };
    log.warn({ cause, ...fields, ...extra }, msg);
  };
}

/** Who was refused: the identity when known, else the remote address without its port. */
function peerOf(fields: Record<string, unknown>): string {
  if (typeof fields.identity === "string" && fields.identity !== "") return fields.identity;
  if (typeof fields.remote === "string") return fields.remote.replace(/:\d+$/, "");
  return "";
}
