//! A signed request object (JAR, RFC 9101) is single use: the same object (its `jti`) sent
//! again while it is valid, at /authorize or at /par, is refused with `invalid_request_object`
//! and starts no login. An object living more than an hour past its `nbf` is refused too (the
//! FAPI 2.0 rule: `exp - nbf` at most 60 minutes).

use serde_json::{Value, json};
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, PORTAL_CALLBACK, TestProvider, login, on_both_backends, param, spawn_provider,
};

use super::par::{Keyed, authorize_with, keyed_client, request_claims, unix_now};

/// `/authorize` with the object and an outer `redirect_uri` and `state` (where errors go).
fn front(provider: &TestProvider, jwt: &str) -> String {
    authorize_with(
        provider,
        &[
            ("client_id", "keyed-bank"),
            ("redirect_uri", PORTAL_CALLBACK),
            ("state", "outer-state"),
            ("request", jwt),
        ],
    )
}

async fn push(provider: &TestProvider, keyed: &Keyed, jwt: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/par", provider.base))
        .form(&[
            ("client_id", "keyed-bank"),
            ("request", jwt),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &keyed.assertion(&provider.issuer)),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn refused_at_authorize(provider: &TestProvider, jwt: &str) {
    let back = Browser::new(&provider.base)
        .navigate(&front(provider, jwt))
        .await
        .away();
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("invalid_request_object"),
        "{back}"
    );
    assert!(param(&back, "code").is_none());
}

async fn a_request_object_is_used_once(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let keyed = keyed_client(&provider).await;

    // By value at /authorize: the first use logs in, a replay (another browser) is refused,
    // and the same object cannot be pushed afterwards either.
    let jwt = keyed.sign(request_claims(&provider), false);
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, &front(&provider, &jwt), "001095000001").await;
    assert_eq!(param(&back, "state").as_deref(), Some("signed-state"));
    assert!(param(&back, "code").is_some());
    refused_at_authorize(&provider, &jwt).await;
    let (status, body) = push(&provider, &keyed, &jwt).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request_object"))
    );

    // Pushed once: pushing it again, or sending it by value, is refused.
    let pushed = keyed.sign(request_claims(&provider), false);
    let (status, body) = push(&provider, &keyed, &pushed).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = push(&provider, &keyed, &pushed).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request_object"))
    );
    refused_at_authorize(&provider, &pushed).await;

    // Each time within bounds (nbf 30 minutes ago, exp in 32 minutes), but over an hour apart.
    let now = unix_now();
    let mut claims = request_claims(&provider);
    claims["nbf"] = json!(now - 1800);
    claims["exp"] = json!(now + 1920);
    let long = keyed.sign(claims, false);
    refused_at_authorize(&provider, &long).await;
    let (status, body) = push(&provider, &keyed, &long).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request_object"))
    );
}

on_both_backends!(a_request_object_is_used_once);
