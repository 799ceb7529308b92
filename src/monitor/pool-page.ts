/**
 * The read-only page of the pool, served beside /metrics on the collector's HTTPS listener and
 * read with the same roles (`monitor` or `admin`): `/pool` (the page), its script and style,
 * uPlot from the installed package (no CDN), `/pool/view.json` (the live pool) and
 * `/pool/history.json?range=hour|day|month|year` (the plots). Everything comes from this
 * origin, under a Content-Security-Policy that allows nothing else (no inline script or style).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import type { HttpResponse, HttpRoute } from "../wire/server.js";
import { METRICS_ROLES } from "../wire/metrics-route.js";
import { isRangeName } from "./history-archives.js";
import { historyPanels } from "./history-panels.js";
import type { HistoryStore } from "./history-store.js";
import { type AdsOfType, poolView } from "./pool-view.js";

export const POOL_PATH = "/pool";

export const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** How long one rendering of the live view is served: far below the page's 10 s refresh. */
export const VIEW_CACHE_MS = 2000;

export type PoolPageOptions = {
  adsOf: AdsOfType;
  /** Absent when the collector keeps no history: the page shows the live pool only. */
  history?: HistoryStore;
  now(): number;
};

const require = createRequire(import.meta.url);
// The browser script is plain JavaScript kept in the source tree (it is not compiled).
const pageFile = (name: string) => new URL(`../../../src/monitor/page/${name}`, import.meta.url);

function loadAssets(): Record<string, { contentType: string; body: string }> {
  const read = (p: string | URL) => readFileSync(p, "utf8");
  return {
    "": { contentType: "text/html; charset=utf-8", body: read(pageFile("pool.html")) },
    "/pool.css": { contentType: "text/css; charset=utf-8", body: read(pageFile("pool.css")) },
    "/pool-app.js": {
      contentType: "text/javascript; charset=utf-8",
      body: read(pageFile("pool-app.js")),
    },
    "/favicon.svg": { contentType: "image/svg+xml", body: read(pageFile("favicon.svg")) },
    "/uPlot.iife.min.js": {
      contentType: "text/javascript; charset=utf-8",
      body: read(require.resolve("uplot/dist/uPlot.iife.min.js")),
    },
    "/uPlot.min.css": {
      contentType: "text/css; charset=utf-8",
      body: read(require.resolve("uplot/dist/uPlot.min.css")),
    },
  };
}

const json = (value: unknown): HttpResponse => ({
  contentType: "application/json; charset=utf-8",
  body: JSON.stringify(value),
});

export function poolPageRoutes(opts: PoolPageOptions): Record<string, HttpRoute> {
  const roles = METRICS_ROLES;
  const routes: Record<string, HttpRoute> = {};
  for (const [suffix, asset] of Object.entries(loadAssets())) {
    routes[`${POOL_PATH}${suffix}`] = {
      roles,
      handler: async () => ({ ...asset, headers: { "Content-Security-Policy": PAGE_CSP } }),
    };
  }
  // Many open pages (each refreshing every 10 s) cost one rendering per VIEW_CACHE_MS.
  let view: { at: number; response: HttpResponse } | undefined;
  routes[`${POOL_PATH}/view.json`] = {
    roles,
    handler: async () => {
      const now = opts.now();
      // A clock stepped back renders afresh rather than serving a view from its future.
      if (view && now >= view.at && now - view.at < VIEW_CACHE_MS) return view.response;
      const response = json({ ...poolView(opts.adsOf, now), history: opts.history !== undefined });
      view = { at: now, response };
      return response;
    },
  };
  routes[`${POOL_PATH}/history.json`] = {
    roles,
    handler: async ({ query }) => {
      const range = query.get("range") ?? "day";
      if (!isRangeName(range))
        return {
          status: 400,
          contentType: "text/plain; charset=utf-8",
          body: "range must be one of hour, day, month, year\n",
        };
      if (!opts.history) return json({ range, step_s: 0, xs: [], panels: [] });
      return json(historyPanels(opts.history.read(range, opts.now())));
    },
  };
  return routes;
}
