import assert from "node:assert/strict";
import { test } from "node:test";
import { attrNameIssues } from "../../src/ads/glidein-attrs.js";

test("a configuration's attribute names: bad names refused, two spellings of one name refused", () => {
  assert.deepEqual(attrNameIssues(["VO_Dir", "VO_Queue"]), []);
  assert.deepEqual(attrNameIssues(["VO_Dir", "vo_dir"]), [
    { name: "vo_dir", message: "the same ClassAd name as VO_Dir (names ignore case)" },
  ]);
  assert.deepEqual(attrNameIssues(["LD_PRELOAD", "1bad"]), [
    { name: "LD_PRELOAD", message: "a name the system sets itself" },
    { name: "1bad", message: "not a ClassAd name (a letter or _, then letters, digits, _)" },
  ]);
});

test("names that need not be valid are still checked for two spellings", () => {
  const published = (name: string) => name === "VO_Queue";
  assert.deepEqual(attrNameIssues(["LD_PRELOAD", "ld_preload", "VO_Queue"], published), [
    { name: "ld_preload", message: "the same ClassAd name as LD_PRELOAD (names ignore case)" },
  ]);
});
