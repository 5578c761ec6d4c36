//! The cluster side of an install: manifests → objects with their API resource (discovery, cached),
//! server-side apply with Helm's field manager, deletion, and polling for readiness. Readiness
//! itself is the pure [`readiness`] over an object's JSON.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use kube::Client;
use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, PropagationPolicy,
};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::{self, Scope};
use serde_json::Value;
use tokio::time::Instant;

use crate::Error;

/// The field manager Helm v4's CLI applies with (its program name).
pub const FIELD_MANAGER: &str = "helm";

/// One object of a manifest, resolved against the cluster.
#[derive(Debug, Clone)]
pub struct Object {
    pub value: Value,
    pub resource: ApiResource,
    pub namespaced: bool,
}

impl Object {
    pub fn kind(&self) -> &str {
        &self.resource.kind
    }
    pub fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }
    pub fn namespace(&self) -> Option<&str> {
        self.value["metadata"]["namespace"].as_str()
    }
    /// Identity across revisions: group, kind, namespace, name (versions may change).
    pub fn key(&self) -> ObjectKey {
        ObjectKey {
            group: self.resource.group.clone(),
            kind: self.resource.kind.clone(),
            namespace: self.namespace().unwrap_or_default().to_string(),
            name: self.name().to_string(),
        }
    }
    /// `Kind/namespace/name` as Helm's messages print an object.
    pub fn display(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{}/{ns}/{}", self.kind(), self.name()),
            None => format!("{}/{}", self.kind(), self.name()),
        }
    }
    /// `helm.sh/resource-policy: keep`.
    pub fn keep(&self) -> bool {
        self.value["metadata"]["annotations"]["helm.sh/resource-policy"].as_str() == Some("keep")
    }
    /// Go's `schema.GroupVersionKind.String()`: `group/version, Kind=Kind`.
    pub fn gvk_text(&self) -> String {
        format!(
            "{}/{}, Kind={}",
            self.resource.group, self.resource.version, self.resource.kind
        )
    }
}

/// An object's identity (group, kind, namespace, name).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

/// Parses a release manifest (or hook) into YAML documents as JSON objects, skipping empty ones.
pub fn documents(manifest: &str) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for doc in helm::manifest::split_manifests(manifest) {
        let v = goyaml::to_json(&doc, goyaml::Numbers::Exact)
            .map_err(|e| Error::Invalid(format!("manifest document is not YAML: {e}")))?;
        match v {
            Value::Null => {}
            Value::Object(_) => out.push(v),
            _ => return Err(Error::Invalid("manifest document is not an object".into())),
        }
    }
    Ok(out)
}

/// A cluster with a cache of resolved kinds.
pub struct Cluster {
    pub client: Client,
    kinds: Mutex<HashMap<(String, String), (ApiResource, bool)>>,
}

impl Cluster {
    pub fn new(client: Client) -> Cluster {
        Cluster {
            client,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    /// Remembers kinds found by a full discovery.
    pub fn remember(&self, ar: ApiResource, namespaced: bool) {
        let key = (ar.api_version.clone(), ar.kind.clone());
        self.kinds
            .lock()
            .expect("kinds")
            .insert(key, (ar, namespaced));
    }

    /// The API resource serving `apiVersion`/`kind` (discovery, cached).
    pub async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<(ApiResource, bool), Error> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(hit) = self.kinds.lock().expect("kinds").get(&key) {
            return Ok(hit.clone());
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (ar, caps) = discovery::pinned_kind(&self.client, &gvk).await.map_err(|_| {
            Error::Invalid(format!(
                "resource mapping not found for kind \"{kind}\" in version \"{api_version}\": ensure CRDs are installed first"
            ))
        })?;
        let namespaced = caps.scope == Scope::Namespaced;
        self.remember(ar.clone(), namespaced);
        Ok((ar, namespaced))
    }

    /// Resolves manifest documents; namespaced objects without a namespace get `namespace`.
    pub async fn objects(&self, manifest: &str, namespace: &str) -> Result<Vec<Object>, Error> {
        let mut out = Vec::new();
        for mut v in documents(manifest)? {
            let api_version = v["apiVersion"].as_str().unwrap_or_default().to_string();
            let kind = v["kind"].as_str().unwrap_or_default().to_string();
            if api_version.is_empty() || kind.is_empty() {
                return Err(Error::Invalid(format!(
                    "object {} has no apiVersion or kind; every manifest document needs both",
                    v["metadata"]["name"].as_str().unwrap_or("<unnamed>")
                )));
            }
            let (resource, namespaced) = self.resolve(&api_version, &kind).await?;
            if namespaced
                && v["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty()
            {
                v["metadata"]["namespace"] = Value::from(namespace);
            }
            if !namespaced && let Some(m) = v["metadata"].as_object_mut() {
                m.remove("namespace");
            }
            out.push(Object {
                value: v,
                resource,
                namespaced,
            });
        }
        Ok(out)
    }

    fn api(&self, o: &Object) -> Api<DynamicObject> {
        match o.namespace().filter(|_| o.namespaced) {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &o.resource),
            None => Api::all_with(self.client.clone(), &o.resource),
        }
    }

    /// Server-side apply with Helm's field manager, taking over conflicting fields (an upgrade by
    /// another manager of the same release must not fail on its own fields).
    pub async fn apply(&self, o: &Object, dry_run: bool) -> Result<Value, Error> {
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        pp.dry_run = dry_run;
        match self
            .api(o)
            .patch(o.name(), &pp, &Patch::Apply(&o.value))
            .await
        {
            Ok(obj) => Ok(serde_json::to_value(obj).unwrap_or_default()),
            Err(e) => Err(Error::Failed(format!(
                "server-side apply failed for object {}/{} {}: {}",
                o.namespace().unwrap_or_default(),
                o.name(),
                o.gvk_text(),
                api_message(&e)
            ))),
        }
    }

    /// Creates the object; `Ok(false)` when it already exists.
    pub async fn create(&self, o: &Object) -> Result<bool, Error> {
        let obj: DynamicObject = serde_json::from_value(o.value.clone())
            .map_err(|e| Error::Invalid(format!("{}: {e}", o.display())))?;
        match self.api(o).create(&PostParams::default(), &obj).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(Error::Failed(format!(
                "failed to create {}: {}",
                o.display(),
                api_message(&e)
            ))),
        }
    }

    /// The live object, if any.
    pub async fn get(&self, o: &Object) -> Result<Option<Value>, Error> {
        match self.api(o).get_opt(o.name()).await {
            Ok(v) => Ok(v.map(|d| serde_json::to_value(d).unwrap_or_default())),
            Err(e) => Err(Error::kube(&format!("get {}", o.display()), e)),
        }
    }

    /// Deletes the object in the background (its dependents go through garbage collection);
    /// `false` when it was already gone.
    pub async fn delete(&self, o: &Object) -> Result<bool, Error> {
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        match self.api(o).delete(o.name(), &dp).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(false),
            Err(e) => Err(Error::Failed(format!(
                "failed to delete {}: {}",
                o.display(),
                api_message(&e)
            ))),
        }
    }

    /// Deletes the object and polls until it is gone (a hook re-created at once must not meet
    /// its terminating predecessor).
    pub async fn delete_and_wait(&self, o: &Object, deadline: Instant) -> Result<(), Error> {
        if !self.delete(o).await? {
            return Ok(());
        }
        let mut poll = Poll::new();
        while self.get(o).await?.is_some() {
            if Instant::now() >= deadline {
                return Err(Error::Failed(format!(
                    "timed out waiting for {} to be deleted",
                    o.display()
                )));
            }
            poll.wait().await;
        }
        Ok(())
    }

    /// Polls until every object is ready ([`readiness`]) or the deadline passes, with Helm's
    /// `resource X not ready` message.
    pub async fn wait_ready(&self, objects: &[Object], deadline: Instant) -> Result<(), Error> {
        for o in objects {
            let mut poll = Poll::new();
            loop {
                let live = self.get(o).await?;
                let state = match &live {
                    None => Readiness::Waiting(format!("{} not found", o.kind())),
                    Some(v) => readiness(o.kind(), v),
                };
                match state {
                    Readiness::Ready => break,
                    Readiness::Failed(m) => return Err(Error::Failed(m)),
                    Readiness::Waiting(m) => {
                        if Instant::now() >= deadline {
                            return Err(Error::Failed(format!(
                                "resource {} not ready. status: InProgress, message: {m}\ncontext deadline exceeded",
                                o.display()
                            )));
                        }
                        poll.wait().await;
                    }
                }
            }
        }
        Ok(())
    }

    /// Waits for a CRD to be `Established`.
    pub async fn wait_established(&self, o: &Object, deadline: Instant) -> Result<(), Error> {
        let mut poll = Poll::new();
        loop {
            if let Some(v) = self.get(o).await?
                && condition(&v, "Established") == Some(true)
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(Error::Failed(format!(
                    "CustomResourceDefinition {} is not established\ncontext deadline exceeded",
                    o.name()
                )));
            }
            poll.wait().await;
        }
    }
}

/// Polling starts at 5 ms (most objects settle within a few ms on the embedded clusters) and backs
/// off to 200 ms.
struct Poll(Duration);

impl Poll {
    fn new() -> Poll {
        Poll(Duration::from_millis(5))
    }
    async fn wait(&mut self) {
        tokio::time::sleep(self.0).await;
        self.0 = (self.0 * 2).min(Duration::from_millis(200));
    }
}

/// The message of an API error (the Status `message`), else the error's text.
pub fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => other.to_string(),
    }
}

/// Whether an object is ready, as Helm's `--wait` judges it.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    Ready,
    Waiting(String),
    Failed(String),
}

fn condition(v: &Value, kind: &str) -> Option<bool> {
    v["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
        .map(|c| c["status"] == "True")
}

fn int(v: &Value, path: &[&str]) -> i64 {
    path.iter().fold(v, |v, k| &v[k]).as_i64().unwrap_or(0)
}

fn generation_observed(v: &Value) -> bool {
    int(v, &["status", "observedGeneration"]) >= int(v, &["metadata", "generation"])
}

/// Readiness of workloads, Pods, Jobs, PVCs and Services; every other kind is ready once it exists.
pub fn readiness(kind: &str, v: &Value) -> Readiness {
    let want = |path: &[&str]| path.iter().fold(v, |v, k| &v[k]).as_i64().unwrap_or(1);
    match kind {
        "Deployment" => {
            let replicas = want(&["spec", "replicas"]);
            let available = int(v, &["status", "availableReplicas"]);
            let updated = int(v, &["status", "updatedReplicas"]);
            if generation_observed(v) && updated >= replicas && available >= replicas {
                Readiness::Ready
            } else {
                Readiness::Waiting(format!("Available: {available}/{replicas}"))
            }
        }
        "StatefulSet" => {
            let replicas = want(&["spec", "replicas"]);
            let ready = int(v, &["status", "readyReplicas"]);
            if generation_observed(v) && ready >= replicas {
                Readiness::Ready
            } else {
                Readiness::Waiting(format!("Ready: {ready}/{replicas}"))
            }
        }
        "DaemonSet" => {
            let desired = int(v, &["status", "desiredNumberScheduled"]);
            let ready = int(v, &["status", "numberReady"]);
            if generation_observed(v)
                && v["status"]["desiredNumberScheduled"].is_i64()
                && ready >= desired
            {
                Readiness::Ready
            } else {
                Readiness::Waiting(format!("Ready: {ready}/{desired}"))
            }
        }
        "Job" => {
            if condition(v, "Complete") == Some(true) {
                Readiness::Ready
            } else if condition(v, "Failed") == Some(true) {
                let reason = v["status"]["conditions"]
                    .as_array()
                    .and_then(|c| c.iter().find(|c| c["type"] == "Failed"))
                    .and_then(|c| c["reason"].as_str())
                    .unwrap_or("Failed");
                Readiness::Failed(format!(
                    "job {} failed: {reason}",
                    v["metadata"]["name"].as_str().unwrap_or_default()
                ))
            } else {
                Readiness::Waiting("Job in progress".into())
            }
        }
        "Pod" => match v["status"]["phase"].as_str().unwrap_or_default() {
            "Succeeded" => Readiness::Ready,
            "Failed" => Readiness::Failed(format!(
                "pod {} failed",
                v["metadata"]["name"].as_str().unwrap_or_default()
            )),
            _ if condition(v, "Ready") == Some(true) => Readiness::Ready,
            phase => Readiness::Waiting(format!("Pod phase {phase}")),
        },
        "PersistentVolumeClaim" => match v["status"]["phase"].as_str() {
            Some("Bound") => Readiness::Ready,
            other => Readiness::Waiting(format!("PVC is {}", other.unwrap_or("Pending"))),
        },
        "Service" => {
            let ty = v["spec"]["type"].as_str().unwrap_or("ClusterIP");
            let ready = match ty {
                "ExternalName" => true,
                "LoadBalancer" => v["status"]["loadBalancer"]["ingress"]
                    .as_array()
                    .is_some_and(|a| !a.is_empty()),
                _ => !v["spec"]["clusterIP"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
            };
            if ready {
                Readiness::Ready
            } else {
                Readiness::Waiting("Service has no address yet".into())
            }
        }
        _ => Readiness::Ready,
    }
}

/// Discovery of the whole cluster: Helm's `.Capabilities` (server version and every
/// `group/version` and `group/version/Kind`), remembering the kinds for later resolution.
pub async fn capabilities(cluster: &Cluster) -> Result<helm::Capabilities, Error> {
    let client = &cluster.client;
    let info = client
        .apiserver_version()
        .await
        .map_err(|e| Error::kube("could not get server version from Kubernetes", e))?;
    // Aggregated discovery (two requests) where the server has it, else one request per group
    // version; every render asks, so this is on the path of each install, upgrade and diff.
    let d = match kube::Discovery::new(client.clone()).run_aggregated().await {
        Ok(d) => d,
        Err(_) => kube::Discovery::new(client.clone())
            .run()
            .await
            .map_err(|e| Error::kube("could not get apiVersions from Kubernetes", e))?,
    };
    let mut versions = Vec::new();
    for g in d.groups() {
        for v in g.versions() {
            let mut gv_added = false;
            for (ar, caps) in g.versioned_resources(v) {
                if !gv_added {
                    versions.push(ar.api_version.clone());
                    gv_added = true;
                }
                versions.push(format!("{}/{}", ar.api_version, ar.kind));
                cluster.remember(ar, caps.scope == Scope::Namespaced);
            }
        }
    }
    Ok(helm::Capabilities {
        kube_version: helm::capabilities::KubeVersion::parse(&info.git_version)
            .map_err(Error::Invalid)?,
        api_versions: versions,
        ..helm::Capabilities::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployments_are_ready_when_every_replica_is_updated_and_available() {
        let mut d = json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": {"observedGeneration": 2, "updatedReplicas": 2, "availableReplicas": 1}});
        assert_eq!(
            readiness("Deployment", &d),
            Readiness::Waiting("Available: 1/2".into())
        );
        d["status"]["availableReplicas"] = json!(2);
        assert_eq!(readiness("Deployment", &d), Readiness::Ready);
        d["metadata"]["generation"] = json!(3);
        assert!(matches!(readiness("Deployment", &d), Readiness::Waiting(_)));
    }

    #[test]
    fn jobs_complete_fail_or_wait() {
        let j = |t: &str| json!({"metadata": {"name": "j"}, "status": {"conditions": [{"type": t, "status": "True", "reason": "BackoffLimitExceeded"}]}});
        assert_eq!(readiness("Job", &j("Complete")), Readiness::Ready);
        assert_eq!(
            readiness("Job", &j("Failed")),
            Readiness::Failed("job j failed: BackoffLimitExceeded".into())
        );
        assert_eq!(
            readiness("Job", &json!({})),
            Readiness::Waiting("Job in progress".into())
        );
    }

    #[test]
    fn services_pvcs_and_other_kinds() {
        assert_eq!(
            readiness("Service", &json!({"spec": {"clusterIP": "10.0.0.1"}})),
            Readiness::Ready
        );
        assert!(matches!(
            readiness(
                "Service",
                &json!({"spec": {"type": "LoadBalancer", "clusterIP": "10.0.0.1"}})
            ),
            Readiness::Waiting(_)
        ));
        assert!(matches!(
            readiness("PersistentVolumeClaim", &json!({})),
            Readiness::Waiting(_)
        ));
        assert_eq!(readiness("ConfigMap", &json!({})), Readiness::Ready);
    }

    #[test]
    fn documents_skip_empty_and_refuse_scalars() {
        let d = documents("---\n# Source: a\nkind: A\n---\n# only a comment\n").unwrap();
        assert_eq!(d, vec![json!({"kind": "A"})]);
        assert!(documents("---\nhello\n").is_err());
    }
}
