/**
 * The Envelope as a TypeScript discriminated union, and its codec. Decoding never throws:
 * bytes that are not a well-formed Envelope yield a tagged failure the connection reports as
 * malformed-frame.
 */
import { messageType } from "./schema.js";

export type Envelope =
  | { id: number; kind: "request"; method: string; payload: Uint8Array; deadlineMs: number }
  | { id: number; kind: "response"; payload: Uint8Array }
  | { id: number; kind: "item"; payload: Uint8Array }
  | { id: number; kind: "end" }
  | { id: number; kind: "cancel" }
  | {
      id: number;
      kind: "error";
      code: string;
      message: string;
      details: Record<string, string>;
    };

export type EnvelopeDecodeResult = { ok: true; envelope: Envelope } | { ok: false; reason: string };

type LongLike = { low: number; high: number; toNumber(): number };

type RawEnvelope = {
  id?: number | LongLike;
  body?: string;
  request?: { method?: string; payload?: Uint8Array; deadlineMs?: number };
  response?: { payload?: Uint8Array };
  item?: { payload?: Uint8Array };
  error?: { code?: string; message?: string; details?: Record<string, string> };
};

const EMPTY = new Uint8Array(0);

let envelopeType: ReturnType<typeof messageType> | undefined;
function type() {
  envelopeType ??= messageType("Envelope");
  return envelopeType;
}

function toRaw(e: Envelope): RawEnvelope & Record<string, unknown> {
  switch (e.kind) {
    case "request":
      return {
        id: e.id,
        request: { method: e.method, payload: e.payload, deadlineMs: e.deadlineMs },
      };
    case "response":
      return { id: e.id, response: { payload: e.payload } };
    case "item":
      return { id: e.id, item: { payload: e.payload } };
    case "end":
      return { id: e.id, end: {} };
    case "cancel":
      return { id: e.id, cancel: {} };
    case "error":
      return { id: e.id, error: { code: e.code, message: e.message, details: e.details } };
  }
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  const t = type();
  // The raw object already has the message's shape, so skip fromObject's conversion pass.
  return t.encode(t.create(toRaw(e))).finish();
}

function idOf(raw: number | LongLike | undefined): number | undefined {
  if (raw === undefined) return 0;
  if (typeof raw === "number") return raw;
  // Ids beyond 2^53 would silently lose precision as JS numbers; no caller needs them.
  if (raw.high >>> 0 > 0x1fffff) return undefined;
  return raw.toNumber();
}

export function decodeEnvelope(bytes: Uint8Array): EnvelopeDecodeResult {
  let raw: RawEnvelope;
  try {
    raw = type().decode(bytes) as unknown as RawEnvelope;
  } catch {
    return { ok: false, reason: "frame is not a protobuf Envelope" };
  }
  const id = idOf(raw.id);
  if (id === undefined) return { ok: false, reason: "request id out of range" };
  switch (raw.body) {
    case "request": {
      const r = raw.request!;
      return {
        ok: true,
        envelope: {
          id,
          kind: "request",
          method: r.method ?? "",
          payload: r.payload ?? EMPTY,
          deadlineMs: r.deadlineMs ?? 0,
        },
      };
    }
    case "response":
      return {
        ok: true,
        envelope: { id, kind: "response", payload: raw.response!.payload ?? EMPTY },
      };
    case "item":
      return { ok: true, envelope: { id, kind: "item", payload: raw.item!.payload ?? EMPTY } };
    case "end":
      return { ok: true, envelope: { id, kind: "end" } };
    case "cancel":
      return { ok: true, envelope: { id, kind: "cancel" } };
    case "error": {
      const e = raw.error!;
      return {
        ok: true,
        envelope: {
          id,
          kind: "error",
          code: e.code ?? "",
          message: e.message ?? "",
          details: { ...(e.details ?? {}) },
        },
      };
    }
    default:
      return { ok: false, reason: "envelope has no body" };
  }
}
