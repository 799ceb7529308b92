/** A plain HTTPS request with an optional client certificate, for the daemons' GET routes. */
import { request } from "node:https";

export type HttpsAnswer = { status: number; body: string; headers: Record<string, unknown> };

export function httpsGet(opts: {
  port: number;
  path: string;
  ca: Buffer;
  cred?: { certPem: string; keyPem: string };
  method?: string;
  headers?: Record<string, string>;
}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port: opts.port,
        path: opts.path,
        method: opts.method ?? "GET",
        headers: opts.headers,
        ca: opts.ca,
        cert: opts.cred?.certPem,
        key: opts.cred?.keyPem,
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    );
    req.on("error", reject);
    req.end();
  });
}
