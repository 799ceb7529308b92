/** Slot names as HTCondor's startd writes them: a partitionable slot and its dynamic children. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { dynamicSlotName, parentSlotName } from "../../src/ads/slot.js";

test("a dynamic slot's name and back to its partitionable slot's", () => {
  const parent = "slot1@pilot-7@wn01.example.org";
  assert.equal(dynamicSlotName(parent, 12), "slot1_12@pilot-7@wn01.example.org");
  assert.equal(parentSlotName(dynamicSlotName(parent, 12)), parent);
  assert.equal(parentSlotName(parent), parent, "a partitionable slot is its own");
  assert.equal(parentSlotName("slot2_3"), "slot2");
  // Only the slot part is read: a pilot id that looks like a slot name stays as it is.
  assert.equal(parentSlotName("slot1@slot1_2@host"), "slot1@slot1_2@host");
  assert.equal(parentSlotName("glidein_1@host"), "glidein_1@host");
});
