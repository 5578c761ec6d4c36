// Minimal Kubernetes object shapes the console reads. Field names follow the API exactly
// (SPEC §2.2/§2.3 for OLM, apis::cluster for plugins, contract #1 for artifacts).

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
}

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  spec?: any;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  status?: any;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** One resource collection: where it is served. */
export interface Resource {
  group: string; // "" for core
  version: string;
  plural: string;
  namespaced: boolean;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: WatchEventType;
  object: K8sObject;
}
