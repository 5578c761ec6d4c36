//! Copies the built front-end (`web/dist`, made by `npm run build`, which `scripts/setup` runs) into
//! `OUT_DIR/assets` with a `.gz` beside every text file, for `include_dir!`. Without `web/dist` the
//! crate still builds (so the workspace compiles on a fresh clone) but embeds one page saying how to
//! build the console, sets `CONSOLE_BUILT=0`, and warns; the browser tests fail on it.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let dist = manifest.join("web/dist");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("assets");
    println!("cargo:rerun-if-changed=web/dist");
    let _ = fs::remove_dir_all(&out);
    fs::create_dir_all(&out).expect("create OUT_DIR/assets");
    if dist.join("index.html").is_file() {
        copy_tree(&dist, &out);
        println!("cargo:rustc-env=CONSOLE_BUILT=1");
    } else {
        println!(
            "cargo:warning=console: {} is missing; embedding a placeholder page. Run scripts/setup (npm ci && npm run build in crates/webconsole/web).",
            dist.display()
        );
        fs::write(out.join("index.html"), PLACEHOLDER).expect("write placeholder");
        println!("cargo:rustc-env=CONSOLE_BUILT=0");
    }
}

const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Console not built</title></head>\
<body><main><h1>The web console was not built</h1><p>This binary was compiled without the console's assets. \
Run <code>scripts/setup</code> (it runs <code>npm ci &amp;&amp; npm run build</code> in <code>crates/webconsole/web</code>) \
and rebuild.</p></main></body></html>\n";

fn compressible(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()),
        Some("html" | "js" | "css" | "svg" | "json" | "txt" | "map")
    )
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).expect("read web/dist") {
        let entry = entry.expect("dir entry");
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            fs::create_dir_all(&dst).expect("mkdir");
            copy_tree(&src, &dst);
            continue;
        }
        let bytes = fs::read(&src).expect("read asset");
        if compressible(&src) {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            gz.write_all(&bytes).expect("gzip");
            let mut name = dst.clone().into_os_string();
            name.push(".gz");
            fs::write(name, gz.finish().expect("gzip")).expect("write .gz");
        }
        fs::write(&dst, bytes).expect("write asset");
    }
}
