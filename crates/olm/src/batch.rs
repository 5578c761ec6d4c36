//! Batch upgrade (Clusters > Features): the pending upgrade InstallPlans of every Alauda
//! operator in a cluster approved together. Plans of other source types, and first installs,
//! are listed as not eligible with the reason. A plan shared by several Subscriptions of one
//! namespace is one candidate: eligible only if every CSV in it is Alauda's and every
//! Subscription it serves is upgraded (approving it installs all of them).

use apis::operators::{InstallPlan, PROVIDER_TYPE, Subscription};
use kube::ResourceExt;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

/// One pending plan and what the batch does with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub namespace: String,
    pub plan: String,
    /// The Subscriptions the plan serves, `, `-separated.
    pub subscription: String,
    /// Their packages, `, `-separated.
    pub package: String,
    /// Installed CSVs (`, `-separated; None for a first install) → the CSVs the plan installs.
    pub from: Option<String>,
    pub to: String,
    /// None: eligible; Some(reason): not eligible.
    pub not_eligible: Option<String>,
}

/// The source type of the CSVs a plan installs: each one's `cpaas.io/provider-type` annotation,
/// else by catalog (`custom` → custom, otherwise community); `alauda` only if all are, else the
/// first other one.
pub fn plan_source_type(plan: &InstallPlan) -> String {
    let of = |manifest: Option<&str>| {
        let annotated = manifest
            .and_then(|m| serde_json::from_str::<Value>(m).ok())
            .and_then(|v| {
                v["metadata"]["annotations"][PROVIDER_TYPE]
                    .as_str()
                    .map(str::to_lowercase)
            });
        match annotated {
            Some(t) if !t.is_empty() => t,
            _ if plan.spec.source.as_deref() == Some("custom") => "custom".into(),
            _ => "community".into(),
        }
    };
    let types: Vec<String> = plan
        .status
        .iter()
        .flat_map(|s| s.plan.iter())
        .filter(|s| s.resource.kind == "ClusterServiceVersion")
        .map(|s| of(s.resource.manifest.as_deref()))
        .collect();
    types
        .iter()
        .find(|t| *t != "alauda")
        .or(types.first())
        .cloned()
        .unwrap_or_else(|| of(None))
}

/// Whether a pending plan may be approved by the batch, and why not.
pub fn eligibility(source_type: &str, installed: Option<&str>) -> Option<String> {
    if source_type != "alauda" {
        return Some(format!(
            "source type {source_type}: batch upgrade is offered only for Alauda operators; approve its InstallPlan in its namespace"
        ));
    }
    if installed.is_none() {
        return Some(
            "a first install, not an upgrade: approve its InstallPlan in its namespace".into(),
        );
    }
    None
}

/// Every InstallPlan of the cluster waiting for approval, with its eligibility.
pub async fn candidates(client: &kube::Client) -> Result<Vec<Candidate>, kube::Error> {
    let plans: Api<InstallPlan> = Api::all(client.clone());
    let subs: Api<Subscription> = Api::all(client.clone());
    let subs = subs.list(&ListParams::default()).await?.items;
    let mut out = Vec::new();
    for p in plans.list(&ListParams::default()).await?.items {
        let pending = !p.spec.approved
            && p.status
                .as_ref()
                .is_some_and(|s| s.phase == "RequiresApproval");
        if !pending {
            continue;
        }
        let ns = p.namespace().unwrap_or_default();
        // The Subscriptions it serves: those naming it and those owning it (a shared plan).
        let served: Vec<&Subscription> = subs
            .iter()
            .filter(|s| {
                s.namespace().as_deref() == Some(ns.as_str())
                    && (s
                        .status
                        .as_ref()
                        .and_then(|st| st.install_plan_ref.as_ref())
                        .and_then(|r| r.name.as_deref())
                        == Some(p.name_any().as_str())
                        || p.owner_references()
                            .iter()
                            .any(|o| Some(&o.uid) == s.metadata.uid.as_ref()))
            })
            .collect();
        let installed: Vec<Option<String>> = served
            .iter()
            .map(|s| s.status.as_ref().and_then(|s| s.installed_csv.clone()))
            .collect();
        // A first install of any of them makes the plan a first install.
        let from = (!installed.is_empty() && installed.iter().all(Option::is_some)).then(|| {
            installed
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        });
        let ptype = plan_source_type(&p);
        let join = |f: &dyn Fn(&Subscription) -> String| {
            served.iter().map(|s| f(s)).collect::<Vec<_>>().join(", ")
        };
        out.push(Candidate {
            namespace: ns,
            plan: p.name_any(),
            subscription: join(&|s| s.name_any()),
            package: join(&|s| s.spec.name.clone()),
            not_eligible: eligibility(&ptype, from.as_deref()),
            from,
            to: p.spec.cluster_service_version_names.join(","),
        });
    }
    out.sort_by(|a, b| (&a.namespace, &a.plan).cmp(&(&b.namespace, &b.plan)));
    Ok(out)
}

/// Approves the eligible candidates.
pub async fn approve(client: &kube::Client, eligible: &[Candidate]) -> Result<(), kube::Error> {
    for c in eligible.iter().filter(|c| c.not_eligible.is_none()) {
        let api: Api<InstallPlan> = Api::namespaced(client.clone(), &c.namespace);
        api.patch(
            &c.plan,
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"approved": true}})),
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_installing(types: &[Option<&str>]) -> InstallPlan {
        let steps: Vec<Value> = types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let csv = json!({"kind": "ClusterServiceVersion", "metadata": {
                    "name": format!("op{i}.v1"),
                    "annotations": t.map(|t| json!({PROVIDER_TYPE: t})),
                }});
                json!({"resolving": format!("op{i}.v1"), "status": "Unknown", "resource": {
                    "kind": "ClusterServiceVersion", "name": format!("op{i}.v1"), "group": "operators.coreos.com",
                    "version": "v1alpha1", "catalogSource": "platform", "catalogSourceNamespace": "cpaas-system",
                    "manifest": csv.to_string(),
                }})
            })
            .collect();
        serde_json::from_value(json!({
            "apiVersion": "operators.coreos.com/v1alpha1", "kind": "InstallPlan",
            "metadata": {"name": "install-x", "namespace": "ns"},
            "spec": {"clusterServiceVersionNames": [], "approval": "Manual", "approved": false, "source": "platform"},
            "status": {"phase": "RequiresApproval", "plan": steps},
        }))
        .unwrap()
    }

    #[test]
    fn a_shared_plan_is_alauda_only_if_every_csv_in_it_is() {
        let both = plan_installing(&[Some("Alauda"), Some("alauda")]);
        assert_eq!(plan_source_type(&both), "alauda");
        let mixed = plan_installing(&[Some("alauda"), None]);
        assert_eq!(plan_source_type(&mixed), "community");
        let curated = plan_installing(&[Some("curated"), Some("alauda")]);
        assert_eq!(plan_source_type(&curated), "curated");
    }

    #[test]
    fn only_alauda_upgrades_are_eligible() {
        assert_eq!(eligibility("alauda", Some("a.v1")), None);
        assert!(
            eligibility("alauda", None)
                .unwrap()
                .contains("first install")
        );
        assert!(
            eligibility("community", Some("a.v1"))
                .unwrap()
                .contains("only for Alauda")
        );
    }
}
