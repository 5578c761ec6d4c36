//! `violet show`: the documented fields (Name, Type, Arch, Version; with `--all` Artifact and
//! RelateImages) as text in the documentation's shape, or JSON.

use package::Metadata;
use serde_json::{Value, json};

/// Go's `fmt` rendering of a string slice: `[a b c]`.
fn go_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    format!("[{}]", items.collect::<Vec<_>>().join(" "))
}

pub fn text(m: &Metadata, all: bool) -> String {
    let mut out = format!(
        "Name: {}\nType: {}\nArch: {}\nVersion: {}\n",
        m.display_name,
        m.kind,
        go_list(m.architectures.iter().map(String::as_str)),
        m.version.strip_prefix('v').unwrap_or(&m.version),
    );
    if all {
        out.push_str(&format!("Artifact: {}\n", m.artifact.reference));
        out.push_str(&format!(
            "RelateImages: {}\n",
            go_list(m.related_images.iter().map(|i| i.reference.as_str()))
        ));
    }
    out
}

pub fn json(m: &Metadata, all: bool) -> Value {
    let mut v = json!({
        "Name": m.display_name,
        "Type": m.kind.as_str(),
        "Arch": m.architectures,
        "Version": m.version.strip_prefix('v').unwrap_or(&m.version),
    });
    if all {
        v["Artifact"] = json!(m.artifact.reference);
        v["RelateImages"] = json!(
            m.related_images
                .iter()
                .map(|i| &i.reference)
                .collect::<Vec<_>>()
        );
    }
    v
}
