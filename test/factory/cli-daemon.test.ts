import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";
import { sha256Hex } from "../../src/factory/staging/manifest.js";
import { createFactoryWorld, type FactoryWorld } from "./factory-harness.js";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));
let w: FactoryWorld;
before(async () => {
  w = await createFactoryWorld();
});
after(async () => {
  await w.cleanup();
});

test("updraft factory --config runs the daemon; pilots get the staging URL and manifest hash", async () => {
  const argsDir = join(w.dir, "pilot-args");
  mkdirSync(argsDir);
  const stage = join(w.dir, "stage");
  mkdirSync(stage);
  writeFileSync(join(stage, "updraft-pilot-startup.sh"), "#!/bin/sh\necho bootstrap\n");
  const raw = w.rawConfig({ pilotScript: `printf '%s\\n' "$@" > ${argsDir}/$UPDRAFT_PILOT_ID\n` });
  raw.work_dir = join(w.dir, "work-cli");
  raw.staging = {
    dir: stage,
    listen: { host: "127.0.0.1", port: 0 },
    tls: { cert_file: w.pool.pki.host.certFile, key_file: w.pool.pki.host.keyFile },
  };
  raw.log_level = "info";
  const file = join(w.dir, "factory-cli.yaml");
  writeFileSync(file, JSON.stringify(raw));
  await w.collector.as("frontend").advertise([w.glideClient()], "GlideClient");

  const proc = spawn(process.execPath, [bin, "factory", "--config", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  proc.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  proc.stdout.on("data", (b: Buffer) => (stderr += b.toString()));
  try {
    const end = Date.now() + 20_000;
    // Two slots: two pilots start at once, the third when a slot frees (not at the next cycle,
    // an hour away here: the local adapter schedules on its own).
    while (readdirSync(argsDir).length < 3) {
      if (Date.now() > end || proc.exitCode !== null) assert.fail(`no pilots ran: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
  }
  const args = readFileSync(join(argsDir, readdirSync(argsDir)[0]!), "utf8")
    .trim()
    .split("\n");
  const url = args[args.indexOf("--staging") + 1]!.replace("127.0.0.1", "localhost");
  const hash = args[args.indexOf("--manifest-sha256") + 1]!;
  assert.match(args[args.indexOf("--pilot-id") + 1]!, /^fact1-\d+$/);
  assert.match(hash, /^[0-9a-f]{64}$/);
  // The manifest is served from memory (never written into the staged directory) and the hash
  // on the pilot command line is the one of that manifest.
  assert.equal(existsSync(join(stage, "manifest.txt")), false);
  const manifest = `updraft-pilot-manifest 1\nfile ${sha256Hex("#!/bin/sh\necho bootstrap\n")} updraft-pilot-startup.sh\n`;
  assert.equal(sha256Hex(manifest), hash);
  // The version's own URL, so a restage and restart later does not change what it serves.
  assert.match(url, new RegExp(`^https://localhost:\\d+/v/${hash}$`));
  // The daemon left its pilots tracked in its database.
  const status = await new Promise<string>((resolve) =>
    execFile(process.execPath, [bin, "factory", "status", "--config", file, "-json"], (_e, out) =>
      resolve(out),
    ),
  );
  const table = await new Promise<string>((resolve) =>
    execFile(process.execPath, [bin, "factory", "status", "--config", file], (_e, out) =>
      resolve(out),
    ),
  );
  assert.match(table, new RegExp(`^${hash.slice(0, 16)}  current `, "m"));
  const rows = JSON.parse(status) as { client: string; reqIdle: number }[];
  assert.equal(rows[0]?.client, "fe.main");
  assert.equal(rows[0]?.reqIdle, 3);
});
