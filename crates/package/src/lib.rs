//! `package`: the offline package format that `violet` reads and writes — one gzip'd tar holding
//! `package.yaml` (what the package is) and every image as an OCI image layout under
//! `images/<dir>/` (format described in `docs/package-format.md`).
//!
//! **Owns**: the metadata schema and its validation ([`metadata`]); reading a package from hostile
//! input, streamed to a directory with every path, entry type, size, compression ratio and digest
//! checked before anything else sees it ([`read`]); writing packages ([`write`](mod@write)) and building them
//! from an operator bundle directory, a chart directory or a plugin descriptor ([`pack`]).
//!
//! **Does not own**: the network (no registry or platform access — `violet` pushes through the
//! `oci` crate's copy engine and creates the platform records), command-line parsing, Kubernetes
//! objects beyond carrying a plugin's ModulePlugin/ModuleConfig as JSON.

pub mod error;
pub mod metadata;
pub mod pack;
pub mod read;
pub mod write;

pub use error::{Error, Result};
pub use metadata::{Image, Kind, Metadata};
pub use read::{Limits, Unpacked, unpack};
