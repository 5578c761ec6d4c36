//! What the `helm template` command does around the install dry run (Helm v4 `pkg/cmd/template.go`,
//! `pkg/action/install.go`), as pure functions: `--show-only` selection with Helm's matching and
//! error text, the `--output-dir` layout (which files are written, in which order, created or
//! appended, and the `wrote <path>` lines), `--name-template`, and release-name validation.
//!
//! The caller does the I/O: [`output_dir_plan`] says what to write; the `marketplace` binary writes it.

use crate::manifest::{self, Hook};
use crate::render::{TemplateOptions, TemplateOutput};

/// The release-name rule Helm applies before rendering (`chartutil.ValidateReleaseName`), with the
/// text `helm template` prints (`release name check failed: ...`).
pub fn validate_release_name(name: &str) -> Result<(), String> {
    const RULE: &str = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    let err = if name.is_empty() {
        "no name provided".to_string()
    } else if name.len() > 53 || !is_dns_subdomain(name) {
        format!(
            "invalid release name, must match regex {RULE} and the length must not be longer than 53"
        )
    } else {
        return Ok(());
    };
    Err(format!(
        "release name check failed: release name {name:?}: {err}"
    ))
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*`, fully matched.
fn is_dns_subdomain(name: &str) -> bool {
    name.split('.').all(|label| {
        let b = label.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        !b.is_empty()
            && alnum(&b[0])
            && alnum(&b[b.len() - 1])
            && b.iter().all(|c| alnum(c) || *c == b'-')
    })
}

/// `--name-template`: the template executed with no data (Helm's `action.TemplateName`).
pub fn name_from_template(text: &str) -> Result<String, String> {
    let mut set = gotemplate::TemplateSet::new(gotemplate::Options::default());
    set.parse("name-template", text)
        .map_err(|e| e.to_string())?;
    set.execute("name-template", &gotemplate::Value::Nil)
        .map_err(|e| e.to_string())
}

/// `--show-only`: the documents of the printed stream whose `# Source:` path (without the chart
/// name) matches each pattern (Go's `filepath.Match`), pattern by pattern, each printed as
/// `---\n<doc>\n`. A pattern matching nothing is Helm's error `could not find template P in chart`.
pub fn show_only(printed: &str, patterns: &[String]) -> Result<String, String> {
    let docs = manifest::split_manifests(printed);
    let mut out = String::new();
    for pattern in patterns {
        let mut missing = true;
        for doc in &docs {
            let Some(path) = source_path(doc) else {
                continue;
            };
            if crate::ignore::go_match(pattern, path) != Ok(true) {
                continue;
            }
            out.push_str("---\n");
            out.push_str(doc);
            out.push('\n');
            missing = false;
        }
        if missing {
            return Err(format!("could not find template {pattern} in chart"));
        }
    }
    Ok(out)
}

/// The first `# Source: <chart>/<path>` of a document: `<path>` (Helm's `# Source: [^/]+/(.+)`).
fn source_path(doc: &str) -> Option<&str> {
    let mut rest = doc;
    while let Some(i) = rest.find("# Source: ") {
        let after = &rest[i + "# Source: ".len()..];
        if let Some(slash) = after.find('/').filter(|&s| s > 0) {
            let tail = &after[slash + 1..];
            let line = tail.split('\n').next().unwrap_or("");
            if !line.is_empty() {
                return Some(line);
            }
        }
        rest = after;
    }
    None
}

/// How one `--output-dir` file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    /// Created or truncated (the first manifest of a template in this run).
    Create,
    /// Appended (a later document of the same template).
    Append,
    /// Hooks: appended when the file exists at that moment, created otherwise (Helm stats it).
    AppendIfExists,
}

/// One write of `--output-dir`: `<dir>/<name>` gets `---\n# Source: <name>\n<text>\n`, then Helm
/// prints `wrote <dir>/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileWrite {
    /// The path exactly as Helm joins it (`<dir>` + `/` + `<name>`), as printed after `wrote `.
    pub path: String,
    pub contents: String,
    pub mode: WriteMode,
}

/// The writes `helm template --output-dir DIR [--release-name]` performs, in order: CRDs (with
/// `--include-crds`, always under DIR), manifests in install order, then hooks (unless `--no-hooks`;
/// tests left out with `--skip-tests`), the last two under `DIR/<release>` with `--release-name`.
/// After the writes Helm prints an empty line (the now empty manifest stream).
pub fn output_dir_plan(
    out: &TemplateOutput,
    opts: &TemplateOptions,
    dir: &str,
    use_release_name: bool,
) -> Vec<FileWrite> {
    let mut writes = Vec::new();
    let mut written = std::collections::HashSet::new();
    let mut push = |base: &str, name: &str, text: &str, hook: bool| {
        let mode = if hook {
            WriteMode::AppendIfExists
        } else if written.insert(name.to_string()) {
            WriteMode::Create
        } else {
            WriteMode::Append
        };
        writes.push(FileWrite {
            path: format!("{base}/{name}"),
            contents: format!("---\n# Source: {name}\n{text}\n"),
            mode,
        });
    };
    if opts.include_crds {
        for (name, text) in &out.crds {
            push(dir, name, text, false);
        }
    }
    let release_dir = if use_release_name {
        join_clean(dir, &opts.render.release.name)
    } else {
        dir.to_string()
    };
    for m in &out.sorted.manifests {
        push(&release_dir, &m.path, &m.content, false);
    }
    for h in printed_hooks(out, opts) {
        push(&release_dir, &h.path, &h.manifest, true);
    }
    writes
}

/// The hooks `helm template` prints or writes.
pub fn printed_hooks<'a>(
    out: &'a TemplateOutput,
    opts: &'a TemplateOptions,
) -> impl Iterator<Item = &'a Hook> {
    out.sorted
        .hooks
        .iter()
        .filter(move |h| !(opts.no_hooks || opts.skip_tests && manifest::is_test_hook(h)))
}

/// Go's `filepath.Join(a, b)` for the release-name directory (cleaned, as Join cleans).
fn join_clean(a: &str, b: &str) -> String {
    let joined = format!("{a}/{b}");
    let absolute = joined.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in joined.split('/') {
        match p {
            "" | "." => {}
            ".." if parts.last().is_some_and(|l| *l != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            _ => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (absolute, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".to_string(),
        (false, false) => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_names_follow_helm_rule() {
        assert!(validate_release_name("my-app.v2").is_ok());
        assert_eq!(
            validate_release_name("Bad_Name").unwrap_err(),
            "release name check failed: release name \"Bad_Name\": invalid release name, must match regex ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$ and the length must not be longer than 53"
        );
        assert!(validate_release_name(&"a".repeat(54)).is_err());
        assert!(validate_release_name("a.").is_err());
        assert_eq!(
            validate_release_name("").unwrap_err(),
            "release name check failed: release name \"\": no name provided"
        );
    }

    #[test]
    fn show_only_selects_by_path_glob_in_pattern_order() {
        let printed = "---\n# Source: c/templates/b.yaml\nb: 1\n---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/charts/s/templates/a.yaml\ns: 1\n";
        assert_eq!(
            show_only(printed, &["templates/a.yaml".into(), "templates/b*".into()]).unwrap(),
            "---\n# Source: c/templates/a.yaml\na: 1\n---\n# Source: c/templates/b.yaml\nb: 1\n"
        );
        assert_eq!(
            show_only(printed, &["templates/*.yaml".into()]).unwrap(),
            "---\n# Source: c/templates/b.yaml\nb: 1\n---\n# Source: c/templates/a.yaml\na: 1\n"
        );
        assert_eq!(
            show_only(printed, &["templates/none.yaml".into()]).unwrap_err(),
            "could not find template templates/none.yaml in chart"
        );
    }

    #[test]
    fn release_dir_is_joined_and_cleaned_as_go_does() {
        assert_eq!(join_clean("out/", "rel"), "out/rel");
        assert_eq!(join_clean("./out", "rel"), "out/rel");
        assert_eq!(join_clean("/tmp/x/../y", "rel"), "/tmp/y/rel");
    }
}
