import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../src/factory/daemon.js";
import { factoryConfigSchema } from "../../src/factory/config.js";
import { createFactoryWorld, type FactoryWorld, PILOT_OK, silent } from "./factory-harness.js";

const child = join(dirname(fileURLToPath(import.meta.url)), "factory-child.js");
let w: FactoryWorld;
before(async () => {
  w = await createFactoryWorld();
  await w.collector.as("frontend").advertise([w.glideClient()], "GlideClient");
});
after(async () => {
  await w.cleanup();
});

/** Every pilot the adapter has is in the database with the same handle, and vice versa. */
function assertTracked(
  workDir: string,
  pilots: ReturnType<ReturnType<typeof createFactoryDaemon>["store"]["all"]>,
) {
  const root = join(workDir, "adapters", "local1", "pilots");
  const onDisk = readdirSync(root).map((h) => {
    const spec = JSON.parse(readFileSync(join(root, h, "spec.json"), "utf8")) as {
      intentId: number;
    };
    return [spec.intentId, h] as const;
  });
  const byId = new Map(pilots.map((p) => [p.id, p]));
  for (const [id, h] of onDisk)
    assert.equal(byId.get(id)?.handle, h, `pilot ${id} (${h}) untracked`);
  const handles = pilots.flatMap((p) => (p.handle ? [p.handle] : []));
  assert.equal(new Set(handles).size, handles.length, "a handle recorded twice");
  assert.ok(
    pilots.every((p) => p.state !== "Unsubmitted"),
    "an intent left unsettled",
  );
  return onDisk.length;
}

for (const mode of ["after-submit", "before-submit"] as const) {
  test(`SIGKILL ${mode}: after restart nothing is submitted twice and nothing is untracked`, async () => {
    const raw = w.rawConfig({ pilotScript: `sleep 3\n${PILOT_OK}` });
    raw.work_dir = join(w.dir, `work-${mode}`);
    const file = join(w.dir, `config-${mode}.json`);
    writeFileSync(file, JSON.stringify(raw));
    // Not spawnSync: the collector runs in this process and must keep answering.
    const proc = spawn(process.execPath, [child, file, mode], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    proc.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const signal = await new Promise<NodeJS.Signals | null>((resolve) => {
      const t = setTimeout(() => proc.kill("SIGTERM"), 30_000);
      proc.on("exit", (_code, sig) => {
        clearTimeout(t);
        resolve(sig);
      });
    });
    assert.equal(signal, "SIGKILL", stderr);

    const daemon = createFactoryDaemon(factoryConfigSchema.parse(raw), { logger: silent });
    try {
      const before = daemon.store.all();
      assert.equal(before.length, 3);
      assert.ok(before.every((p) => p.state === "Unsubmitted"));
      await daemon.start();
      const pilots = daemon.store.all();
      const onDisk = assertTracked(raw.work_dir as string, pilots);
      // Everything on disk is tracked, and only tracked pilots are on disk.
      assert.equal(onDisk, pilots.filter((p) => p.handle).length);
      const originals = before.map((p) => daemon.store.get(p.id)!);
      if (mode === "after-submit") {
        // Re-attached with the handles the adapter gave, not submitted again.
        assert.ok(originals.every((p) => p.handle && p.state !== "Removed" && p.state !== "Lost"));
      } else {
        assert.ok(originals.every((p) => p.handle === null && p.state === "Removed"));
        assert.ok(originals.every((p) => p.holdReason === "never submitted"));
      }
      // New submissions only top up the idle request: running pilots do not count as idle.
      const idle = pilots.filter((p) => p.state === "Idle").length;
      assert.ok(idle <= 3, `${idle} idle pilots for a request of 3`);
    } finally {
      await daemon.stop();
      const root = join(raw.work_dir as string, "adapters", "local1", "pilots");
      for (const h of readdirSync(root)) {
        try {
          const pid = Number(readFileSync(join(root, h, "pid"), "utf8"));
          process.kill(-pid, "SIGKILL");
        } catch {
          // finished or never started
        }
      }
    }
  });
}
