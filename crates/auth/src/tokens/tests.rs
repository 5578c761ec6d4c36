use super::*;

fn signer() -> ServiceAccountSigner {
    ServiceAccountSigner::from_pem(&generate_signing_key_pem().unwrap(), DEFAULT_ISSUER).unwrap()
}

fn request(exp: i64) -> TokenRequest<'static> {
    TokenRequest {
        namespace: "ns",
        name: "sa",
        uid: "uid-1",
        audiences: vec![],
        expiration_seconds: exp,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn service_account_token_carries_kube_apiserver_claims_and_verifies() {
    let s = signer();
    let t = now();
    let (token, claims) = s.issue(&request(3600), t).unwrap();
    assert!(looks_like_jwt(&token));
    assert_eq!(claims.sub, "system:serviceaccount:ns:sa");
    assert_eq!(claims.exp, t + 3600);
    assert_eq!(claims.aud, [DEFAULT_ISSUER]);
    let payload: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["kubernetes.io"]["namespace"], "ns");
    assert_eq!(payload["kubernetes.io"]["serviceaccount"]["uid"], "uid-1");
    assert_eq!(payload["iss"], DEFAULT_ISSUER);
    let back = s.verify(&token, &[]).unwrap();
    assert_eq!(back, claims);
    let u = back.user();
    assert_eq!(u.name, "system:serviceaccount:ns:sa");
    assert_eq!(u.uid, "uid-1");
}

#[test]
fn tokens_from_another_key_expired_or_for_another_audience_are_refused() {
    let s = signer();
    let (token, _) = s.issue(&request(600), now()).unwrap();
    assert!(signer().verify(&token, &[]).is_err(), "other key");
    let (old, _) = s.issue(&request(600), now() - 700).unwrap();
    assert!(s.verify(&old, &[]).is_err(), "expired");
    let mut r = request(600);
    r.audiences = vec!["vault".into()];
    let (vault, _) = s.issue(&r, now()).unwrap();
    assert!(s.verify(&vault, &[]).is_err(), "audience");
    assert!(s.verify(&vault, &["vault".to_string()]).is_ok());
    let mut tampered = token.clone();
    tampered.replace_range(token.len() - 4.., "AAAA");
    assert!(s.verify(&tampered, &[]).is_err());
}

#[test]
fn too_short_expiration_is_refused_with_kube_apiserver_message() {
    let e = signer().issue(&request(599), now()).unwrap_err();
    assert!(
        e.to_string()
            .contains("may not specify a duration less than 10 minutes")
    );
}

#[test]
fn a_bad_key_file_is_reported() {
    let e = ServiceAccountSigner::from_pem(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        DEFAULT_ISSUER,
    )
    .unwrap_err();
    assert!(e.to_string().contains("signing key is unreadable"));
}

#[test]
fn user_tokens_are_kept_hashed_expire_and_survive_serialisation() {
    let mut store = UserTokens::default();
    let t = now();
    let token = store
        .issue("alice", &["devs".to_string()], Some(60), t)
        .unwrap();
    let persisted = serde_json::to_string(&store).unwrap();
    assert!(!persisted.contains(&token), "plain token persisted");
    let back: UserTokens = serde_json::from_str(&persisted).unwrap();
    let u = back.authenticate(&token, t + 1).unwrap();
    assert_eq!(u.name, "alice");
    assert_eq!(u.groups, ["devs", "system:authenticated"]);
    assert!(back.authenticate(&token, t + 60).is_none(), "expired");
    assert!(back.authenticate("mpu_wrong", t).is_none());
    let mut pruned = back.clone();
    assert!(pruned.prune(t + 61));
    assert!(pruned.tokens.is_empty());
    assert!(store.issue("", &[], None, t).is_err());
    assert!(
        store
            .issue("system:serviceaccount:a:b", &[], None, t)
            .is_err()
    );
    assert!(store.issue("bob", &[], Some(0), t).is_err());
}

#[test]
fn user_tokens_are_revoked_one_by_one_or_per_user_and_carry_extra() {
    let mut store = UserTokens::default();
    let t = now();
    let extra = BTreeMap::from([("gen".to_string(), vec!["1".to_string()])]);
    let a1 = store
        .issue_with_extra("alice", &[], extra, Some(60), t)
        .unwrap();
    let a2 = store.issue("alice", &[], Some(60), t).unwrap();
    let b = store.issue("bob", &[], Some(60), t).unwrap();
    assert_eq!(store.record(&a1, t).unwrap().user.extra["gen"], ["1"]);
    assert!(store.revoke(&a1));
    assert!(!store.revoke(&a1), "a revoked token is gone");
    assert!(store.authenticate(&a1, t).is_none());
    assert!(store.authenticate(&a2, t).is_some());
    assert_eq!(store.revoke_user("alice"), 1);
    assert!(store.authenticate(&a2, t).is_none());
    assert!(
        store.authenticate(&b, t).is_some(),
        "other users keep theirs"
    );
}
