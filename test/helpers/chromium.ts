/**
 * Debian's chromium, headless, driven by playwright-core, with a client certificate for one
 * origin (how an operator's browser holds the monitor credential). playwright gives chromium a
 * new temporary --user-data-dir of its own. Problems a page reports (console errors and warnings,
 * uncaught errors, failed or refused requests, CSP violations, which chromium logs as console
 * errors) are collected for the test to assert there are none.
 */
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export type Chromium = {
  /** Open `url`; `problems` fills as the page runs. */
  open(url: string): Promise<{ page: Page; problems: string[] }>;
  close(): Promise<void>;
};

export async function startChromium(client: {
  origin: string;
  certPem: string;
  keyPem: string;
}): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is needed: apt-get install chromium`);
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const context: BrowserContext = await browser.newContext({
    // The test CA is not in the browser's store; the client certificate is what is under test.
    ignoreHTTPSErrors: true,
    clientCertificates: [
      {
        origin: client.origin,
        cert: Buffer.from(client.certPem),
        key: Buffer.from(client.keyPem),
      },
    ],
  });
  return {
    async open(url) {
      const problems: string[] = [];
      const page = await context.newPage();
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
      });
      await page.goto(url);
      return { page, problems };
    },
    async close() {
      await context.close();
      await browser.close();
    },
  };
}

/** The text of each cell of a table's body, row by row (not the row saying it is empty). */
export function tableCells(page: Page, tableId: string): Promise<string[][]> {
  return page.$$eval(`#${tableId} tbody tr:not(.empty)`, (rows) =>
    rows.map((r) =>
      Array.from(r.querySelectorAll("td"), (td) => (td as { textContent: string }).textContent),
    ),
  );
}

/** Each plot of the pool page: whether its canvas has a size, and its legend's labels. */
export function plotsOf(page: Page): Promise<{ id: string; canvas: boolean; legend: string[] }[]> {
  return page.$$eval("#plots .panel", (panels) =>
    panels.map((p) => ({
      id: (p as { id: string }).id,
      canvas: ((p.querySelector("canvas") as { width: number } | null)?.width ?? 0) > 0,
      legend: Array.from(
        p.querySelectorAll(".u-legend .u-series .u-label"),
        (l) => (l as { textContent: string }).textContent,
      ),
    })),
  );
}
