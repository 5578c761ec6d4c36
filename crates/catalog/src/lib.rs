//! catalog: OLM v0's catalog model and resolver, as pure code.
//!
//! **Owns:** file-based catalogs (`olm.package`, `olm.channel` with `replaces`/`skips`/
//! `skipRange`, `olm.bundle` and its properties, `olm.deprecations`) loaded from a directory tree
//! or from in-memory files (JSON streams, multi-document YAML, as opm reads them) and written
//! back as `opm render`'s blobs; registry+v1 bundles (`manifests/` + `metadata/`) turned into the
//! same bundle model with the properties opm derives; the community-operators layout
//! (`<package>/<version>/` + `ci.yaml`, replaces-mode / semver-mode) published as a catalog;
//! channel graphs (heads, upgrade edges, default channel); OLM's semver range syntax; and the
//! resolver ([`resolve`]): the bundle for a Subscription, the next upgrade of an installed CSV,
//! dependencies, with a readable explanation when nothing fits.
//!
//! **Does not touch:** I/O beyond reading the files it is pointed at, images and registries
//! (callers read image files with `oci::ImageFs` and hand them over), Kubernetes objects and API
//! calls, async code. Invalid input is an [`Error`] naming the file and the field.

pub mod community;
mod decode;
mod edit;
mod error;
pub mod fbc;
pub mod model;
pub mod registry_v1;
pub mod resolve;
pub mod version;

pub use decode::{documents, split_yaml};
pub use error::{Error, Result};
pub use model::{
    Bundle, Catalog, Channel, ChannelEntry, DeprecationEntry, Deprecations, Gvk, Icon, Package,
    PackageRequired, Property, RelatedImage, types,
};
pub use version::{Range, Version, parse_version};
