//! Revocation (RFC 7009) and introspection (RFC 7662). Attacks: a client revoking another
//! client's token (nothing happens, and the answer does not say so); a client that is not a
//! resource server introspecting (403 `unauthorized_client`, no token data).

use serde_json::Value;
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, PORTAL_CALLBACK, TestProvider, VERIFIER, login, on_both_backends, param,
    spawn_provider,
};

/// Logs in to the demo portal with `offline_access`; returns the token response.
async fn tokens(provider: &TestProvider) -> Value {
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("scope", "openid profile offline_access")]);
    let back = login(provider, &browser, &url, "001095000001").await;
    let (status, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["refresh_token"].is_string());
    body
}

async fn post(
    provider: &TestProvider,
    path: &str,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", provider.base))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

const PORTAL: (&str, &str) = ("demo-portal", "demo-portal-secret");
const BANK: (&str, &str) = ("demo-bank", "demo-bank-secret");

async fn refresh(provider: &TestProvider, token: &str) -> (u16, Value) {
    post(
        provider,
        "/token",
        PORTAL,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

async fn userinfo_status(provider: &TestProvider, access: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Revoking a refresh token revokes its family; unknown tokens answer 200; another client's
/// token is left alone.
async fn revocation_takes_the_family_and_only_ones_own(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let issued = tokens(&provider).await;
    let refresh_token = issued["refresh_token"].as_str().unwrap();
    let access = issued["access_token"].as_str().unwrap();

    // demo-bank tries to revoke the portal's tokens: 200, and nothing happens.
    for token in [refresh_token, access] {
        let (status, _) = post(&provider, "/revoke", BANK, &[("token", token)]).await;
        assert_eq!(status, 200);
    }
    assert_eq!(userinfo_status(&provider, access).await, 200);
    let (status, rotated) = refresh(&provider, refresh_token).await;
    assert_eq!(status, 200, "still live: {rotated}");
    let refresh_token = rotated["refresh_token"].as_str().unwrap();

    // Unknown tokens, and no authentication.
    let (status, _) = post(&provider, "/revoke", PORTAL, &[("token", "no-such-token")]).await;
    assert_eq!(status, 200);
    let r = reqwest::Client::new()
        .post(format!("{}/revoke", provider.base))
        .form(&[("token", refresh_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The portal revokes its refresh token: the family goes, access tokens included.
    let (status, _) = post(
        &provider,
        "/revoke",
        PORTAL,
        &[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = refresh(&provider, refresh_token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo_status(&provider, access).await, 401);
    assert_eq!(
        userinfo_status(&provider, rotated["access_token"].as_str().unwrap()).await,
        401
    );
}

/// Revoking an access token ends just that token.
async fn revoking_an_access_token(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let issued = tokens(&provider).await;
    let access = issued["access_token"].as_str().unwrap();
    let (status, _) = post(&provider, "/revoke", PORTAL, &[("token", access)]).await;
    assert_eq!(status, 200);
    assert_eq!(userinfo_status(&provider, access).await, 401);
    let (status, _) = refresh(&provider, issued["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "the refresh token lives on");
}

async fn add_resource_server(provider: &TestProvider) -> String {
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let mut new = vneid_provider::cli::NewClient::new(
        "records-api",
        "Records API",
        vec![PORTAL_CALLBACK.into()],
        "openid",
        ClientAuthMethod::SecretBasic,
    );
    new.resource_server = true;
    vneid_provider::cli::add_client(&config, new).await.unwrap()
}

/// A resource server learns what a token is; any other client is refused.
async fn introspection_is_for_resource_servers(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let secret = add_resource_server(&provider).await;
    let rs = ("records-api", secret.as_str());
    let issued = tokens(&provider).await;
    let access = issued["access_token"].as_str().unwrap();

    // Not a resource server: refused, and nothing about the token.
    for client in [BANK, PORTAL] {
        let (status, body) = post(&provider, "/introspect", client, &[("token", access)]).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("unauthorized_client"))
        );
        assert!(
            body.get("active").is_none() && body.get("sub").is_none(),
            "{body}"
        );
    }
    let (status, body) = post(
        &provider,
        "/introspect",
        ("records-api", "wrong"),
        &[("token", access)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    let (status, body) = post(&provider, "/introspect", rs, &[("token", access)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], "demo-portal");
    assert_eq!(body["scope"], "openid profile offline_access");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["iss"], provider.issuer.as_str());
    assert!(body["sub"].is_string() && body["exp"].is_i64() && body["iat"].is_i64());
    assert!(body["exp"].as_i64() > body["iat"].as_i64());
    // The sub is the one the portal sees.
    let info: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["sub"], info["sub"]);
    let refresh_token = issued["refresh_token"].as_str().unwrap();
    let (_, body) = post(&provider, "/introspect", rs, &[("token", refresh_token)]).await;
    assert_eq!(body["active"], true);

    // Unknown, revoked, expired: only `active: false`.
    let (_, body) = post(&provider, "/introspect", rs, &[("token", "made-up")]).await;
    assert_eq!(body, serde_json::json!({ "active": false }));
    post(&provider, "/revoke", PORTAL, &[("token", access)]).await;
    let (_, body) = post(&provider, "/introspect", rs, &[("token", access)]).await;
    assert_eq!(body, serde_json::json!({ "active": false }));
    provider.state.clock.advance(31 * 24 * 3600);
    let (_, body) = post(&provider, "/introspect", rs, &[("token", refresh_token)]).await;
    assert_eq!(body, serde_json::json!({ "active": false }));
}

on_both_backends!(
    revocation_takes_the_family_and_only_ones_own,
    revoking_an_access_token,
    introspection_is_for_resource_servers,
);
