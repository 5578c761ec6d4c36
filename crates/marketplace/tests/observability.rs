//! Observability of the real `marketplace serve`: `/metrics` scraped with the admin token (by real
//! kubectl and curl), request counts and latency histograms by verb/resource/code, open watches,
//! store figures; request ids echoed and carried by JSON log lines; and no per-connection or
//! per-request log lines at the default level, also for clients that send an IP address as TLS SNI.
//! Needs `/usr/bin/kubectl`, `curl` and `openssl` (installed by `scripts/setup`).

mod common;

use std::process::{Command, Stdio};

use common::{Server, poll};

fn tool(name: &str) -> &str {
    assert!(
        Command::new(name)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
            || Command::new(name)
                .arg("version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok(),
        "`{name}` is missing: run scripts/setup"
    );
    name
}

/// `curl -i` against the server; returns (status line + headers, body).
fn curl(s: &Server, path: &str, token: Option<&str>, headers: &[&str]) -> (String, String) {
    let mut cmd = Command::new(tool("curl"));
    cmd.args(["-sS", "-i", "--cacert"])
        .arg(s.ca_path())
        .arg(format!("{}{path}", s.base));
    if let Some(t) = token {
        cmd.arg("-H").arg(format!("Authorization: Bearer {t}"));
    }
    for h in headers {
        cmd.arg("-H").arg(h);
    }
    let out = cmd.output().expect("run curl");
    assert!(
        out.status.success(),
        "curl {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    (head.to_string(), body.to_string())
}

fn scrape(s: &Server) -> String {
    s.ok(&["get", "--raw", "/metrics"])
}

/// Value of the one sample whose line starts with `name{` and contains every `labels` pair.
fn sample(metrics: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let prefix = format!("{name}{{");
    let found: Vec<f64> = metrics
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .filter(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().expect("sample value"))
        .collect();
    assert!(found.len() <= 1, "{name} {labels:?} matches several series");
    found.first().copied()
}

#[test]
fn metrics_need_the_token_and_count_requests_by_verb_resource_and_code() {
    let s = Server::start(&["business"]);
    let (head, _) = curl(&s, "/metrics", None, &[]);
    assert!(
        head.starts_with("HTTP/2 401") || head.starts_with("HTTP/1.1 401"),
        "{head}"
    );

    // The controllers' own ConfigMap requests (each namespace's kube-root-ca.crt) are over once
    // every namespace has one; the counts below are taken from there.
    poll("kube-root-ca.crt in every namespace", || {
        let namespaces = s.ok(&["get", "namespaces", "-o", "name"]).lines().count();
        let cas = s
            .ok(&[
                "get",
                "configmaps",
                "-A",
                "--field-selector=metadata.name=kube-root-ca.crt",
                "-o",
                "name",
            ])
            .lines()
            .count();
        (namespaces > 0 && cas == namespaces).then_some(())
    });
    let before = scrape(&s);

    s.ok(&["create", "configmap", "m1", "--from-literal=a=1"]);
    s.ok(&["get", "configmap", "m1"]);
    let missing = s.kubectl(&["get", "configmap", "nope"]);
    assert!(!missing.status.success());
    s.ok(&["delete", "configmap", "m1", "--wait=false"]);

    let m = scrape(&s);
    let cm_in = |m: &str, verb: &str, code: &str| {
        sample(
            m,
            "apiserver_request_total",
            &[
                ("cluster", "global"),
                ("verb", verb),
                ("group", ""),
                ("version", "v1"),
                ("resource", "configmaps"),
                ("scope", "namespace"),
                ("component", "apiserver"),
                ("code", code),
            ],
        )
    };
    let cm = |verb: &str, code: &str| cm_in(&m, verb, code);
    let added = |verb: &str, code: &str| {
        cm(verb, code).unwrap_or(0.0) - cm_in(&before, verb, code).unwrap_or(0.0)
    };
    assert_eq!(added("POST", "201"), 1.0, "{m}");
    assert_eq!(added("GET", "404"), 1.0, "{m}");
    assert_eq!(added("DELETE", "200"), 1.0, "{m}");
    assert!(cm("GET", "200").is_some_and(|n| n >= 1.0), "{m}");
    // The histogram has kube-apiserver's buckets, and counted the create once.
    for le in ["0.005", "0.025", "1.0", "60.0", "+Inf"] {
        assert!(
            m.lines().any(
                |l| l.starts_with("apiserver_request_duration_seconds_bucket{")
                    && l.contains(r#"verb="POST""#)
                    && l.contains(r#"resource="configmaps""#)
                    && l.contains(&format!(r#"le="{le}""#))
            ),
            "bucket {le}: {m}"
        );
    }
    let post_count = |m: &str| {
        sample(
            m,
            "apiserver_request_duration_seconds_count",
            &[
                ("cluster", "global"),
                ("verb", "POST"),
                ("resource", "configmaps"),
            ],
        )
        .unwrap_or(0.0)
    };
    assert_eq!(post_count(&m) - post_count(&before), 1.0, "{m}");
    // Store figures per cluster.
    for cluster in ["global", "business"] {
        let rev = sample(&m, "marketplace_store_revision", &[("cluster", cluster)]);
        assert!(rev.is_some_and(|r| r >= 1.0), "{cluster}: {m}");
        let size = sample(&m, "apiserver_storage_size_bytes", &[("cluster", cluster)]);
        assert!(size.is_some_and(|b| b > 0.0), "{cluster}: {m}");
    }
    // A workload cluster's kubeconfig scrapes the same document.
    let business = s.kubectl_on("business", &["get", "--raw", "/metrics"]);
    assert!(business.status.success(), "{business:?}");
    assert!(
        String::from_utf8_lossy(&business.stdout)
            .contains("marketplace_store_revision{cluster=\"business\"}")
    );
    let (head, _) = curl(&s, "/kubernetes/nope/metrics", Some(&s.token()), &[]);
    assert!(head.contains(" 404"), "{head}");
    // Unknown URLs do not become label values.
    let (head, _) = curl(
        &s,
        "/apis/made-up.example/v1/things-x42",
        Some(&s.token()),
        &[],
    );
    assert!(head.contains(" 404"), "{head}");
    let m = scrape(&s);
    assert!(
        !m.contains("things-x42") && !m.contains("made-up.example"),
        "{m}"
    );
}

#[test]
fn open_watches_are_counted_until_their_stream_ends() {
    let s = Server::start(&[]);
    // kubectl's watch is of one namespace; the controller host's own watches span all of them.
    let watch_labels = [
        ("cluster", "global"),
        ("verb", "WATCH"),
        ("resource", "configmaps"),
        ("scope", "namespace"),
    ];
    let mut watch = Command::new("/usr/bin/kubectl")
        .args(["get", "configmaps", "--watch", "--request-timeout=0"])
        .env("KUBECONFIG", s.kubeconfig("global"))
        .env("HOME", s.data_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl get --watch");
    poll("the watch to be counted", || {
        let m = scrape(&s);
        (sample(&m, "apiserver_longrunning_requests", &watch_labels) == Some(1.0)).then_some(())
    });
    let m = scrape(&s);
    assert!(
        sample(&m, "marketplace_store_watchers", &[("cluster", "global")])
            .is_some_and(|n| n >= 1.0),
        "{m}"
    );
    watch.kill().expect("stop kubectl");
    let _ = watch.wait();
    poll("the ended watch to be uncounted", || {
        let m = scrape(&s);
        (sample(&m, "apiserver_longrunning_requests", &watch_labels) == Some(0.0)).then_some(())
    });
}

#[test]
fn request_id_is_echoed_and_json_log_lines_carry_it() {
    let s = Server::start_with(
        &[],
        &["--log-format", "json"],
        &[("RUST_LOG", "info,apiserver=debug")],
    );
    let token = s.token();
    let (head, _) = curl(
        &s,
        "/api/v1/namespaces",
        Some(&token),
        &["X-Request-Id: it-42.abc"],
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("x-request-id: it-42.abc"),
        "{head}"
    );
    // Without one (or with a forged one) the server makes one up and still echoes it.
    let (head, _) = curl(&s, "/version", None, &["X-Request-Id: a b"]);
    let echoed = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-request-id: ")
                .map(str::to_string)
        })
        .expect("an x-request-id header");
    assert_eq!(echoed.len(), 36, "a UUID: {echoed}");

    let line = poll("the request's log line", || {
        s.log()
            .lines()
            .find(|l| l.contains("it-42.abc") && l.contains("request done"))
            .map(str::to_string)
    });
    let v: serde_json::Value = serde_json::from_str(&line).expect("a JSON log line");
    let span = &v["span"];
    assert_eq!(span["request_id"], "it-42.abc", "{line}");
    assert_eq!(span["method"], "GET", "{line}");
    assert_eq!(span["path"], "/api/v1/namespaces", "{line}");
    assert_eq!(span["cluster"], "global", "{line}");
    assert_eq!(span["verb"], "LIST", "{line}");
    assert_eq!(span["code"], 200, "{line}");
    assert!(span["latency_ms"].as_f64().is_some(), "{line}");
    for l in s.log().lines() {
        serde_json::from_str::<serde_json::Value>(l)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {l}"));
    }
}

/// Opens a TLS connection that sends `127.0.0.1` as SNI (as wrk and many libraries do).
fn tls_with_ip_sni(s: &Server) {
    let hostport = s.base.trim_start_matches("https://");
    let out = Command::new(tool("openssl"))
        .args([
            "s_client",
            "-connect",
            hostport,
            "-servername",
            "127.0.0.1",
            "-CAfile",
        ])
        .arg(s.ca_path())
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("Verify return code: 0"),
        "handshake: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn clients_sending_an_ip_as_sni_log_nothing_at_the_default_level() {
    // The detector works: with rustls' warnings asked for, the SNI line shows up.
    let loud = Server::start_with(&[], &[], &[("RUST_LOG", "info,rustls=warn")]);
    tls_with_ip_sni(&loud);
    poll("rustls' SNI warning", || {
        loud.log().contains("Illegal SNI").then_some(())
    });

    // The default level, whatever the test runner's environment says.
    let quiet = Server::start_with(&[], &[], &[("RUST_LOG", "info")]);
    for _ in 0..3 {
        tls_with_ip_sni(&quiet);
    }
    quiet.ok(&["get", "namespaces"]);
    // The kubectl request came after the handshakes on the same server: anything they logged is
    // in the file by now.
    let log = quiet.log();
    for noise in ["SNI", "rustls", "WARN", "request", "connection"] {
        assert!(
            !log.contains(noise),
            "`{noise}` logged at the default level:\n{log}"
        );
    }
}
