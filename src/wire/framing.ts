/**
 * Length-delimited framing: each frame is a protobuf varint length followed by that many bytes.
 * A WebSocket message carries one or more whole frames. The decoder is a pure state machine fed
 * arbitrary chunks (down to one byte), so it is tested without a socket.
 */

/** A uint32 varint takes at most 5 bytes; anything longer is garbage, not a big frame. */
const MAX_VARINT_BYTES = 5;

export type FrameDecodeError = { code: "frame-too-large" | "malformed-frame"; message: string };

export type FrameDecodeResult = { frames: Uint8Array[]; error?: FrameDecodeError };

type State =
  | { kind: "length"; value: number; shift: number; bytes: number }
  | { kind: "body"; need: number; parts: Uint8Array[]; have: number }
  | { kind: "failed"; error: FrameDecodeError };

const START: State = { kind: "length", value: 0, shift: 0, bytes: 0 };

export class FrameDecoder {
  private state: State = START;

  constructor(readonly maxFrameSize: number) {}

  /** True when no partial frame is pending: a WebSocket message must end here. */
  get atBoundary(): boolean {
    return this.state.kind === "length" && this.state.bytes === 0;
  }

  /** The decoder's failure, once it has failed; it then refuses all further input. */
  get error(): FrameDecodeError | undefined {
    return this.state.kind === "failed" ? this.state.error : undefined;
  }

  /**
   * Feed bytes; returns the frames completed by them. On an error, the frames decoded before
   * it are still returned, and the decoder stays failed.
   */
  push(chunk: Uint8Array): FrameDecodeResult {
    const frames: Uint8Array[] = [];
    if (this.state.kind === "failed") return { frames, error: this.state.error };
    let pos = 0;
    while (pos < chunk.length) {
      const s: State = this.state;
      if (s.kind === "failed") break;
      if (s.kind === "length") {
        const b = chunk[pos++]!;
        const value: number = s.value + (b & 0x7f) * 2 ** s.shift;
        const bytes: number = s.bytes + 1;
        if (b & 0x80) {
          if (bytes >= MAX_VARINT_BYTES) {
            return this.fail(frames, "malformed-frame", "frame length prefix is not a varint");
          }
          this.state = { kind: "length", value, shift: s.shift + 7, bytes };
          continue;
        }
        if (value > this.maxFrameSize) {
          return this.fail(
            frames,
            "frame-too-large",
            `frame of ${value} bytes exceeds the limit of ${this.maxFrameSize}`,
          );
        }
        // Fast path: the whole body is in this chunk, so hand out a view without copying.
        if (chunk.length - pos >= value) {
          frames.push(chunk.subarray(pos, pos + value));
          pos += value;
          this.state = START;
        } else {
          this.state = { kind: "body", need: value, parts: [], have: 0 };
        }
        continue;
      }
      const take = Math.min(s.need - s.have, chunk.length - pos);
      s.parts.push(chunk.subarray(pos, pos + take));
      s.have += take;
      pos += take;
      if (s.have === s.need) {
        frames.push(s.parts.length === 1 ? s.parts[0]! : Buffer.concat(s.parts, s.need));
        this.state = START;
      }
    }
    return this.state.kind === "failed" ? { frames, error: this.state.error } : { frames };
  }

  /**
   * Feed one whole WebSocket message: like push, but a message that ends inside a frame is
   * malformed (the writer never splits a frame across messages).
   */
  pushMessage(message: Uint8Array): FrameDecodeResult {
    const result = this.push(message);
    if (result.error || this.atBoundary) return result;
    return this.fail(result.frames, "malformed-frame", "message ends inside a frame");
  }

  private fail(
    frames: Uint8Array[],
    code: FrameDecodeError["code"],
    message: string,
  ): FrameDecodeResult {
    const error = { code, message };
    this.state = { kind: "failed", error };
    return { frames, error };
  }
}

export function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** Bytes that `joinFrames` needs for these frames. */
export function framedSize(frames: readonly Uint8Array[]): number {
  let total = 0;
  for (const f of frames) total += varintLength(f.length) + f.length;
  return total;
}

/** One buffer holding every frame with its length prefix, ready to send as one message. */
export function joinFrames(frames: readonly Uint8Array[]): Buffer {
  const out = Buffer.allocUnsafe(framedSize(frames));
  let pos = 0;
  for (const f of frames) {
    pos = writeVarint(out, pos, f.length);
    out.set(f, pos);
    pos += f.length;
  }
  return out;
}
