import { describe, expect, it } from "vitest";
import { filterTiles, emptyFilter, tilesOf, installedPackages } from "../src/api/packages";
import { buildSubscription, defaultForm, validateInstall, installedOperators, batchUpgradable, planComponents, planSharedWith } from "../src/api/operators";
import { buildModuleInfo, clusterInfos, installableClusters, installationOf, matchesSelector, pluginRows, compareVersions } from "../src/api/plugins";
import { rowsOfType } from "../src/api/artifacts";
import { applyEvent, LineSplitter } from "../src/api/watch";
import type { K8sObject } from "../src/api/types";

function pm(name: string, opts: { type?: string; status?: string; catalog?: string; provider?: string } = {}): K8sObject {
  return {
    metadata: {
      name,
      namespace: "cpaas-system",
      labels: { "cpaas.io/provider-type": opts.type ?? "alauda", "cpaas.io/package-status": opts.status ?? "Ready", catalog: opts.catalog ?? "platform" },
    },
    status: {
      catalogSource: opts.catalog ?? "platform",
      catalogSourceNamespace: "cpaas-system",
      packageName: name,
      provider: { name: opts.provider ?? "Alauda" },
      defaultChannel: "stable",
      channels: [
        {
          name: "stable",
          currentCSV: `${name}.v2.12.11`,
          currentCSVDesc: { displayName: name.toUpperCase(), installModes: [{ type: "AllNamespaces", supported: true }, { type: "OwnNamespace", supported: true }] },
          entries: [{ name: `${name}.v2.12.11`, version: "2.12.11" }, { name: `${name}.v2.12.10`, version: "2.12.10" }],
        },
        { name: "harbor-2", currentCSV: `${name}.v2.12.11`, entries: [{ name: `${name}.v2.12.11`, version: "2.12.11" }] },
      ],
    },
  };
}

describe("PackageManifest adapter", () => {
  it("makes tiles with source type, provider and Absent/Ready, hiding the system catalog", () => {
    const tiles = tilesOf([pm("harbor-ce-operator"), pm("clickhouse-operator", { type: "community", status: "Absent", provider: "Altinity" }), pm("olm-internal", { catalog: "system" })]);
    expect(tiles.map((t) => t.name)).toEqual(["clickhouse-operator", "harbor-ce-operator"]);
    expect(tiles[0]).toMatchObject({ sourceType: "community", status: "Absent", provider: "Altinity", defaultChannel: "stable" });
    expect(tiles[1].channels.map((c) => c.name)).toEqual(["stable", "harbor-2"]);
  });

  it("filters by source type, provider, install state and search", () => {
    const tiles = tilesOf([pm("harbor-ce-operator"), pm("clickhouse-operator", { type: "community", provider: "Altinity" })]);
    const installed = installedPackages([{ metadata: { name: "s", namespace: "x" }, spec: { name: "harbor-ce-operator" } }]);
    expect(filterTiles(tiles, { ...emptyFilter, sourceTypes: ["community"] }, installed).map((t) => t.name)).toEqual(["clickhouse-operator"]);
    expect(filterTiles(tiles, { ...emptyFilter, providers: ["Alauda"] }, installed).map((t) => t.name)).toEqual(["harbor-ce-operator"]);
    expect(filterTiles(tiles, { ...emptyFilter, installed: "not-installed" }, installed).map((t) => t.name)).toEqual(["clickhouse-operator"]);
    expect(filterTiles(tiles, { ...emptyFilter, search: "HARBOR" }, installed).map((t) => t.name)).toEqual(["harbor-ce-operator"]);
  });
});

describe("Subscription builder", () => {
  const harbor = tilesOf([pm("harbor-ce-operator")])[0];
  it("builds the documented Manual subscription with startingCSV and the target-namespaces annotation", () => {
    const f = { ...defaultForm(harbor), startingCSV: "harbor-ce-operator.v2.12.11" };
    expect(f.approval).toBe("Manual");
    expect(validateInstall(harbor, f)).toEqual({});
    const sub = buildSubscription(harbor, f);
    expect(sub.metadata).toMatchObject({ name: "harbor-ce-operator", namespace: "harbor-ce-operator", annotations: { "cpaas.io/target-namespaces": "" } });
    expect(sub.spec).toEqual({
      channel: "stable",
      installPlanApproval: "Manual",
      name: "harbor-ce-operator",
      source: "platform",
      sourceNamespace: "cpaas-system",
      startingCSV: "harbor-ce-operator.v2.12.11",
    });
  });
  it("refuses Automatic for Alauda operators and bad namespaces, naming the field", () => {
    const errs = validateInstall(harbor, { ...defaultForm(harbor), approval: "Automatic", namespace: "Bad_NS" });
    expect(errs.approval).toMatch(/only Manual/);
    expect(errs.namespace).toMatch(/lowercase/);
  });
  it("OwnNamespace targets the install namespace", () => {
    const sub = buildSubscription(harbor, { ...defaultForm(harbor), installMode: "OwnNamespace", namespace: "h" });
    expect(sub.metadata.annotations!["cpaas.io/target-namespaces"]).toBe("h");
  });
});

describe("installed operators", () => {
  const sub = (name: string, status: object, type = "alauda"): K8sObject => ({
    metadata: { name, namespace: name, labels: { "cpaas.io/provider-type": type } },
    spec: { name, channel: "stable", installPlanApproval: "Manual" },
    status,
  });
  const plan = (name: string, ns: string, approved: boolean, phase: string): K8sObject => ({
    metadata: { name, namespace: ns },
    spec: { approved, clusterServiceVersionNames: [`${ns}.v2`] },
    status: { phase, plan: [{ resource: { kind: "CustomResourceDefinition", name: "x.example.com" }, status: "Unknown" }] },
  });
  it("joins subscriptions with pending plans, failures and upgrades; batch upgrade picks Alauda upgrades only", () => {
    const subs = [
      sub("a", { installedCSV: "a.v1", currentCSV: "a.v2", installPlanRef: { name: "ip-a" }, state: "UpgradePending" }),
      sub("b", { currentCSV: "b.v1", installPlanRef: { name: "ip-b" }, state: "UpgradePending" }),
      sub("c", { installedCSV: "c.v1", currentCSV: "c.v2", installPlanRef: { name: "ip-c" } }, "community"),
      sub("d", { conditions: [{ type: "ResolutionFailed", status: "True", message: "no operators found in channel" }] }),
    ];
    const csvs: K8sObject[] = [{ metadata: { name: "a.v1", namespace: "a", annotations: { "cpaas.io/provider-type": "alauda" } }, status: { phase: "Succeeded" } }];
    const plans = [plan("ip-a", "a", false, "RequiresApproval"), plan("ip-b", "b", false, "RequiresApproval"), plan("ip-c", "c", false, "RequiresApproval")];
    const ops = installedOperators(subs, csvs, plans);
    expect(ops.find((o) => o.packageName === "a")).toMatchObject({ phase: "Succeeded", upgradeAvailable: "a.v2" });
    expect(ops.find((o) => o.packageName === "b")!.phase).toBe("RequiresApproval");
    expect(ops.find((o) => o.packageName === "d")!.problem).toMatch(/ResolutionFailed: no operators found/);
    expect(planComponents(plans[0])).toEqual([{ kind: "CustomResourceDefinition", name: "x.example.com", status: "Unknown" }]);
    expect(batchUpgradable(ops, new Map()).map((o) => o.packageName)).toEqual(["a"]);
  });
});

describe("plugin adapter", () => {
  const plugins: K8sObject[] = [{ metadata: { name: "gpu-device-plugin" }, spec: { displayName: "GPU device plugin" } }, { metadata: { name: "web-cli" } }];
  const configs: K8sObject[] = [
    { metadata: { name: "gpu-device-plugin-v4.0.15", labels: { "cpaas.io/module-name": "gpu-device-plugin" } }, spec: { version: "v4.0.15", affinity: { clusterAffinity: { matchLabels: { "cpaas.io/os-linux": "true", "cpaas.io/arch-amd64": "true" } } }, config: {} } },
    { metadata: { name: "gpu-device-plugin-v4.0.4", labels: { "cpaas.io/module-name": "gpu-device-plugin" } }, spec: { version: "v4.0.4", config: {} } },
  ];
  const infos: K8sObject[] = [
    { metadata: { name: "global-abc", labels: { "cpaas.io/cluster-name": "global", "cpaas.io/module-name": "gpu-device-plugin" } }, spec: { version: "v4.0.4" }, status: { phase: "Running", currentVersion: "v4.0.4", newVersion: "v4.0.15" } },
  ];
  it("orders versions numerically, marks plugins without versions Absent and reads installations", () => {
    const rows = pluginRows(plugins, configs, infos);
    expect(rows[0].versions.map((v) => v.version)).toEqual(["v4.0.15", "v4.0.4"]);
    expect(rows[0].installations[0]).toMatchObject({ cluster: "global", phase: "Running", newVersion: "v4.0.15" });
    expect(rows[1]).toMatchObject({ name: "web-cli", status: "Absent" });
    expect(compareVersions("v4.0.15", "v4.0.4")).toBeGreaterThan(0);
  });
  it("offers only clusters the affinity admits and that lack the plugin", () => {
    const clusters = clusterInfos(["global", "business", "region1"], [], [
      { metadata: { name: "cluster-business" }, data: { labels: JSON.stringify({ "cpaas.io/os-linux": "true", "cpaas.io/arch-amd64": "true" }) } } as any,
      { metadata: { name: "cluster-region1" }, data: { labels: JSON.stringify({ "cpaas.io/os-linux": "true", "cpaas.io/arch-arm64": "true" }) } } as any,
    ]);
    const row = pluginRows(plugins, configs, infos)[0];
    expect(installableClusters(row, row.versions[0], clusters).map((c) => c.name)).toEqual(["business"]);
    expect(installableClusters(row, row.versions[1], clusters).map((c) => c.name)).toEqual(["business", "region1"]);
  });
  it("matchExpressions follow metav1.LabelSelector", () => {
    const l = { a: "1", b: "2" };
    expect(matchesSelector(l, { matchExpressions: [{ key: "a", operator: "In", values: ["1", "3"] }] })).toBe(true);
    expect(matchesSelector(l, { matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] })).toBe(false);
    expect(matchesSelector(l, { matchExpressions: [{ key: "c", operator: "DoesNotExist" }] })).toBe(true);
    expect(matchesSelector(l, { matchExpressions: [{ key: "c", operator: "Exists" }] })).toBe(false);
    expect(matchesSelector(l, { matchExpressions: [{ key: "a", operator: "Gt" }] })).toBe(false);
  });
  it("shows a refused installation's reason and message (the controller's Validated=False), not a bare 'failed'", () => {
    const info = (phase: string, conditions: object[]): K8sObject => ({
      metadata: { name: "business-log-agent", labels: { "cpaas.io/cluster-name": "business", "cpaas.io/module-name": "log-agent" } },
      spec: { version: "v1.0.0" },
      status: { phase, conditions },
    });
    const refused = installationOf(info("Failed", [{ type: "Validated", status: "False", reason: "ChartUnavailable", message: "ModuleConfig log-agent-v1.0.0: not found; push the chart there" }]));
    expect(refused.message).toBe("ChartUnavailable: ModuleConfig log-agent-v1.0.0: not found; push the chart there");
    const helm = installationOf(info("Failed", [{ type: "Validated", status: "True", reason: "Valid", message: "m" }, { type: "Installed", status: "False", reason: "InstallFailed", message: "m" }]));
    expect(helm.message).toBe("InstallFailed: m");
    expect(installationOf(info("Running", [{ type: "Validated", status: "True", reason: "Valid" }, { type: "Installed", status: "True" }, { type: "Ready", status: "True" }])).message).toBeUndefined();
  });

  it("builds the documented ModuleInfo", () => {
    const mi = buildModuleInfo("gpu-device-plugin", "business", "v4.0.15", { custom: { mps_enable: false, pgpu_enable: true, vgpu_enable: true } });
    expect(mi.metadata.labels).toEqual({ "cpaas.io/cluster-name": "business", "cpaas.io/module-name": "gpu-device-plugin", "cpaas.io/module-type": "plugin" });
    expect(mi.spec).toEqual({ version: "v4.0.15", config: { custom: { mps_enable: false, pgpu_enable: true, vgpu_enable: true } } });
  });
});

describe("artifact adapter", () => {
  it("splits uploads into tabs with their cluster and Absent/Ready", () => {
    const av = (name: string, type: string, phase?: string): K8sObject => ({
      metadata: { name, namespace: "cpaas-system" },
      spec: { artifact: name.split(".")[0], version: name.split(".").slice(1).join("."), type, image: "r/x@sha256:1" },
      status: phase ? { phase } : undefined,
    });
    const m = new Map([["global", [av("topolvm-operator.v2.3.0", "bundle", "Ready"), av("web-cli.v4.0.4", "plugin")]], ["business", [av("topolvm-operator.v2.3.0", "bundle")]]]);
    const ops = rowsOfType(m, "bundle");
    expect(ops.map((r) => [r.cluster, r.status])).toEqual([["business", "Absent"], ["global", "Ready"]]);
    expect(rowsOfType(m, "plugin").map((r) => r.artifact)).toEqual(["web-cli"]);
    expect(rowsOfType(m, "chart")).toEqual([]);
  });
});

describe("watch", () => {
  it("splits a streamed body into events across chunk boundaries and folds them", () => {
    const s = new LineSplitter();
    const a = '{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"2"}}}';
    const d = '{"type":"DELETED","object":{"metadata":{"name":"a","resourceVersion":"3"}}}';
    expect(s.push(a.slice(0, 10))).toEqual([]);
    const lines = s.push(a.slice(10) + "\n" + d.slice(0, 5));
    expect(lines).toEqual([a]);
    expect(s.push(d.slice(5) + "\n")).toEqual([d]);
    let m = applyEvent(new Map(), JSON.parse(a));
    expect([...m.keys()]).toEqual(["/a"]);
    m = applyEvent(m, JSON.parse(d));
    expect(m.size).toBe(0);
  });
});

describe("shared InstallPlans", () => {
  it("name the other Subscriptions a plan serves and the CSV it installs for each", () => {
    const plan: K8sObject = {
      metadata: { name: "install-abcde", annotations: { "cpaas.io/installplan-subscriptions": "a=a-operator.v1.0.0,b=b-operator.v2.0.0" } },
    };
    expect(planSharedWith(plan, "a")).toEqual([{ subscription: "b", csv: "b-operator.v2.0.0" }]);
    expect(planSharedWith({ metadata: { name: "install-x" } }, "a")).toEqual([]);
  });
});
