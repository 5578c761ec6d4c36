//! `violet list`: what is uploaded, per type and cluster — a table, JSON, or an apps list (YAML)
//! that can drive a later download or upgrade.

use std::collections::BTreeMap;

use anyhow::Result;
use kube::api::DynamicObject;
use serde::Serialize;

use crate::cli::{ListArgs, Output};
use crate::platform::Session;
use crate::records;

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct App {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub version: String,
    pub clusters: Vec<String>,
    pub image: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
}

/// Folds (cluster, ArtifactVersion) pairs into one entry per package version, sorted by type,
/// name and version.
pub fn apps(items: &[(String, DynamicObject)]) -> Vec<App> {
    let mut by: BTreeMap<(String, String, String), App> = BTreeMap::new();
    for (cluster, o) in items {
        let s = &o.data["spec"];
        let get = |k: &str| s[k].as_str().unwrap_or_default().to_string();
        let key = (get("type"), get("artifact"), get("version"));
        let e = by.entry(key).or_insert_with(|| App {
            name: get("artifact"),
            kind: get("type"),
            version: get("version"),
            clusters: vec![],
            image: get("image"),
            phase: o.data["status"]["phase"].as_str().map(str::to_string),
        });
        e.clusters.push(cluster.clone());
    }
    by.into_values().collect()
}

pub async fn run(a: ListArgs) -> Result<()> {
    let s = Session::login(&a.platform).await?;
    let clusters = if a.clusters.is_empty() {
        s.info().await?.clusters
    } else {
        a.clusters.clone()
    };
    let mut items = Vec::new();
    for c in &clusters {
        for o in records::list_versions(s.kube_client(c).await?, c).await? {
            items.push((c.clone(), o));
        }
    }
    let apps = apps(&items);
    match a.output {
        Output::Yaml => print!(
            "{}",
            serde_yaml::to_string(&serde_json::json!({"apps": apps}))?
        ),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"apps": apps}))?
        ),
        Output::Text => {
            println!(
                "{:<8} {:<32} {:<14} {:<10} CLUSTERS",
                "TYPE", "NAME", "VERSION", "PHASE"
            );
            for x in apps {
                println!(
                    "{:<8} {:<32} {:<14} {:<10} {}",
                    x.kind,
                    x.name,
                    x.version,
                    x.phase.as_deref().unwrap_or("-"),
                    x.clusters.join(",")
                );
            }
        }
    }
    Ok(())
}
