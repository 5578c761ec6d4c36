//! Helm's Secret storage driver (`pkg/storage/driver/secrets.go`): one Secret per revision named
//! `sh.helm.release.v1.<name>.v<N>`, type `helm.sh/release.v1`, `data.release` =
//! base64(gzip(JSON)) (the API adds its own base64 on top), labels `name`, `owner=helm`, `status`,
//! `version`, plus `createdAt` (create) or `modifiedAt` (update) as Unix seconds, and the release's
//! own labels. [`encode`]/[`decode`] are pure; [`Storage`] does the I/O.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use base64::Engine as _;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Client;
use kube::api::{Api, DeleteParams, ListParams, ObjectMeta, PostParams};

use crate::Error;
use crate::model::Release;

/// Secret type of Helm 3/4 releases.
pub const SECRET_TYPE: &str = "helm.sh/release.v1";
/// Labels Helm keeps for itself on the Secret (the rest are the release's own labels).
const SYSTEM_LABELS: &[&str] = &[
    "name",
    "owner",
    "status",
    "version",
    "createdAt",
    "modifiedAt",
];
/// A stored release larger than this once decompressed is refused (Helm has no bound; a Secret is
/// at most 1 MiB compressed, so real releases stay far below).
const MAX_DECODED: u64 = 256 * 1024 * 1024;

/// `sh.helm.release.v1.<name>.v<version>`.
pub fn secret_name(name: &str, version: i64) -> String {
    format!("sh.helm.release.v1.{name}.v{version}")
}

/// The release as Helm's JSON: Go's `json.Marshal` output (HTML-safe escaping of `<`, `>`, `&`,
/// U+2028 and U+2029, which serde_json leaves as is; they only occur inside strings).
pub fn release_json(r: &Release) -> Result<Vec<u8>, Error> {
    let text = serde_json::to_string(r).map_err(|e| Error::Encode(e.to_string()))?;
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    Ok(out.into_bytes())
}

/// `data.release`: base64(gzip(JSON)) at best compression, as Helm's `encodeRelease`.
pub fn encode(r: &Release) -> Result<String, Error> {
    let json = release_json(r)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json)
        .and_then(|_| gz.finish())
        .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes))
        .map_err(|e| Error::Encode(e.to_string()))
}

/// Helm's `decodeRelease`: base64, gunzip when the gzip magic is present, JSON.
pub fn decode(data: &[u8]) -> Result<Release, Error> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(data.trim_ascii())
        .map_err(|e| Error::Decode(format!("base64: {e}")))?;
    let json = if raw.starts_with(&[0x1f, 0x8b, 0x08]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .take(MAX_DECODED + 1)
            .read_to_end(&mut out)
            .map_err(|e| Error::Decode(format!("gzip: {e}")))?;
        if out.len() as u64 > MAX_DECODED {
            return Err(Error::Decode(format!(
                "release is larger than {MAX_DECODED} bytes decompressed"
            )));
        }
        out
    } else {
        raw
    };
    serde_json::from_slice(&json).map_err(|e| Error::Decode(format!("json: {e}")))
}

/// The Secret holding a revision; `stamp` is `("createdAt" | "modifiedAt", unix seconds)`.
pub fn to_secret(r: &Release, stamp: (&str, i64)) -> Result<Secret, Error> {
    let mut labels: BTreeMap<String, String> = r.labels.clone();
    labels.insert(stamp.0.into(), stamp.1.to_string());
    labels.insert("name".into(), r.name.clone());
    labels.insert("owner".into(), "helm".into());
    labels.insert("status".into(), r.info.status.to_string());
    labels.insert("version".into(), r.version.to_string());
    Ok(Secret {
        metadata: ObjectMeta {
            name: Some(secret_name(&r.name, r.version)),
            namespace: Some(r.namespace.clone()),
            labels: Some(labels),
            ..ObjectMeta::default()
        },
        type_: Some(SECRET_TYPE.into()),
        data: Some(BTreeMap::from([(
            "release".to_string(),
            ByteString(encode(r)?.into_bytes()),
        )])),
        ..Secret::default()
    })
}

/// Reads a release Secret: the decoded release with the Secret's non-system labels.
pub fn from_secret(s: &Secret) -> Result<Release, Error> {
    let name = s.metadata.name.clone().unwrap_or_default();
    let data = s
        .data
        .as_ref()
        .and_then(|d| d.get("release"))
        .ok_or_else(|| Error::Decode(format!("secret {name} has no data.release")))?;
    let mut r = decode(&data.0).map_err(|e| Error::Decode(format!("secret {name}: {e}")))?;
    r.labels = s
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !SYSTEM_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(r)
}

fn now_unix() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Release Secrets in a cluster.
#[derive(Clone)]
pub struct Storage {
    client: Client,
}

impl Storage {
    pub fn new(client: Client) -> Storage {
        Storage { client }
    }

    fn api(&self, namespace: &str) -> Api<Secret> {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Stores a new revision (`createdAt`); an existing one is [`Error::ReleaseExists`].
    pub async fn create(&self, r: &Release) -> Result<(), Error> {
        let s = to_secret(r, ("createdAt", now_unix()))?;
        match self
            .api(&r.namespace)
            .create(&PostParams::default(), &s)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 409 => Err(Error::ReleaseExists(r.name.clone())),
            Err(e) => Err(Error::kube("create: failed to create", e)),
        }
    }

    /// Rewrites a revision (`modifiedAt`), as Helm's unconditional update.
    pub async fn update(&self, r: &Release) -> Result<(), Error> {
        let s = to_secret(r, ("modifiedAt", now_unix()))?;
        let name = secret_name(&r.name, r.version);
        self.api(&r.namespace)
            .replace(&name, &PostParams::default(), &s)
            .await
            .map(|_| ())
            .map_err(|e| Error::kube("update: failed to update", e))
    }

    /// Every revision of a release, oldest first.
    pub async fn history(&self, name: &str, namespace: &str) -> Result<Vec<Release>, Error> {
        let lp = ListParams::default().labels(&format!("owner=helm,name={name}"));
        let list = self
            .api(namespace)
            .list(&lp)
            .await
            .map_err(|e| Error::kube("query: failed to query with labels", e))?;
        let mut out: Vec<Release> = list
            .items
            .iter()
            .filter(|s| s.type_.as_deref() == Some(SECRET_TYPE))
            .filter_map(|s| from_secret(s).ok())
            .filter(|r| r.name == name)
            .collect();
        out.sort_by_key(|r| r.version);
        Ok(out)
    }

    /// The latest revision of every release in a namespace (all namespaces with `None`), by name.
    pub async fn list_latest(&self, namespace: Option<&str>) -> Result<Vec<Release>, Error> {
        let api: Api<Secret> = match namespace {
            Some(ns) => self.api(ns),
            None => Api::all(self.client.clone()),
        };
        let list = api
            .list(&ListParams::default().labels("owner=helm"))
            .await
            .map_err(|e| Error::kube("list: failed to list", e))?;
        let mut latest: BTreeMap<(String, String), Release> = BTreeMap::new();
        for s in list
            .items
            .iter()
            .filter(|s| s.type_.as_deref() == Some(SECRET_TYPE))
        {
            let Ok(r) = from_secret(s) else { continue };
            let key = (r.namespace.clone(), r.name.clone());
            if latest.get(&key).is_none_or(|x| x.version < r.version) {
                latest.insert(key, r);
            }
        }
        let mut out: Vec<Release> = latest.into_values().collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then(a.namespace.cmp(&b.namespace)));
        Ok(out)
    }

    /// Deletes one revision's Secret (gone already is fine).
    pub async fn delete(&self, name: &str, namespace: &str, version: i64) -> Result<(), Error> {
        match self
            .api(namespace)
            .delete(&secret_name(name, version), &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
            Err(e) => Err(Error::kube("delete: failed to delete", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Info, Status};

    /// `data.release` that Helm v4.2.3 (helm-python-sdk) wrote into `marketplace serve` for
    /// revision 2 of a one-ConfigMap chart with a pre-install/pre-upgrade hook.
    const HELM_STORED: &str = include_str!("../testdata/helm-4.2.3-r1.v2.release");

    #[test]
    fn decodes_what_helm_stored_and_reencodes_the_same_json() {
        let r = decode(HELM_STORED.as_bytes()).unwrap();
        assert_eq!(
            (r.name.as_str(), r.namespace.as_str(), r.version),
            ("r1", "ns1", 2)
        );
        assert_eq!(r.info.status, Status::Deployed);
        assert_eq!(r.info.description, "Upgrade complete");
        assert_eq!(r.chart_label(), "demo-0.1.0");
        assert_eq!(r.config["msg"], "yo2");
        assert_eq!(r.hooks[0].weight, -5);
        assert_eq!(r.hooks[0].delete_policies, ["before-hook-creation"]);
        assert_eq!(r.apply_method, "ssa");
        // Our JSON of Helm's release is byte-for-byte the JSON Helm wrote.
        let raw = base64::engine::general_purpose::STANDARD
            .decode(HELM_STORED.trim())
            .unwrap();
        let mut helm_json = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut helm_json)
            .unwrap();
        assert_eq!(
            String::from_utf8(release_json(&r).unwrap()).unwrap(),
            String::from_utf8(helm_json).unwrap()
        );
    }

    #[test]
    fn encode_decode_round_trips_and_labels_follow_helm() {
        let r = Release {
            name: "r1".into(),
            namespace: "ns1".into(),
            version: 3,
            info: Info {
                status: Status::Superseded,
                description: "a <b> & c".into(),
                ..Info::default()
            },
            manifest: "---\n# Source: demo/templates/cm.yaml\n".into(),
            labels: BTreeMap::from([("team".to_string(), "x".to_string())]),
            ..Release::default()
        };
        let json = String::from_utf8(release_json(&r).unwrap()).unwrap();
        assert!(
            json.contains(r#""description":"a \u003cb\u003e \u0026 c""#),
            "{json}"
        );
        let s = to_secret(&r, ("modifiedAt", 17)).unwrap();
        assert_eq!(s.metadata.name.as_deref(), Some("sh.helm.release.v1.r1.v3"));
        assert_eq!(s.type_.as_deref(), Some("helm.sh/release.v1"));
        let labels = s.metadata.labels.clone().unwrap();
        assert_eq!(labels["status"], "superseded");
        assert_eq!(labels["version"], "3");
        assert_eq!(labels["owner"], "helm");
        assert_eq!(labels["modifiedAt"], "17");
        let back = from_secret(&s).unwrap();
        assert_eq!(back, r);
        let gz = base64::engine::general_purpose::STANDARD
            .decode(&s.data.unwrap()["release"].0)
            .unwrap();
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 0x08], "gzip magic");
    }

    #[test]
    fn decode_reads_uncompressed_and_refuses_garbage() {
        let plain = base64::engine::general_purpose::STANDARD.encode(r#"{"name":"x","version":2}"#);
        let r = decode(plain.as_bytes()).unwrap();
        assert_eq!((r.name.as_str(), r.version), ("x", 2));
        assert!(decode(b"!!!").unwrap_err().to_string().contains("base64"));
    }
}
