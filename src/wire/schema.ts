/**
 * Loads src/wire/updraft.proto at run time.
 *
 * Why at run time rather than generated code: the .proto stays the single source of truth with
 * no generator step to forget (protobufjs's CLI is not a dependency), and protobufjs compiles
 * specialised encode/decode functions for each type on first use, so speed matches static code.
 * tsc does not copy the .proto into dist/, so it is found from the package root: the nearest
 * directory above this module that holds package.json (works from src/ via tsx and from dist/).
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

export const SCHEMA_PACKAGE = "updraft";

export function findPackageRoot(fromDir: string): string {
  let dir = fromDir;
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fromDir}`);
    dir = up;
  }
}

export function schemaPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return join(findPackageRoot(here), "src", "wire", "updraft.proto");
}

let root: protobuf.Root | undefined;

/** The parsed schema; loaded once, then shared (a Root is not mutated after loading). */
export function wireSchema(): protobuf.Root {
  if (!root) {
    root = protobuf.loadSync(schemaPath());
    root.resolveAll();
  }
  return root;
}

/** A message type by its short name (`ClassAd`) or full name (`updraft.ClassAd`). */
export function messageType(name: string): protobuf.Type {
  const full = name.includes(".") ? name : `${SCHEMA_PACKAGE}.${name}`;
  return wireSchema().lookupType(full);
}

/** encode/decode for one message type, in the shape `server.unary` and `client.call` accept. */
export type Codec<T> = { encode(value: T): Uint8Array; decode(bytes: Uint8Array): T };

/**
 * A codec for a schema message. Decoding checks required structure only as far as protobuf
 * does; a payload that does not parse throws, which the RPC layer reports as invalid-argument.
 */
export function messageCodec<T extends object>(name: string): Codec<T> {
  const type = messageType(name);
  return {
    encode: (value) => type.encode(type.fromObject(value)).finish(),
    decode: (bytes) =>
      type.toObject(type.decode(bytes), { longs: Number, defaults: true, arrays: true }) as T,
  };
}

/** A ClassAd on the wire: attribute name -> expression text (new ClassAd syntax). */
export type WireClassAd = { attrs: Record<string, string> };
