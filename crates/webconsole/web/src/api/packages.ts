// Adapter for OLM's PackageManifest (packages.operators.coreos.com/v1, SPEC §2.2) and the
// OperatorHub tiles. If OLM's shape changes, only this file changes.
import type { K8sObject } from "./types";

export const PROVIDER_TYPE_LABEL = "cpaas.io/provider-type";
export const PACKAGE_STATUS_LABEL = "cpaas.io/package-status";
/** Operators of this CatalogSource are never listed in OperatorHub (SPEC §2.1). */
export const HIDDEN_CATALOG = "system";
/** OLM labels the `system` catalog's packages `cpaas.io/hidden: "true"`; listings select them out. */
export const LISTING_SELECTOR = "cpaas.io/hidden!=true";

export const SOURCE_TYPES = ["alauda", "curated", "community", "marketplace", "custom"] as const;
export type SourceType = (typeof SOURCE_TYPES)[number] | "unknown";

export function sourceTypeLabel(t: SourceType): string {
  return t === "unknown" ? "Unknown" : t[0].toUpperCase() + t.slice(1);
}

export interface ChannelEntry {
  name: string; // the CSV name, e.g. harbor-ce-operator.v2.12.11
  version: string;
}

export interface Channel {
  name: string;
  currentCSV: string;
  entries: ChannelEntry[];
  installModes: { type: string; supported: boolean }[];
  description?: string;
}

export interface PackageTile {
  key: string; // namespace/name of the PackageManifest
  name: string;
  namespace: string;
  displayName: string;
  description: string;
  provider: string;
  sourceType: SourceType;
  status: "Ready" | "Absent";
  catalogSource: string;
  catalogSourceNamespace: string;
  catalogSourceDisplayName: string;
  defaultChannel: string;
  channels: Channel[];
  icon?: string; // data: URL
}

function toSourceType(v: string | undefined): SourceType {
  const t = (v ?? "").toLowerCase();
  return (SOURCE_TYPES as readonly string[]).includes(t) ? (t as SourceType) : "unknown";
}

export function toTile(pm: K8sObject): PackageTile {
  const s = pm.status ?? {};
  const labels = pm.metadata.labels ?? {};
  const channels: Channel[] = (s.channels ?? []).map((c: any) => ({
    name: c.name,
    currentCSV: c.currentCSV ?? "",
    entries: (c.entries ?? []).map((e: any) => ({ name: e.name, version: e.version ?? "" })),
    installModes: c.currentCSVDesc?.installModes ?? [],
    description: c.currentCSVDesc?.description,
  }));
  const head = (s.channels ?? []).find((c: any) => c.name === s.defaultChannel) ?? s.channels?.[0];
  const desc = head?.currentCSVDesc ?? {};
  const icon = desc.icon?.[0];
  return {
    key: `${pm.metadata.namespace ?? ""}/${pm.metadata.name}`,
    name: s.packageName ?? pm.metadata.name,
    namespace: pm.metadata.namespace ?? "",
    displayName: desc.displayName ?? s.packageName ?? pm.metadata.name,
    description: desc.annotations?.description ?? desc.description ?? "",
    provider: s.provider?.name ?? labels.provider ?? "",
    sourceType: toSourceType(labels[PROVIDER_TYPE_LABEL] ?? desc.annotations?.[PROVIDER_TYPE_LABEL]),
    status: labels[PACKAGE_STATUS_LABEL] === "Ready" ? "Ready" : "Absent",
    catalogSource: s.catalogSource ?? labels.catalog ?? "",
    catalogSourceNamespace: s.catalogSourceNamespace ?? labels["catalog-namespace"] ?? "",
    catalogSourceDisplayName: s.catalogSourceDisplayName ?? s.catalogSource ?? "",
    defaultChannel: s.defaultChannel ?? head?.name ?? "",
    channels,
    icon: icon?.base64data ? `data:${icon.mediatype ?? "image/svg+xml"};base64,${icon.base64data}` : undefined,
  };
}

/**
 * The tiles OperatorHub shows: one per package (a package listed in several namespaces because
 * its catalog is global appears once), never the `system` catalog's, sorted by display name.
 */
export function tilesOf(pms: K8sObject[]): PackageTile[] {
  const seen = new Map<string, PackageTile>();
  for (const pm of pms) {
    const t = toTile(pm);
    if (t.catalogSource === HIDDEN_CATALOG || pm.metadata.labels?.["cpaas.io/hidden"] === "true") continue;
    const id = `${t.catalogSourceNamespace}/${t.catalogSource}/${t.name}`;
    if (!seen.has(id)) seen.set(id, t);
  }
  return [...seen.values()].sort((a, b) => a.displayName.localeCompare(b.displayName));
}

export interface HubFilter {
  search: string;
  sourceTypes: SourceType[]; // empty = all
  providers: string[]; // empty = all
  installed: "all" | "installed" | "not-installed";
}

export const emptyFilter: HubFilter = { search: "", sourceTypes: [], providers: [], installed: "all" };

export function filterTiles(tiles: PackageTile[], f: HubFilter, installed: Set<string>): PackageTile[] {
  const q = f.search.trim().toLowerCase();
  return tiles.filter(
    (t) =>
      (q === "" || t.displayName.toLowerCase().includes(q) || t.name.includes(q) || t.description.toLowerCase().includes(q)) &&
      (f.sourceTypes.length === 0 || f.sourceTypes.includes(t.sourceType)) &&
      (f.providers.length === 0 || f.providers.includes(t.provider)) &&
      (f.installed === "all" || (f.installed === "installed") === installed.has(t.name)),
  );
}

/** Packages with a Subscription in this cluster (by package name). */
export function installedPackages(subscriptions: K8sObject[]): Set<string> {
  return new Set(subscriptions.map((s) => s.spec?.name).filter(Boolean));
}

export function providersOf(tiles: PackageTile[]): string[] {
  return [...new Set(tiles.map((t) => t.provider).filter((p) => p))].sort();
}
