//! `violet`: the upload CLI of Marketplace. Reads offline packages (the `package` crate), pushes
//! their images through the `oci` crate and records them on the platform as
//! Artifact/ArtifactVersion (contract #1) after logging in (contract #2).
//!
//! **Owns**: command-line parsing and help, the push flow and its refusals, progress display,
//! records as JSON, list/verify/gc/pack commands.
//! **Does not own**: the package format (`package`), the registry protocol (`oci`), or anything
//! the platform does with the records (PLAT's Artifact controller).

pub mod cli;
pub mod gc;
pub mod list;
pub mod platform;
pub mod progress;
pub mod push;
pub mod records;
pub mod show;
pub mod verify;
