//! Issue 11, item 8, on SQLite and PostgreSQL: `/account` in Vietnamese and English with the
//! switch the login pages have, and the consents and the release history in a citizen's words
//! (the service's name, each claim as the consent page words it, dates in the page's language,
//! the level), never scope strings, claim names or client ids.

use vneid_tests::browser::Browser;
use vneid_tests::{Backend, VERIFIER, login, on_both_backends, param, spawn_provider};

/// What a citizen never reads on their page: scope strings, claim names, client ids, and the
/// old "Vietnamese (English in brackets)" style. (The client id stays in the withdrawal
/// form's hidden field.)
const RAW: [&str; 8] = [
    "openid profile",
    "identity_number",
    "phone_number",
    "demo-portal ·",
    "(withdraw)",
    "(consents)",
    "(documents)",
    "(change password)",
];

async fn consents_and_releases_in_the_citizens_words(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let rp = Browser::new(&provider.base);
    let back = login(
        &provider,
        &rp,
        &provider.authorize_url(&[("scope", "openid profile phone identity_number")]),
        "001095000001",
    )
    .await;
    let (_, tokens) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    let status = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);

    let me = Browser::new(&provider.base);
    let (url, _, html) = me
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    assert!(
        html.contains("id=\"lang-switch\""),
        "a switch on the login page"
    );
    let (_, _, html) = me
        .submit(
            &url,
            &html,
            "/account/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    // Vietnamese: the service by name, the claims as the consent page says them, the level,
    // the date as Vietnamese write it.
    for words in [
        "Dịch vụ được chia sẻ thông tin",
        "Cổng dịch vụ công (demo)",
        "Số điện thoại",
        "Số định danh cá nhân",
        "Mức độ 1",
        "Đồng ý ngày",
        "Lịch sử chia sẻ thông tin",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    for raw in RAW {
        assert!(!html.contains(raw), "{raw}: {html}");
    }
    let vi_date = regex_like_date(&html, '/');
    assert!(vi_date, "a dd/mm/yyyy date: {html}");

    // The switch: English, remembered for the next page.
    let (_, _, html) = me
        .navigate(&format!("{}/account?lang=en", provider.base))
        .await
        .page();
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    for words in [
        "Services you share your information with",
        "Cổng dịch vụ công (demo)",
        "Phone number",
        "Personal identification number",
        "Level 1",
        "Agreed on",
        "Every release of your data",
        "Change your password",
        "href=\"/account?lang=vi\"",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    for raw in RAW {
        assert!(!html.contains(raw), "{raw}: {html}");
    }
    assert!(
        !html.contains("Mức độ") && !html.contains("Đổi mật khẩu"),
        "{html}"
    );
    let year = time::OffsetDateTime::from_unix_timestamp(provider.state.now())
        .unwrap()
        .year();
    assert!(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December"
        ]
        .iter()
        .any(|m| html.contains(&format!(" {m} {year}, "))),
        "an English date: {html}"
    );
    let (_, _, html) = me
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(html.contains("<html lang=\"en\">"), "remembered");
    // And back.
    let (_, _, html) = me
        .navigate(&format!("{}/account?lang=vi", provider.base))
        .await
        .page();
    assert!(html.contains("<html lang=\"vi\">") && html.contains("Mức độ 1"));
}

/// Whether `html` holds a `dd/mm/yyyy` date.
fn regex_like_date(html: &str, sep: char) -> bool {
    html.as_bytes().windows(10).any(|w| {
        let s = String::from_utf8_lossy(w);
        let parts: Vec<&str> = s.split(sep).collect();
        parts.len() == 3
            && parts[0].len() == 2
            && parts[1].len() == 2
            && parts[2].len() == 4
            && s.chars().filter(|c| c.is_ascii_digit()).count() == 8
    })
}

on_both_backends!(consents_and_releases_in_the_citizens_words);
