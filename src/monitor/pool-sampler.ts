/**
 * The collector's sampling of its pool: every `sample_s` the live view is built from the ads it
 * holds and added to the history; once an hour old buckets are pruned. A failure to write is
 * logged and the next pass tries again: history is never worth stopping the collector for.
 */
import type { Logger } from "pino";
import type { HistoryStore } from "./history-store.js";
import { type CounterMemory, poolSamples } from "./pool-samples.js";
import { type AdsOfType, poolView } from "./pool-view.js";

const PRUNE_EVERY_MS = 3_600_000;

export type PoolSampler = { sample(nowMs: number): number };

export function createPoolSampler(
  adsOf: AdsOfType,
  history: HistoryStore,
  log: Logger,
): PoolSampler {
  const counters: CounterMemory = new Map();
  let lastPrune = -Infinity;
  return {
    sample(nowMs) {
      try {
        const samples = poolSamples(poolView(adsOf, nowMs), counters);
        history.record(nowMs, samples);
        if (nowMs - lastPrune >= PRUNE_EVERY_MS) {
          history.prune(nowMs);
          lastPrune = nowMs;
        }
        return samples.length;
      } catch (err) {
        log.error({ err }, "pool history not written");
        return 0;
      }
    },
  };
}
