//! Compares the engine with real Helm v4 output.
//!
//! `tests/data/helm_oracle.json` holds templates with values and what Helm v4
//! rendered for them (produced with the `helm-python-sdk` package, which embeds
//! Helm's Go engine: one chart per case, the template as `t/templates/t.yaml`).
//! For successful renders the output must match byte for byte (after Helm's
//! `<no value>` → "" replacement); for failures the Go error detail and the
//! `file:line:col` location must appear in Helm's message.

use gotemplate::{Options, TemplateSet, Value};

#[derive(serde::Deserialize)]
struct Case {
    template: String,
    values: serde_json::Value,
    expected: Option<String>,
}

fn render(template: &str, values: &serde_json::Value) -> Result<String, gotemplate::Error> {
    let mut set = TemplateSet::new(Options::default());
    let name = "t/templates/t.yaml";
    set.parse(name, template)?;
    let data = Value::map_from([
        ("Values", Value::from(values.clone())),
        (
            "Release",
            Value::from(
                serde_json::json!({"Name": "rel", "Namespace": "default", "Service": "Helm"}),
            ),
        ),
        (
            "Template",
            Value::from(serde_json::json!({"Name": name, "BasePath": "t/templates"})),
        ),
    ]);
    Ok(set.execute(name, &data)?.replace("<no value>", ""))
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The innermost message of a Go template error (after the last `at <...>: `).
fn innermost(msg: &str) -> String {
    let m = msg
        .replace("HELM_ERR_START", "")
        .replace("HELM_ERR_END", "");
    let tail = match m.rfind(">: ") {
        Some(i) => m[i + 3..].to_string(),
        None => m.rsplit(": ").next().unwrap_or(&m).to_string(),
    };
    // "error calling include: template: no template ..." -> keep the deepest Go text
    tail.rsplit("error calling ")
        .next()
        .map(|t| {
            t.split_once(": ")
                .map(|(_, r)| r.to_string())
                .unwrap_or(t.to_string())
        })
        .unwrap_or(tail)
}

#[test]
fn engine_matches_helm_v4_on_oracle_cases() {
    let path = "tests/data/helm_oracle.json";
    let cases: Vec<Case> =
        serde_json::from_str(&std::fs::read_to_string(path).expect("oracle data"))
            .expect("oracle json");
    let mut failures = Vec::new();
    // cases whose output is random by nature are checked for shape only in unit tests
    for (i, c) in cases.iter().enumerate() {
        let expected = c.expected.clone().unwrap_or_default();
        let got = render(&c.template, &c.values);
        match (expected.strip_prefix("ERROR: "), got) {
            (None, Ok(out)) => {
                if out != expected {
                    failures.push(format!(
                        "#{i} {}\n   helm: {:?}\n   ours: {:?}",
                        c.template, expected, out
                    ));
                }
            }
            (None, Err(e)) => failures.push(format!(
                "#{i} {}\n   helm: {:?}\n   ours: error {}",
                c.template, expected, e
            )),
            (Some(herr), Ok(out)) => failures.push(format!(
                "#{i} {}\n   helm: error {:?}\n   ours: {:?}",
                c.template, herr, out
            )),
            (Some(herr), Err(e)) => {
                let inner = innermost(e.message());
                let mut ok = normalize(herr).contains(&normalize(&inner));
                if let Some(loc) = e.location()
                    && herr.contains("t/templates/t.yaml:")
                    && !herr.contains(loc)
                {
                    ok = false;
                }
                if !ok {
                    failures.push(format!(
                        "#{i} {}\n   helm: {:?}\n   ours: {:?} (inner {:?})",
                        c.template,
                        herr,
                        e.message(),
                        inner
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from Helm:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
