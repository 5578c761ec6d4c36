//! The release operations the controller performs, over `release::Installer`, and the wait for a
//! release's workloads (a watch of the object being waited for, not a poll).

use std::future::Future;

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use release::cluster::{Cluster, Object, Readiness, readiness};

use release::{InstallOptions, Installer, ObjectChange, Release};

use crate::status::Step;

/// The Helm releases of one cluster.
#[derive(Clone)]
pub struct Releases {
    client: kube::Client,
}

impl Releases {
    pub fn new(client: kube::Client) -> Releases {
        Releases { client }
    }

    async fn run<T, Fut>(&self, f: impl FnOnce(Installer, kube::Client) -> Fut) -> T
    where
        Fut: Future<Output = T>,
    {
        f(Installer::new(self.client.clone()), self.client.clone()).await
    }

    /// The latest revision of a release.
    pub async fn get(
        &self,
        name: &str,
        namespace: &str,
    ) -> Result<Option<Release>, release::Error> {
        let (name, namespace) = (name.to_string(), namespace.to_string());
        self.run(move |i, _| async move { i.get(&name, &namespace).await })
            .await
    }

    /// Runs one step of [`crate::status::next_step`]; the release revision it made.
    pub async fn step(&self, step: Step, opts: &InstallOptions) -> Result<Release, release::Error> {
        let opts = opts.clone();
        self.run(move |i, _| async move {
            match step {
                Step::Install => i.install(&opts).await,
                Step::Reinstall => {
                    i.uninstall(&opts.name, &opts.namespace).await?;
                    i.install(&opts).await
                }
                Step::Resume => {
                    i.rollback(&opts.name, &opts.namespace, None, false, opts.timeout)
                        .await?;
                    i.upgrade(&opts).await
                }
                Step::Upgrade => i.upgrade(&opts).await,
            }
        })
        .await
    }

    /// What upgrading with `opts` would change, object by object.
    pub async fn diff(&self, opts: &InstallOptions) -> Result<Vec<ObjectChange>, release::Error> {
        let opts = opts.clone();
        self.run(move |i, _| async move { i.diff(&opts).await })
            .await
    }

    pub async fn uninstall(&self, name: &str, namespace: &str) -> Result<(), release::Error> {
        let (name, namespace) = (name.to_string(), namespace.to_string());
        self.run(move |i, _| async move { i.uninstall(&name, &namespace).await.map(drop) })
            .await
    }

    /// `None` when every object of the release is ready (Helm's `--wait` rules), else what it
    /// waits for.
    pub async fn not_ready(&self, rel: &Release) -> Result<Option<String>, release::Error> {
        Ok(self
            .first_not_ready(rel)
            .await?
            .map(|(o, why)| why_text(&o, &why)))
    }

    /// The first object of the release that is not ready, with why.
    async fn first_not_ready(
        &self,
        rel: &Release,
    ) -> Result<Option<(Object, Readiness)>, release::Error> {
        let cluster = Cluster::new(self.client.clone());
        for o in cluster.objects(&rel.manifest, &rel.namespace).await? {
            let state = match cluster.get(&o).await? {
                None => Readiness::Waiting(String::new()),
                Some(live) => readiness(o.kind(), &live),
            };
            if state != Readiness::Ready {
                return Ok(Some((o, state)));
            }
        }
        Ok(None)
    }

    /// Waits until what [`Releases::not_ready`] says about the release changes: the object it
    /// waits for is watched until its readiness differs (ready, or waiting for something else).
    /// Returns at once when everything is ready already.
    pub async fn wait_change(&self, rel: &Release) -> Result<(), release::Error> {
        let Some((o, was)) = self.first_not_ready(rel).await? else {
            return Ok(());
        };
        let api: Api<DynamicObject> = match o.namespace().filter(|_| o.namespaced) {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &o.resource),
            None => Api::all_with(self.client.clone(), &o.resource),
        };
        let mut events = std::pin::pin!(kube::runtime::watcher::watch_object(api, o.name()));
        while let Some(ev) = events.next().await {
            let live =
                ev.map_err(|e| release::Error::Failed(format!("watching {}: {e}", o.display())))?;
            let now = match live {
                None => Readiness::Waiting(String::new()),
                Some(live) => {
                    let v = serde_json::to_value(live).unwrap_or_default();
                    readiness(o.kind(), &v)
                }
            };
            if now != was {
                return Ok(());
            }
        }
        Ok(())
    }
}

/// How a waiting object is reported.
fn why_text(o: &Object, state: &Readiness) -> String {
    match state {
        Readiness::Waiting(w) if w.is_empty() => format!("{} does not exist yet", o.display()),
        Readiness::Waiting(w) | Readiness::Failed(w) => format!("{}: {w}", o.display()),
        Readiness::Ready => format!("{} is ready", o.display()),
    }
}
