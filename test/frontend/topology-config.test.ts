/**
 * The frontend's pool topology settings: the user pool's collectors, the collectors it shares
 * with the factories, and the refusals of a collector list that cannot work, each with its path
 * and line.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../src/common/config.js";
import {
  factoryCollectorUrls,
  parseFrontendConfig,
  poolCollectorUrls,
} from "../../src/frontend/config.js";

const rest = `schedds: [wss://s:9619]
security: { identity: /CN=fe, credentials: [{ file: /p }] }
factories: [{ name: f, identity: /CN=f }]
groups: [{ name: main }]
`;

function problems(text: string): ConfigError["problems"] {
  try {
    parseFrontendConfig(text, "fe.yaml");
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

test("a pool collector pair and a separate factory collector load in order", () => {
  const cfg = parseFrontendConfig(`name: fe
collector:
  urls: [wss://pool-a:9618, wss://pool-b:9618]
factory_collector:
  url: wss://wms:9618
${rest}`);
  assert.deepEqual(poolCollectorUrls(cfg), ["wss://pool-a:9618", "wss://pool-b:9618"]);
  assert.deepEqual(factoryCollectorUrls(cfg), ["wss://wms:9618"]);
});

test("without factory_collector the factories are met at the pool's collectors", () => {
  const cfg = parseFrontendConfig(`name: fe\ncollector: { url: wss://c:9618 }\n${rest}`);
  assert.deepEqual(poolCollectorUrls(cfg), ["wss://c:9618"]);
  assert.deepEqual(factoryCollectorUrls(cfg), ["wss://c:9618"]);
});

test("an empty collector list is refused at its line", () => {
  const ps = problems(`name: fe\ncollector:\n  urls: []\n${rest}`);
  assert.equal(ps.length, 1, JSON.stringify(ps));
  assert.equal(ps[0]!.path, "collector.urls");
  assert.equal(ps[0]!.line, 3);
  assert.match(ps[0]!.message, /empty/);
});

test("a collector URL that is not wss:// is refused at its line", () => {
  const ps = problems(`name: fe
collector:
  urls:
    - wss://a:9618
    - http://b:9618
factory_collector: { url: ws://wms:9618 }
${rest}`);
  const byPath = new Map(ps.map((p) => [p.path, p]));
  assert.equal(byPath.get("collector.urls[1]")?.line, 5, JSON.stringify(ps));
  assert.match(byPath.get("collector.urls[1]")!.message, /wss:\/\//);
  assert.equal(byPath.get("factory_collector.url")?.line, 6, JSON.stringify(ps));
});

test("a collector named twice is refused at the second one, however it is spelt", () => {
  const ps = problems(`name: fe
collector:
  urls:
    - wss://pool-a:9618/
    - wss://POOL-A:9618
${rest}`);
  assert.equal(ps.length, 1, JSON.stringify(ps));
  assert.equal(ps[0]!.path, "collector.urls[1]");
  assert.equal(ps[0]!.line, 5);
  assert.match(ps[0]!.message, /duplicate collector/);
});

test("url and urls together, or neither, are refused", () => {
  const both = problems(`name: fe\ncollector: { url: wss://a:1, urls: [wss://b:1] }\n${rest}`);
  assert.deepEqual(
    both.map((p) => p.path),
    ["collector.urls"],
  );
  const neither = problems(`name: fe\ncollector: {}\n${rest}`);
  assert.deepEqual(
    neither.map((p) => p.path),
    ["collector.url"],
  );
});
