/**
 * The frontend's stage area keeps the bundles of earlier starts only while a pilot could still
 * need one: folders last in use longer ago than the longest a pilot may queue and run are
 * removed at start; recent ones, this start's and anything not named as a bundle stay.
 */
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { parseFrontendConfig } from "../../src/frontend/config.js";
import { pilotNeedS, startVoStaging } from "../../src/frontend/vo-staging.js";

test("bundles no pilot can still need are purged at start; recent ones and this start's stay", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "updraft-stage-purge-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const stage = join(dir, "stage");
  const check = join(dir, "check.sh");
  writeFileSync(check, "#!/bin/sh\nexit 0\n");
  chmodSync(check, 0o755);
  const config = parseFrontendConfig(`name: fe
collector: { url: "wss://localhost:1/" }
schedds: ["wss://localhost:2/"]
security:
  identity: /CN=fe
  credentials: [{ file: /nonexistent/proxy }]
factories: [{ name: f, identity: /CN=f }]
staging: { dir: ${stage}, url: "https://fe.example.org/stage" }
pilot: { max_walltime_s: 3600 }
groups:
  - name: main
    scripts: [{ file: ${check} }]
  - name: long
    pilot: { max_walltime_s: 7200 }
    limits: { idle_glideins_lifetime_s: 600 }
`);
  // main: an hour queued at most (never removed: its walltime) and an hour running; long: ten
  // minutes queued and two hours running.
  assert.equal(pilotNeedS(config), 7800);

  const now = Date.now() / 1000;
  const earlier = (name: string, ageS: number) => {
    const p = join(stage, name);
    mkdirSync(p, { recursive: true });
    writeFileSync(join(p, "bundle.json"), "{}");
    utimesSync(p, now - ageS, now - ageS);
    return p;
  };
  const stale = earlier("a".repeat(64), 7800 + 120);
  const recent = earlier("b".repeat(64), 7800 - 120);
  const other = earlier("notes", 30 * 86_400);

  const staging = await startVoStaging(config, undefined);
  assert.ok(staging);
  t.after(() => staging.close());
  const current = join(stage, staging.bundles.get("main")!.sha256);
  assert.equal(existsSync(stale), false, "past every pilot's life: purged");
  assert.ok(existsSync(recent), "a pilot handed it may still be queued or running");
  assert.ok(existsSync(other), "not a bundle folder: left alone");
  assert.ok(existsSync(current));

  // This start's bundle is marked in use: a folder staged long ago and staged again is kept.
  await staging.close();
  utimesSync(current, now - 30 * 86_400, now - 30 * 86_400);
  const again = await startVoStaging(config, undefined);
  assert.ok(again);
  t.after(() => again.close());
  assert.ok(existsSync(current), "staged again by this start: kept");
  assert.ok(Date.now() - statSync(current).mtimeMs < 60_000, "and marked in use now");
});
