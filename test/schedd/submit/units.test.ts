import assert from "node:assert/strict";
import { test } from "node:test";
import { errorsOf, jobOf } from "./helpers.js";

const job = (line: string) => jobOf(`executable = run.sh\n${line}\nqueue\n`);

// request_memory is stored in MiB, request_disk in KiB; fractions round up.
const memory: [string, string][] = [
  ["2048", "2048"],
  ["2 GB", "2048"],
  ["2G", "2048"],
  ["2gb", "2048"],
  ["2GiB", "2048"],
  ["512M", "512"],
  ["512 MB", "512"],
  ["1.5G", "1536"],
  ["100 KB", "1"],
  ["1048576 K", "1024"],
  ["1T", "1048576"],
  ["3000000 B", "3"],
];
for (const [value, mib] of memory) {
  test(`request_memory = ${value} -> RequestMemory = ${mib}`, () => {
    assert.equal(job(`request_memory = ${value}`).get("RequestMemory"), mib);
  });
}

const disk: [string, string][] = [
  ["100", "100"],
  ["100 KB", "100"],
  ["1 GB", "1048576"],
  ["1.5G", "1572864"],
  ["10M", "10240"],
];
for (const [value, kib] of disk) {
  test(`request_disk = ${value} -> RequestDisk = ${kib}`, () => {
    assert.equal(job(`request_disk = ${value}`).get("RequestDisk"), kib);
  });
}

test("a size may be an expression instead", () => {
  assert.equal(
    job("request_memory = ifThenElse(MemoryUsage isnt undefined, MemoryUsage, 2048)").get(
      "RequestMemory",
    ),
    "ifThenElse(MemoryUsage isnt undefined,MemoryUsage,2048)",
  );
});

for (const bad of ["2 XB", "5 GG", "1 iB"]) {
  test(`request_memory = ${bad} is a unit error on its line`, () => {
    const errors = errorsOf(`executable = run.sh\nrequest_memory = ${bad}\nqueue\n`);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].line, 2);
    assert.match(errors[0].message, /unknown unit/);
  });
}

test("defaults apply when nothing is requested, and can be overridden", () => {
  const plain = job("");
  assert.deepEqual(
    [
      plain.get("RequestCpus"),
      plain.get("RequestMemory"),
      plain.get("RequestDisk"),
      plain.get("RequestGPUs"),
    ],
    ["1", "1024", "1048576", undefined],
  );
  const custom = jobOf("executable = run.sh\nqueue\n", undefined, {
    defaults: { memoryMiB: 2000 },
  });
  assert.equal(custom.get("RequestMemory"), "2000");
});
