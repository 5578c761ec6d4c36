//! Hostile templates end with a clear error in bounded time and memory.

use gotemplate::{ErrorKind, Limits, MissingKey, Options, TemplateSet, Value};

fn set_with(src: &str, opts: Options) -> TemplateSet {
    let mut s = TemplateSet::new(opts);
    s.parse("t", src).expect("parse");
    s
}

#[test]
fn infinite_template_recursion_stops_at_the_depth_limit() {
    let s = set_with(
        r#"{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}"#,
        Options::default(),
    );
    let e = s.execute("t", &Value::Nil).unwrap_err();
    assert!(
        e.message()
            .contains("exceeded maximum template depth (100000)"),
        "{e}"
    );
}

#[test]
fn infinite_include_recursion_stops_with_helms_error() {
    let s = set_with(
        r#"{{define "a"}}{{include "a" .}}{{end}}{{include "a" .}}"#,
        Options::default(),
    );
    let e = s.execute("t", &Value::Nil).unwrap_err();
    assert!(
        e.message().contains(
            "rendering template has a nested reference name: a: unable to execute template"
        ),
        "{e}"
    );
}

#[test]
fn huge_ranges_hit_the_collection_or_step_limit() {
    let s = set_with("{{ range until 100000000 }}x{{ end }}", Options::default());
    let e = s.execute("t", &Value::Nil).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    let s = set_with(
        "{{ range 100000000 }}{{ end }}",
        Options {
            limits: Limits {
                max_steps: 10_000,
                ..Limits::default()
            },
            ..Options::default()
        },
    );
    let e = s.execute("t", &Value::Nil).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
}

#[test]
fn nested_loops_are_stopped_by_the_step_budget() {
    let opts = Options {
        limits: Limits {
            max_steps: 100_000,
            ..Limits::default()
        },
        ..Options::default()
    };
    let s = set_with(
        "{{ range until 1000 }}{{ range until 1000 }}{{ range until 1000 }}x{{ end }}{{ end }}{{ end }}",
        opts,
    );
    let e = s.execute("t", &Value::Nil).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit);
    assert!(e.message().contains("steps"), "{e}");
}

#[test]
fn output_is_capped() {
    let opts = Options {
        limits: Limits {
            max_output_bytes: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let s = set_with(
        r#"{{ $x := "0123456789" }}{{ range until 1000000 }}{{ $x }}{{ end }}"#,
        opts.clone(),
    );
    assert_eq!(
        s.execute("t", &Value::Nil).unwrap_err().kind(),
        ErrorKind::Limit
    );
    // string growth through functions is capped too
    let s = set_with(r#"{{ repeat 100000000 "abcdefgh" }}"#, opts);
    let e = s.execute("t", &Value::Nil).unwrap_err();
    assert!(e.message().contains("exceeds the limit"), "{e}");
}

#[test]
fn exponential_include_fan_out_is_bounded() {
    let src = r#"{{define "a"}}{{ if lt (len .) 40 }}{{ include "a" (append . 1) }}{{ include "a" (append . 1) }}{{ end }}{{end}}{{ include "a" list }}"#;
    let s = set_with(
        src,
        Options {
            limits: Limits {
                max_steps: 200_000,
                ..Limits::default()
            },
            ..Options::default()
        },
    );
    assert_eq!(
        s.execute("t", &Value::Nil).unwrap_err().kind(),
        ErrorKind::Limit
    );
}

#[test]
fn missingkey_error_names_the_key() {
    let s = set_with(
        "{{ .a.b }}",
        Options {
            missing_key: MissingKey::Error,
            ..Options::default()
        },
    );
    let data = Value::from(serde_json::json!({"a": {}}));
    let e = s.execute("t", &data).unwrap_err();
    assert_eq!(
        e.message(),
        r#"template: t:1:5: executing "t" at <.a.b>: map has no entry for key "b""#
    );
}

#[test]
fn doubling_strings_in_a_loop_hit_the_size_limit() {
    let opts = Options {
        limits: Limits {
            max_output_bytes: 1 << 20,
            ..Limits::default()
        },
        ..Options::default()
    };
    let s = set_with(
        r#"{{ $s := "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" }}{{ range until 30 }}{{ $s = print $s $s }}{{ end }}{{ $s }}"#,
        opts,
    );
    let e = s.execute("t", &Value::Nil).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Limit, "{e}");
    assert!(
        e.message().contains("exceeds the limit of 1048576 bytes"),
        "{e}"
    );
}
