/**
 * The VO bundle manifest a pilot downloads is hostile input until its hash checks, and the hash
 * only says the frontend wrote it: every line is bounded and checked, and a refusal names it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  formatVoBundle,
  parseVoBundle,
  VO_BUNDLE_HEADER,
  VO_BUNDLE_LIMITS,
} from "../../src/common/vo-bundle.js";
import { buildVoBundle, groupVoScripts } from "../../src/frontend/vo-bundle.js";
import { toCliError } from "../../src/cli/errors.js";
import { hasErrorCode } from "../../src/common/errors.js";
import { EXIT } from "../../src/common/exit-codes.js";
import type { CheckResult } from "../../src/pilot/failure.js";
import { periodicVerdict } from "../../src/pilot/periodic-scripts.js";

const H = "a".repeat(64);

test("a bundle the frontend builds reads back as it was written", () => {
  const files: Record<string, string> = {
    "/etc/vo/check.sh": "#!/bin/sh\nexit 0\n",
    "/etc/vo/squid.sh": "#!/bin/sh\nexit 0\n",
    "/opt/other/check.sh": "#!/bin/sh\nexit 1\n",
    "/etc/vo/wrap.sh": '#!/bin/sh\nexec "$@"\n',
  };
  const g = groupVoScripts(
    {
      scripts: [
        { file: "/etc/vo/check.sh", when: "start" },
        { file: "/etc/vo/squid.sh", when: "periodic", period_s: 600 },
      ],
      job_wrapper: { file: "/etc/vo/wrap.sh", timeout_s: 300 },
    },
    { scripts: [{ file: "/opt/other/check.sh", when: "start" }] },
  );
  const built = buildVoBundle(g, (f) => Buffer.from(files[f]!));
  const back = parseVoBundle(built.manifest);
  assert.ok(back.ok, JSON.stringify(back));
  assert.deepEqual(back.bundle, built.bundle);
  // Two scripts named check.sh do not collide; the order is the frontend's then the group's.
  assert.deepEqual(back.bundle.start, ["1-check.sh", "3-check.sh"]);
  assert.deepEqual(back.bundle.periodic, [{ path: "2-squid.sh", periodS: 600 }]);
  assert.equal(back.bundle.jobWrapper, "4-wrap.sh");
  assert.equal(formatVoBundle(back.bundle), built.manifest);
});

test("the frontend refuses a script it cannot read or that is over the bounds, naming it", () => {
  const g = groupVoScripts({ scripts: [{ file: "/missing.sh", when: "start" }] }, {});
  assert.throws(
    () =>
      buildVoBundle(g, () => {
        throw new Error("ENOENT");
      }),
    /VO script \/missing\.sh: ENOENT/,
  );
  const big = Buffer.alloc(VO_BUNDLE_LIMITS.fileBytes + 1);
  assert.throws(() => buildVoBundle(g, () => big), /VO script \/missing\.sh is over/);
});

test("a VO script the frontend cannot use is a vo-script error, which exits 78 naming it", () => {
  const g = groupVoScripts({ scripts: [{ file: "/missing.sh", when: "start" }] }, {});
  let err: unknown;
  try {
    buildVoBundle(g);
  } catch (e) {
    err = e;
  }
  assert.ok(hasErrorCode(err, "vo-script"), String(err));
  const cli = toCliError(err, "frontend");
  assert.equal(cli.exitCode, EXIT.config);
  assert.match(cli.message, /^frontend: VO script \/missing\.sh: ENOENT/);
});

test("hostile manifests are refused, each with the line that is wrong", () => {
  const cases: [string, RegExp][] = [
    ["not a bundle\n", /does not start with/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} ../../etc/passwd\n`, /unsafe path/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} /abs\n`, /unsafe path/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} sub/a.sh\n`, /unsafe path/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} ..\n`, /unsafe path/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} a b\n`, /needs a hash and a path/],
    [`${VO_BUNDLE_HEADER}\nfile XYZ a.sh\n`, /hash is not 64/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} a.sh\nfile ${H} a.sh\n`, /listed twice/],
    [`${VO_BUNDLE_HEADER}\nstart unlisted.sh\n`, /not a listed file/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} a.sh\nperiodic 0 a.sh\n`, /period/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} a.sh\nperiodic -5 a.sh\n`, /period/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} a.sh\nperiodic 99999999 a.sh\n`, /period/],
    [`${VO_BUNDLE_HEADER}\nfile ${H} a.sh\njob_wrapper a.sh\njob_wrapper a.sh\n`, /a second/],
    [`${VO_BUNDLE_HEADER}\nhook_timeout_s 1e9\n`, /within bounds/],
    [`${VO_BUNDLE_HEADER}\nrun rm -rf /\n`, /unknown directive/],
    [`${VO_BUNDLE_HEADER}\n${"#".repeat(VO_BUNDLE_LIMITS.manifestBytes)}\n`, /larger than/],
  ];
  for (const [text, why] of cases) {
    const r = parseVoBundle(text);
    assert.ok(!r.ok, text.slice(0, 80));
    assert.match(r.problem, why, text.slice(0, 80));
  }
  const many = [VO_BUNDLE_HEADER];
  for (let i = 0; i <= VO_BUNDLE_LIMITS.files; i++) many.push(`file ${H} f${i}.sh`);
  const r = parseVoBundle(many.join("\n"));
  assert.ok(!r.ok);
  assert.match(r.problem, /more than 64 files/);
});

test("the periodic verdict: all passing publishes their attributes; any failing says which and why", () => {
  const scripts = [
    { path: "/w/a.sh", periodMs: 1000 },
    { path: "/w/b.sh", periodMs: 1000 },
  ];
  const ok = periodicVerdict(
    scripts,
    new Map<string, CheckResult>([
      ["/w/a.sh", { ok: true, attrs: { VO_A: 1 } }],
      ["/w/b.sh", { ok: true, attrs: {} }],
    ]),
  );
  assert.deepEqual(ok, { ok: true, attrs: { VO_A: 1, GLIDEIN_PS_OK: true } });
  const bad = periodicVerdict(
    scripts,
    new Map<string, CheckResult>([
      ["/w/a.sh", { ok: true, attrs: { VO_A: 1 } }],
      ["/w/b.sh", { ok: false, failure: { class: "VO_Config", message: "squid down" } }],
    ]),
  );
  assert.equal(bad.ok, false);
  assert.equal(bad.attrs.GLIDEIN_PS_OK, false);
  assert.equal(bad.attrs.GLIDEIN_PS_FAILING_LIST, "/w/b.sh");
  assert.equal(bad.attrs.GLIDEIN_PS_FAILURE_REASON, "VO_Config: squid down");
  assert.equal(bad.attrs.VO_A, 1, "a passing script's attributes stay");
});

test("the periodic verdict keeps glideinWMS's history: scripts that ever failed and the last failure", () => {
  const scripts = [
    { path: "/w/a.sh", periodMs: 1000 },
    { path: "/w/b.sh", periodMs: 1000 },
  ];
  const history = {
    everFailed: ["/w/b.sh", "/w/a.sh"],
    lastFailure: { path: "/w/a.sh", reason: "VO_Config: disk full" },
  };
  const passing = new Map<string, CheckResult>([
    ["/w/a.sh", { ok: true, attrs: {} }],
    ["/w/b.sh", { ok: true, attrs: {} }],
  ]);
  // Passing again: OK, nothing failing, and what failed before still said.
  assert.deepEqual(periodicVerdict(scripts, passing, history).attrs, {
    GLIDEIN_PS_OK: true,
    GLIDEIN_PS_FAILED_LIST: "/w/b.sh,/w/a.sh",
    GLIDEIN_PS_FAILED_LAST: "/w/a.sh",
    GLIDEIN_PS_FAILED_LAST_REASON: "VO_Config: disk full",
  });
  const none = periodicVerdict(scripts, passing).attrs;
  assert.deepEqual(none, { GLIDEIN_PS_OK: true }, "no history, no failure attributes");
});
