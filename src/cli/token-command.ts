/**
 * `updraft token`: a private issuer for pools and tests (`init`, `issue`), `info`, which
 * shows what a token claims without verifying it, and `revoke`, which revokes pilots by id.
 */
import { Command, InvalidArgumentError } from "commander";
import { appendFileSync, existsSync } from "node:fs";
import { parseRevokedPilots } from "../security/pilot-revocations.js";
import { writePrivateFile } from "../security/ca-dir.js";
import { discoverBearerToken, readTokenFile } from "../security/token-discovery.js";
import { describeToken } from "../security/token-description.js";
import { initIssuerDir, ISSUER_ALGS, issuerPaths, issueToken } from "../security/token-issuer.js";
import { positiveInt } from "./ca-command.js";
import { CliError } from "./errors.js";
import { MAX_INPUT_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

const DEFAULT_ISSUER = "https://updraft.local/issuer";
const DEFAULT_LIFETIME_S = 3600;

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

function groupsOption(v: string): string[] {
  const g = v
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (g.some((x) => !x.startsWith("/"))) {
    throw new InvalidArgumentError("--groups takes /vo,/vo/sub: each group starts with /");
  }
  return g;
}

export function createTokenCommand(): Command {
  const token = new Command("token").description("bearer tokens: a private issuer, and info");

  token
    .command("init")
    .description("make an issuer: signing-key.pem (0600), jwks.json and issuer in --dir")
    .requiredOption("--dir <dir>", "issuer directory (made 0700 if missing)")
    .option("--issuer <url>", "the issuer string tokens carry as iss", DEFAULT_ISSUER)
    .option("--alg <alg>", "ES256, or RS256 for peers that check only RSA (A-REX 6)", "ES256")
    .action(async (o: { dir: string; issuer: string; alg: string }) => {
      const alg = ISSUER_ALGS.find((a) => a === o.alg.toUpperCase());
      if (!alg) throw new CliError(`--alg ${o.alg}: use one of ${ISSUER_ALGS.join(", ")}`);
      const r = await initIssuerDir(o.dir, o.issuer, alg);
      if (!r.ok) throw new CliError(r.reason);
      process.stdout.write(
        `issuer ${r.dir.issuer}\nkid ${r.dir.kid}\nkey ${r.dir.keyFile}\njwks ${r.dir.jwksFile}\n`,
      );
    });

  token
    .command("issue")
    .description("sign a WLCG profile access token; printed, or written 0600 to --out")
    .requiredOption("--dir <dir>", "issuer directory made by updraft token init")
    .requiredOption("--sub <subject>", "the token's subject (sub)")
    .option("--aud <audience>", "an audience; repeat for more [the WLCG any audience]", collect, [])
    .option("--scope <scopes>", 'space-separated scopes, e.g. "compute.read compute.create"')
    .option("--groups <groups>", "comma-separated groups, e.g. /vo,/vo/prod", groupsOption)
    .option(
      "--lifetime <seconds>",
      "lifetime in seconds",
      positiveInt("--lifetime"),
      DEFAULT_LIFETIME_S,
    )
    .option("--out <file>", "write the token here (mode 0600) instead of standard output")
    .action(
      async (o: {
        dir: string;
        sub: string;
        aud: string[];
        scope?: string;
        groups?: string[];
        lifetime: number;
        out?: string;
      }) => {
        if (!existsSync(issuerPaths(o.dir).keyFile)) {
          throw new CliError(`${o.dir}: no issuer here; run updraft token init --dir ${o.dir}`);
        }
        const jwt = await issueToken(o.dir, {
          sub: o.sub,
          audiences: o.aud.length > 0 ? o.aud : ["https://wlcg.cern.ch/jwt/v1/any"],
          scope: o.scope,
          groups: o.groups,
          lifetimeS: o.lifetime,
        });
        if (o.out) writePrivateFile(o.out, `${jwt}\n`);
        else process.stdout.write(`${jwt}\n`);
      },
    );

  token
    .command("info [file]")
    .description(
      "show a token's header and claims (found as clients find it when no file is given)",
    )
    .action((file?: string) => {
      let jwt: string;
      let source: string;
      if (file) {
        if (!existsSync(file)) throw new CliError(`${file}: no such file`);
        try {
          jwt = readTokenFile(file);
        } catch (err) {
          throw new CliError(`cannot read the token ${file}: ${(err as Error).message}`);
        }
        source = file;
      } else {
        const d = discoverBearerToken();
        if (!d.found) {
          throw new CliError(
            `no token found (tried ${d.tried.join(", ")}); name a file or set BEARER_TOKEN_FILE`,
          );
        }
        jwt = d.token;
        source = d.source;
      }
      const info = describeToken(jwt);
      if (!info.ok) throw new CliError(`${source}: ${info.reason}`);
      const exp = info.claims.exp;
      const lines = [
        `source    : ${source}`,
        `header    : ${JSON.stringify(info.header)}`,
        `claims    : ${JSON.stringify(info.claims, null, 2).replace(/\n/g, "\n            ")}`,
        typeof exp === "number"
          ? `expires   : ${new Date(exp * 1000).toISOString()}${info.expired ? " (EXPIRED)" : ` (in ${Math.round(exp - Date.now() / 1000)} s)`}`
          : "expires   : never (no exp claim: daemons refuse such a token)",
        "signature : NOT verified (info shows what the token claims, not whether it is genuine)",
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    });

  token
    .command("revoke <pilot-id...>")
    .description(
      "revoke pilots by id: append them to a revocation file (tokens.revoked_pilots_file)",
    )
    .requiredOption("--file <file>", "the revocation file the collector and schedds read")
    .action((ids: string[], o: { file: string }) => {
      const bad = ids.find((id) => !(parseRevokedPilots(id) instanceof Set));
      if (bad !== undefined) {
        throw new CliError(
          `'${bad.slice(0, 80)}' is not a pilot id (see the slot's AuthenticatedIdentity, <issuer>#pilot-<id>)`,
        );
      }
      let text = "";
      try {
        if (existsSync(o.file)) text = readBoundedText(o.file, MAX_INPUT_FILE_BYTES);
      } catch (err) {
        throw new CliError(`cannot read ${o.file}: ${(err as Error).message}`);
      }
      const listed = parseRevokedPilots(text);
      if (!(listed instanceof Set)) throw new CliError(`${o.file}: ${listed.error}; fix it first`);
      const added = [...new Set(ids)].filter((id) => !listed.has(id));
      if (added.length > 0) {
        const sep = text === "" || text.endsWith("\n") ? "" : "\n";
        appendFileSync(o.file, `${sep}${added.join("\n")}\n`, { mode: 0o644 });
      }
      for (const id of ids) {
        process.stdout.write(
          `pilot ${id} ${added.includes(id) ? "revoked" : "was already revoked"} in ${o.file}\n`,
        );
      }
      process.stdout.write(
        "daemons reading this file refuse these pilots and close their connections within seconds\n",
      );
    });

  return token;
}
