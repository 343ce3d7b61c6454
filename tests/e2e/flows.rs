//! The code flow at both levels.

use vneid_tests::browser::{Browser, Landing};
use vneid_tests::rp::ThirdPartyRp;
use vneid_tests::{Backend, on_both_backends, spawn_provider};

const L1: &str = "urn:vneid:acr:level1";
const L2: &str = "urn:vneid:acr:level2";

async fn level1_login(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let rp = ThirdPartyRp::demo(&provider.issuer, "demo-portal").await;
    let started = rp.start(&["openid", "profile", "identity_number"], &[L1], &[]);
    let browser = Browser::new(&provider.base);
    let (url, status, html) = browser.navigate(started.url.as_str()).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"username\""), "{html}");
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(html.contains("name=\"decision\""), "consent page: {html}");
    assert!(
        html.contains("Số định danh cá nhân"),
        "consent lists the claims: {html}"
    );
    let callback = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let done = rp
        .finish(&callback, started, &provider.issuer)
        .await
        .unwrap();
    assert_eq!(done.claims.auth_context_ref().unwrap().as_str(), L1);
    let (status, info) = rp
        .userinfo(
            &provider.base,
            openidconnect::OAuth2TokenResponse::access_token(&done.tokens).secret(),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(info["name"], "Nguyễn Văn An");
    assert_eq!(info["personal_id_number"], "001095000001");
    assert_eq!(info["birthdate"], "1995-03-12");
    assert_eq!(
        info["sub"].as_str().unwrap(),
        done.claims.subject().as_str()
    );
    let _ = Landing::param;
}

async fn level2_login_with_totp(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let rp = ThirdPartyRp::demo(&provider.issuer, "demo-bank").await;
    let started = rp.start(&["openid", "profile", "documents"], &[L2], &[]);
    let browser = Browser::new(&provider.base);
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
    assert!(html.contains("name=\"otp\""), "second factor asked: {html}");
    let code = provider.totp();
    let (url, _, html) = browser
        .submit(&url, &html, "/otp", &[("otp", &code)])
        .await
        .page();
    let callback = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let done = rp
        .finish(&callback, started, &provider.issuer)
        .await
        .unwrap();
    assert_eq!(done.claims.auth_context_ref().unwrap().as_str(), L2);
    let amr: Vec<String> = done
        .claims
        .auth_method_refs()
        .unwrap()
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert!(
        amr.contains(&"otp".to_string()) && amr.contains(&"pwd".to_string()),
        "{amr:?}"
    );
    let (_, info) = rp
        .userinfo(
            &provider.base,
            openidconnect::OAuth2TokenResponse::access_token(&done.tokens).secret(),
        )
        .await;
    let docs = info["documents"].as_array().unwrap();
    assert_eq!(docs.len(), 3, "{info}");
}

on_both_backends!(level1_login, level2_login_with_totp);
