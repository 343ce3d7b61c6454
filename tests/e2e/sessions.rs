//! Sessions, consent, prompts, lockout, languages, and a login that moves between processes.

use reqwest::StatusCode;
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{Backend, VERIFIER, login, on_both_backends, param, spawn_on, spawn_provider};

/// Consent is remembered per client and scope set; `prompt=consent` asks again; a wider scope
/// set asks again; `prompt=none` answers silently once all is settled.
async fn consent_is_remembered_and_prompts_are_honoured(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    assert!(param(&back, "code").is_some());
    // Same scopes: no page.
    let back = browser
        .navigate(&provider.authorize_url(&[("state", "two")]))
        .await
        .away();
    assert!(param(&back, "code").is_some());
    assert_eq!(param(&back, "state").as_deref(), Some("two"));
    // prompt=none works silently too.
    let back = browser
        .navigate(&provider.authorize_url(&[("prompt", "none")]))
        .await
        .away();
    assert!(param(&back, "code").is_some(), "{back}");
    // More scopes: consent again; prompt=none says so.
    let wider = [("scope", "openid profile email"), ("prompt", "none")];
    let back = browser
        .navigate(&provider.authorize_url(&wider))
        .await
        .away();
    assert_eq!(param(&back, "error").as_deref(), Some("consent_required"));
    let (_, _, html) = browser
        .navigate(&provider.authorize_url(&[("scope", "openid profile email")]))
        .await
        .page();
    assert!(
        has_form(&html, "/consent") && html.contains("Địa chỉ email"),
        "{html}"
    );
    // prompt=consent shows the page even when remembered.
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[("prompt", "consent")]))
        .await
        .page();
    assert!(has_form(&html, "/consent"));
    // Denying goes back with access_denied.
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "deny")])
        .await
        .away();
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "state").as_deref(), Some("st4te"));
}

/// `prompt=login` and `max_age` force a fresh login; `login_hint` prefills the number.
async fn prompt_login_and_max_age_force_a_fresh_login(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    let (_, _, html) = browser
        .navigate(&provider.authorize_url(&[("prompt", "login")]))
        .await
        .page();
    assert!(html.contains("name=\"password\""));
    provider.state.clock.advance(120);
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[("max_age", "60")]))
        .await
        .page();
    assert!(
        html.contains("name=\"password\""),
        "an old login is not enough for max_age"
    );
    let back = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .away();
    assert!(param(&back, "code").is_some(), "consent remembered; {back}");
    // A recent enough login passes max_age.
    let back = browser
        .navigate(&provider.authorize_url(&[("max_age", "600")]))
        .await
        .away();
    assert!(param(&back, "code").is_some());
    // Somebody else's number as login_hint asks to log in, prefilled.
    let (_, _, html) = browser
        .navigate(&provider.authorize_url(&[("login_hint", "079198000002")]))
        .await
        .page();
    assert!(html.contains("value=\"079198000002\""), "{html}");
}

/// Five wrong passwords lock the account; the citizen is told on the contact on record (not the
/// browser, which sees the one generic refusal); the lock is audited and ends.
async fn five_wrong_passwords_lock_the_account(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let (mut url, _, mut html) = browser.navigate(&provider.authorize_url(&[])).await.page();
    for attempt in 1..=5 {
        let (u, _, h) = browser
            .submit(
                &url,
                &html,
                "/login",
                &[("username", "001095000001"), ("password", "wrong")],
            )
            .await
            .page();
        (url, html) = (u, h);
        if attempt < 5 {
            assert!(html.contains("không đúng"), "attempt {attempt}: {html}");
        }
    }
    assert!(
        html.contains("không đúng, hoặc tài khoản đang tạm khóa"),
        "the generic refusal: {html}"
    );
    let outbox = provider.state.store.outbox_recent(10).await.unwrap();
    assert!(
        outbox
            .iter()
            .any(|m| m.recipient == "+84912000001" && m.kind == "account_locked"),
        "the citizen is told of the lock on the phone on record: {outbox:?}"
    );
    // The right password does not get in while locked.
    let (u, _, h) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(h.contains("tạm khóa"));
    let account = provider
        .state
        .store
        .account_by_username("001095000001")
        .await
        .unwrap()
        .unwrap();
    let events = provider
        .state
        .store
        .audit_events(&account.id, 20)
        .await
        .unwrap();
    assert!(
        events
            .iter()
            .any(|(_, kind, _, _)| kind == "account_locked"),
        "{events:?}"
    );
    // After the lock, the right password works.
    provider.state.clock.advance(16 * 60);
    let back = browser
        .submit(
            &u,
            &h,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await;
    let (_, _, html) = back.page();
    assert!(has_form(&html, "/consent"), "{html}");
}

/// `ui_locales=en` gives English pages; the switch on the page changes language.
async fn pages_speak_vietnamese_and_english(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let (url, _, html) = browser.navigate(&provider.authorize_url(&[])).await.page();
    assert!(html.contains("lang=\"vi\"") && html.contains("Mật khẩu"));
    let (_, _, html) = browser.navigate(&format!("{url}?lang=en")).await.page();
    assert!(
        html.contains("lang=\"en\"") && html.contains("Password"),
        "{html}"
    );
    let other = Browser::new(&provider.base);
    let (_, _, html) = other
        .navigate(&provider.authorize_url(&[("ui_locales", "en-GB vi")]))
        .await
        .page();
    assert!(html.contains("Personal identification number"));
    assert!(html.contains("name=\"viewport\""), "readable on a phone");
    assert!(html.contains("<label for=\"username\">"), "labelled inputs");
}

/// A login started on one provider process finishes on another (one PostgreSQL, or one SQLite
/// file): every bit of state is in the database.
async fn a_login_moves_between_processes(backend: Backend) {
    let a = spawn_provider(backend).await;
    let b = spawn_on(&a.database_url, &a.kek, Some(&a.issuer)).await;
    let mut browser = Browser::new(&a.base);
    let (url, _, html) = browser
        .navigate(&a.authorize_url(&[("acr_values", "urn:vneid:acr:level2")]))
        .await
        .page();
    browser.origin = url::Url::parse(&b.base).unwrap();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "079198000002"), ("password", "Demo@2026")],
        )
        .await
        .page();
    browser.origin = url::Url::parse(&a.base).unwrap();
    let (url, _, html) = browser
        .submit(&url, &html, "/otp", &[("otp", &a.totp())])
        .await
        .page();
    browser.origin = url::Url::parse(&b.base).unwrap();
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    assert_eq!(param(&back, "iss").as_deref(), Some(a.issuer.as_str()));
    let code = param(&back, "code").unwrap();
    // Redeemed at A, signed by A's copy of the keys, verifiable with B's JWKS.
    let (status, body) = a.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let jwks: serde_json::Value = reqwest::get(format!("{}/jwks", b.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = super::levels::jwt_header(body["id_token"].as_str().unwrap())["kid"].clone();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == kid)
    );
    let payload = super::levels::jwt_payload(body["id_token"].as_str().unwrap());
    assert_eq!(payload["acr"], "urn:vneid:acr:level2");
    // And the code cannot be used again at B.
    let (status, _) = b.redeem(&code, VERIFIER).await;
    assert_eq!(status, 400);
    let _ = StatusCode::OK;
}

/// One refusal page, submitted from a fresh browser, with what differs by nature (the interaction
/// id, the CSRF token, the number typed, echoed back) blanked out.
async fn refusal(
    provider: &vneid_tests::TestProvider,
    username: &str,
    password: &str,
) -> (u16, String) {
    let browser = Browser::new(&provider.base);
    let (url, _, html) = browser.navigate(&provider.authorize_url(&[])).await.page();
    let (url, status, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", username), ("password", password)],
        )
        .await
        .page();
    let id = url.path_segments().unwrap().nth(1).unwrap().to_string();
    let (_, hidden) = vneid_tests::browser::form(&html, "/login");
    let csrf = hidden.iter().find(|(k, _)| k == "csrf").unwrap().1.clone();
    // The QR code to log in with the app is fresh on every page: blanked out too.
    let html = match (
        html.find("<section class=\"qr-login\""),
        html.find("</section>"),
    ) {
        (Some(start), Some(end)) if start < end => format!("{}QR{}", &html[..start], &html[end..]),
        _ => html,
    };
    let html = html
        .replace(&id, "ID")
        .replace(&csrf, "CSRF")
        .replace(&format!("value=\"{username}\""), "value=\"USERNAME\"");
    (status.as_u16(), html)
}

/// An attacker probing numbers cannot tell unknown, wrong-password and locked accounts apart:
/// the same page, byte for byte (even the right password of a locked account, and the attempt
/// that locks, answer like a wrong one). The locked path runs argon2 too (on a dummy hash).
async fn unknown_wrong_and_locked_accounts_answer_alike(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let wrong = refusal(&provider, "079198000002", "wrong-password").await;
    let unknown = refusal(&provider, "001095999999", "Demo@2026").await;
    assert!(wrong.1.contains("không đúng"), "{}", wrong.1);
    assert_eq!(unknown, wrong, "unknown and wrong-password answer alike");
    // Lock 001095000001: the attempt that locks answers like any wrong password.
    for attempt in 1..=5 {
        let answer = refusal(&provider, "001095000001", "wrong").await;
        assert_eq!(answer, wrong, "attempt {attempt}");
    }
    let account = provider
        .state
        .store
        .account_by_username("001095000001")
        .await
        .unwrap()
        .unwrap();
    assert!(account.locked_until.is_some(), "the account is locked");
    let locked_right = refusal(&provider, "001095000001", "Demo@2026").await;
    assert_eq!(
        locked_right, wrong,
        "a locked account with its right password"
    );
    let locked_wrong = refusal(&provider, "001095000001", "wrong").await;
    assert_eq!(
        locked_wrong, wrong,
        "a locked account with a wrong password"
    );
}

on_both_backends!(
    unknown_wrong_and_locked_accounts_answer_alike,
    consent_is_remembered_and_prompts_are_honoured,
    prompt_login_and_max_age_force_a_fresh_login,
    five_wrong_passwords_lock_the_account,
    pages_speak_vietnamese_and_english,
    a_login_moves_between_processes,
);
