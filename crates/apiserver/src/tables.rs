//! Table responses (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): picks the columns for a
//! resource (CRD `additionalPrinterColumns`, or the built-in printers) and delegates the rendering
//! to `apimachinery::table`.

use apimachinery::table::{IncludeObject, TableKind, TableOptions, build_table};
use apiresources::ResourceInfo;
use serde_json::{Value, json};

/// The content type of Table responses.
pub const TABLE_CONTENT_TYPE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io";

/// The CRD printer columns of `info` as the `additionalPrinterColumns` JSON.
fn printer_columns(info: &ResourceInfo) -> Value {
    Value::Array(
        info.printer_columns
            .iter()
            .map(|c| {
                json!({
                    "name": c.name, "type": c.type_, "format": c.format, "description": c.description,
                    "priority": c.priority, "jsonPath": c.json_path.clone().unwrap_or_default(),
                })
            })
            .collect(),
    )
}

/// Renders objects as a Table.
pub fn table<V: std::borrow::Borrow<Value>>(
    info: &ResourceInfo,
    objects: &[V],
    include: Option<&str>,
    rv: &str,
    cont: &str,
) -> Value {
    let cols = printer_columns(info);
    let kind = if info.is_builtin() {
        TableKind::Builtin(&info.kind)
    } else {
        TableKind::Custom {
            printer_columns: if info.printer_columns.is_empty() {
                None
            } else {
                Some(&cols)
            },
        }
    };
    let opts = TableOptions {
        kind,
        include_object: include.and_then(IncludeObject::parse).unwrap_or_default(),
        no_headers: false,
        now: apimachinery::meta::Timestamp::now(),
        resource_version: rv,
        continue_token: cont,
    };
    build_table(objects, &opts)
}
