/**
 * A VO's attributes end to end on a demo pool whose frontend and group set `attrs`, whose
 * Nebraska entry keeps one of them `const` and whose DESY entry offers it as a default: the real
 * factory passes them to real local pilots, which publish on their Slot ads those marked
 * glidein_publish and export to a job's environment those marked job_publish, as glideinWMS does.
 * The group's value wins over the frontend's, the frontend's over a non-const entry default, and
 * a const entry value over both; an attribute that is no parameter reaches no pilot.
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
    readFileSync(fe, "utf8")
      .replace(
        "\ngroups:\n",
        `
attrs:
  VO_Software_Dir: { value: /cvmfs/demo.example.org, glidein_publish: true, job_publish: true }
  VO_Flavour: { value: from-frontend, glidein_publish: true, job_publish: true }
  VO_BigSlot: { value: "TotalCpus >= 4", type: expr, glidein_publish: true }
  VO_JobOnly: { value: job-only, job_publish: true }
  VO_SlotOnly: { value: slot-only, glidein_publish: true }
  VO_NotParam: { value: frontend-only, parameter: false }
groups:
`,
      )
      .replace(
        "  - name: main\n",
        `  - name: main
    attrs:
      VO_Software_Dir: { value: /cvmfs/main.example.org, glidein_publish: true, job_publish: true }
`,
      ),
  );
  const fa = join(configDir, "factory.yaml");
  writeFileSync(
    fa,
    readFileSync(fa, "utf8")
      .replace(
        "GLIDEIN_Site: { value: US_Nebraska, type: string }",
        `GLIDEIN_Site: { value: US_Nebraska, type: string }
      VO_Flavour: { value: nebraska-const, const: true, glidein_publish: true, job_publish: true }`,
      )
      .replace(
        "GLIDEIN_Site: { value: DE_DESY, type: string }",
        `GLIDEIN_Site: { value: DE_DESY, type: string }
      VO_Flavour: { value: desy-default, const: false, glidein_publish: true, job_publish: true }`,
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
arguments = "-c 'echo $VO_Software_Dir,$VO_Flavour,$GLIDEIN_Site_Job,\${VO_JobOnly:-none},\${VO_SlotOnly:-none},\${VO_NotParam:-none}'"
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
    assert.equal(unquote(s.VO_Software_Dir), "/cvmfs/main.example.org", `${s.Name}: the group's`);
    assert.equal(
      unquote(s.VO_Flavour),
      site === "US_Nebraska" ? "nebraska-const" : "from-frontend",
      `${s.Name}: the entry's const value wins where it is set`,
    );
    assert.equal(s.VO_BigSlot, "TotalCpus >= 4", "published as an expression, not a string");
    assert.equal(unquote(s.VO_SlotOnly), "slot-only", s.Name);
    assert.equal(s.VO_JobOnly, undefined, `${s.Name}: job_publish only`);
    assert.equal(s.VO_NotParam, undefined, `${s.Name}: no parameter`);
  }
  // What the operator sees: the group's attributes as its requests send them.
  const status = await tp.cli(["frontend", "status", "--group", "main"]);
  assert.equal(status.code, 0, status.stderr);
  const sent = /^attrs sent: (.*)$/m.exec(status.stdout)?.[1] ?? "";
  for (const shown of [
    'VO_Software_Dir="/cvmfs/main.example.org" [slot,job]',
    'VO_Flavour="from-frontend" [slot,job]',
    "VO_BigSlot=(TotalCpus >= 4) [slot]",
    'VO_JobOnly="job-only" [job]',
    'VO_SlotOnly="slot-only" [slot]',
  ]) {
    assert.ok(sent.split(", ").includes(shown), `${shown} in: ${status.stdout}`);
  }
  assert.doesNotMatch(sent, /VO_NotParam/, "an attribute that is no parameter is not sent");
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
    const [dir, flavour, site, jobOnly, slotOnly, notParam] = line.split(",");
    assert.ok(site === "US_Nebraska" || site === "DE_DESY", `the job knows its site: ${line}`);
    assert.equal(dir, "/cvmfs/main.example.org", line);
    assert.equal(flavour, site === "US_Nebraska" ? "nebraska-const" : "from-frontend", line);
    assert.deepEqual([jobOnly, slotOnly, notParam], ["job-only", "none", "none"], line);
  }
});
