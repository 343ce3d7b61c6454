//! Levels of assurance: step-up, "Level 2 needed", level-2 claims, acr through `claims`.

use vneid_tests::browser::{Browser, has_form};
use vneid_tests::rp::ThirdPartyRp;
use vneid_tests::{Backend, login, on_both_backends, param, spawn_provider};

const L1: &str = "urn:vneid:acr:level1";
const L2: &str = "urn:vneid:acr:level2";

/// A Level 2 account logged in at Level 1 is asked only the second factor for Level 2.
async fn step_up_asks_only_the_second_factor(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let rp = ThirdPartyRp::demo(&provider.issuer, "demo-bank").await;
    let browser = Browser::new(&provider.base);
    let first = rp.start(&["openid", "profile"], &[L1], &[]);
    let callback = login(&provider, &browser, first.url.as_str(), "079198000002").await;
    let done = rp.finish(&callback, first, &provider.issuer).await.unwrap();
    assert_eq!(
        done.claims.auth_context_ref().unwrap().as_str(),
        L1,
        "password alone gives level 1"
    );

    let second = rp.start(&["openid", "profile"], &[L2], &[]);
    let (url, _, html) = browser.navigate(second.url.as_str()).await.page();
    assert!(
        has_form(&html, "/otp"),
        "step-up asks the second factor: {html}"
    );
    assert!(
        !html.contains("name=\"password\""),
        "and not the password again"
    );
    let landing = browser
        .submit(&url, &html, "/otp", &[("otp", &provider.totp())])
        .await;
    // Consent was given at level 1 for the same scopes: no page, straight back.
    let callback = landing.away();
    let done = rp
        .finish(&callback, second, &provider.issuer)
        .await
        .unwrap();
    assert_eq!(done.claims.auth_context_ref().unwrap().as_str(), L2);
    let auth_time = done.claims.auth_time().unwrap();
    assert!(
        (chrono_now() - auth_time.timestamp()).abs() < 30,
        "auth_time is the step-up"
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A Level 1 account asked for Level 2 sees how to get it; the RP gets the contract's error.
async fn level1_account_asked_level2_gets_unmet_requirements(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("acr_values", L2)]);
    let (url, _, html) = browser.navigate(&url).await.page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(
        html.contains("Công an xã, phường"),
        "explains where to get Level 2: {html}"
    );
    assert!(!has_form(&html, "/otp") && !has_form(&html, "/consent"));
    let back = browser.submit(&url, &html, "/abort", &[]).await.away();
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
    assert_eq!(
        param(&back, "iss").as_deref(),
        Some(provider.issuer.as_str())
    );
}

/// `documents` is released only from a Level 2 login, even to a client allowed the scope.
async fn level2_claims_never_leave_a_level1_login(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let rp = ThirdPartyRp::demo(&provider.issuer, "demo-bank").await;
    let browser = Browser::new(&provider.base);
    let started = rp.start(&["openid", "profile", "documents"], &[L1], &[]);
    let (url, _, html) = browser.navigate(started.url.as_str()).await.page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "079198000002"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(html.contains("name=\"decision\""));
    assert!(
        !html.contains("Giấy tờ đã tích hợp"),
        "consent does not list what will not be released: {html}"
    );
    let callback = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let done = rp
        .finish(&callback, started, &provider.issuer)
        .await
        .unwrap();
    let token = openidconnect::OAuth2TokenResponse::access_token(&done.tokens)
        .secret()
        .clone();
    let (_, info) = rp.userinfo(&provider.base, &token).await;
    assert_eq!(info["name"], "Trần Thị Bình");
    assert!(
        info.get("documents").is_none(),
        "no documents from a level 1 login: {info}"
    );
}

/// `acr` asked through the `claims` parameter counts like `acr_values`; the ID token carries
/// individually requested claims, never the portrait.
async fn acr_through_the_claims_parameter(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let rp = ThirdPartyRp::demo(&provider.issuer, "demo-bank").await;
    let browser = Browser::new(&provider.base);
    let claims = r#"{"id_token":{"acr":{"essential":true,"values":["urn:vneid:acr:level2"]},"name":null,"portrait":null},"userinfo":{"verified_claims":null}}"#;
    let started = rp.start(
        &["openid", "profile", "portrait"],
        &[],
        &[("claims", claims)],
    );
    let callback = login(&provider, &browser, started.url.as_str(), "079198000002").await;
    let done = rp
        .finish(&callback, started, &provider.issuer)
        .await
        .unwrap();
    assert_eq!(done.claims.auth_context_ref().unwrap().as_str(), L2);
    let id_token = openidconnect::TokenResponse::id_token(&done.tokens)
        .unwrap()
        .to_string();
    let payload = jwt_payload(&id_token);
    assert_eq!(payload["name"], "Trần Thị Bình");
    assert!(
        payload.get("portrait").is_none(),
        "the portrait is UserInfo only"
    );
    let token = openidconnect::OAuth2TokenResponse::access_token(&done.tokens)
        .secret()
        .clone();
    let (_, info) = rp.userinfo(&provider.base, &token).await;
    assert!(
        info["portrait"]
            .as_str()
            .unwrap()
            .starts_with("data:image/jpeg;base64,")
    );
    let verification = &info["verified_claims"]["verification"];
    assert_eq!(verification["trust_framework"], "vn_eid");
    assert_eq!(verification["assurance_level"], "level2");
}

/// The payload of a JWT, unverified (the RP library verified it already).
pub fn jwt_payload(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

on_both_backends!(
    step_up_asks_only_the_second_factor,
    level1_account_asked_level2_gets_unmet_requirements,
    level2_claims_never_leave_a_level1_login,
    acr_through_the_claims_parameter,
);

/// The header of a JWT.
pub fn jwt_header(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
