/**
 * Output names at submit: `output`, `error` and `transfer_output_files` that would leave the
 * sandbox or initialdir (absolute, `..`) or write through a link are refused with FILE:LINE;
 * `transfer_output_remaps` becomes `TransferOutputRemaps`, expanded per job.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { CWD, DEFAULT_FILES, errorsOf, jobOf, jobsOf } from "./helpers.js";

const HEADER = "executable = run.sh\n";

const attacks: [string, RegExp][] = [
  ["output = ../../.bashrc", /output '..\/..\/.bashrc' leaves initialdir through '..'/],
  ["error = logs/../../x.err", /error 'logs\/..\/..\/x.err' leaves initialdir/],
  ["output = /home/bob/.ssh/authorized_keys", /is an absolute path; give a path relative/],
  ["transfer_output_files = ../escape.txt", /output '..\/escape.txt' leaves initialdir/],
  ["transfer_output_files = ok.txt, /etc/cron.d/job", /output '\/etc\/cron.d\/job' is an absolute/],
  ["output = linked.out", /output 'linked.out' is a symbolic link in initialdir/],
  ["transfer_output_files = linked.out", /is a symbolic link in initialdir/],
  ["transfer_output_remaps = a.txt", /'a.txt' is not 'name = newname'/],
  ['transfer_output_remaps = "a.txt = ../../x"', /target '..\/..\/x' must name a file/],
  ['transfer_output_remaps = "/etc/passwd = x"', /'\/etc\/passwd' is not an output name/],
];

const files = { ...DEFAULT_FILES, [`${CWD}/linked.out`]: "-> /home/bob/.profile" };

for (const [line, pattern] of attacks) {
  test(`attack refused at submit: ${line}`, () => {
    const errors = errorsOf(`${HEADER}${line}\nqueue\n`, files);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].line, 2);
    assert.match(errors[0].message, pattern);
  });
}

test("/dev/null and relative names in subdirectories are fine", () => {
  const job = jobOf(
    `${HEADER}output = out/job.out\nerror = /dev/null\n` +
      "transfer_output_files = histos.root, results/\nqueue\n",
  );
  assert.equal(job.get("Out"), '"out/job.out"');
  assert.equal(job.get("Err"), '"/dev/null"');
  assert.equal(job.get("TransferOutput"), '"histos.root,results/"');
});

test("transfer_output_remaps is expanded per job, renames and subdirectories kept", () => {
  const jobs = jobsOf(
    `${HEADER}transfer_output_files = histos.root, log.txt\n` +
      'transfer_output_remaps = "histos.root = out/histos_$(Process).root; log.txt = /data/alice/log_$(Cluster).txt"\n' +
      "queue 2\n",
  );
  assert.equal(
    jobs[0].get("TransferOutputRemaps"),
    '"histos.root = out/histos_0.root;log.txt = /data/alice/log_42.txt"',
  );
  assert.equal(
    jobs[1].get("TransferOutputRemaps"),
    '"histos.root = out/histos_1.root;log.txt = /data/alice/log_42.txt"',
  );
});
