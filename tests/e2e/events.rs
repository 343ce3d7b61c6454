//! Account-status Security Event Tokens: revoking an account at the desk reaches the relying
//! parties that received its claims within one dispatch-and-push cycle, and the portal's session
//! ends; a client without a receiver polls (RFC 8936) and acknowledges; pushes are retried with
//! the same `jti` (at least once); forged or misdirected SETs are refused by the SDK; a
//! supervisor's downgrade at the desk is a CAEP `assurance-level-change` (decrease).

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use base64::Engine;
use serde_json::{Value, json};
use vneid_provider::events::{deliver_due, dispatch_due};
use vneid_sdk::{
    AccountEvent, ClientCredentials, Level, LoginRequest, ScopeSet, SetError, VneidClient,
};
use vneid_tests::browser::Browser;
use vneid_tests::{Backend, TestProvider, login, on_both_backends, spawn_provider};

use crate::receipt::get_app;

/// What the officer's "revoke" (or "lock", "unlock") button does at the desk: the same store
/// call, in one transaction with its audit event.
async fn desk_sets_status(provider: &TestProvider, username: &str, status: &str) {
    let account = provider
        .state
        .store
        .account_by_username(username)
        .await
        .unwrap()
        .unwrap();
    provider
        .state
        .store
        .set_account_status(
            &account,
            status,
            "canbo01",
            "demo station",
            provider.state.now(),
        )
        .await
        .unwrap();
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://127.0.0.1:{port}")
}

async fn sdk_client(provider: &TestProvider, id: &str, port: u16) -> VneidClient {
    VneidClient::discover(
        &provider.issuer,
        id,
        ClientCredentials::Secret(format!("{id}-secret").into()),
        &format!("http://127.0.0.1:{port}/callback"),
    )
    .await
    .unwrap()
}

async fn poll(provider: &TestProvider, client: &str, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/events/poll", provider.base))
        .basic_auth(client, Some(format!("{client}-secret")))
        .json(&body)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

async fn revoking_an_account_at_the_desk_ends_the_portal_session(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let portal = public_portal::app(&provider.issuer, "http://127.0.0.1:3001")
        .await
        .unwrap();
    let receiver = serve(portal.clone()).await;
    vneid_provider::cli::set_event_receiver(
        &provider.state.config,
        "demo-portal",
        Some(&format!("{receiver}/events")),
    )
    .await
    .unwrap();
    let mut cookies = Vec::new();
    let (_, to_login, _) = get_app(&portal, "/records", &mut cookies).await;
    let (_, to_provider, _) = get_app(&portal, &to_login, &mut cookies).await;
    let back = login(
        &provider,
        &Browser::new(&provider.base),
        &to_provider,
        "001095000001",
    )
    .await;
    let callback = format!("/callback?{}", back.query().unwrap());
    get_app(&portal, &callback, &mut cookies).await;
    let (status, _, _) = get_app(&portal, "/records", &mut cookies).await;
    assert_eq!(status, 200);

    desk_sets_status(&provider, "001095000001", "revoked").await;
    // One cycle of the worker (it also runs in the background; either delivers once).
    dispatch_due(&provider.state).await.unwrap();
    deliver_due(&provider.state, &reqwest::Client::new())
        .await
        .unwrap();
    let (status, location, _) = get_app(&portal, "/records", &mut cookies).await;
    assert_eq!(status, 303, "the portal's session ended");
    assert!(location.starts_with("/login"), "{location}");
    // The bank never received this citizen's claims: it hears nothing.
    let (status, body) = poll(&provider, "demo-bank", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["sets"], json!({}), "{body}");
}

async fn a_client_without_receiver_polls_and_acknowledges(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let bank = sdk_client(&provider, "demo-bank", 3002).await;
    let (url, pending) = bank.begin(&LoginRequest::new(
        Level::Level2,
        ScopeSet::parse("openid profile").unwrap(),
    ));
    let back = login(
        &provider,
        &Browser::new(&provider.base),
        url.as_str(),
        "079198000002",
    )
    .await;
    let identity = bank.complete(pending, back.query().unwrap()).await.unwrap();

    desk_sets_status(&provider, "079198000002", "locked").await;
    dispatch_due(&provider.state).await.unwrap();
    let (status, body) = poll(&provider, "demo-bank", json!({ "maxEvents": 10 })).await;
    assert_eq!(status, 200, "{body}");
    let sets = body["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1, "{body}");
    let (jti, set) = sets.iter().next().unwrap();
    let set = set.as_str().unwrap();
    let event = bank.verify_security_event(set).await.unwrap();
    assert_eq!(&event.jti, jti);
    assert_eq!(
        event.subject, identity.subject,
        "the pairwise sub the bank knows"
    );
    assert_eq!(event.events[0].0, AccountEvent::AccountDisabled);
    assert_eq!(event.events[0].1["vneid_status"], "locked");
    assert!(event.ends_sessions());

    // Another client's credentials get nothing; the portal's SDK refuses the bank's SET.
    let (_, other) = poll(&provider, "demo-portal", json!({})).await;
    assert_eq!(other["sets"], json!({}));
    let portal = sdk_client(&provider, "demo-portal", 3001).await;
    assert!(matches!(
        portal.verify_security_event(set).await,
        Err(SetError::Audience)
    ));
    // Wrong credentials: 401.
    let unauthenticated = reqwest::Client::new()
        .post(format!("{}/events/poll", provider.base))
        .basic_auth("demo-bank", Some("guess"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    // An altered SET (the subject swapped) and one signed `none` are refused.
    let parts: Vec<&str> = set.split('.').collect();
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let mut payload: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap(),
    )
    .unwrap();
    payload["sub_id"]["sub"] = json!("someone-else");
    let altered = format!("{}.{}.{}", parts[0], b64(&payload), parts[2]);
    assert!(matches!(
        bank.verify_security_event(&altered).await,
        Err(SetError::Signature)
    ));
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "secevent+jwt"})),
        parts[1]
    );
    assert!(matches!(
        bank.verify_security_event(&none).await,
        Err(SetError::Algorithm(_))
    ));
    // The ID token is signed by the same key but is not an event.
    assert!(matches!(
        bank.verify_security_event(&identity.id_token).await,
        Err(SetError::WrongType(_))
    ));

    // Until acknowledged it is offered again; after, not. Unlocking is the next event.
    let (_, again) = poll(&provider, "demo-bank", json!({})).await;
    assert!(again["sets"].get(jti).is_some());
    let (_, after) = poll(&provider, "demo-bank", json!({ "ack": [jti] })).await;
    assert_eq!(after["sets"], json!({}), "{after}");
    desk_sets_status(&provider, "079198000002", "active").await;
    dispatch_due(&provider.state).await.unwrap();
    let (_, enabled) = poll(&provider, "demo-bank", json!({})).await;
    let set = enabled["sets"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    let event = bank
        .verify_security_event(set.as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(event.events[0].0, AccountEvent::AccountEnabled);
    assert!(!event.ends_sessions());
}

async fn a_failed_push_is_retried_with_the_same_jti(backend: Backend) {
    let provider = spawn_provider(backend).await;
    // A receiver that is down once, then accepts; it records what it was sent.
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = received.clone();
    let receiver = axum::Router::new().route(
        "/events",
        axum::routing::post(move |body: String| {
            let seen = seen.clone();
            async move {
                let mut seen = seen.lock().unwrap();
                seen.push(body);
                if seen.len() == 1 {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::ACCEPTED
                }
            }
        }),
    );
    let url = serve(receiver).await;
    vneid_provider::cli::set_event_receiver(
        &provider.state.config,
        "demo-bank",
        Some(&format!("{url}/events")),
    )
    .await
    .unwrap();
    let bank = sdk_client(&provider, "demo-bank", 3002).await;
    let (login_url, pending) = bank.begin(&LoginRequest::new(
        Level::Level1,
        ScopeSet::parse("openid profile").unwrap(),
    ));
    let back = login(
        &provider,
        &Browser::new(&provider.base),
        login_url.as_str(),
        "001095000001",
    )
    .await;
    bank.complete(pending, back.query().unwrap()).await.unwrap();

    desk_sets_status(&provider, "001095000001", "locked").await;
    let http = reqwest::Client::new();
    dispatch_due(&provider.state).await.unwrap();
    // The background worker may have made the first attempt already; drive until delivered.
    for _ in 0..3 {
        deliver_due(&provider.state, &http).await.unwrap();
        provider.state.clock.advance(120);
    }
    let seen = received.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "refused once, then delivered once");
    assert_eq!(seen[0], seen[1], "the same SET, so the same jti");
    let event = bank.verify_security_event(&seen[1]).await.unwrap();
    assert_eq!(event.events[0].0, AccountEvent::AccountDisabled);
    // Delivered: not offered at the poll endpoint any more.
    let (_, body) = poll(&provider, "demo-bank", json!({})).await;
    assert_eq!(body["sets"], json!({}), "{body}");
}

/// A supervisor takes the Level 2 demo citizen down to Level 1 at the desk: the bank, which
/// received claims from a Level 2 login, polls a CAEP `assurance-level-change` that says so
/// (the same audit event a registry re-sync's downgrade writes).
async fn a_downgrade_at_the_desk_is_an_assurance_level_change(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let bank = sdk_client(&provider, "demo-bank", 3002).await;
    let (url, pending) = bank.begin(&LoginRequest::new(
        Level::Level2,
        ScopeSet::parse("openid profile").unwrap(),
    ));
    let back = login(
        &provider,
        &Browser::new(&provider.base),
        url.as_str(),
        "079198000002",
    )
    .await;
    let identity = bank.complete(pending, back.query().unwrap()).await.unwrap();
    let supervisor = Browser::new(&provider.base);
    crate::journey::officer_login_as(&provider, &supervisor, "giamsat01").await;
    crate::law::desk_post(
        &supervisor,
        &provider,
        "/desk/accounts/079198000002/downgrade",
        &[],
    )
    .await;
    dispatch_due(&provider.state).await.unwrap();
    let (status, body) = poll(&provider, "demo-bank", json!({})).await;
    assert_eq!(status, 200, "{body}");
    let sets = body["sets"].as_object().unwrap();
    assert_eq!(sets.len(), 1, "{body}");
    let set = sets.values().next().unwrap().as_str().unwrap();
    let event = bank.verify_security_event(set).await.unwrap();
    assert_eq!(event.subject, identity.subject);
    let (kind, members) = &event.events[0];
    assert_eq!(*kind, AccountEvent::AssuranceLevelChange);
    assert_eq!(members["change_direction"], "decrease");
    assert_eq!(members["previous_level"], "urn:vneid:acr:level2");
    assert_eq!(members["current_level"], "urn:vneid:acr:level1");
    assert_eq!(members["reason_admin"]["en"], "officer_decision");
    // The portal, which never received claims about her, hears nothing.
    let (_, other) = poll(&provider, "demo-portal", json!({})).await;
    assert_eq!(other["sets"], json!({}));
}

on_both_backends!(
    a_downgrade_at_the_desk_is_an_assurance_level_change,
    revoking_an_account_at_the_desk_ends_the_portal_session,
    a_client_without_receiver_polls_and_acknowledges,
    a_failed_push_is_retried_with_the_same_jti,
);
