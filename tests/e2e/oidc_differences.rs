//! The four places where the provider differed from OpenID Connect and RFC 7636 (issue 9, item
//! 9): `max_age=0`, a token request without `code_verifier`, an essential claim asked for
//! UserInfo outside the scopes, and a secret client using the other secret method.

use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{
    Backend, PORTAL_CALLBACK, VERIFIER, login, on_both_backends, param, spawn_provider,
};

/// `max_age=0` is `prompt=login` (Core 3.1.2.1): even a login of this very second is not enough.
async fn max_age_zero_forces_a_fresh_login(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    // Step the clock back a little: with no second elapsed since the login, a rule "older than
    // max_age seconds" would let the session through; max_age=0 must not.
    provider.state.clock.advance(-5);
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[("max_age", "0")]))
        .await
        .page();
    assert!(html.contains("name=\"password\""), "{html}");
    let back = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .away();
    let code = param(&back, "code").expect("a code after the fresh login");
    let (status, body) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    // Without max_age the session is enough: no page.
    let back = browser.navigate(&provider.authorize_url(&[])).await.away();
    assert!(param(&back, "code").is_some());
}

/// RFC 7636 4.6: a code issued with a challenge and redeemed without a verifier is
/// `invalid_grant`; the code is burnt, so the right verifier afterwards is refused too.
async fn a_missing_code_verifier_is_invalid_grant(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    let code = param(&back, "code").unwrap();
    let response = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth("demo-portal", Some("demo-portal-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", PORTAL_CALLBACK),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "{body}");
    assert!(body.get("access_token").is_none());
    let (status, body) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

/// Core 5.5: `{"userinfo":{"name":{"essential":true}}}` with scope `openid` releases `name` at
/// UserInfo, after the consent page listed it; a claim the client may not ask for is not.
async fn an_essential_userinfo_claim_is_released_after_consent(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let claims = r#"{"userinfo":{"name":{"essential":true},"email":null}}"#;
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[("scope", "openid"), ("claims", claims)]))
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(has_form(&html, "/consent"), "{html}");
    assert!(
        html.contains("Họ và tên"),
        "the consent page lists the name: {html}"
    );
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let code = param(&back, "code").unwrap();
    let (status, tokens) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid");
    let info: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], "Nguyễn Văn An", "{info}");
    assert!(
        info["email"].is_string(),
        "a voluntary claim is released too: {info}"
    );
    assert!(
        info.get("birthdate").is_none(),
        "only what was asked: {info}"
    );
}

/// A client registered only for `openid profile` cannot reach `email` through `claims`.
async fn claims_cannot_reach_outside_the_registration(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let secret = super::protocol::add_narrow_client(&provider, "narrow-claims").await;
    let browser = Browser::new(&provider.base);
    let claims = r#"{"userinfo":{"email":{"essential":true},"name":null}}"#;
    let url = provider.authorize_url(&[
        ("client_id", "narrow-claims"),
        ("scope", "openid"),
        ("claims", claims),
    ]);
    let back = login(&provider, &browser, &url, "001095000001").await;
    let code = param(&back, "code").unwrap();
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", "narrow-claims"),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let info: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], "Nguyễn Văn An", "{info}");
    assert!(
        info.get("email").is_none(),
        "email is not registered: {info}"
    );
}

/// RFC 6749 2.3.1: the demo portal, registered for `client_secret_basic`, may send its secret
/// in the body (openid-client v6's default); a wrong secret in the body is still `invalid_client`.
async fn a_secret_client_may_use_client_secret_post(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let token = format!("{}/token", provider.base);
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    let code = param(&back, "code").unwrap();
    let post = |secret: &'static str, code: String| {
        let token = token.clone();
        async move {
            let r = reqwest::Client::new()
                .post(token)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", PORTAL_CALLBACK),
                    ("code_verifier", VERIFIER),
                    ("client_id", "demo-portal"),
                    ("client_secret", secret),
                ])
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = post("wrong-secret", code.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = post("demo-portal-secret", code).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
}

on_both_backends!(
    max_age_zero_forces_a_fresh_login,
    a_missing_code_verifier_is_invalid_grant,
    an_essential_userinfo_claim_is_released_after_consent,
    claims_cannot_reach_outside_the_registration,
    a_secret_client_may_use_client_secret_post,
);
