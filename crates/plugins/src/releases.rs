//! The release operations the controller performs, over `release::Installer`.

use std::future::Future;

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

    /// Runs one step of [`crate::status::next_step`].
    pub async fn step(&self, step: Step, opts: &InstallOptions) -> Result<(), release::Error> {
        let opts = opts.clone();
        self.run(move |i, _| async move {
            match step {
                Step::Install => i.install(&opts).await.map(drop),
                Step::Reinstall => {
                    i.uninstall(&opts.name, &opts.namespace).await?;
                    i.install(&opts).await.map(drop)
                }
                Step::Resume => {
                    i.rollback(&opts.name, &opts.namespace, None, false, opts.timeout)
                        .await?;
                    i.upgrade(&opts).await.map(drop)
                }
                Step::Upgrade => i.upgrade(&opts).await.map(drop),
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
        let (manifest, namespace) = (rel.manifest.clone(), rel.namespace.clone());
        self.run(move |_, client| async move {
            use release::cluster::{Cluster, Readiness, readiness};
            let cluster = Cluster::new(client);
            for o in cluster.objects(&manifest, &namespace).await? {
                let Some(live) = cluster.get(&o).await? else {
                    return Ok(Some(format!("{} does not exist yet", o.display())));
                };
                match readiness(o.kind(), &live) {
                    Readiness::Ready => {}
                    Readiness::Waiting(w) | Readiness::Failed(w) => {
                        return Ok(Some(format!("{}: {w}", o.display())));
                    }
                }
            }
            Ok(None)
        })
        .await
    }
}
