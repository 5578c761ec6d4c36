//! get and list: selectors, `limit`/`continue`, `resourceVersion` semantics, Tables, and lists as
//! `PartialObjectMetadataList` (a get's `PartialObjectMetadata` is made by `handlers::handle`).
//!
//! List consistency, as with etcd: the first page is read at the store's current revision; its
//! `continue` token carries the position (last examined namespace/name) and that revision, and
//! later pages are read at the same revision (the store undoes later changes from its watch
//! history), so a paged list is one snapshot. A token whose revision was compacted answers 410
//! Expired with kube-apiserver's message and, in the Status's `metadata.continue`, a token that
//! continues at the current state (revision `-1`, as kube-apiserver's). `resourceVersion=0` and
//! `resourceVersionMatch=NotOlderThan` are served from the current state;
//! `resourceVersionMatch=Exact` is served at that revision while the history holds it.

pub(crate) mod stream;

use apimachinery::fields::FieldSelector;
use apimachinery::labels::Selector;
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};
use store::ListQuery;

use super::Ctx;
use crate::cluster::{blocking, store_error};
use crate::error::{ApiError, ApiResult};
use crate::routes::json_response_with;

/// The parsed label and field selectors of a request.
pub struct Selectors {
    pub labels: Selector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn parse(ctx: &Ctx) -> ApiResult<Selectors> {
        let labels = match &ctx.query.label_selector {
            Some(s) => Selector::parse(s).map_err(|e| {
                ApiError::bad_request(format!("unable to parse requirement: {}", e.0))
            })?,
            None => Selector::everything(),
        };
        let mut fields = match &ctx.query.field_selector {
            Some(s) => FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?,
            None => FieldSelector::parse("").expect("empty selector parses"),
        };
        // events.k8s.io Events are stored as core/v1 Events: select on the core field names.
        if apiresources::catalogue::shared_storage(&ctx.info.group, &ctx.info.plural).is_some() {
            crate::events::to_core_field_selector(&mut fields)?;
        }
        let kind = if ctx.info.is_builtin() {
            ctx.info.kind.as_str()
        } else {
            ""
        };
        fields
            .check_supported(kind)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Selectors { labels, fields })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches_object(obj) && self.fields.matches(obj)
    }
}

/// The object `ctx` names, at the requested version, or 404.
pub async fn fetch(ctx: &Ctx) -> ApiResult<Value> {
    let name = ctx.name.clone().unwrap_or_default();
    let key = ctx.key(&name);
    let store = ctx.cluster.store.clone();
    let got = blocking(move || store.get(&key))
        .await
        .map_err(|e| store_error(e, &ctx.info, &name))?;
    match got {
        Some(stored) => Ok(ctx.present(stored.value)),
        None => Err(ApiError::not_found(
            &ctx.info.group,
            &ctx.info.plural,
            &name,
        )),
    }
}

/// GET one object (or, for a projected resource, the copy shown under that name).
pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let obj = match fetch(&ctx).await {
        Err(e)
            if e.code() == 404 && matches!(ctx.subresource.as_deref(), None | Some("status")) =>
        {
            match super::projected::projection_of(&ctx) {
                Some(p) => match super::projected::get_copy(&ctx, p).await? {
                    Some(copy) => ctx.present(copy),
                    None => return Err(e),
                },
                None => return Err(e),
            }
        }
        r => r?,
    };
    if ctx.wants_table() {
        let rv = obj["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let t = crate::tables::table(
            &ctx.info,
            &[obj],
            ctx.query.include_object.as_deref(),
            &rv,
            "",
        );
        return Ok(json_response_with(
            http::StatusCode::OK,
            crate::tables::TABLE_CONTENT_TYPE,
            &t,
        ));
    }
    Ok(json_response_with(
        http::StatusCode::OK,
        "application/json",
        &obj,
    ))
}

/// A `continue` token: the snapshot revision of the list and the key to resume after.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Continue {
    /// The first page's revision; `-1`: continue at the current state (after a compaction).
    pub rv: i64,
    pub ns: String,
    pub name: String,
}

pub(crate) fn encode_continue(c: &Continue) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(c).expect("serializes"))
}

pub(crate) fn decode_continue(s: &str) -> ApiResult<Continue> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "continue token {s:?} is not valid: pass the token of the previous page unchanged"
            ))
        })
}

/// The result of reading a (filtered) list.
pub struct ListResult {
    pub items: Vec<Value>,
    pub revision: u64,
    pub continue_token: Option<String>,
}

/// Reads matching objects (paged by `limit`/`continue` when asked), at revision `at` when given
/// (else at the current one); a continue token's revision overrides `at`.
pub async fn read_list(ctx: &Ctx, sel: Selectors, mut at: Option<u64>) -> ApiResult<ListResult> {
    let mut start = None;
    if let Some(tok) = &ctx.query.continue_token {
        let c = decode_continue(tok)?;
        at = u64::try_from(c.rv).ok();
        start = Some((c.ns, c.name));
    }
    let resume_from = start.clone();
    let limit = ctx.query.limit;
    let resource = ctx.info.resource_key();
    let namespace = ctx.namespace.clone();
    let store = ctx.cluster.store.clone();
    let pinned = sel.fields.pinned_name().map(str::to_string);
    let info = ctx.info.clone();
    let res = blocking(move || -> Result<ListResult, store::StoreError> {
        // A pinned name (kubectl wait) reads one key when the namespace is known.
        if let (Some(name), Some(ns)) = (
            &pinned,
            namespace
                .as_ref()
                .or((!info.namespaced()).then_some(&String::new())),
        ) && start.is_none()
        {
            // The revision before the read: a write of this key after it is an event a watch
            // from it replays. One read after the get could include a write the get missed, and
            // a watch from there would never see it. The key's own revision may be newer (written
            // in between): nothing happened to it between the two, so the later one is as safe.
            let before = store.revision();
            let got = store.get(&store::Key::new(resource.clone(), ns.clone(), name.clone()))?;
            let revision = got.as_ref().map_or(before, |s| s.revision.max(before));
            let items: Vec<Value> = got
                .into_iter()
                .map(|s| s.value)
                .filter(|v| sel.matches(v))
                .collect();
            return Ok(ListResult {
                items,
                revision,
                continue_token: None,
            });
        }
        // One snapshot per page: the selector is applied inside the store's read, so the items
        // are consistent with the page's revision.
        let q = ListQuery {
            resource,
            namespace,
            start_after: start,
            limit,
        };
        let page = match at {
            Some(at) => store.list_matching_at(&q, at, |v| sel.matches(v))?,
            None => store.list_matching(&q, |v| sel.matches(v))?,
        };
        let token = if limit.is_some() && page.more {
            page.next_start().map(|(ns, name)| {
                encode_continue(&Continue {
                    rv: page.revision as i64,
                    ns,
                    name,
                })
            })
        } else {
            None
        };
        Ok(ListResult {
            items: page.items.into_iter().map(|s| s.value).collect(),
            revision: page.revision,
            continue_token: token,
        })
    })
    .await
    .map_err(|e| match (e, resume_from) {
        // The snapshot of a paged list was compacted: offer to go on at the current state.
        (store::StoreError::Expired { .. }, Some((ns, name))) => ApiError::ExpiredContinue {
            continue_token: encode_continue(&Continue { rv: -1, ns, name }),
        },
        (e, _) => store_error(e, &ctx.info, ""),
    })?;
    Ok(res)
}

/// Checks `resourceVersion`/`resourceVersionMatch` of a list; `Some(rv)` for an `Exact` read at
/// a revision.
fn check_list_rv(ctx: &Ctx) -> ApiResult<Option<u64>> {
    let Some(rv) = ctx.query.resource_version.as_deref() else {
        if ctx.query.resource_version_match.is_some() {
            return Err(ApiError::bad_request(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        return Ok(None);
    };
    let requested: u64 = rv.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid resourceVersion {rv:?}: must be an integer"
        ))
    })?;
    if ctx.query.resource_version_match.as_deref() == Some("Exact") {
        let current = ctx.cluster.store.revision();
        if requested > current {
            return Err(ApiError::Other {
                code: 504,
                reason: "Timeout".into(),
                message: format!("Too large resource version: {requested}, current: {current}"),
                causes: Vec::new(),
            });
        }
        return Ok(Some(requested));
    }
    Ok(None)
}

/// GET a collection. Without `limit` the list is streamed object by object (the private `stream` module); a page
/// of a paged list (bounded by its `limit`) is collected, as its `continue` token comes first.
pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    ctx.output()?.check_list(&ctx.go_type(true))?;
    let at = check_list_rv(&ctx)?;
    let sel = Selectors::parse(&ctx)?;
    if let Some(p) = super::projected::projection_of(&ctx) {
        return super::projected::list(ctx, p, sel, at).await;
    }
    if ctx.query.limit.is_none() && sel.fields.pinned_name().is_none() {
        return stream::serve(ctx, sel, at).await;
    }
    let res = read_list(&ctx, sel, at).await?;
    Ok(page_response(
        &ctx,
        res.items,
        res.revision,
        res.continue_token,
    ))
}

/// One collected page of a list as the client asked for it: a Table, or the resource's List
/// with the page's resourceVersion and `continue` token.
pub(crate) fn page_response(
    ctx: &Ctx,
    items: Vec<Value>,
    revision: u64,
    continue_token: Option<String>,
) -> Response {
    let rv = revision.to_string();
    if let Some(v) = ctx.wants_metadata() {
        let items = items
            .into_iter()
            .map(|o| apimachinery::metadata::into_partial_object_metadata(o, v))
            .collect();
        let list = apimachinery::metadata::partial_object_metadata_list(
            items,
            &rv,
            continue_token.as_deref(),
            v,
        );
        return json_response_with(http::StatusCode::OK, "application/json", &list);
    }
    let items: Vec<Value> = items.into_iter().map(|o| ctx.present(o)).collect();
    if ctx.wants_table() {
        let t = crate::tables::table(
            &ctx.info,
            &items,
            ctx.query.include_object.as_deref(),
            &rv,
            continue_token.as_deref().unwrap_or(""),
        );
        return json_response_with(http::StatusCode::OK, crate::tables::TABLE_CONTENT_TYPE, &t);
    }
    let mut meta = json!({ "resourceVersion": rv });
    if let Some(c) = continue_token {
        meta["continue"] = Value::String(c);
    }
    let list = json!({
        "kind": ctx.info.list_kind,
        "apiVersion": ctx.info.api_version(),
        "metadata": meta,
        "items": items,
    });
    json_response_with(http::StatusCode::OK, "application/json", &list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_round_trip_and_reject_garbage() {
        let t = encode_continue(&Continue {
            rv: 7,
            ns: "a".into(),
            name: "b".into(),
        });
        let c = decode_continue(&t).unwrap();
        assert_eq!((c.rv, c.ns.as_str(), c.name.as_str()), (7, "a", "b"));
        assert_eq!(decode_continue("!!").unwrap_err().code(), 400);
    }
}
