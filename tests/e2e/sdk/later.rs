//! Against our provider: the `claims` request (an essential `acr`, a claim in the ID token,
//! `verified_claims` at UserInfo) and `login_hint`; the tokens for later calls (refresh with
//! rotation, revocation, a bound call to UserInfo), and logout chained to the provider's
//! end-session endpoint with the session's ID token.

use base64::Engine;
use serde_json::Value;
use vneid_sdk::{ClaimsRequest, Level, LoginRequest, SdkError, TokenExchangeError};
use vneid_tests::browser::{Browser, Landing};
use vneid_tests::{Backend, login, on_both_backends, spawn_provider};

use super::{bank, param, query, scopes};

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claims_request_and_a_login_hint_reach_our_provider() {
    let provider = spawn_provider(Backend::Sqlite).await;
    let client = bank(&provider).await;
    let request = LoginRequest::new(Level::Level1, scopes("openid profile"))
        .with_login_hint("001095000001")
        .with_claims(
            ClaimsRequest::new()
                .essential_acr()
                .in_id_token("name", true)
                .verified(&["name", "birthdate"]),
        );
    let (url, pending) = client.begin(&request);
    let asked: Value = serde_json::from_str(&param(&url, "claims").unwrap()).unwrap();
    assert_eq!(
        asked["id_token"]["acr"],
        serde_json::json!({ "essential": true, "values": ["urn:vneid:acr:level1"] })
    );
    assert_eq!(param(&url, "login_hint").as_deref(), Some("001095000001"));

    // The provider's login page is pre-filled with the hint.
    let browser = Browser::new(&provider.base);
    let (_, _, html) = browser.navigate(url.as_str()).await.page();
    assert!(html.contains("value=\"001095000001\""), "{html}");
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();

    // `name` is in the signed ID token itself, not only at UserInfo.
    assert_eq!(payload(&id.id_token)["name"], "Nguyễn Văn An");
    // verified_claims, typed.
    assert_eq!(id.verified_claims.len(), 1, "{:?}", id.claims);
    let verified = &id.verified_claims[0];
    assert_eq!(verified.trust_framework, vneid_contract::TRUST_FRAMEWORK);
    assert_eq!(verified.claims["name"], "Nguyễn Văn An");
    assert_eq!(verified.claims["birthdate"], "1995-03-12");
}

on_both_backends!(refresh_rotation_revocation_and_logout);

async fn refresh_rotation_revocation_and_logout(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = bank(&provider).await;
    let browser = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(
        Level::Level1,
        scopes("openid profile offline_access"),
    ));
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();
    let session = id.session();
    assert_eq!(session.subject, id.subject);
    assert_eq!(session.id_token, id.id_token);
    let first = session.tokens.clone();
    assert!(!first.is_dpop_bound() && first.refresh_token.is_some());
    assert!(first.expires_at.is_some());

    // Refresh rotates both tokens, and the new access token works at UserInfo.
    let second = client.refresh(&first).await.unwrap();
    assert_ne!(second.access_token, first.access_token);
    assert_ne!(second.refresh_token, first.refresh_token);
    let userinfo = format!("{}/userinfo", provider.issuer);
    let call = |tokens: vneid_sdk::Tokens| {
        let client = &client;
        let userinfo = userinfo.clone();
        async move {
            let mut request = reqwest::Client::new().get(&userinfo);
            for (name, value) in client
                .authorization_headers(&tokens, "GET", &userinfo)
                .unwrap()
            {
                request = request.header(name, value);
            }
            request.send().await.unwrap().status().as_u16()
        }
    };
    assert_eq!(call(second.clone()).await, 200);

    // Revoked: neither the refresh token nor the access token works any more.
    client.revoke(&second).await.unwrap();
    match client.refresh(&second).await {
        Err(SdkError::TokenExchange(e @ TokenExchangeError::Refused { .. })) => {
            assert_eq!(e.code(), Some("invalid_grant"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(call(second.clone()).await, 401);

    // Logout chains to the provider with the ID token as the hint, and comes back with the
    // state to the registered address.
    let url = client
        .logout_url(
            &session,
            Some("http://127.0.0.1:3002/logged-out"),
            Some("st-1"),
        )
        .unwrap();
    assert_eq!(
        param(&url, "id_token_hint").as_deref(),
        Some(id.id_token.as_str())
    );
    assert_eq!(param(&url, "client_id").as_deref(), Some("demo-bank"));
    let landing = browser.navigate(url.as_str()).await;
    let Landing::Away(after) = landing else {
        panic!("the provider did not send the browser back");
    };
    assert!(
        after
            .as_str()
            .starts_with("http://127.0.0.1:3002/logged-out")
    );
    assert_eq!(param(&after, "state").as_deref(), Some("st-1"));
    // The provider's session is over: prompt=none now needs a login.
    let mut again = LoginRequest::new(Level::Level1, scopes("openid"));
    again.prompt = Some(vneid_sdk::Prompt::None);
    let (url, pending) = client.begin(&again);
    let back = browser.navigate(url.as_str()).await.away();
    assert!(matches!(
        client.complete(pending, &query(&back)).await,
        Err(SdkError::InteractionRequired(vneid_sdk::Interaction::Login))
    ));
}

/// A pushed request (RFC 9126) with a client secret at our provider: the browser carries only
/// the reference, and what was pushed (the claims request) is what the login honours.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_request_with_a_secret_at_our_provider() {
    let provider = spawn_provider(Backend::Sqlite).await;
    let client = bank(&provider).await;
    let request = LoginRequest::new(Level::Level1, scopes("openid profile"))
        .with_claims(ClaimsRequest::new().verified(&["name"]));
    let (url, pending) = client.begin_pushed(&request).await.unwrap();
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"]);
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();
    assert_eq!(id.verified_claims[0].claims["name"], "Nguyễn Văn An");
    // The reference is single use: a second push is needed for a second login.
    let (again, _) = client.begin_pushed(&request).await.unwrap();
    assert_ne!(param(&again, "request_uri"), param(&url, "request_uri"));
}
