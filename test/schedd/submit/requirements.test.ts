import assert from "node:assert/strict";
import { test } from "node:test";
import { jobOf } from "./helpers.js";

const requirements = (lines: string) =>
  jobOf(`executable = run.sh\n${lines}\nqueue\n`).get("Requirements");

const cases: [string, string][] = [
  [
    "",
    "(TARGET.Cpus >= RequestCpus) && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk)",
  ],
  [
    'requirements = OpSys == "LINUX"',
    '(OpSys == "LINUX") && (TARGET.Cpus >= RequestCpus) && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk)',
  ],
  [
    "requirements = Memory > 4000",
    "(Memory > 4000) && (TARGET.Cpus >= RequestCpus) && (TARGET.Disk >= RequestDisk)",
  ],
  [
    "requirements = TARGET.Cpus >= 8 && TARGET.Disk > 1",
    "(TARGET.Cpus >= 8 && TARGET.Disk > 1) && (TARGET.Memory >= RequestMemory)",
  ],
  [
    "request_gpus = 1",
    "(TARGET.Cpus >= RequestCpus) && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk) && (TARGET.Gpus >= RequestGPUs)",
  ],
  [
    "request_gpus = 1\nrequirements = GPUs >= 2",
    "(GPUs >= 2) && (TARGET.Cpus >= RequestCpus) && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk)",
  ],
  [
    "request_gpus = 0",
    "(TARGET.Cpus >= RequestCpus) && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk)",
  ],
];

for (const [lines, expected] of cases) {
  test(`${lines || "(no requirements)"} -> ${expected}`, () => {
    assert.equal(requirements(lines), expected);
  });
}

test("MY.Memory is the job's own attribute, so the slot's Memory still gets its clause", () => {
  assert.match(
    requirements("requirements = MY.Memory > 1") ?? "",
    /TARGET\.Memory >= RequestMemory/,
  );
});

test("$$(Attr) in requirements is kept for match time", () => {
  assert.equal(
    requirements('requirements = GLIDEIN_Site == "$$(DESIRED_Site)"'),
    '(GLIDEIN_Site == "$$(DESIRED_Site)") && (TARGET.Cpus >= RequestCpus) && (TARGET.Memory >= RequestMemory) && (TARGET.Disk >= RequestDisk)',
  );
});
