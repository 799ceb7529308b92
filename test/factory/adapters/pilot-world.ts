/**
 * What the end-to-end adapter tests share: a real schedd and collector on loopback, a pilot
 * command that runs this Updraft's `updraft pilot run` against them, and one pilot submitted
 * through the adapter under test and followed to its end.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { startTestCollector } from "../../helpers/pilot-collector.js";
import type { GridAdapter } from "../../../src/factory/adapters/types.js";
import type { ScheddClient } from "../../../src/schedd/client.js";
import { startEnv } from "../../schedd/harness.js";
import { waitForState } from "./conformance.js";

// dist/test/factory/adapters -> the repository root, where bin/updraft.js is.
const repo = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");

export async function startPilotWorld(t: TestContext, name: string) {
  const env = await startEnv();
  t.after(() => env.close());
  const collector = await startTestCollector(env.pki, [
    { identity: "/DC=org/DC=example/CN=pilot*", roles: ["pilot"] },
  ]);
  t.after(() => collector.stop());
  const dir = mkdtempSync(join(tmpdir(), `updraft-${name}-e2e-`));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const command = join(dir, "pilot.sh");
  writeFileSync(
    command,
    "#!/bin/sh\nmkdir -p work\n" +
      [
        `exec ${process.execPath} ${repo}/bin/updraft.js pilot run --work-dir "$PWD/work"`,
        `  --collector ${collector.url} --schedd ${env.schedd.url()}`,
        `  --credential "$X509_USER_PROXY" --trust-dir ${env.pki.caDir}`,
        "  --max-walltime 600 --max-idle 3",
      ].join(" \\\n") +
      "\n",
    { mode: 0o755 },
  );
  return { env, collector, dir, command, pilotCredential: env.pki.proxyOf(env.creds.pilot) };
}

/** Submit one pilot through `a`, wait until it ended with code 0 and a report; its output. */
export async function runOnePilot(
  a: GridAdapter,
  w: { command: string; pilotCredential: { file: string } },
  cpus: number,
): Promise<{ stdout: string; stderr: string }> {
  const [r] = await a.submit([
    {
      intentId: 1,
      command: w.command,
      args: [],
      env: {},
      credentialFile: w.pilotCredential.file,
      resources: { cpus, memoryMb: 512, walltimeS: 600 },
    },
  ]);
  assert.ok(r!.ok, r!.ok ? "" : r!.error);
  const s = await waitForState(a, r!.handle, ["Finished", "Held"], 120_000);
  const out = await a.fetchOutput(r!.handle);
  assert.equal(s.state, "Finished", `${JSON.stringify(s)}\n${out.stdout}\n${out.stderr}`);
  assert.equal(s.exitCode, 0, `${out.stdout}\n${out.stderr}`);
  assert.match(out.stdout, /=== Pilot report begin ===/);
  return out;
}

/** Each job completed (JobStatus 4); returns their output files' text, in `ids` order. */
export async function completedOutputs(user: ScheddClient, ids: string[]): Promise<string[]> {
  const jobs = await user.query({ ids, history: true });
  assert.equal(jobs.length, ids.length);
  for (const j of jobs) assert.equal(j.JobStatus, "4", `job ${j.ClusterId}.${j.ProcId} completed`);
  const texts: string[] = [];
  for (const id of ids) {
    const chunks: Uint8Array[] = [];
    for await (const c of user.fetchOutput(id)) chunks.push(c.data);
    texts.push(Buffer.concat(chunks).toString());
  }
  return texts;
}
