/**
 * What a request's pilots share (environment, arguments before the pilot id) is made once and
 * kept while the request, its entry and the staging arguments stay; a change of the staging
 * arguments reaches the next pilots. The cycle and its store are real; the adapter is a
 * RECORDING STAND-IN (named as such: it is not under test) that keeps each submitted spec and
 * reports every pilot running, so each cycle submits one more.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { GridAdapter, PilotSpec, PilotStatus } from "../../src/factory/adapters/types.js";
import { GlideClientReader } from "../../src/factory/client-requests.js";
import { runCycle } from "../../src/factory/cycle.js";
import { oneRequestFactory } from "./one-request.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-pilot-template-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function recordingAdapter(): GridAdapter & { specs: PilotSpec[] } {
  const specs: PilotSpec[] = [];
  return {
    gridtype: "local",
    capabilities: { release: false, maxBatch: 100, output: false },
    specs,
    async submit(batch) {
      return batch.map((p) => {
        specs.push(p);
        return { intentId: p.intentId, ok: true as const, handle: `h${p.intentId}` };
      });
    },
    async status(handles) {
      return new Map(
        handles.map((h): [string, PilotStatus] => [h, { handle: h, state: "Running" }]),
      );
    },
    async remove() {},
    async fetchOutput() {
      return { stdout: "", stderr: "" };
    },
    async recover() {
      return [];
    },
    async close() {},
  };
}

test("a request's pilots share one environment until the staging arguments change", async () => {
  const { deps } = oneRequestFactory(
    dir,
    (seal) => ({
      ReqIdleGlideins: 1,
      ReqMaxGlideins: 10,
      GlideinEncParamCredential: seal("proxy"),
      GlideinParamVO_Queue: "q1",
    }),
    1,
    { pilot: { command: "/opt/updraft/updraft-pilot-startup.sh", args: ["--verbose"] } },
  );
  const adapter = recordingAdapter();
  let staging = ["--staging", "https://factory.example/v1", "--manifest-sha256", "aa"];
  const cycleDeps = {
    ...deps,
    adapters: new Map([["e", adapter]]),
    requests: new GlideClientReader(),
    pilotArgs: () => staging,
  };
  for (let i = 0; i < 2; i++) assert.equal((await runCycle(cycleDeps)).submitted, 1);
  staging = ["--staging", "https://factory.example/v2", "--manifest-sha256", "bb"];
  for (let i = 0; i < 2; i++) assert.equal((await runCycle(cycleDeps)).submitted, 1);

  const [a, b, c, d] = adapter.specs;
  assert.ok(a && b && c && d);
  assert.equal(a.env.GLIDEIN_Client, "fe.g");
  assert.equal(a.env.GLIDEIN_Entry_Name, "e");
  assert.equal(a.env.GLIDEIN_Factory, "f");
  assert.deepEqual(a.args, [
    "--verbose",
    "--staging",
    "https://factory.example/v1",
    "--manifest-sha256",
    "aa",
    "--pilot-id",
    `f-${a.intentId}`,
  ]);
  assert.equal(b.env, a.env, "the same request's next pilot shares the environment");
  assert.deepEqual(c.args, [
    "--verbose",
    "--staging",
    "https://factory.example/v2",
    "--manifest-sha256",
    "bb",
    "--pilot-id",
    `f-${c.intentId}`,
  ]);
  assert.deepEqual(c.env, a.env);
  assert.equal(d.env, c.env);
  assert.equal(d.args.at(-1), `f-${d.intentId}`);
});
