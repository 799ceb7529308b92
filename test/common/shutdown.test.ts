/**
 * A supervised daemon stops itself when its supervisor is killed: real processes, a shell as the
 * supervisor, SIGKILLed while its child runs.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "updraft-shutdown-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const shutdownModule = fileURLToPath(new URL("../../src/common/shutdown.js", import.meta.url));

/** A "daemon" that records its pid, then waits; on SIGTERM it writes `stopped` and exits. */
const daemon = (out: string) => `
import { writeFileSync } from "node:fs";
const { stopOnSignals } = await import(${JSON.stringify(shutdownModule)});
const quiet = { info() {}, error() {} };
stopOnSignals(quiet, async () => writeFileSync(${JSON.stringify(out)} + ".stopped", "yes"));
writeFileSync(${JSON.stringify(out)} + ".pid", String(process.pid));
setInterval(() => {}, 1000);
`;

async function until(what: string, ok: () => boolean): Promise<void> {
  const end = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function runUnderShell(name: string, supervised: boolean) {
  const out = join(dir, name);
  // The shell is the supervisor: it names itself in the child's environment, as `updraft up` does.
  const script = supervised
    ? `UPDRAFT_SUPERVISOR_PID=$$ "$0" --input-type=module -e "$1" & wait`
    : `"$0" --input-type=module -e "$1" & wait`;
  const shell = spawn("/bin/sh", ["-c", script, process.execPath, daemon(out)], {
    stdio: "ignore",
    env: { PATH: process.env.PATH },
  });
  return { shell, out };
}

test("a daemon whose supervisor is killed stops itself through its own stop", async () => {
  const { shell, out } = runUnderShell("supervised", true);
  await until("the daemon to start", () => existsSync(out + ".pid"));
  shell.kill("SIGKILL");
  await until("the daemon to stop itself", () => existsSync(out + ".stopped"));
  const pid = Number(readFileSync(out + ".pid", "utf8"));
  await until("the daemon to exit", () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  });
});

test("a daemon with no supervisor keeps running when its parent goes", async () => {
  const { shell, out } = runUnderShell("free", false);
  await until("the daemon to start", () => existsSync(out + ".pid"));
  shell.kill("SIGKILL");
  const pid = Number(readFileSync(out + ".pid", "utf8"));
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(existsSync(out + ".stopped"), false);
  process.kill(pid, "SIGTERM");
  await until("the daemon to stop on SIGTERM", () => existsSync(out + ".stopped"));
});
