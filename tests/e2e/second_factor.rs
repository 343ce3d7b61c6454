//! The second factor defends itself: its own failure counter, reset only by a right code (never
//! by the right password), a lock after five wrong codes that refuses even the right code, a
//! notice to the contact on record, and an audit event.

use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{Backend, TestProvider, on_both_backends, param, spawn_provider, totp_at};

const L2: &str = "urn:vneid:acr:level2";
const HOLDER: &str = "079198000002";
const HOLDER_PHONE: &str = "+84938000002";

/// A six-digit code that is valid for none of the steps around `now`.
fn wrong_code(provider: &TestProvider) -> String {
    let now = provider.state.now();
    let near: Vec<String> = (-2..=2).map(|k| totp_at(now + 30 * k)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// Opens a Level 2 login (with `prompt=login`, so the password is asked every time) and logs in
/// with the right password; returns the second-factor page.
async fn password_then_otp_page(provider: &TestProvider, browser: &Browser) -> (url::Url, String) {
    let url = provider.authorize_url(&[("acr_values", L2), ("prompt", "login")]);
    let (url, _, html) = browser.navigate(&url).await.page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", HOLDER), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(has_form(&html, "/otp"), "second factor asked: {html}");
    (url, html)
}

/// The attacker knows the password and guesses codes, logging in again between rounds so the
/// right password would reset a shared counter: 4 wrong codes, the password, 2 wrong codes.
async fn wrong_codes_lock_the_second_factor_whatever_the_password_does(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let wrong = wrong_code(&provider);

    let (mut url, mut html) = password_then_otp_page(&provider, &browser).await;
    for attempt in 1..=4 {
        (url, _, html) = browser
            .submit(&url, &html, "/otp", &[("otp", &wrong)])
            .await
            .page();
        assert!(
            has_form(&html, "/otp") && html.contains("không đúng"),
            "attempt {attempt} refused: {html}"
        );
    }
    // The right password again: it must not reset the second factor's counter.
    let (mut url, mut html) = password_then_otp_page(&provider, &browser).await;
    for _ in 0..2 {
        (url, _, html) = browser
            .submit(&url, &html, "/otp", &[("otp", &wrong)])
            .await
            .page();
    }
    assert!(
        html.contains("Xác thực mức độ 2 tạm khóa"),
        "the fifth wrong code in a row locks: {html}"
    );

    // While locked, the right code is refused too (a fresh step, so not a replay).
    provider.state.clock.advance(30);
    let landing = browser
        .submit(&url, &html, "/otp", &[("otp", &provider.totp())])
        .await;
    let (_, _, html) = landing.page();
    assert!(
        has_form(&html, "/otp") && html.contains("tạm khóa"),
        "a right code while locked is refused: {html}"
    );

    // The citizen is told on the contact on record, and the lock is audited.
    let outbox = provider.state.store.outbox_recent(20).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|m| m.recipient == HOLDER_PHONE && m.kind == "second_factor_locked"),
        "{outbox:?}"
    );
    let account = provider
        .state
        .store
        .account_by_username(HOLDER)
        .await
        .unwrap()
        .unwrap();
    let events = provider
        .state
        .store
        .audit_events(&account.id, 50)
        .await
        .unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "second_factor_locked")
            .count(),
        1,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"second_factor_refused_locked"), "{kinds:?}");
    // The password lock is a separate thing: wrong codes did not lock the password.
    assert_eq!(account.locked_until, None);

    // Once the lock has run out, the right code gets in.
    provider.state.clock.advance(31 * 60);
    let (url, html) = password_then_otp_page(&provider, &browser).await;
    let (url, _, html) = browser
        .submit(&url, &html, "/otp", &[("otp", &provider.totp())])
        .await
        .page();
    assert!(has_form(&html, "/consent"), "{html}");
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    assert!(param(&back, "code").is_some(), "{back}");
}

on_both_backends!(wrong_codes_lock_the_second_factor_whatever_the_password_does);
