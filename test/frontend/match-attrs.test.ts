import assert from "node:assert/strict";
import { test } from "node:test";
import { deriveMatchAttrs, groupPolicies } from "../../src/frontend/group-policy.js";
import { minimalConfig } from "./helpers.js";

test("match_attrs: MY names are job attributes, TARGET names entry attributes", () => {
  const a = deriveMatchAttrs(
    "stringListMember(TARGET.GLIDEIN_Site, MY.DESIRED_Sites) && TARGET.GLIDEIN_CPUS >= MY.RequestCpus",
  );
  assert.deepEqual(a.job, ["desired_sites", "requestcpus"]);
  assert.deepEqual(a.factory, ["glidein_cpus", "glidein_site"]);
});

test("match_attrs: an unscoped name may come from either ad, so it is in both lists", () => {
  const a = deriveMatchAttrs("RequestMemory <= GLIDEIN_MaxMemMBs");
  assert.deepEqual(a.job, ["glidein_maxmemmbs", "requestmemory"]);
  assert.deepEqual(a.factory, ["glidein_maxmemmbs", "requestmemory"]);
});

test("match_attrs: names inside string literals are not attributes", () => {
  const a = deriveMatchAttrs('TARGET.GLIDEIN_Site == "TARGET.Fake" && MY.Owner =!= "MY.Other"');
  assert.deepEqual(a.job, ["owner"]);
  assert.deepEqual(a.factory, ["glidein_site"]);
});

test("match_attrs: the global match expression is and-ed in and read too", () => {
  const cfg = minimalConfig(`
match:
  match_expr: TARGET.GLIDEIN_Supported_VOs =!= undefined
`);
  const [p] = groupPolicies(cfg);
  assert.match(p!.matchText, /GLIDEIN_Supported_VOs.*&&.*stringListMember/s);
  assert.deepEqual(p!.matchAttrs.factory, ["glidein_site", "glidein_supported_vos"]);
});

test("match_attrs: configured lists win over derivation", () => {
  const cfg = minimalConfig(`    match_attrs:
      job: [DESIRED_Sites, Owner]
`);
  const [p] = groupPolicies(cfg);
  assert.deepEqual(p!.matchAttrs.job, ["desired_sites", "owner"]);
  assert.deepEqual(p!.matchAttrs.factory, ["glidein_site"], "factory list still derived");
});
