/**
 * A VO bundle download is bounded in time as a whole: a server (or anyone on a plain-HTTP path)
 * that sends a byte now and then, never silent long enough for the idle timeout, must not hold
 * the pilot's start forever. Real HTTP server on loopback.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { download } from "../../src/pilot/vo-bundle.js";

let server: Server;
let url: string;
const drips = new Set<NodeJS.Timeout>();

before(async () => {
  server = createServer((req, res) => {
    if (req.url === "/whole") {
      res.end("all of it");
      return;
    }
    res.writeHead(200);
    const t = setInterval(() => res.write("x"), 50);
    drips.add(t);
    res.on("close", () => {
      clearInterval(t);
      drips.delete(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const t of drips) clearInterval(t);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

test("a download that trickles on past its deadline is refused", async () => {
  await assert.rejects(
    download(`${url}/drip`, 1 << 20, { timeoutMs: 30_000, deadlineMs: 1_000 }),
    /not complete within 1000 ms/,
  );
});

test("a download that completes in time is returned whole", async () => {
  const got = await download(`${url}/whole`, 1 << 20, { deadlineMs: 60_000 });
  assert.equal(got.toString(), "all of it");
});
