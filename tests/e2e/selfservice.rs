//! Citizen self-service: level and documents, consents (revocable), the history of releases,
//! contact change with a code, password change and reset by SMS code.

use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, TestProvider, VERIFIER, login, on_both_backends, param, spawn_provider,
};

async fn last_code(provider: &TestProvider, recipient: &str, kind: &str) -> String {
    let messages = provider.outbox().await;
    let m = messages
        .iter()
        .find(|m| m.recipient == recipient && m.kind == format!("secret:{kind}"))
        .expect("a code was sent");
    m.body
        .split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_string()
}

async fn citizens_manage_their_account(backend: Backend) {
    let provider = spawn_provider(backend).await;
    // A release to the portal, to see in the history.
    let rp = Browser::new(&provider.base);
    let back = login(
        &provider,
        &rp,
        &provider.authorize_url(&[("scope", "openid profile phone")]),
        "079198000002",
    )
    .await;
    let (_, tokens) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let userinfo = |token: String| {
        let base = provider.base.clone();
        async move {
            reqwest::Client::new()
                .get(format!("{base}/userinfo"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(userinfo(access.clone()).await, 200);

    let me = Browser::new(&provider.base);
    let (url, _, html) = me
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    let (url, _, html) = me
        .submit(
            &url,
            &html,
            "/account/login",
            &[("username", "079198000002"), ("password", "Demo@2026")],
        )
        .await
        .page();
    // A Level 2 account is asked for its second factor before the documents show.
    assert!(url.path().ends_with("/account/step-up"), "{url}");
    provider.state.clock.advance(30);
    let (url, _, html) = me
        .submit(
            &url,
            &html,
            "/account/step-up",
            &[("otp", &provider.totp())],
        )
        .await
        .page();
    assert!(
        html.contains("Trần Thị Bình") && html.contains("Mức độ 2"),
        "{html}"
    );
    assert!(
        html.contains("Giấy phép lái xe: 790123456789"),
        "documents listed"
    );
    assert!(
        html.contains("Cổng dịch vụ công (demo)"),
        "the consent is listed"
    );
    assert!(
        html.contains("<ul id=\"releases\"><li>") && html.contains("Số điện thoại"),
        "the release is in the history, in words: {html}"
    );

    // Withdrawing the consent revokes the portal's tokens.
    let (url, _, html) = me
        .submit(
            &url,
            &html,
            "/account/consents/revoke",
            &[("client_id", "demo-portal")],
        )
        .await
        .page();
    assert_eq!(userinfo(access).await, 401);

    // A new phone number, confirmed with the code sent to it.
    let (url, _, html) = me
        .submit(
            &url,
            &html,
            "/account/contact",
            &[
                ("kind", "phone"),
                ("value", "+84987654321"),
                ("current_password", "Demo@2026"),
            ],
        )
        .await
        .page();
    let code = last_code(&provider, "+84987654321", "contact_code").await;
    let (_, _, html) = me
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", "000000")],
        )
        .await
        .page();
    assert!(html.contains("role=\"alert\""), "a wrong code is refused");
    let (url, _, html) = me
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(html.contains("+84987654321"), "{html}");
    // Changing the password needs the current one.
    let (url, _, html) = me
        .submit(
            &url,
            &html,
            "/account/password",
            &[
                ("current_password", "wrong"),
                ("new_password", "Binh-2026-x"),
                ("confirm_password", "Binh-2026-x"),
            ],
        )
        .await
        .page();
    assert!(html.contains("Mật khẩu hiện tại không đúng"));
    let _ = url;

    // Password reset by SMS code, from another browser.
    let other = Browser::new(&provider.base);
    let (url, _, html) = other
        .navigate(&format!("{}/account/reset", provider.base))
        .await
        .page();
    let (url, _, html) = other
        .submit(
            &url,
            &html,
            "/account/reset",
            &[("username", "079198000002")],
        )
        .await
        .page();
    let code = last_code(&provider, "+84987654321", "reset_code").await;
    let (url, _, html) = other
        .submit(
            &url,
            &html,
            "/account/reset/confirm",
            &[
                ("code", &code),
                ("new_password", "Binh-2026-moi"),
                ("confirm_password", "Binh-2026-moi"),
            ],
        )
        .await
        .page();
    assert!(html.contains("Đã đặt lại mật khẩu"), "{html}");
    let (url, _, _) = other
        .submit(
            &url,
            &html,
            "/account/login",
            &[("username", "079198000002"), ("password", "Binh-2026-moi")],
        )
        .await
        .page();
    assert_eq!(
        url.path(),
        "/account/step-up",
        "the new password works (the second factor comes next)"
    );
    // The code cannot be used twice, and an unknown number gets the same answer.
    let (url, _, html) = other
        .navigate(&format!("{}/account/reset", provider.base))
        .await
        .page();
    let (_, _, html) = other
        .submit(
            &url,
            &html,
            "/account/reset",
            &[("username", "001099999999")],
        )
        .await
        .page();
    assert!(html.contains("Nếu tài khoản có số điện thoại"));
}

on_both_backends!(citizens_manage_their_account);
