//! `packages.operators.coreos.com/v1`: PackageManifest, the read-only view computed from the catalogs.
