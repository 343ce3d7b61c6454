//! Consent covers what the citizen saw: claims (and the level they were shown at), not the scope
//! string. Documents agreed "by scope" at Level 1 were never shown, so a Level 2 login asks again;
//! `verified_claims` asked later asks again; each time just the new items are asked.

use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{Backend, TestProvider, VERIFIER, on_both_backends, param, spawn_provider};

const L1: &str = "urn:vneid:acr:level1";
const L2: &str = "urn:vneid:acr:level2";
const DOCUMENTS: &str = "Giấy tờ đã tích hợp";
const VERIFIED: &str = "Thông tin về việc xác minh danh tính của bạn";
const NAME: &str = "Họ và tên";

/// The text of the `<ul id="...">` list on a page (empty when absent).
fn list<'a>(html: &'a str, id: &str) -> &'a str {
    let open = "<ul class=\"claims";
    html.match_indices(open)
        .map(|(i, _)| &html[i..])
        .find(|rest| rest[..rest.find('>').unwrap_or(0)].contains(&format!("id=\"{id}\"")))
        .map(|rest| &rest[..rest.find("</ul>").unwrap_or(rest.len())])
        .unwrap_or("")
}

async fn userinfo(provider: &TestProvider, code: &str) -> serde_json::Value {
    let (status, tokens) = provider.redeem(code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn consent_asks_again_for_what_was_never_shown(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let scope = ("scope", "openid profile documents");

    // Level 1: the documents are not released, so not shown; the citizen agrees to the rest.
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[scope, ("acr_values", L1)]))
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "079198000002"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(has_form(&html, "/consent"), "{html}");
    assert!(!html.contains(DOCUMENTS), "not shown at Level 1: {html}");
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let info = userinfo(&provider, &param(&back, "code").unwrap()).await;
    assert!(info.get("documents").is_none(), "{info}");

    // Level 2, same scope string: the second factor, then a consent page for just the documents.
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[scope, ("acr_values", L2)]))
        .await
        .page();
    assert!(has_form(&html, "/otp"), "{html}");
    let landing = browser
        .submit(&url, &html, "/otp", &[("otp", &provider.totp())])
        .await;
    let (url, _, html) = landing.page();
    assert!(has_form(&html, "/consent"), "consent asked again: {html}");
    let new = list(&html, "new-items");
    assert!(new.contains(DOCUMENTS), "the documents are listed: {html}");
    assert!(!new.contains(NAME), "only what is new is asked: {new}");
    assert!(
        list(&html, "agreed-items").contains(NAME),
        "and what was agreed is said: {html}"
    );
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let info = userinfo(&provider, &param(&back, "code").unwrap()).await;
    assert_eq!(info["documents"].as_array().unwrap().len(), 3, "{info}");

    // The same request again: nothing new, no page.
    let back = browser
        .navigate(&provider.authorize_url(&[scope, ("acr_values", L2)]))
        .await
        .away();
    assert!(param(&back, "code").is_some(), "{back}");

    // verified_claims asked later: consent again, for it alone.
    let claims = ("claims", r#"{"userinfo":{"verified_claims":null}}"#);
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[scope, ("acr_values", L2), claims]))
        .await
        .page();
    assert!(has_form(&html, "/consent"), "{html}");
    let new = list(&html, "new-items");
    assert!(new.contains(VERIFIED) && !new.contains(DOCUMENTS), "{new}");
    // prompt=none cannot slip past it either.
    let back = browser
        .navigate(&provider.authorize_url(&[scope, ("acr_values", L2), claims, ("prompt", "none")]))
        .await
        .away();
    assert_eq!(param(&back, "error").as_deref(), Some("consent_required"));
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let info = userinfo(&provider, &param(&back, "code").unwrap()).await;
    assert_eq!(
        info["verified_claims"]["verification"]["assurance_level"],
        "level2"
    );

    // What was agreed is stored item by item, with the level it was shown at.
    let account = provider
        .state
        .store
        .account_by_username("079198000002")
        .await
        .unwrap()
        .unwrap();
    let items = provider
        .state
        .store
        .consent_items(&account.id, "demo-portal")
        .await
        .unwrap();
    assert!(items.contains(&("documents".to_string(), 2)), "{items:?}");
    assert!(
        items.contains(&("verified_claims".to_string(), 2)),
        "{items:?}"
    );
    assert!(items.contains(&("name".to_string(), 2)), "{items:?}");

    // Withdrawing the consent (self-service) takes every item with it: the page comes back.
    assert!(
        provider
            .state
            .store
            .revoke_consent(&account.id, "demo-portal", provider.state.now())
            .await
            .unwrap()
    );
    let left = provider
        .state
        .store
        .consent_items(&account.id, "demo-portal")
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");
    let (_, _, html) = browser
        .navigate(&provider.authorize_url(&[scope, ("acr_values", L2)]))
        .await
        .page();
    assert!(
        has_form(&html, "/consent") && list(&html, "new-items").contains(NAME),
        "{html}"
    );
}

on_both_backends!(consent_asks_again_for_what_was_never_shown);
