/**
 * A slot ad the collector refuses is SlotRefusedError (slot-refused), carrying the collector's
 * code and reason: the pilot's loop logs it and tries again. The collector here is a stand-in
 * that answers one refusal, as a real one answers an ad over its bounds.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassAd } from "../../src/classad/index.js";
import type { CollectorClient } from "../../src/collector/client.js";
import { hasErrorCode } from "../../src/common/errors.js";
import { collectorAdvertiser } from "../../src/pilot/connect.js";

test("a refused slot ad is slot-refused, with the collector's code and reason", async () => {
  const refusing = {
    advertise: async () => [{ ok: false, code: "over-limit", message: "too many attributes" }],
  } as unknown as CollectorClient;
  const ad = new ClassAd();
  ad.set("Name", '"slot1@pilot"');
  await assert.rejects(collectorAdvertiser(refusing).advertise(ad), (err: Error) => {
    assert.ok(hasErrorCode(err, "slot-refused"), String(err));
    assert.equal(err.message, "collector refused the slot ad: over-limit too many attributes");
    return true;
  });
});
