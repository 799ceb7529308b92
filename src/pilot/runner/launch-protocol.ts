/**
 * What the pilot and its job launcher (launcher-process.ts) say to each other over the
 * launcher's stdin and stdout, pure. Each message is one frame: a 4-byte big-endian length, then
 * that many bytes of JSON. Frames are bounded both ways; a frame over its bound, or one that is
 * not a message, ends the conversation (the launcher exits; the pilot ends it and treats it as
 * dead).
 */

/** Everything a job's start needs, as plain data: no fd or object crosses the pipe. */
export interface LaunchRequest {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Opened read-only; absent means /dev/null. */
  stdin?: string;
  /** Opened for append, never through a symbolic link, 0600. */
  stdout: string;
  stderr: string;
  /** Folders made (with parents) before the streams are opened: the job's tmp, `out/` of `Out`. */
  dirs: string[];
  /** Checked executable first, so a wrapper or isolation tool does not hide a missing program. */
  checkExecutable?: string;
}

/** Where a start failed, as HTCondor's hold codes name it (6 exec, 7 output, 8 input). */
export type StartStage = "exec" | "output" | "input";

export type ToLauncher =
  | { t: "start"; id: number; req: LaunchRequest }
  | { t: "signal"; id: number; sig: "SIGTERM" | "SIGKILL" };

export type FromLauncher =
  | { t: "ready"; pid: number }
  | { t: "started"; id: number; pid: number }
  | { t: "failed"; id: number; stage: StartStage; errno: number; message: string }
  | { t: "exited"; id: number; code: number | null; signal: string | null };

/** A job's environment and arguments come from its ad; the schedd bounds those well below this. */
export const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
/** The launcher's answers are a few numbers and at most an error message. */
export const MAX_ANSWER_BYTES = 64 * 1024;

export function encodeFrame(message: ToLauncher | FromLauncher): Buffer {
  const body = Buffer.from(JSON.stringify(message), "utf8");
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

/** The whole frames' JSON values, or why the stream cannot be read on. */
export type Decoded = { ok: true; messages: unknown[] } | { ok: false; reason: string };

/** Fed the bytes as they come, in any pieces; gives the whole frames' JSON values. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): Decoded {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: unknown[] = [];
    while (this.pending.length >= 4) {
      const n = this.pending.readUInt32BE(0);
      if (n > this.maxBytes)
        return { ok: false, reason: `frame of ${n} bytes over ${this.maxBytes}` };
      if (this.pending.length < 4 + n) break;
      const text = this.pending.toString("utf8", 4, 4 + n);
      this.pending = this.pending.subarray(4 + n);
      try {
        messages.push(JSON.parse(text));
      } catch {
        return { ok: false, reason: "a frame is not JSON" };
      }
    }
    return { ok: true, messages };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((s) => typeof s === "string");
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

function isRequest(r: unknown): r is LaunchRequest {
  if (!isObject(r)) return false;
  const env = r.env;
  return (
    typeof r.command === "string" &&
    isStrings(r.args) &&
    typeof r.cwd === "string" &&
    isObject(env) &&
    Object.values(env).every((v) => typeof v === "string") &&
    (r.stdin === undefined || typeof r.stdin === "string") &&
    typeof r.stdout === "string" &&
    typeof r.stderr === "string" &&
    isStrings(r.dirs) &&
    (r.checkExecutable === undefined || typeof r.checkExecutable === "string")
  );
}

/** The message, or undefined when it is not one the launcher takes. */
export function asToLauncher(m: unknown): ToLauncher | undefined {
  if (!isObject(m) || !isId(m.id)) return undefined;
  if (m.t === "start" && isRequest(m.req)) return m as ToLauncher;
  if (m.t === "signal" && (m.sig === "SIGTERM" || m.sig === "SIGKILL")) return m as ToLauncher;
  return undefined;
}

const STAGES: readonly unknown[] = ["exec", "output", "input"];

/** The message, or undefined when it is not one the pilot takes. */
export function asFromLauncher(m: unknown): FromLauncher | undefined {
  if (!isObject(m)) return undefined;
  if (m.t === "ready") return isId(m.pid) ? (m as FromLauncher) : undefined;
  if (!isId(m.id)) return undefined;
  if (m.t === "started" && isId(m.pid)) return m as FromLauncher;
  if (
    m.t === "failed" &&
    STAGES.includes(m.stage) &&
    Number.isSafeInteger(m.errno) &&
    typeof m.message === "string"
  ) {
    return m as FromLauncher;
  }
  const codeOk = m.code === null || Number.isSafeInteger(m.code);
  const signalOk = m.signal === null || typeof m.signal === "string";
  if (m.t === "exited" && codeOk && signalOk) return m as FromLauncher;
  return undefined;
}
