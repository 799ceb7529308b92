import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { collectorCodecs } from "../../src/collector/service.js";
import { MalformedBatch, batchSize, decodeAdBatch } from "../../src/collector/wire-batch.js";

/** The ads of a raw batch as name -> text maps, for comparing with what was encoded. */
function readBack(bytes: Uint8Array): { type: string; ads: Record<string, string>[] } {
  const b = decodeAdBatch(bytes);
  const text = (s: number, e: number) => Buffer.from(b.buf.subarray(s, e)).toString("utf8");
  const ads: Record<string, string>[] = [];
  for (let i = 0; i < batchSize(b); i++) {
    const pairs: [string, string][] = [];
    for (let j = b.adStarts[i]!; j < b.adStarts[i + 1]!; j++) {
      const r = 4 * j;
      pairs.push([text(b.ranges[r]!, b.ranges[r + 1]!), text(b.ranges[r + 2]!, b.ranges[r + 3]!)]);
    }
    // fromEntries defines own properties, so a name such as "__proto__" is kept as a key.
    ads.push(Object.fromEntries(pairs));
  }
  return { type: b.type, ads };
}

test("the byte-range decoder reads back exactly what protobufjs encoded", () => {
  const attrs = fc.dictionary(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.string({ maxLength: 300 }),
    {
      maxKeys: 20,
    },
  );
  fc.assert(
    fc.property(fc.array(attrs, { maxLength: 8 }), fc.string({ maxLength: 10 }), (ads, type) => {
      const bytes = collectorCodecs.batch.encode({ ads: ads.map((a) => ({ attrs: a })), type });
      const back = readBack(bytes);
      assert.equal(back.type, type);
      assert.deepEqual(
        back.ads,
        ads.map((a) => ({ ...a })),
      );
    }),
    { numRuns: 300 },
  );
});

test("truncated or inconsistent bytes are refused as MalformedBatch", () => {
  const good = collectorCodecs.batch.encode({
    ads: [{ attrs: { Name: '"a"', Cpus: "1" } }],
    type: "Slot",
  });
  for (let cut = 1; cut < good.length; cut++) {
    try {
      decodeAdBatch(good.subarray(0, cut));
    } catch (err) {
      assert.ok(err instanceof MalformedBatch, `cut at ${cut}: ${String(err)}`);
    }
  }
  assert.throws(() => decodeAdBatch(Uint8Array.from([0x0a, 0x05, 0x0a])), MalformedBatch);
  assert.throws(() => decodeAdBatch(Uint8Array.from([0x0f])), MalformedBatch);
});
