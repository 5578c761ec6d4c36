// Adapter for uploaded packages (app.alauda.io/v1alpha1 Artifact / ArtifactVersion, contract #1):
// the rows of Upload Packages. If PLAT's shape changes, only this file changes.
import type { K8sObject } from "./types";

export const ARTIFACT_NAMESPACE = "cpaas-system";
export type ArtifactType = "bundle" | "plugin" | "chart";
export const TABS: { type: ArtifactType; title: string }[] = [
  { type: "bundle", title: "Operator" },
  { type: "plugin", title: "Cluster Plugin" },
  { type: "chart", title: "Helm Chart" },
];

export interface UploadRow {
  key: string;
  cluster: string;
  name: string;
  artifact: string;
  version: string;
  type: ArtifactType | string;
  status: "Ready" | "Absent" | "Failed";
  message?: string;
  image: string;
  arch: string[];
  catalogSource?: string;
  created?: string;
}

export function toUploadRow(cluster: string, av: K8sObject): UploadRow {
  const s = av.spec ?? {};
  const phase = av.status?.phase;
  return {
    key: `${cluster}/${av.metadata.namespace ?? ""}/${av.metadata.name}`,
    cluster,
    name: av.metadata.name,
    artifact: s.artifact ?? av.metadata.labels?.["cpaas.io/artifact"] ?? "",
    version: s.version ?? "",
    type: s.type ?? av.metadata.labels?.["cpaas.io/artifact-type"] ?? "",
    status: phase === "Ready" ? "Ready" : phase === "Failed" ? "Failed" : "Absent",
    message: av.status?.message,
    image: s.image ?? "",
    arch: s.arch ?? [],
    catalogSource: s.catalogSource,
    created: av.metadata.creationTimestamp,
  };
}

/** One tab's rows: grouped by artifact, newest first within it. */
export function rowsOfType(byCluster: Map<string, K8sObject[]>, type: ArtifactType): UploadRow[] {
  const rows: UploadRow[] = [];
  for (const [cluster, avs] of byCluster) for (const av of avs) rows.push(toUploadRow(cluster, av));
  return rows
    .filter((r) => r.type === type)
    .sort((a, b) => a.artifact.localeCompare(b.artifact) || b.version.localeCompare(a.version, undefined, { numeric: true }) || a.cluster.localeCompare(b.cluster));
}
