// Browser acceptance of the web console against a real `marketplace serve` running its controllers,
// driven by crates/marketplace/tests/console_browser.rs (which starts serve and a registry, pushes
// the bundles, catalogs, charts and images, and runs `node e2e/console.mjs` once per scenario).
// Environment:
//   SCENARIO       "operators" or "plugins-uploads"
//   BASE_URL       https://127.0.0.1:PORT of serve
//   ADMIN_TOKEN    a cluster-admin token (this script's own API calls, to confirm)
//   ADMIN_USER/ADMIN_PASSWORD  the platform admin the browser logs in as, through the form
//   SCREENSHOTS    directory for the screenshots
//   NODE_EXTRA_CA_CERTS  serve's CA (for this script's own API calls)
//   operators:        NEXT_PLATFORM_CATALOG  the platform catalog image with the new versions
//   operators:        FAILING_NAMESPACE  a namespace whose OperatorGroup is SingleNamespace, where the
//                     AllNamespaces-only allns-operator is installed to fail
//   plugins-uploads:  VIEWER_TOKEN  a token that may read but not change packages;
//                     VIOLET_PUSH   the `violet push` command line (JSON array) uploading a package;
//                     PUSH_MISSING_CHART  the command line (JSON array) pushing log-agent's missing chart
// Exits non-zero with a message on the first failed expectation.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("BASE_URL");
const ADMIN_TOKEN = env("ADMIN_TOKEN");
const SCENARIO = env("SCENARIO");
const SHOTS = env("SCREENSHOTS");
mkdirSync(SHOTS, { recursive: true });
const TIMEOUT = 30_000;
// What waits for the controllers (an install, an upgrade, a Helm release) gets longer on a busy machine.
const CONTROLLERS = 180_000;

function check(cond, msg) {
  if (!cond) throw new Error(`expectation failed: ${msg}`);
}

async function api(method, path, body, contentType = "application/merge-patch+json") {
  const resp = await fetch(BASE + path, {
    method,
    headers: { Authorization: `Bearer ${ADMIN_TOKEN}`, "Content-Type": contentType, Accept: "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await resp.text();
  if (!resp.ok) throw new Error(`${method} ${path}: ${resp.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** axe-core on the current page; serious and critical violations fail the run. */
async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }));
  });
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of result) console.log(`axe ${name}: ${v.impact} ${v.id} — ${v.help} @ ${v.nodes.join(", ")}`);
  check(bad.length === 0, `axe: ${name} has ${bad.length} serious/critical violations: ${JSON.stringify(bad)}`);
  console.log(`axe ${name}: ${result.length} violations, none serious or critical`);
}

/** Saves a screenshot and checks the page fits 1280 px without horizontal scrolling. */
async function shoot(page, name) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  check(width <= 1280, `${name} is ${width}px wide at a 1280px window`);
  // Nothing inside the page is cut off or needs a sideways scroll at 1280 px either.
  const clipped = await page.evaluate(() =>
    [...document.querySelectorAll("main, main *, [role=dialog], [role=dialog] *")]
      .filter((e) => !["INPUT", "TEXTAREA", "PRE", "CODE", "SELECT"].includes(e.tagName))
      // (PatternFly action rows overhang by their gap, a few px, without hiding anything.)
      .filter((e) => e.scrollWidth > e.clientWidth + 16 && getComputedStyle(e).overflowX !== "visible")
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join(".")} ${e.scrollWidth}>${e.clientWidth}`)
      .slice(0, 5),
  );
  check(clipped.length === 0, `${name} clips content sideways at 1280px: ${clipped.join(", ")}`);
  // Transitions finished: a screenshot shows the settled page, not a fade caught half-way.
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, animations: "disabled" });
  console.log(`screenshot ${join(SHOTS, `${name}.png`)}`);
}

async function loginWithToken(page, token) {
  await page.goto(`${BASE}/console/`);
  await page.getByRole("heading", { name: "Log in to Marketplace" }).waitFor({ timeout: TIMEOUT });
  await page.getByRole("button", { name: "Use a token instead" }).click();
  await page.locator("#login-token").fill(token);
  await page.getByRole("button", { name: "Use token" }).click();
  await page.getByRole("navigation", { name: "Console navigation" }).waitFor({ timeout: TIMEOUT });
}

async function loginWithPassword(page, user, password) {
  await page.goto(`${BASE}/console/`);
  await page.locator("#login-username").fill(user);
  await page.locator("#login-password").fill(password);
  await page.getByRole("button", { name: "Log in", exact: true }).click();
  await page.getByRole("navigation", { name: "Console navigation" }).waitFor({ timeout: TIMEOUT });
}

async function nav(page, title) {
  await page.getByRole("navigation", { name: "Console navigation" }).getByRole("link", { name: title, exact: true }).click();
  await page.getByRole("heading", { level: 1 }).filter({ hasText: title === "Features" ? "Features" : title }).waitFor({ timeout: TIMEOUT });
}

/** Polls `cond` (an async predicate) every 200 ms until true; fails with `what` after `timeout`. */
async function until(page, what, cond, timeout = CONTROLLERS) {
  const start = Date.now();
  while (!(await cond())) {
    check(Date.now() - start < timeout, `timed out after ${timeout} ms waiting for ${what}`);
    await page.waitForTimeout(200);
  }
}

// ---- scenario "operators" -------------------------------------------------------------------

/** Installs `pkg` as a user does: its OperatorHub tile, its detail panel, the Install form. */
async function installFromHub(page, pkg, approval, shot, namespace) {
  await nav(page, "OperatorHub");
  const tile = page.getByTestId(`tile-${pkg}`);
  await tile.getByText("Ready", { exact: true }).waitFor({ timeout: CONTROLLERS });
  await tile.click();
  await page.getByRole("button", { name: "Install", exact: true }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("heading", { name: /^Install / }).waitFor({ timeout: TIMEOUT });
  const alauda = (await dialog.getByTestId("manual-only-reason").count()) > 0;
  if (alauda) check(await dialog.locator("#install-approval-Automatic").isDisabled(), `${pkg}: Automatic offered for an Alauda operator`);
  else check(await dialog.locator("#install-approval-Automatic").isEnabled(), `${pkg}: Automatic not offered for a non-Alauda operator`);
  await dialog.locator(`#install-approval-${approval}`).check();
  check((await dialog.locator("#install-namespace").inputValue()) === pkg, `${pkg}: the namespace defaults to the package name`);
  if (namespace) await dialog.locator("#install-namespace").fill(namespace);
  if (shot) {
    await shoot(page, shot);
    await axe(page, shot);
  }
  await dialog.getByRole("button", { name: "Install", exact: true }).click();
  await dialog.waitFor({ state: "detached", timeout: TIMEOUT });
  await page.getByRole("heading", { level: 1, name: "Installed Operators" }).waitFor({ timeout: TIMEOUT });
  console.log(`operatorhub: ${pkg} installed ${approval}${alauda ? " (Alauda: Manual only, and the form says why)" : ""}`);
}

/** Approves `pkg`'s first InstallPlan in Installed Operators (its components listed) and waits for Succeeded. */
async function approveInstall(page, pkg, component, shot) {
  const row = page.getByTestId(`operator-${pkg}`);
  await row.getByText("Requires approval").waitFor({ timeout: CONTROLLERS });
  await row.getByRole("button", { name: /InstallPlan install-\S+: \d+ components/ }).click();
  await row.getByText(new RegExp(`(CSV|ClusterServiceVersion) ${pkg}\\.v`)).first().waitFor({ timeout: TIMEOUT });
  if (component) await row.getByText(component, { exact: true }).waitFor({ timeout: TIMEOUT });
  if (shot) {
    await shoot(page, shot);
    await axe(page, shot);
  }
  await page.getByRole("button", { name: `Approve ${pkg}` }).click();
  await row.getByText("Succeeded", { exact: true }).waitFor({ timeout: CONTROLLERS });
  check((await row.getByText("Requires approval").count()) === 0, `${pkg} still requires approval after Succeeded`);
  console.log(`installed operators: ${pkg}'s InstallPlan approved on the page, CSV Succeeded shown`);
}

async function operatorsScenario(page) {
  await nav(page, "OperatorHub");
  for (const pkg of ["harbor-ce-operator", "topolvm-operator", "clickhouse-operator", "allns-operator"])
    await page.getByTestId(`tile-${pkg}`).getByText("Ready", { exact: true }).waitFor({ timeout: CONTROLLERS });
  // The source-type filter: two Alauda operators, one community operator.
  await page.locator("#filter-type-alauda").check();
  await page.getByTestId("tile-count").getByText("2 items").waitFor({ timeout: TIMEOUT });
  check((await page.getByTestId("tile-clickhouse-operator").count()) === 0, "the Alauda filter shows a community operator");
  await page.locator("#filter-type-alauda").uncheck();
  await shoot(page, "operatorhub");
  await axe(page, "operatorhub");

  await installFromHub(page, "harbor-ce-operator", "Manual", "operatorhub-install-harbor-ce-operator");
  await approveInstall(page, "harbor-ce-operator", "CustomResourceDefinition harbors.operator.alauda.io", "installed-operators-pending");
  await installFromHub(page, "topolvm-operator", "Manual");
  await approveInstall(page, "topolvm-operator");
  await installFromHub(page, "clickhouse-operator", "Automatic");
  const ch = page.getByTestId("operator-clickhouse-operator");
  await ch.getByText("Succeeded", { exact: true }).waitFor({ timeout: CONTROLLERS });
  check((await ch.getByText("Requires approval").count()) === 0, "an Automatic install asked for approval");
  console.log("installed operators: clickhouse-operator installed Automatic, Succeeded without approval");

  // A failure from the real OLM, on the page: allns-operator supports only AllNamespaces, installed
  // into a namespace whose existing OperatorGroup watches a single other namespace. OLM fails the
  // CSV (UnsupportedOperatorGroup); the row says so with OLM's message, not "Installing".
  await installFromHub(page, "allns-operator", "Automatic", undefined, env("FAILING_NAMESPACE"));
  const bad = page.getByTestId("operator-allns-operator");
  const reason = bad.getByTestId("failure-reason");
  await reason.getByText(/UnsupportedOperatorGroup: CSV allns-operator\.v1\.0\.0 does not support install mode SingleNamespace/).waitFor({ timeout: CONTROLLERS });
  const text = await reason.innerText();
  check(/it supports AllNamespaces/.test(text), `the failure does not say which modes the CSV supports: ${text}`);
  check(/Change the OperatorGroup/.test(text), `the failure does not say what to do: ${text}`);
  await bad.getByTestId("status").getByText("Failed", { exact: true }).waitFor({ timeout: TIMEOUT });
  check((await bad.getByText(/Installing/).count()) === 0, "a failed install still shows Installing");
  await shoot(page, "installed-operators-failed");
  console.log(`installed operators: allns-operator's failure shown from OLM: ${text}`);
  await shoot(page, "installed-operators");
  await axe(page, "installed-operators");

  // New versions of both Alauda operators arrive in the platform catalog image (not a console
  // step); OLM resolves an upgrade plan for each, waiting for approval (Manual).
  await api("PATCH", "/kubernetes/global/apis/operators.coreos.com/v1alpha1/namespaces/cpaas-system/catalogsources/platform", {
    spec: { image: env("NEXT_PLATFORM_CATALOG") },
  });
  const upgrades = { "harbor-ce-operator": "harbor-ce-operator.v2.12.11", "topolvm-operator": "topolvm-operator.v1.1.0" };
  await nav(page, "Features");
  for (const [pkg, to] of Object.entries(upgrades)) {
    const row = page.getByTestId(`feature-${pkg}`);
    await row.locator('td[data-label="Upgrade to"]').getByText(to, { exact: true }).waitFor({ timeout: CONTROLLERS });
    await until(page, `${pkg} selectable for the batch upgrade`, () => page.getByRole("checkbox", { name: `Select ${pkg}` }).isEnabled());
  }
  check((await page.getByTestId("feature-clickhouse-operator").count()) === 0, "a community operator is offered for batch upgrade");
  for (const pkg of Object.keys(upgrades)) await page.getByRole("checkbox", { name: `Select ${pkg}` }).check();
  const upgrade = page.getByRole("button", { name: "Upgrade (2)" });
  check(await upgrade.isEnabled(), "Upgrade (2) is disabled with two operators selected");
  await shoot(page, "features");
  await axe(page, "features");
  await upgrade.click();
  for (const [pkg, to] of Object.entries(upgrades)) {
    const row = page.getByTestId(`feature-${pkg}`);
    await row.locator('td[data-label="Installed"]').getByText(to, { exact: true }).waitFor({ timeout: CONTROLLERS });
    await row.getByText("Succeeded", { exact: true }).waitFor({ timeout: CONTROLLERS });
  }
  await shoot(page, "features-upgraded");
  console.log("features: one Upgrade approved both Alauda operators' plans; both CSVs reached the new versions");
}

// ---- scenario "plugins-uploads" -------------------------------------------------------------

async function clusterPlugins(page) {
  await nav(page, "Cluster Plugins");
  const row = page.getByTestId("plugin-gpu-device-plugin");
  await row.getByText("Ready").waitFor({ timeout: TIMEOUT });
  await shoot(page, "cluster-plugins");
  await axe(page, "cluster-plugins");

  // Install on `business`: the only cluster gpu-device-plugin v4.0.15's affinity admits.
  await page.getByRole("button", { name: "Install gpu-device-plugin" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("heading", { name: /Install GPU device plugin/ }).waitFor({ timeout: TIMEOUT });
  const targets = await dialog.locator("#plugin-cluster option").evaluateAll((os) => os.map((o) => o.value));
  check(JSON.stringify(targets) === JSON.stringify(["business"]), `target clusters offered: ${JSON.stringify(targets)} (want only business)`);
  await dialog.getByRole("switch", { name: "pgpu_enable" }).check({ force: true });
  await dialog.getByRole("switch", { name: "vgpu_enable" }).check({ force: true });
  await dialog.getByRole("button", { name: "YAML" }).click();
  const yaml = await dialog.getByLabel("Configuration as YAML").inputValue();
  check(/pgpu_enable: true/.test(yaml) && /vgpu_enable: true/.test(yaml) && /mps_enable: false/.test(yaml), `YAML view not in sync: ${yaml}`);
  await dialog.getByRole("button", { name: "Form" }).click();
  check(await dialog.getByRole("switch", { name: "vgpu_enable" }).isChecked(), "form lost the switch after the YAML view");
  await shoot(page, "cluster-plugins-install");
  await axe(page, "cluster-plugins-install");
  await dialog.getByRole("button", { name: "Install", exact: true }).click();
  await dialog.waitFor({ state: "detached", timeout: TIMEOUT });

  // The plugin controller renders the chart on business; the page follows through its watch.
  const inst = row.getByTestId("installation-business");
  await inst.getByText("Running", { exact: true }).waitFor({ timeout: CONTROLLERS });
  await shoot(page, "cluster-plugins-running");
  console.log("plugin: installed on business with pgpu+vgpu, Running shown live");

  // An invalid form value shows its error next to its field, and Install stays disabled.
  await page.getByRole("button", { name: "Install log-agent" }).click();
  await dialog.locator("#root_replicas").fill("0");
  const group = dialog.locator(".form-group", { has: page.locator("#root_replicas") }).last();
  await group.getByText("must be >= 1").waitFor({ timeout: TIMEOUT });
  check(await dialog.getByRole("button", { name: "Install", exact: true }).isDisabled(), "Install enabled with an invalid value");
  await shoot(page, "cluster-plugins-invalid-value");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  console.log("plugin form: invalid value shows its error beside the field");

  // A failure from the real plugins controller, on the page: log-agent's chart is not in the
  // registry, so its installation on business fails (ChartUnavailable) with the controller's
  // message. Pushing the chart heals it (the controller looks again) and the page turns Running
  // through its watch, without a reload.
  await page.getByRole("button", { name: "Install log-agent" }).click();
  await dialog.getByRole("heading", { name: /Install Log agent/ }).waitFor({ timeout: TIMEOUT });
  await dialog.locator("#plugin-cluster").selectOption("business");
  await dialog.getByRole("button", { name: "Install", exact: true }).click();
  await dialog.waitFor({ state: "detached", timeout: TIMEOUT });
  const agent = page.getByTestId("plugin-log-agent").getByTestId("installation-business");
  await agent.getByTestId("status").getByText("Failed", { exact: true }).waitFor({ timeout: CONTROLLERS });
  const failure = agent.getByTestId("failure-reason");
  await failure.getByText(/^ChartUnavailable: ModuleConfig log-agent-v1\.0\.0: /).waitFor({ timeout: TIMEOUT });
  const message = await failure.innerText();
  check(message.includes("charts/demo:1.0.0") && /push the chart/.test(message), `the failure does not name the chart and what to do: ${message}`);
  await shoot(page, "cluster-plugins-failed");
  await axe(page, "cluster-plugins-failed");
  console.log(`plugin: log-agent's failure shown from the controller: ${message}`);
  await page.evaluate(() => { window.__sameDocument = true; });
  await run("PUSH_MISSING_CHART", "chart push");
  await agent.getByTestId("status").getByText("Running", { exact: true }).waitFor({ timeout: CONTROLLERS });
  check((await agent.getByTestId("failure-reason").count()) === 0, "a Running installation still shows its old failure");
  check(await page.evaluate(() => window.__sameDocument === true), "the page was reloaded");
  await shoot(page, "cluster-plugins-healed");
  console.log("plugin: the chart pushed, log-agent turned Failed -> Running without reload");
}

/** Runs the command line (JSON array) the test gave in environment `name`; fails with its output. */
async function run(name, what) {
  const [bin, ...args] = JSON.parse(env(name));
  const { promisify } = await import("node:util");
  const { execFile } = await import("node:child_process");
  try {
    const { stdout } = await promisify(execFile)(bin, args, { maxBuffer: 16 << 20 });
    console.log(`${what}: ${stdout.trim().split("\n").slice(-1)[0]}`);
  } catch (e) {
    throw new Error(`${what} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`);
  }
}

async function uploads(page) {
  // OperatorHub open on the package the platform catalog lists but nobody uploaded yet.
  await nav(page, "OperatorHub");
  const tile = page.getByTestId("tile-uploaded-operator");
  await tile.getByText("Absent", { exact: true }).waitFor({ timeout: CONTROLLERS });
  await shoot(page, "operatorhub-absent");
  await page.evaluate(() => { window.__sameDocument = true; });
  await run("VIOLET_PUSH", "violet push");
  await tile.getByText("Ready", { exact: true }).waitFor({ timeout: CONTROLLERS });
  check(await page.evaluate(() => window.__sameDocument === true), "the page was reloaded");
  console.log("upload: violet push turned the OperatorHub tile Absent -> Ready without reload");

  await nav(page, "Upload Packages");
  await page.getByTestId("upload-uploaded-operator.v1.0.0").getByText("Ready").waitFor({ timeout: CONTROLLERS });
  await page.getByTestId("upload-actions").waitFor({ timeout: TIMEOUT });
  await shoot(page, "upload-packages-operator");
  await axe(page, "upload-packages");
}

async function viewer(context) {
  const page = await context.newPage();
  await loginWithToken(page, env("VIEWER_TOKEN"));
  await nav(page, "Upload Packages");
  await page.getByTestId("upload-uploaded-operator.v1.0.0").waitFor({ timeout: TIMEOUT });
  // The SelfSubjectAccessReview has answered once the list shows; give no action to a reader.
  check((await page.getByTestId("upload-actions").count()) === 0, "a non-admin sees the upload actions");
  check((await page.getByRole("button", { name: /^Delete / }).count()) === 0, "a non-admin sees Delete buttons");
  await shoot(page, "upload-packages-non-admin");
  await page.close();
  console.log("non-admin: Upload Packages shows no actions");
}

const profile = mkdtempSync(join(tmpdir(), "console-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  ignoreHTTPSErrors: true,
  // Lets the test inject axe-core; the console itself runs under its CSP (no inline scripts).
  bypassCSP: true,
  viewport: { width: 1280, height: 800 },
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
let failed = false;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(TIMEOUT);
  page.on("pageerror", (e) => console.log(`page error: ${e.message}`));
  await page.goto(`${BASE}/console/`);
  await page.getByRole("heading", { name: "Log in to Marketplace" }).waitFor({ timeout: TIMEOUT });
  await shoot(page, "login");
  await axe(page, "login");
  if (process.env.ADMIN_PASSWORD) {
    // A wrong password is refused with the server's message on the form.
    await page.locator("#login-username").fill(env("ADMIN_USER"));
    await page.locator("#login-password").fill("not-the-password");
    await page.getByRole("button", { name: "Log in", exact: true }).click();
    await page.getByRole("alert").waitFor({ timeout: TIMEOUT });
    check(await page.getByRole("navigation", { name: "Console navigation" }).count() === 0, "logged in with a wrong password");
    await shoot(page, "login-refused");
    await loginWithPassword(page, env("ADMIN_USER"), env("ADMIN_PASSWORD"));
    await page.getByTestId("user-name").getByText(env("ADMIN_USER"), { exact: true }).waitFor({ timeout: TIMEOUT });
    console.log("login: wrong password refused, platform admin logged in");
  } else await loginWithToken(page, ADMIN_TOKEN);
  if (SCENARIO === "operators") await operatorsScenario(page);
  else if (SCENARIO === "plugins-uploads") {
    await clusterPlugins(page);
    await uploads(page);
    await viewer(context);
  } else throw new Error(`unknown SCENARIO ${SCENARIO}`);
  console.log(`console browser test ${SCENARIO}: all expectations met`);
} catch (e) {
  failed = true;
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  for (const p of context.pages()) await p.screenshot({ path: join(SHOTS, `failure-${SCENARIO}.png`), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
