//! The catalogue of served resources: [`ResourceInfo`] (one group/version/resource) and the
//! built-in kinds of this server ([`builtins`]), plus [`Catalogue`] for lookups.
//!
//! Names, scopes, verbs, short names and categories are those kube-apiserver v1.33 reports in
//! discovery for the same resources.

use serde_json::Value;
use std::sync::LazyLock;

/// One Table column (`columnDefinitions[]`). For CRDs `json_path` says where the cell comes from;
/// built-in kinds get their columns from `apimachinery::table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean`, `date`.
    pub type_: String,
    /// `name` for the NAME column, otherwise usually empty.
    pub format: String,
    pub description: String,
    /// 0 = always shown, 1 = only with `-o wide`.
    pub priority: i32,
    pub json_path: Option<String>,
}

impl PrinterColumn {
    /// From one entry of a CRD version's `additionalPrinterColumns`.
    pub fn from_crd_column(col: &Value) -> Option<Self> {
        let s = |k: &str| {
            col.get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let name = s("name");
        if name.is_empty() {
            return None;
        }
        Some(PrinterColumn {
            name,
            type_: s("type"),
            format: s("format"),
            description: s("description"),
            priority: col.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32,
            json_path: Some(s("jsonPath")),
        })
    }
}

/// A group/version/kind. `group` is empty for the core group.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk {
    pub group: String,
    pub version: String,
    pub kind: String,
}

impl Gvk {
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        Gvk {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// From an object's `apiVersion` (`v1`, `apps/v1`) and `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        let (group, version) = split_api_version(api_version);
        Gvk::new(group, version, kind)
    }

    /// From an object's `apiVersion` and `kind` fields, if both are strings.
    pub fn of_object(obj: &Value) -> Option<Self> {
        let api_version = obj.get("apiVersion")?.as_str()?;
        let kind = obj.get("kind")?.as_str()?;
        Some(Gvk::from_api_version(api_version, kind))
    }

    /// `v1` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }
}

impl std::fmt::Display for Gvk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

/// `v1` for the core group, `group/version` otherwise.
pub fn api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// Split `apps/v1` into (`apps`, `v1`) and `v1` into (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

/// Whether objects live in namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    Namespaced,
    Cluster,
}

impl Scope {
    /// `Namespaced` or `Cluster`, as CRDs and aggregated discovery spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Namespaced => "Namespaced",
            Scope::Cluster => "Cluster",
        }
    }
}

/// The `scale` subresource: where replicas and the selector live in the main object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleSubresource {
    /// JSON path of the desired replicas, e.g. `.spec.replicas`.
    pub spec_replicas_path: String,
    /// JSON path of the observed replicas, e.g. `.status.replicas`.
    pub status_replicas_path: String,
    /// JSON path of the label selector string, if any (e.g. `.status.selector`).
    pub label_selector_path: Option<String>,
}

/// Subresources a resource serves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subresources {
    /// `/status`: writes to the main resource leave `.status` alone and the reverse.
    pub status: bool,
    /// `/scale` (autoscaling/v1 Scale).
    pub scale: Option<ScaleSubresource>,
    /// Other subresources, each handled its own way by the server: pods' `binding` and `eviction`
    /// (a POST of their own kind), `log`, `exec`, `attach`, `portforward`, `ephemeralcontainers`
    /// and `resize` (the Pod; writes change only its ephemeral containers, resp. its containers'
    /// resources); certificatesigningrequests'
    /// `approval` (an update); namespaces' `finalize`; serviceaccounts' `token`.
    pub actions: Vec<String>,
}

/// Where a resource comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Compiled into the server.
    BuiltIn,
    /// Defined by the CustomResourceDefinition of this name (`widgets.example.com`).
    Crd { name: String },
    /// Computed in memory by a provider registered at run time (read-only: get, list, watch).
    Computed,
}

/// One served group/version/resource: everything discovery, routing, OpenAPI and tables need.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceInfo {
    /// API group; empty for the core group.
    pub group: String,
    pub version: String,
    pub kind: String,
    /// `<Kind>List`.
    pub list_kind: String,
    /// URL segment, e.g. `deployments`.
    pub plural: String,
    /// e.g. `deployment`.
    pub singular: String,
    pub scope: Scope,
    /// `create`, `delete`, `deletecollection`, `get`, `list`, `patch`, `update`, `watch`.
    pub verbs: Vec<String>,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub subresources: Subresources,
    /// Served at this version (a CRD version may exist unserved).
    pub served: bool,
    /// The version objects are stored in (exactly one per group/resource).
    pub storage: bool,
    /// CRD `additionalPrinterColumns` (empty for built-ins: `apimachinery::table` has their printers).
    pub printer_columns: Vec<PrinterColumn>,
    /// CRD `openAPIV3Schema` (None for built-ins: see [`crate::openapi`]).
    pub schema: Option<Value>,
    /// Whether this version is deprecated, with the warning text to send.
    pub deprecation_warning: Option<String>,
    pub origin: Origin,
}

/// The verbs of an ordinary resource.
pub const STANDARD_VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl ResourceInfo {
    /// A built-in resource with the standard verbs, served and stored at this version.
    pub fn builtin(group: &str, version: &str, kind: &str, plural: &str, scope: Scope) -> Self {
        ResourceInfo {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            list_kind: format!("{kind}List"),
            plural: plural.into(),
            singular: kind.to_ascii_lowercase(),
            scope,
            verbs: STANDARD_VERBS.iter().map(|v| v.to_string()).collect(),
            short_names: Vec::new(),
            categories: Vec::new(),
            subresources: Subresources::default(),
            served: true,
            storage: true,
            printer_columns: Vec::new(),
            schema: None,
            deprecation_warning: None,
            origin: Origin::BuiltIn,
        }
    }

    fn short(mut self, names: &[&str]) -> Self {
        self.short_names = names.iter().map(|s| s.to_string()).collect();
        self
    }

    fn categories(mut self, categories: &[&str]) -> Self {
        self.categories = categories.iter().map(|s| s.to_string()).collect();
        self
    }

    fn with_actions(mut self, actions: &[&str]) -> Self {
        self.subresources.actions = actions.iter().map(|s| s.to_string()).collect();
        self
    }

    fn not_storage(mut self) -> Self {
        self.storage = false;
        self
    }

    fn with_status(mut self) -> Self {
        self.subresources.status = true;
        self
    }

    fn with_scale(mut self, selector: bool) -> Self {
        self.subresources.scale = Some(ScaleSubresource {
            spec_replicas_path: ".spec.replicas".into(),
            status_replicas_path: ".status.replicas".into(),
            label_selector_path: selector.then(|| ".status.selector".into()),
        });
        self
    }

    fn verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Build the `ResourceInfo`s (one per version) of a CustomResourceDefinition object.
    ///
    /// Unserved versions are included with `served: false` (discovery and routing skip them).
    pub fn from_crd(crd: &Value) -> Result<Vec<ResourceInfo>, crate::Error> {
        crate::crd::from_crd(crd)
    }

    pub fn gvk(&self) -> Gvk {
        Gvk::new(&self.group, &self.version, &self.kind)
    }

    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        api_version(&self.group, &self.version)
    }

    /// `plural` for the core group, `group/plural` otherwise: the store's resource key
    /// (`configmaps`, `apps/deployments`, `example.com/widgets`). The same for every version.
    pub fn resource_key(&self) -> String {
        let (group, plural) =
            shared_storage(&self.group, &self.plural).unwrap_or((&self.group, &self.plural));
        resource_key(group, plural)
    }

    /// `plural` or `plural.group` (`deployments.apps`), as Status messages name resources.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Kind` or `Kind.group` (`Widget.example.com`), as Invalid Status messages name kinds.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub fn namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }

    pub fn is_builtin(&self) -> bool {
        self.origin == Origin::BuiltIn
    }

    /// How the server keeps this resource's `metadata.generation`.
    pub fn generation(&self) -> crate::defaults::Generation {
        if self.is_builtin() {
            crate::defaults::generation(&self.gvk())
        } else {
            crate::defaults::Generation::Spec
        }
    }

    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// Whether `name` (lowercase) designates this resource: plural, singular, kind or a short name.
    pub fn matches_name(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.plural == name
            || self.singular == name
            || self.kind.to_ascii_lowercase() == name
            || self.short_names.contains(&name)
    }
}

/// `plural` for the core group, `group/plural` otherwise.
fn resource_key(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{group}/{plural}")
    }
}

/// Resources stored as another group's resource, as kube-apiserver shares their storage:
/// `events.k8s.io` events are core/v1 events (one set of objects, converted on read and write).
/// Returns the (group, plural) whose storage is used.
pub fn shared_storage(group: &str, plural: &str) -> Option<(&'static str, &'static str)> {
    (group == "events.k8s.io" && plural == "events").then_some(("", "events"))
}

/// A built-in resource whose group, version, kind, URL segment and scope come from k8s-openapi's
/// generated [`k8s_openapi::Resource`] impl (Kubernetes' own API metadata), with the standard verbs.
fn from_openapi<T: k8s_openapi::Resource>() -> ResourceInfo
where
    T::Scope: ScopeOf,
{
    ResourceInfo::builtin(
        T::GROUP,
        T::VERSION,
        T::KIND,
        T::URL_PATH_SEGMENT,
        <T::Scope as ScopeOf>::SCOPE,
    )
}

/// Maps k8s-openapi's scope marker types to [`Scope`].
trait ScopeOf {
    const SCOPE: Scope;
}
impl ScopeOf for k8s_openapi::NamespaceResourceScope {
    const SCOPE: Scope = Scope::Namespaced;
}
impl ScopeOf for k8s_openapi::ClusterResourceScope {
    const SCOPE: Scope = Scope::Cluster;
}

/// Verbs of the review APIs and bindings: they only answer a POST.
const CREATE_ONLY: &[&str] = &["create"];

static BUILTINS: LazyLock<Vec<ResourceInfo>> = LazyLock::new(|| {
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, apps::v1 as apps, authentication::v1 as authn,
        authorization::v1 as authz, autoscaling, batch::v1 as batch, certificates::v1 as certs,
        coordination::v1 as coordination, core::v1 as core, discovery::v1 as discovery,
        events::v1 as events, flowcontrol::v1 as flowcontrol, networking::v1 as networking,
        node::v1 as node, policy::v1 as policy, rbac::v1 as rbac, scheduling::v1 as scheduling,
        storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
    const ALL: &[&str] = &["all"];
    const EXT: &[&str] = &["api-extensions"];
    // Short names, categories, verbs and subresources as kube-apiserver v1.33 reports them in
    // discovery; groups in its discovery order (core first, then the order of `/apis`).
    vec![
        // core/v1
        from_openapi::<core::Binding>().verbs(CREATE_ONLY),
        from_openapi::<core::ComponentStatus>()
            .short(&["cs"])
            .verbs(&["get", "list"]),
        from_openapi::<core::ConfigMap>().short(&["cm"]),
        from_openapi::<core::Endpoints>().short(&["ep"]),
        from_openapi::<core::Event>().short(&["ev"]),
        from_openapi::<core::LimitRange>().short(&["limits"]),
        from_openapi::<core::Namespace>()
            .short(&["ns"])
            .verbs(&[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ])
            .with_status()
            .with_actions(&["finalize"]),
        from_openapi::<core::Node>().short(&["no"]).with_status(),
        from_openapi::<core::PersistentVolumeClaim>()
            .short(&["pvc"])
            .with_status(),
        from_openapi::<core::PersistentVolume>()
            .short(&["pv"])
            .with_status(),
        from_openapi::<core::Pod>()
            .short(&["po"])
            .categories(ALL)
            .with_status()
            .with_actions(&[
                "binding",
                "eviction",
                "log",
                "exec",
                "attach",
                "portforward",
                "ephemeralcontainers",
                "resize",
            ]),
        from_openapi::<core::PodTemplate>(),
        from_openapi::<core::ReplicationController>()
            .short(&["rc"])
            .categories(ALL)
            .with_status()
            .with_scale(false),
        from_openapi::<core::ResourceQuota>()
            .short(&["quota"])
            .with_status(),
        from_openapi::<core::Secret>(),
        from_openapi::<core::ServiceAccount>()
            .short(&["sa"])
            .with_actions(&["token"]),
        from_openapi::<core::Service>()
            .short(&["svc"])
            .categories(ALL)
            .with_status(),
        // apiregistration.k8s.io/v1
        from_openapi::<apiregistration::APIService>()
            .categories(EXT)
            .with_status(),
        // apps/v1
        from_openapi::<apps::ControllerRevision>(),
        from_openapi::<apps::DaemonSet>()
            .short(&["ds"])
            .categories(ALL)
            .with_status(),
        from_openapi::<apps::Deployment>()
            .short(&["deploy"])
            .categories(ALL)
            .with_status()
            .with_scale(true),
        from_openapi::<apps::ReplicaSet>()
            .short(&["rs"])
            .categories(ALL)
            .with_status()
            .with_scale(true),
        from_openapi::<apps::StatefulSet>()
            .short(&["sts"])
            .categories(ALL)
            .with_status()
            .with_scale(true),
        // events.k8s.io/v1 (kube-rs' `Recorder` writes these)
        // One set of objects with core/v1 events, stored in core/v1's form (see `conversion`).
        from_openapi::<events::Event>().short(&["ev"]).not_storage(),
        // authentication.k8s.io/v1, authorization.k8s.io/v1: reviews answered, never stored
        from_openapi::<authn::SelfSubjectReview>().verbs(CREATE_ONLY),
        from_openapi::<authn::TokenReview>().verbs(CREATE_ONLY),
        from_openapi::<authz::LocalSubjectAccessReview>().verbs(CREATE_ONLY),
        from_openapi::<authz::SelfSubjectAccessReview>().verbs(CREATE_ONLY),
        from_openapi::<authz::SelfSubjectRulesReview>().verbs(CREATE_ONLY),
        from_openapi::<authz::SubjectAccessReview>().verbs(CREATE_ONLY),
        // autoscaling: v2 preferred and stored; v1 served from the same objects
        from_openapi::<autoscaling::v2::HorizontalPodAutoscaler>()
            .short(&["hpa"])
            .categories(ALL)
            .with_status(),
        from_openapi::<autoscaling::v1::HorizontalPodAutoscaler>()
            .short(&["hpa"])
            .categories(ALL)
            .with_status()
            .not_storage(),
        // batch/v1
        from_openapi::<batch::CronJob>()
            .short(&["cj"])
            .categories(ALL)
            .with_status(),
        from_openapi::<batch::Job>().categories(ALL).with_status(),
        // certificates.k8s.io/v1
        from_openapi::<certs::CertificateSigningRequest>()
            .short(&["csr"])
            .with_status()
            .with_actions(&["approval"]),
        // networking.k8s.io/v1
        from_openapi::<networking::IngressClass>(),
        from_openapi::<networking::Ingress>()
            .short(&["ing"])
            .with_status(),
        from_openapi::<networking::IPAddress>().short(&["ip"]),
        from_openapi::<networking::NetworkPolicy>().short(&["netpol"]),
        from_openapi::<networking::ServiceCIDR>().with_status(),
        // policy/v1
        from_openapi::<policy::PodDisruptionBudget>()
            .short(&["pdb"])
            .with_status(),
        // rbac.authorization.k8s.io/v1
        from_openapi::<rbac::ClusterRoleBinding>(),
        from_openapi::<rbac::ClusterRole>(),
        from_openapi::<rbac::RoleBinding>(),
        from_openapi::<rbac::Role>(),
        // storage.k8s.io/v1
        from_openapi::<storage::CSIDriver>(),
        from_openapi::<storage::CSINode>(),
        from_openapi::<storage::CSIStorageCapacity>(),
        from_openapi::<storage::StorageClass>().short(&["sc"]),
        from_openapi::<storage::VolumeAttachment>().with_status(),
        // admissionregistration.k8s.io/v1
        from_openapi::<admission::MutatingWebhookConfiguration>().categories(EXT),
        from_openapi::<admission::ValidatingAdmissionPolicy>()
            .categories(EXT)
            .with_status(),
        from_openapi::<admission::ValidatingAdmissionPolicyBinding>().categories(EXT),
        from_openapi::<admission::ValidatingWebhookConfiguration>().categories(EXT),
        // apiextensions.k8s.io/v1
        from_openapi::<apiextensions::CustomResourceDefinition>()
            .short(&["crd", "crds"])
            .categories(EXT)
            .with_status(),
        // scheduling.k8s.io/v1
        from_openapi::<scheduling::PriorityClass>().short(&["pc"]),
        // coordination.k8s.io/v1
        from_openapi::<coordination::Lease>(),
        // node.k8s.io/v1
        from_openapi::<node::RuntimeClass>(),
        // discovery.k8s.io/v1
        from_openapi::<discovery::EndpointSlice>(),
        // flowcontrol.apiserver.k8s.io/v1
        from_openapi::<flowcontrol::FlowSchema>().with_status(),
        from_openapi::<flowcontrol::PriorityLevelConfiguration>().with_status(),
    ]
});

/// The built-in resources this server serves, in discovery order.
pub fn builtins() -> &'static [ResourceInfo] {
    &BUILTINS
}

/// The set of resources one cluster serves: the built-ins plus those of its CRDs.
#[derive(Debug, Clone)]
pub struct Catalogue {
    resources: Vec<ResourceInfo>,
}

impl Default for Catalogue {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Catalogue {
    /// Only the built-in resources.
    pub fn builtin() -> Self {
        Catalogue {
            resources: builtins().to_vec(),
        }
    }

    /// Built-ins plus the resources of these CRD objects. CRDs that cannot be interpreted are
    /// returned as errors beside the catalogue (the others are still added).
    pub fn with_crds<'a>(crds: impl IntoIterator<Item = &'a Value>) -> (Self, Vec<crate::Error>) {
        let mut cat = Self::builtin();
        let mut errors = Vec::new();
        for crd in crds {
            if let Err(e) = cat.upsert_crd(crd) {
                errors.push(e);
            }
        }
        (cat, errors)
    }

    /// Add or replace the resources of one CRD (matched by the CRD's `metadata.name`).
    pub fn upsert_crd(&mut self, crd: &Value) -> Result<(), crate::Error> {
        let infos = ResourceInfo::from_crd(crd)?;
        if let Some(Origin::Crd { name }) = infos.first().map(|i| i.origin.clone()) {
            self.remove_crd(&name);
        }
        self.resources.extend(infos);
        Ok(())
    }

    /// Remove the resources of the CRD of this name.
    pub fn remove_crd(&mut self, crd_name: &str) {
        self.resources
            .retain(|r| !matches!(&r.origin, Origin::Crd { name } if name == crd_name));
    }

    /// Adds a computed resource (`Origin::Computed`). Refuses one whose group/version/plural or
    /// group/kind is already served, naming it.
    pub fn add_computed(&mut self, info: ResourceInfo) -> Result<(), String> {
        if let Some(r) = self.resources.iter().find(|r| {
            r.group == info.group
                && ((r.version == info.version && r.plural == info.plural) || r.kind == info.kind)
        }) {
            return Err(format!(
                "{} ({}) is already served ({:?}); pick another group or plural",
                info.group_resource(),
                r.api_version(),
                r.origin
            ));
        }
        self.resources.push(info);
        Ok(())
    }

    /// Every resource, served or not.
    pub fn resources(&self) -> &[ResourceInfo] {
        &self.resources
    }

    /// The served resource at `/api[s]/<group>/<version>/.../<plural>`.
    pub fn lookup(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceInfo> {
        self.resources
            .iter()
            .find(|r| r.served && r.group == group && r.version == version && r.plural == plural)
    }

    /// The served resource of a kind.
    pub fn lookup_kind(&self, gvk: &Gvk) -> Option<&ResourceInfo> {
        self.resources.iter().find(|r| {
            r.served && r.group == gvk.group && r.version == gvk.version && r.kind == gvk.kind
        })
    }

    /// The storage version of a group/resource (`apps`, `deployments`).
    /// For resources sharing another's storage ([`shared_storage`]) that one's storage version.
    pub fn storage_version(&self, group: &str, plural: &str) -> Option<&ResourceInfo> {
        let (group, plural) = shared_storage(group, plural).unwrap_or((group, plural));
        self.resources
            .iter()
            .find(|r| r.storage && r.group == group && r.plural == plural)
    }

    /// Every version of a group/resource, served or not.
    pub fn versions_of(&self, group: &str, plural: &str) -> Vec<&ResourceInfo> {
        self.resources
            .iter()
            .filter(|r| r.group == group && r.plural == plural)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_short_names_and_scopes_match_kube_apiserver() {
        let cat = Catalogue::builtin();
        let find = |short: &str| {
            cat.resources()
                .iter()
                .find(|r| r.short_names.iter().any(|s| s == short))
                .unwrap_or_else(|| panic!("no resource with short name {short}"))
        };
        assert_eq!(find("ns").kind, "Namespace");
        assert_eq!(find("ns").scope, Scope::Cluster);
        assert_eq!(find("cm").plural, "configmaps");
        assert_eq!(find("sa").kind, "ServiceAccount");
        assert_eq!(find("svc").kind, "Service");
        assert_eq!(find("po").kind, "Pod");
        assert_eq!(find("deploy").group, "apps");
        assert_eq!(find("rs").kind, "ReplicaSet");
        assert_eq!(find("sts").kind, "StatefulSet");
        assert_eq!(find("ds").kind, "DaemonSet");
        assert_eq!(find("crd").kind, "CustomResourceDefinition");
        assert_eq!(find("crds").scope, Scope::Cluster);
        assert_eq!(find("ev").kind, "Event");
    }

    /// `kubectl api-resources` of a default kube-apiserver v1.33 (NAME, SHORTNAMES, APIVERSION,
    /// NAMESPACED, KIND), one row per group/resource at its preferred version.
    const KUBE_APISERVER_1_33: &str = "
bindings  v1 true Binding
componentstatuses cs v1 false ComponentStatus
configmaps cm v1 true ConfigMap
endpoints ep v1 true Endpoints
events ev v1 true Event
limitranges limits v1 true LimitRange
namespaces ns v1 false Namespace
nodes no v1 false Node
persistentvolumeclaims pvc v1 true PersistentVolumeClaim
persistentvolumes pv v1 false PersistentVolume
pods po v1 true Pod
podtemplates  v1 true PodTemplate
replicationcontrollers rc v1 true ReplicationController
resourcequotas quota v1 true ResourceQuota
secrets  v1 true Secret
serviceaccounts sa v1 true ServiceAccount
services svc v1 true Service
mutatingwebhookconfigurations  admissionregistration.k8s.io/v1 false MutatingWebhookConfiguration
validatingadmissionpolicies  admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicy
validatingadmissionpolicybindings  admissionregistration.k8s.io/v1 false ValidatingAdmissionPolicyBinding
validatingwebhookconfigurations  admissionregistration.k8s.io/v1 false ValidatingWebhookConfiguration
customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition
apiservices  apiregistration.k8s.io/v1 false APIService
controllerrevisions  apps/v1 true ControllerRevision
daemonsets ds apps/v1 true DaemonSet
deployments deploy apps/v1 true Deployment
replicasets rs apps/v1 true ReplicaSet
statefulsets sts apps/v1 true StatefulSet
selfsubjectreviews  authentication.k8s.io/v1 false SelfSubjectReview
tokenreviews  authentication.k8s.io/v1 false TokenReview
localsubjectaccessreviews  authorization.k8s.io/v1 true LocalSubjectAccessReview
selfsubjectaccessreviews  authorization.k8s.io/v1 false SelfSubjectAccessReview
selfsubjectrulesreviews  authorization.k8s.io/v1 false SelfSubjectRulesReview
subjectaccessreviews  authorization.k8s.io/v1 false SubjectAccessReview
horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler
cronjobs cj batch/v1 true CronJob
jobs  batch/v1 true Job
certificatesigningrequests csr certificates.k8s.io/v1 false CertificateSigningRequest
leases  coordination.k8s.io/v1 true Lease
endpointslices  discovery.k8s.io/v1 true EndpointSlice
events ev events.k8s.io/v1 true Event
flowschemas  flowcontrol.apiserver.k8s.io/v1 false FlowSchema
prioritylevelconfigurations  flowcontrol.apiserver.k8s.io/v1 false PriorityLevelConfiguration
ingressclasses  networking.k8s.io/v1 false IngressClass
ingresses ing networking.k8s.io/v1 true Ingress
ipaddresses ip networking.k8s.io/v1 false IPAddress
networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy
servicecidrs  networking.k8s.io/v1 false ServiceCIDR
runtimeclasses  node.k8s.io/v1 false RuntimeClass
poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget
clusterrolebindings  rbac.authorization.k8s.io/v1 false ClusterRoleBinding
clusterroles  rbac.authorization.k8s.io/v1 false ClusterRole
rolebindings  rbac.authorization.k8s.io/v1 true RoleBinding
roles  rbac.authorization.k8s.io/v1 true Role
priorityclasses pc scheduling.k8s.io/v1 false PriorityClass
csidrivers  storage.k8s.io/v1 false CSIDriver
csinodes  storage.k8s.io/v1 false CSINode
csistoragecapacities  storage.k8s.io/v1 true CSIStorageCapacity
storageclasses sc storage.k8s.io/v1 false StorageClass
volumeattachments  storage.k8s.io/v1 false VolumeAttachment
";

    #[test]
    fn every_resource_kube_apiserver_1_33_serves_by_default_is_served_alike() {
        let cat = Catalogue::builtin();
        let mut rows = 0;
        for line in KUBE_APISERVER_1_33.lines().filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split(' ').collect();
            let (plural, short, av, namespaced, kind) = (f[0], f[1], f[2], f[3], f[4]);
            let (group, version) = split_api_version(av);
            let r = cat
                .lookup(group, version, plural)
                .unwrap_or_else(|| panic!("{plural} ({av}) is not served"));
            assert_eq!(r.kind, kind, "{plural}");
            assert_eq!(r.namespaced(), namespaced == "true", "{plural} scope");
            let shorts: Vec<&str> = short.split(',').filter(|s| !s.is_empty()).collect();
            assert_eq!(r.short_names, shorts, "{plural} short names");
            rows += 1;
        }
        assert_eq!(rows, 60);
        // one row per group/resource: nothing served beyond kube-apiserver's list
        let mut served: Vec<String> = cat.resources().iter().map(|r| r.group_resource()).collect();
        served.sort();
        served.dedup();
        assert_eq!(served.len(), rows);
        // autoscaling is served at v2 (stored) and v1
        let v1 = cat
            .lookup("autoscaling", "v1", "horizontalpodautoscalers")
            .unwrap();
        assert!(!v1.storage);
        assert!(
            cat.storage_version("autoscaling", "horizontalpodautoscalers")
                .unwrap()
                .version
                == "v2"
        );
    }

    #[test]
    fn every_builtin_kind_has_a_schema() {
        // keeps `openapi/regenerate.rs`'s list of kinds in step with the catalogue
        for r in builtins() {
            assert!(
                crate::openapi::builtin_schema(&r.gvk()).is_some(),
                "no schema for {}: add it to openapi/regenerate.rs and regenerate",
                r.gvk()
            );
        }
    }

    #[test]
    fn review_apis_and_bindings_only_accept_create_and_componentstatuses_only_read() {
        let cat = Catalogue::builtin();
        for (g, p) in [
            ("authentication.k8s.io", "tokenreviews"),
            ("authorization.k8s.io", "selfsubjectaccessreviews"),
            ("", "bindings"),
        ] {
            let r = cat
                .resources()
                .iter()
                .find(|r| r.group == g && r.plural == p)
                .unwrap();
            assert_eq!(r.verbs, ["create"], "{p}");
        }
        let cs = cat.lookup("", "v1", "componentstatuses").unwrap();
        assert_eq!(cs.verbs, ["get", "list"]);
        let pods = cat.lookup("", "v1", "pods").unwrap();
        assert_eq!(
            pods.subresources.actions,
            [
                "binding",
                "eviction",
                "log",
                "exec",
                "attach",
                "portforward",
                "ephemeralcontainers",
                "resize"
            ]
        );
        assert!(
            cat.lookup("", "v1", "replicationcontrollers")
                .unwrap()
                .subresources
                .scale
                .is_some()
        );
    }

    #[test]
    fn events_k8s_io_events_share_core_v1_events_storage() {
        let cat = Catalogue::builtin();
        let ev = cat.lookup("events.k8s.io", "v1", "events").unwrap();
        assert_eq!(ev.resource_key(), "events");
        assert!(!ev.storage);
        let storage = cat.storage_version("events.k8s.io", "events").unwrap();
        assert_eq!(storage.api_version(), "v1");
    }

    #[test]
    fn lookup_by_url_segments_and_resource_keys() {
        let cat = Catalogue::builtin();
        let d = cat.lookup("apps", "v1", "deployments").unwrap();
        assert_eq!(d.kind, "Deployment");
        assert_eq!(d.resource_key(), "apps/deployments");
        assert_eq!(d.group_resource(), "deployments.apps");
        assert!(d.subresources.status && d.subresources.scale.is_some());
        let cm = cat.lookup("", "v1", "configmaps").unwrap();
        assert_eq!(cm.resource_key(), "configmaps");
        assert!(!cm.subresources.status);
        assert!(cat.lookup("", "v1", "deployments").is_none());
        assert!(
            !cat.lookup("", "v1", "namespaces")
                .unwrap()
                .has_verb("deletecollection")
        );
        assert!(
            cat.lookup("", "v1", "pods")
                .unwrap()
                .categories
                .contains(&"all".to_string())
        );
    }

    #[test]
    fn gvk_parses_core_and_grouped_api_versions() {
        assert_eq!(
            Gvk::from_api_version("v1", "Pod"),
            Gvk::new("", "v1", "Pod")
        );
        assert_eq!(
            Gvk::from_api_version("apps/v1", "Deployment").api_version(),
            "apps/v1"
        );
        let obj = serde_json::json!({"apiVersion": "example.com/v1beta1", "kind": "Widget"});
        assert_eq!(Gvk::of_object(&obj).unwrap().group, "example.com");
    }
}
