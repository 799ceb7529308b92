/**
 * node-forge, loaded at its first use. It is some forty files, and a process that never builds a
 * certificate, a proxy or a CRL (a pilot on a token, most commands) paid for loading it at start.
 */
import { createRequire } from "node:module";
import type forgeModule from "node-forge";

export type Forge = typeof forgeModule;

let loaded: Forge | undefined;

export function forge(): Forge {
  return (loaded ??= createRequire(import.meta.url)("node-forge") as Forge);
}
