import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../../../bin/updraft.js", import.meta.url));

test("updraft --help lists the program and exits 0", () => {
  const out = execFileSync(process.execPath, [bin, "--help"], { encoding: "utf8" });
  assert.match(out, /Usage: updraft/);
});

test("an unknown command exits non-zero with a hint", () => {
  assert.throws(
    () =>
      execFileSync(process.execPath, [bin, "no-such-command"], { encoding: "utf8", stdio: "pipe" }),
    (err: { status: number; stderr: string }) => err.status !== 0 && /help/.test(err.stderr),
  );
});

test("every client command that talks to a daemon takes --token FILE", () => {
  const commands = [
    ["submit"],
    ["q"],
    ["history"],
    ["rm"],
    ["hold"],
    ["release"],
    ["qedit"],
    ["wait"],
    ["transfer-output"],
    ["refresh-proxy"],
    ["status"],
    ["advertise"],
    ["frontend", "status"],
  ];
  for (const c of commands) {
    const out = execFileSync(process.execPath, [bin, ...c, "--help"], { encoding: "utf8" });
    assert.match(out, /--token <file>/, `updraft ${c.join(" ")} --help`);
  }
});
