/**
 * A VO's attributes end to end on a demo pool whose frontend sets `attrs` and whose Nebraska
 * entry keeps one of them `const`: the real factory passes them to real local pilots, which
 * publish them on their Slot ads and export them to a job's environment.
 */
import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  DEMO_CONFIG,
  history,
  startTestPool,
  unquote,
  waitFor,
  type TestPool,
} from "./pool-harness.js";

const configDir = mkdtempSync(join(tmpdir(), "updraft-vo-attrs-config-"));
let tp: TestPool;

before(async () => {
  cpSync(DEMO_CONFIG, configDir, { recursive: true });
  const fe = join(configDir, "frontend.yaml");
  writeFileSync(
    fe,
    readFileSync(fe, "utf8").replace(
      "\ngroups:\n",
      `
attrs:
  VO_Software_Dir: { value: /cvmfs/demo.example.org, glidein_publish: true, job_publish: true }
  VO_Flavour: { value: from-frontend, glidein_publish: true, job_publish: true }
  VO_BigSlot: { value: "TotalCpus >= 4", type: expr, glidein_publish: true }
groups:
`,
    ),
  );
  const fa = join(configDir, "factory.yaml");
  writeFileSync(
    fa,
    readFileSync(fa, "utf8").replace(
      "GLIDEIN_Site: { value: US_Nebraska, type: string }",
      `GLIDEIN_Site: { value: US_Nebraska, type: string }
      VO_Flavour: { value: nebraska-const, const: true, glidein_publish: true, job_publish: true }`,
    ),
  );
  tp = await startTestPool({ configDir });
});
after(async () => {
  await tp?.close();
  rmSync(configDir, { recursive: true, force: true });
});

test("attributes are published on slot ads, a const entry attribute kept, and seen by jobs", async () => {
  const sub = join(tp.jobsDir, "attrs.sub");
  writeFileSync(
    sub,
    `executable = /bin/sh
transfer_executable = false
arguments = "-c 'echo $VO_Software_Dir,$VO_Flavour,$GLIDEIN_Site_Job'"
environment = "GLIDEIN_Site_Job=$$(GLIDEIN_Site)"
output = out/attrs.$(Process).out
error = out/attrs.$(Process).err
request_cpus = 1
request_memory = 256 MB
request_disk = 1 MB
requirements = GLIDEIN_Site == "US_Nebraska" || GLIDEIN_Site == "DE_DESY"
queue 4
`,
  );
  const r = await tp.cli(["submit", sub]);
  const m = /submitted to cluster (\d+)/.exec(r.stdout);
  assert.ok(r.code === 0 && m, r.stdout + r.stderr);
  const cluster = Number(m[1]);
  await waitFor(
    "slots at both CPU sites",
    async () => {
      const slots = await tp.clients.collector.query({ type: "Slot" });
      const sites = new Set(slots.map((s) => unquote(s.GLIDEIN_Site)));
      return sites.has("US_Nebraska") && sites.has("DE_DESY") ? true : undefined;
    },
    180_000,
  );
  const slots = await tp.clients.collector.query({ type: "Slot" });
  for (const s of slots) {
    const site = unquote(s.GLIDEIN_Site);
    if (site !== "US_Nebraska" && site !== "DE_DESY") continue;
    assert.equal(unquote(s.VO_Software_Dir), "/cvmfs/demo.example.org", s.Name);
    assert.equal(
      unquote(s.VO_Flavour),
      site === "US_Nebraska" ? "nebraska-const" : "from-frontend",
      `${s.Name}: the entry's const value wins where it is set`,
    );
    assert.equal(s.VO_BigSlot, "TotalCpus >= 4", "published as an expression, not a string");
  }
  await waitFor(
    "the jobs to finish",
    async () => ((await history(tp, [cluster])).length === 4 ? true : undefined),
    180_000,
  );
  const out = await tp.cli(["transfer-output", String(cluster)]);
  assert.equal(out.code, 0, out.stderr);
  const lines = [0, 1, 2, 3].map((p) =>
    readFileSync(join(tp.jobsDir, "out", `attrs.${p}.out`), "utf8").trim(),
  );
  for (const line of lines) {
    const [dir, flavour, site] = line.split(",");
    assert.ok(site === "US_Nebraska" || site === "DE_DESY", `the job knows its site: ${line}`);
    assert.equal(dir, "/cvmfs/demo.example.org", line);
    assert.equal(flavour, site === "US_Nebraska" ? "nebraska-const" : "from-frontend", line);
  }
});
