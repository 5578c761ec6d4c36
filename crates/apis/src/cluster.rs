//! `cluster.alauda.io/v1alpha1`: ModulePlugin, ModuleConfig, ModuleInfo (cluster plugins) and the cluster registry.
