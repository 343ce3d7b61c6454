//! Software statements (RFC 7591 2.3), the second gate of the registration endpoint: metadata
//! signed by the operator (here the demo operator's key, configured as a JWKS file) registers a
//! client without the initial access token, and its claims win over the body's. Attacks: a
//! statement signed by another key, with another `iss`, expired, unsigned (`alg: none`),
//! altered after signing, or carrying metadata the command line would refuse: the RFC's error,
//! and no client registered.

use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::JwtPayload;
use serde_json::{Map, Value, json};
use vneid_provider::oidc::software_statement;
use vneid_tests::{Backend, PORTAL_CALLBACK, TestProvider, on_both_backends, spawn_provider_with};

const OPERATOR_KEY: &str = include_str!("../../examples/registry/demo-operator-key.pem");

async fn provider(backend: Backend) -> TestProvider {
    let jwks = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/registry/demo-operator-jwks.json"
    );
    // No initial access token: the statement is the only way in.
    spawn_provider_with(backend, |c| {
        c.clients.software_statement_key = Some(jwks.into())
    })
    .await
}

fn statement_metadata() -> Map<String, Value> {
    json!({
        "client_name": "Ngân hàng được Bộ duyệt",
        "redirect_uris": [PORTAL_CALLBACK],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "openid profile",
        "software_id": "bank-app-2026",
    })
    .as_object()
    .unwrap()
    .clone()
}

fn sign(key_pem: &str, iss: &str, issued: i64) -> String {
    software_statement::sign(
        key_pem,
        Some("demo-operator"),
        iss,
        &statement_metadata(),
        issued,
        Some(3600),
    )
    .unwrap()
}

async fn register(provider: &TestProvider, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/register", provider.base))
        .json(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn client_count(provider: &TestProvider) -> usize {
    provider.state.store.clients().await.unwrap().len()
}

/// The operator's statement registers the client; its name and scopes win over the body's.
async fn a_statement_from_the_operator_registers_a_client(backend: Backend) {
    let provider = provider(backend).await;
    let d: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        d["registration_endpoint"],
        json!(format!("{}/register", provider.issuer)),
        "registration is on with software statements alone"
    );
    let now = provider.state.now();
    let jwt = sign(OPERATOR_KEY, &provider.issuer, now);
    let body = json!({
        "software_statement": jwt,
        "client_name": "Tên tự đặt",
        "scope": "openid profile documents",
        "redirect_uris": [PORTAL_CALLBACK],
    });
    let (status, reg) = register(&provider, &body).await;
    assert_eq!(status, 201, "{reg}");
    assert_eq!(reg["client_name"], "Ngân hàng được Bộ duyệt");
    assert_eq!(reg["scope"], "openid profile", "the statement's scope won");
    assert!(reg["client_secret"].is_string());
    let id = reg["client_id"].as_str().unwrap();
    let stored = provider.state.store.client(id).await.unwrap().unwrap();
    assert_eq!(stored.allowed_scopes, "openid profile");

    // Without a statement, and without the initial access token, nothing gets in.
    let (status, answer) = register(&provider, &json!(statement_metadata())).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (401, Some("invalid_token"))
    );
}

/// Every statement the operator did not sign, or no longer stands behind, is refused.
async fn forged_or_stale_statements_register_nothing(backend: Backend) {
    let provider = provider(backend).await;
    let before = client_count(&provider).await;
    let now = provider.state.now();
    let stranger =
        String::from_utf8(ES256.generate_key_pair().unwrap().to_pem_private_key()).unwrap();
    let genuine = sign(OPERATOR_KEY, &provider.issuer, now);
    let altered = {
        // The signature of the genuine statement over other claims.
        let parts: Vec<&str> = genuine.split('.').collect();
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: Value = serde_json::from_slice(&engine.decode(parts[1]).unwrap()).unwrap();
        claims["scope"] = json!("openid profile documents organization");
        let payload = engine.encode(claims.to_string().as_bytes());
        format!("{}.{payload}.{}", parts[0], parts[2])
    };
    let unsigned = {
        use base64::Engine;
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims = statement_metadata();
        claims.insert("iss".into(), json!(provider.issuer));
        claims.insert("iat".into(), json!(now));
        format!(
            "{}.{}.",
            engine.encode(json!({ "alg": "none", "typ": "JWT" }).to_string()),
            engine.encode(Value::Object(claims).to_string())
        )
    };
    let bad_metadata = {
        let mut metadata = statement_metadata();
        metadata.insert(
            "redirect_uris".into(),
            json!(["http://bank.example/callback"]),
        );
        let mut payload = JwtPayload::new();
        for (k, v) in &metadata {
            payload.set_claim(k, Some(v.clone())).unwrap();
        }
        payload
            .set_claim("iss", Some(json!(provider.issuer)))
            .unwrap();
        payload.set_claim("iat", Some(json!(now))).unwrap();
        let mut header = JwsHeader::new();
        header.set_key_id("demo-operator");
        josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &ES256.signer_from_pem(OPERATOR_KEY).unwrap(),
        )
        .unwrap()
    };
    for (jwt, error) in [
        (
            sign(&stranger, &provider.issuer, now),
            "unapproved_software_statement",
        ),
        (
            sign(OPERATOR_KEY, "https://someone-else.example", now),
            "unapproved_software_statement",
        ),
        (
            sign(OPERATOR_KEY, &provider.issuer, now - 7200),
            "invalid_software_statement",
        ),
        (unsigned, "invalid_software_statement"),
        (altered, "unapproved_software_statement"),
        ("not-a-jwt".to_string(), "invalid_software_statement"),
        (bad_metadata, "invalid_redirect_uri"),
    ] {
        let body = json!({ "software_statement": jwt, "redirect_uris": [PORTAL_CALLBACK] });
        let (status, answer) = register(&provider, &body).await;
        assert_eq!(
            (status, answer["error"].as_str()),
            (400, Some(error)),
            "{jwt}: {answer}"
        );
    }
    let (status, answer) = register(&provider, &json!({ "software_statement": 42 })).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (400, Some("invalid_software_statement"))
    );
    assert_eq!(client_count(&provider).await, before, "nothing registered");
}

on_both_backends!(
    a_statement_from_the_operator_registers_a_client,
    forged_or_stale_statements_register_nothing,
);
