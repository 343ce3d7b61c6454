//! Signed eKYC receipts: a bank logs in with the `ekyc_receipt` scope through the SDK, archives
//! the receipt with the key history, and checks it offline after two key rotations with the
//! provider gone; receipts that were altered, signed by another key, signed with `alg` none,
//! or signed by a key outside its validity period are refused.

use base64::Engine;
use josekit::jws::{ES256, JwsHeader};
use serde_json::{Value, json};
use vneid_provider::oidc::types::SigningAlg;
use vneid_sdk::{
    ClientCredentials, KeyHistory, Level, LoginRequest, Predicate, ReceiptError, ScopeSet,
    SdkError, VneidClient, verify_receipt,
};
use vneid_tests::browser::Browser;
use vneid_tests::{Backend, TestProvider, login, on_both_backends, spawn_provider};

const SCOPES: &str = "openid profile identity_number documents ekyc_receipt";

pub(crate) async fn bank(provider: &TestProvider) -> VneidClient {
    VneidClient::discover(
        &provider.issuer,
        "demo-bank",
        ClientCredentials::Secret("demo-bank-secret".into()),
        "http://127.0.0.1:3002/callback",
    )
    .await
    .unwrap()
}

/// A Level 2 login of the demo bank asking for a receipt (and `age_over_18`).
pub(crate) async fn bank_login(
    provider: &TestProvider,
    client: &VneidClient,
) -> Result<vneid_sdk::VerifiedIdentity, SdkError> {
    let request = LoginRequest::new(Level::Level2, ScopeSet::parse(SCOPES).unwrap())
        .with_predicate(Predicate::AgeOver(18));
    let (url, pending) = client.begin(&request);
    let browser = Browser::new(&provider.base);
    let back = login(provider, &browser, url.as_str(), "079198000002").await;
    client.complete(pending, back.query().unwrap_or("")).await
}

async fn get_text(url: &str) -> String {
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn part(jws: &str, i: usize) -> Value {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(jws.split('.').nth(i).unwrap())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn receipt_verified_offline_after_two_key_rotations(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = bank(&provider).await;
    let identity = bank_login(&provider, &client).await.unwrap();
    let signed = identity.receipt.clone().expect("a receipt was asked for");
    let r = &signed.receipt;
    // What the receipt covers: the released claims, the level and how, the verification, the
    // client, the pairwise subject, a transaction id and the issue time.
    assert_eq!(r.claims.iss, provider.issuer);
    assert_eq!(r.claims.aud, "demo-bank");
    assert_eq!(r.claims.sub, identity.subject);
    assert_ne!(r.claims.sub, "079198000002", "pairwise, not the number");
    assert_eq!(r.level, Level::Level2);
    assert!(r.claims.amr.contains(&"otp".to_string()));
    assert_eq!(Some(r.claims.auth_time), identity.auth_time);
    assert_eq!(r.claim("personal_id_number"), Some(&json!("079198000002")));
    assert_eq!(r.claim("name"), Some(&json!("Trần Thị Bình")));
    assert_eq!(r.claim("age_over_18"), Some(&json!(true)));
    assert_eq!(r.claim("documents").unwrap().as_array().unwrap().len(), 3);
    assert_eq!(r.claims.verification["trust_framework"], "vn_eid");
    assert_eq!(r.claims.verification["assurance_level"], "level2");
    assert!(r.claims.txn.len() >= 16);
    assert_eq!(part(&signed.jws, 0)["typ"], "ekyc-receipt+jwt");
    assert!(
        part(&signed.jws, 1).get("exp").is_none(),
        "evidence has no exp"
    );
    let first_kid = r.kid.clone();
    // The provider's audit record of the release names the same transaction.
    let account = provider
        .state
        .store
        .account_by_username("079198000002")
        .await
        .unwrap()
        .unwrap();
    let events = provider
        .state
        .store
        .audit_events(&account.id, 20)
        .await
        .unwrap();
    let release = events
        .iter()
        .find(|(_, kind, _, _)| kind == "claims_released")
        .unwrap();
    let detail: Value = serde_json::from_str(&release.3).unwrap();
    assert_eq!(detail["txn"], r.claims.txn.as_str());
    assert!(
        detail["claims"]
            .as_array()
            .unwrap()
            .contains(&json!("age_over_18"))
    );

    // Two rotations, each dropping the old key from the JWKS at once.
    for _ in 0..2 {
        provider.state.clock.advance(60);
        provider
            .state
            .keys
            .rotate(SigningAlg::Es256, provider.state.now(), 0)
            .await
            .unwrap();
    }
    provider.state.clock.advance(1);
    provider
        .state
        .keys
        .reload(provider.state.now())
        .await
        .unwrap();
    let jwks = get_text(&format!("{}/jwks", provider.base)).await;
    assert!(!jwks.contains(&first_kid), "the first key left the JWKS");
    let discovery: Value = serde_json::from_str(
        &get_text(&format!(
            "{}/.well-known/openid-configuration",
            provider.base
        ))
        .await,
    )
    .unwrap();
    let history_url = discovery["vneid_key_history_uri"].as_str().unwrap();
    let history_now = get_text(history_url).await;
    let base = provider.base.clone();

    // The provider is gone: everything below is offline.
    drop(provider);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert!(reqwest::get(format!("{base}/jwks")).await.is_err());

    // Both the history archived at the login and the one fetched after the rotations verify
    // the receipt; the current ES256 key is another one.
    let archived = KeyHistory::from_json(signed.key_history.json()).unwrap();
    let later = KeyHistory::from_json(&history_now).unwrap();
    assert!(later.kids().count() >= archived.kids().count() + 2);
    for history in [&archived, &later] {
        let checked = verify_receipt(&signed.jws, history).unwrap();
        assert_eq!(&checked, r);
        assert_eq!(checked.kid, first_kid);
    }
}

async fn forged_or_altered_receipts_are_refused(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = bank(&provider).await;
    let identity = bank_login(&provider, &client).await.unwrap();
    let signed = identity.receipt.clone().unwrap();
    let history = KeyHistory::from_json(
        &get_text(&format!("{}/.well-known/vneid-key-history", provider.base)).await,
    )
    .unwrap();
    assert!(verify_receipt(&signed.jws, &history).is_ok());
    let parts: Vec<&str> = signed.jws.split('.').collect();

    // A changed claim under the genuine signature.
    let mut payload = part(&signed.jws, 1);
    payload["claims"]["personal_id_number"] = json!("079198000003");
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        b64(payload.to_string().as_bytes()),
        parts[2]
    );
    assert!(matches!(
        verify_receipt(&altered, &history),
        Err(ReceiptError::Signature)
    ));

    // The same change, signed by the forger's own key under the provider's kid.
    let forger = ES256.generate_key_pair().unwrap();
    let mut header = JwsHeader::new();
    header.set_token_type("ekyc-receipt+jwt");
    header.set_key_id(signed.receipt.kid.clone());
    let signer = ES256.signer_from_der(forger.to_der_private_key()).unwrap();
    let forged =
        josekit::jws::serialize_compact(payload.to_string().as_bytes(), &header, &signer).unwrap();
    assert!(matches!(
        verify_receipt(&forged, &history),
        Err(ReceiptError::Signature)
    ));

    // alg none, with and without a signature part.
    let none = json!({"alg": "none", "typ": "ekyc-receipt+jwt", "kid": signed.receipt.kid});
    for sig in ["", parts[2]] {
        let unsigned = format!(
            "{}.{}.{sig}",
            b64(none.to_string().as_bytes()),
            b64(payload.to_string().as_bytes())
        );
        assert!(matches!(
            verify_receipt(&unsigned, &history),
            Err(ReceiptError::Algorithm(a)) if a == "none"
        ));
    }

    // The ID token of the same login is signed by the same key, but is not a receipt.
    assert!(matches!(
        verify_receipt(&identity.id_token, &history),
        Err(ReceiptError::WrongType(_))
    ));
}

/// A key not valid at the receipt's iat: after a rotation, the provider's clock is set back
/// before the new key existed; the receipt it signs then is backdated, and refused by the SDK
/// at the login (and by `verify_receipt` whenever it is checked).
async fn a_receipt_signed_outside_its_key_s_validity_is_refused(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = bank(&provider).await;
    provider.state.clock.advance(60);
    provider
        .state
        .keys
        .rotate(SigningAlg::Es256, provider.state.now(), 0)
        .await
        .unwrap();
    provider.state.clock.advance(-300);
    match bank_login(&provider, &client).await {
        Err(SdkError::Receipt(ReceiptError::KeyNotValidAt { .. })) => {}
        other => panic!("a backdated receipt was accepted: {other:?}"),
    }
}

/// A GET to an in-process app with the cookies kept so far: status, Location and body.
pub(crate) async fn get_app(
    app: &axum::Router,
    uri: &str,
    cookies: &mut Vec<String>,
) -> (u16, String, String) {
    use tower::ServiceExt;
    let request = axum::http::Request::get(uri)
        .header(axum::http::header::COOKIE, cookies.join("; "))
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    for set in response.headers().get_all(axum::http::header::SET_COOKIE) {
        let pair = set.to_str().unwrap().split(';').next().unwrap().to_string();
        let name = pair.split('=').next().unwrap().to_string();
        cookies.retain(|c| !c.starts_with(&format!("{name}=")));
        cookies.push(pair);
    }
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(axum::http::header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// The bank example: "Open an account" keeps the receipt and the key history with the eKYC
/// record; "Check an archived eKYC record" re-verifies it with the provider stopped, and says
/// so when the archived receipt was tampered with.
async fn the_bank_rechecks_an_archived_record_offline(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let db = std::env::temp_dir().join(format!("bank-receipt-{}.db", rand::random::<u64>()));
    let db_url = format!("sqlite:{}?mode=rwc", db.display());
    let bank = bank_ekyc::app(&provider.issuer, "http://127.0.0.1:3002", &db_url)
        .await
        .unwrap();
    let mut cookies = Vec::new();
    let (status, to_provider, page) = get_app(&bank, "/open", &mut cookies).await;
    assert_eq!(status, 303, "{page}");
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, &to_provider, "079198000002").await;
    let callback = format!("/callback?{}", back.query().unwrap());
    let (status, record, body) = get_app(&bank, &callback, &mut cookies).await;
    assert_eq!(status, 303, "{body}");
    let check = format!("{record}/check");
    let (status, _, page) = get_app(&bank, &check, &mut cookies).await;
    assert_eq!(status, 200);
    assert!(page.contains("Biên nhận hợp lệ"), "{page}");
    assert!(page.contains("urn:vneid:acr:level2") && page.contains("079198000002"));

    // Years later: the provider is gone.
    provider.state.clock.advance(60);
    provider
        .state
        .keys
        .rotate(SigningAlg::Es256, provider.state.now(), 0)
        .await
        .unwrap();
    drop(provider);
    let (_, _, page) = get_app(&bank, &check, &mut cookies).await;
    assert!(page.contains("Biên nhận hợp lệ"), "{page}");

    // Someone edits the archive: the check says the receipt is not genuine.
    let pool = sqlx::SqlitePool::connect(&db_url).await.unwrap();
    let (jws,): (String,) = sqlx::query_as("SELECT receipt FROM ekyc_receipts")
        .fetch_one(&pool)
        .await
        .unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    let mut payload = part(&jws, 1);
    payload["claims"]["name"] = json!("Người Khác");
    let altered = format!(
        "{}.{}.{}",
        parts[0],
        b64(payload.to_string().as_bytes()),
        parts[2]
    );
    sqlx::query("UPDATE ekyc_receipts SET receipt = ?")
        .bind(altered)
        .execute(&pool)
        .await
        .unwrap();
    let (_, _, page) = get_app(&bank, &check, &mut cookies).await;
    assert!(page.contains("KHÔNG hợp lệ"), "{page}");
    assert!(!page.contains("Người Khác"));
    let _ = std::fs::remove_file(db);
}

on_both_backends!(
    the_bank_rechecks_an_archived_record_offline,
    receipt_verified_offline_after_two_key_rotations,
    forged_or_altered_receipts_are_refused,
    a_receipt_signed_outside_its_key_s_validity_is_refused,
);
