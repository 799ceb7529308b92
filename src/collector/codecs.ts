/**
 * The collector's messages and their codecs, apart from the service: a client (a pilot, the
 * command line) needs these alone, and importing the service loaded its query engine, watches
 * and authorization schema too.
 */
import type { Codec } from "../wire/schema.js";
import { messageType } from "../wire/schema.js";
import type { AdOutcome, InvalidateOutcome } from "./collector.js";
import { type RawBatch, decodeAdBatch } from "./wire-batch.js";

export type WireAd = { attrs: Record<string, string> };
export type AdBatch = { ads: WireAd[]; type?: string };
export type AdSelector = { type?: string; name?: string; constraint?: string };
export type AdQuery = { type?: string; constraint?: string; projection?: string[]; limit?: number };
export type AdPage = { ads: WireAd[] };
export type AdChange = { kind: string; ad?: WireAd };
export type AdOutcomes = { outcomes: AdOutcome[] };

/**
 * A codec that hands protobufjs's decoded message over as is. Skipping the toObject copy matters
 * at tens of thousands of 60-attribute ads per second; unset fields read as their defaults.
 */
export function directCodec<T>(name: string): Codec<T> {
  const type = messageType(name);
  return {
    encode: (v) => type.encode(v as object).finish(),
    decode: (b) => type.decode(b) as unknown as T,
  };
}

export const collectorCodecs = {
  batch: directCodec<AdBatch>("AdBatch"),
  /** The server's side of AdBatch: decoded to byte ranges (wire-batch.ts). */
  rawBatch: {
    encode: () => {
      throw new Error("rawBatch only decodes");
    },
    decode: (b: Uint8Array) => decodeAdBatch(b),
  } as Codec<RawBatch>,
  outcomes: directCodec<AdOutcomes>("AdOutcomes"),
  selector: directCodec<AdSelector>("AdSelector"),
  invalidated: directCodec<InvalidateOutcome>("InvalidateOutcome"),
  query: directCodec<AdQuery>("AdQuery"),
  page: directCodec<AdPage>("AdPage"),
  change: directCodec<AdChange>("AdChange"),
};
