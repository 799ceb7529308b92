/**
 * `updraft ca`: a small CA for test and private grids — init, issue host and user certificates,
 * revoke, re-sign the CRL. The CA directory layout is described in src/security/ca-dir.ts.
 */
import { Command, InvalidArgumentError } from "commander";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import {
  CRL_DAYS,
  initCaDir,
  loadCaDir,
  refreshCrlInCaDir,
  revokeInCaDir,
  writePrivateFile,
} from "../security/ca-dir.js";
import { parseCertificate, pemCertificates } from "../security/cert-info.js";
import { dropLastRdn, formatSlashDn, parseSlashDn } from "../security/dn.js";
import { issueHostCert, issueUserCert } from "../security/pki.js";
import { CliError } from "./errors.js";
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedText } from "../common/bounded-read.js";

export const DEFAULT_CA_SUBJECT = "/DC=org/DC=example/CN=Updraft Test CA";

export function positiveInt(what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${what} must be a positive whole number`);
    return n;
  };
}

/** RSA key sizes servers accept: smaller keys are refused in every chain, so never make them. */
export const MIN_RSA_BITS = 2048;

export function rsaBits(what: string) {
  return (v: string): number => {
    const n = positiveInt(what)(v);
    if (n < MIN_RSA_BITS)
      throw new InvalidArgumentError(
        `${what} must be at least ${MIN_RSA_BITS}: servers refuse RSA keys under ${MIN_RSA_BITS} bits`,
      );
    return n;
  };
}

const collect = (v: string, acc: string[]) => [...acc, v];

/** Turn library errors into one-line messages that say where. */
function guard<T>(where: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`${where}: ${(err as Error).message}`);
  }
}

export function createCaCommand(): Command {
  const ca = new Command("ca").description(
    "a certificate authority for Updraft daemons and users (grid trust directory layout)",
  );

  ca.command("init")
    .description(
      "create a CA: DIR/ca.pem, DIR/ca-key.pem (0600), DIR/crl.pem and the trust directory DIR/certificates/",
    )
    .requiredOption("--dir <dir>", "CA directory to create")
    .option("--subject <dn>", "CA subject in slash form", DEFAULT_CA_SUBJECT)
    .option("--days <n>", "validity in days", positiveInt("--days"), 3650)
    .option("--bits <n>", "RSA key size (at least 2048)", rsaBits("--bits"), 2048)
    .option("--force", "replace an existing CA in DIR", false)
    .action((o: { dir: string; subject: string; days: number; bits: number; force: boolean }) => {
      guard("--subject", () => parseSlashDn(o.subject));
      const { paths } = guard(o.dir, () => {
        mkdirSync(o.dir, { recursive: true });
        return initCaDir(o.dir, o);
      });
      process.stdout.write(
        `CA ${o.subject}\n  certificate ${paths.cert}\n  private key ${paths.key}\n  trust directory ${paths.trustDir}\n`,
      );
    });

  ca.command("issue")
    .description(
      "issue a host certificate (--host) or a user certificate (--user): PREFIXcert.pem and PREFIXkey.pem (0600)",
    )
    .requiredOption("--dir <dir>", "CA directory (made by `updraft ca init`)")
    .option(
      "--host <name>",
      "host name: serverAuth+clientAuth with a DNS SAN (localhost also gets 127.0.0.1)",
    )
    .option("--ip <ip>", "extra IP address SAN for --host (repeatable)", collect, [])
    .option("--user <dn>", "user subject in slash form, e.g. /DC=org/DC=example/CN=Alice")
    .requiredOption(
      "--out <prefix>",
      "output prefix: --out ~/.globus/user writes usercert.pem and userkey.pem",
    )
    .option("--days <n>", "validity in days", positiveInt("--days"), 365)
    .option("--bits <n>", "RSA key size (at least 2048)", rsaBits("--bits"), 2048)
    .action(
      (o: {
        dir: string;
        host?: string;
        ip: string[];
        user?: string;
        out: string;
        days: number;
        bits: number;
      }) => {
        if ((o.host === undefined) === (o.user === undefined)) {
          throw new CliError("give exactly one of --host NAME or --user DN");
        }
        if (o.user !== undefined && o.ip.length > 0) {
          throw new CliError("--ip only goes with --host");
        }
        const { ca } = guard(o.dir, () => loadCaDir(o.dir));
        let issued;
        if (o.host !== undefined) {
          const host = o.host;
          issued = guard("--host", () =>
            issueHostCert(ca, { host, ips: o.ip, days: o.days, bits: o.bits }),
          );
        } else {
          const user = o.user as string;
          guard("--user", () => parseSlashDn(user));
          warnOutsideNamespace(ca.certPem, user);
          issued = guard("--user", () =>
            issueUserCert(ca, { subject: user, days: o.days, bits: o.bits }),
          );
        }
        const certFile = resolve(`${o.out}cert.pem`);
        const keyFile = resolve(`${o.out}key.pem`);
        guard(certFile, () => {
          mkdirSync(dirname(certFile), { recursive: true });
          writeFileSync(certFile, issued.certPem);
          writePrivateFile(keyFile, issued.keyPem);
        });
        const subject = parseCertificate(pemCertificates(issued.certPem)[0]).subject;
        process.stdout.write(
          `issued ${subject}\n  certificate ${certFile}\n  private key ${keyFile}\n`,
        );
      },
    );

  ca.command("revoke")
    .description(
      "revoke a certificate this CA issued: rewrite DIR/crl.pem and the trust directory's <hash>.r0",
    )
    .requiredOption("--dir <dir>", "CA directory")
    .requiredOption("--cert <file>", "the certificate to revoke (PEM)")
    .action((o: { dir: string; cert: string }) => {
      if (!existsSync(o.cert)) throw new CliError(`${o.cert}: no such file`);
      const pem = guard(o.cert, () => readBoundedText(o.cert, MAX_CREDENTIAL_FILE_BYTES));
      const cert = guard(o.cert, () => revokeInCaDir(o.dir, pem, o.cert));
      process.stdout.write(`revoked ${cert.subject} (serial ${cert.serialHex})\n`);
    });

  ca.command("crl")
    .description(
      `re-sign DIR/crl.pem and the trust directory's <hash>.r0 with the same revocations for another ${CRL_DAYS} days (servers refuse a CA whose CRL has expired: run it from cron, as sites run fetch-crl)`,
    )
    .requiredOption("--dir <dir>", "CA directory")
    .action((o: { dir: string }) => {
      guard(o.dir, () => refreshCrlInCaDir(o.dir, Number.POSITIVE_INFINITY));
      const { paths } = guard(o.dir, () => loadCaDir(o.dir));
      process.stdout.write(
        `CRL re-signed for ${CRL_DAYS} days\n  ${paths.crl}\n  ${paths.hashedCrl}\n`,
      );
    });

  return ca;
}

/** Globus tools only accept names under the signing policy's namespace: say so early. */
function warnOutsideNamespace(caPem: string, dn: string): void {
  const caInfo = parseCertificate(pemCertificates(caPem)[0]);
  const ns = formatSlashDn(dropLastRdn(caInfo.subjectDer));
  if (!dn.startsWith(`${ns}/`)) {
    process.stderr.write(
      `warning: ${dn} is outside this CA's signing policy namespace ${ns}/*; Globus tools will refuse it\n`,
    );
  }
}
