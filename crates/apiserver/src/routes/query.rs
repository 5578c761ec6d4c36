//! Query parameters of API requests (list/watch, create/update/patch, delete), parsed from the raw
//! query string. Unknown parameters are ignored, as kube-apiserver does.

/// Options of list, watch and get requests and of writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub watch: bool,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub resource_version: Option<String>,
    pub resource_version_match: Option<String>,
    pub allow_watch_bookmarks: bool,
    pub send_initial_events: Option<bool>,
    pub timeout_seconds: Option<u64>,
    pub field_manager: Option<String>,
    pub field_validation: Option<String>,
    pub dry_run: bool,
    pub force: bool,
    pub propagation_policy: Option<String>,
    pub grace_period_seconds: Option<i64>,
    pub orphan_dependents: Option<bool>,
    pub include_object: Option<String>,
    pub pretty: bool,
    /// `pods/log`'s `container`.
    pub container: Option<String>,
}

/// A boolean query parameter as kube-apiserver decodes it (`Convert_Slice_string_To_bool`): any
/// value but `0` or `false` (any case) is true, the empty value too. The one rule for every
/// boolean parameter, also the request metrics' WATCH classification (`metrics::query_flags`).
pub fn truthy(v: &str) -> bool {
    !v.eq_ignore_ascii_case("false") && v != "0"
}

/// Error for a parameter whose value cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid query parameter {name}={value:?}: {reason}")]
pub struct QueryError {
    pub name: String,
    pub value: String,
    pub reason: String,
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Result<Query, QueryError> {
        let mut q = Query::default();
        let Some(raw) = raw else { return Ok(q) };
        for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
            let v = v.into_owned();
            let bad = |reason: &str| QueryError {
                name: k.to_string(),
                value: v.clone(),
                reason: reason.into(),
            };
            match k.as_ref() {
                "watch" => q.watch = truthy(&v),
                "labelSelector" => q.label_selector = Some(v).filter(|s| !s.is_empty()),
                "fieldSelector" => q.field_selector = Some(v).filter(|s| !s.is_empty()),
                "limit" => {
                    let n: i64 = v.parse().map_err(|_| bad("must be an integer"))?;
                    q.limit = (n > 0).then_some(n as usize);
                }
                "continue" => q.continue_token = Some(v).filter(|s| !s.is_empty()),
                "resourceVersion" => q.resource_version = Some(v).filter(|s| !s.is_empty()),
                "resourceVersionMatch" => {
                    q.resource_version_match = Some(v).filter(|s| !s.is_empty())
                }
                "allowWatchBookmarks" => q.allow_watch_bookmarks = truthy(&v),
                "sendInitialEvents" => q.send_initial_events = Some(truthy(&v)),
                "timeoutSeconds" => {
                    q.timeout_seconds = Some(
                        v.parse()
                            .map_err(|_| bad("must be a non-negative integer"))?,
                    )
                }
                "fieldManager" => q.field_manager = Some(v).filter(|s| !s.is_empty()),
                "fieldValidation" => {
                    if !matches!(v.as_str(), "" | "Strict" | "Warn" | "Ignore") {
                        return Err(bad("must be one of Strict, Warn, Ignore"));
                    }
                    q.field_validation = Some(v).filter(|s| !s.is_empty())
                }
                "dryRun" => {
                    if !matches!(v.as_str(), "All" | "") {
                        return Err(bad("only dryRun=All is supported"));
                    }
                    q.dry_run = v == "All"
                }
                "force" => q.force = truthy(&v),
                "propagationPolicy" => q.propagation_policy = Some(v).filter(|s| !s.is_empty()),
                "gracePeriodSeconds" => q.grace_period_seconds = v.parse().ok(),
                "orphanDependents" => q.orphan_dependents = Some(truthy(&v)),
                "includeObject" => q.include_object = Some(v).filter(|s| !s.is_empty()),
                "pretty" => q.pretty = truthy(&v),
                "container" => q.container = Some(v).filter(|s| !s.is_empty()),
                _ => {}
            }
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kubectl_wait_watch_query() {
        let q = Query::parse(Some(
            "allowWatchBookmarks=true&fieldSelector=metadata.name%3Dw1&resourceVersion=12&timeoutSeconds=403&watch=true",
        ))
        .unwrap();
        assert!(q.watch && q.allow_watch_bookmarks);
        assert_eq!(q.field_selector.as_deref(), Some("metadata.name=w1"));
        assert_eq!(q.resource_version.as_deref(), Some("12"));
        assert_eq!(q.timeout_seconds, Some(403));
    }

    #[test]
    fn booleans_follow_kube_apiservers_rule() {
        for yes in ["true", "1", "yes", "TRUE", "t", ""] {
            assert!(
                Query::parse(Some(&format!("watch={yes}"))).unwrap().watch,
                "{yes:?}"
            );
        }
        for no in ["false", "0", "False", "FALSE"] {
            assert!(
                !Query::parse(Some(&format!("watch={no}"))).unwrap().watch,
                "{no:?}"
            );
        }
        assert!(!Query::parse(Some("limit=5")).unwrap().watch);
    }

    #[test]
    fn rejects_bad_values() {
        assert!(Query::parse(Some("limit=x")).is_err());
        assert!(Query::parse(Some("fieldValidation=Loose")).is_err());
        assert!(Query::parse(Some("dryRun=Some")).is_err());
        assert_eq!(Query::parse(Some("limit=0")).unwrap().limit, None);
    }
}
