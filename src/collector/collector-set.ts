/**
 * Several collectors as one, for a highly available pool where each collector holds every ad
 * (HTCondor's COLLECTOR_HOST list): writes go to all of them, reads to one. Advertise and
 * invalidate answer once every collector whose connection was up has answered and one of them
 * took the call, or WRITE_GRACE_MS after the first took it (a collector that is down, or up but
 * hung, costs the caller at most that; its call ends at its deadline in the background). Their outcomes merge per ad (see mergeAdOutcomes). A query or watch asks
 * the collector that last answered and fails over to the next on error, so an ad held by two
 * collectors is read once and nothing is counted twice.
 */
import type { CallOptions, RpcClient } from "../wire/index.js";
import { isKnownDown } from "../wire/status.js";
import type { AdOutcome, InvalidateOutcome } from "./collector.js";
import { createCollectorClient, type CollectorClient, type WireAttrs } from "./client.js";
import type { AdQuery } from "./codecs.js";

export interface NamedCollector {
  url: string;
  client: CollectorClient;
  /**
   * Whether its connection is up now: reads go to collectors that are up first, and writes wait
   * only for those that are up. Without it a collector is never waited for, since a call to one
   * that is down would hold every write until its deadline.
   */
  isUp?: () => boolean;
  /** Whether it is known to be down (see isKnownDown): a write sent now would wait its deadline. */
  isDown?: () => boolean;
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
  /**
   * False when every collector is known to be down, so a caller that must not wait (a pilot
   * leaving) can skip the write instead of holding it until its deadline.
   */
  reachable(): boolean;
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
      isDown: () => isKnownDown(rpc.status),
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

/**
 * How much longer a write that one collector has taken waits for the others it awaits. A
 * collector that is up but hung (stopped, swapping) would otherwise hold every write of the set
 * for the call's whole deadline; one that answers within this is merged as before, a later
 * answer is dropped (its call goes on in the background and a failure is still reported).
 */
export const WRITE_GRACE_MS = 3_000;

/**
 * The answers of the collectors `calls` went to, once every call in `awaited` has settled and one
 * call has succeeded (waiting on for the others while none has), or `graceMs` after the first
 * success; rejects with the first error when every call failed. Calls not awaited that answered
 * by then are included too.
 */
export function settledAnswers<T>(
  calls: readonly Promise<T>[],
  awaited: readonly boolean[],
  graceMs = WRITE_GRACE_MS,
): Promise<{ at: number; value: T }[]> {
  return new Promise((resolve, reject) => {
    const answers: { at: number; value: T }[] = [];
    let pending = awaited.filter(Boolean).length;
    let failed = 0;
    let firstErr: unknown;
    let grace: NodeJS.Timeout | undefined;
    const answer = () => {
      clearTimeout(grace);
      resolve([...answers].sort((x, y) => x.at - y.at));
    };
    const check = () => {
      if (answers.length > 0 && pending <= 0) answer();
      else if (failed === calls.length) reject(firstErr);
      else if (answers.length > 0 && grace === undefined) grace = setTimeout(answer, graceMs);
    };
    calls.forEach((call, at) => {
      const settled = () => {
        if (awaited[at]) pending--;
      };
      call.then(
        (value) => {
          answers.push({ at, value });
          settled();
          check();
        },
        (err: unknown) => {
          if (failed === 0) firstErr = err;
          failed++;
          settled();
          check();
        },
      );
    });
  });
}

/**
 * One outcome per ad from the outcomes of the collectors that answered (`answers[i]` in the order
 * of `urls[i]`). An ad is ok when any collector took it: the pool holds it and reads fail over to
 * where it is. A collector's refusal is never dropped: when others took the ad, `ok` stays true
 * and `code` and `message` name the collector that refused and why, so the caller can warn about
 * collectors that disagree; when all refused, the outcome is the first refusal, naming each
 * collector's reason when they differ.
 */
export function mergeAdOutcomes(
  urls: readonly string[],
  answers: readonly AdOutcome[][],
): AdOutcome[] {
  const n = Math.max(0, ...answers.map((a) => a.length));
  const merged: AdOutcome[] = [];
  for (let i = 0; i < n; i++) {
    const per = answers.map((a, at) => ({ url: urls[at]!, o: a[i] }));
    const took = per.filter((p) => p.o?.ok);
    const refused = per.filter((p) => p.o !== undefined && !p.o.ok);
    const why = refused.map((p) => `refused at ${p.url}: ${p.o!.message}`).join("; ");
    if (took.length > 0) {
      const ok = took[0]!.o!;
      merged.push(
        refused.length === 0
          ? ok
          : {
              ...ok,
              code: refused[0]!.o!.code,
              message: `taken at ${took.map((p) => p.url).join(", ")}; ${why}`,
              attribute: refused[0]!.o!.attribute,
            },
      );
    } else if (refused.length > 0) {
      const first = refused[0]!.o!;
      const alike = refused.every((p) => p.o!.message === first.message);
      merged.push({ ...first, message: alike ? first.message : why });
    }
  }
  return merged;
}

/**
 * Invalidations merged: each collector holds a copy of the same ads, so the most any removed
 * (or refused) is the count for the pool; the first message is kept, naming its collector.
 */
export function mergeInvalidateOutcomes(
  urls: readonly string[],
  answers: readonly InvalidateOutcome[],
): InvalidateOutcome {
  const withMessage = answers.findIndex((a) => a.message !== "");
  return {
    removed: Math.max(0, ...answers.map((a) => a.removed)),
    refused: Math.max(0, ...answers.map((a) => a.refused)),
    message:
      withMessage < 0
        ? ""
        : answers.length > 1
          ? `${urls[withMessage]}: ${answers[withMessage]!.message}`
          : answers[withMessage]!.message,
  };
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

  /** Send a write to every collector; the answers of those that were up, and any others by then. */
  function toAll<T>(write: (c: CollectorClient) => Promise<T>) {
    const awaited = collectors.map((c) => c.isUp?.() ?? false);
    return settledAnswers(
      collectors.map((c) => noted(c, write(c.client))),
      awaited,
    );
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
    reachable: () => collectors.some((c) => !(c.isDown?.() ?? false)),
    async advertise(ads: WireAttrs[], type?: string, o?: CallOptions): Promise<AdOutcome[]> {
      const answers = await toAll((c) => c.advertise(ads, type, o));
      return mergeAdOutcomes(
        answers.map((a) => collectors[a.at]!.url),
        answers.map((a) => a.value),
      );
    },
    async invalidate(sel, o): Promise<InvalidateOutcome> {
      const answers = await toAll((c) => c.invalidate(sel, o));
      return mergeInvalidateOutcomes(
        answers.map((a) => collectors[a.at]!.url),
        answers.map((a) => a.value),
      );
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
