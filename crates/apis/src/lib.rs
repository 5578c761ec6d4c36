//! The product's own API types, one module per API group: the Rust structs (kube-derive
//! `CustomResource`s) whose CRDs `marketplace serve` installs and `marketplace crds` prints, and the
//! shapes of computed resources the product serves.
//!
//! Owns: field names, serde shapes, printer columns, label and annotation keys of each group.
//! Must not touch: behaviour. Controllers, validation beyond the schema and I/O live in the crates
//! that act on these types (`olm`, `plugins`, `artifacts`, `violet`); this crate has no async code.

pub mod artifacts;
pub mod cluster;
pub mod operators;
pub mod packages;
