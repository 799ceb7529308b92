/**
 * Several collectors as one, for a highly available pool where each collector holds every ad
 * (HTCondor's COLLECTOR_HOST list): writes go to all of them, reads to one. Advertise and
 * invalidate succeed when any collector took them, answering as soon as the first one did (a dead
 * collector costs the caller nothing; its call ends at its deadline in the background). A query
 * or watch asks the collector that last answered and fails over to the next on error, so an ad
 * held by two collectors is read once and nothing is counted twice.
 */
import type { CallOptions, RpcClient } from "../wire/index.js";
import type { InvalidateOutcome } from "./collector.js";
import { createCollectorClient, type CollectorClient, type WireAttrs } from "./client.js";
import type { AdOutcomes, AdQuery } from "./service.js";

export interface NamedCollector {
  url: string;
  client: CollectorClient;
  /** Whether its connection is up now; reads go to collectors that are up first. */
  isUp?: () => boolean;
}

/**
 * A read's deadline at one collector when the caller gives none: a call to a collector that is
 * down waits for its reconnection, and a stream has no deadline of its own.
 */
export const READ_ATTEMPT_DEADLINE_MS = 30_000;

export interface CollectorSetOptions {
  /** Told when a collector fails a call (the set goes on with the others). */
  onFailure?: (url: string, err: unknown) => void;
}

export type CollectorSet = CollectorClient & {
  /** The URL reads go to now. */
  current(): string;
};

/** A set over one RPC connection per URL (`connect` makes them); close() closes them all. */
export function connectCollectorSet(
  urls: readonly string[],
  connect: (url: string) => RpcClient,
  opts: CollectorSetOptions = {},
): { collector: CollectorSet; close(): Promise<void> } {
  const rpcs = urls.map((url) => ({ url, rpc: connect(url) }));
  const collector = createCollectorSet(
    rpcs.map(({ url, rpc }) => ({
      url,
      client: createCollectorClient(rpc),
      isUp: () => rpc.status.type === "connected",
    })),
    opts,
  );
  return {
    collector,
    async close() {
      await Promise.all(rpcs.map(({ rpc }) => rpc.close()));
    },
  };
}

/** The first result any of `calls` resolves with; rejects with the first error when all fail. */
function firstSuccess<T>(calls: Promise<T>[]): Promise<T> {
  return new Promise((resolve, reject) => {
    let failed = 0;
    let firstErr: unknown;
    for (const call of calls) {
      call.then(resolve, (err: unknown) => {
        if (failed === 0) firstErr = err;
        if (++failed === calls.length) reject(firstErr);
      });
    }
  });
}

export function createCollectorSet(
  collectors: readonly NamedCollector[],
  opts: CollectorSetOptions = {},
): CollectorSet {
  if (collectors.length === 0) throw new Error("a collector set needs at least one collector");
  // The collector reads go to: the last one that answered, so a dead one costs one deadline.
  let current = 0;
  const noted = <T>(c: NamedCollector, p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      opts.onFailure?.(c.url, err);
      throw err;
    });

  /**
   * The order reads try the collectors in: the current one, then the next ones, those whose
   * connection is up before those that are down (a down one costs a deadline to find out).
   */
  function readOrder(): number[] {
    const ring = collectors.map((_, i) => (current + i) % collectors.length);
    const up = (i: number) => collectors[i]!.isUp?.() ?? true;
    return [...ring.filter(up), ...ring.filter((i) => !up(i))];
  }

  /** Run `read` on each collector in turn until one answers. */
  async function failover<T>(read: (c: CollectorClient) => Promise<T>): Promise<T> {
    let lastErr: unknown;
    for (const at of readOrder()) {
      const c = collectors[at]!;
      try {
        const out = await noted(c, read(c.client));
        current = at;
        return out;
      } catch (err) {
        lastErr = err;
      }
    }
    throw lastErr;
  }

  return {
    current: () => collectors[current]!.url,
    advertise(ads: WireAttrs[], type?: string, o?: CallOptions): Promise<AdOutcomes["outcomes"]> {
      return firstSuccess(collectors.map((c) => noted(c, c.client.advertise(ads, type, o))));
    },
    invalidate(sel, o): Promise<InvalidateOutcome> {
      return firstSuccess(collectors.map((c) => noted(c, c.client.invalidate(sel, o))));
    },
    query(q: AdQuery, o?: CallOptions) {
      const bounded = { ...o, deadlineMs: o?.deadlineMs ?? READ_ATTEMPT_DEADLINE_MS };
      return failover((c) => c.query(q, bounded));
    },
    watch(q: AdQuery, o?: CallOptions) {
      return failoverWatch(collectors, () => readOrder()[0]!, q, o, opts.onFailure);
    },
  };
}

/**
 * A watch that moves to the next collector when its stream fails. The new stream starts with the
 * ads present there, so a watcher sees them again as `present` and then goes on as before; it
 * ends when a stream ends on its own or every collector failed in a row.
 */
async function* failoverWatch(
  collectors: readonly NamedCollector[],
  start: () => number,
  q: AdQuery,
  o: CallOptions | undefined,
  onFailure: CollectorSetOptions["onFailure"],
): AsyncGenerator<{ kind: string; ad: WireAttrs | null }> {
  let at = start();
  let failedInRow = 0;
  let lastErr: unknown;
  while (failedInRow < collectors.length) {
    const c = collectors[at]!;
    try {
      for await (const change of c.client.watch(q, o)) {
        failedInRow = 0;
        yield change;
      }
      return;
    } catch (err) {
      onFailure?.(c.url, err);
      lastErr = err;
      failedInRow++;
      at = (at + 1) % collectors.length;
    }
  }
  throw lastErr;
}
