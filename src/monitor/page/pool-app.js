// The pool page: tables from /pool/view.json every 10 s, plots from /pool/history.json every
// minute. Text from ads is set with textContent only, never parsed as HTML.
"use strict";

(function () {
  const LIVE_MS = 10_000;
  const HISTORY_MS = 60_000;
  let range = "day";
  const plots = new Map();

  const $ = (id) => document.getElementById(id);

  function cell(row, value, numeric) {
    const td = document.createElement("td");
    td.textContent = String(value);
    if (numeric) td.className = "n";
    row.appendChild(td);
  }

  // An empty table says so in one row (its text from the table's data-empty), so that a pool
  // without failures does not look like a page that failed to load.
  function fill(tableId, rows, columns, rowClass) {
    const table = $(tableId);
    const body = table.tBodies[0];
    body.replaceChildren();
    if (rows.length === 0) {
      const tr = document.createElement("tr");
      tr.className = "empty";
      const td = document.createElement("td");
      td.colSpan = columns.length;
      td.textContent = table.dataset.empty;
      tr.appendChild(td);
      body.appendChild(tr);
    }
    for (const r of rows) {
      const tr = document.createElement("tr");
      if (rowClass) tr.className = rowClass(r);
      for (const [key, numeric] of columns)
        cell(tr, typeof key === "function" ? key(r) : r[key], numeric);
      body.appendChild(tr);
    }
  }

  function classes(byClass) {
    return Object.keys(byClass)
      .sort()
      .map((k) => `${k} ${byClass[k]}`)
      .join(", ");
  }

  function showProblem(text) {
    const p = $("problem");
    p.textContent = text;
    p.hidden = !text;
  }

  async function getJson(path) {
    const res = await fetch(path, { cache: "no-store" });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${res.statusText}`);
    return res.json();
  }

  async function refreshLive() {
    const view = await getJson("/pool/view.json");
    fill(
      "entries",
      view.entries,
      [
        ["entry"],
        ["idle", true],
        ["running", true],
        ["held", true],
        ["requestedIdle", true],
        ["requestedMax", true],
        ["limits"],
        [(r) => (r.downtime ? "yes" : ""), false],
      ],
      (r) => (r.downtime ? "down" : ""),
    );
    fill("groups", view.groups, [
      ["frontend"],
      ["group"],
      ["entry"],
      ["matchingIdleJobs", true],
      ["requestedIdle", true],
      ["requestedMax", true],
      ["limits"],
    ]);
    fill("jobs", view.jobs, [
      ["schedd"],
      ["owner"],
      ["idle", true],
      ["running", true],
      ["held", true],
    ]);
    fill(
      "failures",
      view.entries.filter((e) => e.failed > 0 || e.lastError || e.submitError),
      [
        ["entry"],
        ["finished", true],
        ["failed", true],
        [(r) => classes(r.failedByClass)],
        [(r) => r.lastError || r.submitError],
      ],
    );
    fill("recent-failures", view.recentFailures, [
      [(r) => new Date(r.at).toISOString().replace(/\.\d+Z$/, "Z")],
      ["entry"],
      ["client"],
      ["failureClass"],
      ["error"],
    ]);
    $("no-history").hidden = view.history;
    $("updated").textContent = `updated ${new Date(view.at).toISOString()}`;
    return view.history;
  }

  function plotPanel(panel, xs) {
    const data = [xs, ...panel.lines.map((l) => l.values)];
    const series = [
      {},
      ...panel.lines.map((l, i) => ({ label: l.label, stroke: color(i), width: 1.5 })),
    ];
    let holder = plots.get(panel.id);
    if (holder && holder.series.length !== series.length) {
      holder.plot.destroy();
      holder.div.remove();
      holder = undefined;
    }
    if (!holder) {
      const div = document.createElement("div");
      div.className = "panel";
      div.id = `plot-${panel.id}`;
      const h3 = document.createElement("h3");
      h3.textContent = panel.title;
      div.appendChild(h3);
      $("plots").appendChild(div);
      const plot = new uPlot(
        {
          width: 560,
          height: 220,
          series,
          axes: [{}, { label: panel.unit }],
          // From 0: counts and ratios start there. A ratio's axis shows at least 0 to 1, so an
          // empty plot or a flat line reads as a share rather than uPlot's default span.
          scales: { x: { time: true }, y: { range: yRange(panel.unit) } },
          // The y span as drawn, on the panel for whoever reads the page (uPlot draws the
          // axes on the canvas).
          hooks: {
            setScale: [
              (u, key) => {
                if (key === "y") div.dataset.y = `${u.scales.y.min} ${u.scales.y.max}`;
              },
            ],
          },
        },
        data,
        div,
      );
      holder = { div, plot, series };
      plots.set(panel.id, holder);
    } else {
      holder.plot.setData(data);
    }
  }

  function yRange(unit) {
    return (_u, _min, max) => {
      const top = Number.isFinite(max) && max > 0 ? max : 1;
      return unit === "ratio" ? [0, Math.max(1, top * 1.05)] : uPlot.rangeNum(0, top, 0.1, true);
    };
  }

  const PALETTE = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#17becf",
  ];
  const color = (i) => PALETTE[i % PALETTE.length];

  async function refreshHistory() {
    const h = await getJson(`/pool/history.json?range=${range}`);
    for (const panel of h.panels) plotPanel(panel, h.xs);
    document.body.dataset.plotted = range;
  }

  async function tick(withHistory) {
    try {
      const hasHistory = await refreshLive();
      if (withHistory && hasHistory) await refreshHistory();
      showProblem("");
    } catch (err) {
      showProblem(`cannot refresh: ${err.message}`);
    }
  }

  for (const b of document.querySelectorAll("#ranges button")) {
    b.classList.toggle("on", b.dataset.range === range);
    b.addEventListener("click", () => {
      range = b.dataset.range;
      for (const o of document.querySelectorAll("#ranges button"))
        o.classList.toggle("on", o === b);
      void tick(true);
    });
  }

  void tick(true);
  setInterval(() => void tick(false), LIVE_MS);
  setInterval(() => void tick(true), HISTORY_MS);
})();
