/**
 * Submit files in the style of the CMS Connect user guide, checked the way a schedd would use
 * them: the job ads are evaluated with the ClassAd engine against pilot slot ads.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, symmetricMatch } from "../../../src/classad/index.js";
import { jobOf, jobsOf } from "./helpers.js";

const GPU_JOB = `
universe = vanilla
executable = run.sh
arguments = --epochs 10
output = train.$(Cluster).$(Process).out
error = train.$(Cluster).$(Process).err
log = train.$(Cluster).log
request_cpus = 1
request_memory = 2 GB
request_disk = 1 GB
request_gpus = 1
requirements = CUDACapability >= 3
+DESIRED_Sites = "T2_US_UCSD,T2_US_Purdue"
+REQUIRED_OS = "rhel7"
+ProjectName = "cms.org.ucsd"
queue
`;

function slot(attrs: string): ClassAd {
  return ClassAd.parse(
    `[ Cpus = 4; Memory = 8192; Disk = 20000000; Requirements = true; ${attrs} ]`,
  );
}

const asAd = (text: string) => ClassAd.fromJSON(jobOf(text).toRecord());

test("a GPU slot with CUDACapability 7 matches the GPU job", () => {
  const job = asAd(GPU_JOB);
  assert.equal(symmetricMatch(job, slot("GPUs = 1; CUDACapability = 7.0")), true);
});

test("a CPU-only slot does not match the GPU job", () => {
  const job = asAd(GPU_JOB);
  assert.equal(symmetricMatch(job, slot("GPUs = 0")), false);
  assert.equal(symmetricMatch(job, slot("")), false);
});

test("a GPU slot with too old a CUDA capability does not match", () => {
  assert.equal(symmetricMatch(asAd(GPU_JOB), slot("GPUs = 1; CUDACapability = 2.1")), false);
});

test("a slot with too little memory does not match (default memory clause)", () => {
  const job = asAd(GPU_JOB);
  const small = ClassAd.parse(
    "[ Cpus = 4; Memory = 1024; Disk = 20000000; GPUs = 1; CUDACapability = 7; Requirements = true ]",
  );
  assert.equal(symmetricMatch(job, small), false);
});

test("the custom attributes evaluate to the strings the frontend reads", () => {
  const job = asAd(GPU_JOB);
  assert.equal(job.evaluate("DESIRED_Sites"), "T2_US_UCSD,T2_US_Purdue");
  assert.equal(job.evaluate("REQUIRED_OS"), "rhel7");
  assert.equal(job.evaluate("RequestMemory"), 2048);
  assert.equal(job.evaluate("RequestDisk"), 1048576);
  assert.equal(job.evaluate("Out"), "train.42.0.out");
});

test("a glideinWMS-style slot START expression sees the job's DESIRED_Sites", () => {
  const job = asAd(GPU_JOB);
  const start = (site: string) =>
    ClassAd.parse(
      `[ Cpus = 1; Memory = 4096; Disk = 2000000; GPUs = 1; CUDACapability = 7; GLIDEIN_CMSSite = "${site}";
         Requirements = stringListMember(GLIDEIN_CMSSite, TARGET.DESIRED_Sites) ]`,
    );
  assert.equal(symmetricMatch(job, start("T2_US_Purdue")), true);
  assert.equal(symmetricMatch(job, start("T2_CH_CERN")), false);
});

test("a CPU job of the user guide matches a CPU slot, one ad per item", () => {
  const jobs = jobsOf(`
executable = run.sh
arguments = $(Item)
request_cpus = 2
request_memory = 1500M
+DESIRED_Sites = "T2_US_UCSD"
queue Item in (a, b)
`);
  assert.equal(jobs.length, 2);
  for (const j of jobs) {
    const ad = ClassAd.fromJSON(j.toRecord());
    assert.equal(symmetricMatch(ad, slot("")), true);
    assert.equal(
      symmetricMatch(
        ad,
        ClassAd.parse("[ Cpus = 1; Memory = 8192; Disk = 2e7; Requirements = true ]"),
      ),
      false,
    );
  }
});
