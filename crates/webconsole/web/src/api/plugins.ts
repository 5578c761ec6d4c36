// Adapter for cluster plugins (cluster.alauda.io/v1alpha1: ModulePlugin, ModuleConfig, ModuleInfo,
// Cluster; crates/apis/src/cluster.rs, SPEC §3). Everything lives in the global cluster.
import type { Condition, K8sObject } from "./types";

export const CLUSTER_NAME_LABEL = "cpaas.io/cluster-name";
export const MODULE_NAME_LABEL = "cpaas.io/module-name";
export const MODULE_TYPE_LABEL = "cpaas.io/module-type";

export interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** metav1.LabelSelector semantics; an absent selector admits every cluster. */
export function matchesSelector(labels: Record<string, string>, sel: Selector | undefined | null): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || !vals.includes(labels[e.key])) return false;
        break;
      case "NotIn":
        if (has && vals.includes(labels[e.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export interface ClusterInfo {
  name: string;
  labels: Record<string, string>;
}

/**
 * Cluster labels: the Cluster registry objects (PLUG) when present, else the records
 * `marketplace serve` keeps as ConfigMaps `kube-public/cluster-<name>` (data.labels is JSON).
 */
export function clusterInfos(names: string[], registry: K8sObject[], configMaps: K8sObject[]): ClusterInfo[] {
  return names.map((name) => {
    const reg = registry.find((c) => c.metadata.name === name);
    if (reg) return { name, labels: reg.metadata.labels ?? {} };
    const cm = configMaps.find((c) => c.metadata.name === `cluster-${name}`) as any;
    let labels: Record<string, string> = {};
    try {
      labels = JSON.parse(cm?.data?.labels ?? "{}");
    } catch {
      labels = {};
    }
    if (name === "global") labels = { "is-global": "true", ...labels };
    return { name, labels };
  });
}

/** Numeric-aware version order (v4.0.15 > v4.0.4). */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, "").split(/[.+-]/);
  const pb = b.replace(/^v/, "").split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? "";
    const y = pb[i] ?? "";
    const nx = Number(x);
    const ny = Number(y);
    const c = !Number.isNaN(nx) && !Number.isNaN(ny) && x !== "" && y !== "" ? nx - ny : x.localeCompare(y);
    if (c !== 0) return c;
  }
  return 0;
}

export interface PluginVersion {
  version: string;
  config: K8sObject;
}

export interface Installation {
  cluster: string;
  info: K8sObject;
  phase: string;
  currentVersion?: string;
  targetVersion: string;
  newVersion?: string;
  message?: string;
}

export interface PluginRow {
  name: string;
  displayName: string;
  description: string;
  provider: string;
  /** Ready when at least one version is published (uploaded), else Absent. */
  status: "Ready" | "Absent";
  versions: PluginVersion[]; // newest first
  installations: Installation[];
}

export function versionsOf(plugin: string, configs: K8sObject[]): PluginVersion[] {
  return configs
    .filter((c) => (c.metadata.labels?.[MODULE_NAME_LABEL] ?? "") === plugin || (!c.metadata.labels?.[MODULE_NAME_LABEL] && c.metadata.name.startsWith(`${plugin}-`) && c.metadata.name === `${plugin}-${c.spec?.version}`))
    .map((c) => ({ version: c.spec?.version ?? "", config: c }))
    .sort((a, b) => compareVersions(b.version, a.version));
}

/**
 * Why an installation is not Running, from its conditions: a refusal (`Validated=False`, e.g.
 * ChartUnavailable or InvalidConfig) first, then a failed or pending release (`Installed=False`),
 * then workloads not ready (`Ready=False`).
 */
export function failure(conds: Condition[] | undefined): string | undefined {
  const all = conds ?? [];
  const c = ["Validated", "Installed", "Ready"].map((t) => all.find((c) => c.type === t && c.status === "False")).find(Boolean) ??
    all.find((c) => c.type === "Failed" && c.status === "True");
  return c ? `${c.reason}: ${c.message}` : undefined;
}

export function installationOf(info: K8sObject): Installation {
  const st = info.status ?? {};
  return {
    cluster: info.metadata.labels?.[CLUSTER_NAME_LABEL] ?? "",
    info,
    phase: st.phase ?? "Pending",
    currentVersion: st.currentVersion,
    targetVersion: info.spec?.version ?? "",
    newVersion: st.newVersion,
    message: st.phase === "Failed" ? failure(st.conditions) ?? "failed" : failure(st.conditions),
  };
}

export function pluginRows(plugins: K8sObject[], configs: K8sObject[], infos: K8sObject[]): PluginRow[] {
  return plugins
    .map((p) => {
      const versions = versionsOf(p.metadata.name, configs);
      return {
        name: p.metadata.name,
        displayName: p.spec?.displayName ?? p.metadata.name,
        description: p.spec?.description ?? "",
        provider: p.spec?.provider ?? "",
        status: versions.length ? ("Ready" as const) : ("Absent" as const),
        versions,
        installations: infos
          .filter((i) => i.metadata.labels?.[MODULE_NAME_LABEL] === p.metadata.name)
          .map(installationOf)
          .sort((a, b) => a.cluster.localeCompare(b.cluster)),
      };
    })
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
}

/** Clusters a version may be installed on: admitted by its affinity and not yet having the plugin. */
export function installableClusters(row: PluginRow, version: PluginVersion, clusters: ClusterInfo[]): ClusterInfo[] {
  const sel = version.config.spec?.affinity?.clusterAffinity as Selector | undefined;
  const taken = new Set(row.installations.map((i) => i.cluster));
  return clusters.filter((c) => matchesSelector(c.labels, sel) && !taken.has(c.name));
}

/** The ModuleInfo that installs `plugin` at `version` on `cluster` (created in global; renamed by the platform). */
export function buildModuleInfo(plugin: string, cluster: string, version: string, config: unknown): K8sObject {
  return {
    apiVersion: "cluster.alauda.io/v1alpha1",
    kind: "ModuleInfo",
    metadata: {
      name: `${cluster}-${plugin}`.slice(0, 63).replace(/-+$/, ""),
      labels: {
        [CLUSTER_NAME_LABEL]: cluster,
        [MODULE_NAME_LABEL]: plugin,
        [MODULE_TYPE_LABEL]: "plugin",
      },
    },
    spec: { version, config: config ?? {} },
  };
}
