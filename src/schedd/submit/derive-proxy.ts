/**
 * `x509userproxy = FILE` and `use_x509userproxy = true`: the user's proxy goes with the job.
 * As condor_submit does: the file is resolved against initialdir, `use_x509userproxy` alone takes
 * `$X509_USER_PROXY` or `/tmp/x509up_u<uid>`, and a proxy that has expired or has less than
 * CRED_MIN_TIME_LEFT (120 s) left stops the submit. Only `x509userproxy` (the full path) goes in
 * the ad: the subject, expiry and VOMS attributes are the schedd's to write, from the file it
 * receives, never the client's.
 */
import { posix } from "node:path";
import { JOB } from "../../ads/names.js";
import { chainNotAfter, pemCertificates } from "../../security/cert-info.js";
import { describeToken } from "../../security/token-description.js";
import type { DeriveContext, Derivation } from "./derive-context.js";
import { iwdOf, parseBool, str } from "./derive-files.js";

/** HTCondor's CRED_MIN_TIME_LEFT default: a proxy must outlive the submit by this much. */
export const CRED_MIN_TIME_LEFT_S = 120;

const RENEW = "renew it with 'updraft proxy init' (or voms-proxy-init)";

/** The proxy file the job names, as a full path; undefined when it sends none (or after fail). */
function proxyPath(ctx: DeriveContext): string | undefined {
  const named = ctx.value("x509userproxy");
  if (named !== undefined && named !== "") return posix.resolve(iwdOf(ctx), named);
  const useText = ctx.value("use_x509userproxy");
  if (useText === undefined || useText === "") return undefined;
  const use = parseBool(useText);
  if (use === undefined) {
    ctx.fail("use_x509userproxy", `use_x509userproxy must be true or false, not '${useText}'`);
    return undefined;
  }
  if (!use) return undefined;
  const fromEnv = ctx.env.environ?.X509_USER_PROXY;
  if (fromEnv !== undefined && fromEnv !== "") return posix.resolve(iwdOf(ctx), fromEnv);
  if (ctx.env.uid === undefined) {
    ctx.fail(
      "use_x509userproxy",
      "cannot determine the proxy file: set X509_USER_PROXY or give x509userproxy = FILE",
    );
    return undefined;
  }
  return `/tmp/x509up_u${ctx.env.uid}`;
}

/** Why the proxy in `pem` cannot go with a job submitted at `now` (seconds), or undefined. */
export function proxyRefusal(pem: string, now: number): string | undefined {
  let notAfter: number;
  try {
    const expires = chainNotAfter(pemCertificates(pem));
    if (!expires) return "holds no PEM certificate";
    notAfter = expires.getTime() / 1000;
  } catch (err) {
    return `is not a readable proxy (${(err as Error).message})`;
  }
  const when = new Date(notAfter * 1000).toISOString().replace(/\.\d+Z$/, "Z");
  if (notAfter < now) return `has expired (at ${when}); ${RENEW}`;
  if (notAfter < now + CRED_MIN_TIME_LEFT_S) {
    return `lifetime too short (expires at ${when}, less than ${CRED_MIN_TIME_LEFT_S} s from now); ${RENEW}`;
  }
  return undefined;
}

const proxy: Derivation = {
  inputs: ["x509userproxy", "use_x509userproxy", "initialdir"],
  derive(ctx) {
    const path = proxyPath(ctx);
    if (path === undefined) return;
    const key = ctx.isSet("x509userproxy") ? "x509userproxy" : "use_x509userproxy";
    const pem = ctx.env.readFile?.(path);
    if (ctx.env.readFile !== undefined) {
      const why =
        pem === undefined
          ? `cannot be read; ${RENEW}, or name an existing file`
          : proxyRefusal(pem, ctx.env.now);
      if (why !== undefined) {
        ctx.fail(key, `proxy ${path} ${why}`);
        return;
      }
    }
    ctx.emit(JOB.X509UserProxy, str(path));
  },
};

/**
 * `use_scitokens = true|false|auto` and `scitokens_file = FILE`, as condor_submit reads them:
 * the token file (else `$BEARER_TOKEN_FILE`) goes with the job as `ScitokensFile` (full path),
 * and the job finds `BEARER_TOKEN_FILE` naming its copy. `auto` sends one only when there is one.
 * An expired token (by its `exp`, read without checking the signature) stops the submit.
 */
const token: Derivation = {
  inputs: ["use_scitokens", "use_scitoken", "scitokens_file", "initialdir"],
  derive(ctx) {
    const named = ctx.value("scitokens_file") || undefined;
    const key = ctx.isSet("use_scitokens") ? "use_scitokens" : "use_scitoken";
    const useText = ctx.value(key) || undefined;
    const fromEnv = ctx.env.environ?.BEARER_TOKEN_FILE || undefined;
    let use = named !== undefined;
    if (useText?.toLowerCase() === "auto") use = named !== undefined || fromEnv !== undefined;
    else if (useText !== undefined) {
      const b = parseBool(useText);
      if (b === undefined) {
        ctx.fail(key, `${key} must be true, false or auto, not '${useText}'`);
        return;
      }
      use = b;
    }
    if (!use) return;
    const file = named ?? fromEnv;
    if (file === undefined) {
      ctx.fail(key, "no token file: give scitokens_file = FILE or set BEARER_TOKEN_FILE");
      return;
    }
    const path = posix.resolve(iwdOf(ctx), file);
    const where = named !== undefined ? "scitokens_file" : key;
    if (ctx.env.readFile !== undefined) {
      const text = ctx.env.readFile(path);
      const described =
        text === undefined ? undefined : describeToken(text.trim(), ctx.env.now * 1000);
      const why =
        text === undefined
          ? "cannot be read"
          : !described!.ok
            ? described!.reason
            : described!.expired
              ? "has expired; get a new one (htgettoken, oidc-token or updraft token)"
              : undefined;
      if (why !== undefined) {
        ctx.fail(where, `token ${path} ${why}`);
        return;
      }
    }
    ctx.emit(JOB.ScitokensFile, str(path));
  },
};

export const PROXY_DERIVATIONS: readonly Derivation[] = [proxy, token];
