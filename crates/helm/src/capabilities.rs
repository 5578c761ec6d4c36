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

/// `.Capabilities.KubeVersion` (Helm's `common.KubeVersion`).
#[derive(Debug, Clone, PartialEq)]
pub struct KubeVersion {
    /// The version as given, with a `v` prefix (`.Version`, `.GitVersion`): `v1.33.4-gke.1245000`.
    pub version: String,
    /// The numeric components only (`String()`, and what `kubeVersion` constraints are checked
    /// against): `v1.33.4`.
    pub normalized: String,
    pub major: String,
    pub minor: String,
}

impl KubeVersion {
    /// Helm's `ParseKubeVersion` over k8s' `version.ParseGeneric`: `v?N.N[.N...]` then anything;
    /// errors carry k8s' text.
    pub fn parse(s: &str) -> Result<KubeVersion, String> {
        let body = s.strip_prefix('v').unwrap_or(s);
        let numeric_len = body
            .char_indices()
            .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
            .map(|(i, _)| i)
            .unwrap_or(body.len());
        // The regexp `([0-9]+(?:\.[0-9]+)*)`: a trailing or doubled dot ends the numbers.
        let mut numbers = &body[..numeric_len];
        while numbers.ends_with('.') {
            numbers = &numbers[..numbers.len() - 1];
        }
        if let Some(i) = numbers.find("..") {
            numbers = &numbers[..i];
        }
        if numbers.is_empty() || !numbers.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(format!("could not parse {s:?} as version"));
        }
        let comps: Vec<&str> = numbers.split('.').collect();
        if comps.len() < 2 {
            return Err(format!("illegal version string {s:?}"));
        }
        let mut nums = Vec::with_capacity(comps.len());
        for (i, c) in comps.iter().enumerate() {
            if i == 0 && c.starts_with('0') && *c != "0" {
                return Err(format!(
                    "illegal zero-prefixed version component {c:?} in {s:?}"
                ));
            }
            let n: u64 = c.parse().map_err(|_| {
                format!(
                    "illegal non-numeric version component {c:?} in {s:?}: strconv.ParseUint: parsing {c:?}: value out of range"
                )
            })?;
            nums.push(n.to_string());
        }
        let version = if s.starts_with('v') {
            s.to_string()
        } else {
            format!("v{s}")
        };
        Ok(KubeVersion {
            version,
            normalized: format!("v{}", nums.join(".")),
            major: nums[0].clone(),
            minor: nums[1].clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_versions_parse_as_helm_parse_kube_version() {
        let k = KubeVersion::parse("1.33.4-gke.1245000").unwrap();
        assert_eq!(
            (
                k.version.as_str(),
                k.normalized.as_str(),
                k.major.as_str(),
                k.minor.as_str()
            ),
            ("v1.33.4-gke.1245000", "v1.33.4", "1", "33")
        );
        let k = KubeVersion::parse("v1.31").unwrap();
        assert_eq!(
            (k.version.as_str(), k.normalized.as_str()),
            ("v1.31", "v1.31")
        );
        assert_eq!(
            KubeVersion::parse("abc").unwrap_err(),
            "could not parse \"abc\" as version"
        );
        assert_eq!(
            KubeVersion::parse("1").unwrap_err(),
            "illegal version string \"1\""
        );
        assert_eq!(
            KubeVersion::parse("01.2").unwrap_err(),
            "illegal zero-prefixed version component \"01\" in \"01.2\""
        );
    }
}
