//! `computed`: read-only Kubernetes resources whose objects are computed in memory (OLM's
//! PackageManifest is the first user).
//!
//! It owns the contract between a *provider* and whatever serves its resource:
//! - [`Provider`]: describes the resource ([`ResourceDescription`]: group, version, kind, names,
//!   scope, OpenAPI schema, printer columns), lists its current objects, and publishes a change
//!   feed (a `tokio::sync::watch` generation counter; [`ChangeFeed`] is the sending half).
//! - [`Tracker`]: the versioned view of one provider that the servers share. It diffs successive
//!   lists into ADDED/MODIFIED/DELETED [`Change`]s, gives every change its own resourceVersion,
//!   keeps a bounded history so a watch can resume from a recent resourceVersion (older ones are
//!   [`WatchError::Expired`], as kube-apiserver's 410), and fans changes out to watchers.
//!
//! It also owns the contract of a *projection* ([`Projection`]): a stored, namespaced resource
//! whose objects are also shown, computed on read, in other namespaces (OLM's copied CSVs). The
//! product registers one per resource (`ControlPlane::register_projection`); the apiserver adds
//! the copies to get, list and watch in the target namespaces and refuses writes to them, without
//! storing anything per namespace.
//!
//! Two servers use it: the embedded control plane (`apiserver::handlers::computed`, registered
//! per cluster with `ControlPlane::register_computed`) and the standalone aggregated API server
//! for real clusters (`apiserver::handlers::computed::serve_aggregated`). Providers depend on this
//! crate only, not on the apiserver's internals.
//!
//! It must not touch: HTTP, selectors, Tables, discovery or OpenAPI documents (the apiserver and
//! `apiresources` build those from the description), nor any storage: objects live only in the
//! provider and in the tracker's last snapshot.

mod tracker;

pub use tracker::{Change, ChangeKind, Snapshot, Tracker, WatchError, WatchStart};

use std::borrow::Cow;

use serde_json::Value;

/// Whether objects live in namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Namespaced,
    Cluster,
}

/// One Table column, as a CRD's `additionalPrinterColumns` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterColumn {
    pub name: String,
    /// `string`, `integer`, `number`, `boolean` or `date`.
    pub type_: String,
    /// JSONPath of the cell in the object, e.g. `.status.catalogSource`.
    pub json_path: String,
    pub description: String,
    /// 0: always shown; 1: only with `-o wide`.
    pub priority: i32,
}

impl PrinterColumn {
    pub fn new(name: &str, type_: &str, json_path: &str, description: &str) -> Self {
        PrinterColumn {
            name: name.into(),
            type_: type_.into(),
            json_path: json_path.into(),
            description: description.into(),
            priority: 0,
        }
    }

    /// Shown only with `-o wide`.
    pub fn wide(mut self) -> Self {
        self.priority = 1;
        self
    }
}

/// What a provider serves: enough for discovery, routing, OpenAPI (`kubectl explain`) and Tables.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDescription {
    /// API group (never the core group: computed resources live in their own group).
    pub group: String,
    pub version: String,
    pub kind: String,
    /// URL segment, e.g. `packagemanifests`.
    pub plural: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub scope: Scope,
    /// The objects' OpenAPI v3 schema (as a CRD's `openAPIV3Schema`).
    pub schema: Value,
    /// Table columns after NAME (and AGE, added last when no column is a date).
    pub printer_columns: Vec<PrinterColumn>,
    /// Namespaces whose objects are visible from every namespace, as OLM's package server shows
    /// the packages of its global catalog namespace: a get, list or watch in namespace X includes
    /// them with `metadata.namespace: X` (an object of X itself wins a name clash), while an
    /// all-namespaces list shows each object once, in its own namespace. Nothing is copied per
    /// namespace, so the cost does not grow with the number of namespaces. Empty for ordinary
    /// resources.
    pub global_namespaces: Vec<String>,
}

impl ResourceDescription {
    /// How `obj` shows in a request for `namespace` (`None`: all namespaces): as it is, rewritten
    /// into `namespace` when it lives in one of the [global
    /// namespaces](ResourceDescription::global_namespaces), or not at all.
    pub fn view<'a>(&self, obj: &'a Value, namespace: Option<&str>) -> Option<Cow<'a, Value>> {
        let Some(want) = namespace else {
            return Some(Cow::Borrowed(obj));
        };
        let ns = obj
            .get("metadata")
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        if ns == want {
            Some(Cow::Borrowed(obj))
        } else if self.global_namespaces.iter().any(|g| g == ns) {
            let mut o = obj.clone();
            o["metadata"]["namespace"] = Value::String(want.to_string());
            Some(Cow::Owned(o))
        } else {
            None
        }
    }

    /// `group/version`.
    pub fn api_version(&self) -> String {
        format!("{}/{}", self.group, self.version)
    }

    /// Checks the names are usable as Kubernetes resource names; the error names the field.
    pub fn validate(&self) -> Result<(), ProviderError> {
        let bad = |field: &str, why: &str| {
            Err(ProviderError::Invalid(format!(
                "computed resource {}.{}: {field} {why}",
                self.plural, self.group
            )))
        };
        if self.group.is_empty() || !self.group.contains('.') {
            return bad(
                "group",
                "must be a DNS subdomain with a dot (computed resources cannot join a built-in group)",
            );
        }
        let dns_label = |s: &str| {
            !s.is_empty()
                && s.len() <= 63
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        };
        if !dns_label(&self.version) {
            return bad("version", "must be a lowercase DNS label such as v1");
        }
        if !dns_label(&self.plural) || !dns_label(&self.singular) {
            return bad("plural/singular", "must be lowercase DNS labels");
        }
        if self.kind.is_empty() || !self.kind.starts_with(|c: char| c.is_ascii_uppercase()) {
            return bad("kind", "must be a CamelCase name such as PackageManifest");
        }
        Ok(())
    }
}

/// The namespaces, besides its own, where a stored object is also shown by a [`Projection`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Targets {
    /// Only in its own namespace.
    #[default]
    None,
    /// In every existing namespace.
    All,
    /// In these namespaces (when they exist).
    Some(Vec<String>),
}

impl Targets {
    /// Whether an object of namespace `own` is shown as a copy in `namespace` (which exists).
    pub fn contains(&self, own: &str, namespace: &str) -> bool {
        own != namespace
            && match self {
                Targets::None => false,
                Targets::All => true,
                Targets::Some(list) => list.iter().any(|n| n == namespace),
            }
    }

    pub fn is_none(&self) -> bool {
        match self {
            Targets::None => true,
            Targets::All => false,
            Targets::Some(list) => list.is_empty(),
        }
    }
}

/// Copies of stored objects shown in other namespaces, computed on read (nothing is stored per
/// namespace). Pure code: the server calls it on the objects it reads.
///
/// A copy of `obj` in namespace `ns` is [`prototype(obj)`](Projection::prototype) with
/// `metadata.namespace: ns` and a uid derived from the original's and `ns`; so a copy's labels
/// (and everything else) do not depend on the namespace, and a label selector is checked once per
/// original. An object stored in `ns` under the same name wins over a copy. Copies carry the
/// original's `resourceVersion`; writes to them are refused, naming the original.
pub trait Projection: Send + Sync + 'static {
    /// The namespaces where the stored `obj` is also shown.
    fn targets(&self, obj: &Value) -> Targets;

    /// What a copy of `obj` looks like, `metadata.namespace` aside (the server sets it).
    fn prototype(&self, obj: &Value) -> Value;

    /// A label every copy carries and no stored object should: a read whose label selector
    /// requires its absence (`!label`, as controllers that ignore copies ask) sees no copy, so
    /// the server reads it as if there were no projection, at no extra cost.
    fn copy_label(&self) -> Option<&str> {
        None
    }
}

/// Why a provider could not answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// The provider's data is not available (yet); served as 503.
    #[error("{0}")]
    Unavailable(String),
    /// The description or an object is not acceptable; served as 500 (a provider bug).
    #[error("{0}")]
    Invalid(String),
}

/// A source of computed objects.
///
/// `list` must be quick (objects are computed in memory): the servers call it again each time
/// the change feed moves. Objects are plain JSON; the tracker fills `apiVersion`, `kind`,
/// `metadata.resourceVersion` and, when missing, a stable `metadata.uid` and
/// `metadata.creationTimestamp`. Namespaced resources must set `metadata.namespace`.
pub trait Provider: Send + Sync + 'static {
    /// The resource served (read once, when the provider is registered).
    fn describe(&self) -> ResourceDescription;

    /// Every current object (all namespaces). Reads by namespace or name are served from the
    /// tracker's snapshot of this list, so every object a client sees carries a resourceVersion
    /// consistent with the watch stream.
    fn list(&self) -> Result<Vec<Value>, ProviderError>;

    /// A receiver of the provider's generation: it changes whenever the objects may have changed.
    fn changes(&self) -> tokio::sync::watch::Receiver<u64>;
}

/// The sending half of a provider's change feed.
#[derive(Debug)]
pub struct ChangeFeed {
    tx: tokio::sync::watch::Sender<u64>,
}

impl Default for ChangeFeed {
    fn default() -> Self {
        ChangeFeed {
            tx: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl ChangeFeed {
    pub fn new() -> Self {
        Self::default()
    }

    /// Announces that the objects changed.
    pub fn notify(&self) {
        self.tx.send_modify(|g| *g += 1);
    }

    /// A receiver for [`Provider::changes`].
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<u64> {
        self.tx.subscribe()
    }
}
