//! # apimachinery — Kubernetes API semantics as pure functions
//!
//! This crate owns the parts of a Kubernetes API server whose *behaviour* must match
//! kube-apiserver exactly, written as plain functions over [`serde_json::Value`] and small
//! types, so they can be unit-tested without a server:
//!
//! | module | what it does |
//! |---|---|
//! | [`labels`] | label selector strings (`a=b,c in (x,y),!d`) and `LabelSelector` objects; matching |
//! | [`fields`] | field selectors (`metadata.name=x`) matched against objects |
//! | [`patch`] | JSON Patch, JSON Merge Patch, strategic merge patch for the built-in kinds |
//! | [`apply`] | server-side apply with `metadata.managedFields` (FieldsV1), conflicts, `force` |
//! | [`jsonpath`] | Kubernetes JSONPath (as used by `additionalPrinterColumns`) |
//! | [`table`] | `meta.k8s.io/v1` Table building, `HumanDuration` ages |
//! | [`schema`] | CRD structural schemas: validation, pruning, defaulting |
//! | [`field`] | field errors (`spec.x: Invalid value: ...`) shared by validation code |
//! | [`status`] | `metav1.Status` error bodies and the [`ApiError`] type the server maps to HTTP |
//! | [`meta`] | name validation (DNS-1123), `generateName`, RFC 3339 timestamps |
//!
//! What it must not touch: no HTTP, no I/O, no storage, no async runtime. Randomness only in
//! [`meta::generate_name`], and time only where a caller passes `now`.

pub mod apply;
pub mod field;
pub mod fields;
pub mod jsonpath;
pub mod labels;
pub mod meta;
pub mod patch;
pub mod schema;
pub mod status;
pub mod table;

pub use field::{FieldError, FieldErrorType};
pub use status::ApiError;
