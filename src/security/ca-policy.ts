/**
 * CA namespaces: which subjects each trusted CA may sign. Read from the trust directory's Globus
 * `<hash>.signing_policy` and EUGridPMA `<hash>.namespaces` files, parsed strictly as hostile
 * input: a file that is too large, has a line this parser does not understand or a pattern it
 * cannot match safely is refused whole, and the CAs of its hash then sign nothing (fail closed).
 */
import {
  compileGlob,
  compileNamespaceRegex,
  matchesDn,
  normalizeDnForPolicy,
  type DnPattern,
} from "./dn-pattern.js";
import { UpdraftError } from "../common/errors.js";

export const MAX_POLICY_FILE_BYTES = 64 * 1024;
export const MAX_POLICY_RULES = 256;

export interface NamespaceRule {
  permit: boolean;
  subject: DnPattern;
  /** File and line, for messages. */
  where: string;
}

/** Rules by the issuing CA's normalized slash-form subject. */
export type PolicyRules = Map<string, NamespaceRule[]>;

export class PolicyFileError extends UpdraftError {
  readonly code = "ca-policy-invalid";
  override name = "PolicyFileError";
}

function checkSize(text: string, source: string): void {
  if (Buffer.byteLength(text) > MAX_POLICY_FILE_BYTES) {
    throw new PolicyFileError(`${source}: larger than ${MAX_POLICY_FILE_BYTES} bytes`);
  }
}

function add(rules: PolicyRules, issuer: string, rule: NamespaceRule, source: string): void {
  const key = normalizeDnForPolicy(issuer);
  const list = rules.get(key) ?? [];
  list.push(rule);
  rules.set(key, list);
  let total = 0;
  for (const l of rules.values()) total += l.length;
  if (total > MAX_POLICY_RULES) {
    throw new PolicyFileError(`${source}: more than ${MAX_POLICY_RULES} subject patterns`);
  }
}

const SP_ACCESS = /^access_id_CA[ \t]+X509[ \t]+'([^']+)'$/;
const SP_RIGHTS = /^pos_rights[ \t]+globus[ \t]+CA:sign$/;
const SP_COND = /^cond_subjects[ \t]+globus[ \t]+'([^']*)'$/;

/**
 * A Globus signing policy: blocks of `access_id_CA X509 '<CA DN>'`, `pos_rights globus CA:sign`
 * and `cond_subjects globus '"<glob>" "<glob>"...'`; `#` starts a comment line.
 */
export function parseSigningPolicy(text: string, source: string): PolicyRules {
  checkSize(text, source);
  const rules: PolicyRules = new Map();
  const lines = text.split(/\r?\n/);
  let issuer: string | undefined;
  let state: "access" | "rights" | "cond" = "access";
  lines.forEach((raw, idx) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const where = `${source}:${idx + 1}`;
    const bad = (what: string) => new PolicyFileError(`${where}: ${what}: ${line.slice(0, 120)}`);
    if (state === "access") {
      const m = SP_ACCESS.exec(line);
      if (!m) throw bad("expected access_id_CA X509 '<CA subject>'");
      issuer = m[1];
      state = "rights";
    } else if (state === "rights") {
      if (!SP_RIGHTS.test(line)) throw bad("expected pos_rights globus CA:sign");
      state = "cond";
    } else {
      const m = SP_COND.exec(line);
      if (!m) throw bad(`expected cond_subjects globus '"<subject pattern>" ...'`);
      const globs = quotedList(m[1]);
      if (globs === undefined || globs.length === 0) throw bad("expected quoted subject patterns");
      for (const g of globs) {
        add(rules, issuer!, { permit: true, subject: compileGlob(g), where }, source);
      }
      state = "access";
    }
  });
  if (state !== "access") throw new PolicyFileError(`${source}: ends inside an access_id_CA block`);
  return rules;
}

/** `"a" "b c"`: double-quoted strings separated by blanks; undefined if malformed. */
function quotedList(s: string): string[] | undefined {
  const out: string[] = [];
  const re = /[ \t]*"([^"]*)"/y;
  let at = 0;
  while (at < s.length) {
    if (/^[ \t]*$/.test(s.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(s);
    if (!m) return undefined;
    out.push(m[1]);
    at = re.lastIndex;
  }
  return out;
}

const NS_VERSION = /^#NAMESPACES-VERSION:[ \t]*(\S+)/;
const NS_ENTRY =
  /^TO[ ]+ISSUER[ ]+(?:"((?:[^"\\]|\\.)*)"|(SELF))[ ]+(PERMIT|DENY)[ ]+SUBJECT[ ]+"((?:[^"\\]|\\.)*)"$/i;

/**
 * An EUGridPMA namespaces file (format 1.0): entries `TO Issuer "<DN>"|SELF PERMIT|DENY
 * Subject "<regex>"`, a trailing `\` continues a line, `#` starts a comment. `self` names the
 * CAs whose subject hash names the file.
 */
export function parseNamespaces(
  text: string,
  source: string,
  self: readonly string[],
): PolicyRules {
  checkSize(text, source);
  const rules: PolicyRules = new Map();
  let pending = "";
  let startLine = 0;
  const lines = text.split(/\r?\n/);
  for (let idx = 0; idx < lines.length; idx++) {
    const raw = lines[idx];
    const version = NS_VERSION.exec(raw);
    if (version && version[1] !== "1.0") {
      throw new PolicyFileError(
        `${source}:${idx + 1}: namespaces version ${version[1]} (1.0 is read)`,
      );
    }
    if (pending === "") startLine = idx + 1;
    const line = stripComment(raw);
    if (/\\$/.test(line) && !/\\\\$/.test(line)) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    const entry = (pending + line).trim().replace(/[ \t]+/g, " ");
    pending = "";
    if (entry === "") continue;
    const where = `${source}:${startLine}`;
    const m = NS_ENTRY.exec(entry);
    if (!m) {
      throw new PolicyFileError(
        `${where}: expected TO Issuer "<DN>" PERMIT|DENY Subject "<regex>": ${entry.slice(0, 120)}`,
      );
    }
    const issuers = m[2] ? self : [unescapeQuoted(m[1])];
    if (issuers.length === 0) throw new PolicyFileError(`${where}: SELF, but no CA has this hash`);
    const subject = compileNamespaceRegex(unescapeQuoted(m[4]));
    for (const issuer of issuers) {
      add(rules, issuer, { permit: m[3].toUpperCase() === "PERMIT", subject, where }, source);
    }
  }
  if (pending !== "") throw new PolicyFileError(`${source}: ends with a continued line`);
  return rules;
}

/** A `\"` inside a quoted string is a quote; other escapes stay for the expression. */
function unescapeQuoted(s: string): string {
  return s.replace(/\\"/g, '"');
}

function stripComment(line: string): string {
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\\") i++;
    else if (line[i] === "#") return line.slice(0, i);
  }
  return line;
}

export type NamespaceVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Whether `issuerSubject` may sign `subject` under `rules` (one source, already chosen): no rule
 * for the issuer, a DENY that matches, or no PERMIT that matches each refuse.
 */
export function checkNamespace(
  rules: PolicyRules,
  issuerSubject: string,
  subject: string,
): NamespaceVerdict {
  const list = rules.get(normalizeDnForPolicy(issuerSubject));
  if (!list || list.length === 0) {
    return { ok: false, reason: `no namespace is defined for the CA ${issuerSubject}` };
  }
  const deny = list.find((r) => !r.permit && matchesDn(r.subject, subject));
  if (deny) {
    return { ok: false, reason: `${subject} is denied to ${issuerSubject} by ${deny.where}` };
  }
  if (!list.some((r) => r.permit && matchesDn(r.subject, subject))) {
    return {
      ok: false,
      reason: `${subject} is outside the namespace of ${issuerSubject} (${list[0].where.replace(/:\d+$/, "")})`,
    };
  }
  return { ok: true };
}

export interface PolicyFile {
  kind: "signing_policy" | "namespaces";
  /** The subject hash the file is named after. */
  hash: string;
  data: string;
  source: string;
}

/** Every CA's namespace, from all policy files of a trust directory. */
export interface NamespaceIndex {
  /** Whether `issuer` (subject and subject hash) may sign `subject`. */
  check(issuer: { subject: string; hash: string }, subject: string): NamespaceVerdict;
}

/**
 * `.namespaces` rules for an issuer win over `.signing_policy` ones (the EUGridPMA file is the
 * newer and the more precise). A file that fails to parse makes every CA of its hash sign
 * nothing, whatever the other file says: a half-read policy must not widen into no policy.
 */
export function buildNamespaceIndex(
  files: readonly PolicyFile[],
  caSubjectsByHash: ReadonlyMap<string, readonly string[]>,
  problems: string[],
): NamespaceIndex {
  const namespaces: PolicyRules = new Map();
  const signing: PolicyRules = new Map();
  const broken = new Map<string, string>();
  for (const f of files) {
    try {
      const parsed =
        f.kind === "namespaces"
          ? parseNamespaces(f.data, f.source, caSubjectsByHash.get(f.hash) ?? [])
          : parseSigningPolicy(f.data, f.source);
      const into = f.kind === "namespaces" ? namespaces : signing;
      for (const [issuer, rules] of parsed)
        into.set(issuer, [...(into.get(issuer) ?? []), ...rules]);
    } catch (err) {
      const msg = (err as Error).message;
      broken.set(f.hash, msg);
      problems.push(`${msg}; CAs with hash ${f.hash} sign nothing until it is fixed`);
    }
  }
  return {
    check(issuer, subject) {
      const why = broken.get(issuer.hash);
      if (why !== undefined) {
        return {
          ok: false,
          reason: `the namespace of ${issuer.subject} could not be read (${why})`,
        };
      }
      const key = normalizeDnForPolicy(issuer.subject);
      return checkNamespace(namespaces.has(key) ? namespaces : signing, issuer.subject, subject);
    },
  };
}
