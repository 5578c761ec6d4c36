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
//! | [`metadata`] | `Accept` negotiation of reads (object, Table, `PartialObjectMetadata[List]`, 406) and the `PartialObjectMetadata` forms |
//! | [`schema`] | CRD structural schemas: validation, pruning, defaulting |
//! | [`field`] | field errors (`spec.x: Invalid value: ...`) shared by validation code |
//! | [`status`] | `metav1.Status` error bodies and the [`ApiError`] type the server maps to HTTP |
//! | [`meta`] | name validation (DNS-1123), `generateName`, RFC 3339 timestamps |
//!
//! What it must not touch: no HTTP, no I/O, no storage, no async runtime. Randomness only in
//! [`meta::generate_name`], and time only where a caller passes `now` (plus the convenience
//! [`meta::now_rfc3339`]).
//!
//! ## How a server uses it
//! - list: [`labels::Selector::parse`], [`fields::FieldSelector::parse`] +
//!   [`fields::FieldSelector::check_supported`], then `matches_object` / `matches`;
//! - every write: [`meta::normalize_object_meta`] before storing (Go's `omitempty`);
//! - create/update: [`meta::validate_object_meta`]; for custom resources
//!   [`schema::unknown_fields`] (Strict → [`schema::strict_decoding_error`], Warn →
//!   [`schema::unknown_field_warnings`]), [`schema::prune`], [`schema::apply_defaults`],
//!   [`schema::validate`] → [`ApiError::invalid`]; then [`apply::record_update`];
//! - patch: [`patch::PatchType::from_content_type`], then [`patch::apply_json_patch`],
//!   [`patch::apply_merge_patch`], [`patch::apply_strategic_merge_patch`] (built-ins only, else
//!   [`ApiError::unsupported_patch_type`]) or [`apply::parse_apply_body`] +
//!   [`apply::server_side_apply`];
//! - CRDs: [`schema::validate_structural`] on each version's `openAPIV3Schema`;
//! - reads: [`metadata::negotiate`] on the `Accept` header; tables: [`table::build_table`]; errors: [`ApiError::to_status`] and [`ApiError::code`].
//!
//! ## Known simplifications
//! - Server-side apply approximates structured-merge-diff (see [`apply`]): list semantics come
//!   from the strategic-merge table or CRD list-type extensions, no unions, no version
//!   conversion; every map below the top level is recorded as a member (`.`).
//! - The strategic-merge table covers the lists of the kinds the server serves; unknown fields
//!   merge as maps / replace as lists instead of failing.
//! - JSONPath covers what printer columns and `kubectl wait` use; no `range`/`end` templates.
//! - Schema validation covers the OpenAPI keywords structural schemas allow, not CEL
//!   (`x-kubernetes-validations`) nor ratcheting.

pub mod apply;
pub mod field;
pub mod fields;
pub mod jsonpath;
pub mod labels;
pub mod meta;
pub mod metadata;
pub mod patch;
pub mod printers;
pub mod schema;
pub mod status;
pub mod table;

pub use field::{FieldError, FieldErrorType};
pub use status::ApiError;
