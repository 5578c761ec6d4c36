//! `oci`: the one registry client and image-layout library of Marketplace, shared by catalogs and
//! bundles (operators), charts stored as OCI artifacts (cluster plugins) and uploads (`violet`).
//!
//! **Owns**: image references and digests; OCI and Docker v2 schema 2 manifests and indexes
//! (bytes preserved, so digests survive a copy); the distribution protocol over HTTP(S) —
//! challenge auth, Docker `config.json` credentials, custom CA / insecure / plain HTTP, uploads
//! (HEAD first, mount, monolithic and chunked, resumable, verified while streaming), downloads,
//! tags, referrers, retries with backoff and progress events; OCI image layouts and `docker save`
//! archives on disk; copying images between them; reading an image's files from its layers without
//! unpacking to disk; Helm charts as OCI artifacts; running Debian's `docker-registry` as a child.
//!
//! **Does not own**: Kubernetes objects, the API server, Helm rendering (the `helm` crate), or any
//! command-line parsing (the `marketplace` binary). No global state: every registry connection is
//! a [`Registry`] value with its own credentials and TLS settings.
//!
//! The protocol is written here over `reqwest` instead of using `oci-client`: oci-client 0.17 has
//! no progress events, cannot resume an upload session (its Location is private and it never asks
//! for the upload status) and has no retry of failed requests — three requirements of this crate.

pub mod archive;
pub mod auth;
pub mod chart;
pub mod client;
pub mod copy;
pub mod digest;
pub mod error;
pub mod fs;
pub mod layout;
pub mod localregistry;
pub mod manifest;
pub mod progress;
pub mod reference;
pub mod upload;

pub use client::{Options, Registry};
pub use digest::Digest;
pub use error::{Error, Result};
pub use layout::Layout;
pub use manifest::{BlobRef, Manifest, Platform, RawManifest, media};
pub use reference::Reference;
