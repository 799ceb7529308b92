/**
 * A frontend's new or changed request starts a factory cycle at once (the harness's cycle_s is an
 * hour, so only the wake can submit), while a re-advertisement of the same request is no news.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { createFactoryDaemon } from "../../src/factory/daemon.js";
import { createRequestMemory } from "../../src/factory/request-watch.js";
import { createFactoryWorld, type FactoryWorld, silent } from "./factory-harness.js";

let w: FactoryWorld;
before(async () => {
  w = await createFactoryWorld();
});
after(async () => {
  await w.cleanup();
});

async function until(fn: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) assert.fail("condition not reached");
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("a request advertised after the factory's cycle ran is acted on without waiting for the next one", async () => {
  const cfg = w.config({ top: { work_dir: join(w.dir, "work-wake") } });
  assert.equal(cfg.loop.cycle_s, 3600, "the next scheduled cycle is an hour away");
  const daemon = createFactoryDaemon(cfg, { logger: silent });
  const frontend = w.collector.as("frontend");
  try {
    await daemon.start();
    assert.equal(daemon.store.all().length, 0, "no request yet, no pilot");
    await frontend.advertise([w.glideClient()], "GlideClient");
    await until(() => daemon.store.all().length === 3);
  } finally {
    await daemon.stop();
    await frontend.invalidate({ type: "GlideClient", name: "local1@fact1@fe.main" });
  }
});

test("only a change of what the factory decides on, for this factory, is news", () => {
  const m = createRequestMemory("fact1");
  const ad = (over: Record<string, string> = {}) => ({
    Name: '"local1@fact1@fe.main"',
    ReqGlidein: '"local1@fact1"',
    ReqIdleGlideins: "3",
    ReqMaxGlideins: "10",
    ...over,
  });
  assert.equal(m.changed("present", ad()), false, "the set the watch starts with");
  assert.equal(m.changed("synced", null), false);
  assert.equal(m.changed("upserted", ad({ ReqMaxGlideins: "20" })), true);
  assert.equal(m.changed("upserted", ad()), true, "back as it was");
  assert.equal(m.changed("upserted", ad()), false, "the same request advertised again");
  assert.equal(m.changed("upserted", ad({ ReqIdleGlideins: "5" })), true);
  assert.equal(m.changed("upserted", ad({ ReqIdleGlideins: "5" })), false);
  assert.equal(m.changed("upserted", ad({ ReqIdleGlideins: "5", ReqRemoveExcess: '"ALL"' })), true);
  assert.equal(m.changed("expired", ad()), true, "a request gone");
  assert.equal(m.changed("invalidated", ad()), false, "already gone");
  const other = { Name: '"e@fact2@fe.main"', ReqGlidein: '"e@fact2"', ReqIdleGlideins: "9" };
  assert.equal(m.changed("present", other), false, "another factory's request");
  assert.equal(
    m.changed("upserted", ad({ ReqGlidein: '"local1@xfact1"' })),
    false,
    "a name ending alike",
  );
  assert.equal(m.changed("upserted", ad()), true);
  assert.equal(m.changed("upserted", ad({ ReqGlidein: '"local1@fact2"' })), true, "moved away");
});
