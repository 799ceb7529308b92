/**
 * The conformance suite every grid adapter runs: a harness says how to make the adapter and its
 * pilots, and the suite checks the contract of src/factory/adapters/types.ts against it.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type {
  AdapterState,
  GridAdapter,
  PilotSpec,
  PilotStatus,
} from "../../../src/factory/adapters/types.js";

export interface ConformanceHarness {
  name: string;
  /** A new adapter instance on `stateDir`, running at most `slots` pilots at once. */
  create(stateDir: string, slots: number): GridAdapter;
  /** A pilot that runs this POSIX shell script. */
  spec(intentId: number, script: string): PilotSpec;
  /** A pilot the remote system cannot run (its error must come back as a hold). */
  broken(intentId: number): PilotSpec;
  timeoutMs?: number;
  /** How long a pilot may take to reach a state on this system (default 15 s). */
  stateTimeoutMs?: number;
}

export async function waitForState(
  a: GridAdapter,
  handle: string,
  want: AdapterState | AdapterState[],
  timeoutMs = 15_000,
): Promise<PilotStatus> {
  const wanted = Array.isArray(want) ? want : [want];
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = (await a.status([handle])).get(handle)!;
    if (wanted.includes(s.state)) return s;
    if (Date.now() > end) assert.fail(`${handle}: still ${s.state}, wanted ${wanted.join("|")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function handleOf(r: Awaited<ReturnType<GridAdapter["submit"]>>[number]): string {
  assert.ok(r.ok, r.ok ? "" : r.error);
  return r.handle;
}

export function runConformance(h: ConformanceHarness): void {
  const dirs: string[] = [];
  const adapters: GridAdapter[] = [];
  const fresh = (slots = 4): { a: GridAdapter; dir: string } => {
    const dir = mkdtempSync(join(tmpdir(), `updraft-${h.name}-`));
    dirs.push(dir);
    const a = h.create(dir, slots);
    adapters.push(a);
    return { a, dir };
  };
  after(async () => {
    for (const a of adapters) {
      const all = await a.recover();
      await a.remove(all.filter((p) => p.status.state === "Running").map((p) => p.handle));
      await a.close();
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const wait = (a: GridAdapter, handle: string, want: AdapterState | AdapterState[]) =>
    waitForState(a, handle, want, h.stateTimeoutMs);
  const t = (name: string, fn: () => Promise<void>) =>
    test(`${h.name} adapter: ${name}`, { timeout: h.timeoutMs ?? 30_000 }, fn);

  t("a submitted pilot runs to Finished with its exit status and output", async () => {
    const { a } = fresh();
    const [r] = await a.submit([
      h.spec(
        1,
        'echo "=== Pilot report begin ==="; echo ok; echo "=== Pilot report end ==="; echo err >&2',
      ),
    ]);
    const handle = handleOf(r!);
    assert.equal(r!.intentId, 1);
    const s = await wait(a, handle, "Finished");
    assert.equal(s.exitCode, 0);
    const out = await a.fetchOutput(handle);
    assert.match(out.stdout, /=== Pilot report begin ===\nok\n=== Pilot report end ===/);
    assert.equal(out.stderr, "err\n");
  });

  t("a failing pilot reports its exit status", async () => {
    const { a } = fresh();
    const [r] = await a.submit([h.spec(2, "exit 3")]);
    const s = await wait(a, handleOf(r!), "Finished");
    assert.equal(s.exitCode, 3);
  });

  t("a batch gets one handle per pilot, in order", async () => {
    const { a } = fresh();
    const rs = await a.submit([h.spec(10, "true"), h.spec(11, "true"), h.spec(12, "true")]);
    assert.deepEqual(
      rs.map((r) => r.intentId),
      [10, 11, 12],
    );
    assert.equal(new Set(rs.map(handleOf)).size, 3);
  });

  t("pilots beyond the slot limit wait Idle, then run", async () => {
    const { a } = fresh(1);
    const [r1, r2] = await a.submit([h.spec(20, "sleep 0.5"), h.spec(21, "true")]);
    const [h1, h2] = [handleOf(r1!), handleOf(r2!)];
    // Until the first pilot is done, the second one waits (a CE may never show the first
    // Running: it can end between two looks).
    const end = Date.now() + (h.stateTimeoutMs ?? 15_000);
    for (;;) {
      const s = await a.status([h1, h2]);
      if (s.get(h1)?.state === "Finished") break;
      assert.equal(s.get(h2)?.state, "Idle", "the second pilot left Idle while the slot was taken");
      if (Date.now() > end) assert.fail(`${h1}: still ${s.get(h1)?.state}, wanted Finished`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await wait(a, h2, "Finished");
  });

  t("removing a queued pilot means it never runs", async () => {
    const { a, dir } = fresh(1);
    const marker = join(dir, "ran-30");
    const [r1, r2] = await a.submit([h.spec(30, "sleep 30"), h.spec(31, `touch ${marker}`)]);
    await wait(a, handleOf(r2!), "Idle");
    await a.remove([handleOf(r2!)]);
    await wait(a, handleOf(r2!), "Removed");
    await a.remove([handleOf(r1!)]);
    await wait(a, handleOf(r1!), "Removed");
    await new Promise((r) => setTimeout(r, 200));
    await a.status([handleOf(r2!)]);
    assert.equal(existsSync(marker), false);
  });

  t("removing a running pilot ends it and its children", async () => {
    const { a, dir } = fresh();
    const pidFile = join(dir, "child.pid");
    const [r] = await a.submit([h.spec(40, `sleep 30 & echo $! > ${pidFile}; wait`)]);
    const handle = handleOf(r!);
    await wait(a, handle, "Running");
    const end = Date.now() + 5000;
    while (!existsSync(pidFile) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    await a.remove([handle]);
    await wait(a, handle, "Removed");
    const { readFileSync } = await import("node:fs");
    const child = Number(readFileSync(pidFile, "utf8"));
    const gone = Date.now() + 5000;
    let alive = true;
    while (alive && Date.now() < gone) {
      try {
        process.kill(child, 0);
        await new Promise((r) => setTimeout(r, 50));
      } catch {
        alive = false;
      }
    }
    assert.equal(alive, false, "the pilot's child outlived its removal");
  });

  t("a new adapter instance recovers every pilot with its intent id", async () => {
    const { a, dir } = fresh(1);
    const [r1, r2] = await a.submit([h.spec(50, "sleep 0.5"), h.spec(51, "exit 4")]);
    await a.close();
    const b = h.create(dir, 1);
    adapters.push(b);
    const rec = await b.recover();
    assert.deepEqual(
      rec.map((p) => [p.intentId, p.handle]).sort(),
      [
        [50, handleOf(r1!)],
        [51, handleOf(r2!)],
      ].sort(),
    );
    const s = await wait(b, handleOf(r2!), "Finished");
    assert.equal(s.exitCode, 4);
  });

  t("an error from the CE is reported as a hold with a reason", async () => {
    const { a } = fresh();
    const [r] = await a.submit([h.broken(60)]);
    const s = await wait(a, handleOf(r!), "Held");
    assert.ok(s.holdReason && s.holdReason.length > 0);
    assert.equal(s.holdRecoverable, false);
  });

  t("an unknown handle is Unknown", async () => {
    const { a } = fresh();
    const s = await a.status(["no-such-pilot"]);
    assert.equal(s.get("no-such-pilot")?.state, "Unknown");
  });
}
