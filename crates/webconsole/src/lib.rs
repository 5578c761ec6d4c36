//! `webconsole`: the web console's assets, embedded in the binary, and the handler that serves them at
//! `/console/` on the control plane's own port and TLS.
//!
//! The front-end (React + TypeScript + PatternFly + react-jsonschema-form, built with Vite) lives in
//! `web/`; `scripts/setup` builds it into `web/dist`, and `build.rs` embeds that (with a gzip copy of
//! each text file). The console talks only to the Kubernetes-style API kubectl uses (list + watch
//! with the user's bearer token) and to the platform's login endpoints; serving its static files
//! needs no authentication.
//!
//! Serving rules: `/console` redirects to `/console/`; a file that exists is served with its MIME
//! type (gzip when the client accepts it); hashed files under `assets/` are cached for a year
//! (`immutable`), everything else is revalidated (`no-cache`); any other path without a file
//! extension gets `index.html` (the single-page app routes on the client); GET and HEAD only.
//!
//! Owns: the front-end sources and their build output, the asset lookup and HTTP answers for it.
//! Must not touch: the API (it serves no data), authentication, the apiserver's routing beyond the
//! one mount point.

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use http::{HeaderValue, Method, StatusCode, header};
use include_dir::{Dir, include_dir};

static ASSETS: Dir<'static> = include_dir!("$OUT_DIR/assets");

/// The path the console is mounted at.
pub const MOUNT: &str = "/console";

/// True when the real front-end is embedded (false: the placeholder page built without `web/dist`).
pub fn built() -> bool {
    env!("CONSOLE_BUILT") == "1"
}

/// One embedded file.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    pub path: &'static str,
    pub mime: &'static str,
    pub bytes: &'static [u8],
    /// The gzip-compressed bytes, for text files.
    pub gzip: Option<&'static [u8]>,
    /// `Cache-Control`: long for content-hashed files, `no-cache` otherwise.
    pub cache_control: &'static str,
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const REVALIDATE: &str = "no-cache";

/// The embedded file at `path` (relative to the mount point, no leading slash; "" is index.html).
pub fn asset(path: &str) -> Option<Asset> {
    let path = if path.is_empty() { "index.html" } else { path };
    if path.ends_with(".gz") || path.split('/').any(|s| s == ".." || s.is_empty()) {
        return None;
    }
    let file = ASSETS.get_file(path)?;
    let gzip = ASSETS.get_file(format!("{path}.gz")).map(|f| f.contents());
    Some(Asset {
        path: file.path().to_str().unwrap_or(""),
        mime: mime_of(path),
        bytes: file.contents(),
        gzip,
        cache_control: if path.starts_with("assets/") {
            IMMUTABLE
        } else {
            REVALIDATE
        },
    })
}

/// Every embedded file (without the `.gz` copies), e.g. to measure the bundle.
pub fn assets() -> Vec<Asset> {
    let mut out = Vec::new();
    collect(&ASSETS, &mut out);
    out
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<Asset>) {
    for f in dir.files() {
        if let Some(a) = f.path().to_str().and_then(asset) {
            out.push(a);
        }
    }
    for d in dir.dirs() {
        collect(d, out);
    }
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("json" | "map") => "application/json",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("woff") => "font/woff",
        Some("ttf") => "font/ttf",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// What to answer for `path` (the request path, starting with [`MOUNT`]).
#[derive(Debug, Clone, Copy)]
pub enum Answer {
    Redirect,
    File(Asset),
    NotFound,
}

/// Pure routing: a file, the SPA's index.html for client-side routes, a redirect, or 404.
pub fn resolve(path: &str) -> Answer {
    let Some(rest) = path.strip_prefix(MOUNT) else {
        return Answer::NotFound;
    };
    let Some(rest) = rest.strip_prefix('/') else {
        return if rest.is_empty() {
            Answer::Redirect
        } else {
            Answer::NotFound
        };
    };
    if let Some(a) = asset(rest) {
        return Answer::File(a);
    }
    let last = rest.rsplit('/').next().unwrap_or("");
    if rest.starts_with("assets/") || last.contains('.') {
        return Answer::NotFound;
    }
    asset("index.html").map_or(Answer::NotFound, Answer::File)
}

/// `Content-Security-Policy` of the console: only its own origin. Styles allow inline attributes
/// (PatternFly sets `style`), scripts allow `eval` because ajv compiles the plugin forms' JSON
/// Schemas to functions at run time.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

/// The axum handler for `/console` and everything under it.
pub async fn serve(req: Request) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "the console serves GET and HEAD only\n",
        );
    }
    let gzip_ok = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    match resolve(req.uri().path()) {
        Answer::Redirect => Response::builder()
            .status(StatusCode::PERMANENT_REDIRECT)
            .header(header::LOCATION, format!("{MOUNT}/"))
            .body(Body::empty())
            .expect("valid response"),
        Answer::NotFound => plain(StatusCode::NOT_FOUND, "no such console file\n"),
        Answer::File(a) => file_response(a, gzip_ok, req.method() == Method::HEAD),
    }
}

fn accepts_gzip(v: &str) -> bool {
    v.split(',').any(|part| {
        let mut it = part.split(';');
        let coding = it.next().unwrap_or("").trim();
        let q_zero = it.any(|p| {
            p.trim()
                .strip_prefix("q=")
                .is_some_and(|q| q.trim().parse::<f32>().is_ok_and(|q| q == 0.0))
        });
        (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
    })
}

fn file_response(a: Asset, gzip_ok: bool, head: bool) -> Response {
    let (bytes, encoded) = match a.gzip {
        Some(gz) if gzip_ok => (gz, true),
        _ => (a.bytes, false),
    };
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, a.mime)
        .header(header::CACHE_CONTROL, a.cache_control)
        .header(header::CONTENT_LENGTH, bytes.len())
        .header(header::VARY, "Accept-Encoding")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer");
    if a.mime.starts_with("text/html") {
        b = b.header(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    if encoded {
        b = b.header(header::CONTENT_ENCODING, "gzip");
    }
    let body = if head {
        Body::empty()
    } else {
        Body::from(bytes)
    };
    b.body(body).expect("valid response")
}

fn plain(code: StatusCode, text: &'static str) -> Response {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(text))
        .expect("valid response")
}

/// The console's routes, to merge into the server's router.
pub fn router<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    axum::Router::new()
        .route(MOUNT, axum::routing::any(serve))
        .route("/console/", axum::routing::any(serve))
        .route("/console/{*path}", axum::routing::any(serve))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mount_point_redirects_to_its_slash_form() {
        assert!(matches!(resolve("/console"), Answer::Redirect));
        assert!(matches!(resolve("/consolex"), Answer::NotFound));
    }

    #[test]
    fn index_is_served_at_the_root_and_for_client_routes_but_not_for_missing_files() {
        let Answer::File(root) = resolve("/console/") else {
            panic!("no index.html")
        };
        assert_eq!(root.mime, "text/html; charset=utf-8");
        assert_eq!(root.cache_control, REVALIDATE);
        let Answer::File(route) = resolve("/console/operatorhub/detail") else {
            panic!("client route not served")
        };
        assert_eq!(route.bytes, root.bytes);
        assert!(matches!(
            resolve("/console/assets/missing-abc.js"),
            Answer::NotFound
        ));
        assert!(matches!(resolve("/console/favicon.ico"), Answer::NotFound));
    }

    #[test]
    fn traversal_and_gz_copies_are_not_addressable() {
        assert!(asset("../Cargo.toml").is_none());
        assert!(asset("assets//x").is_none());
        assert!(asset("index.html.gz").is_none());
    }

    #[test]
    fn hashed_assets_are_immutable_and_text_has_a_gzip_copy() {
        if !built() {
            // The placeholder has no assets/ directory; the browser test fails loudly on it.
            return;
        }
        let all = assets();
        let js = all
            .iter()
            .find(|a| a.path.starts_with("assets/") && a.path.ends_with(".js"))
            .expect("a hashed script");
        assert_eq!(js.cache_control, IMMUTABLE);
        assert_eq!(js.mime, "text/javascript; charset=utf-8");
        let gz = js.gzip.expect("gzip copy of a script");
        assert!(gz.len() < js.bytes.len());
        assert!(all.iter().all(|a| !a.path.ends_with(".gz")));
    }

    #[test]
    fn gzip_is_chosen_only_when_accepted() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0, br"));
        assert!(!accepts_gzip("identity"));
    }
}
