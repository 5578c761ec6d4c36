//! `operators.coreos.com`: CatalogSource, Subscription, InstallPlan, ClusterServiceVersion (v1alpha1) and OperatorGroup (v1), with OLM's field names and status shapes.
