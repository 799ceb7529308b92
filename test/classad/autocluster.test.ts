import assert from "node:assert/strict";
import { test } from "node:test";
import {
  ClassAd,
  parseExpression,
  references,
  signature,
  significantAttributes,
} from "../../src/classad/index.js";

test("references split what an expression reads from the other ad and from its own", () => {
  const job = ClassAd.parse(
    '[ RequestMemory = ImageSize * 2; ImageSize = 100; Requirements = TARGET.Memory >= RequestMemory && Arch == "X86_64" && MY.Owner =!= undefined ]',
  );
  const refs = references(job.getExpr("requirements")!, job);
  assert.deepEqual([...refs.external].sort(), ["arch", "memory"]);
  assert.deepEqual([...refs.internal].sort(), ["imagesize", "requestmemory"]);
});

test("TARGET.a.b and TARGET.a[0] count as a (TrimReferenceNames)", () => {
  const refs = references(parseExpression("TARGET.Ad.x + OTHER.List[0] + size(other.Sites)"), null);
  assert.deepEqual([...refs.external].sort(), ["ad", "list", "sites"]);
});

test("significant attributes: union over slot ads, built-in removals, extra removals", () => {
  const slots = [
    ClassAd.parse(
      '[ START = TARGET.RequestMemory <= Memory && TARGET.Owner =!= "mallory"; Memory = 100; Rank = TARGET.Mips + CurrentTime; L = {TARGET.Ignored} ]',
    ),
    ClassAd.parse(
      "[ Requirements = RequestCpus <= Cpus && TARGET.RemoteUserPrio < 5 && JobState =!= 1; Cpus = 4 ]",
    ),
  ];
  assert.deepEqual(significantAttributes(slots), ["owner", "requestcpus", "requestmemory"]);
  assert.deepEqual(
    significantAttributes([...slots, 'TARGET.x509UserProxyVOName == "cms"'], { remove: ["Owner"] }),
    ["requestcpus", "requestmemory", "x509userproxyvoname"],
  );
});

test("signatures: equal for interchangeable jobs, different when a significant value differs", () => {
  const attrs = ["requestmemory", "owner", "requestcpus"];
  const a = ClassAd.parse(
    '[ Owner = "alice"; RequestMemory = 2000; RequestCpus = 1; ClusterId = 1 ]',
  );
  const b = ClassAd.parse(
    '[ owner = "alice"; requestmemory = 2000; RequestCpus = 1; ClusterId = 2 ]',
  );
  const c = ClassAd.parse(
    '[ Owner = "alice"; RequestMemory = 4000; RequestCpus = 1; ClusterId = 3 ]',
  );
  const d = ClassAd.parse('[ Owner = "alice"; RequestMemory = 2000; ClusterId = 4 ]');
  assert.equal(signature(a, attrs), signature(b, attrs));
  assert.notEqual(signature(a, attrs), signature(c, attrs));
  assert.notEqual(signature(a, attrs), signature(d, attrs));
  assert.equal(signature(a, attrs), 'owner="alice"\nrequestcpus=1\nrequestmemory=2000\n');
  assert.equal(signature(d, ["RequestCpus"]), "requestcpus=\n");
});

test("a signature follows the job's own references (RequestMemory = ImageSize * 2)", () => {
  const small = ClassAd.parse("[ RequestMemory = ImageSize * 2; ImageSize = 100 ]");
  const big = ClassAd.parse("[ RequestMemory = ImageSize * 2; ImageSize = 900 ]");
  assert.notEqual(signature(small, ["requestmemory"]), signature(big, ["requestmemory"]));
  assert.equal(signature(small, ["requestmemory"]), "imagesize=100\nrequestmemory=ImageSize * 2\n");
});
