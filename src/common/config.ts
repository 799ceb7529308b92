import { readFileSync } from "node:fs";
import { LineCounter, parseDocument, isNode, visit, type Document } from "yaml";
import type { z, ZodError } from "zod";
import {
  applyRenames,
  originalPath,
  recordDeprecations,
  type KeyRename,
} from "./config-renames.js";
import { UpdraftError } from "./errors.js";

/** One thing wrong with a configuration file: where (path and, when known, line) and what. */
export interface ConfigProblem {
  path: string;
  line?: number;
  message: string;
}

/** A configuration that failed to load; `problems` lists every problem found, not just the first. */
export class ConfigError extends UpdraftError {
  readonly code = "config-invalid";
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? "" : "s"}:\n` +
        problems
          .map(
            (p) => `  ${p.path || "(top level)"}${p.line ? ` (line ${p.line})` : ""}: ${p.message}`,
          )
          .join("\n"),
    );
    this.name = "ConfigError";
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

function lineOf(
  doc: Document,
  counter: LineCounter,
  path: readonly PropertyKey[],
): number | undefined {
  // Walk up until some prefix of the path exists in the document (a missing key has no node).
  // The whole document is no place to point at, so a missing top-level key gets no line.
  for (let len = path.length; len >= 1; len--) {
    const node = doc.getIn(path.slice(0, len) as unknown[], true);
    if (isNode(node) && node.range) return counter.linePos(node.range[0]).line;
  }
  return undefined;
}

const REFERENCE = /\$(\$)|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replace `${NAME}` and `${NAME:-default}` in string values with the environment's values (`$$`
 * is a literal `$`), so one config file serves several installations: `updraft up` sets the
 * state folder and ports this way. A plain (unquoted) value that becomes a number or a boolean
 * is one, so `port: ${PORT:-9618}` is a number. Returns the references that had no value.
 */
function interpolate(
  doc: Document,
  counter: LineCounter,
  env: Readonly<Record<string, string | undefined>>,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  visit(doc, {
    Scalar(_key, node, path) {
      if (typeof node.value !== "string" || !node.value.includes("$")) return;
      const text = node.value.replace(
        REFERENCE,
        (whole, dollar?: string, name?: string, fallback?: string) => {
          if (dollar) return "$";
          const v = env[name!];
          if (v !== undefined && v !== "") return v;
          if (fallback !== undefined) return fallback;
          const keys = path.flatMap((n) => ("key" in n && isNode(n.key) ? [String(n.key)] : []));
          problems.push({
            path: keys.join("."),
            line: node.range ? counter.linePos(node.range[0]).line : undefined,
            message: `${whole}: environment variable ${name} is not set (give it a value, or a default as \${${name}:-value})`,
          });
          return whole;
        },
      );
      if (text === node.value) return;
      if (node.type === "PLAIN" && /^-?\d+(\.\d+)?$/.test(text)) node.value = Number(text);
      else if (node.type === "PLAIN" && /^(true|false)$/.test(text)) node.value = text === "true";
      else node.value = text;
    },
  });
  return problems;
}

/**
 * Parse YAML text and validate it against a schema. Returns the parsed, defaulted value, frozen
 * deeply, or throws ConfigError listing every YAML syntax error or every schema problem with its
 * path and line. Old spellings in `renames` are moved to their new keys first; the ones met are
 * kept for `logConfigDeprecations`.
 */
export function parseConfig<S extends z.ZodType>(
  schema: S,
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  renames: readonly KeyRename[] = [],
): z.output<S> {
  const counter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: counter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true, // `<<: *anchor` so entries can share a block
  });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: "",
        line: counter.linePos(e.pos[0]).line,
        message: `YAML syntax: ${e.message.split("\n")[0]}`,
      })),
    );
  }
  const unset = interpolate(doc, counter, env);
  if (unset.length > 0) throw new ConfigError(file, unset);
  const raw: unknown = doc.toJS() ?? {};
  const renamed = applyRenames(raw, renames);
  if (renamed.problems.length > 0) throw new ConfigError(file, renamed.problems);
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      file,
      schemaProblems(result.error.issues, [], (path) => {
        const inFile = originalPath(path, renamed.moved);
        return { line: lineOf(doc, counter, inFile), present: doc.hasIn(inFile as unknown[]) };
      }),
    );
  }
  const config = deepFreeze(result.data);
  if (typeof config === "object" && config !== null)
    recordDeprecations(config, renamed.deprecations);
  return config;
}

/**
 * Schema issues as configuration problems: one per unknown key, each path written as config
 * paths are (`entries[0].adapter.slots`) under `prefix` (for a part of a file validated on its
 * own, such as an adapter's settings). `locate` gives the line and whether the key is there.
 */
export function schemaProblems(
  issues: readonly ZodError["issues"][number][],
  prefix: readonly PropertyKey[] = [],
  locate?: (path: PropertyKey[]) => { line?: number; present: boolean },
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of issues) {
    const keys = issue.code === "unrecognized_keys" ? issue.keys : [undefined];
    for (const key of keys) {
      const path = [...prefix, ...issue.path, ...(key === undefined ? [] : [key])];
      const where = locate?.(path);
      problems.push({
        path: formatPath(path),
        line: where?.line,
        message:
          key !== undefined
            ? "unknown key (check its spelling)"
            : issue.code === "invalid_type" && where && !where.present
              ? "required, but missing"
              : issue.message,
      });
    }
  }
  return problems;
}

/** Read and validate a YAML configuration file; an unreadable file is a ConfigError too. */
export function loadConfigFile<S extends z.ZodType>(
  schema: S,
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
  renames: readonly KeyRename[] = [],
): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError(file, [{ path: "", message: `cannot read: ${(err as Error).message}` }]);
  }
  return parseConfig(schema, text, file, env, renames);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
