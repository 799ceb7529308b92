/**
 * A watch: the ads of a type that satisfy a constraint, then every change to that set. The
 * initial set and the subscription are taken in one synchronous step, so no change can fall
 * between them. Changes queue up in memory for a slow reader up to a bound; past it the watch
 * fails (the reader re-watches and gets a fresh initial set) rather than grow without end.
 */
import type { ClassAd } from "../classad/index.js";
import type { AdStore, StoreEvent } from "./store.js";
import { UpdraftError } from "../common/errors.js";

export type ChangeKind = "present" | "synced" | "upserted" | "invalidated" | "expired" | "departed";

export interface AdChangeItem {
  kind: ChangeKind;
  /** The ad concerned (for removals, the last one held); null for `synced`. */
  ad: ClassAd | null;
}

export class WatchFellBehind extends UpdraftError {
  readonly code = "watch-fell-behind";
  constructor(pending: number) {
    super(`watch fell behind: ${pending} changes not yet read; watch again`);
    this.name = "WatchFellBehind";
  }
}

export interface WatchOptions {
  /** Ad type, case-insensitive; empty for every type. */
  type: string;
  test: (ad: ClassAd) => boolean;
  /** Most changes queued beyond the initial set before the watch fails. */
  maxQueued: number;
}

export class Watch {
  private queue: AdChangeItem[] = [];
  private head = 0;
  private wake: (() => void) | null = null;
  private failure: Error | null = null;
  private closed = false;
  /** Keys of ads this watcher was told are in its set. */
  private readonly members = new Set<string>();
  private readonly limit: number;
  private readonly unsubscribe: () => void;
  private readonly type: string;

  constructor(
    private readonly store: AdStore<ClassAd>,
    private readonly opts: WatchOptions,
  ) {
    this.type = opts.type.toLowerCase();
    for (const s of store.select(opts.type === "" ? undefined : opts.type, (x) =>
      opts.test(x.ad),
    )) {
      this.queue.push({ kind: "present", ad: s.ad });
      this.members.add(store.keyOf(s));
    }
    this.queue.push({ kind: "synced", ad: null });
    this.limit = this.queue.length + opts.maxQueued;
    this.unsubscribe = store.subscribe((e) => this.onEvent(e));
  }

  private onEvent(e: StoreEvent<ClassAd>): void {
    const s = e.ad;
    if (this.type !== "" && s.type.toLowerCase() !== this.type) return;
    const key = this.store.keyOf(s);
    if (e.kind === "upserted") {
      if (this.opts.test(s.ad)) {
        this.members.add(key);
        this.push({ kind: "upserted", ad: s.ad });
      } else if (this.members.delete(key)) {
        this.push({ kind: "departed", ad: s.ad });
      }
    } else if (this.members.delete(key)) {
      this.push({ kind: e.kind, ad: s.ad });
    }
  }

  private push(item: AdChangeItem): void {
    if (this.failure || this.closed) return;
    this.queue.push(item);
    const pending = this.queue.length - this.head;
    if (pending > this.limit) {
      this.failure = new WatchFellBehind(pending);
      this.queue = [];
      this.head = 0;
      this.unsubscribe();
    }
    this.wake?.();
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Items in order until the signal aborts or close() is called; throws WatchFellBehind. */
  async *changes(signal: AbortSignal): AsyncGenerator<AdChangeItem> {
    const onAbort = () => this.wake?.();
    signal.addEventListener("abort", onAbort);
    try {
      for (;;) {
        while (this.head < this.queue.length) {
          const item = this.queue[this.head]!;
          this.queue[this.head++] = PLACEHOLDER;
          if (this.head > 1024 && this.head * 2 > this.queue.length) {
            this.queue = this.queue.slice(this.head);
            this.head = 0;
          }
          yield item;
        }
        if (this.failure) throw this.failure;
        if (signal.aborted || this.closed) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe();
    this.wake?.();
  }
}

// Read slots are overwritten so delivered ads can be collected before the queue is compacted.
const PLACEHOLDER: AdChangeItem = { kind: "synced", ad: null };
