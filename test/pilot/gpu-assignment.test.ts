/** Which GPUs each job holds and what it sees of them, as HTCondor assigns a slot's GPUs. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createGpuAssignment,
  gpuEnvironment,
  gpuNamesFromIndices,
  parseGpuNames,
} from "../../src/pilot/gpu-assignment.js";

const FOUR = ["CUDA0", "CUDA1", "CUDA2", "CUDA3"];

test("jobs get the first free devices, each its own, and give them back at their end", () => {
  const g = createGpuAssignment(FOUR);
  const steps: [string, () => unknown, unknown][] = [
    ["a takes two", () => g.assign("a", 2), ["CUDA0", "CUDA1"]],
    ["b takes one", () => g.assign("b", 1), ["CUDA2"]],
    ["c asks none", () => g.assign("c", 0), []],
    ["free", () => g.free(), ["CUDA3"]],
    ["a asked again keeps its own", () => g.assign("a", 2), ["CUDA0", "CUDA1"]],
    ["a ends", () => g.release("a"), undefined],
    ["free after a", () => g.free(), ["CUDA0", "CUDA1", "CUDA3"]],
    ["d takes three, in the node's order", () => g.assign("d", 3), ["CUDA0", "CUDA1", "CUDA3"]],
    ["e gets what is left: none", () => g.assign("e", 1), []],
    ["ending a job that held none", () => g.release("e"), undefined],
    ["b and d end", () => (g.release("b"), g.release("d")), undefined],
    ["all free again", () => g.free(), FOUR],
  ];
  for (const [what, step, want] of steps) assert.deepEqual(step(), want, what);
});

test("a job asking more than the names left gets those there are", () => {
  const g = createGpuAssignment(["CUDA5"]);
  assert.deepEqual(g.assign("a", 2), ["CUDA5"]);
  assert.deepEqual(g.assign("b", 1.5), []);
  assert.deepEqual(createGpuAssignment([]).assign("a", 1), []);
});

test("what a job sees: its devices by HTCondor's names and indices, or none on a GPU pilot", () => {
  const table: [string[], boolean, Record<string, string>][] = [
    [
      ["CUDA0", "CUDA2"],
      true,
      {
        _CONDOR_AssignedGPUs: "CUDA0,CUDA2",
        CUDA_VISIBLE_DEVICES: "0,2",
        GPU_DEVICE_ORDINAL: "0,2",
      },
    ],
    [
      ["CUDA3"],
      true,
      { _CONDOR_AssignedGPUs: "CUDA3", CUDA_VISIBLE_DEVICES: "3", GPU_DEVICE_ORDINAL: "3" },
    ],
    [
      ["GPU1", "GPU3"],
      true,
      { _CONDOR_AssignedGPUs: "GPU1,GPU3", HIP_VISIBLE_DEVICES: "1,3", GPU_DEVICE_ORDINAL: "1,3" },
    ],
    [
      [],
      true,
      { CUDA_VISIBLE_DEVICES: "10000", HIP_VISIBLE_DEVICES: "10000", GPU_DEVICE_ORDINAL: "10000" },
    ],
    [[], false, {}],
  ];
  for (const [assigned, hasGpus, want] of table) {
    assert.deepEqual(gpuEnvironment(assigned, hasGpus), want, assigned.join(","));
  }
});

test("device names from nvidia-smi indices and from slot ad text", () => {
  assert.deepEqual(gpuNamesFromIndices([0, 3, -1, 1.5]), ["CUDA0", "CUDA3"]);
  assert.deepEqual(gpuNamesFromIndices([2, 0], "amd"), ["GPU2", "GPU0"]);
  assert.deepEqual(parseGpuNames("CUDA0, CUDA1,CUDA1 GPU-1234 cuda2 CUDA7 GPU4 GPUx"), [
    "CUDA0",
    "CUDA1",
    "CUDA7",
    "GPU4",
  ]);
  assert.deepEqual(parseGpuNames(undefined), []);
  assert.deepEqual(parseGpuNames(""), []);
});
