//! `helm`: Helm charts rendered exactly as Helm v4 renders them, as a pure Rust library.
//!
//! **Owns**: loading charts (directories and `.tgz`, `.helmignore`, `Chart.yaml` v1/v2, subcharts,
//! `crds/`), values (coalescing, `--set`, `-f`, `values.schema.json` validation), dependency
//! processing (`condition`, `tags`, `alias`, `import-values`), the render pipeline around the template
//! engine (`.Values .Release .Chart .Capabilities .Template .Files .Subcharts`), and what
//! `helm template` prints (document splitting, hooks, install order, `# Source:` headers).
//!
//! **Does not own**: the Go `text/template` engine and its Sprig/Helm functions — that is the
//! `gotemplate` crate, used through [`engine`]. The only file-system access is in [`chart::load`];
//! everything else is pure and unit-testable. No cluster is contacted: `lookup` returns an empty
//! map unless the caller plugs in a [`render::LookupHook`] (an install against a live cluster).
//! The built-in objects carry Helm's Go types (`.Capabilities` is `*common.Capabilities`, its
//! `APIVersions` a `VersionSet` that Sprig's list functions accept, `.Values` a `common.Values`,
//! `.Files.GetBytes` a `[]uint8`). [`strvals`] parses `--set`/`--set-string`/`--set-json`/
//! `--set-file`/`--set-literal`; [`template_cmd`] is what the `helm template` command adds
//! (`--show-only`, `--output-dir`, `--name-template`, release-name checks).
//!
//! ```no_run
//! use helm::{chart, render};
//! let c = chart::load(std::path::Path::new("mychart"))?;
//! let mut user = helm::values::Values::new();
//! helm::values::parse_set("image.tag=1.2.3", &mut user).unwrap();
//! let out = render::template(&c, &user, &render::TemplateOptions::default())?;
//! print!("{}", out.output);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod capabilities;
pub mod chart;
pub mod engine;
pub mod ignore;
pub mod manifest;
pub mod render;
pub mod schema;
pub mod semver;
pub mod strvals;
pub mod template_cmd;
pub mod values;
pub mod yaml;

pub use capabilities::Capabilities;
pub use chart::{Chart, LoadError};
pub use render::{
    ReleaseOptions, RenderError, RenderOptions, TemplateOptions, TemplateOutput, render, template,
};

/// Reads a `-f` values file the way Helm does (YAML → JSON, numbers float64); errors read
/// `failed to parse <path>: ...`.
/// `-` reads standard input, as Helm's `-f -`.
pub fn read_values_file(path: &std::path::Path) -> Result<values::Values, String> {
    let text = if path.as_os_str() == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| format!("read standard input: {e}"))?;
        s
    } else {
        read_file_text(path)?
    };
    parse_values_document(&text).map_err(|e| format!("failed to parse {}: {e}", path.display()))
}

/// Reads a file named on the command line, with Go's `open <path>: <reason>` text on failure.
pub fn read_file_text(path: &std::path::Path) -> Result<String, String> {
    let bytes = std::fs::read(path).map_err(|e| {
        let reason = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string().to_lowercase(),
        };
        format!("open {}: {reason}", path.display())
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Parses user values given as YAML text (what `-f` reads).
pub fn parse_values_document(text: &str) -> Result<values::Values, String> {
    let v = yaml::to_json(text).map_err(|e| format!("error converting YAML to JSON: {e}"))?;
    match v {
        serde_json::Value::Null => Ok(values::Values::new()),
        serde_json::Value::Object(m) => Ok(m),
        other => Err(format!(
            "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            chart::json_type_name(&other)
        )),
    }
}
