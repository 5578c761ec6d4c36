//! apiresources: *what* the embedded Kubernetes-compatible API server serves.
//!
//! This crate owns the knowledge about resource kinds, with no HTTP, no I/O and no tokio:
//!
//! - [`catalogue`]: the built-in resources ([`builtins`]) and [`ResourceInfo`], the description of
//!   one served group/version/resource shared by built-ins and CRDs ([`ResourceInfo::from_crd`]);
//!   [`Catalogue`] looks resources up by URL segments or by kind.
//! - [`discovery`]: `/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>` documents and
//!   aggregated discovery v2 (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`).
//! - [`openapi`]: the `/openapi/v3` root and per group-version documents (schemas with
//!   `x-kubernetes-group-version-kind` for `kubectl explain`, PATCH operations with the
//!   `fieldValidation` parameter so kubectl delegates validation to the server).
//! - [`protobuf`]: decoding `application/vnd.kubernetes.protobuf` request bodies (the `k8s\0`
//!   envelope + `runtime.Unknown`) of built-in kinds into the JSON the JSON path would produce.
//! - [`strict`]: unknown-field and type checks of built-in objects for `fieldValidation=Strict`.
//! - [`defaults`]: the defaults kube-apiserver sets on built-ins at create time.
//!
//! It must not touch: HTTP routing, storage, watch, authentication (the `apiserver` crate), nor the
//! generic API machinery (selectors, patches, CRD schema validation, Tables incl. built-in printer
//! columns — the
//! `apimachinery` crate). Everything here is plain functions over `serde_json::Value` and small types.

pub mod catalogue;
mod crd;
pub mod defaults;
pub mod discovery;
mod error;
pub mod openapi;
pub mod protobuf;
pub mod strict;

pub use catalogue::{
    Catalogue, Gvk, Origin, PrinterColumn, ResourceInfo, ScaleSubresource, Scope, Subresources,
    builtins,
};
pub use error::Error;
