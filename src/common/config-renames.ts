/**
 * Old spellings of configuration keys, accepted for one release: each is moved to its new key
 * (and its value converted to seconds when its unit was another) before the schema sees the
 * file, and the daemon logs one warning per old key naming the new one.
 */
import type { Logger } from "pino";
import type { ConfigProblem } from "./config.js";

export interface KeyRename {
  /** The old key's path, dotted; `*` stands for any list index or map key (`entries.*.stale`). */
  from: string;
  /** The new key's path, with the same `*`s in the same order (`tls.cert_file`). */
  to: string;
  /** The old value times this is the new one: 60 for minutes to seconds. */
  scale?: number;
  /**
   * Move only a value this holds of: a key whose old value was a bare URL and whose new one is a
   * block under the same name (`collector: wss://...` to `collector.url`).
   */
  when?: (old: unknown) => boolean;
}

/** An old key met in a file, with the warning to log. */
export interface ConfigDeprecation {
  from: string;
  to: string;
  message: string;
}

/** Where one old key was moved to, so a problem with its value can point at the file's line. */
export interface MovedKey {
  from: string[];
  to: string[];
}

/** The path in the file that gave the value now at `path`. */
export function originalPath(
  path: readonly PropertyKey[],
  moved: readonly MovedKey[],
): PropertyKey[] {
  for (const m of moved) {
    if (m.to.length <= path.length && m.to.every((k, i) => String(path[i]) === k)) {
      return [...m.from, ...path.slice(m.to.length)];
    }
  }
  return [...path];
}

type Node = Record<string, unknown> | unknown[];

function isNode(v: unknown): v is Node {
  return typeof v === "object" && v !== null;
}

function keysOf(node: Node): string[] {
  return Array.isArray(node) ? node.map((_, i) => String(i)) : Object.keys(node);
}

/** Every (parent, key, captured `*` values) where `segments` names a present key. */
function find(
  node: unknown,
  segments: readonly string[],
  captured: string[] = [],
): { parent: Node; key: string; captured: string[] }[] {
  if (!isNode(node) || segments.length === 0) return [];
  const [head, ...rest] = segments as [string, ...string[]];
  const keys = head === "*" ? keysOf(node) : Object.hasOwn(node, head) ? [head] : [];
  return keys.flatMap((key) => {
    const seen = head === "*" ? [...captured, key] : captured;
    if (rest.length === 0) return [{ parent: node, key, captured: seen }];
    return find((node as Record<string, unknown>)[key], rest, seen);
  });
}

/** A path pattern with its `*`s replaced, in order, by the keys they matched. */
function fill(pattern: string, captured: readonly string[]): string[] {
  let i = 0;
  return pattern.split(".").map((s) => (s === "*" ? (captured[i++] ?? s) : s));
}

function display(path: readonly string[]): string {
  return path.reduce((out, p) => (/^\d+$/.test(p) ? `${out}[${p}]` : out ? `${out}.${p}` : p), "");
}

/**
 * Move every old key in `raw` (a parsed YAML document, changed in place) to its new key. A file
 * that gives both spellings of one key, or whose new key's parent is not a block, gets a problem.
 */
export function applyRenames(
  raw: unknown,
  renames: readonly KeyRename[],
): { problems: ConfigProblem[]; deprecations: ConfigDeprecation[]; moved: MovedKey[] } {
  const problems: ConfigProblem[] = [];
  const deprecations: ConfigDeprecation[] = [];
  const moved: MovedKey[] = [];
  for (const rename of renames) {
    const hits = find(raw, rename.from.split(".")).filter(
      (h) => !rename.when || rename.when((h.parent as Record<string, unknown>)[h.key]),
    );
    if (hits.length === 0) continue;
    for (const hit of hits) {
      const to = fill(rename.to, hit.captured);
      const fromPath = display(fill(rename.from, hit.captured));
      // Taken out first: the new key may be under the old one's name (`collector.url`).
      const old = (hit.parent as Record<string, unknown>)[hit.key];
      delete (hit.parent as Record<string, unknown>)[hit.key];
      let parent: unknown = raw;
      for (const step of to.slice(0, -1)) {
        const obj = parent as Record<string, unknown>;
        if (obj[step] === undefined) obj[step] = {};
        parent = obj[step];
        if (!isNode(parent)) break;
      }
      const last = to[to.length - 1]!;
      if (!isNode(parent) || Array.isArray(parent)) {
        problems.push({ path: display(to.slice(0, -1)), message: `must be a block` });
        continue;
      }
      if (Object.hasOwn(parent, last)) {
        problems.push({
          path: display(to),
          message: `given twice: as ${display(to)} and by its old name ${fromPath}; keep only ${display(to)}`,
        });
        continue;
      }
      parent[last] =
        rename.scale !== undefined && typeof old === "number" ? old * rename.scale : old;
      moved.push({ from: fill(rename.from, hit.captured), to });
    }
    const conversion =
      rename.scale !== undefined ? ` (in seconds: the old value times ${rename.scale})` : "";
    deprecations.push({
      from: rename.from,
      to: rename.to,
      message: `configuration key ${rename.from} is an old spelling, accepted for this release only: write ${rename.to}${conversion}`,
    });
  }
  return { problems, deprecations, moved };
}

const deprecationsByConfig = new WeakMap<object, readonly ConfigDeprecation[]>();

/** Remember the old keys a loaded configuration used, for the daemon to log once at start. */
export function recordDeprecations(config: object, list: readonly ConfigDeprecation[]): void {
  if (list.length > 0) deprecationsByConfig.set(config, Object.freeze([...list]));
}

/** The old keys the file behind `config` used (none for a configuration built in code). */
export function configDeprecations(config: object): readonly ConfigDeprecation[] {
  return deprecationsByConfig.get(config) ?? [];
}

/** One warning per old key, through the daemon's logger. */
export function logConfigDeprecations(logger: Logger, config: object): void {
  for (const d of configDeprecations(config)) {
    logger.warn({ old_key: d.from, new_key: d.to }, d.message);
  }
}
