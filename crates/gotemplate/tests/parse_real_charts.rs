//! Every template of the real charts in the shared Helm corpus parses.
//!
//! The corpus (`<repo>/../shared/fixtures/helm/charts`, or `$MARKETPLACE_SHARED/fixtures/helm/charts`)
//! holds 125 public charts that real Helm v4 renders; a parse error here is an engine bug.
//! Charts that Helm itself refuses for a template syntax error are listed in `HELM_REJECTS`.

use std::path::{Path, PathBuf};

use gotemplate::{Options, TemplateSet};

/// Templates real Helm refuses to parse as well (deliberately broken test charts).
const HELM_REJECTS: &[&str] = &[
    "lint/albatross",
    "chart-with-template-with-invalid-template-expr",
    "chart-bad-type",
    "invalid-template",
    "bad-template",
];

/// The corpus; a missing corpus fails the test loudly (a silent pass would prove nothing).
fn corpus() -> PathBuf {
    let base = std::env::var_os("MARKETPLACE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("../../../shared"));
    let p = base.join("fixtures/helm/charts");
    assert!(
        p.is_dir(),
        "the shared Helm corpus {} is missing: put the shared fixtures beside the repository or set MARKETPLACE_SHARED to the shared/ folder",
        p.display()
    );
    p
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.components().any(|c| c.as_os_str() == "templates") {
            out.push(p);
        }
    }
}

#[test]
fn all_corpus_templates_parse() {
    let root = corpus();
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    assert!(
        files.len() > 500,
        "expected the corpus to hold many templates, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for f in &files {
        let Ok(src) = std::fs::read_to_string(f) else {
            continue;
        };
        let name = f
            .strip_prefix(&root)
            .unwrap_or(f)
            .to_string_lossy()
            .to_string();
        if HELM_REJECTS.iter().any(|r| name.contains(r)) {
            continue;
        }
        let mut set = TemplateSet::new(Options::default());
        if let Err(e) = set.parse(&name, &src) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} templates fail to parse:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}
