//! Computed resources on a real cluster: a standalone HTTPS server answering what kube-aggregator
//! asks an extension API server behind an APIService (`/apis`, `/apis/<g>`, `/apis/<g>/<v>`, the
//! resources, `/openapi/v2`, `/openapi/v3`, `/healthz`), and the manifests registering it.
//!
//! Requests are answered by the same code as in the embedded control plane ([`super::serve`]).
//! Not done: delegated authentication/authorization (kube-aggregator's front-proxy client
//! certificate is not checked, so anyone who reaches the Service can read the objects; keep the
//! Service cluster-internal).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use apiresources::ResourceInfo;
use apiresources::openapi::OpenApiV3;
use axum::extract::State;
use axum::response::Response;
use computed::{Provider, ResourceDescription, Tracker};
use http::Method;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::{Request, resource_info, serve};
use crate::error::{ApiError, ApiResult};
use crate::routes::{json_response, negotiated_discovery, path, query, text};

/// Label the Service of [`aggregated_manifests`] selects the serving Pods by.
pub const SELECTOR_LABEL: (&str, &str) = ("app.kubernetes.io/name", "marketplace-controllers");

/// Why the aggregated server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AggregatedError {
    #[error("cannot serve computed resource: {0}")]
    Provider(#[from] computed::ProviderError),
    #[error(
        "two providers serve {0}; each computed resource (group, version, plural) needs one provider"
    )]
    Duplicate(String),
    #[error(transparent)]
    Start(#[from] crate::StartError),
}

struct Aggregated {
    resources: Vec<ResourceInfo>,
    trackers: BTreeMap<(String, String, String), Arc<Tracker>>,
    openapi: Arc<OpenApiV3>,
    shutdown: CancellationToken,
}

/// A running aggregated API server.
pub struct AggregatedServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl AggregatedServer {
    /// The bound address (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the server stopped (after `shutdown` was cancelled).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Serves `providers` on `listen` (TLS when `tls` is given, as kube-aggregator requires) until
/// `shutdown` is cancelled.
pub async fn serve_aggregated(
    providers: Vec<Arc<dyn Provider>>,
    listen: SocketAddr,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> Result<AggregatedServer, AggregatedError> {
    let mut resources = Vec::new();
    let mut trackers = BTreeMap::new();
    for p in providers {
        let t = Tracker::new(p)?;
        let info = resource_info(t.description());
        let key = (
            info.group.clone(),
            info.version.clone(),
            info.plural.clone(),
        );
        if trackers.insert(key, t.clone()).is_some() {
            return Err(AggregatedError::Duplicate(info.group_resource()));
        }
        resources.push(info);
        tokio::spawn(t.follow(shutdown.clone()));
    }
    let openapi = Arc::new(OpenApiV3::build(&resources));
    let state = Arc::new(Aggregated {
        resources,
        trackers,
        openapi,
        shutdown: shutdown.clone(),
    });
    let router = axum::Router::new()
        .fallback(handle)
        .with_state(state)
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            crate::error::panic_response,
        ));
    let listener = crate::server::bind(listen).await?;
    let addr = listener
        .local_addr()
        .map_err(|source| crate::StartError::Bind {
            addr: listen,
            source,
        })?;
    let task = tokio::spawn(crate::server::run(listener, tls, router, shutdown));
    tracing::info!(%addr, "serving computed resources as an aggregated API");
    Ok(AggregatedServer { addr, task })
}

async fn handle(State(a): State<Arc<Aggregated>>, req: axum::extract::Request) -> Response {
    match route(a, req).await {
        Ok(r) => r,
        Err(e) => crate::error::error_response(&e),
    }
}

async fn route(a: Arc<Aggregated>, req: axum::extract::Request) -> ApiResult<Response> {
    let (parts, _) = req.into_parts();
    let header = |h: http::HeaderName| {
        parts
            .headers
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let accept = header(http::header::ACCEPT);
    let endpoint = path::parse(parts.uri.path());
    if parts.method != Method::GET && !matches!(endpoint, path::Endpoint::Resource(_)) {
        return Err(ApiError::method_not_allowed(
            parts.method.as_str(),
            parts.uri.path(),
        ));
    }
    let res = &a.resources;
    match endpoint {
        path::Endpoint::Health(_) => Ok(text("ok")),
        path::Endpoint::Version => Ok(json_response(crate::routes::version())),
        path::Endpoint::Groups => Ok(negotiated_discovery(
            accept.as_deref(),
            || apiresources::discovery::aggregated_groups(res),
            || apiresources::discovery::api_group_list(res),
        )),
        path::Endpoint::Group(g) => apiresources::discovery::api_group(res, &g)
            .map(json_response)
            .ok_or(ApiError::UnknownResource),
        path::Endpoint::ResourceList { group, version } => {
            apiresources::discovery::api_resource_list(res, &group, &version)
                .map(json_response)
                .ok_or(ApiError::UnknownResource)
        }
        path::Endpoint::OpenApiRoot => Ok(json_response(a.openapi.root())),
        path::Endpoint::OpenApiGroupVersion(gv) => a
            .openapi
            .document(&gv)
            .cloned()
            .map(json_response)
            .ok_or(ApiError::UnknownResource),
        path::Endpoint::OpenApiV2 => {
            crate::routes::openapi_v2(
                a.openapi.clone(),
                accept.as_deref(),
                header(http::header::IF_NONE_MATCH).as_deref(),
            )
            .await
        }
        path::Endpoint::Resource(rp) => {
            let key = (rp.group.clone(), rp.version.clone(), rp.resource.clone());
            let (Some(tracker), Some(info)) = (
                a.trackers.get(&key).cloned(),
                res.iter()
                    .find(|r| (&r.group, &r.version, &r.plural) == (&key.0, &key.1, &key.2)),
            ) else {
                return Err(ApiError::UnknownResource);
            };
            if rp.subresource.is_some() || (!info.namespaced() && rp.namespace.is_some()) {
                return Err(ApiError::UnknownResource);
            }
            let query = query::Query::parse(parts.uri.query())
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let req = Request {
                info: info.clone(),
                namespace: rp.namespace,
                name: rp.name,
                query,
                headers: parts.headers.clone(),
                shutdown: a.shutdown.clone(),
            };
            serve(tracker, req, &parts.method).await
        }
        path::Endpoint::CoreVersions | path::Endpoint::NotFound => Err(ApiError::UnknownResource),
    }
}

/// Where the aggregated server runs in the cluster, for [`aggregated_manifests`].
#[derive(Debug, Clone)]
pub struct Placement<'a> {
    pub namespace: &'a str,
    pub service: &'a str,
    /// The port the server listens on in its Pod (the Service answers on 443).
    pub target_port: u16,
    /// The CA that signed the serving certificate (PEM); without it the APIService skips TLS
    /// verification (`insecureSkipTLSVerify`).
    pub ca_pem: Option<&'a str>,
}

/// The Service and one APIService per group/version, as YAML documents for `kubectl apply -f -`.
pub fn aggregated_manifests(descriptions: &[ResourceDescription], at: &Placement<'_>) -> String {
    use base64::Engine;
    let mut docs = vec![json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": at.service, "namespace": at.namespace},
        "spec": {
            "selector": {SELECTOR_LABEL.0: SELECTOR_LABEL.1},
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": at.target_port}],
        },
    })];
    let mut group_versions: Vec<(&str, &str)> = descriptions
        .iter()
        .map(|d| (d.group.as_str(), d.version.as_str()))
        .collect();
    group_versions.sort();
    group_versions.dedup();
    for (group, version) in group_versions {
        let mut spec = json!({
            "group": group, "version": version,
            "service": {"namespace": at.namespace, "name": at.service, "port": 443},
            "groupPriorityMinimum": 2000, "versionPriority": 15,
        });
        match at.ca_pem {
            Some(ca) => {
                spec["caBundle"] =
                    json!(base64::engine::general_purpose::STANDARD.encode(ca.as_bytes()))
            }
            None => spec["insecureSkipTLSVerify"] = json!(true),
        }
        docs.push(json!({
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": {"name": format!("{version}.{group}")},
            "spec": spec,
        }));
    }
    docs.iter()
        .map(|d| serde_yaml::to_string(d).expect("manifests serialize"))
        .collect::<Vec<_>>()
        .join("---\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(group: &str, plural: &str) -> ResourceDescription {
        ResourceDescription {
            group: group.into(),
            version: "v1".into(),
            kind: "PackageManifest".into(),
            plural: plural.into(),
            singular: "packagemanifest".into(),
            short_names: vec![],
            categories: vec![],
            scope: computed::Scope::Namespaced,
            schema: json!({"type": "object"}),
            printer_columns: vec![],
            global_namespaces: vec![],
        }
    }

    #[test]
    fn manifests_hold_one_service_and_one_apiservice_per_group_version() {
        let at = Placement {
            namespace: "marketplace-system",
            service: "marketplace-computed",
            target_port: 8443,
            ca_pem: Some("PEM"),
        };
        let out = aggregated_manifests(
            &[
                desc("packages.operators.coreos.com", "packagemanifests"),
                desc("packages.operators.coreos.com", "others"),
            ],
            &at,
        );
        let docs: Vec<serde_json::Value> = out
            .split("---\n")
            .map(|d| serde_yaml::from_str(d).unwrap())
            .collect();
        assert_eq!(docs.len(), 2, "{out}");
        assert_eq!(docs[0]["kind"], "Service");
        assert_eq!(docs[0]["spec"]["ports"][0]["targetPort"], 8443);
        assert_eq!(
            docs[1]["metadata"]["name"],
            "v1.packages.operators.coreos.com"
        );
        assert_eq!(docs[1]["spec"]["caBundle"], "UEVN");
        assert_eq!(docs[1]["spec"]["service"]["name"], "marketplace-computed");
        let insecure = aggregated_manifests(
            &[desc("a.example.com", "xs")],
            &Placement { ca_pem: None, ..at },
        );
        assert!(
            insecure.contains("insecureSkipTLSVerify: true"),
            "{insecure}"
        );
    }
}
