//! Watches multiplexed over one HTTP/2 connection, as client-go opens them: the server gathers the
//! streams' frames into shared writes (`server::CoalescedWrites`); every stream must still get
//! every event, in order and whole, small or larger than the gathering buffer.

mod support;

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use rustls_pki_types::pem::PemObject;
use serde_json::{Value, json};

const DEADLINE: Duration = Duration::from_secs(60);

async fn h2_connection(
    cp: &apiserver::ControlPlane,
    dir: &std::path::Path,
) -> hyper::client::conn::http2::SendRequest<http_body_util::Empty<bytes::Bytes>> {
    let ca = rustls_pki_types::CertificateDer::from_pem_file(dir.join("pki/ca.crt"))
        .expect("the server's CA certificate (pki/ca.crt)");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let base = cp.base_url();
    let addr = base.trim_start_matches("https://");
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (send, conn) =
        hyper::client::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
            .handshake(hyper_util::rt::TokioIo::new(tls))
            .await
            .unwrap();
    tokio::spawn(conn);
    send
}

#[tokio::test]
async fn many_watches_on_one_http2_connection_each_get_every_event_in_order_and_whole() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = apiserver::Config::new(dir.path());
    cfg.listen = "127.0.0.1:0".parse().unwrap();
    let cp = apiserver::ControlPlane::start(cfg).await.unwrap();
    let api: Api<ConfigMap> = Api::namespaced(cp.client("global").unwrap(), "default");
    let rv = support::list_revision(&api).await;
    let send = h2_connection(&cp, dir.path()).await;
    // Every third object is larger than the server's 64 KiB gathering buffer.
    let size = |i: usize| if i % 3 == 2 { 150_000 } else { 300 };
    let events = 12;
    let mut watchers = Vec::new();
    for _ in 0..40 {
        let mut send = send.clone();
        let req = http::Request::get(format!(
            "{}/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={rv}",
            cp.base_url()
        ))
        .header("authorization", format!("Bearer {}", cp.token()))
        .body(http_body_util::Empty::new())
        .unwrap();
        watchers.push(tokio::spawn(async move {
            send.ready().await.unwrap();
            let resp = send.send_request(req).await.unwrap();
            assert_eq!(resp.status(), 200);
            let mut body = resp.into_body();
            let (mut buf, mut seen) = (Vec::<u8>::new(), Vec::new());
            while seen.len() < events {
                let frame = body.frame().await.expect("stream open").unwrap();
                buf.extend_from_slice(&frame.into_data().unwrap_or_default());
                while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=end).collect();
                    let ev: Value = serde_json::from_slice(&line).expect("a whole JSON line");
                    assert_eq!(ev["type"], "ADDED");
                    let o = &ev["object"];
                    seen.push((
                        o["metadata"]["name"].as_str().unwrap().to_string(),
                        o["data"]["payload"].as_str().unwrap().len(),
                    ));
                }
            }
            seen
        }));
    }
    for i in 0..events {
        let o: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": format!("cm-{i:02}")},
            "data": {"payload": "x".repeat(size(i))},
        }))
        .unwrap();
        api.create(&PostParams::default(), &o).await.unwrap();
    }
    let want: Vec<(String, usize)> = (0..events)
        .map(|i| (format!("cm-{i:02}"), size(i)))
        .collect();
    for w in watchers {
        let seen = tokio::time::timeout(DEADLINE, w)
            .await
            .expect("every watch gets every event in time")
            .unwrap();
        assert_eq!(seen, want);
    }
}
