//! Authentication against real docker-registry instances: htpasswd Basic auth and a bearer-token
//! service (a small token issuer in the test, trusted through the registry's `rootcertbundle`).
//! Wrong credentials fail with a message naming the registry and its reason.

mod common;

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use common::*;
use oci::auth::Credentials;
use oci::copy::{CopyOptions, Dest, Location, Source, copy};
use oci::localregistry::{Config, LocalRegistry, TokenAuth};
use rand::SeedableRng;

async fn push(src: &str, dst: &str, creds: Option<&str>) -> oci::Result<oci::copy::CopyReport> {
    let opts = oci::Options {
        credentials: creds.map(|c| Credentials::parse(c).unwrap()),
        ..insecure()
    };
    let s = Source::open(&Location::parse(src)?, &opts).await?;
    let d = Dest::open(&Location::parse(dst)?, &opts).await?;
    copy(&s, &d, &CopyOptions::default()).await
}

#[tokio::test]
async fn htpasswd_registry_accepts_the_right_password_and_names_itself_when_refusing() {
    require("htpasswd");
    let tmp = tempfile::tempdir().unwrap();
    let pw = tmp.path().join("htpasswd");
    let out = std::process::Command::new("htpasswd")
        .args(["-Bbc", pw.to_str().unwrap(), "alice", "s3cret"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cfg = Config {
        dir: tmp.path().join("reg"),
        htpasswd: Some(pw),
        ..Default::default()
    };
    let reg = LocalRegistry::start(cfg, Duration::from_secs(30))
        .await
        .unwrap();
    let host = reg.host();
    let img = tmp.path().join("img");
    make_image(
        &img,
        "v1",
        1,
        1000,
        &mut rand::rngs::StdRng::seed_from_u64(5),
    );
    let src = format!("oci:{}:v1", img.display());
    let dst = format!("docker://{host}/private/app:v1");

    let e = push(&src, &dst, Some("alice:wrong"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!(
            "registry {host} refused the credentials of user \"alice\""
        )),
        "{e}"
    );
    assert!(
        e.contains("HTTP 401 Unauthorized"),
        "the registry's answer is kept: {e}"
    );
    let e = push(&src, &dst, None).await.unwrap_err().to_string();
    assert!(
        e.contains(&host) && e.contains("no credentials were given"),
        "{e}"
    );

    let r = push(&src, &dst, Some("alice:s3cret")).await.unwrap();
    // Docker config.json credentials give the same access.
    let cfgjson = tmp.path().join("config.json");
    std::fs::write(
        &cfgjson,
        format!(
            r#"{{"auths":{{"{host}":{{"auth":"{}"}}}}}}"#,
            STANDARD.encode("alice:s3cret")
        ),
    )
    .unwrap();
    let creds = oci::auth::lookup_credentials(&[cfgjson], &host)
        .unwrap()
        .expect("found in config.json");
    let opts = oci::Options {
        credentials: Some(creds),
        ..insecure()
    };
    let reg_client = oci::Registry::connect(&host, opts).await.unwrap();
    assert_eq!(reg_client.tags("private/app").await.unwrap(), vec!["v1"]);
    assert_eq!(
        reg_client
            .get_manifest("private/app", "v1")
            .await
            .unwrap()
            .digest,
        r.digest
    );
}

/// The token issuer: Basic-authenticates `bob:pw`, grants the scopes asked for, signs ES256 JWTs
/// with a certificate the registry trusts (sent in the `x5c` header).
#[derive(Clone)]
struct Issuer {
    key_pkcs8: Vec<u8>,
    cert_der: Vec<u8>,
    service: String,
    issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

async fn token(
    State(iss): State<Issuer>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Result<axum::Json<serde_json::Value>, (StatusCode, String)> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Basic {}", STANDARD.encode("bob:pw")) {
        return Err((
            StatusCode::UNAUTHORIZED,
            "{\"details\":\"incorrect username or password\"}".into(),
        ));
    }
    let params: HashMap<&str, Vec<&str>> = q.iter().fold(HashMap::new(), |mut m, (k, v)| {
        m.entry(k.as_str()).or_default().push(v.as_str());
        m
    });
    assert_eq!(
        params.get("service").map(|v| v[0]),
        Some(iss.service.as_str()),
        "the client passes the challenge's service"
    );
    let access: Vec<serde_json::Value> = params
        .get("scope")
        .into_iter()
        .flatten()
        .filter_map(|s| {
            let mut p = s.splitn(3, ':');
            let (t, n, a) = (p.next()?, p.next()?, p.next()?);
            Some(serde_json::json!({"type": t, "name": n, "actions": a.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header =
        serde_json::json!({"alg": "ES256", "typ": "JWT", "x5c": [STANDARD.encode(&iss.cert_der)]});
    let n = iss.issued.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let claims = serde_json::json!({"iss": "test-issuer", "sub": "bob", "aud": iss.service, "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("t{n}"), "access": access});
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let rng = ring::rand::SystemRandom::new();
    let key = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &iss.key_pkcs8,
        &rng,
    )
    .unwrap();
    let sig = key.sign(&rng, signing_input.as_bytes()).unwrap();
    Ok(axum::Json(
        serde_json::json!({"token": format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref())), "expires_in": 300}),
    ))
}

// Multi-threaded: the token issuer must answer skopeo while the test thread waits for skopeo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_token_registry_works_through_the_token_service_and_refusals_name_it() {
    let tmp = tempfile::tempdir().unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["token-issuer".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let bundle = tmp.path().join("issuer.pem");
    std::fs::write(&bundle, cert.pem()).unwrap();
    let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let iss = Issuer {
        key_pkcs8: key.serialize_der(),
        cert_der: cert.der().to_vec(),
        service: "test-registry".into(),
        issued: issued.clone(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let realm = format!("http://{}/token", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/token", axum::routing::get(token))
        .with_state(iss);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let token = TokenAuth {
        realm: realm.clone(),
        service: "test-registry".into(),
        issuer: "test-issuer".into(),
        root_cert_bundle: bundle,
    };
    let cfg = Config {
        dir: tmp.path().join("reg"),
        token: Some(token),
        ..Default::default()
    };
    let reg = LocalRegistry::start(cfg, Duration::from_secs(30))
        .await
        .unwrap();
    let host = reg.host();
    let img = tmp.path().join("img");
    make_index(&img, "v1", &mut rand::rngs::StdRng::seed_from_u64(6));
    let src = format!("oci:{}:v1", img.display());

    let e = push(
        &src,
        &format!("docker://{host}/team/app:v1"),
        Some("bob:nope"),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(&format!(
            "registry {host} refused the credentials of user \"bob\""
        )) && e.contains(&realm)
            && e.contains("incorrect username or password"),
        "{e}"
    );

    let r = push(
        &src,
        &format!("docker://{host}/team/app:v1"),
        Some("bob:pw"),
    )
    .await
    .unwrap();
    let first_tokens = issued.load(std::sync::atomic::Ordering::SeqCst);
    assert!(first_tokens >= 1);
    // Registry-to-registry in the same registry mounts blobs (pull scope on the source repository).
    let totals = std::sync::Arc::new(oci::progress::Totals::default());
    let opts = oci::Options {
        credentials: Some(Credentials::parse("bob:pw").unwrap()),
        ..insecure()
    };
    let s = Source::open(
        &Location::parse(&format!("docker://{host}/team/app:v1")).unwrap(),
        &opts,
    )
    .await
    .unwrap();
    let d = Dest::open(
        &Location::parse(&format!("docker://{host}/team/copy:v1")).unwrap(),
        &opts,
    )
    .await
    .unwrap();
    let c = copy(
        &s,
        &d,
        &CopyOptions {
            progress: totals.sink(oci::progress::none()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(c.digest, r.digest);
    assert_eq!(
        oci::progress::Totals::get(&totals.bytes_sent),
        0,
        "nothing is re-sent inside one registry"
    );
    assert!(
        oci::progress::Totals::get(&totals.blobs_mounted) >= 4,
        "blobs were mounted: {totals:?}"
    );
    assert_eq!(
        skopeo_digest_with_creds(&format!("docker://{host}/team/copy:v1"), "bob:pw"),
        r.digest
    );
}

fn skopeo_digest_with_creds(loc: &str, creds: &str) -> oci::Digest {
    let out = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        creds,
        loc,
    ]);
    oci::Digest::of(out.as_bytes())
}

#[tokio::test]
async fn tls_registry_is_trusted_through_a_custom_ca_and_refused_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "test registry CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let (cert_path, key_path) = (tmp.path().join("tls.crt"), tmp.path().join("tls.key"));
    std::fs::write(&cert_path, leaf.pem()).unwrap();
    std::fs::write(&key_path, leaf_key.serialize_pem()).unwrap();
    let cfg = Config {
        dir: tmp.path().join("reg"),
        tls: Some((cert_path, key_path)),
        ..Default::default()
    };
    let reg = LocalRegistry::start(cfg, Duration::from_secs(30))
        .await
        .unwrap();
    let host = reg.host();

    let e = oci::Registry::connect(
        &host,
        oci::Options {
            max_attempts: 1,
            ..Default::default()
        },
    )
    .await
    .err()
    .expect("an unknown CA is refused")
    .to_string();
    assert!(e.contains(&host), "{e}");
    let trusted = oci::Options {
        ca_pem: vec![ca_cert.pem().into_bytes()],
        ..Default::default()
    };
    let img = tmp.path().join("img");
    let want = make_image(
        &img,
        "v1",
        1,
        500,
        &mut rand::rngs::StdRng::seed_from_u64(12),
    );
    let s = Source::open(
        &Location::parse(&format!("oci:{}:v1", img.display())).unwrap(),
        &trusted,
    )
    .await
    .unwrap();
    let d = Dest::open(
        &Location::parse(&format!("docker://{host}/secure:v1")).unwrap(),
        &trusted,
    )
    .await
    .unwrap();
    assert_eq!(
        copy(&s, &d, &CopyOptions::default()).await.unwrap().digest,
        want
    );
    assert_eq!(
        d_registry(&host, trusted).await.base_url().scheme(),
        "https"
    );
}

async fn d_registry(host: &str, opts: oci::Options) -> oci::Registry {
    oci::Registry::connect(host, opts).await.unwrap()
}
