/**
 * Identity (certificate subject, or a bearer token's `<iss>#<sub>`) -> user name, which becomes
 * the jobs' Owner.
 *
 * Default ("last-cn"): the last CN= of the DN, lower-cased, characters other than letters,
 * digits, '.', '_' and '-' replaced by '_' (/DC=org/DC=example/CN=Alice -> alice); for a token,
 * its `sub` cleaned the same way. Or a mapfile
 * in HTCondor's CERTIFICATE_MAPFILE style: lines `METHOD "REGEX" USER` (or REGEX unquoted),
 * first match wins, `\1`... substitute groups; `#` starts a comment. An unmapped identity may not
 * submit or act on jobs.
 */
import { readFileSync } from "node:fs";

/** `token` is given when a bearer token authenticated the caller (a mapfile sees `<iss>#<sub>`). */
export type UserMap = (identity: string, token?: { sub: string }) => string | undefined;

export function lastCnUser(identity: string, token?: { sub: string }): string | undefined {
  if (token) return cleanName(token.sub);
  const parts = identity.split("/").filter((p) => /^CN=/i.test(p));
  const last = parts.at(-1);
  if (last === undefined) return undefined;
  return cleanName(last.slice(3));
}

function cleanName(raw: string): string | undefined {
  const name = raw.toLowerCase().replace(/[^a-z0-9._-]/g, "_");
  // Owners end up in logs and paths: nothing empty, nothing made only of dots.
  return name === "" || /^\.+$/.test(name) ? undefined : name.slice(0, 128);
}

export interface MapfileRule {
  pattern: RegExp;
  user: string;
}

/** Parse mapfile text; throws with the line number of a bad line. */
export function parseMapfile(text: string, file = "mapfile"): MapfileRule[] {
  const rules: MapfileRule[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const m = /^(\S+)\s+(?:"((?:[^"\\]|\\.)*)"|(\S+))\s+(\S+)$/.exec(line);
    if (!m) throw new Error(`${file}:${i + 1}: expected METHOD "REGEX" USER`);
    const body = m[2] ?? m[3]!;
    try {
      rules.push({ pattern: new RegExp(body.replace(/^\/(.*)\/$/, "$1")), user: m[4]! });
    } catch (err) {
      throw new Error(`${file}:${i + 1}: bad regular expression: ${(err as Error).message}`);
    }
  });
  return rules;
}

export function mapfileUser(rules: readonly MapfileRule[]): UserMap {
  return (identity) => {
    for (const r of rules) {
      const m = r.pattern.exec(identity);
      if (m) return r.user.replace(/\\(\d)/g, (_s, d: string) => m[Number(d)] ?? "");
    }
    return undefined;
  };
}

export type UserMapConfig = { mode: "last-cn" } | { mode: "mapfile"; mapfile: string };

export function createUserMap(cfg: UserMapConfig): UserMap {
  if (cfg.mode === "last-cn") return lastCnUser;
  return mapfileUser(parseMapfile(readFileSync(cfg.mapfile, "utf8"), cfg.mapfile));
}
