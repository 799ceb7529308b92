/**
 * HTTPS to A-REX's REST 1.0 interface: the CE's certificate verified against the CA directory
 * (never skipped), the factory's certificate or proxy presented (or a bearer token sent), one
 * keep-alive agent, a deadline on every request. Failures come back as ArcHttpError with the call named; no credential text
 * ever appears in an error.
 */
import { Agent, request } from "node:https";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { readCredentialFile } from "../../../security/credential-file.js";
import type { ArcSettings } from "./settings.js";
import { UpdraftError } from "../../../common/errors.js";
import {
  FileTooLargeError,
  MAX_CREDENTIAL_FILE_BYTES,
  readBounded,
  readBoundedText,
} from "../../../common/bounded-read.js";

/**
 * A file the entry's ARC settings name (`ca_dir`, `client_proxy`, `client_cert`, `client_key`, a
 * token file) cannot be read or is not what it must be; the setting and the file are named.
 */
export class ArcCredentialError extends UpdraftError {
  readonly code = "arc-credential";
  override name = "ArcCredentialError";
}

export class ArcHttpError extends UpdraftError {
  readonly code = "arc-http";
  override name = "ArcHttpError";
  constructor(
    message: string,
    /** HTTP status when the CE answered; undefined for network errors and timeouts. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface ArcResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface CallOptions {
  body?: string | Buffer;
  contentType?: string;
  accept?: string;
  /**
   * A token file sent as this request's bearer instead of `client_token` (a frontend's token for
   * this CE); read at each request, so a renewed file is used.
   */
  bearer?: string;
}

export interface ArcRestClient {
  readonly base: string;
  call(method: string, path: string, opts?: CallOptions): Promise<ArcResponse>;
  /** POST a JSON body (Content-Type exactly application/json, which A-REX insists on). */
  postJson(path: string, value: unknown, bearer?: string): Promise<unknown>;
  close(): void;
}

/** The CA certificates of a grid trust directory: every `<hash>.<n>` file. */
export function readCaDir(dir: string): Buffer[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new ArcCredentialError(`ca_dir ${dir}: cannot list: ${(err as Error).message}`);
  }
  const cas = names
    .filter((n) => /^[0-9a-f]{8}\.\d+$/.test(n))
    .map((n) => {
      const pem = readBounded(join(dir, n), MAX_CREDENTIAL_FILE_BYTES);
      if (pem === undefined) throw new FileTooLargeError(join(dir, n), MAX_CREDENTIAL_FILE_BYTES);
      return pem;
    });
  if (cas.length === 0)
    throw new ArcCredentialError(`ca_dir ${dir}: no CA certificates (<hash>.0 files)`);
  return cas;
}

/** A token for `Authorization: Bearer`: one line of base64url and dots, at most 16 KiB. */
const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The token file's text, checked so it cannot break the header; its text never in errors. */
export function readBearerToken(file: string, what = "client_token"): string {
  let text: string;
  try {
    text = readBoundedText(file, MAX_CREDENTIAL_FILE_BYTES).trim();
  } catch (err) {
    throw new ArcCredentialError(`${what} ${file}: cannot read: ${(err as Error).message}`);
  }
  if (text.length > 16 * 1024 || !TOKEN_RE.test(text)) {
    throw new ArcCredentialError(
      `${what} ${file}: not a JWT (three base64url parts, at most 16 KiB)`,
    );
  }
  return text;
}

function clientCredential(s: ArcSettings): { cert?: string; key?: string } {
  if (s.client_token !== undefined || s.frontend_tokens) return {};
  if (s.client_proxy !== undefined) {
    let text: string;
    try {
      text = readBoundedText(s.client_proxy, MAX_CREDENTIAL_FILE_BYTES);
    } catch (err) {
      throw new ArcCredentialError(
        `client_proxy ${s.client_proxy}: cannot read: ${(err as Error).message}`,
      );
    }
    const c = readCredentialFile(text);
    if (c.chainPem.length === 0 || !c.keyPem) {
      throw new ArcCredentialError(
        `client_proxy ${s.client_proxy}: needs a certificate and its private key`,
      );
    }
    return { cert: c.chainPem.join(""), key: c.keyPem };
  }
  const read = (file: string, what: string): string => {
    try {
      return readBoundedText(file, MAX_CREDENTIAL_FILE_BYTES);
    } catch (err) {
      throw new ArcCredentialError(`${what} ${file}: cannot read: ${(err as Error).message}`);
    }
  };
  return { cert: read(s.client_cert!, "client_cert"), key: read(s.client_key!, "client_key") };
}

export function createArcRestClient(s: ArcSettings): ArcRestClient {
  const url = new URL(s.endpoint);
  const base = `${url.pathname.replace(/\/+$/, "")}/rest/1.0`;
  const { cert, key } = clientCredential(s);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 4,
    ca: readCaDir(s.ca_dir),
    ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
  });
  const timeoutMs = s.request_timeout_s * 1000;

  const call: ArcRestClient["call"] = (method, path, opts = {}) =>
    new Promise((resolve, reject) => {
      const where = `${method} ${path}`;
      const headers: Record<string, string | number> = {
        Accept: opts.accept ?? "application/json",
      };
      const bearer = opts.bearer ?? s.client_token;
      if (bearer !== undefined) {
        try {
          const what = opts.bearer !== undefined ? "submit token" : "client_token";
          headers["Authorization"] = `Bearer ${readBearerToken(bearer, what)}`;
        } catch (err) {
          return reject(new ArcHttpError(`${where}: ${(err as Error).message}`));
        }
      }
      if (opts.body !== undefined) {
        headers["Content-Type"] = opts.contentType ?? "application/octet-stream";
        headers["Content-Length"] = Buffer.byteLength(opts.body);
      }
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port || 443,
          servername: url.hostname,
          method,
          path: base + path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
          res.on("error", (err) => reject(new ArcHttpError(`${where}: ${err.message}`)));
        },
      );
      req.setTimeout(timeoutMs, () =>
        req.destroy(new ArcHttpError(`${where}: no answer within ${s.request_timeout_s} s`)),
      );
      req.on("error", (err) =>
        reject(err instanceof ArcHttpError ? err : new ArcHttpError(`${where}: ${err.message}`)),
      );
      req.end(opts.body);
    });

  return {
    base: `${url.origin}${base}`,
    call,
    async postJson(path, value, bearer) {
      const res = await call("POST", path, {
        body: JSON.stringify(value),
        contentType: "application/json",
        ...(bearer !== undefined ? { bearer } : {}),
      });
      if (res.status < 200 || res.status > 299) {
        throw new ArcHttpError(`POST ${path}: HTTP ${res.status} ${snippet(res.body)}`, res.status);
      }
      try {
        return JSON.parse(res.body.toString("utf8")) as unknown;
      } catch {
        throw new ArcHttpError(
          `POST ${path}: the answer is not JSON: ${snippet(res.body)}`,
          res.status,
        );
      }
    },
    close: () => agent.destroy(),
  };
}

/** The start of a body, on one line, for error messages. */
export function snippet(body: Buffer | string, max = 200): string {
  const text = (typeof body === "string" ? body : body.toString("utf8"))
    .replace(/\s+/g, " ")
    .trim();
  return text.length > max ? text.slice(0, max) + "..." : text;
}
