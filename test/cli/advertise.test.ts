import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  createPool,
  type Pool,
  type Running,
  startCollector,
  tempDir,
} from "../collector/harness.js";
import { runCli } from "./run-cli.js";

let pool: Pool;
let c: Running;
let env: NodeJS.ProcessEnv;
let tmp: ReturnType<typeof tempDir>;

before(async () => {
  pool = createPool();
  tmp = tempDir();
  c = await startCollector(pool);
  env = {
    PATH: process.env.PATH,
    HOME: tmp.dir,
    UPDRAFT_CONFIG: join(tmp.dir, "none.yaml"),
    UPDRAFT_POOL: c.url,
    X509_USER_CERT: pool.creds.pilot.certFile,
    X509_USER_KEY: pool.creds.pilot.keyFile,
    X509_CERT_DIR: pool.pki.caDir,
  };
});
after(async () => {
  await c.stop();
  tmp.cleanup();
  pool.cleanup();
});

const LONG_FORM = `# two slots in the old long form
MyType = "Slot"
Name = "slot1@long_a"
Cpus = 2
Requirements = TARGET.RequestCpus <= Cpus

Name = "slot1@long_b"
Cpus = 4
`;

test("advertise reads long-form ads separated by blank lines; --type fills MyType", async () => {
  const file = join(tmp.dir, "long.ad");
  writeFileSync(file, LONG_FORM);
  const r = await runCli(["advertise", file, "--type", "Slot"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /advertised 2 of 2 ads/);
  const ads = await c.as("reader").query({
    type: "Slot",
    constraint: 'regexp("^slot1@long_", Name)',
    projection: ["Name", "Cpus", "Requirements"],
  });
  assert.equal(ads.length, 2);
  assert.ok(ads.some((a) => a.Requirements === "TARGET.RequestCpus <= Cpus"));
});

test("advertise reads several new-syntax ads, and --invalidate removes them", async () => {
  const file = join(tmp.dir, "new.ad");
  writeFileSync(
    file,
    '[ MyType = "Slot"; Name = "slot1@new_a"; Cpus = 1 ]\n[ MyType = "Slot"; Name = "slot1@new_b"; Cpus = 1 ]\n',
  );
  assert.equal((await runCli(["advertise", "-pool", c.url, file], env)).code, 0);
  const count = async () =>
    (await c.as("reader").query({ type: "Slot", constraint: 'regexp("^slot1@new_", Name)' }))
      .length;
  assert.equal(await count(), 2);
  const r = await runCli(["advertise", "--invalidate", file], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /invalidated 2 of 2 ads/);
  assert.equal(await count(), 0);
});

test("refused ads are reported with the attribute and make the command fail", async () => {
  const file = join(tmp.dir, "mixed.ad");
  writeFileSync(
    file,
    '[ MyType = "GlideFactory"; Name = "entry_x" ]\n[ MyType = "Slot"; Name = "slot1@ok" ]\n',
  );
  const r = await runCli(["advertise", file], env);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /ad 1 'entry_x' refused \(attribute MyType\): writing GlideFactory ads needs role factory/,
  );
  assert.match(r.stdout, /advertised 1 of 2 ads/);
});

test("a file that does not parse is named with the line", async () => {
  const file = join(tmp.dir, "broken.ad");
  writeFileSync(file, 'MyType = "Slot"\nName = \nCpus = 1\n');
  const r = await runCli(["advertise", file], env);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /broken\.ad: .*line 2/);
});
