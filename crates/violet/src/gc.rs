//! `violet gc`: records and registry tags no longer referenced. Records: ArtifactVersions whose
//! Artifact is gone, and Artifacts without any version. Tags: in the repositories the records use,
//! tags whose manifest no ArtifactVersion of any listed cluster references. `--dry-run` lists them;
//! otherwise each removal is appended to `--record` as a JSON line.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;

use anyhow::{Context, Result};
use kube::api::{Api, DeleteParams, DynamicObject};
use serde_json::json;

use crate::cli::GcArgs;
use crate::platform::Session;
use crate::records;

/// One thing gc removes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Garbage {
    Version {
        cluster: String,
        name: String,
    },
    Artifact {
        cluster: String,
        name: String,
    },
    Tag {
        repository: String,
        tag: String,
        digest: String,
    },
}

impl std::fmt::Display for Garbage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Garbage::Version { cluster, name } => write!(
                f,
                "ArtifactVersion {name} in cluster {cluster} (its Artifact is gone)"
            ),
            Garbage::Artifact { cluster, name } => {
                write!(f, "Artifact {name} in cluster {cluster} (no versions)")
            }
            Garbage::Tag {
                repository,
                tag,
                digest,
            } => write!(
                f,
                "tag {repository}:{tag} ({digest}, no record references it)"
            ),
        }
    }
}

/// Records of one cluster that reference nothing: versions without their Artifact, Artifacts
/// without versions.
pub fn orphan_records(
    cluster: &str,
    artifacts: &[DynamicObject],
    versions: &[DynamicObject],
) -> Vec<Garbage> {
    let names: HashSet<&str> = artifacts
        .iter()
        .filter_map(|a| a.metadata.name.as_deref())
        .collect();
    let used: HashSet<&str> = versions
        .iter()
        .filter_map(|v| v.data["spec"]["artifact"].as_str())
        .collect();
    let mut out = Vec::new();
    for v in versions {
        let a = v.data["spec"]["artifact"].as_str().unwrap_or_default();
        if !names.contains(a) {
            out.push(Garbage::Version {
                cluster: cluster.into(),
                name: v.metadata.name.clone().unwrap_or_default(),
            });
        }
    }
    for n in names.iter().filter(|n| !used.contains(**n)) {
        out.push(Garbage::Artifact {
            cluster: cluster.into(),
            name: n.to_string(),
        });
    }
    out
}

/// `host/repo@sha256:...` → (repo, digest) when on `host`.
fn split_ref(r: &str, host: &str) -> Option<(String, String)> {
    let rest = r.strip_prefix(host)?.strip_prefix('/')?;
    let (repo, digest) = rest.split_once('@')?;
    Some((repo.to_string(), digest.to_string()))
}

pub async fn run(a: GcArgs) -> Result<()> {
    let s = Session::login(&a.platform).await?;
    let info = s.info().await?;
    let clusters = if a.clusters.is_empty() {
        info.clusters.clone()
    } else {
        a.clusters.clone()
    };
    let host = match &a.dest_repo {
        Some(d) => crate::push::split_dest(d).0,
        None => info
            .registry
            .clone()
            .context("the platform reports no registry; pass --dest-repo")?,
    };
    let mut garbage = Vec::new();
    let mut referenced: HashSet<(String, String)> = HashSet::new();
    let mut repos: BTreeSet<String> = BTreeSet::new();
    for c in &clusters {
        let client = s.kube_client(c).await?;
        let arts = records::list_artifacts(client.clone(), c).await?;
        let vers = records::list_versions(client, c).await?;
        garbage.extend(orphan_records(c, &arts, &vers));
        for v in &vers {
            let spec = &v.data["spec"];
            let imgs = std::iter::once(&spec["image"])
                .chain(spec["relatedImages"].as_array().into_iter().flatten());
            for i in imgs.filter_map(|i| i.as_str()) {
                if let Some((repo, d)) = split_ref(i, &host) {
                    repos.insert(repo.clone());
                    referenced.insert((repo, d));
                }
            }
        }
    }
    let opts = oci::Options {
        credentials: match (&a.username, &a.password) {
            (Some(u), Some(p)) => Some(oci::auth::Credentials {
                username: u.clone(),
                password: p.clone(),
            }),
            _ => None,
        },
        plain_http: a.plain,
        tls_verify: !a.platform.insecure_skip_tls_verify,
        ..Default::default()
    };
    let reg = oci::Registry::connect(&host, opts).await?;
    for repo in &repos {
        for tag in reg.tags(repo).await? {
            let m = reg.get_manifest(repo, &tag).await?;
            if !referenced.contains(&(repo.clone(), m.digest.to_string())) {
                garbage.push(Garbage::Tag {
                    repository: repo.clone(),
                    tag,
                    digest: m.digest.to_string(),
                });
            }
        }
    }
    garbage.sort();
    if garbage.is_empty() {
        println!("nothing to collect");
        return Ok(());
    }
    for g in &garbage {
        println!(
            "{}{g}",
            if a.dry_run {
                "would remove "
            } else {
                "removing "
            }
        );
    }
    if a.dry_run {
        return Ok(());
    }
    let mut log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&a.record)
        .with_context(|| a.record.display().to_string())?;
    for g in &garbage {
        remove(&s, &reg, g).await?;
        writeln!(
            log,
            "{}",
            json!({"removed": g.to_string(), "at": unix_now()})
        )?;
    }
    println!(
        "removed {} items; recorded in {}",
        garbage.len(),
        a.record.display()
    );
    Ok(())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn remove(s: &Session, reg: &oci::Registry, g: &Garbage) -> Result<()> {
    match g {
        Garbage::Version { cluster, name } | Garbage::Artifact { cluster, name } => {
            let ar = if matches!(g, Garbage::Version { .. }) {
                records::version_resource()
            } else {
                records::artifact_resource()
            };
            let api: Api<DynamicObject> =
                Api::namespaced_with(s.kube_client(cluster).await?, records::NAMESPACE, &ar);
            api.delete(name, &DeleteParams::default()).await?;
        }
        Garbage::Tag {
            repository, digest, ..
        } => {
            reg.delete_manifest(repository, &oci::Digest::parse(digest)?).await.with_context(|| {
                format!("deleting {repository}@{digest} (the registry must allow deletes: storage.delete.enabled)")
            })?;
        }
    }
    Ok(())
}
