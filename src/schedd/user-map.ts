/**
 * Identity (certificate subject, or a bearer token's `<iss>#<sub>`) -> user name, which becomes
 * the jobs' Owner. Every mode maps the
 * whole DN and fails closed: an identity that could be read two ways gets no user name.
 *
 * Default ("last-cn"): a DN with exactly one CN, as its last component, gives that CN lower-cased,
 * blanks as '_' (/DC=org/DC=example/CN=Alice -> alice); a CN with other characters, a second CN
 * (`.../CN=mallory/CN=alice`) or a name over 64 characters is not mapped; for a token, its `sub`
 * lower-cased with other characters as '_'. The schedd also binds
 * each such name to the first DN that used it (user-bindings.ts), so `/DC=org/DC=other/CN=alice`
 * cannot become the alice of `/DC=org/DC=example/CN=Alice`.
 *
 * Or a mapfile in HTCondor's CERTIFICATE_MAPFILE style: lines `METHOD "REGEX" USER` (or REGEX
 * unquoted), each REGEX anchored `^...$` so it speaks for whole DNs, `\1`... substitute groups,
 * `#` starts a comment. A DN that rules map to two different users is refused as ambiguous.
 */
import { readFileSync } from "node:fs";
import { ConfigError } from "../common/config.js";
import { hasErrorCode, UpdraftError } from "../common/errors.js";
import { parseSlashDn } from "../security/dn.js";
import type { UserBindings } from "./user-bindings.js";

export type UserMapResult = { ok: true; user: string } | { ok: false; reason: string };
/** `token` is given when a bearer token authenticated the caller (a mapfile sees `<iss>#<sub>`). */
export type UserMap = (identity: string, token?: { sub: string }) => UserMapResult;

const CN_OID = "2.5.4.3";
const USER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

const refuse = (reason: string): UserMapResult => ({ ok: false, reason });

export function lastCnUser(identity: string, token?: { sub: string }): UserMapResult {
  if (token) {
    const name = token.sub.toLowerCase().replace(/[^a-z0-9._-]/g, "_");
    // Owners end up in logs and paths: nothing empty, nothing made only of dots.
    if (!USER_NAME.test(name) || /^\.+$/.test(name)) {
      return refuse(`the token sub of '${identity}' is not a user name; map it in a mapfile`);
    }
    return { ok: true, user: name };
  }
  let attrs;
  try {
    attrs = parseSlashDn(identity);
  } catch (err) {
    if (hasErrorCode(err, "dn-invalid"))
      return refuse(`'${identity}' is not a certificate subject`);
    throw err;
  }
  const cns = attrs.filter((a) => a.oid === CN_OID);
  if (cns.length !== 1 || attrs.at(-1)!.oid !== CN_OID) {
    return refuse(
      `'${identity}' has ${cns.length} CN components; last-cn maps only a DN ending in its one CN` +
        " (map it in a user_map mapfile)",
    );
  }
  const name = cns[0]!.value.toLowerCase().replace(/ /g, "_");
  if (!USER_NAME.test(name) || /^\.+$/.test(name)) {
    return refuse(
      `the CN of '${identity}' is not a user name (letters, digits, '.', '_', '-', blanks;` +
        " at most 64); map it in a user_map mapfile",
    );
  }
  return { ok: true, user: name };
}

export interface MapfileRule {
  pattern: RegExp;
  user: string;
  line: number;
}

/** A mapfile line that is not a rule (its file and line are in the message). */
export class MapfileError extends UpdraftError {
  readonly code = "mapfile-invalid";
  override name = "MapfileError";
}

/** Parse mapfile text; throws with the line number of a bad line. */
export function parseMapfile(text: string, file = "mapfile"): MapfileRule[] {
  const rules: MapfileRule[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(\S+)\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))\s+(\S+)$/.exec(line);
    if (!m) throw new MapfileError(`${file}:${i + 1}: expected METHOD "REGEX" USER`);
    const body = (m[2] ?? m[3]!).replace(/^\/(.*)\/$/, "$1");
    if (!body.startsWith("^") || !body.endsWith("$") || body.endsWith("\\$")) {
      throw new MapfileError(
        `${file}:${i + 1}: the expression must be anchored, ^...$, so that it maps whole DNs`,
      );
    }
    try {
      rules.push({ pattern: new RegExp(body), user: m[4]!, line: i + 1 });
    } catch (err) {
      throw new MapfileError(`${file}:${i + 1}: bad regular expression: ${(err as Error).message}`);
    }
  });
  return rules;
}

export function mapfileUser(rules: readonly MapfileRule[], file = "mapfile"): UserMap {
  return (identity) => {
    const hits: { user: string; line: number }[] = [];
    for (const r of rules) {
      const m = r.pattern.exec(identity);
      if (!m) continue;
      const user = r.user.replace(/\\(\d)/g, (_s, d: string) => m[Number(d)] ?? "");
      if (!hits.some((h) => h.user === user)) hits.push({ user, line: r.line });
    }
    if (hits.length === 0) return refuse(`no rule of ${file} maps '${identity}'`);
    if (hits.length > 1) {
      const which = hits.map((h) => `'${h.user}' (line ${h.line})`).join(" and ");
      return refuse(`'${identity}' is ambiguous in ${file}: it maps to ${which}`);
    }
    if (!USER_NAME.test(hits[0]!.user) || /^\.+$/.test(hits[0]!.user)) {
      return refuse(`${file}:${hits[0]!.line} maps '${identity}' to an invalid user name`);
    }
    return { ok: true, user: hits[0]!.user };
  };
}

export type UserMapConfig = { mode: "last-cn" } | { mode: "mapfile"; mapfile: string };

/** A map whose names each stay with the first identity that got them. */
export function boundToFirstUse(map: UserMap, bindings: UserBindings, now: () => number): UserMap {
  return (identity, token) => {
    const r = map(identity, token);
    if (!r.ok) return r;
    const b = bindings.bind(r.user, identity, now());
    if (b.ok) return r;
    return refuse(
      `the user name '${r.user}' belongs to '${b.boundTo}'; a second DN needs its own mapping` +
        " (user_map mapfile)",
    );
  };
}

export function createUserMap(
  cfg: UserMapConfig,
  bindings?: UserBindings,
  now = Date.now,
): UserMap {
  if (cfg.mode === "last-cn")
    return bindings ? boundToFirstUse(lastCnUser, bindings, now) : lastCnUser;
  const text = readFileSync(cfg.mapfile, "utf8");
  try {
    return mapfileUser(parseMapfile(text, cfg.mapfile), cfg.mapfile);
  } catch (err) {
    // A bad rule is a configuration problem: exit 78 naming the line, not an internal error.
    if (!hasErrorCode(err, "mapfile-invalid")) throw err;
    throw new ConfigError("configuration", [{ path: "user_map.mapfile", message: err.message }]);
  }
}
