/**
 * A frontend's GlideClient ad naming system variables as attributes: the real factory submits
 * through the real local adapter, and the started pilot's environment is read back.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { decodeGlideinAttrs, PILOT_ATTRS_ENV } from "../../src/ads/glidein-attrs.js";
import { runCycle } from "../../src/factory/cycle.js";
import { oneRequestFactory } from "./one-request.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-hostile-attrs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a frontend's attributes never become the pilot's own variables, and the entry's const wins", async () => {
  const envDir = join(dir, "env");
  const pilotScript = join(dir, "pilot.sh");
  writeFileSync(pilotScript, `#!/bin/sh\nenv > "${envDir}-$$"\nsleep 600\n`, { mode: 0o755 });
  const { deps, store } = oneRequestFactory(
    dir,
    (seal) => ({
      ReqIdleGlideins: 1,
      ReqMaxGlideins: 1,
      GlideinEncParamCredential: seal("proxy"),
      GlideinParamLD_PRELOAD: "/tmp/evil.so",
      GlideinParamNODE_OPTIONS: "--require /tmp/evil.js",
      GlideinParamGLIDEIN_Site: "Fake_Site",
      GlideinParamUPDRAFT_FRONTEND_IDENTITY: "/CN=another-frontend",
      GlideinParamVO_Queue: "frontend-queue",
      GlideinParamVO_Dir: "/cvmfs/vo",
      GlideinPublishAttrs: "VO_Dir,VO_Queue",
    }),
    2,
    {
      pilot: { command: pilotScript },
      attrs: {
        GLIDEIN_Site: { value: "Real_Site" },
        VO_Queue: { value: "site-queue", glidein_publish: true },
      },
    },
  );
  assert.equal((await runCycle(deps)).submitted, 1);
  const file = await waitForFile(dir, "env-");
  const env = new Map(
    readFileSync(file, "utf8")
      .split("\n")
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] as const),
  );
  assert.equal(env.has("LD_PRELOAD"), false);
  assert.equal(env.has("NODE_OPTIONS"), false);
  assert.equal(env.get("GLIDEIN_Site"), "Real_Site");
  // Renewed tokens are taken only from the request's writer, whatever the frontend says.
  assert.equal(env.get("UPDRAFT_FRONTEND_IDENTITY"), "/CN=fe");
  assert.equal(env.has("VO_Dir"), false, "attributes travel in one variable, not as their own");
  const attrs = decodeGlideinAttrs(env.get(PILOT_ATTRS_ENV) ?? "");
  assert.ok(attrs.ok);
  assert.deepEqual(attrs.attrs.map((a) => `${a.name}=${a.value}`).sort(), [
    "VO_Dir=/cvmfs/vo",
    "VO_Queue=site-queue",
  ]);
  const errors = store
    .lastErrors()
    .map((e) => e.message)
    .join("\n");
  assert.match(errors, /LD_PRELOAD: a name the system sets itself/);
});

async function waitForFile(base: string, prefix: string): Promise<string> {
  const end = Date.now() + 60_000;
  for (;;) {
    const f = readdirSync(base).find((n) => n.startsWith(prefix));
    if (f && existsSync(join(base, f)) && readFileSync(join(base, f), "utf8").includes("PATH=")) {
      return join(base, f);
    }
    if (Date.now() > end) throw new Error(`no ${prefix}* file in ${base} after 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
