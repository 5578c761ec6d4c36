// Browser acceptance of the web console against a real `marketplace serve`, driven by
// crates/marketplace/tests/console_browser.rs (which starts serve, installs the CRDs, creates the
// fixtures and tokens, and runs `node e2e/console.mjs`). Environment:
//   BASE_URL       https://127.0.0.1:PORT of serve
//   ADMIN_TOKEN    a cluster-admin token; ADMIN_USER/ADMIN_PASSWORD instead log in through the form
//   VIEWER_TOKEN   a token that may read but not change packages (a ServiceAccount's)
//   SCREENSHOTS    directory for the screenshots
//   NODE_EXTRA_CA_CERTS  serve's CA (for this script's own API calls)
// Exits non-zero with a message on the first failed expectation.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const here = dirname(fileURLToPath(import.meta.url));
void here;

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("BASE_URL");
const ADMIN_TOKEN = env("ADMIN_TOKEN");
const VIEWER_TOKEN = env("VIEWER_TOKEN");
const SHOTS = env("SCREENSHOTS");
mkdirSync(SHOTS, { recursive: true });
const TIMEOUT = 30_000;

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
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
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

  const infos = await api("GET", "/kubernetes/global/apis/cluster.alauda.io/v1alpha1/moduleinfos?labelSelector=cpaas.io%2Fmodule-name%3Dgpu-device-plugin");
  check(infos.items.length === 1, `one ModuleInfo expected, got ${infos.items.length}`);
  const mi = infos.items[0];
  check(mi.metadata.labels["cpaas.io/cluster-name"] === "business" && mi.metadata.labels["cpaas.io/module-type"] === "plugin", `labels ${JSON.stringify(mi.metadata.labels)}`);
  check(mi.spec.version === "v4.0.15", `version ${mi.spec.version}`);
  check(JSON.stringify(mi.spec.config) === JSON.stringify({ custom: { mps_enable: false, pgpu_enable: true, vgpu_enable: true } }), `config ${JSON.stringify(mi.spec.config)}`);

  // The status changes on the server; the page follows through its watch, without a reload.
  const inst = row.getByTestId("installation-business");
  await inst.waitFor({ timeout: TIMEOUT });
  await api("PATCH", `/kubernetes/global/apis/cluster.alauda.io/v1alpha1/moduleinfos/${mi.metadata.name}/status`, {
    status: { phase: "Failed", targetVersion: "v4.0.15", conditions: [{ type: "Ready", status: "False", reason: "ChartRenderFailed", message: "values do not match the chart's schema" }] },
  });
  await inst.getByText("ChartRenderFailed: values do not match the chart's schema").waitFor({ timeout: TIMEOUT });
  await api("PATCH", `/kubernetes/global/apis/cluster.alauda.io/v1alpha1/moduleinfos/${mi.metadata.name}/status`, {
    status: { phase: "Running", currentVersion: "v4.0.15", targetVersion: "v4.0.15", conditions: [{ type: "Ready", status: "True", reason: "Installed", message: "" }] },
  });
  await inst.getByText("Running").waitFor({ timeout: TIMEOUT });
  console.log("plugin: installed on business with pgpu+vgpu, Failed then Running shown live");

  // An invalid form value shows its error next to its field, and Install stays disabled.
  await page.getByRole("button", { name: "Install log-agent" }).click();
  await dialog.locator("#root_replicas").fill("0");
  const group = dialog.locator(".form-group", { has: page.locator("#root_replicas") }).last();
  await group.getByText("must be >= 1").waitFor({ timeout: TIMEOUT });
  check(await dialog.getByRole("button", { name: "Install", exact: true }).isDisabled(), "Install enabled with an invalid value");
  await shoot(page, "cluster-plugins-invalid-value");
  await dialog.getByRole("button", { name: "Cancel" }).click();
  console.log("plugin form: invalid value shows its error beside the field");
}

async function uploads(page) {
  await nav(page, "Upload Packages");
  await page.getByTestId("upload-topolvm-operator.v2.3.0").getByText("Ready").waitFor({ timeout: TIMEOUT });
  await page.getByTestId("upload-actions").waitFor({ timeout: TIMEOUT });
  await shoot(page, "upload-packages-operator");
  await axe(page, "upload-packages");
  await page.getByRole("tab", { name: "Cluster Plugin" }).click();
  const row = page.getByTestId("upload-gpu-device-plugin.v4.0.15");
  await row.getByText("Absent").waitFor({ timeout: TIMEOUT });
  await api("PATCH", "/kubernetes/global/apis/app.alauda.io/v1alpha1/namespaces/cpaas-system/artifactversions/gpu-device-plugin.v4.0.15/status", {
    status: { phase: "Ready", conditions: [] },
  });
  await row.getByText("Ready").waitFor({ timeout: TIMEOUT });
  await shoot(page, "upload-packages-plugin");
  console.log("uploads: plugin version went Absent -> Ready without reload");
}

const OLM = "/kubernetes/global/apis/operators.coreos.com/v1alpha1";

/** An installed Alauda operator at v1 whose upgrade to v2 waits for approval, as OLM leaves it. */
async function pendingUpgrade(pkg, provider = "alauda") {
  await api("POST", "/kubernetes/global/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: pkg } }, "application/json");
  const ns = `${OLM}/namespaces/${pkg}`;
  await api("POST", `${ns}/subscriptions`, {
    apiVersion: "operators.coreos.com/v1alpha1", kind: "Subscription", metadata: { name: pkg, namespace: pkg },
    spec: { name: pkg, source: "platform", sourceNamespace: "cpaas-system", channel: "stable", installPlanApproval: "Manual" },
  }, "application/json");
  await api("POST", `${ns}/clusterserviceversions`, {
    apiVersion: "operators.coreos.com/v1alpha1", kind: "ClusterServiceVersion",
    metadata: { name: `${pkg}.v1.0.0`, namespace: pkg, annotations: { "cpaas.io/provider-type": provider } },
    spec: { displayName: pkg, version: "1.0.0", install: { strategy: "deployment" }, installModes: [{ type: "AllNamespaces", supported: true }],
      customresourcedefinitions: { owned: [{ name: `things.${pkg}.example.com`, version: "v1", kind: "Thing" }] } },
  }, "application/json");
  await api("PATCH", `${ns}/clusterserviceversions/${pkg}.v1.0.0/status`, { status: { phase: "Succeeded", reason: "InstallSucceeded" } });
  await api("POST", `${ns}/installplans`, {
    apiVersion: "operators.coreos.com/v1alpha1", kind: "InstallPlan", metadata: { name: `install-${pkg}-2`, namespace: pkg },
    spec: { approval: "Manual", approved: false, clusterServiceVersionNames: [`${pkg}.v2.0.0`] },
  }, "application/json");
  await api("PATCH", `${ns}/installplans/install-${pkg}-2/status`, { status: { phase: "RequiresApproval", plan: [
    { resolving: `${pkg}.v2.0.0`, status: "Unknown", resource: { kind: "ClusterServiceVersion", name: `${pkg}.v2.0.0`, group: "operators.coreos.com", version: "v1alpha1", catalogSource: "platform", catalogSourceNamespace: "cpaas-system" } },
    { resolving: `${pkg}.v2.0.0`, status: "Unknown", resource: { kind: "CustomResourceDefinition", name: `things.${pkg}.example.com`, group: "apiextensions.k8s.io", version: "v1", catalogSource: "platform", catalogSourceNamespace: "cpaas-system" } },
  ] } });
  await api("PATCH", `${ns}/subscriptions/${pkg}/status`, { status: {
    state: "UpgradePending", installedCSV: `${pkg}.v1.0.0`, currentCSV: `${pkg}.v2.0.0`,
    installPlanRef: { name: `install-${pkg}-2`, namespace: pkg, kind: "InstallPlan", apiVersion: "operators.coreos.com/v1alpha1" },
    conditions: [{ type: "InstallPlanPending", status: "True", reason: "RequiresApproval" }],
  } });
}

async function approved(pkg) {
  const ip = await api("GET", `${OLM}/namespaces/${pkg}/installplans/install-${pkg}-2`);
  return ip.spec.approved === true;
}

async function operators(page) {
  for (const pkg of ["harbor-ce-operator", "topolvm-operator", "nativestor-operator"]) await pendingUpgrade(pkg);
  await pendingUpgrade("clickhouse-operator", "community");
  await api("PATCH", `${OLM}/namespaces/clickhouse-operator/clusterserviceversions/clickhouse-operator.v1.0.0/status`, {
    status: { phase: "Failed", reason: "InstallCheckFailed", message: "install timeout: deployment clickhouse-operator not available" },
  });

  // Installed Operators: the pending plan with its components, the failure reason, Approve.
  await nav(page, "Installed Operators");
  const harbor = page.getByTestId("operator-harbor-ce-operator");
  await harbor.getByText("Requires approval").waitFor({ timeout: TIMEOUT });
  await harbor.getByRole("button", { name: /InstallPlan install-harbor-ce-operator-2: 2 components/ }).click();
  await harbor.getByText("CustomResourceDefinition things.harbor-ce-operator.example.com").waitFor({ timeout: TIMEOUT });
  await page.getByTestId("operator-clickhouse-operator").getByText("InstallCheckFailed: install timeout: deployment clickhouse-operator not available").waitFor({ timeout: TIMEOUT });
  await shoot(page, "installed-operators-pending");
  await axe(page, "installed-operators-pending");
  await page.getByRole("button", { name: "Approve harbor-ce-operator" }).click();
  for (let i = 0; !(await approved("harbor-ce-operator")); i++) {
    check(i < 100, "harbor-ce-operator's InstallPlan was not approved");
    await page.waitForTimeout(100);
  }
  await harbor.getByText("Requires approval").waitFor({ state: "detached", timeout: TIMEOUT });
  console.log("installed operators: components and failure reason shown; Approve set spec.approved");

  // Clusters > Features: batch upgrade of the two Alauda operators still pending; the community one is not offered.
  await nav(page, "Features");
  await page.getByTestId("feature-topolvm-operator").waitFor({ timeout: TIMEOUT });
  check((await page.getByTestId("feature-clickhouse-operator").count()) === 0, "a community operator is offered for batch upgrade");
  check(await page.getByRole("checkbox", { name: "Select harbor-ce-operator" }).isDisabled(), "an approved operator is still selectable");
  await page.getByRole("checkbox", { name: "Select topolvm-operator" }).check();
  await page.getByRole("checkbox", { name: "Select nativestor-operator" }).check();
  const upgrade = page.getByRole("button", { name: "Upgrade (2)" });
  check(await upgrade.isEnabled(), "Upgrade (2) is disabled with two operators selected");
  await shoot(page, "features-batch");
  await axe(page, "features-batch");
  await page.getByRole("button", { name: "Upgrade (2)" }).click();
  for (let i = 0; !((await approved("topolvm-operator")) && (await approved("nativestor-operator"))); i++) {
    check(i < 100, "the batch upgrade did not approve both InstallPlans");
    await page.waitForTimeout(100);
  }
  check(!(await approved("clickhouse-operator")), "the batch upgrade approved a community operator");
  console.log("features: batch Upgrade approved both Alauda operators' InstallPlans");
}

async function otherPages(page) {
  for (const [title, shot] of [["OperatorHub", "operatorhub"], ["Installed Operators", "installed-operators"], ["Features", "features"]]) {
    await nav(page, title);
    await shoot(page, shot);
    await axe(page, shot);
  }
}

async function viewer(context) {
  const page = await context.newPage();
  await loginWithToken(page, VIEWER_TOKEN);
  await nav(page, "Upload Packages");
  await page.getByTestId("upload-topolvm-operator.v2.3.0").waitFor({ timeout: TIMEOUT });
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
  await clusterPlugins(page);
  await uploads(page);
  await otherPages(page);
  await operators(page);
  await viewer(context);
  console.log("console browser test: all expectations met");
} catch (e) {
  failed = true;
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  for (const p of context.pages()) await p.screenshot({ path: join(SHOTS, "failure.png"), fullPage: true }).catch(() => {});
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
