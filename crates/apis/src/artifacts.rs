//! `app.alauda.io/v1alpha1`: Artifact and ArtifactVersion, the records `violet push` creates for an uploaded package.
