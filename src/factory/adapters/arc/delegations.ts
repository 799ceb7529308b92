/**
 * Delegations on the CE, one per pilot credential file: made on first use
 * (`POST /delegations?action=new` -> CSR, signed here, `PUT /delegations/<id>`), reused while
 * more than the renewal margin remains, renewed in place (`?action=renew`) before they run out
 * so jobs that name the delegation keep a valid proxy. Recorded in the journal so a restarted
 * factory renews the delegations its running pilots use.
 *
 * Over a token-authenticated connection (an entry with `frontend_tokens`) A-REX files the
 * delegation under the token's subject: a job submitted under another subject that names it gets
 * an empty proxy. So a delegation is keyed by credential and token owner (`<iss>#<sub>`), made,
 * renewed and used with a token of that owner.
 */
import { existsSync } from "node:fs";
import type { Logger } from "../../../common/logger.js";
import type { Journal } from "./journal.js";
import { signDelegation } from "./delegation-proxy.js";
import {
  ArcCredentialError,
  ArcHttpError,
  readBearerToken,
  snippet,
  type ArcRestClient,
} from "./rest-client.js";
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedText } from "../../../common/bounded-read.js";

export interface Delegations {
  /**
   * The delegation id for this credential file, made or renewed as needed; with `bearer` (a
   * token file), the delegation of that token's owner, every call carrying the token.
   */
  ensure(credentialFile: string, bearer?: string): Promise<string>;
  /** Renew every recorded delegation within the margin; failures are logged, not thrown. */
  renewDue(): Promise<void>;
}

export function createDelegations(opts: {
  client: ArcRestClient;
  journal: Journal;
  lifetimeHours: number;
  marginS: number;
  now: () => number;
  logger: Logger;
}): Delegations {
  const { client, journal } = opts;
  const inFlight = new Map<string, Promise<string>>();

  const withBearer = (bearer: string | undefined) => (bearer !== undefined ? { bearer } : {});

  async function upload(
    id: string,
    csr: string,
    credentialFile: string,
    bearer: string | undefined,
  ): Promise<number> {
    let credential: string;
    try {
      credential = readBoundedText(credentialFile, MAX_CREDENTIAL_FILE_BYTES);
    } catch (err) {
      throw new ArcCredentialError(
        `pilot credential ${credentialFile}: cannot read: ${(err as Error).message}`,
      );
    }
    const signed = signDelegation(csr, credential, {
      hours: opts.lifetimeHours,
      now: new Date(opts.now()),
    });
    const res = await client.call("PUT", `/delegations/${encodeURIComponent(id)}`, {
      body: signed.pem,
      contentType: "application/x-pem-file",
      ...withBearer(bearer),
    });
    if (res.status < 200 || res.status > 299) {
      throw new ArcHttpError(
        `PUT /delegations/${id}: HTTP ${res.status} ${snippet(res.body)}`,
        res.status,
      );
    }
    return signed.notAfter.getTime();
  }

  async function create(key: string, credentialFile: string, bearer?: string): Promise<string> {
    const res = await client.call("POST", "/delegations?action=new", withBearer(bearer));
    if (res.status !== 201 && res.status !== 200) {
      throw new ArcHttpError(
        `POST /delegations?action=new: HTTP ${res.status} ${snippet(res.body)}`,
        res.status,
      );
    }
    const location = res.headers.location;
    const loc = Array.isArray(location) ? location[0] : location;
    const id = loc?.replace(/\/+$/, "").split("/").at(-1);
    if (!id) throw new ArcHttpError("POST /delegations?action=new: no location header", res.status);
    const notAfter = await upload(id, res.body.toString("utf8"), credentialFile, bearer);
    journal.append([{ t: "deleg", key, id, credentialFile, notAfter, ...withBearer(bearer) }]);
    return id;
  }

  async function renew(
    key: string,
    id: string,
    credentialFile: string,
    bearer?: string,
  ): Promise<string> {
    const path = `/delegations/${encodeURIComponent(id)}?action=renew`;
    const res = await client.call("POST", path, withBearer(bearer));
    if (res.status !== 201 && res.status !== 200) {
      throw new ArcHttpError(`POST ${path}: HTTP ${res.status} ${snippet(res.body)}`, res.status);
    }
    const notAfter = await upload(id, res.body.toString("utf8"), credentialFile, bearer);
    journal.append([{ t: "deleg", key, id, credentialFile, notAfter, ...withBearer(bearer) }]);
    opts.logger.info({ delegationId: id }, "renewed the pilot delegation on the CE");
    return id;
  }

  const due = (notAfter: number) => notAfter - opts.marginS * 1000 <= opts.now();

  /** One operation per credential at a time, so a batch never makes two delegations. */
  function once(key: string, fn: () => Promise<string>): Promise<string> {
    const running = inFlight.get(key);
    if (running) return running;
    const p = fn().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  }

  return {
    ensure(credentialFile, bearer) {
      let key = credentialFile;
      try {
        if (bearer !== undefined) key = `${credentialFile}\n${tokenOwner(bearer)}`;
      } catch (err) {
        return Promise.reject(err as Error);
      }
      return once(key, async () => {
        const rec = journal.state.delegations.get(key);
        if (rec && !due(rec.notAfter)) return rec.id;
        if (rec) {
          try {
            return await renew(key, rec.id, credentialFile, bearer);
          } catch (err) {
            // The CE may have dropped it (expired, wiped): a new one serves new jobs.
            opts.logger.warn(
              { err, delegationId: rec.id },
              "delegation renewal failed; making a new one",
            );
          }
        }
        return create(key, credentialFile, bearer);
      });
    },
    async renewDue() {
      for (const [key, rec] of journal.state.delegations) {
        if (!due(rec.notAfter)) continue;
        // The factory deletes a decrypted credential once no pilot uses it: nothing to renew.
        if (!existsSync(rec.credentialFile)) continue;
        try {
          await once(key, () => renew(key, rec.id, rec.credentialFile, rec.bearer));
        } catch (err) {
          opts.logger.warn({ err, delegationId: rec.id }, "delegation renewal failed");
        }
      }
    },
  };
}

/**
 * Who owns what a token file makes on the CE: `<iss>#<sub>` of its payload. Read, not verified
 * (the CE verifies); it only keeps two owners' delegations apart.
 */
export function tokenOwner(file: string): string {
  const payload = readBearerToken(file, "submit token").split(".")[1]!;
  let claims: { iss?: unknown; sub?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as typeof claims;
  } catch {
    throw new ArcCredentialError(`submit token ${file}: its payload is not JSON`);
  }
  if (typeof claims.iss !== "string" || typeof claims.sub !== "string") {
    throw new ArcCredentialError(`submit token ${file}: no iss or sub`);
  }
  return `${claims.iss}#${claims.sub}`;
}
