// Measures one page of the console in chromium (driven by crates/marketplace/benches/console.rs):
// BASE_URL, TOKEN, PAGE (hash route), READY (a JS expression true once the data is on the page),
// FIRST (optional: a JS expression true once the first of the data is on the page), RUNS. Prints
// one JSON line: first contentful paint, first data painted (with FIRST), all data painted,
// interactive (first idle after the data), long-task time and cumulative layout shift (the sum of `layout-shift` entries without
// recent input, as web-vitals counts CLS, up to the interactive moment), each the median over RUNS
// fresh page loads.
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
  window.__cls = 0;
  window.__shifts = [];
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) {
      if (e.hadRecentInput) continue;
      window.__cls += e.value;
      window.__shifts.push({ t: Math.round(e.startTime), v: e.value, nodes: (e.sources ?? []).map((s) => s.node?.className ?? s.node?.nodeName ?? "?").slice(0, 3) });
    }
  }).observe({ type: "layout-shift", buffered: true });
  new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks += e.duration; }).observe({ type: "longtask", buffered: true });
}, TOKEN);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const samples = [];
for (let i = 0; i < RUNS; i++) {
  const page = await context.newPage();
  await page.goto(`${BASE_URL}/console/#/${PAGE}`);
  let first = -1;
  if (process.env.FIRST) {
    await page.waitForFunction(process.env.FIRST, null, { timeout: 60_000, polling: "raf" });
    first = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
  }
  await page.waitForFunction(READY, null, { timeout: 60_000, polling: "raf" });
  const dataPainted = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
  const interactive = await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(performance.now()), { timeout: 10_000 })));
  const fcp = await page.evaluate(() => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? -1);
  const longTasks = await page.evaluate(() => window.__longTasks);
  const cls = await page.evaluate(() => window.__cls);
  if (process.env.SHIFTS) console.error(JSON.stringify(await page.evaluate(() => window.__shifts)));
  samples.push({ fcp, first, dataPainted, interactive, longTasks, cls });
  await page.close();
}
await context.close();
rmSync(profile, { recursive: true, force: true });
const out = {};
for (const k of ["fcp", ...(process.env.FIRST ? ["first"] : []), "dataPainted", "interactive", "longTasks"]) out[`${k}_ms`] = Math.round(median(samples.map((s) => s[k])));
out.cls = Math.round(median(samples.map((s) => s.cls)) * 1000) / 1000;
out.cls_max = Math.round(Math.max(...samples.map((s) => s.cls)) * 1000) / 1000;
out.runs = RUNS;
console.log(JSON.stringify(out));
