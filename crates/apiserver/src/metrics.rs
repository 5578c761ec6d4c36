//! Prometheus metrics of the control plane, served at `/metrics` (with the admin token, as
//! kube-apiserver requires authentication there too).
//!
//! Names, labels and buckets follow kube-apiserver so existing dashboards and alerts work:
//! - `apiserver_request_total{verb,dry_run,group,version,resource,subresource,scope,component,code}`
//! - `apiserver_request_duration_seconds{verb,dry_run,group,version,resource,subresource,scope,component}`
//!   (histogram, kube-apiserver's buckets; for `WATCH` the time until the watch is established)
//! - `apiserver_longrunning_requests{verb,group,version,resource,subresource,scope,component}`: open
//!   watches (a gauge that drops when the watch stream ends)
//! - `apiserver_storage_size_bytes{cluster}`, `marketplace_store_revision{cluster}`,
//!   `marketplace_store_watchers{cluster}`: read from each cluster's store at scrape time.
//!
//! Every request series also carries a `cluster` label (we serve several clusters from one process).
//! Label values come from what the server knows, never verbatim from arbitrary URLs: a resource
//! missing from the cluster's catalogue, an unknown cluster or subresource, and the path of a
//! non-resource request that answered 404 are recorded as empty labels, so clients cannot grow the
//! series without bound.
//!
//! This module classifies requests ([`classify`], pure) and owns the registry; recording happens in
//! the [`crate::observe`] middleware, not in handlers.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::routes::path::{self, Endpoint};

/// kube-apiserver's buckets of `apiserver_request_duration_seconds`.
pub const DURATION_BUCKETS: [f64; 23] = [
    0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0,
    10.0, 15.0, 20.0, 30.0, 45.0, 60.0,
];

/// `Content-Type` of [`Metrics::render`]'s output (OpenMetrics text, which Prometheus scrapes).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Subresources kube-apiserver serves; any other name in a URL is recorded as "".
const KNOWN_SUBRESOURCES: &[&str] = &[
    "status",
    "scale",
    "finalize",
    "binding",
    "eviction",
    "approval",
    "ephemeralcontainers",
    "resize",
    "log",
    "exec",
    "attach",
    "portforward",
    "proxy",
    "token",
];

/// What a request is, in kube-apiserver's terms (its `RequestInfo` as the metrics see it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInfo {
    /// The served cluster the path names ("" when it names no served cluster).
    pub cluster: String,
    /// `GET`, `LIST`, `WATCH`, `POST`, `PUT`, `PATCH`, `APPLY`, `DELETE`, `DELETECOLLECTION`, or the
    /// HTTP method of a non-resource request.
    pub verb: String,
    pub dry_run: bool,
    pub group: String,
    pub version: String,
    pub resource: String,
    /// For resource requests the subresource; for non-resource requests the path (as
    /// kube-apiserver does), set by [`RequestInfo::finish`] once the status code is known.
    pub subresource: String,
    /// `namespace`, `cluster` (a cluster-scoped collection), `resource` (one cluster-scoped
    /// object), or "" for non-resource requests.
    pub scope: &'static str,
    /// Path (without cluster prefix) of a non-resource request, pending [`RequestInfo::finish`].
    non_resource_path: Option<String>,
}

impl RequestInfo {
    pub fn is_watch(&self) -> bool {
        self.verb == "WATCH"
    }

    /// Completes the labels once the status code is known: a non-resource request that answered
    /// 404 keeps no path (anyone can invent paths).
    pub fn finish(&mut self, code: u16) {
        if let Some(p) = self.non_resource_path.take()
            && code != 404
        {
            self.subresource = p;
        }
    }
}

/// Classifies a request. `known(cluster, group, version, resource)` says whether the cluster
/// exists and serves that resource (`resource` empty: whether the cluster exists).
pub fn classify(
    method: &http::Method,
    full_path: &str,
    query: Option<&str>,
    content_type: Option<&str>,
    known: impl Fn(&str, &str, &str, &str) -> bool,
) -> RequestInfo {
    let (cluster, rest) = path::split_cluster(full_path);
    let cluster = cluster.unwrap_or(crate::GLOBAL);
    let mut info = RequestInfo {
        verb: method.as_str().to_ascii_uppercase(),
        ..Default::default()
    };
    if !known(cluster, "", "", "") {
        return info;
    }
    info.cluster = cluster.to_string();
    let rp = match path::parse(rest) {
        Endpoint::Resource(rp) => rp,
        Endpoint::Health(h) => {
            info.non_resource_path = Some(format!("/{h}"));
            return info;
        }
        _ => {
            let p = rest.trim_end_matches('/');
            info.non_resource_path = Some(if p.is_empty() { "/" } else { p }.to_string());
            return info;
        }
    };
    let (watch, dry_run) = query_flags(query);
    info.dry_run = dry_run;
    info.verb = resource_verb(method, rp.name.is_some(), watch, content_type).to_string();
    info.scope = match (&rp.namespace, &rp.name) {
        (Some(_), _) => "namespace",
        (None, Some(_)) => "resource",
        (None, None) => "cluster",
    };
    if known(cluster, &rp.group, &rp.version, &rp.resource) {
        info.group = rp.group;
        info.version = rp.version;
        info.resource = rp.resource;
        info.subresource = rp
            .subresource
            .filter(|s| KNOWN_SUBRESOURCES.contains(&s.as_str()))
            .unwrap_or_default();
    }
    info
}

/// kube-apiserver's reported verb of a resource request.
fn resource_verb(
    method: &http::Method,
    named: bool,
    watch: bool,
    content_type: Option<&str>,
) -> &'static str {
    use http::Method;
    match *method {
        Method::GET if watch => "WATCH",
        Method::GET if named => "GET",
        Method::GET => "LIST",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH if content_type.is_some_and(|c| c.starts_with("application/apply-patch")) => {
            "APPLY"
        }
        Method::PATCH => "PATCH",
        Method::DELETE if named => "DELETE",
        Method::DELETE => "DELETECOLLECTION",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "UNKNOWN",
    }
}

/// `(watch, dryRun=All)` from a query string (`watch` by the same rule as the handlers':
/// [`crate::routes::query::truthy`]).
fn query_flags(query: Option<&str>) -> (bool, bool) {
    let (mut watch, mut dry_run) = (false, false);
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match &*k {
            "watch" => watch = crate::routes::query::truthy(&v),
            "dryRun" => dry_run |= v == "All",
            _ => {}
        }
    }
    (watch, dry_run)
}

/// A request series' labels: the duration series' labels plus the answer's code (last, as
/// kube-apiserver prints them).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    #[prometheus(flatten)]
    request: DurationLabels,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DurationLabels {
    cluster: String,
    verb: String,
    dry_run: &'static str,
    group: String,
    version: String,
    resource: String,
    subresource: String,
    scope: &'static str,
    component: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LongRunningLabels {
    cluster: String,
    verb: String,
    group: String,
    version: String,
    resource: String,
    subresource: String,
    scope: &'static str,
    component: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClusterLabels {
    cluster: String,
}

impl DurationLabels {
    fn of(info: &RequestInfo) -> Self {
        DurationLabels {
            cluster: info.cluster.clone(),
            verb: info.verb.clone(),
            dry_run: if info.dry_run { "All" } else { "" },
            group: info.group.clone(),
            version: info.version.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            scope: info.scope,
            component: "apiserver",
        }
    }
}

/// A snapshot of one cluster's store, taken at scrape time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StoreFigures {
    pub revision: u64,
    pub size_bytes: u64,
    pub watchers: usize,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The registry and the metric families of one control plane.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<DurationLabels, Histogram, fn() -> Histogram>,
    longrunning: Family<LongRunningLabels, Gauge>,
    store_revision: Family<ClusterLabels, Gauge>,
    store_size: Family<ClusterLabels, Gauge>,
    store_watchers: Family<ClusterLabels, Gauge>,
    /// Registries of other components rendered after ours (the controller host's).
    extra: std::sync::Mutex<Vec<std::sync::Arc<Registry>>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "apiserver_request",
            "Counter of apiserver requests broken out for each cluster, verb, dry run value, group, version, resource, scope, component, and HTTP response code",
            requests.clone(),
        );
        let durations =
            Family::<DurationLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                duration_histogram,
            );
        registry.register(
            "apiserver_request_duration_seconds",
            "Response latency distribution in seconds for each cluster, verb, dry run value, group, version, resource, subresource, scope and component (WATCH: until the watch is established)",
            durations.clone(),
        );
        let longrunning = Family::<LongRunningLabels, Gauge>::default();
        registry.register(
            "apiserver_longrunning_requests",
            "Gauge of all active long-running apiserver requests (watches) broken out by cluster, verb, group, version, resource, scope and component",
            longrunning.clone(),
        );
        let store_revision = Family::<ClusterLabels, Gauge>::default();
        registry.register(
            "marketplace_store_revision",
            "The cluster's current revision (the resourceVersion of its last write)",
            store_revision.clone(),
        );
        let store_size = Family::<ClusterLabels, Gauge>::default();
        registry.register(
            "apiserver_storage_size_bytes",
            "Size of the cluster's store on disk in bytes (database and write-ahead log)",
            store_size.clone(),
        );
        let store_watchers = Family::<ClusterLabels, Gauge>::default();
        registry.register(
            "marketplace_store_watchers",
            "Live watchers subscribed to the cluster's store",
            store_watchers.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            longrunning,
            store_revision,
            store_size,
            store_watchers,
            extra: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Renders `registry` after the control plane's own series.
    pub fn add_registry(&self, registry: std::sync::Arc<Registry>) {
        self.extra.lock().expect("metrics lock").push(registry);
    }

    /// Records one finished request (for a watch: one established watch).
    pub fn observe(&self, info: &RequestInfo, code: u16, elapsed: Duration) {
        let d = DurationLabels::of(info);
        self.durations
            .get_or_create(&d)
            .observe(elapsed.as_secs_f64());
        let r = RequestLabels {
            request: d,
            code: code.to_string(),
        };
        self.requests.get_or_create(&r).inc();
    }

    /// Counts a long-running request as open until the returned guard is dropped.
    pub fn long_running(&self, info: &RequestInfo) -> LongRunningGuard {
        let labels = LongRunningLabels {
            cluster: info.cluster.clone(),
            verb: info.verb.clone(),
            group: info.group.clone(),
            version: info.version.clone(),
            resource: info.resource.clone(),
            subresource: info.subresource.clone(),
            scope: info.scope,
            component: "apiserver",
        };
        let gauge = self.longrunning.get_or_create(&labels).clone();
        gauge.inc();
        LongRunningGuard(gauge)
    }

    /// The metrics in OpenMetrics text, with the store figures of each cluster as of now.
    pub fn render<'a>(&self, stores: impl IntoIterator<Item = (&'a str, StoreFigures)>) -> String {
        for (cluster, f) in stores {
            let l = ClusterLabels {
                cluster: cluster.to_string(),
            };
            self.store_revision
                .get_or_create(&l)
                .set(i64::try_from(f.revision).unwrap_or(i64::MAX));
            self.store_size
                .get_or_create(&l)
                .set(i64::try_from(f.size_bytes).unwrap_or(i64::MAX));
            self.store_watchers
                .get_or_create(&l)
                .set(i64::try_from(f.watchers).unwrap_or(i64::MAX));
        }
        let mut out = String::new();
        let encode = |out: &mut String| -> std::fmt::Result {
            prometheus_client::encoding::text::encode_registry(out, &self.registry)?;
            for r in self.extra.lock().expect("metrics lock").iter() {
                prometheus_client::encoding::text::encode_registry(out, r)?;
            }
            prometheus_client::encoding::text::encode_eof(out)
        };
        encode(&mut out).expect("writing metrics to a String cannot fail");
        out
    }
}

/// Keeps a long-running request counted while alive.
pub struct LongRunningGuard(Gauge);

impl Drop for LongRunningGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn known(cluster: &str, group: &str, _version: &str, resource: &str) -> bool {
        matches!(cluster, "global" | "business")
            && (resource.is_empty()
                || (group.is_empty() && resource == "configmaps")
                || (group == "apps" && resource == "deployments"))
    }

    fn cls(method: Method, path: &str, query: Option<&str>) -> RequestInfo {
        classify(&method, path, query, None, known)
    }

    #[test]
    fn verbs_as_kube_apiserver_reports_them() {
        let c = "/api/v1/namespaces/d/configmaps";
        assert_eq!(cls(Method::GET, c, None).verb, "LIST");
        assert_eq!(cls(Method::GET, c, Some("watch=true")).verb, "WATCH");
        assert_eq!(cls(Method::GET, c, Some("watch=1")).verb, "WATCH");
        assert_eq!(cls(Method::GET, c, Some("watch=false")).verb, "LIST");
        assert_eq!(cls(Method::GET, &format!("{c}/x"), None).verb, "GET");
        assert_eq!(cls(Method::POST, c, None).verb, "POST");
        assert_eq!(cls(Method::PUT, &format!("{c}/x"), None).verb, "PUT");
        assert_eq!(cls(Method::PATCH, &format!("{c}/x"), None).verb, "PATCH");
        let apply = classify(
            &Method::PATCH,
            &format!("{c}/x"),
            None,
            Some("application/apply-patch+yaml"),
            known,
        );
        assert_eq!(apply.verb, "APPLY");
        assert_eq!(cls(Method::DELETE, &format!("{c}/x"), None).verb, "DELETE");
        assert_eq!(cls(Method::DELETE, c, None).verb, "DELETECOLLECTION");
    }

    #[test]
    fn resource_labels_and_scope() {
        let i = cls(
            Method::POST,
            "/kubernetes/business/apis/apps/v1/namespaces/d/deployments",
            Some("dryRun=All"),
        );
        assert_eq!(
            (
                i.cluster.as_str(),
                i.group.as_str(),
                i.version.as_str(),
                i.resource.as_str(),
                i.scope,
                i.dry_run
            ),
            ("business", "apps", "v1", "deployments", "namespace", true)
        );
        assert_eq!(
            cls(Method::GET, "/api/v1/configmaps", None).scope,
            "cluster"
        );
        let ns = cls(
            Method::GET,
            "/api/v1/namespaces/d/configmaps/x/status",
            None,
        );
        assert_eq!((ns.scope, ns.subresource.as_str()), ("namespace", "status"));
    }

    #[test]
    fn unknown_names_do_not_become_labels() {
        let i = cls(Method::GET, "/apis/evil.example/v1/things-1234", None);
        assert_eq!((i.group.as_str(), i.resource.as_str()), ("", ""));
        assert_eq!(i.cluster, "global");
        let i = cls(Method::GET, "/kubernetes/nope-42/api/v1/configmaps", None);
        assert_eq!((i.cluster.as_str(), i.resource.as_str()), ("", ""));
        let i = cls(
            Method::GET,
            "/api/v1/namespaces/d/configmaps/x/random-42",
            None,
        );
        assert_eq!(
            (i.resource.as_str(), i.subresource.as_str()),
            ("configmaps", "")
        );
        let mut i = cls(Method::GET, "/apis/made-up-group-42", None);
        i.finish(404);
        assert_eq!((i.verb.as_str(), i.subresource.as_str()), ("GET", ""));
    }

    #[test]
    fn non_resource_requests_keep_their_path() {
        let mut i = cls(Method::GET, "/kubernetes/business/apis/", None);
        i.finish(200);
        assert_eq!(
            (
                i.cluster.as_str(),
                i.verb.as_str(),
                i.subresource.as_str(),
                i.scope
            ),
            ("business", "GET", "/apis", "")
        );
        let mut h = cls(Method::GET, "/healthz/anything/else", None);
        h.finish(200);
        assert_eq!(h.subresource, "/healthz");
    }

    #[test]
    fn render_counts_requests_with_kube_apiserver_names_and_buckets() {
        let m = Metrics::new();
        let mut i = cls(Method::POST, "/api/v1/namespaces/d/configmaps", None);
        i.finish(201);
        m.observe(&i, 201, Duration::from_millis(3));
        m.observe(&i, 201, Duration::from_millis(30));
        let w = cls(Method::GET, "/api/v1/configmaps", Some("watch=1"));
        let guard = m.long_running(&w);
        let text = m.render([(
            "global",
            StoreFigures {
                revision: 42,
                size_bytes: 4096,
                watchers: 1,
            },
        )]);
        let series = |name: &str| -> Vec<&str> {
            text.lines()
                .filter(|l| l.starts_with(name) && !l.starts_with('#'))
                .collect()
        };
        let total = series("apiserver_request_total{");
        assert_eq!(total.len(), 1, "{text}");
        assert!(total[0].contains(r#"verb="POST""#) && total[0].contains(r#"code="201""#));
        assert!(total[0].contains(r#"resource="configmaps""#) && total[0].ends_with(" 2"));
        let b = series("apiserver_request_duration_seconds_bucket{");
        assert_eq!(b.len(), DURATION_BUCKETS.len() + 1, "{text}");
        let le = |v: &str| {
            b.iter()
                .find(|l| l.contains(&format!(r#"le="{v}""#)))
                .unwrap_or_else(|| panic!("no bucket {v}: {text}"))
                .rsplit(' ')
                .next()
                .unwrap()
                .to_string()
        };
        assert_eq!(
            (le("0.005"), le("0.025"), le("0.05")),
            ("1".into(), "1".into(), "2".into())
        );
        let open = series("apiserver_longrunning_requests{");
        assert!(
            open[0].contains(r#"verb="WATCH""#) && open[0].ends_with(" 1"),
            "{text}"
        );
        drop(guard);
        let text = m.render([]);
        assert!(text.contains("apiserver_longrunning_requests{") && !text.contains("apiserver_longrunning_requests{cluster=\"global\",verb=\"WATCH\",group=\"\",version=\"v1\",resource=\"configmaps\",subresource=\"\",scope=\"cluster\",component=\"apiserver\"} 1"), "{text}");
        assert!(
            text.contains(r#"marketplace_store_revision{cluster="global"} 42"#),
            "{text}"
        );
        assert!(
            text.contains(r#"apiserver_storage_size_bytes{cluster="global"} 4096"#),
            "{text}"
        );
    }
}
