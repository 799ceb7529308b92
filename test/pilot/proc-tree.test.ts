import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { sampleProcess, sampleProcessGroup } from "../../src/pilot/runner/proc-tree.js";

test("one process is read alone; its group's walk finds it and its child too", async () => {
  // A leader in its own group with one child, both asleep long enough to be sampled.
  const leader = spawn("/bin/sh", ["-c", "sleep 30 & wait"], { detached: true, stdio: "ignore" });
  try {
    const pid = leader.pid!;
    // Under load the child can be sampled between fork and exec, with no resident pages yet:
    // wait until the group holds two processes and more memory than its leader alone.
    let group = sampleProcessGroup(pid);
    let alone = sampleProcess(pid);
    for (let i = 0; i < 250 && (group.pids.length < 2 || group.rssBytes <= alone.rssBytes); i++) {
      await new Promise((r) => setTimeout(r, 20));
      alone = sampleProcess(pid);
      group = sampleProcessGroup(pid);
    }
    assert.equal(group.pids.length, 2, `group ${group.pids.join(",")}`);
    assert.deepEqual(alone.pids, [pid]);
    assert.ok(alone.rssBytes > 0);
    assert.ok(alone.rssBytes < group.rssBytes, `${alone.rssBytes} vs ${group.rssBytes}`);
  } finally {
    process.kill(-leader.pid!, "SIGKILL");
  }
  await once(leader, "exit");
  assert.deepEqual(sampleProcess(leader.pid!).pids, []);
});
