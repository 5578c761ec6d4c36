//! `.Capabilities` as Helm v4.2.3 exposes it (see the fixtures' `capabilities.json`).

/// The API group/versions Helm v4.2.3 advertises by default (client-go v1.36 scheme), in its order.
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha2",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// Helm v4.2.3 library build's default Kubernetes version.
pub const DEFAULT_KUBE_VERSION: &str = "v1.36.0";

/// `.Capabilities.KubeVersion`.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeVersion {
    pub version: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// Parses `v1.31.0` / `1.31` the way Helm's `ParseKubeVersion` does (Version gets a `v` prefix).
    pub fn parse(s: &str) -> Result<KubeVersion, String> {
        let v = crate::semver::Version::parse(s)
            .map_err(|_| format!("invalid kube version {s:?}: Invalid Semantic Version"))?;
        let mut version = format!("v{}.{}.{}", v.major, v.minor, v.patch);
        if !v.pre.is_empty() {
            version.push('-');
            version.push_str(&v.pre);
        }
        Ok(KubeVersion {
            version,
            major: v.major.to_string(),
            minor: v.minor.to_string(),
        })
    }
}

/// `.Capabilities`.
#[derive(Debug, Clone, PartialEq)]
pub struct Capabilities {
    pub kube_version: KubeVersion,
    pub api_versions: Vec<String>,
    /// `.Capabilities.HelmVersion.Version` (the library build says `v4.2`).
    pub helm_version: String,
    pub go_version: String,
    pub kube_client_version: String,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            kube_version: KubeVersion::parse(DEFAULT_KUBE_VERSION).expect("valid default"),
            api_versions: DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect(),
            helm_version: "v4.2".into(),
            go_version: "go1.26.6".into(),
            kube_client_version: "v1.36".into(),
        }
    }
}

impl Capabilities {
    /// Defaults with `--kube-version` and extra `--api-versions` applied.
    pub fn with(kube_version: Option<&str>, extra_api_versions: &[String]) -> Result<Self, String> {
        let mut c = Capabilities::default();
        if let Some(kv) = kube_version {
            c.kube_version = KubeVersion::parse(kv)?;
        }
        c.api_versions.extend(extra_api_versions.iter().cloned());
        Ok(c)
    }
}
