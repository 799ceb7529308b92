import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCycle } from "../../src/factory/cycle.js";
import { spreadOverCredentials } from "../../src/factory/cycle-requests.js";
import { oneRequestFactory } from "./one-request.js";

const dir = mkdtempSync(join(tmpdir(), "updraft-credsplit-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("new pilots go to the credential with fewest pilots, the first of equals", () => {
  const creds = [
    { id: "a", file: "/a" },
    { id: "b", file: "/b" },
    { id: "c", file: "/c" },
  ];
  const ids = (live: [string, number][], n: number) =>
    spreadOverCredentials(creds, new Map(live), n).map((c) => c.id);
  assert.deepEqual(ids([], 5), ["a", "b", "c", "a", "b"]);
  assert.deepEqual(
    ids(
      [
        ["a", 3],
        ["b", 1],
      ],
      4,
    ),
    ["c", "b", "c", "b"],
  );
  assert.deepEqual(spreadOverCredentials(creds.slice(0, 1), new Map(), 3), [], "one: no split");
});

test("a request carrying two credentials has its pilots split over them, each in its own file", async () => {
  const work = mkdtempSync(join(dir, "w-"));
  const pilotScript = join(work, "pilot.sh");
  writeFileSync(pilotScript, "#!/bin/sh\nsleep 600\n", { mode: 0o755 });
  const { deps, store } = oneRequestFactory(
    work,
    (seal) => ({
      ReqIdleGlideins: 4,
      ReqMaxGlideins: 8,
      GlideinEncParamCredential: seal("proxy-one"),
      GlideinEncParamCredential_1: seal("proxy-two"),
    }),
    8,
    { pilot: { command: pilotScript } },
  );
  assert.equal((await runCycle(deps)).submitted, 4);
  const byCred = new Map<string, number>();
  for (const p of store.live()) byCred.set(p.credentialId, (byCred.get(p.credentialId) ?? 0) + 1);
  assert.deepEqual([...byCred.values()], [2, 2]);
  const contents = [...byCred.keys()]
    .map((id) => readFileSync(join(work, "creds", "fe.g", `credential-${id}`), "utf8"))
    .sort();
  assert.deepEqual(contents, ["proxy-one", "proxy-two"]);
});
