//! Small helpers the controllers share: time stamps, OLM-shaped conditions, server-side apply of
//! free-form objects, deterministic names.

use apis::operators::OlmCondition;
use std::collections::HashMap;
use std::sync::Mutex;

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, Scope};
use serde_json::Value;

pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Sets condition `type_` in `conds`, keeping its transition time when the status is unchanged.
pub fn set_condition(
    conds: &mut Vec<OlmCondition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: &str,
) {
    let status = if status { "True" } else { "False" };
    let t = now();
    match conds.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = Some(t);
            }
            c.status = status.into();
            c.reason = Some(reason.into());
            c.message = Some(message.into());
        }
        None => conds.push(OlmCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            last_transition_time: Some(t),
            ..Default::default()
        }),
    }
}

/// Removes condition `type_`.
pub fn clear_condition(conds: &mut Vec<OlmCondition>, type_: &str) {
    conds.retain(|c| c.type_ != type_);
}

/// Conditions equal apart from their time stamps.
pub fn same_conditions(a: &[OlmCondition], b: &[OlmCondition]) -> bool {
    let strip = |v: &[OlmCondition]| {
        v.iter()
            .map(|c| {
                (
                    c.type_.clone(),
                    c.status.clone(),
                    c.reason.clone(),
                    c.message.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    strip(a) == strip(b)
}

/// A short stable hash (5 lowercase alphanumerics) of `parts`, for generated names.
pub fn short_hash(parts: &[&str]) -> String {
    // FNV-1a: stable across runs and platforms (std's hasher is randomly seeded).
    let mut h: u64 = 0xcbf29ce484222325;
    for p in parts {
        for b in p.bytes().chain([0u8]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    const ALPHA: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..5)
        .map(|i| ALPHA[((h >> (i * 8)) % ALPHA.len() as u64) as usize] as char)
        .collect()
}

/// Truncates a generated object name to `max` characters without a trailing `-` or `.`.
pub fn truncate_name(s: &str, max: usize) -> String {
    let t: String = s.chars().take(max).collect();
    t.trim_end_matches(['-', '.']).to_string()
}

/// How an apply failed, for the caller's retry decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplyFailure {
    /// The object's API is not served yet (a CRD applied just before): retry shortly.
    WaitingForApi,
    /// The API server or the connection failed in a way that may pass (5xx, 429, a conflict,
    /// a timeout, a refused or reset connection): retry with backoff.
    Transient,
    /// The API refused the object itself (invalid, forbidden, ...): retrying cannot help.
    Permanent,
}

/// A failed apply: its class and a message naming the object and the API's answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApplyError {
    pub failure: ApplyFailure,
    pub message: String,
}

/// Whether a `kube::Error` may pass on its own: server errors, throttling, conflicts and
/// transport failures are; the API's refusal of the request itself (4xx) is not.
pub fn is_transient(e: &kube::Error) -> bool {
    match e {
        kube::Error::Api(s) => s.code >= 500 || s.code == 429 || s.code == 409 || s.code == 408,
        kube::Error::HyperError(_) | kube::Error::Service(_) => true,
        _ => false,
    }
}

/// Discovery answers (the API resource and its scope per group/version/kind) of one cluster, so
/// each applied object does not ask again. Only answers are kept, not "not served yet"; an entry
/// is dropped when an apply through it fails.
#[derive(Default)]
pub struct KindCache(Mutex<HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)>>);

impl KindCache {
    async fn resolve(
        &self,
        client: &kube::Client,
        gvk: &GroupVersionKind,
    ) -> Result<(ApiResource, ApiCapabilities), kube::Error> {
        if let Some(hit) = self.0.lock().expect("kind cache lock").get(gvk) {
            return Ok(hit.clone());
        }
        let found = kube::discovery::pinned_kind(client, gvk).await?;
        self.0
            .lock()
            .expect("kind cache lock")
            .insert(gvk.clone(), found.clone());
        Ok(found)
    }

    fn forget(&self, gvk: &GroupVersionKind) {
        self.0.lock().expect("kind cache lock").remove(gvk);
    }
}

/// Server-side applies a free-form object (`apiVersion`/`kind` read from it) with `manager`,
/// namespaced ones in `namespace`; returns the object as stored. Errors name the object.
pub async fn apply_json(
    client: &kube::Client,
    kinds: &KindCache,
    obj: &Value,
    namespace: &str,
    manager: &str,
) -> Result<DynamicObject, ApplyError> {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default();
    let kind = obj["kind"].as_str().unwrap_or_default();
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (group, version) = match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    };
    let what = format!("{kind} {name:?} ({api_version})");
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let (ar, caps) = kinds.resolve(client, &gvk).await.map_err(|e| ApplyError {
        failure: if is_transient(&e) {
            ApplyFailure::Transient
        } else {
            ApplyFailure::WaitingForApi
        },
        message: format!("{what}: the API is not served yet: {e}"),
    })?;
    let mut obj = obj.clone();
    let api: Api<DynamicObject> = match caps.scope {
        Scope::Namespaced => {
            // Bundle objects go to the plan's namespace whatever they say (real CSVs carry
            // `namespace: placeholder`), as OLM installs them.
            let ns = namespace.to_string();
            obj["metadata"]["namespace"] = Value::String(ns.clone());
            Api::namespaced_with(client.clone(), &ns, &ar)
        }
        Scope::Cluster => {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("namespace");
            }
            Api::all_with(client.clone(), &ar)
        }
    };
    if let Some(m) = obj["metadata"].as_object_mut() {
        for k in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "managedFields",
            "generation",
        ] {
            m.remove(k);
        }
    }
    if let Some(o) = obj.as_object_mut() {
        o.remove("status");
    }
    api.patch(
        &name,
        &PatchParams::apply(manager).force(),
        &Patch::Apply(&obj),
    )
    .await
    .inspect_err(|_| kinds.forget(&gvk))
    .map_err(|e| ApplyError {
        failure: match &e {
            // The API went away since discovery (a CRD deleted): as if not served yet.
            kube::Error::Api(s) if s.code == 404 => ApplyFailure::WaitingForApi,
            e if is_transient(e) => ApplyFailure::Transient,
            _ => ApplyFailure::Permanent,
        },
        message: format!("{what}: {e}"),
    })
}

/// Waits until `api` can be listed (a CRD installed just before the set started may not be
/// served yet), so the first watch does not fail; gives up after 30 s and lets the watch retry,
/// or at once when the set is asked to stop.
pub async fn wait_listable<K>(cx: &controllers::ClusterContext, api: &Api<K>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let start = std::time::Instant::now();
    let mut delay = std::time::Duration::from_millis(50);
    while api
        .list(&kube::api::ListParams::default().limit(1))
        .await
        .is_err()
        && start.elapsed() < std::time::Duration::from_secs(30)
    {
        tokio::select! {
            () = cx.shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(std::time::Duration::from_secs(1));
    }
}

/// A watched store of every OperatorGroup, and the future that keeps it filled (run it beside
/// the controller that reads the store).
pub fn operator_group_store(
    client: &kube::Client,
) -> (
    kube::runtime::reflector::Store<apis::operators::OperatorGroup>,
    impl std::future::Future<Output = ()> + Send,
) {
    use futures::StreamExt;
    use kube::runtime::WatchStreamExt;
    let (store, writer) = kube::runtime::reflector::store();
    let fill = kube::runtime::reflector(
        writer,
        kube::runtime::watcher(Api::all(client.clone()), Default::default()).default_backoff(),
    )
    .for_each(|_| futures::future::ready(()));
    (store, fill)
}

/// The OperatorGroups of namespace `ns`, from the watched `store`; listed when the store has
/// none there (it may lag a group created a moment ago, and "no OperatorGroup" is acted on).
pub async fn namespace_operator_groups(
    client: &kube::Client,
    store: &kube::runtime::reflector::Store<apis::operators::OperatorGroup>,
    ns: &str,
) -> Result<Vec<apis::operators::OperatorGroup>, kube::Error> {
    let stored: Vec<apis::operators::OperatorGroup> = store
        .state()
        .into_iter()
        .filter(|g| g.metadata.namespace.as_deref() == Some(ns))
        .map(|g| g.as_ref().clone())
        .collect();
    if !stored.is_empty() {
        return Ok(stored);
    }
    let api: Api<apis::operators::OperatorGroup> = Api::namespaced(client.clone(), ns);
    Ok(api.list(&Default::default()).await?.items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hashes_are_stable_and_name_safe() {
        let a = short_hash(&["ns", "sub", "csv.v1"]);
        assert_eq!(a, short_hash(&["ns", "sub", "csv.v1"]));
        assert_ne!(a, short_hash(&["ns", "sub", "csv.v2"]));
        assert_eq!(a.len(), 5);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        );
    }

    #[test]
    fn server_errors_throttling_and_conflicts_are_transient_refusals_are_not() {
        let api = |code: u16| {
            kube::Error::Api(Box::new(
                serde_json::from_value(serde_json::json!({"code": code, "message": "m"})).unwrap(),
            ))
        };
        for code in [500, 503, 504, 429, 409, 408] {
            assert!(is_transient(&api(code)), "{code}");
        }
        for code in [400, 403, 404, 422] {
            assert!(!is_transient(&api(code)), "{code}");
        }
    }

    #[test]
    fn a_condition_keeps_its_transition_time_while_its_status_holds() {
        let mut c = Vec::new();
        set_condition(&mut c, "X", true, "R", "m");
        let t = c[0].last_transition_time.clone();
        set_condition(&mut c, "X", true, "R2", "m2");
        assert_eq!(c[0].last_transition_time, t);
        assert_eq!(c[0].reason.as_deref(), Some("R2"));
        assert_eq!(c.len(), 1);
    }
}
