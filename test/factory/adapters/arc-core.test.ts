/**
 * The arc adapter's pure parts, table by table: ARC answers normalised, ARC states mapped,
 * job descriptions written, settings validated, the journal read back, a delegation signed.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import forge from "node-forge";
import { signDelegation } from "../../../src/factory/adapters/arc/delegation-proxy.js";
import {
  toAdlBatch,
  toXrsl,
  toXrslBatch,
  type ArcJob,
} from "../../../src/factory/adapters/arc/job-description.js";
import { openJournal, parseJournal } from "../../../src/factory/adapters/arc/journal.js";
import { parseArcSettings } from "../../../src/factory/adapters/arc/settings.js";
import {
  ArcProtocolError,
  normaliseJobIds,
  normaliseJobList,
  parseDiagExitCode,
  toPilotStatus,
} from "../../../src/factory/adapters/arc/states.js";
import { commandFileName } from "../../../src/factory/adapters/arc/arc-adapter.js";
import { readBearerToken, readCaDir } from "../../../src/factory/adapters/arc/rest-client.js";
import { tokenOwner } from "../../../src/factory/adapters/arc/delegations.js";
import { hasErrorCode } from "../../../src/common/errors.js";
import { pemCertificates } from "../../../src/security/cert-info.js";
import { verifyChain } from "../../../src/security/verify.js";
import { createTestPki } from "../../helpers/pki.js";

test("one element as an object and several as an array normalise to a list", () => {
  const one = normaliseJobList(
    { job: { "status-code": "201", reason: "Created", id: "a", state: "ACCEPTING" } },
    "x",
  );
  assert.deepEqual(
    one.map((e) => [e.id, e.code, e.state]),
    [["a", 201, "ACCEPTING"]],
  );
  const two = normaliseJobList(
    {
      job: [
        { "status-code": "200", id: "a", state: "RUNNING" },
        { "status-code": "404", reason: "Job not found", id: "b", state: "None" },
      ],
    },
    "x",
  );
  assert.deepEqual(
    two.map((e) => [e.id, e.code, e.reason]),
    [
      ["a", 200, ""],
      ["b", 404, "Job not found"],
    ],
  );
});

test("nonsense answers are protocol errors naming the call and the element", () => {
  const cases: [unknown, RegExp][] = [
    [null, /POST x: the answer is not a JSON object/],
    [{}, /POST x: the answer has no "job" member/],
    [{ job: [1] }, /POST x: job\[0\] is not an object/],
    [{ job: [{ id: "a" }] }, /POST x: job\[0\] has no valid status-code/],
    [{ job: { "status-code": "abc", id: "a" } }, /job\[0\] has no valid status-code \("abc"\)/],
  ];
  for (const [body, want] of cases) {
    assert.throws(
      () => normaliseJobList(body, "POST x"),
      (e: Error) => {
        assert.ok(e instanceof ArcProtocolError);
        assert.match(e.message, want);
        return true;
      },
    );
  }
  assert.deepEqual(normaliseJobIds({}, "GET /jobs"), []);
  assert.deepEqual(normaliseJobIds({ job: { id: "a" } }, "GET /jobs"), ["a"]);
  assert.deepEqual(normaliseJobIds({ job: [{ id: "a" }, { id: "b" }] }, "GET /jobs"), ["a", "b"]);
  assert.throws(
    () => normaliseJobIds({ job: [{}] }, "GET /jobs"),
    /GET \/jobs: job\[0\] has no id/,
  );
});

test("ARC states map to adapter states", () => {
  type Row = [string, number, { exitCode?: number; errors?: string } | undefined, object];
  const rows: Row[] = [
    ["ACCEPTING", 200, undefined, { state: "Idle", waiting: true }],
    ["ACCEPTED", 200, undefined, { state: "Idle" }],
    ["PREPARING", 200, undefined, { state: "Idle" }],
    ["SUBMITTING", 200, undefined, { state: "Idle" }],
    ["QUEUING", 200, undefined, { state: "Idle" }],
    ["RUNNING", 200, undefined, { state: "Running" }],
    ["EXITINGLRMS", 200, undefined, { state: "Running" }],
    ["EXITINGLRMS", 200, { exitCode: 0 }, { state: "Finished", exitCode: 0 }],
    ["EXITINGLRMS", 200, { exitCode: 5 }, { state: "Finished", exitCode: 5 }],
    ["FINISHED", 200, undefined, { state: "Finished", exitCode: 0 }],
    ["FAILED", 200, { exitCode: 3 }, { state: "Finished", exitCode: 3 }],
    [
      "FAILED",
      200,
      { errors: "Job state change ACCEPTED -> PREPARING\nFailed to find runtime environment X\n" },
      {
        state: "Held",
        holdReason: "the CE failed the job: Failed to find runtime environment X",
        holdRecoverable: false,
      },
    ],
    [
      "FAILED",
      200,
      { exitCode: 127 },
      {
        state: "Held",
        holdReason: "the pilot command could not be executed on the CE (exit status 127)",
        holdRecoverable: false,
        exitCode: 127,
      },
    ],
    ["KILLING", 200, undefined, { state: "Removed" }],
    ["KILLED", 200, undefined, { state: "Removed" }],
    ["WIPED", 200, undefined, { state: "Unknown" }],
    ["None", 404, undefined, { state: "Unknown" }],
    [
      "HELD",
      200,
      undefined,
      { state: "Held", holdReason: "the CE holds the job (HELD)", holdRecoverable: true },
    ],
    [
      "SOMETHINGNEW",
      200,
      undefined,
      {
        state: "Held",
        holdReason: 'the CE reports a state this adapter does not know: "SOMETHINGNEW"',
        holdRecoverable: true,
      },
    ],
    [
      "RUNNING",
      500,
      undefined,
      {
        state: "Held",
        holdReason: "the CE answered 500 for this job: no reason given",
        holdRecoverable: true,
      },
    ],
  ];
  for (const [state, code, diag, want] of rows) {
    const got = toPilotStatus(
      "h",
      { code, reason: "", state },
      diag && { exitCode: diag.exitCode, errors: diag.errors ?? "" },
    );
    assert.deepEqual(got, { handle: "h", ...want }, `${state} ${code} ${JSON.stringify(diag)}`);
  }
});

test("the exit code is the last exitcode= line of the diag", () => {
  assert.equal(parseDiagExitCode("nodename=vm\nexitcode=3\n"), 3);
  assert.equal(parseDiagExitCode("exitcode=0\nWallTime=0.1s\nexitcode=4\n"), 4);
  assert.equal(parseDiagExitCode("nodename=vm\nProcessors=1\n"), undefined);
  assert.equal(parseDiagExitCode("exitcode=\n"), undefined);
});

const job = (over: Partial<ArcJob> = {}): ArcJob => ({
  name: "updraft-ab12-7",
  wrapper: "updraft-arc-wrapper.sh",
  command: "pilot.sh",
  args: ["--x", 'say "hi"'],
  env: { A: "1" },
  cpus: 2,
  memoryMb: 3000,
  walltimeS: 3601,
  runtimeEnvironments: [],
  ...over,
});

test("xRSL: every attribute, quotes doubled, memory per core, walltime in minutes", () => {
  assert.equal(
    toXrsl(job({ queue: "fork", runtimeEnvironments: ["ENV/X"], delegationId: "d1" })),
    '&(executable="/bin/sh")(arguments="updraft-arc-wrapper.sh" "pilot.sh" "--x" "say ""hi""")' +
      '(jobname="updraft-ab12-7")(stdout="stdout")(stderr="stderr")' +
      '(inputfiles=("updraft-arc-wrapper.sh" "") ("pilot.sh" ""))' +
      '(outputfiles=("stdout" "") ("stderr" ""))(count="2")(memory="1500")(walltime="61")' +
      '(environment=("A" "1"))(queue="fork")(runtimeenvironment="ENV/X")(delegationid="d1")',
  );
  assert.match(toXrslBatch([job(), job({ name: "n2" })]), /^\+\(&\(executable.*\)\(&\(executable/);
  assert.equal(toXrslBatch([job()]), toXrsl(job()));
});

test("ADL: escaped text, slots, memory in bytes, delegation and staged files", () => {
  const adl = toAdlBatch([job({ args: ["a<b&c"], delegationId: "d1", queue: "q" })]);
  assert.match(adl, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<ActivityDescription xmlns=/);
  assert.match(adl, /<Argument>a&lt;b&amp;c<\/Argument>/);
  assert.match(adl, /<NumberOfSlots>2<\/NumberOfSlots>/);
  assert.match(adl, /<IndividualPhysicalMemory>1572864000<\/IndividualPhysicalMemory>/);
  assert.match(adl, /<QueueName>q<\/QueueName>/);
  assert.match(adl, /<nordugrid-adl:DelegationID>d1<\/nordugrid-adl:DelegationID>/);
  assert.match(adl, /<InputFile><Name>pilot.sh<\/Name><\/InputFile>/);
  assert.match(adl, /<OutputFile><Name>stderr<\/Name><\/OutputFile>/);
  assert.match(toAdlBatch([job(), job()]), /<ActivityDescriptions><ActivityDescription /);
});

test("bad job fields are refused with what is wrong", () => {
  const cases: [Partial<ArcJob>, RegExp][] = [
    [{ args: ["a\0b"] }, /args\[0\] contains a NUL character/],
    [{ env: { "BAD-NAME": "x" } }, /env: "BAD-NAME" is not a valid variable name/],
    [{ command: "../x" }, /input file name "..\/x" is not a plain file name/],
    [{ command: "stdout" }, /input file name "stdout"/],
    [{ cpus: 0 }, /cpus must be a positive integer, got 0/],
    [{ walltimeS: 1.5 }, /walltimeS must be a positive integer/],
  ];
  for (const [over, want] of cases) assert.throws(() => toXrsl(job(over)), want);
});

test("the pilot command keeps its own name in the session when it is a plain one", () => {
  assert.equal(commandFileName("/opt/updraft/pilot.sh"), "pilot.sh");
  assert.equal(commandFileName("/x/has space"), "updraft-pilot");
  assert.equal(commandFileName("/x/stdout"), "updraft-pilot");
  assert.equal(commandFileName("/x/.hidden"), "updraft-pilot");
});

test("settings: defaults, and every problem listed with its path", () => {
  const s = parseArcSettings({
    endpoint: "https://ce.example.org:443/arex/",
    ca_dir: "/etc/grid-security/certificates",
    client_proxy: "/tmp/x509up",
  });
  assert.equal(s.endpoint, "https://ce.example.org:443/arex");
  assert.equal(s.dialect, "xrsl");
  assert.equal(s.delegation_renew_margin_s, 3600);
  const bad: [Record<string, unknown>, RegExp[]][] = [
    [
      { endpoint: "http://ce/arex", ca_dir: "/c", dialect: "jdl", bogus: 1 },
      [/endpoint: must be an https:\/\/ URL/, /dialect: /, /Unrecognized key.*bogus|bogus/],
    ],
    [
      { endpoint: "https://ce/arex", ca_dir: "/c" },
      [
        /client_proxy: required: client_proxy, client_token, client_cert with client_key, or frontend_tokens: true/,
      ],
    ],
    [
      { endpoint: "https://ce/arex", ca_dir: "/c", client_cert: "/c.pem" },
      [/client_key: client_cert and client_key go together/],
    ],
    [
      {
        endpoint: "https://ce/arex",
        ca_dir: "/c",
        client_cert: "/c.pem",
        client_key: "/k.pem",
        client_proxy: "/p",
      },
      [/client_proxy: give one of client_proxy, client_token, or client_cert with client_key/],
    ],
    [
      { endpoint: "https://ce/arex", ca_dir: "/c", client_proxy: "/p", client_token: "/t" },
      [/client_token: give one of client_proxy, client_token, or client_cert with client_key/],
    ],
  ];
  for (const [raw, wants] of bad) {
    assert.throws(
      () => parseArcSettings(raw),
      (e: Error) => {
        for (const w of wants) assert.match(e.message, w);
        return hasErrorCode(e, "arc-settings");
      },
    );
  }
});

const dir = mkdtempSync(join(tmpdir(), "updraft-arc-core-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the journal reads back what was appended, and survives a torn last line", () => {
  const file = join(dir, "j.jsonl");
  const j = openJournal(file);
  j.append([
    { t: "intent", intent: 1, name: "n1" },
    { t: "intent", intent: 2, name: "n2" },
    { t: "intent", intent: 3, name: "n3" },
  ]);
  j.append([
    { t: "job", intent: 1, name: "n1", id: "A" },
    { t: "failed", name: "n2" },
    { t: "removed", id: "A" },
  ]);
  writeFileSync(file, readFileSync(file, "utf8") + '{"t":"job","int');
  const k = openJournal(file);
  assert.deepEqual([...k.state.jobs], [["A", { intent: 1, name: "n1" }]]);
  assert.deepEqual([...k.state.pending], [["n3", 3]]);
  assert.deepEqual([...k.state.removed], ["A"]);
  k.append([{ t: "purge", id: "A" }]);
  const l = openJournal(file);
  assert.equal(l.state.jobs.size, 0);
  assert.equal(l.state.removed.size, 0);
  assert.deepEqual([...l.state.unclean], ["A"], "purged but not yet cleaned on the CE");
  l.append([{ t: "cleaned", id: "A" }]);
  assert.equal(openJournal(file).state.unclean.size, 0);
  assert.throws(
    () => parseJournal("nonsense\n{}\n", "f"),
    (e: Error) => hasErrorCode(e, "arc-journal") && e.message === "f:1: not a JSON record",
  );
});

test("a journal full of finished pilots is compacted on open to the same state", () => {
  const file = join(dir, "compact.jsonl");
  const j = openJournal(file);
  for (let i = 0; i < 600; i++) {
    j.append([
      { t: "intent", intent: i, name: `n${i}` },
      { t: "job", intent: i, name: `n${i}`, id: `id${i}` },
    ]);
    // All but a few end: purged, and most of those cleaned on the CE.
    if (i % 100 !== 0) j.append([{ t: "purge", id: `id${i}` }]);
    if (i % 100 !== 0 && i % 50 !== 0) j.append([{ t: "cleaned", id: `id${i}` }]);
  }
  j.append([
    { t: "intent", intent: 999, name: "n999" },
    { t: "removed", id: "id200" },
    { t: "deleg", key: "k", id: "D", credentialFile: "/c", notAfter: 5 },
  ]);
  const before = parseJournal(readFileSync(file, "utf8"), file);
  const linesBefore = readFileSync(file, "utf8").split("\n").length;
  const k = openJournal(file);
  const linesAfter = readFileSync(file, "utf8").split("\n").length;
  assert.ok(linesAfter < linesBefore / 10, `${linesBefore} lines became ${linesAfter}`);
  assert.deepEqual(k.state, before);
  assert.deepEqual(parseJournal(readFileSync(file, "utf8"), file), before);
  // Small journals are left as they are.
  const small = join(dir, "small.jsonl");
  openJournal(small).append([
    { t: "purge", id: "x" },
    { t: "cleaned", id: "x" },
  ]);
  openJournal(small);
  assert.equal(readFileSync(small, "utf8").split("\n").length, 3);
});

test("a delegation request is signed as an RFC 3820 proxy of the pilot credential", () => {
  const pki = createTestPki();
  after(() => pki.cleanup());
  // A-REX's own key for the delegated proxy; servers refuse RSA keys under 2048 bits.
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = keys.publicKey;
  csr.setSubject([{ name: "commonName", value: "ignored" }]);
  csr.sign(keys.privateKey);
  const csrPem = forge.pki.certificationRequestToPem(csr);
  const now = new Date();
  const signed = signDelegation(csrPem, pki.proxy.pem, { hours: 2, now });
  const chain = pemCertificates(signed.pem);
  // The new proxy, then the pilot proxy, then Alice: no private key travels.
  assert.equal(chain.length, 3);
  assert.doesNotMatch(signed.pem, /PRIVATE KEY/);
  const r = verifyChain(chain, pki.trust(), { now });
  assert.ok(r.ok, r.ok ? "" : r.reason);
  assert.equal(r.identity, pki.user.subject);
  assert.equal(r.proxyDepth, 2);
  assert.ok(Math.abs(signed.notAfter.getTime() - (now.getTime() + 2 * 3_600_000)) < 1000);
  const leafKey = forge.pki.certificateFromPem(
    forge.pem.encode({ type: "CERTIFICATE", body: chain[0]!.toString("binary") }),
  ).publicKey as forge.pki.rsa.PublicKey;
  assert.equal(leafKey.n.toString(16), keys.publicKey.n.toString(16));

  const tampered = csrPem.replace(
    /([A-Za-z0-9+/]{10})([A-Za-z0-9+/])/,
    (_m, a: string, b) => a + (b === "A" ? "B" : "A"),
  );
  assert.throws(
    () => signDelegation(tampered, pki.proxy.pem, { hours: 2, now }),
    /delegation request/,
  );
  assert.throws(
    () => signDelegation(csrPem, readFileSync(pki.user.certFile, "utf8"), { hours: 2, now }),
    /the pilot credential holds no private key/,
  );
});

test("an unusable CA directory or token file is an arc-credential error naming the setting and file", () => {
  const dir = mkdtempSync(join(tmpdir(), "arc-cred-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cases: [() => unknown, RegExp][] = [
    [() => readCaDir(join(dir, "missing")), /^ca_dir .*missing: cannot list: ENOENT/],
    [() => readCaDir(dir), /^ca_dir .*: no CA certificates \(<hash>\.0 files\)$/],
    [() => readBearerToken(join(dir, "no-token")), /^client_token .*no-token: cannot read/],
  ];
  writeFileSync(join(dir, "token"), "not a token\n", { mode: 0o600 });
  cases.push([
    () => readBearerToken(join(dir, "token"), "submit token"),
    /^submit token .*: not a JWT/,
  ]);
  writeFileSync(join(dir, "not-json"), "e30.bm90IGpzb24.c2ln\n", { mode: 0o600 });
  writeFileSync(join(dir, "no-sub"), "e30.e30.c2ln\n", { mode: 0o600 });
  cases.push(
    [() => tokenOwner(join(dir, "not-json")), /^submit token .*: its payload is not JSON$/],
    [() => tokenOwner(join(dir, "no-sub")), /^submit token .*: no iss or sub$/],
  );
  for (const [call, says] of cases) {
    assert.throws(call, (err: unknown) => {
      assert.ok(hasErrorCode(err, "arc-credential"), String(err));
      assert.match(err.message, says);
      return true;
    });
  }
});
