//! `lookup` is answered by the render's pluggable hook (a live cluster during an install), and is an
//! empty map without one, as in `helm template`.

use std::sync::Arc;

use serde_json::json;

fn chart(dir: &std::path::Path) -> helm::Chart {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: lk\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("templates/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lk\ndata:\n  {{- $s := lookup \"v1\" \"Secret\" .Release.Namespace \"db\" }}\n  found: {{ empty $s | not | quote }}\n  pw: {{ dig \"data\" \"password\" \"none\" $s | quote }}\n",
    )
    .unwrap();
    helm::chart::load(dir).unwrap()
}

fn render(c: &helm::Chart, lookup: Option<helm::render::LookupHook>) -> String {
    let opts = helm::RenderOptions {
        lookup,
        ..Default::default()
    };
    let out = helm::render(c, &helm::values::Values::new(), &opts).unwrap();
    out["lk/templates/cm.yaml"].clone()
}

#[test]
fn lookup_without_a_hook_is_an_empty_map() {
    let tmp = tempfile::tempdir().unwrap();
    let out = render(&chart(tmp.path()), None);
    assert!(
        out.contains("found: \"false\"") && out.contains("pw: \"none\""),
        "{out}"
    );
}

#[test]
fn lookup_asks_the_hook_with_helms_four_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let hook = helm::render::LookupHook(Arc::new(|api, kind, ns, name| {
        assert_eq!((api, kind, ns, name), ("v1", "Secret", "default", "db"));
        Ok(json!({"apiVersion": "v1", "kind": "Secret", "data": {"password": "czNjcmV0"}}))
    }));
    let out = render(&chart(tmp.path()), Some(hook));
    assert!(
        out.contains("found: \"true\"") && out.contains("pw: \"czNjcmV0\""),
        "{out}"
    );
}

#[test]
fn a_failing_hook_fails_the_render_with_its_message() {
    let tmp = tempfile::tempdir().unwrap();
    let hook = helm::render::LookupHook(Arc::new(|_, _, _, _| Err("cluster unreachable".into())));
    let opts = helm::RenderOptions {
        lookup: Some(hook),
        ..Default::default()
    };
    let err = helm::render(&chart(tmp.path()), &helm::values::Values::new(), &opts).unwrap_err();
    assert!(
        err.to_string()
            .contains("error calling lookup: cluster unreachable"),
        "{err}"
    );
}
