import assert from "node:assert/strict";
import { test } from "node:test";

import { checkFactoryPin, createFactoryPinFilter } from "../../src/frontend/factory-pins.js";

const PINS = [{ name: "gf", identity: "/DC=org/CN=gf" }];
const ad = (factory: string, identity: string) => ({
  Name: '"ce@gf"',
  FactoryName: JSON.stringify(factory),
  AuthenticatedIdentity: JSON.stringify(identity),
});

test("an ad counts only from the identity pinned for its factory", () => {
  assert.deepEqual(checkFactoryPin(ad("gf", "/DC=org/CN=gf"), PINS), { ok: true });
  assert.equal(checkFactoryPin(ad("gf", "/DC=org/CN=gf/CN=x"), PINS).ok, false);
  const other = checkFactoryPin(ad("other", "/DC=org/CN=gf"), PINS);
  assert.ok(!other.ok && other.reason === "unpinned_factory");
  const unstamped = checkFactoryPin({ Name: '"x"', FactoryName: '"gf"' }, PINS);
  assert.ok(!unstamped.ok && unstamped.reason === "unreadable");
});

test("refused writers are reported once per interval, with the count", () => {
  let t = 0;
  const reports: number[] = [];
  const f = createFactoryPinFilter({
    pins: PINS,
    onRefused: (_v, count) => reports.push(count),
    log_interval_ms: 1000,
    now: () => t,
  });
  const forged = ad("gf", "/DC=org/CN=mallory");
  for (let i = 0; i < 5; i++) assert.deepEqual(f.filter([forged]), []);
  t = 1500;
  f.filter([forged, ad("gf", "/DC=org/CN=gf")]);
  assert.deepEqual(reports, [1, 5]);
});
