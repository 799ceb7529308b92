/**
 * Delegations on the CE, one per pilot credential file: made on first use
 * (`POST /delegations?action=new` -> CSR, signed here, `PUT /delegations/<id>`), reused while
 * more than the renewal margin remains, renewed in place (`?action=renew`) before they run out
 * so jobs that name the delegation keep a valid proxy. Recorded in the journal so a restarted
 * factory renews the delegations its running pilots use.
 */
import { existsSync } from "node:fs";
import type { Logger } from "../../../common/logger.js";
import type { Journal } from "./journal.js";
import { signDelegation } from "./delegation-proxy.js";
import { ArcHttpError, snippet, type ArcRestClient } from "./rest-client.js";
import { MAX_CREDENTIAL_FILE_BYTES, readBoundedText } from "../../../common/bounded-read.js";

export interface Delegations {
  /** The delegation id for this credential file, made or renewed as needed. */
  ensure(credentialFile: string): Promise<string>;
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

  async function upload(id: string, csr: string, credentialFile: string): Promise<number> {
    let credential: string;
    try {
      credential = readBoundedText(credentialFile, MAX_CREDENTIAL_FILE_BYTES);
    } catch (err) {
      throw new Error(`pilot credential ${credentialFile}: cannot read: ${(err as Error).message}`);
    }
    const signed = signDelegation(csr, credential, {
      hours: opts.lifetimeHours,
      now: new Date(opts.now()),
    });
    const res = await client.call("PUT", `/delegations/${encodeURIComponent(id)}`, {
      body: signed.pem,
      contentType: "application/x-pem-file",
    });
    if (res.status < 200 || res.status > 299) {
      throw new ArcHttpError(
        `PUT /delegations/${id}: HTTP ${res.status} ${snippet(res.body)}`,
        res.status,
      );
    }
    return signed.notAfter.getTime();
  }

  async function create(credentialFile: string): Promise<string> {
    const res = await client.call("POST", "/delegations?action=new");
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
    const notAfter = await upload(id, res.body.toString("utf8"), credentialFile);
    journal.append([{ t: "deleg", key: credentialFile, id, credentialFile, notAfter }]);
    return id;
  }

  async function renew(id: string, credentialFile: string): Promise<string> {
    const path = `/delegations/${encodeURIComponent(id)}?action=renew`;
    const res = await client.call("POST", path);
    if (res.status !== 201 && res.status !== 200) {
      throw new ArcHttpError(`POST ${path}: HTTP ${res.status} ${snippet(res.body)}`, res.status);
    }
    const notAfter = await upload(id, res.body.toString("utf8"), credentialFile);
    journal.append([{ t: "deleg", key: credentialFile, id, credentialFile, notAfter }]);
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
    ensure(credentialFile) {
      return once(credentialFile, async () => {
        const rec = journal.state.delegations.get(credentialFile);
        if (rec && !due(rec.notAfter)) return rec.id;
        if (rec) {
          try {
            return await renew(rec.id, credentialFile);
          } catch (err) {
            // The CE may have dropped it (expired, wiped): a new one serves new jobs.
            opts.logger.warn(
              { err, delegationId: rec.id },
              "delegation renewal failed; making a new one",
            );
          }
        }
        return create(credentialFile);
      });
    },
    async renewDue() {
      for (const [key, rec] of journal.state.delegations) {
        if (!due(rec.notAfter)) continue;
        // The factory deletes a decrypted credential once no pilot uses it: nothing to renew.
        if (!existsSync(rec.credentialFile)) continue;
        try {
          await once(key, () => renew(rec.id, rec.credentialFile));
        } catch (err) {
          opts.logger.warn({ err, delegationId: rec.id }, "delegation renewal failed");
        }
      }
    },
  };
}
