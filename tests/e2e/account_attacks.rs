//! Issue 7, item 5, tried as an attacker would: guessing reset codes (many at once, and with
//! fresh codes), flooding a number with reset codes, reading a Level 2 account's documents with
//! the password only, moving the reset channel (the phone) from a session without the
//! password, and keeping a stolen session or refresh token alive across a password change or
//! a reset.

use std::collections::HashSet;

use url::Url;
use vneid_tests::browser::{Browser, form};
use vneid_tests::{
    Backend, TestProvider, VERIFIER, login, on_both_backends, param, spawn_provider,
};

const AN: &str = "001095000001";
const AN_PHONE: &str = "+84912000001";
const BINH: &str = "079198000002";

/// The outbox messages of `kind` (as stored: `secret:` prefixed for secrets) to `recipient`.
async fn sent(provider: &TestProvider, recipient: &str, kind: &str) -> Vec<String> {
    // Secret bodies are sealed at rest: read them opened, as the demo outbox page does.
    vneid_provider::notify::recent_opened(&provider.state.store, &provider.state.sealer, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| {
            m.recipient == recipient
                && m.kind.trim_start_matches("secret:") == kind.trim_start_matches("secret:")
        })
        .map(|m| m.body)
        .collect()
}

/// The newest 6-digit code sent to `recipient` in a message of `kind`.
async fn newest_code(provider: &TestProvider, recipient: &str, kind: &str) -> String {
    let bodies = sent(provider, recipient, kind).await;
    let body = bodies.first().expect("a code was sent");
    body.split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_string()
}

async fn audit_count(provider: &TestProvider, username: &str, kind: &str) -> usize {
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
        .audit_events(&account.id, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, k, _, _)| k == kind)
        .count()
}

/// Asks for a reset code for `number` from a fresh reset page; returns the answer page.
async fn ask_reset(provider: &TestProvider, browser: &Browser, number: &str) -> (Url, String) {
    let (url, _, html) = browser
        .navigate(&format!("{}/account/reset", provider.base))
        .await
        .page();
    let (url, _, html) = browser
        .submit(&url, &html, "/account/reset", &[("username", number)])
        .await
        .page();
    (url, html)
}

/// Logs in at `/account` with a password; returns where the browser landed.
async fn account_login(
    provider: &TestProvider,
    browser: &Browser,
    username: &str,
    password: &str,
) -> (Url, String) {
    let (url, _, html) = browser
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/account/login",
            &[("username", username), ("password", password)],
        )
        .await
        .page();
    (url, html)
}

/// A refresh token and an access token of the demo portal for `username`.
async fn portal_tokens(provider: &TestProvider, username: &str) -> (String, String) {
    let rp = Browser::new(&provider.base);
    let url = provider.authorize_url(&[
        ("scope", "openid profile offline_access"),
        ("prompt", "consent"),
    ]);
    let back = login(provider, &rp, &url, username).await;
    let (status, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200, "{body}");
    (
        body["refresh_token"].as_str().unwrap().to_string(),
        body["access_token"].as_str().unwrap().to_string(),
    )
}

async fn refresh(provider: &TestProvider, token: &str) -> (u16, serde_json::Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth("demo-portal", Some("demo-portal-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn userinfo(provider: &TestProvider, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Whether the browser's session still opens the account page (else it is sent to login).
async fn still_signed_in(provider: &TestProvider, browser: &Browser) -> bool {
    let (url, _, _) = browser
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    url.path() == "/account"
}

/// An attacker asks for reset codes again and again: the fourth in an hour sends nothing,
/// and the answer is the page an unknown number gets.
async fn a_fourth_reset_code_in_an_hour_sends_nothing(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let attacker = Browser::new(&provider.base);
    for n in 1..=3 {
        ask_reset(&provider, &attacker, AN).await;
        assert_eq!(
            sent(&provider, AN_PHONE, "secret:reset_code").await.len(),
            n
        );
    }
    let (_, fourth) = ask_reset(&provider, &attacker, AN).await;
    assert_eq!(
        sent(&provider, AN_PHONE, "secret:reset_code").await.len(),
        3,
        "the fourth code in an hour is not sent"
    );
    let (_, unknown) = ask_reset(&provider, &attacker, "001099999999").await;
    assert_eq!(
        fourth.replace(AN, "N"),
        unknown.replace("001099999999", "N"),
        "a spent budget answers like a number without an account"
    );
    // The next hour has codes again, up to the day's cap of six.
    provider.state.clock.advance(3600);
    for _ in 0..4 {
        ask_reset(&provider, &attacker, AN).await;
    }
    assert_eq!(
        sent(&provider, AN_PHONE, "secret:reset_code").await.len(),
        6
    );
    provider.state.clock.advance(3600);
    ask_reset(&provider, &attacker, AN).await;
    assert_eq!(
        sent(&provider, AN_PHONE, "secret:reset_code").await.len(),
        6,
        "six a day"
    );
}

/// Thirty wrong codes at once are checked at most five times (the hourly attempt budget), and
/// a fresh code does not bring fresh guesses: even its right value is refused until the hour
/// is over.
async fn concurrent_reset_guesses_never_exceed_the_attempt_budget(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let attacker = Browser::new(&provider.base);
    let (url, html) = ask_reset(&provider, &attacker, AN).await;
    let real = newest_code(&provider, AN_PHONE, "secret:reset_code").await;
    let (action, hidden) = form(&html, "/account/reset/confirm");
    let target = url.join(&action).unwrap();
    let guesses: Vec<String> = (1..=30)
        .map(|i| format!("{:06}", (real.parse::<u32>().unwrap() + i) % 1_000_000))
        .collect();
    assert!(!guesses.contains(&real) && guesses.iter().collect::<HashSet<_>>().len() == 30);
    let mut tasks = tokio::task::JoinSet::new();
    for guess in guesses {
        let client = attacker.client.clone();
        let target = target.clone();
        let mut fields = hidden.clone();
        fields.extend([
            ("code".to_string(), guess),
            ("new_password".to_string(), "Pwned-2026-x".to_string()),
            ("confirm_password".to_string(), "Pwned-2026-x".to_string()),
        ]);
        tasks.spawn(async move {
            let r = client.post(target).form(&fields).send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        });
    }
    let mut refused_for_budget = 0;
    while let Some(done) = tasks.join_next().await {
        let (status, html) = done.unwrap();
        assert_eq!(status, 200);
        assert!(!html.contains("Đã đặt lại mật khẩu"));
        if html.contains("Quá nhiều lần thử") {
            refused_for_budget += 1;
        }
    }
    let checked = audit_count(&provider, AN, "password_reset_failed").await;
    assert!(
        checked <= 5,
        "{checked} codes were checked; the budget is 5"
    );
    assert_eq!(checked + refused_for_budget, 30);

    // A new code: the attempts are counted across codes, so even the right one is refused.
    let (url, html) = ask_reset(&provider, &attacker, AN).await;
    let fresh = newest_code(&provider, AN_PHONE, "secret:reset_code").await;
    let (_, _, page) = attacker
        .submit(
            &url,
            &html,
            "/account/reset/confirm",
            &[
                ("code", &fresh),
                ("new_password", "Pwned-2026-x"),
                ("confirm_password", "Pwned-2026-x"),
            ],
        )
        .await
        .page();
    assert!(
        page.contains("Quá nhiều lần thử"),
        "a new code brings no new guesses: {page}"
    );
    let owner = Browser::new(&provider.base);
    let (url, _) = account_login(&provider, &owner, AN, "Demo@2026").await;
    assert_eq!(url.path(), "/account", "the password is unchanged");

    // An hour later the holder resets with a fresh code.
    provider.state.clock.advance(3600);
    let (url, html) = ask_reset(&provider, &owner, AN).await;
    let code = newest_code(&provider, AN_PHONE, "secret:reset_code").await;
    let (_, _, page) = owner
        .submit(
            &url,
            &html,
            "/account/reset/confirm",
            &[
                ("code", &code),
                ("new_password", "An-2026-moi"),
                ("confirm_password", "An-2026-moi"),
            ],
        )
        .await
        .page();
    assert!(page.contains("Đã đặt lại mật khẩu"), "{page}");
}

/// With the password only, a Level 2 account's documents stay hidden, whatever page the
/// attacker opens or code he guesses; the second factor shows them.
async fn a_password_only_session_never_sees_level2_documents(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let attacker = Browser::new(&provider.base);
    let (url, html) = account_login(&provider, &attacker, BINH, "Demo@2026").await;
    let documents = ["790123456789", "GD4797912345678", "Giấy phép lái xe"];
    assert!(documents.iter().all(|d| !html.contains(d)), "{html}");
    // Skip the step-up and open the account page directly.
    let (_, _, page) = attacker
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(page.contains("Trần Thị Bình"), "{page}");
    assert!(
        documents.iter().all(|d| !page.contains(d)),
        "documents shown to a password-only session: {page}"
    );
    assert!(page.contains("/account/step-up"));
    assert_eq!(
        url.path(),
        "/account/step-up",
        "the password leads to the step-up"
    );
    // A wrong code does not step up.
    let wrong = format!(
        "{:06}",
        (provider.totp().parse::<u32>().unwrap() + 1) % 1_000_000
    );
    let (_, _, page) = attacker
        .submit(&url, &html, "/account/step-up", &[("otp", &wrong)])
        .await
        .page();
    assert!(documents.iter().all(|d| !page.contains(d)));
    let (url, _, html) = attacker
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(documents.iter().all(|d| !html.contains(d)));
    // Nor does a form post forged without the session's CSRF token.
    let forged = attacker
        .client
        .post(url.join("/account/step-up").unwrap())
        .form(&[("csrf", "guess"), ("otp", provider.totp().as_str())])
        .send()
        .await
        .unwrap();
    assert!(forged.status().is_redirection());
    let (_, _, page) = attacker
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(documents.iter().all(|d| !page.contains(d)));
    // The holder, with the second factor, sees them.
    let (url, _, html) = attacker
        .navigate(&format!("{}/account/step-up", provider.base))
        .await
        .page();
    let (_, _, page) = attacker
        .submit(
            &url,
            &html,
            "/account/step-up",
            &[("otp", &provider.totp())],
        )
        .await
        .page();
    assert!(documents.iter().all(|d| page.contains(d)), "{page}");
}

/// A session whose holder does not re-enter the password cannot move the phone number (the
/// reset channel); when the holder does, the old number is told.
async fn changing_the_phone_needs_the_password_and_tells_the_old_number(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let thief = Browser::new(&provider.base);
    let (url, html) = account_login(&provider, &thief, AN, "Demo@2026").await;
    assert_eq!(url.path(), "/account");
    let new_phone = "+84987654321";
    let (action, hidden) = form(&html, "/account/contact");
    let target = url.join(&action).unwrap();
    // The form without the password field, then with a wrong password.
    for extra in [vec![], vec![("current_password", "Demo@2025")]] {
        let mut fields = hidden.clone();
        fields.extend(
            [("kind", "phone"), ("value", new_phone)]
                .into_iter()
                .chain(extra)
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let r = thief
            .client
            .post(target.clone())
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Mật khẩu hiện tại không đúng")
        );
        assert!(
            sent(&provider, new_phone, "secret:contact_code")
                .await
                .is_empty(),
            "no code goes to the new number without the password"
        );
    }
    // The holder, with the password.
    let (url, _, html) = thief
        .submit(
            &url,
            &html,
            "/account/contact",
            &[
                ("kind", "phone"),
                ("value", new_phone),
                ("current_password", "Demo@2026"),
            ],
        )
        .await
        .page();
    let code = newest_code(&provider, new_phone, "secret:contact_code").await;
    let (_, _, page) = thief
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(page.contains(new_phone), "{page}");
    let notices = sent(&provider, AN_PHONE, "contact_changed").await;
    assert_eq!(notices.len(), 1, "the old number is told");
    assert!(notices[0].contains("***321") && !notices[0].contains(new_phone));
    // Reset codes now go to the new number only.
    ask_reset(&provider, &Browser::new(&provider.base), AN).await;
    assert_eq!(
        sent(&provider, new_phone, "secret:reset_code").await.len(),
        1
    );
    assert!(
        sent(&provider, AN_PHONE, "secret:reset_code")
            .await
            .is_empty()
    );
}

/// After a password change, a session opened elsewhere (the thief's) is logged out and a
/// refresh token obtained before is refused; the holder's own session stays.
async fn a_password_change_ends_other_sessions_and_tokens(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (refresh_token, access_token) = portal_tokens(&provider, AN).await;
    let thief = Browser::new(&provider.base);
    account_login(&provider, &thief, AN, "Demo@2026").await;
    assert!(still_signed_in(&provider, &thief).await);
    let holder = Browser::new(&provider.base);
    let (url, html) = account_login(&provider, &holder, AN, "Demo@2026").await;
    let (_, _, page) = holder
        .submit(
            &url,
            &html,
            "/account/password",
            &[
                ("current_password", "Demo@2026"),
                ("new_password", "An-2026-moi"),
                ("confirm_password", "An-2026-moi"),
            ],
        )
        .await
        .page();
    assert!(page.contains("Đã đổi mật khẩu"), "{page}");
    assert!(
        !still_signed_in(&provider, &thief).await,
        "the other session ended"
    );
    assert!(
        still_signed_in(&provider, &holder).await,
        "the holder's stays"
    );
    let (status, body) = refresh(&provider, &refresh_token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&provider, &access_token).await, 401);
}

/// After a reset by SMS code, every session of the account ends (the thief's too) and every
/// refresh token is refused.
async fn a_reset_ends_every_session_and_token(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (refresh_token, access_token) = portal_tokens(&provider, AN).await;
    let thief = Browser::new(&provider.base);
    account_login(&provider, &thief, AN, "Demo@2026").await;
    let holder = Browser::new(&provider.base);
    let (url, html) = ask_reset(&provider, &holder, AN).await;
    let code = newest_code(&provider, AN_PHONE, "secret:reset_code").await;
    let (_, _, page) = holder
        .submit(
            &url,
            &html,
            "/account/reset/confirm",
            &[
                ("code", &code),
                ("new_password", "An-2026-moi"),
                ("confirm_password", "An-2026-moi"),
            ],
        )
        .await
        .page();
    assert!(page.contains("Đã đặt lại mật khẩu"), "{page}");
    assert!(!still_signed_in(&provider, &thief).await);
    let (status, body) = refresh(&provider, &refresh_token).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(userinfo(&provider, &access_token).await, 401);
    let (url, _) = account_login(&provider, &holder, AN, "An-2026-moi").await;
    assert_eq!(url.path(), "/account", "the new password works");
}

on_both_backends!(
    a_fourth_reset_code_in_an_hour_sends_nothing,
    concurrent_reset_guesses_never_exceed_the_attempt_budget,
    a_password_only_session_never_sees_level2_documents,
    changing_the_phone_needs_the_password_and_tells_the_old_number,
    a_password_change_ends_other_sessions_and_tokens,
    a_reset_ends_every_session_and_token,
);
