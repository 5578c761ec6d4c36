//! get and list: selectors, `limit`/`continue`, `resourceVersion` semantics, Tables.
//!
//! List consistency: each page is read at the store's current revision. A `continue` token carries
//! the position (last returned namespace/name) and the revision of the first page; later pages
//! continue from that position at the then-current revision (the store keeps no MVCC snapshots).
//! `resourceVersion=0` and `resourceVersionMatch=NotOlderThan` are served from the current state;
//! `resourceVersionMatch=Exact` with a revision other than the current one answers 410 Expired.

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
        let fields = match &ctx.query.field_selector {
            Some(s) => FieldSelector::parse(s).map_err(|e| ApiError::bad_request(e.to_string()))?,
            None => FieldSelector::parse("").expect("empty selector parses"),
        };
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

/// GET one object.
pub async fn get(ctx: Ctx) -> ApiResult<Response> {
    let name = ctx.name.clone().unwrap_or_default();
    let key = ctx.key(&name);
    let store = ctx.cluster.store.clone();
    let got = blocking(move || store.get(&key))
        .await
        .map_err(|e| store_error(e, &ctx.info, &name))?;
    let Some(stored) = got else {
        return Err(ApiError::not_found(
            &ctx.info.group,
            &ctx.info.plural,
            &name,
        ));
    };
    let obj = ctx.present(stored.value);
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

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Continue {
    rv: u64,
    ns: String,
    name: String,
}

fn encode_continue(c: &Continue) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(c).expect("serializes"))
}

fn decode_continue(s: &str) -> ApiResult<Continue> {
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

/// Reads matching objects (paged by `limit`/`continue` when asked).
pub async fn read_list(ctx: &Ctx, sel: Selectors) -> ApiResult<ListResult> {
    let mut start = None;
    if let Some(tok) = &ctx.query.continue_token {
        let c = decode_continue(tok)?;
        start = Some((c.ns, c.name));
    }
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
            let rev = store.revision();
            let got = store.get(&store::Key::new(resource.clone(), ns.clone(), name.clone()))?;
            let items: Vec<Value> = got
                .into_iter()
                .map(|s| s.value)
                .filter(|v| sel.matches(v))
                .collect();
            return Ok(ListResult {
                items,
                revision: rev.max(store.revision()),
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
        let page = store.list_matching(&q, |v| sel.matches(v))?;
        let token = if limit.is_some() && page.more {
            page.next_start().map(|(ns, name)| {
                encode_continue(&Continue {
                    rv: page.revision,
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
    .map_err(|e| store_error(e, &ctx.info, ""))?;
    Ok(res)
}

/// Checks `resourceVersion`/`resourceVersionMatch` of a list against the current revision.
fn check_list_rv(ctx: &Ctx) -> ApiResult<()> {
    let Some(rv) = ctx.query.resource_version.as_deref() else {
        if ctx.query.resource_version_match.is_some() {
            return Err(ApiError::bad_request(
                "resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        return Ok(());
    };
    let requested: u64 = rv.parse().map_err(|_| {
        ApiError::bad_request(format!(
            "invalid resourceVersion {rv:?}: must be an integer"
        ))
    })?;
    if ctx.query.resource_version_match.as_deref() == Some("Exact") {
        let current = ctx.cluster.store.revision();
        if requested != current {
            return Err(ApiError::Expired(format!(
                "too old resource version: {requested} ({current}); this server serves lists at the current revision only"
            )));
        }
    }
    Ok(())
}

/// GET a collection.
pub async fn list(ctx: Ctx) -> ApiResult<Response> {
    check_list_rv(&ctx)?;
    let sel = Selectors::parse(&ctx)?;
    let res = read_list(&ctx, sel).await?;
    let items: Vec<Value> = res.items.into_iter().map(|o| ctx.present(o)).collect();
    let rv = res.revision.to_string();
    if ctx.wants_table() {
        let t = crate::tables::table(
            &ctx.info,
            &items,
            ctx.query.include_object.as_deref(),
            &rv,
            res.continue_token.as_deref().unwrap_or(""),
        );
        return Ok(json_response_with(
            http::StatusCode::OK,
            crate::tables::TABLE_CONTENT_TYPE,
            &t,
        ));
    }
    let mut meta = json!({ "resourceVersion": rv });
    if let Some(c) = res.continue_token {
        meta["continue"] = Value::String(c);
    }
    let list = json!({
        "kind": ctx.info.list_kind,
        "apiVersion": ctx.info.api_version(),
        "metadata": meta,
        "items": items,
    });
    Ok(json_response_with(
        http::StatusCode::OK,
        "application/json",
        &list,
    ))
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
