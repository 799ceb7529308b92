/** Case-insensitive attribute lookup in job ads (attrKey and the helpers built on it). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { attrKey, deleteAttr, getAttr, setAttr } from "../../src/schedd/job-status.js";

test("a name is found in any case and keeps the job's own spelling", () => {
  const attrs = { RequestMemory: "2000", remotehost: '"slot1"', GLIDEIN_Site: '"X"' };
  assert.equal(attrKey(attrs, "requestmemory"), "RequestMemory");
  assert.equal(attrKey(attrs, "REQUESTMEMORY"), "RequestMemory");
  assert.equal(attrKey(attrs, "RemoteHost"), "remotehost");
  assert.equal(attrKey(attrs, "glidein_site"), "GLIDEIN_Site");
  setAttr(attrs, "REMOTEHOST", '"slot2"');
  assert.deepEqual(Object.keys(attrs), ["RequestMemory", "remotehost", "GLIDEIN_Site"]);
  assert.equal(getAttr(attrs, "RemoteHost"), '"slot2"');
  deleteAttr(attrs, "remoteHOST");
  assert.equal(getAttr(attrs, "RemoteHost"), undefined);
});

test("only letters fold: characters one case bit apart are different names", () => {
  // '_' (0x5F) and DEL (0x7F), '@' (0x40) and '`' (0x60), '1' (0x31) and 0x11 differ by 0x20.
  const attrs = { A_B: "1", "X@Y": "2", V1: "3" };
  assert.equal(attrKey(attrs, "a\u007fb"), undefined);
  assert.equal(attrKey(attrs, "x`y"), undefined);
  assert.equal(attrKey(attrs, "v\u0011"), undefined);
  assert.equal(attrKey(attrs, "a_b"), "A_B");
  assert.equal(attrKey(attrs, "RequestCpus"), undefined);
});

test("names beyond ASCII compare as their lower-case forms", () => {
  const attrs = { Änderung: "1" };
  assert.equal(attrKey(attrs, "änderung"), "Änderung");
  assert.equal(attrKey(attrs, "ÄNDERUNG"), "Änderung");
  assert.equal(attrKey(attrs, "Anderung"), undefined);
});
