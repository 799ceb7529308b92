import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd, rank, requirementsHold, symmetricMatch } from "../../src/classad/index.js";

const ad = (text: string): ClassAd => ClassAd.parse(text);

test("OTEST is_a_match: job and machine Requirements both hold, in either order (§5.1)", () => {
  const job = ad('MyType = "Job"\nOwner = "alain"\nRequirements = (TARGET.Memory > 50)\n');
  const machine = ad(
    'MyType = "Machine"\nMemory = 100\nRequirements = (TARGET.owner == "alain")\n',
  );
  assert.equal(symmetricMatch(job, machine), true);
  assert.equal(symmetricMatch(machine, job), true);
  const small = ad('Memory = 40\nRequirements = (TARGET.owner == "alain")\n');
  assert.equal(symmetricMatch(job, small), false);
  const picky = ad('Memory = 100\nRequirements = (TARGET.owner != "alain")\n');
  assert.equal(symmetricMatch(job, picky), false);
});

test("non-zero numbers count as true; undefined, error, strings and no Requirements do not", () => {
  assert.equal(symmetricMatch(ad("[Requirements = 5]"), ad("[Requirements = 1.5]")), true);
  assert.equal(symmetricMatch(ad("[Requirements = 0]"), ad("[Requirements = true]")), false);
  assert.equal(symmetricMatch(ad('[Requirements = "yes"]'), ad("[Requirements = true]")), false);
  assert.equal(
    symmetricMatch(ad("[Requirements = Undefined_Thing]"), ad("[Requirements = true]")),
    false,
  );
  assert.equal(symmetricMatch(ad("[Requirements = 1/0]"), ad("[Requirements = true]")), false);
  assert.equal(symmetricMatch(ad("[foo = 3]"), ad("[requirements = other.foo == 3]")), false);
});

test("python bindings cases: one-way and symmetric", () => {
  const left = ad("[foo = 3]");
  const right = ad("[requirements = other.foo == 3]");
  assert.equal(requirementsHold(right, left), true);
  assert.equal(requirementsHold(left, right), false);
  assert.equal(
    symmetricMatch(
      ad("[requirements = other.foo == 3; bar = 1]"),
      ad("[requirements = other.bar == 1; foo = 3]"),
    ),
    true,
  );
  assert.equal(
    symmetricMatch(
      ad("[requirements = other.foo == 3]"),
      ad("[requirements = other.bar == 1; foo = 3]"),
    ),
    false,
  );
});

test("unscoped names missing from the job fall back to the slot (old semantics)", () => {
  assert.equal(
    symmetricMatch(ad("[Requirements = Memory > 50]"), ad("[Memory = 100; Requirements = true]")),
    true,
  );
});

test("tests.txt Job-1 matches Machine-1 but not Machine-2", () => {
  const job = ad(
    '[Requirements = (other.Type == "Machine" && other.memory >= 4000); Type = "Job"; Memoryused = 6000]',
  );
  const m1 = ad(
    '[Type = "machine"; Requirements = (other.Type == "job" && other.memoryused < 8000); Memory = 5000]',
  );
  const m2 = ad('[Type="Machine"; Requirements = other.mytype == "Job"; Memory = 3000]');
  assert.equal(symmetricMatch(job, m1), true);
  assert.equal(symmetricMatch(job, m2), false);
});

test("rank: numbers as they are, booleans 1/0, anything else 0 (§5.2)", () => {
  const slot = ad("[Memory = 2048; Mips = 1000; Flag = true]");
  assert.equal(rank(ad("[Rank = TARGET.Memory + TARGET.Mips]"), slot), 3048);
  assert.equal(rank(ad("[Rank = TARGET.Memory / 1024.0]"), slot), 2);
  assert.equal(rank(ad("[Rank = TARGET.Flag]"), slot), 1);
  assert.equal(rank(ad('[Rank = "high"]'), slot), 0);
  assert.equal(rank(ad("[Rank = TARGET.Nothing]"), slot), 0);
  assert.equal(rank(ad("[Other = 1]"), slot), 0);
});
