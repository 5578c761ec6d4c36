//! The embedded platform registry of `marketplace serve` (when no `--registry` is given): Debian's
//! `docker-registry` as a supervised child on a free loopback port, data under
//! `<data-dir>/registry`, restarted when it dies and stopped on exit (the work is in
//! `oci::localregistry`).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

pub async fn start(data_dir: &Path) -> anyhow::Result<oci::localregistry::Supervisor> {
    let config = oci::localregistry::Config {
        dir: data_dir.join("registry"),
        ..Default::default()
    };
    let sup = oci::localregistry::Supervisor::start(config, Duration::from_secs(60))
        .await
        .context("cannot start the embedded registry (install docker-registry with scripts/setup, or pass --registry HOST:PORT)")?;
    tracing::info!(registry = sup.host(), "embedded registry is up");
    eprintln!(
        "registry on {} (data in {})",
        sup.host(),
        data_dir.join("registry").display()
    );
    Ok(sup)
}
