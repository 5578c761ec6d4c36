//! Object-metadata helpers: name validation with Kubernetes' messages, `generateName`,
//! RFC 3339 timestamps.
//!
//! Message texts follow `k8s.io/apimachinery/pkg/util/validation` (including its
//! double-spaced example lists), because clients show them verbatim.

use crate::field::{FieldError, child};
use serde_json::Value;

pub use jiff::Timestamp;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
pub(crate) const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
pub(crate) const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

// The validation regexes of Kubernetes, checked by hand (they are simple and hot: every
// selector, label and name goes through them). The `*_FMT` strings are only for messages.

fn alnum_lower(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && alnum_lower(b[0])
        && alnum_lower(b[b.len() - 1])
        && b.iter().all(|&c| alnum_lower(c) || c == b'-')
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`
fn matches_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.split('.').all(matches_dns1123_label)
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn matches_dns1035_label(s: &str) -> bool {
    matches_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
pub(crate) fn matches_qualified_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
}

/// `(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`
pub(crate) fn matches_label_value(s: &str) -> bool {
    s.is_empty() || matches_qualified_name(s)
}

/// Go's `validation.RegexError`.
pub(crate) fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push_str(&format!("'{e}', "));
    }
    s.push_str(&format!("regex used for validation is '{fmt}')"));
    s
}

/// Go's `validation.MaxLenError`.
pub(crate) fn max_len_error(n: usize) -> String {
    format!("must be no more than {n} characters")
}

/// `IsDNS1123Label`: the messages for an invalid value, empty when valid.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !matches_dns1123_label(value) {
        errs.push(regex_error(
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errs
}

/// `IsDNS1123Subdomain`: the messages for an invalid value, empty when valid.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 253 {
        errs.push(max_len_error(253));
    }
    if !matches_dns1123_subdomain(value) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// `IsDNS1035Label` (Service names).
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > 63 {
        errs.push(max_len_error(63));
    }
    if !matches_dns1035_label(value) {
        errs.push(regex_error(
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// `IsValidPathSegmentName` (RBAC object names).
pub fn is_path_segment_name(value: &str) -> Vec<String> {
    if value == "." || value == ".." {
        return vec![format!("may not be '{value}'")];
    }
    let mut errs = Vec::new();
    for bad in ["/", "%"] {
        if value.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

/// Which rule a kind's `metadata.name` follows in kube-apiserver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameRule {
    /// DNS-1123 subdomain (most kinds, custom resources).
    Subdomain,
    /// DNS-1123 label (Namespace).
    Label,
    /// DNS-1035 label (Service).
    Dns1035Label,
    /// Any path segment (Role, ClusterRole, RoleBinding, ClusterRoleBinding).
    PathSegment,
}

/// The name rule kube-apiserver applies to a built-in kind (custom kinds: `Subdomain`).
pub fn name_rule_for_kind(kind: &str) -> NameRule {
    match kind {
        "Namespace" => NameRule::Label,
        "Service" => NameRule::Dns1035Label,
        "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding" => NameRule::PathSegment,
        _ => NameRule::Subdomain,
    }
}

fn check_name(rule: NameRule, name: &str, prefix: bool) -> Vec<String> {
    // As Go's NameIsDNS* with prefix=true: a trailing '-' of a generateName is allowed.
    let masked;
    let name = if prefix && rule != NameRule::PathSegment && name.ends_with('-') && name.len() > 1 {
        masked = format!("{}a", &name[..name.len() - 1]);
        masked.as_str()
    } else {
        name
    };
    match rule {
        NameRule::Subdomain => is_dns1123_subdomain(name),
        NameRule::Label => is_dns1123_label(name),
        NameRule::Dns1035Label => is_dns1035_label(name),
        NameRule::PathSegment => {
            if prefix {
                // path segment prefixes only forbid '/' and '%'
                let mut errs = Vec::new();
                for bad in ["/", "%"] {
                    if name.contains(bad) {
                        errs.push(format!("may not contain '{bad}'"));
                    }
                }
                errs
            } else {
                is_path_segment_name(name)
            }
        }
    }
}

/// Validate `metadata.name` / `metadata.generateName` of an object as `ValidateObjectMeta`
/// does. `name_path` is usually `metadata`. Returns field errors such as
/// `metadata.name: Invalid value: "Foo": a lowercase RFC 1123 subdomain must ...`.
pub fn validate_object_name(meta: &Value, rule: NameRule, meta_path: &str) -> Vec<FieldError> {
    let name = meta.get("name").and_then(Value::as_str).unwrap_or("");
    let generate = meta
        .get("generateName")
        .and_then(Value::as_str)
        .unwrap_or("");
    let mut errs = Vec::new();
    if !generate.is_empty() {
        for msg in check_name(rule, generate, true) {
            errs.push(FieldError::invalid(
                child(meta_path, "generateName"),
                Value::String(generate.into()),
                msg,
            ));
        }
    }
    if name.is_empty() {
        if generate.is_empty() {
            errs.push(FieldError::required(
                child(meta_path, "name"),
                "name or generateName is required",
            ));
        }
    } else {
        for msg in check_name(rule, name, false) {
            errs.push(FieldError::invalid(
                child(meta_path, "name"),
                Value::String(name.into()),
                msg,
            ));
        }
    }
    errs
}

/// kube-apiserver's limit on the total size of `metadata.annotations` (keys + values).
pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Validate the parts of `metadata` kube-apiserver checks on every write
/// (`ValidateObjectMeta`): the name (see [`validate_object_name`]), label keys and values,
/// annotation keys and total size, and finalizer names. `meta_path` is usually `metadata`.
/// Messages as kube-apiserver's, e.g.
/// `metadata.labels: Invalid value: "a b": a valid label must be an empty string or ...`.
pub fn validate_object_meta(meta: &Value, rule: NameRule, meta_path: &str) -> Vec<FieldError> {
    let mut errs = validate_object_name(meta, rule, meta_path);
    let labels_path = child(meta_path, "labels");
    if let Some(labels) = meta.get("labels").and_then(Value::as_object) {
        for (k, v) in labels {
            for msg in crate::labels::validate_label_key(k) {
                errs.push(FieldError::invalid(
                    &labels_path,
                    Value::String(k.clone()),
                    msg,
                ));
            }
            let v = v.as_str().unwrap_or("");
            for msg in crate::labels::validate_label_value(v) {
                errs.push(FieldError::invalid(
                    &labels_path,
                    Value::String(v.into()),
                    msg,
                ));
            }
        }
    }
    let ann_path = child(meta_path, "annotations");
    if let Some(ann) = meta.get("annotations").and_then(Value::as_object) {
        let mut total = 0usize;
        for (k, v) in ann {
            total += k.len() + v.as_str().map(str::len).unwrap_or(0);
            for msg in crate::labels::validate_label_key(&k.to_lowercase()) {
                errs.push(FieldError::invalid(
                    &ann_path,
                    Value::String(k.clone()),
                    msg,
                ));
            }
        }
        if total > TOTAL_ANNOTATION_SIZE_LIMIT {
            errs.push(FieldError::too_long(
                &ann_path,
                TOTAL_ANNOTATION_SIZE_LIMIT as i64,
            ));
        }
    }
    let fin_path = child(meta_path, "finalizers");
    if let Some(fins) = meta.get("finalizers").and_then(Value::as_array) {
        let names: Vec<&str> = fins.iter().filter_map(Value::as_str).collect();
        for f in &names {
            for msg in crate::labels::validate_label_key(f) {
                errs.push(FieldError::invalid(
                    &fin_path,
                    Value::String((*f).into()),
                    msg,
                ));
            }
        }
        if names.contains(&"orphan") && names.contains(&"foregroundDeletion") {
            errs.push(FieldError::invalid(
                &fin_path,
                Value::Array(fins.clone()),
                "finalizer orphan and foregroundDeletion cannot be both set",
            ));
        }
    }
    errs
}

/// Normalise `metadata` the way a round trip through Go's `metav1.ObjectMeta` does (every
/// field there is `omitempty`): `null`, `""`, `[]`, `{}` and a zero `generation` /
/// `deletionGracePeriodSeconds`-less entries disappear, so e.g. a finalizer list emptied by a
/// JSON Patch reads back as absent — clients such as kube-rs' finalizer helper rely on that.
/// `creationTimestamp` is left alone (Go prints it even when null).
pub fn normalize_object_meta(obj: &mut Value) {
    let Some(meta) = obj.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    meta.retain(|k, v| {
        if k == "creationTimestamp" {
            return true;
        }
        match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            Value::Object(m) => !m.is_empty(),
            Value::Number(n) => !(k == "generation" && n.as_i64() == Some(0)),
            Value::Bool(_) => true,
        }
    });
}

/// The alphabet of `utilrand.String` (no vowels, no look-alikes).
pub const GENERATE_NAME_ALPHABET: &str = "bcdfghjklmnpqrstvwxz2456789";
/// Length of the random suffix of `generateName`.
pub const GENERATE_NAME_SUFFIX_LEN: usize = 5;
const MAX_GENERATED_NAME_LENGTH: usize = 63 - GENERATE_NAME_SUFFIX_LEN;

/// `names.SimpleNameGenerator.GenerateName`: base (cut to 58 bytes) + 5 random characters.
pub fn generate_name(base: &str) -> String {
    let mut rng = fastrand::Rng::new();
    generate_name_with(base, &mut rng)
}

/// [`generate_name`] with a caller-supplied generator (deterministic in tests).
pub fn generate_name_with(base: &str, rng: &mut fastrand::Rng) -> String {
    let mut cut = base.len().min(MAX_GENERATED_NAME_LENGTH);
    while !base.is_char_boundary(cut) {
        cut -= 1;
    }
    let alphabet = GENERATE_NAME_ALPHABET.as_bytes();
    let mut s = String::with_capacity(cut + GENERATE_NAME_SUFFIX_LEN);
    s.push_str(&base[..cut]);
    for _ in 0..GENERATE_NAME_SUFFIX_LEN {
        s.push(alphabet[rng.usize(..alphabet.len())] as char);
    }
    s
}

/// `metav1.Time` form: `2024-01-02T03:04:05Z` (second precision, UTC).
pub fn format_time(ts: Timestamp) -> String {
    let secs = ts.as_second();
    let t = Timestamp::from_second(secs).unwrap_or(ts);
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `metav1.MicroTime` form: `2024-01-02T03:04:05.123456Z`.
pub fn format_micro_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string()
}

/// The current time as `metav1.Time`.
pub fn now_rfc3339() -> String {
    format_time(Timestamp::now())
}

/// Parse an RFC 3339 timestamp (`Z` or offset, optional fraction).
pub fn parse_time(s: &str) -> Option<Timestamp> {
    s.parse::<Timestamp>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hand_written_matchers_agree_with_the_kubernetes_regexes() {
        use regex::Regex;
        let cases = [
            "", "a", "A", "-a", "a-", "a-b", "a.b", "a..b", ".a", "a.", "9", "a_b", "a b",
            "abc-123", "Ab.C", "a/b", "x.y-z.w", "1-2-3", "_a", "a_", "a.-b", "é",
        ];
        let re = |f: &str| Regex::new(&format!("^(?:{f})$")).unwrap();
        let (l, sd, l35, q, v) = (
            re(DNS1123_LABEL_FMT),
            re(DNS1123_SUBDOMAIN_FMT),
            re(DNS1035_LABEL_FMT),
            re(QUALIFIED_NAME_FMT),
            re(LABEL_VALUE_FMT),
        );
        for c in cases {
            assert_eq!(matches_dns1123_label(c), l.is_match(c), "label {c:?}");
            assert_eq!(
                matches_dns1123_subdomain(c),
                sd.is_match(c),
                "subdomain {c:?}"
            );
            assert_eq!(matches_dns1035_label(c), l35.is_match(c), "1035 {c:?}");
            assert_eq!(matches_qualified_name(c), q.is_match(c), "qualified {c:?}");
            assert_eq!(matches_label_value(c), v.is_match(c), "value {c:?}");
        }
    }

    #[test]
    fn subdomain_message_matches_kubernetes() {
        let errs = is_dns1123_subdomain("Foo");
        assert_eq!(
            errs,
            vec!["a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string()]
        );
        assert!(is_dns1123_subdomain("a.b-c.d").is_empty());
        assert_eq!(is_dns1123_subdomain(&"a".repeat(254)).len(), 1);
    }

    #[test]
    fn label_message_has_kubernetes_double_spaced_examples() {
        let errs = is_dns1123_label("a.b");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].contains("(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"), "{}", errs[0]);
        assert_eq!(is_dns1123_label(&"a".repeat(64)), vec![max_len_error(63)]);
    }

    #[test]
    fn names_validated_per_kind_rule() {
        let e = validate_object_name(
            &json!({"name": "Bad"}),
            name_rule_for_kind("ConfigMap"),
            "metadata",
        );
        assert_eq!(e.len(), 1);
        assert!(
            e[0].to_string().starts_with(
                r#"metadata.name: Invalid value: "Bad": a lowercase RFC 1123 subdomain"#
            )
        );
        assert!(
            validate_object_name(
                &json!({"name": "a.b"}),
                name_rule_for_kind("ConfigMap"),
                "metadata"
            )
            .is_empty()
        );
        assert_eq!(
            validate_object_name(
                &json!({"name": "a.b"}),
                name_rule_for_kind("Namespace"),
                "metadata"
            )
            .len(),
            1
        );
        assert_eq!(
            validate_object_name(
                &json!({"name": "1svc"}),
                name_rule_for_kind("Service"),
                "metadata"
            )
            .len(),
            1
        );
        assert!(
            validate_object_name(
                &json!({"name": "system:admin"}),
                name_rule_for_kind("ClusterRole"),
                "metadata"
            )
            .is_empty()
        );
        assert_eq!(
            validate_object_name(&json!({"name": "a/b"}), NameRule::PathSegment, "metadata")[0]
                .detail,
            "may not contain '/'"
        );
        assert_eq!(
            validate_object_name(&json!({}), NameRule::Subdomain, "metadata")[0].to_string(),
            "metadata.name: Required value: name or generateName is required"
        );
        assert!(
            validate_object_name(
                &json!({"generateName": "web-"}),
                NameRule::Subdomain,
                "metadata"
            )
            .is_empty()
        );
        assert_eq!(
            validate_object_name(
                &json!({"generateName": "Web-"}),
                NameRule::Subdomain,
                "metadata"
            )
            .len(),
            1
        );
    }

    #[test]
    fn object_meta_labels_annotations_and_finalizers_are_validated() {
        let ok = json!({"name": "a", "labels": {"app.kubernetes.io/name": "web", "empty": ""},
                        "annotations": {"Example.com/Mixed-Case": "x"},
                        "finalizers": ["example.com/cleanup", "kubernetes"]});
        assert!(validate_object_meta(&ok, NameRule::Subdomain, "metadata").is_empty());
        let bad = json!({"name": "a", "labels": {"a b": "c", "k": "bad value"},
                         "annotations": {"/x": "y"},
                         "finalizers": ["orphan", "foregroundDeletion", "no spaces allowed"]});
        let errs: Vec<String> = validate_object_meta(&bad, NameRule::Subdomain, "metadata")
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(errs[0].starts_with(r#"metadata.labels: Invalid value: "a b": name part must consist of alphanumeric characters"#), "{}", errs[0]);
        assert!(errs[1].starts_with(r#"metadata.labels: Invalid value: "bad value": a valid label must be an empty string"#), "{}", errs[1]);
        assert_eq!(
            errs[2],
            r#"metadata.annotations: Invalid value: "/x": prefix part must be non-empty"#
        );
        assert!(
            errs[3].starts_with(
                r#"metadata.finalizers: Invalid value: "no spaces allowed": name part must consist"#
            ),
            "{}",
            errs[3]
        );
        assert_eq!(
            errs[4],
            r#"metadata.finalizers: Invalid value: ["orphan","foregroundDeletion","no spaces allowed"]: finalizer orphan and foregroundDeletion cannot be both set"#
        );
        let huge =
            json!({"name": "a", "annotations": {"k": "v".repeat(TOTAL_ANNOTATION_SIZE_LIMIT)}});
        assert_eq!(
            validate_object_meta(&huge, NameRule::Subdomain, "metadata")[0].to_string(),
            "metadata.annotations: Too long: may not be more than 262144 bytes"
        );
    }

    #[test]
    fn object_meta_normalises_like_go_omitempty() {
        let mut o = json!({"metadata": {"name": "a", "namespace": "", "labels": {}, "annotations": null,
            "finalizers": [], "ownerReferences": [], "generation": 0, "creationTimestamp": null,
            "uid": "u"}, "spec": {"x": []}});
        normalize_object_meta(&mut o);
        assert_eq!(
            o,
            json!({"metadata": {"name": "a", "creationTimestamp": null, "uid": "u"}, "spec": {"x": []}})
        );
    }

    #[test]
    fn generate_name_appends_five_chars_from_kubernetes_alphabet() {
        let mut rng = fastrand::Rng::with_seed(7);
        let n = generate_name_with("web-", &mut rng);
        assert_eq!(n.len(), 9);
        assert!(n.starts_with("web-"));
        assert!(n[4..].chars().all(|c| GENERATE_NAME_ALPHABET.contains(c)));
        let long = generate_name(&"x".repeat(80));
        assert_eq!(long.len(), 63);
        assert!(is_dns1123_subdomain(&generate_name("my-config-")).is_empty());
    }

    #[test]
    fn timestamps_round_trip_in_rfc3339_z_form() {
        let t = parse_time("2024-01-02T03:04:05.678Z").unwrap();
        assert_eq!(format_time(t), "2024-01-02T03:04:05Z");
        assert_eq!(format_micro_time(t), "2024-01-02T03:04:05.678000Z");
        assert_eq!(
            format_time(parse_time("2024-01-02T05:04:05+02:00").unwrap()),
            "2024-01-02T03:04:05Z"
        );
        assert!(parse_time("yesterday").is_none());
        assert!(now_rfc3339().ends_with('Z'));
    }
}
