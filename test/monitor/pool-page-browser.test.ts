/**
 * The pool page in a real browser: Debian's chromium, headless, driven by playwright-core, loads
 * the page from a real collector with the monitor's client certificate, and finds the entries'
 * numbers, the jobs per owner, the failures, and drawn uPlot plots; the page logs no error and
 * breaks no CSP rule; an entry name carrying HTML is shown as text, never run; an empty table
 * says it is empty.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { plotsOf, startChromium, tableCells, type Chromium } from "../helpers/chromium.js";
import { HOSTILE_ENTRY, LAST_FAILURE, type PoolFixture, startPoolFixture } from "./pool-fixture.js";

let f: PoolFixture;
let browser: Chromium;

before(async () => {
  f = await startPoolFixture();
  // Two samples a minute apart, so the plots have a line to draw.
  f.c.daemon.sampleHistory();
  await f.setGoodput(1000 + 1800, 7200 + 3600);
  f.c.timers.advance(60_000);
  browser = await startChromium({ origin: `https://localhost:${f.port()}`, ...f.monitor });
});

after(async () => {
  await browser?.close();
  await f?.stop();
});

const openPage = () => browser.open(`https://localhost:${f.port()}/pool`);
const cells = tableCells;

test("the page shows the pool's numbers and draws the history plots", async () => {
  const { page, problems } = await openPage();
  await page.waitForSelector("body[data-plotted=day]", { timeout: 20_000 });
  const entries = await cells(page, "entries");
  assert.deepEqual(
    entries.find((r) => r[0] === "CE_A@factory1"),
    ["CE_A@factory1", "2", "5", "1", "4", "20", "entry.max_idle", ""],
  );
  assert.equal(entries.find((r) => r[0] === "CE_B@factory1")?.[7], "yes");
  assert.deepEqual(await cells(page, "jobs"), [
    ["schedd@submit.example.org", "alice", "10", "2", "1"],
    ["schedd@submit.example.org", "bob", "2", "1", "0"],
  ]);
  assert.deepEqual(await cells(page, "groups"), [
    ["vo", "main", "CE_A@factory1", "37", "4", "20", "idle_glideins_per_entry.max"],
  ]);
  assert.deepEqual((await cells(page, "failures"))[0], [
    "CE_A@factory1",
    "10",
    "3",
    "Network 1, WN_Resource 2",
    LAST_FAILURE,
  ]);
  // Each failed pilot on its own row, its markup shown as text.
  assert.deepEqual(await cells(page, "recent-failures"), [
    ["2026-12-07T04:10:00Z", "CE_A@factory1", "vo.main", "WN_Resource", LAST_FAILURE],
    [
      "2026-12-07T03:55:00Z",
      "CE_A@factory1",
      "vo.other",
      "Network",
      "pilot 5 failed (exit 1, download, Network): <i>timeout</i>",
    ],
  ]);
  assert.equal(await page.$$eval("#recent-failures i, #failures script", (n) => n.length), 0);
  // uPlot drew each plot on a canvas of its size, with the series in its legend.
  const plots = await plotsOf(page);
  const pilots = plots.find((p) => p.id === "plot-pilots");
  assert.ok(pilots?.canvas, JSON.stringify(plots));
  assert.deepEqual(pilots.legend.slice(1).sort(), ["held", "idle", "running"]);
  assert.ok(plots.find((p) => p.id === "plot-goodput")?.legend.includes("pool"));
  assert.ok(plots.find((p) => p.id === "plot-occupancy")?.legend.includes("pool"));
  assert.ok(plots.find((p) => p.id === "plot-jobs-running")?.legend.includes("CE_A@factory1"));
  assert.equal(plots.length, 8);
  // Some pixels of the pilots plot are drawn (not a blank canvas).
  const drawn = await page.$eval("#plot-pilots canvas", (c) => {
    const canvas = c as unknown as {
      width: number;
      height: number;
      getContext(k: "2d"): { getImageData(...a: number[]): { data: Uint8ClampedArray } };
    };
    const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) n++;
    return n;
  });
  assert.ok(drawn > 100, `${drawn} pixels drawn`);
  // Another range is fetched and drawn on a click.
  await page.click("#ranges button[data-range=month]");
  await page.waitForSelector("body[data-plotted=month]", { timeout: 20_000 });
  await page.close();
  assert.deepEqual(problems, []);
});

test("an entry name carrying HTML is shown as text and runs nothing", async () => {
  const { page, problems } = await openPage();
  await page.waitForSelector("#entries tbody tr");
  const names = (await cells(page, "entries")).map((r) => r[0]);
  assert.ok(names.includes(`${HOSTILE_ENTRY}@factory1`));
  assert.equal(await page.$$eval("#entries img", (imgs) => imgs.length), 0);
  assert.equal(await page.title(), "Updraft pool");
  await page.close();
  assert.deepEqual(problems, []);
});

test("a table with nothing to show says so, and a ratio's axis reads 0 to 1 at least", async () => {
  // Run last: the schedd's ad goes, so the jobs table is empty.
  await f.c.as("admin").invalidate({ type: "Scheduler", name: "schedd@submit.example.org" });
  // Past the 2 s for which the collector hands out its last rendering of the view.
  f.c.timers.advance(3_000);
  const { page, problems } = await openPage();
  await page.waitForSelector("body[data-plotted=day]", { timeout: 20_000 });
  assert.deepEqual(await cells(page, "jobs"), []);
  assert.equal(await page.textContent("#jobs tbody tr.empty td"), "no jobs in any schedd");
  assert.equal(await page.$$eval("#entries tbody tr.empty", (rows) => rows.length), 0);
  // The goodput plot's y axis spans 0 to at least 1, the jobs plot's starts at 0.
  const span = (id: string) =>
    page.$eval(`#${id}`, (d) => (d as { dataset: { y?: string } }).dataset.y ?? "");
  const [gMin, gMax] = (await span("plot-goodput")).split(" ").map(Number);
  assert.ok(gMin === 0 && gMax! >= 1, await span("plot-goodput"));
  assert.equal((await span("plot-jobs")).split(" ")[0], "0");
  await page.close();
  assert.deepEqual(problems, []);
});
