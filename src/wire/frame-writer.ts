/**
 * Coalescing writer: frames queued during one turn of the event loop leave as one WebSocket
 * message, so over TLS many small replies share one record (and one syscall). The flush runs
 * from setImmediate, after the I/O callbacks and promise jobs of the current turn, so that
 * handler replies resolved in the same turn join the batch.
 */
import { framedSize, joinFrames } from "./framing.js";

export type MessageSink = (message: Buffer) => void;

export class FrameWriter {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private scheduled: NodeJS.Immediate | undefined;
  private closed = false;

  constructor(
    private readonly sink: MessageSink,
    /** Split batches above this many bytes so a message stays under the peer's limit. */
    private readonly maxMessageBytes: number,
  ) {}

  /** Bytes queued and not yet handed to the socket. */
  get pendingBytes(): number {
    return this.queuedBytes;
  }

  write(frame: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(frame);
    this.queuedBytes += frame.length + 5;
    this.scheduled ??= setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const frames = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.closed || frames.length === 0) return;
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < frames.length; i++) {
      const size = framedSize([frames[i]!]);
      if (i > start && bytes + size > this.maxMessageBytes) {
        this.sink(joinFrames(frames.slice(start, i)));
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    this.sink(start === 0 ? joinFrames(frames) : joinFrames(frames.slice(start)));
  }

  /** Drop anything queued and refuse further writes (the connection is gone). */
  close(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    this.queue = [];
    this.queuedBytes = 0;
    this.closed = true;
  }
}
