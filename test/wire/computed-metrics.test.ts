/**
 * Computed gauges and counters write each series' name and labels themselves, once, and keep
 * their series from page to page: their text must be what prom-client writes for the same
 * values, escaping included, and the bound must hold as names come and go.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Gauge, Registry } from "prom-client";
import { ComputedCounter, ComputedGauge, labelValue, OTHER } from "../../src/wire/metric-labels.js";

type Row = [value: number, a: string, b: string];

/** A computed gauge over `rows` and prom-client's own gauge set to the same sums. */
function pages(max: number) {
  let rows: Row[] = [];
  const mine = new Registry();
  new ComputedGauge({
    name: "t_pilots",
    help: "h",
    labelNames: ["entry", "client"],
    registers: [mine],
    max,
    read(add) {
      for (const [v, a, b] of rows) add(v, a, b);
    },
  });
  const reference = new Registry();
  const g = new Gauge({
    name: "t_pilots",
    help: "h",
    labelNames: ["entry", "client"],
    registers: [reference],
  });
  return {
    set(next: Row[]) {
      rows = next;
      g.reset();
      const seen = new Set<string>();
      for (const [v, a, b] of next) {
        const key = `${a}\u0000${b}`;
        const full = !seen.has(key) && seen.size >= max - 1;
        if (!full) seen.add(key);
        const labels = full ? { entry: OTHER, client: OTHER } : { entry: a, client: b };
        g.inc(labels, v);
      }
    },
    mine: () => mine.metrics(),
    reference: () => reference.metrics(),
  };
}

test("a computed gauge's page is prom-client's for the same sums, escaping included", async () => {
  const p = pages(100);
  const odd = labelValue('fe "quoted" \\ back\nslash');
  p.set([
    [1, "CE_A", "fe.main"],
    [2, "CE_A", odd],
    [3, "CE_B", "fe.main"],
    [4, "CE_A", "fe.main"],
  ]);
  assert.equal(await p.mine(), await p.reference());
  assert.match(
    await p.mine(),
    /^t_pilots\{entry="CE_A",client="fe \\"quoted\\" \\\\ back\?slash"\} 2$/m,
  );
});

test("series come and go across pages and the bound holds, the rest summed as _other", async () => {
  const p = pages(5);
  const page = (names: string[]) => names.map((n, i): Row => [i + 1, "E", n]);
  for (const names of [
    ["a", "b", "c"],
    ["a", "b", "c", "d", "e", "f", "g"],
    ["g", "f", "e", "d", "c", "b", "a"],
    ["x"],
    [],
    Array.from({ length: 40 }, (_, i) => `n${i}`),
    ["a", "a", "b"],
  ]) {
    p.set(page(names));
    assert.equal(await p.mine(), await p.reference(), names.join(","));
  }
});

test("a computed counter writes its lines like a counter", async () => {
  const r = new Registry();
  new ComputedCounter({
    name: "t_done_total",
    help: "h",
    labelNames: ["entry"],
    registers: [r],
    read(add) {
      add(3, "e1");
      add(4, "e1");
    },
  });
  assert.equal(
    await r.metrics(),
    '# HELP t_done_total h\n# TYPE t_done_total counter\nt_done_total{entry="e1"} 7\n',
  );
});
