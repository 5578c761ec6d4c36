// Measures one page of the console in chromium (driven by crates/marketplace/benches/console.rs):
// BASE_URL, TOKEN, PAGE (hash route), READY (a JS expression true once the data is on the page),
// RUNS. Prints one JSON line: first contentful paint, data painted, interactive (first idle after
// the data), long-task time, each the median over RUNS fresh page loads.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { BASE_URL, TOKEN, PAGE, READY } = process.env;
const RUNS = Number(process.env.RUNS ?? 5);
const profile = mkdtempSync(join(tmpdir(), "console-bench-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  ignoreHTTPSErrors: true,
  viewport: { width: 1280, height: 800 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
await context.addInitScript((token) => {
  sessionStorage.setItem("marketplace.token", token);
  window.__longTasks = 0;
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks += e.duration; }).observe({ type: "longtask", buffered: true });
}, TOKEN);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = [];
for (let i = 0; i < RUNS; i++) {
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/console/#/${PAGE}`);
  await page.waitForFunction(READY, null, { timeout: 60_000, polling: "raf" });
  const dataPainted = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
  const interactive = await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(performance.now()), { timeout: 10_000 })));
  const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
  const longTasks = await page.evaluate(() => window.__longTasks);
  samples.push({ fcp, dataPainted, interactive, longTasks });
  await page.close();
}
await context.close();
rmSync(profile, { recursive: true, force: true });
const out = {};
for (const k of ["fcp", "dataPainted", "interactive", "longTasks"]) out[`${k}_ms`] = Math.round(median(samples.map((s) => s[k])));
out.runs = RUNS;
console.log(JSON.stringify(out));
