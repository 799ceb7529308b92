/**
 * One mechanism for HTCondor's one-dash long options: every long option a command declares is
 * also accepted with one dash, plus the aliases the command names; nothing else is rewritten.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { HtcondorCommand, singleDashSpellings } from "../../src/cli/htcondor-args.js";

function statusLike(): HtcondorCommand {
  const cmd = new HtcondorCommand("status", { autoformat: "af" })
    .option("--af <expr...>", "autoformat")
    .option("-l, --long", "long form")
    .option("--json", "JSON")
    .option("--constraint <expr>", "constraint")
    .option("--limit <n>", "limit")
    .argument("[names...]")
    .exitOverride()
    .action(() => undefined);
  return cmd as HtcondorCommand;
}

test("every declared long option is accepted with one dash, aliases too", async () => {
  const cmd = statusLike();
  await cmd.parseAsync(["-constraint", "Cpus > 1", "-json", "-limit", "5", "-autoformat", "Name"], {
    from: "user",
  });
  assert.deepEqual(cmd.opts(), {
    constraint: "Cpus > 1",
    json: true,
    limit: "5",
    af: ["Name"],
  });
});

test("a one-letter short option keeps its meaning", async () => {
  const cmd = statusLike();
  await cmd.parseAsync(["-l"], { from: "user" });
  assert.equal(cmd.opts().long, true);
  const cmd2 = statusLike();
  await cmd2.parseAsync(["-long"], { from: "user" });
  assert.equal(cmd2.opts().long, true);
});

test("values and anything after -- are not rewritten", async () => {
  const cmd = statusLike();
  await cmd.parseAsync(["-constraint", "-1 < Cpus", "--", "-json", "-long"], { from: "user" });
  assert.equal(cmd.opts().constraint, "-1 < Cpus");
  assert.equal(cmd.opts().json, undefined);
  assert.deepEqual(cmd.args, ["-json", "-long"]);
});

test("a one-dash spelling the command does not declare is still refused", async () => {
  const cmd = statusLike();
  cmd.configureOutput({ writeErr: () => undefined });
  await assert.rejects(cmd.parseAsync(["-xml"], { from: "user" }), /unknown option '-xml'/);
});

test("the spellings come from the command's own options, added at any time", () => {
  const cmd = new HtcondorCommand("q").option("--af <e...>", "");
  cmd.option("--pool <url>", "");
  assert.deepEqual(
    [...singleDashSpellings(cmd).entries()],
    [
      ["-af", "--af"],
      ["-pool", "--pool"],
    ],
  );
});
