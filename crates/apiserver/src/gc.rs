//! Background work per cluster: ownerReference garbage collection and namespace deletion.
//!
//! One task per cluster wakes when a delete happened (`gc_kick`) or every [`INTERVAL`], and runs
//! passes until nothing changes:
//! - **Garbage collection**: an object whose owners (by uid) are all gone is deleted (background
//!   propagation). An owner being deleted with the `foregroundDeletion` finalizer gets its
//!   dependents deleted first, then loses the finalizer. An owner deleted with the `orphan`
//!   finalizer has its uid removed from its dependents' ownerReferences, then loses the finalizer.
//!   An object whose deletion is pending and whose last finalizer went away is removed.
//! - **Namespaces**: a namespace with `deletionTimestamp` (phase Terminating) has every object in it
//!   deleted (honouring their finalizers); once it is empty it loses the `kubernetes` finalizer and
//!   is removed.
//! - **CRDs**: a deleted CRD (cleanup finalizer, condition `Terminating`) has its objects deleted
//!   (honouring their finalizers); once none is left it loses the finalizer and is removed.
//!
//! Simplification: each pass reads the whole cluster (fine for the object counts an embedded
//! control plane holds); writes are ordinary store transactions, so watchers see every change.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use store::{Key, StoreError};

use crate::cluster::{CRD_RESOURCE, ClusterState, blocking};
use crate::crd;

/// Fallback interval between passes.
pub const INTERVAL: Duration = Duration::from_secs(2);

/// Runs until shutdown.
pub async fn run(cluster: Arc<ClusterState>) {
    loop {
        tokio::select! {
            _ = cluster.shutdown.cancelled() => return,
            _ = cluster.gc_kick.notified() => {}
            _ = tokio::time::sleep(INTERVAL) => {}
        }
        for _ in 0..20 {
            let c = cluster.clone();
            match blocking(move || pass(&c)).await {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) => {
                    tracing::warn!(cluster = %cluster.name, error = %e, "garbage collection pass failed");
                    break;
                }
            }
        }
    }
}

struct Obj {
    key: Key,
    value: Value,
}

fn uid(v: &Value) -> &str {
    v.pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn finalizers(v: &Value) -> Vec<String> {
    v.pointer("/metadata/finalizers")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn deleting(v: &Value) -> bool {
    v.pointer("/metadata/deletionTimestamp").is_some()
}

fn owner_uids(v: &Value) -> Vec<String> {
    v.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|r| r.get("uid").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads every object of the cluster.
fn snapshot(cluster: &ClusterState) -> Result<Vec<Obj>, StoreError> {
    let mut out = Vec::new();
    for resource in cluster.store.resources()? {
        let (items, _) = cluster.list_all(&resource, None)?;
        for value in items {
            let m = &value["metadata"];
            let key = Key::new(
                resource.clone(),
                m["namespace"].as_str().unwrap_or(""),
                m["name"].as_str().unwrap_or(""),
            );
            out.push(Obj { key, value });
        }
    }
    Ok(out)
}

/// Deletes `key` (or marks it deleted when it has finalizers). Returns whether something changed.
fn delete_object(cluster: &ClusterState, key: &Key) -> Result<bool, StoreError> {
    let (changed, _) = cluster.store.write(|t| {
        let Some(cur) = t.get(key)? else {
            return Ok(false);
        };
        if !finalizers(&cur.value).is_empty() {
            if deleting(&cur.value) {
                return Ok(false);
            }
            let mut v = cur.value.clone();
            v["metadata"]["deletionTimestamp"] = json!(apimachinery::meta::now_rfc3339());
            v["metadata"]["deletionGracePeriodSeconds"] = json!(0);
            t.update(key, v, Some(cur.revision))?;
        } else {
            t.delete(key, Some(cur.revision))?;
        }
        Ok(true)
    })?;
    Ok(changed)
}

/// Rewrites one object with `f`; removes it when it is being deleted and has no finalizers left.
fn modify(cluster: &ClusterState, key: &Key, f: impl Fn(&mut Value)) -> Result<bool, StoreError> {
    let (changed, _) = cluster.store.write(|t| {
        let Some(cur) = t.get(key)? else {
            return Ok(false);
        };
        let mut v = cur.value.clone();
        f(&mut v);
        apimachinery::meta::normalize_object_meta(&mut v);
        if v == cur.value {
            return Ok(false);
        }
        if deleting(&v) && finalizers(&v).is_empty() && key.resource != "namespaces" {
            t.delete(key, Some(cur.revision))?;
        } else {
            t.update(key, v, Some(cur.revision))?;
        }
        Ok(true)
    })?;
    Ok(changed)
}

fn remove_finalizer(v: &mut Value, f: &str) {
    if let Some(a) = v
        .pointer_mut("/metadata/finalizers")
        .and_then(Value::as_array_mut)
    {
        a.retain(|x| x != f);
    }
}

/// One pass; returns the number of changes made.
fn pass(cluster: &ClusterState) -> Result<usize, StoreError> {
    let objs = snapshot(cluster)?;
    let by_uid: HashMap<&str, &Obj> = objs.iter().map(|o| (uid(&o.value), o)).collect();
    let mut dependents: HashMap<&str, Vec<&Obj>> = HashMap::new();
    for o in &objs {
        for u in o
            .value
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(u) = u.get("uid").and_then(Value::as_str) {
                dependents.entry(u).or_default().push(o);
            }
        }
    }
    let mut changes = 0;
    let mut touched: HashSet<Key> = HashSet::new();
    for o in &objs {
        let owners = owner_uids(&o.value);
        if owners.is_empty() || deleting(&o.value) {
            continue;
        }
        let live: Vec<&&Obj> = owners
            .iter()
            .filter_map(|u| by_uid.get(u.as_str()))
            .collect();
        let all_gone = live.is_empty();
        let foreground_owner = live.iter().any(|w| {
            deleting(&w.value)
                && finalizers(&w.value)
                    .iter()
                    .any(|f| f == "foregroundDeletion")
        });
        if (all_gone || foreground_owner)
            && touched.insert(o.key.clone())
            && delete_object(cluster, &o.key)?
        {
            changes += 1;
        }
    }
    for o in &objs {
        if !deleting(&o.value) {
            continue;
        }
        let fins = finalizers(&o.value);
        let my_uid = uid(&o.value).to_string();
        let deps = dependents.get(my_uid.as_str()).cloned().unwrap_or_default();
        if fins.iter().any(|f| f == "orphan") {
            for d in &deps {
                let u = my_uid.clone();
                if modify(cluster, &d.key, move |v| {
                    if let Some(a) = v
                        .pointer_mut("/metadata/ownerReferences")
                        .and_then(Value::as_array_mut)
                    {
                        a.retain(|r| r.get("uid").and_then(Value::as_str) != Some(u.as_str()));
                        if a.is_empty()
                            && let Some(m) = v["metadata"].as_object_mut()
                        {
                            m.remove("ownerReferences");
                        }
                    }
                })? {
                    changes += 1;
                }
            }
            if modify(cluster, &o.key, |v| remove_finalizer(v, "orphan"))? {
                changes += 1;
            }
        } else if fins.iter().any(|f| f == "foregroundDeletion")
            && deps.is_empty()
            && modify(cluster, &o.key, |v| {
                remove_finalizer(v, "foregroundDeletion")
            })?
        {
            changes += 1;
        }
    }
    changes += namespaces(cluster, &objs)?;
    changes += crds(cluster, &objs)?;
    Ok(changes)
}

/// Deleted CRDs, as kube-apiserver's CRD finalizer controller: their objects are deleted
/// (honouring the objects' own finalizers); once none is left the CRD loses the cleanup finalizer
/// (`Terminating: False, InstanceDeletionCompleted`) and goes, and its resources leave the
/// catalogue.
fn crds(cluster: &ClusterState, objs: &[Obj]) -> Result<usize, StoreError> {
    let mut changes = 0;
    let terminating = objs.iter().filter(|o| {
        o.key.resource == CRD_RESOURCE
            && deleting(&o.value)
            && finalizers(&o.value)
                .iter()
                .any(|f| f == crd::CLEANUP_FINALIZER)
    });
    for c in terminating {
        let Some(resource) = crd::resource_key_of_name(&c.key.name) else {
            continue;
        };
        let instances: Vec<&Obj> = objs.iter().filter(|o| o.key.resource == resource).collect();
        for o in &instances {
            if !deleting(&o.value) && delete_object(cluster, &o.key)? {
                changes += 1;
            }
        }
        let done = instances.is_empty();
        if modify(cluster, &c.key, |v| {
            if done {
                remove_finalizer(v, crd::CLEANUP_FINALIZER);
                crd::set_terminating(
                    v,
                    "False",
                    "InstanceDeletionCompleted",
                    "removed all instances",
                );
            } else {
                crd::set_terminating(
                    v,
                    "True",
                    "InstanceDeletionInProgress",
                    "CustomResource deletion is in progress",
                );
            }
        })? {
            changes += 1;
        }
        if done && cluster.store.get(&c.key)?.is_none() {
            cluster.remove_crd(&c.key.name);
        }
    }
    Ok(changes)
}

/// Empties terminating namespaces and removes them once empty.
fn namespaces(cluster: &ClusterState, objs: &[Obj]) -> Result<usize, StoreError> {
    let mut changes = 0;
    for ns in objs
        .iter()
        .filter(|o| o.key.resource == "namespaces" && deleting(&o.value))
    {
        let name = ns.key.name.as_str();
        let contents: Vec<&Obj> = objs
            .iter()
            .filter(|o| o.key.namespace == name && o.key.resource != "namespaces")
            .collect();
        for o in &contents {
            if !deleting(&o.value) && delete_object(cluster, &o.key)? {
                changes += 1;
            }
        }
        if contents.is_empty() {
            let key = ns.key.clone();
            let (done, _) = cluster.store.write(|t| {
                let Some(cur) = t.get(&key)? else {
                    return Ok(false);
                };
                if !finalizers(&cur.value).is_empty() {
                    // Wait for metadata finalizers of the namespace itself; drop spec.finalizers.
                    let mut v = cur.value.clone();
                    v["spec"]["finalizers"] = json!([]);
                    if v != cur.value {
                        t.update(&key, v, Some(cur.revision))?;
                        return Ok(true);
                    }
                    return Ok(false);
                }
                t.delete(&key, Some(cur.revision))?;
                Ok(true)
            })?;
            if done {
                changes += 1;
            }
        }
    }
    Ok(changes)
}
