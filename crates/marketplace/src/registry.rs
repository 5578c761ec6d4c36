//! The embedded platform registry of `marketplace serve` (when no `--registry` is given): Debian's
//! `docker-registry` as a supervised child on a free loopback port, data under
//! `<data-dir>/registry`, restarted when it dies and stopped on exit (the work is in
//! `oci::localregistry`).

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

/// Starts the registry; `announce` prints its address on stderr for people (text logs only: with
/// `--log-format json` every stderr line is JSON, and the address is in the log event).
pub async fn start(
    data_dir: &Path,
    announce: bool,
) -> anyhow::Result<oci::localregistry::Supervisor> {
    let config = oci::localregistry::Config {
        dir: data_dir.join("registry"),
        ..Default::default()
    };
    let sup = oci::localregistry::Supervisor::start(config, Duration::from_secs(60))
        .await
        .context("cannot start the embedded registry (install docker-registry with scripts/setup, or pass --registry HOST:PORT)")?;
    tracing::info!(registry = sup.host(), "embedded registry is up");
    if announce {
        eprintln!(
            "registry on {} (data in {})",
            sup.host(),
            data_dir.join("registry").display()
        );
    }
    Ok(sup)
}
