/**
 * The demo pool with per-pilot tokens instead of the pilot proxy: the frontend mints one token
 * per pilot, the factory hands each pilot its own, and the pilots advertise and run jobs on those
 * tokens alone. Every Slot ad the collector holds meanwhile was written by a token identity of the
 * frontend's issuer, each pilot its own.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  DEMO_CONFIG,
  history,
  startTestPool,
  unquote,
  waitFor,
  type TestPool,
} from "./pool-harness.js";

const PILOT_ISSUER = "https://localhost/updraft-demo/pilots";
const GUARD_MS = 180_000;
let tp: TestPool;
let configDir: string;

/** config/demo with the frontend's credential switched to minted pilot tokens. */
function tokenConfig(): string {
  const dir = mkdtempSync(join(tmpdir(), "updraft-demo-tokens-"));
  cpSync(DEMO_CONFIG, dir, { recursive: true });
  const file = join(dir, "frontend.yaml");
  const text = readFileSync(file, "utf8");
  const proxy = [
    "  credentials:",
    "    - file: ${UPDRAFT_STATE}/pki/pilot/proxy.pem",
    "      type: grid_proxy",
    "      security_class: demo",
    "      trust_domain: grid",
    "",
  ].join("\n");
  assert.ok(text.includes(proxy), "the demo frontend names the pilot proxy as its credential");
  writeFileSync(
    file,
    text.replace(
      proxy,
      "  credentials: [{ type: pilot_tokens, security_class: demo, trust_domain: grid }]\n" +
        '  pilot_tokens: { dir: "${UPDRAFT_STATE}/frontend-tokens", lifetime_s: 7200 }\n',
    ),
  );
  return dir;
}

before(async () => {
  configDir = tokenConfig();
  tp = await startTestPool({ configDir });
});
after(async () => {
  await tp?.close();
  rmSync(configDir, { recursive: true, force: true });
});

test("pilots on per-pilot tokens only advertise under their own identities and run the jobs", async () => {
  const cluster = await tp.submit("hello.sub", 3, 0);
  const writers = new Set<string>();
  const done = await waitFor(
    "the 3 jobs to complete on token pilots",
    async () => {
      for (const ad of await tp.clients.collector.query({ type: "Slot" })) {
        writers.add(unquote(ad.AuthenticatedIdentity) ?? "");
      }
      const h = await history(tp, [cluster], ["JobStatus"]);
      return h.length >= 3 ? h : undefined;
    },
    GUARD_MS,
  );
  assert.deepEqual(
    done.map((j) => j.JobStatus),
    ["4", "4", "4"],
  );
  assert.ok(writers.size >= 1, "a pilot's slot was seen");
  for (const w of writers) {
    assert.match(w, new RegExp(`^${PILOT_ISSUER}#pilot-[0-9a-f-]{36}$`), "a token pilot wrote it");
  }
});
