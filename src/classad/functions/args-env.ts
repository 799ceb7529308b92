/**
 * HTCondor's job-description helpers (SEMANTICS §4 intro; compat layer): `argsToList`,
 * `listToArgs`, `envV1ToV2`, `mergeEnvironment`, over the V1/V2 syntaxes of args-syntax.ts.
 * An optional last argument of `argsToList`/`listToArgs` picks the syntax version (default 2).
 */
import { ERROR, ListValue, UNDEFINED, type Value } from "../value.js";
import {
  type Environment,
  formatArgsV1,
  formatArgsV2,
  formatEnvV2,
  mergeEnvV1,
  mergeEnvV2,
  parseArgsV1,
  parseArgsV2,
} from "./args-syntax.js";
import type { Builtin, BuiltinTable } from "./builtin.js";

/** The syntax version argument: 1 or 2 (default 2), else undefined. */
function versionOf(args: readonly Value[]): 1 | 2 | undefined {
  if (args.length < 2) return 2;
  const v = args[1];
  return v === 1 || v === 2 ? v : undefined;
}

/**
 * `argsToList(args [, version])`: an argument string to its list of words. UNDEFINED stays
 * UNDEFINED; a non-string, a bad version or unreadable V2 text (an open quote) is ERROR.
 */
const argsToList: Builtin = (args) => {
  if (args.length < 1 || args.length > 2) return ERROR;
  const version = versionOf(args);
  const text = args[0]!;
  if (version === undefined) return ERROR;
  if (text === UNDEFINED) return UNDEFINED;
  if (typeof text !== "string") return ERROR;
  const words = version === 1 ? parseArgsV1(text) : parseArgsV2(text);
  return words === undefined ? ERROR : new ListValue(words);
};

/**
 * `listToArgs(list [, version])`: a list of strings to an argument string. UNDEFINED stays
 * UNDEFINED; a non-list, a non-string item, a bad version, or a word V1 cannot write (empty, or
 * holding whitespace) is ERROR.
 */
const listToArgs: Builtin = (args) => {
  if (args.length < 1 || args.length > 2) return ERROR;
  const version = versionOf(args);
  const list = args[0]!;
  if (version === undefined) return ERROR;
  if (list === UNDEFINED) return UNDEFINED;
  if (!(list instanceof ListValue)) return ERROR;
  const words: string[] = [];
  for (const item of list.items) {
    if (typeof item !== "string") return ERROR;
    words.push(item);
  }
  const text = version === 1 ? formatArgsV1(words) : formatArgsV2(words);
  return text ?? ERROR;
};

/**
 * `envV1ToV2(env)`: a V1 environment (`A=1;B=x y`) in V2 syntax (`A=1 'B=x y'`). UNDEFINED stays
 * UNDEFINED; a non-string or an entry without `NAME=` is ERROR.
 */
const envV1ToV2: Builtin = (args) => {
  if (args.length !== 1) return ERROR;
  const text = args[0]!;
  if (text === UNDEFINED) return UNDEFINED;
  if (typeof text !== "string") return ERROR;
  const env: Environment = new Map();
  return mergeEnvV1(env, text) ? formatEnvV2(env) : ERROR;
};

/**
 * `mergeEnvironment(env, ...)`: V2 environments merged left to right, a later value of a name
 * winning; UNDEFINED arguments count as empty. A non-string or unreadable argument is ERROR.
 */
const mergeEnvironment: Builtin = (args) => {
  const env: Environment = new Map();
  for (const text of args) {
    if (text === UNDEFINED) continue;
    if (typeof text !== "string" || !mergeEnvV2(env, text)) return ERROR;
  }
  return formatEnvV2(env);
};

export const ARGS_ENV_FUNCTIONS: BuiltinTable = {
  argstolist: argsToList,
  listtoargs: listToArgs,
  envv1tov2: envV1ToV2,
  mergeenvironment: mergeEnvironment,
};
