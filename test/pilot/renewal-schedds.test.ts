/**
 * A pilot reaches a schedd its frontend found after the pilot was submitted: a real collector, two
 * real schedds advertising their Scheduler ads, the real frontend daemon with `schedds: all`
 * renewing its pilots' tokens, and a pilot submitted knowing only the first schedd. The second
 * schedd starts after the pilot; its job runs on that pilot once a renewal names the schedd, and
 * not before.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runPilotProcess } from "../../src/pilot/pilot-main.js";
import { createScheddDaemon, type ScheddDaemon } from "../../src/schedd/daemon.js";
import { scheddClient } from "../../src/schedd/client.js";
import { createLogger } from "../../src/common/logger.js";
import {
  ANY_AUDIENCE,
  createPilotIssuer,
  startRenewingFrontend,
  startTokenCollector,
  tokenPilotSettings,
  writeFirstPilotToken,
} from "../helpers/renewal-pool.js";
import { DN, job, rpcFor, scheddConfig, submit, testPki } from "../schedd/harness.js";
import { createNodeFixture } from "./node-fixture.js";

/** The test CA's host certificate, which both schedds present. */
const SCHEDD_DN = "/DC=org/DC=example/CN=localhost";
const TOKEN_S = 60;
const WALLTIME_S = 600;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  "a pilot runs a job from a schedd its frontend found after the pilot was submitted",
  { timeout: 10 * 60_000 },
  async (t) => {
    const { pki, creds } = testPki();
    const dir = mkdtempSync(join(tmpdir(), "updraft-renewal-schedds-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const issuer = await createPilotIssuer(dir);
    const { tokens, pilotRule } = issuer;
    const { url: collectorUrl, reader } = await startTokenCollector(t, {
      name: "collector@renewal-schedds",
      pki,
      creds,
      issuer,
      rules: [
        { identity: SCHEDD_DN, roles: ["daemon", "read"] },
        { identity: DN.frontend, roles: ["frontend", "read"] },
      ],
    });

    /** A real schedd that takes the frontend's pilot tokens and advertises to the collector. */
    const daemons: ScheddDaemon[] = [];
    t.after(() => Promise.all(daemons.map((d) => d.stop())));
    async function startScheddDaemon(name: string) {
      const base = scheddConfig(pki, join(dir, name));
      const daemon = createScheddDaemon(
        scheddConfig(pki, join(dir, name), {
          name,
          tokens,
          authorization: {
            rules: [...base.authorization.rules, pilotRule],
            default_roles: [],
          },
          collector: { url: collectorUrl, interval_s: 2 },
        }),
      );
      daemons.push(daemon);
      await daemon.start();
      const url = daemon.schedd().url();
      const rpc = rpcFor(pki, creds, "alice", url);
      t.after(() => rpc.close());
      return { url, alice: scheddClient(rpc) };
    }
    const first = await startScheddDaemon("first@renewal-schedds");

    const config = await startRenewingFrontend(t, {
      pki,
      creds,
      issuer,
      collectorUrl,
      schedds: "all",
      scheddIdentities: [SCHEDD_DN],
      tokenS: TOKEN_S,
      walltimeS: WALLTIME_S,
      logLevel: process.env.DEBUG_PILOT ? "debug" : "warn",
    });

    // The pilot's first token, as the frontend hands it to the factory while only the first
    // schedd is known: signed for the collector and that schedd.
    const credentialFile = join(dir, "pilot-token");
    await writeFirstPilotToken(
      config,
      [collectorUrl, first.url, ANY_AUDIENCE],
      WALLTIME_S,
      credentialFile,
    );
    const node = createNodeFixture();
    t.after(() => node.cleanup());
    const settings = tokenPilotSettings({
      pilotId: "pilot-renewal-schedds",
      workDir: join(dir, "work"),
      collector: collectorUrl,
      schedds: [first.url],
      credentialFile,
      trustDir: pki.caDir,
      walltimeS: WALLTIME_S,
      maxIdleS: 400,
      graceS: 10,
    });
    const terminate = new AbortController();
    let output = "";
    const pilot = runPilotProcess(settings, {
      view: node.view(undefined, { nodeCpus: 1 }),
      write: (s) => (output += s),
      terminate: terminate.signal,
      log: createLogger({ name: "pilot", level: process.env.DEBUG_PILOT ? "debug" : "silent" }),
    });
    t.after(async () => {
      terminate.abort();
      await pilot;
    });

    /** The pilot's slot ad once the collector holds it. */
    const slot = async () => (await reader.query({ type: "Slot" }))[0];
    async function waitFor<T>(what: string, get: () => Promise<T | undefined>, ms: number) {
      const until = Date.now() + ms;
      for (;;) {
        const v = await get().catch(() => undefined);
        if (v !== undefined) return v;
        if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${output}`);
        await sleep(1_000);
      }
    }
    const firstSlot = await waitFor("the pilot's slot ad", slot, 120_000);
    const firstExpiry = Number(firstSlot.UpdraftCredentialExpiry);
    assert.ok(firstExpiry > 0, JSON.stringify(firstSlot));

    // Now a second schedd appears, with a job the pilot could run; the frontend finds it through
    // its Scheduler ad.
    const second = await startScheddDaemon("second@renewal-schedds");
    assert.notEqual(second.url, first.url);
    const cluster = await submit(second.alice, [
      job({
        TransferExecutable: "false",
        Cmd: '"/bin/sh"',
        Arguments: "\"-c 'echo from-second'\"",
        RequestMemory: "64",
      }),
    ]);
    const submittedS = Math.floor(Date.now() / 1000);

    // The renewal the frontend advertises names the second schedd, and signs the token for it.
    const renewal = await waitFor(
      "the frontend's renewal naming the second schedd",
      async () => {
        const ads = await reader.query({ type: "PilotCredential" });
        const ad = ads.find((a) => (a.UpdraftSchedds ?? "").includes(second.url));
        return ad ? { ad, seenS: Math.floor(Date.now() / 1000) } : undefined;
      },
      180_000,
    );
    assert.equal(renewal.ad.AuthenticatedIdentity, JSON.stringify(DN.frontend));
    assert.deepEqual(
      (JSON.parse(renewal.ad.UpdraftSchedds!) as string).split(",").sort(),
      [first.url, second.url].sort(),
    );
    const done = await waitFor(
      "the second schedd's job to complete",
      async () => {
        const h = await second.alice.query({
          constraint: `ClusterId == ${cluster}`,
          history: true,
        });
        return h[0]?.JobStatus === "4" ? h[0] : undefined;
      },
      180_000,
    );
    assert.equal(done.ExitCode, "0");
    // On this pilot (its slot's name after the slot number), and only once the renewal was out:
    // the job waited at the second schedd from well before it.
    const pilotName = (JSON.parse(firstSlot.Name!) as string).replace(/^slot\d+@/, "");
    assert.ok((done.LastRemoteHost ?? "").includes(pilotName), done.LastRemoteHost);
    const startS = Number(done.JobStartDate ?? done.JobCurrentStartDate);
    assert.ok(Number.isFinite(startS), JSON.stringify(done));
    assert.ok(
      startS >= renewal.seenS - 2,
      `job started at ${startS}, before the renewal naming its schedd (seen at ${renewal.seenS})`,
    );
    assert.ok(submittedS < renewal.seenS - 5, "the job waited at the second schedd before it");
    const now = await slot();
    assert.ok(Number(now?.UpdraftCredentialExpiry) > firstExpiry, "the pilot holds the renewal");

    terminate.abort();
    await pilot;
  },
);
