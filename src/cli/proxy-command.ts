/**
 * `updraft proxy`: make, inspect and verify RFC 3820 proxies, with grid-proxy-init's defaults and
 * environment variables (X509_USER_CERT, X509_USER_KEY, X509_USER_PROXY, X509_CERT_DIR).
 */
import { Command, InvalidArgumentError } from "commander";
import { existsSync, statSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { writePrivateFile } from "../security/ca-dir.js";
import { describeCredential } from "../security/proxy-info.js";
import { readCredentialFile } from "../security/credential-file.js";
import { createProxy } from "../security/proxy.js";
import { loadTrustDir } from "../security/trust.js";
import { verifyChain } from "../security/verify.js";
import { pemCertificates } from "../security/cert-info.js";
import { rsaBits } from "./ca-command.js";
import { CliError } from "./errors.js";
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

export function defaultProxyPath(env = process.env): string {
  return env.X509_USER_PROXY || `/tmp/x509up_u${userInfo().uid}`;
}

function readText(file: string, what: string): string {
  if (!existsSync(file)) throw new CliError(`${file}: no such file (${what})`);
  try {
    return readBoundedText(file, MAX_CREDENTIAL_FILE_BYTES);
  } catch (err) {
    throw new CliError(`${file}: cannot read ${what}: ${(err as Error).message}`);
  }
}

/** Like grid-proxy-init: a private key others can read is refused rather than used. */
function checkKeyFileMode(file: string): void {
  const mode = statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new CliError(
      `${file}: private key is readable by others (mode ${mode.toString(8)}); run chmod 600 ${file}`,
    );
  }
}

const hoursOption = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError("--hours must be a positive number");
  return n;
};

export function createProxyCommand(): Command {
  const proxy = new Command("proxy").description("RFC 3820 proxy certificates: init, info, verify");
  const home = homedir();

  proxy
    .command("init")
    .description("make an RFC 3820 proxy (single file: proxy, its key, then the chain; mode 0600)")
    .option(
      "--cert <file>",
      "certificate, or a proxy file to delegate further [$X509_USER_CERT or ~/.globus/usercert.pem]",
    )
    .option(
      "--key <file>",
      "private key; taken from --cert when that file holds one [$X509_USER_KEY or ~/.globus/userkey.pem]",
    )
    .option("--out <file>", "proxy file to write [$X509_USER_PROXY or /tmp/x509up_u<uid>]")
    .option("--hours <h>", "lifetime in hours (never beyond the issuer's)", hoursOption, 12)
    .option("--limited", "make a limited proxy", false)
    .option("--bits <n>", "RSA key size of the proxy (at least 2048)", rsaBits("--bits"), 2048)
    .action(
      (o: {
        cert?: string;
        key?: string;
        out?: string;
        hours: number;
        limited: boolean;
        bits: number;
      }) => {
        const env = process.env;
        const certFile = o.cert ?? (env.X509_USER_CERT || join(home, ".globus", "usercert.pem"));
        const out = o.out ?? defaultProxyPath(env);
        const certText = readText(certFile, "certificate");
        const inCert = readCredentialFile(certText);
        if (inCert.chainPem.length === 0)
          throw new CliError(`${certFile}: no PEM certificate found`);
        let keyFile = o.key;
        let keyPem: string;
        if (keyFile === undefined && inCert.keyPem !== undefined) {
          keyFile = certFile;
          keyPem = inCert.keyPem;
        } else {
          keyFile ??= env.X509_USER_KEY || join(home, ".globus", "userkey.pem");
          const keyText = readText(keyFile, "private key");
          const k = readCredentialFile(keyText).keyPem;
          if (!k) throw new CliError(`${keyFile}: no PEM private key found`);
          keyPem = k;
        }
        checkKeyFileMode(keyFile);
        let pem: string;
        try {
          pem = createProxy({
            certChainPem: inCert.chainPem.join(""),
            keyPem,
            hours: o.hours,
            limited: o.limited,
            bits: o.bits,
          });
        } catch (err) {
          throw new CliError(`${certFile} / ${keyFile}: ${(err as Error).message}`);
        }
        try {
          writePrivateFile(out, pem);
        } catch (err) {
          throw new CliError(`${out}: cannot write the proxy: ${(err as Error).message}`);
        }
        const info = describeCredential(pem, out);
        process.stdout.write(
          `Your proxy is valid until ${info.notAfter}\n  ${info.subject}\n  written to ${out}\n`,
        );
      },
    );

  proxy
    .command("info")
    .description("show a proxy or certificate file; exit 0 when it is valid now, 1 otherwise")
    .option("--file <file>", "proxy file [$X509_USER_PROXY or /tmp/x509up_u<uid>]")
    .option("--json", "print one JSON object", false)
    .action((o: { file?: string; json: boolean }) => {
      const file = o.file ?? defaultProxyPath();
      const text = readText(file, "proxy");
      let info;
      try {
        info = describeCredential(text, file);
      } catch (err) {
        throw new CliError(`${file}: ${(err as Error).message}`);
      }
      if (o.json) {
        process.stdout.write(JSON.stringify(info) + "\n");
      } else {
        const rows: [string, string][] = [
          ["subject", info.subject],
          ["issuer", info.issuer],
          ["identity", info.identity],
          ["type", info.type],
          ["strength", info.strength === undefined ? "unknown" : `${info.strength} bits`],
          ["path", info.path],
          ["timeleft", info.timeLeft],
        ];
        process.stdout.write(rows.map(([k, v]) => `${k.padEnd(9)}: ${v}`).join("\n") + "\n");
      }
      if (!info.valid) process.exitCode = 1;
    });

  proxy
    .command("verify")
    .description(
      "verify a proxy file or PEM chain (leaf first) against a trust directory; prints the identity",
    )
    .requiredOption("--file <file>", "proxy file or PEM chain; a private key in it is ignored")
    .option("--ca-dir <dir>", "trust directory [$X509_CERT_DIR or /etc/grid-security/certificates]")
    .option("--allow-limited", "accept limited proxies", false)
    .action((o: { file: string; caDir?: string; allowLimited: boolean }) => {
      const caDir = o.caDir ?? (process.env.X509_CERT_DIR || "/etc/grid-security/certificates");
      const chain = pemCertificates(readText(o.file, "certificate chain"));
      if (chain.length === 0) throw new CliError(`${o.file}: no PEM certificate found`);
      let trust;
      try {
        trust = loadTrustDir(caDir);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      const r = verifyChain(chain, trust, { allowLimited: o.allowLimited });
      if (!r.ok) throw new CliError(`${o.file}: refused (${r.code}): ${r.reason}`);
      process.stdout.write(`${r.identity}\n`);
    });

  return proxy;
}
