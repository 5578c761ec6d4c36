// Every collection the console reads or writes, in one place.
import type { Resource } from "./types";

export const R = {
  namespaces: { group: "", version: "v1", plural: "namespaces", namespaced: false },
  configMaps: { group: "", version: "v1", plural: "configmaps", namespaced: true },
  packageManifests: {
    group: "packages.operators.coreos.com",
    version: "v1",
    plural: "packagemanifests",
    namespaced: true,
  },
  subscriptions: { group: "operators.coreos.com", version: "v1alpha1", plural: "subscriptions", namespaced: true },
  installPlans: { group: "operators.coreos.com", version: "v1alpha1", plural: "installplans", namespaced: true },
  csvs: {
    group: "operators.coreos.com",
    version: "v1alpha1",
    plural: "clusterserviceversions",
    namespaced: true,
  },
  operatorGroups: { group: "operators.coreos.com", version: "v1", plural: "operatorgroups", namespaced: true },
  modulePlugins: { group: "cluster.alauda.io", version: "v1alpha1", plural: "moduleplugins", namespaced: false },
  moduleConfigs: { group: "cluster.alauda.io", version: "v1alpha1", plural: "moduleconfigs", namespaced: false },
  moduleInfos: { group: "cluster.alauda.io", version: "v1alpha1", plural: "moduleinfos", namespaced: false },
  clusters: { group: "cluster.alauda.io", version: "v1alpha1", plural: "clusters", namespaced: false },
  artifacts: { group: "app.alauda.io", version: "v1alpha1", plural: "artifacts", namespaced: true },
  artifactVersions: { group: "app.alauda.io", version: "v1alpha1", plural: "artifactversions", namespaced: true },
} satisfies Record<string, Resource>;

/** The collection URL of `r` in `cluster` (all namespaces when `namespace` is absent). */
export function collectionPath(cluster: string, r: Resource, namespace?: string): string {
  const root = r.group === "" ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  const ns = r.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `/kubernetes/${encodeURIComponent(cluster)}${root}${ns}/${r.plural}`;
}

export function objectPath(cluster: string, r: Resource, name: string, namespace?: string): string {
  return `${collectionPath(cluster, r, namespace)}/${encodeURIComponent(name)}`;
}
