//! Issue 11, item 8 (contacts), on SQLite and PostgreSQL: a contact stays unverified, and is
//! released as such, until a code sent to it is entered.

use serde_json::{Value, json};
use vneid_tests::browser::{Browser, Landing, has_form};
use vneid_tests::{Backend, TestProvider, VERIFIER, on_both_backends, param, spawn_provider};

use super::guardians::import;
use super::registration::{card, sms_password, submit, template};

/// Logs in through the pages (changing a first password when asked) and returns UserInfo.
async fn userinfo(
    provider: &TestProvider,
    browser: &Browser,
    username: &str,
    password: &str,
    scope: &str,
) -> Value {
    let mut landing = browser
        .navigate(&provider.authorize_url(&[("scope", scope)]))
        .await;
    for _ in 0..5 {
        let (url, _, html) = match landing {
            Landing::Away(back) => {
                let (status, tokens) = provider
                    .redeem(&param(&back, "code").unwrap(), VERIFIER)
                    .await;
                assert_eq!(status, 200, "{tokens}");
                return reqwest::Client::new()
                    .get(format!("{}/userinfo", provider.base))
                    .bearer_auth(tokens["access_token"].as_str().unwrap())
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            }
            page => page.page(),
        };
        landing = if has_form(&html, "/login") {
            browser
                .submit(
                    &url,
                    &html,
                    "/login",
                    &[("username", username), ("password", password)],
                )
                .await
        } else if has_form(&html, "/password") {
            browser
                .submit(
                    &url,
                    &html,
                    "/password",
                    &[
                        ("new_password", "Con-2026-moi-pw"),
                        ("confirm_password", "Con-2026-moi-pw"),
                    ],
                )
                .await
        } else {
            browser
                .submit(&url, &html, "/consent", &[("decision", "allow")])
                .await
        };
    }
    panic!("no way through the login pages");
}

/// The newest code sent to `recipient` (opened from the outbox).
async fn newest_code(provider: &TestProvider, recipient: &str) -> String {
    let outbox = provider.outbox().await;
    let m = outbox
        .iter()
        .find(|m| m.recipient == recipient && m.kind.ends_with("contact_code"))
        .expect("a code was sent");
    m.body
        .split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_string()
}

/// A phone number taken from the registry at registration is released with
/// `phone_number_verified: false` until a code sent to it is entered; five wrong codes spend the
/// code, an expired code does nothing, the right one verifies it (and tells nobody of a change).
async fn a_contact_stays_unverified_until_a_code_sent_to_it_is_entered(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let phone = "+84912000123";
    import(
        &provider,
        json!([{ "id_number": "001301000123", "kind": "citizen", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
                 "birthdate": "2001-04-02", "gender": "female", "phone_number": phone, "identity_card": card("001301000123"),
                 "biometrics": { "portrait": template(1, 0.0) } }]),
    )
    .await;
    let (_, body) = submit(&provider, &super::registration::chau(), None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let password = sms_password(&provider, phone).await;
    let citizen = Browser::new(&provider.base);
    let info = userinfo(
        &provider,
        &citizen,
        "001301000123",
        &password,
        "openid phone",
    )
    .await;
    assert_eq!(
        (
            info["phone_number"].as_str(),
            info["phone_number_verified"].as_bool()
        ),
        (Some(phone), Some(false)),
        "{info}"
    );

    let (url, _, html) = citizen
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(
        html.contains("chưa xác minh") && has_form(&html, "/account/contact/verify"),
        "{html}"
    );
    let (url, _, html) = citizen
        .submit(&url, &html, "/account/contact/verify", &[])
        .await
        .page();
    let code = newest_code(&provider, phone).await;
    // Five wrong codes spend it: the right one no longer works.
    for wrong in ["000000", "111111", "222222", "333333", "444444"] {
        let wrong = if wrong == code { "555555" } else { wrong };
        citizen
            .submit(
                &url,
                &html,
                "/account/contact/confirm",
                &[("kind", "phone"), ("code", wrong)],
            )
            .await
            .page();
    }
    let (url, _, html) = citizen
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(
        html.contains("chưa xác minh"),
        "spent after five wrong codes: {html}"
    );
    // A code past its ten minutes does nothing.
    let (url, _, html) = citizen
        .submit(&url, &html, "/account/contact/verify", &[])
        .await
        .page();
    let code = newest_code(&provider, phone).await;
    provider.state.clock.advance(601);
    let (url, _, html) = citizen
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(html.contains("chưa xác minh"), "expired: {html}");
    // A fresh code, entered in time: verified.
    let (url, _, html) = citizen
        .submit(&url, &html, "/account/contact/verify", &[])
        .await
        .page();
    let code = newest_code(&provider, phone).await;
    let (_, _, html) = citizen
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(
        html.contains("đã xác minh") && !has_form(&html, "/account/contact/verify"),
        "{html}"
    );
    assert!(
        !provider
            .outbox()
            .await
            .iter()
            .any(|m| m.kind == "contact_changed"),
        "verifying is not a change: nobody is warned"
    );
    let info = userinfo(
        &provider,
        &citizen,
        "001301000123",
        "Con-2026-moi-pw",
        "openid phone",
    )
    .await;
    assert_eq!(
        info["phone_number_verified"].as_bool(),
        Some(true),
        "{info}"
    );
}

on_both_backends!(a_contact_stays_unverified_until_a_code_sent_to_it_is_entered);
