// The console's only I/O: the same Kubernetes-style API kubectl uses (plus contract #2's
// /platform/v1 login endpoints), with the user's bearer token. No private endpoints.
import type { K8sObject, Resource, WatchEvent } from "./types";
import { collectionPath, objectPath } from "./resources";
import { LineSplitter, parseEvent, applyEvent, resumeVersion } from "./watch";

const TOKEN_KEY = "marketplace.token";

export const session = {
  token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set(token: string) {
    sessionStorage.setItem(TOKEN_KEY, token.trim());
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An error the API answered (a metav1 Status), with its message for the page. */
export class ApiError extends Error {
  constructor(
    public code: number,
    message: string,
    public reason?: string,
  ) {
    super(message);
  }
}

async function errorOf(resp: Response): Promise<ApiError> {
  const text = await resp.text();
  try {
    const s = JSON.parse(text);
    return new ApiError(resp.status, s.message ?? `${resp.status} ${resp.statusText}`, s.reason);
  } catch {
    return new ApiError(resp.status, text || `${resp.status} ${resp.statusText}`);
  }
}

function headers(extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { Accept: "application/json", ...extra };
  const t = session.token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

export async function request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
  const resp = await fetch(path, {
    method,
    headers: headers(body !== undefined ? { "Content-Type": contentType ?? "application/json" } : undefined),
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  // A token the global cluster refuses (expired, revoked) ends the session. Other refusals do not:
  // the platform endpoints refuse tokens that are not platform logins (a pasted ServiceAccount
  // token), and a workload cluster refuses a ServiceAccount token of the global cluster; those
  // show as that page's or cluster's error.
  if (resp.status === 401 && path.startsWith("/kubernetes/global/")) window.dispatchEvent(new Event("marketplace:unauthorized"));
  if (!resp.ok) throw await errorOf(resp);
  const text = await resp.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export interface ListResult {
  items: K8sObject[];
  resourceVersion: string;
}

export async function list(cluster: string, r: Resource, namespace?: string, labelSelector?: string): Promise<ListResult> {
  const q = labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : "";
  const l = await request<{ items: K8sObject[]; metadata: { resourceVersion: string } }>(
    "GET",
    collectionPath(cluster, r, namespace) + q,
  );
  return { items: l.items ?? [], resourceVersion: l.metadata?.resourceVersion ?? "" };
}

export function get(cluster: string, r: Resource, name: string, namespace?: string): Promise<K8sObject> {
  return request("GET", objectPath(cluster, r, name, namespace));
}

export function create(cluster: string, r: Resource, obj: K8sObject, namespace?: string): Promise<K8sObject> {
  return request("POST", collectionPath(cluster, r, namespace), obj);
}

export function mergePatch(cluster: string, r: Resource, name: string, patch: unknown, namespace?: string): Promise<K8sObject> {
  return request("PATCH", objectPath(cluster, r, name, namespace), patch, "application/merge-patch+json");
}

export function remove(cluster: string, r: Resource, name: string, namespace?: string): Promise<unknown> {
  return request("DELETE", objectPath(cluster, r, name, namespace));
}

/** Creates the namespace unless it exists (409 is fine). */
export async function ensureNamespace(cluster: string, name: string): Promise<void> {
  try {
    await create(cluster, { group: "", version: "v1", plural: "namespaces", namespaced: false }, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name },
    });
  } catch (e) {
    if (!(e instanceof ApiError && e.code === 409)) throw e;
  }
}

/** SelfSubjectAccessReview: may the current user do `verb` on `r`? */
export async function can(cluster: string, verb: string, r: Resource, namespace?: string): Promise<boolean> {
  const review = await request<{ status?: { allowed?: boolean } }>(
    "POST",
    `/kubernetes/${encodeURIComponent(cluster)}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews`,
    {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SelfSubjectAccessReview",
      spec: { resourceAttributes: { verb, group: r.group, resource: r.plural, namespace } },
    },
  );
  return review.status?.allowed === true;
}

export interface ListState {
  items: K8sObject[];
  error?: string;
  loaded: boolean;
  /** The resource is not served in this cluster (its CRD or API is absent). */
  absent?: boolean;
}

/**
 * Lists `r` then follows a watch from the list's resourceVersion, calling `onChange` with the
 * whole list after every event. Re-lists after a 410 or a dropped stream. Returns a stop function.
 */
export function listAndWatch(
  cluster: string,
  r: Resource,
  onChange: (s: ListState) => void,
  opts: { namespace?: string; labelSelector?: string } = {},
): () => void {
  const ctl = new AbortController();
  let items = new Map<string, K8sObject>();
  const emit = (extra: Partial<ListState> = {}) =>
    onChange({ items: [...items.values()], loaded: true, ...extra });

  const run = async () => {
    let backoff = 500;
    while (!ctl.signal.aborted) {
      try {
        const l = await list(cluster, r, opts.namespace, opts.labelSelector);
        items = new Map(l.items.map((o) => [`${o.metadata.namespace ?? ""}/${o.metadata.name}`, o]));
        emit();
        backoff = 500;
        await follow(l.resourceVersion);
      } catch (e) {
        if (ctl.signal.aborted) return;
        if (e instanceof ApiError && e.code === 404) {
          items = new Map();
          emit({ absent: true });
        } else if (!(e instanceof ApiError && e.code === 410)) {
          emit({ error: e instanceof Error ? e.message : String(e) });
        }
      }
      if (ctl.signal.aborted) return;
      await new Promise((res) => setTimeout(res, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  };

  const follow = async (rv: string) => {
    const q = new URLSearchParams({ watch: "1", resourceVersion: rv, allowWatchBookmarks: "true" });
    if (opts.labelSelector) q.set("labelSelector", opts.labelSelector);
    const resp = await fetch(`${collectionPath(cluster, r, opts.namespace)}?${q}`, {
      headers: headers(),
      signal: ctl.signal,
    });
    if (!resp.ok || !resp.body) throw await errorOf(resp);
    const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
    const lines = new LineSplitter();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      let changed = false;
      for (const line of lines.push(value)) {
        const ev: WatchEvent = parseEvent(line);
        if (ev.type === "ERROR") {
          const code = (ev.object as unknown as { code?: number }).code ?? 500;
          throw new ApiError(code, (ev.object as unknown as { message?: string }).message ?? "watch error");
        }
        rv = resumeVersion(rv, ev);
        const next = applyEvent(items, ev);
        if (next !== items) {
          items = next;
          changed = true;
        }
      }
      if (changed) emit();
    }
  };

  run();
  return () => ctl.abort();
}

// Contract #2: the platform's login endpoints.
export interface PlatformUser {
  name: string;
  roleType: "System" | "Custom";
  roleName: string;
}

export async function login(username: string, password: string): Promise<{ token: string; user: PlatformUser }> {
  const resp = await fetch("/platform/v1/login", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ username, password }),
  });
  if (resp.status === 429) {
    const after = resp.headers.get("Retry-After");
    throw new ApiError(429, `Too many attempts; try again${after ? ` in ${after} s` : " later"}.`);
  }
  if (resp.status === 404) {
    throw new ApiError(404, "This server has no platform login; paste a token instead.");
  }
  if (!resp.ok) throw await errorOf(resp);
  return resp.json();
}

/** Who the token belongs to: /platform/v1/whoami, else the Kubernetes SelfSubjectReview. */
export async function whoami(): Promise<{ name: string; roleName?: string }> {
  try {
    const r = await request<{ user: PlatformUser }>("GET", "/platform/v1/whoami");
    return r.user;
  } catch {
    // Not a platform login token: ask the Kubernetes API who this is.
  }
  const review = await request<{ status: { userInfo: { username: string } } }>(
    "POST",
    "/kubernetes/global/apis/authentication.k8s.io/v1/selfsubjectreviews",
    { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  );
  return { name: review.status.userInfo.username };
}

/** The clusters: /platform/v1/info, else the cluster records serve keeps in global's kube-public. */
export async function clusterNames(): Promise<string[]> {
  try {
    const info = await request<{ clusters: string[] }>("GET", "/platform/v1/info");
    if (Array.isArray(info.clusters) && info.clusters.length > 0) return info.clusters;
  } catch {
    // Not a platform login token: fall back to the cluster records below.
  }
  const cms = await list("global", { group: "", version: "v1", plural: "configmaps", namespaced: true }, "kube-public");
  const names = cms.items
    .filter((c) => c.metadata.name.startsWith("cluster-"))
    .map((c) => c.metadata.name.slice("cluster-".length));
  return names.length ? names.sort((a, b) => (a === "global" ? -1 : b === "global" ? 1 : a.localeCompare(b))) : ["global"];
}
