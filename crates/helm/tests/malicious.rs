//! Hostile and broken charts end with a clear error instead of hanging, exhausting memory or
//! writing outside the chart: template recursion, huge `range`, archive path traversal, absolute
//! paths, links, oversize archives, symlink loops, invalid YAML everywhere YAML is read.

use std::io::Write;
use std::path::Path;

fn chart_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, body) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body).unwrap();
    }
    dir
}

const CHART_YAML: &str = "apiVersion: v2\nname: evil\nversion: 0.1.0\n";

fn template_err(dir: &Path) -> String {
    let c = helm::chart::load(dir).expect("chart loads");
    match helm::template(
        &c,
        &helm::values::Values::new(),
        &helm::TemplateOptions::default(),
    ) {
        Ok(out) => panic!(
            "expected a refusal, got {} bytes of output",
            out.output.len()
        ),
        Err(e) => e.to_string(),
    }
}

#[test]
fn infinite_include_recursion_is_stopped() {
    let d = chart_dir(&[
        ("Chart.yaml", CHART_YAML),
        (
            "templates/a.yaml",
            "{{- define \"loop\" }}{{ include \"loop\" . }}{{ end }}x: {{ include \"loop\" . }}",
        ),
    ]);
    let e = template_err(d.path());
    assert!(e.contains("loop"), "{e}");
}

#[test]
fn mutual_template_recursion_is_stopped() {
    let d = chart_dir(&[
        ("Chart.yaml", CHART_YAML),
        (
            "templates/a.yaml",
            "{{- define \"a\" }}{{ template \"b\" . }}{{ end }}{{ define \"b\" }}{{ template \"a\" . }}{{ end }}{{ template \"a\" . }}",
        ),
    ]);
    let e = template_err(d.path());
    assert!(!e.is_empty());
}

#[test]
fn huge_range_is_stopped_by_engine_limits() {
    let d = chart_dir(&[
        ("Chart.yaml", CHART_YAML),
        (
            "templates/a.yaml",
            "{{ range until 100000000 }}{{ range until 100000000 }}xxxxxxxxxxxxxxxx{{ end }}{{ end }}",
        ),
    ]);
    let e = template_err(d.path());
    assert!(!e.is_empty());
}

#[test]
fn output_bombs_are_stopped() {
    let d = chart_dir(&[
        ("Chart.yaml", CHART_YAML),
        (
            "templates/a.yaml",
            "{{ $s := \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\" }}{{ range until 30 }}{{ $s = print $s $s }}{{ end }}{{ $s }}",
        ),
    ]);
    let e = template_err(d.path());
    assert!(!e.is_empty());
}

fn tgz(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut b = tar::Builder::new(&mut gz);
        for (name, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            // Write the raw name so traversal and absolute paths reach the loader unmodified.
            let bytes = name.as_bytes();
            h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.finish().unwrap();
    }
    gz.finish().unwrap()
}

fn archive_err(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> String {
    helm::chart::load_archive_bytes(&tgz(entries))
        .map(|c| panic!("archive accepted: {}", c.name()))
        .unwrap_err()
        .to_string()
}

#[test]
fn archive_path_traversal_is_refused() {
    let e = archive_err(&[
        (
            "evil/Chart.yaml",
            tar::EntryType::Regular,
            CHART_YAML.as_bytes(),
            None,
        ),
        (
            "evil/../../etc/passwd",
            tar::EntryType::Regular,
            b"root",
            None,
        ),
    ]);
    assert_eq!(e, "chart illegally references parent directory");
}

#[test]
fn archive_absolute_paths_are_refused() {
    let e = archive_err(&[("evil//etc/passwd", tar::EntryType::Regular, b"root", None)]);
    assert_eq!(e, "chart illegally contains absolute paths");
}

#[test]
fn archive_links_are_refused() {
    let e = archive_err(&[
        (
            "evil/Chart.yaml",
            tar::EntryType::Regular,
            CHART_YAML.as_bytes(),
            None,
        ),
        (
            "evil/templates/x.yaml",
            tar::EntryType::Symlink,
            b"",
            Some("/etc/passwd"),
        ),
    ]);
    assert!(e.contains("links are not allowed"), "{e}");
    let e = archive_err(&[
        (
            "evil/Chart.yaml",
            tar::EntryType::Regular,
            CHART_YAML.as_bytes(),
            None,
        ),
        (
            "evil/templates/x.yaml",
            tar::EntryType::Link,
            b"",
            Some("evil/Chart.yaml"),
        ),
    ]);
    assert!(e.contains("links are not allowed"), "{e}");
}

#[test]
fn oversize_archive_files_are_refused() {
    let big = vec![b'a'; (helm::chart::MAX_DECOMPRESSED_FILE_SIZE + 1) as usize];
    let e = archive_err(&[
        (
            "evil/Chart.yaml",
            tar::EntryType::Regular,
            CHART_YAML.as_bytes(),
            None,
        ),
        ("evil/files/big.txt", tar::EntryType::Regular, &big, None),
    ]);
    assert!(e.contains("is larger than the maximum file size"), "{e}");
}

#[test]
fn gzip_bombs_are_cut_off() {
    // 24 files of 4.9 MiB of zeros (~120 MiB decompressed, a few hundred KiB compressed).
    let chunk = vec![0u8; (helm::chart::MAX_DECOMPRESSED_FILE_SIZE - 100 * 1024) as usize];
    let names: Vec<String> = (0..24).map(|i| format!("evil/files/z{i}")).collect();
    let mut entries: Vec<(&str, tar::EntryType, &[u8], Option<&str>)> = vec![(
        "evil/Chart.yaml",
        tar::EntryType::Regular,
        CHART_YAML.as_bytes(),
        None,
    )];
    for n in &names {
        entries.push((n, tar::EntryType::Regular, &chunk, None));
    }
    let e = archive_err(&entries);
    assert!(
        e.contains("decompressed chart is larger than the maximum size"),
        "{e}"
    );
}

#[test]
fn corrupt_archives_are_refused() {
    assert!(helm::chart::load_archive_bytes(b"not a gzip stream").is_err());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"not a tar stream at all").unwrap();
    assert!(helm::chart::load_archive_bytes(&gz.finish().unwrap()).is_err());
}

#[cfg(unix)]
#[test]
fn directory_symlink_loops_are_refused() {
    let d = chart_dir(&[("Chart.yaml", CHART_YAML), ("templates/a.yaml", "a: 1")]);
    std::os::unix::fs::symlink(d.path(), d.path().join("templates/loop")).unwrap();
    let e = helm::chart::load(d.path()).unwrap_err().to_string();
    assert!(e.contains("symlink loop"), "{e}");
}

#[test]
fn invalid_yaml_is_reported_where_helm_reports_it() {
    let d = chart_dir(&[("Chart.yaml", "name: [unclosed\n")]);
    let e = helm::chart::load(d.path()).unwrap_err().to_string();
    assert!(
        e.starts_with("cannot load Chart.yaml: error converting YAML to JSON: yaml: "),
        "{e}"
    );

    let d = chart_dir(&[("Chart.yaml", CHART_YAML), ("values.yaml", "a: b: c\n")]);
    let e = helm::chart::load(d.path()).unwrap_err().to_string();
    assert!(e.starts_with("cannot load values.yaml: "), "{e}");

    let d = chart_dir(&[
        ("Chart.yaml", CHART_YAML),
        ("templates/a.yaml", "a: b: c\n"),
    ]);
    let e = template_err(d.path());
    assert!(
        e.starts_with("YAML parse error on evil/templates/a.yaml: error converting YAML to JSON: yaml: mapping values are not allowed in this context"),
        "{e}"
    );

    let d = chart_dir(&[("Chart.yaml", CHART_YAML), ("templates/a.yaml", "{{ if }}")]);
    let e = template_err(d.path());
    assert_eq!(
        e,
        "parse error at (evil/templates/a.yaml:1): missing value for if"
    );
}

#[test]
fn deeply_nested_yaml_values_do_not_overflow() {
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let d = chart_dir(&[
        ("Chart.yaml", CHART_YAML),
        ("values.yaml", &format!("a: {deep}\n")),
    ]);
    // Either loads or refuses; it must not crash the process.
    let _ = helm::chart::load(d.path());
}
