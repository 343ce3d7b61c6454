//! Issue 11, item 8, on SQLite and PostgreSQL: `/account` in Vietnamese and English with the
//! switch the login pages have, and the consents and the release history in a citizen's words
//! (the service's name, each claim as the consent page words it, dates in the page's language,
//! the level), never scope strings, claim names or client ids; the passkeys and devices pages
//! in either language too.

use scraper::{Html, Selector};
use vneid_tests::browser::Browser;
use vneid_tests::{Backend, VERIFIER, login, on_both_backends, param, spawn_provider};

use super::passkeys::{HOLDER, account_login};

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

/// The visible text of a page's `<main>`.
fn main_text(html: &str) -> String {
    let doc = Html::parse_document(html);
    let main = Selector::parse("main").unwrap();
    doc.select(&main)
        .flat_map(|m| m.text())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `text` has English words in brackets, the old "Vietnamese (English)" style: a
/// bracket holding only ASCII letters and spaces, at least two words.
fn english_in_brackets(text: &str) -> Option<String> {
    text.split('(').skip(1).find_map(|rest| {
        let inside = rest.split(')').next()?;
        (rest.contains(')')
            && inside.contains(' ')
            && inside
                .chars()
                .all(|c| c.is_ascii_alphabetic() || c == ' ' || c == '\''))
        .then(|| inside.to_string())
    })
}

/// The passkeys and devices pages of a Level 2 citizen in Vietnamese (the default) and, after
/// the switch, in English: no heading of the other language, no English in brackets.
async fn passkeys_and_devices_pages_in_either_language(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (browser, _, _) = account_login(&provider, HOLDER, true).await;
    let page = |path: &str| {
        let url = format!("{}{path}", provider.base);
        let browser = &browser;
        async move { browser.navigate(&url).await.page() }
    };

    // Vietnamese.
    let (url, _, html) = page("/account/passkeys").await;
    assert!(html.contains("<html lang=\"vi\">"), "{html}");
    for words in [
        "<h1>Khóa truy cập</h1>",
        "<h2>Khóa truy cập đã đăng ký</h2>",
        "<h2>Thêm khóa truy cập</h2>",
        "Quay lại tài khoản",
        "href=\"/account/passkeys?lang=en\"",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert_eq!(english_in_brackets(&main_text(&html)), None, "{html}");
    assert!(!html.contains("Registered passkeys"), "{html}");
    let (_, _, html) = browser
        .submit(
            &url,
            &html,
            "/account/passkeys/new",
            &[("name", "điện thoại")],
        )
        .await
        .page();
    assert!(
        html.contains("data-waiting=\"Đang chờ thiết bị xác thực…\"")
            && html.contains("Tạo khóa truy cập trên thiết bị này"),
        "{html}"
    );
    assert_eq!(english_in_brackets(&main_text(&html)), None, "{html}");
    let (url, _, html) = page("/account/devices").await;
    for words in [
        "<h1>Ứng dụng VNeID trên điện thoại</h1>",
        "<h2>Thiết bị đã liên kết</h2>",
        "<h2>Liên kết ứng dụng</h2>",
        "Tạo mã liên kết",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert_eq!(english_in_brackets(&main_text(&html)), None, "{html}");
    let (_, _, html) = browser
        .submit(&url, &html, "/account/devices/code", &[])
        .await
        .page();
    assert!(
        html.contains("Nhập mã này vào ứng dụng trong vòng")
            && html.contains("aria-label=\"Mã QR: "),
        "{html}"
    );
    assert_eq!(english_in_brackets(&main_text(&html)), None, "{html}");

    // English, remembered from the switch.
    let (url, _, html) = page("/account/passkeys?lang=en").await;
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    for words in [
        "<h1>Passkeys</h1>",
        "<h2>Registered passkeys</h2>",
        "<h2>Add a passkey</h2>",
        "Back to my account",
        "href=\"/account/passkeys?lang=vi\"",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert!(
        !html.contains("Khóa truy cập") && !html.contains("Quay lại tài khoản"),
        "{html}"
    );
    let (_, _, html) = browser
        .submit(&url, &html, "/account/passkeys/new", &[("name", "phone")])
        .await
        .page();
    assert!(
        html.contains("data-waiting=\"Waiting for your authenticator…\"")
            && html.contains("<h2>Register a new passkey</h2>")
            && !html.contains("Đăng ký khóa truy cập mới"),
        "{html}"
    );
    let (url, _, html) = page("/account/devices").await;
    assert!(html.contains("<html lang=\"en\">"), "remembered: {html}");
    for words in [
        "<h1>Your VNeID phone app</h1>",
        "<h2>Linked devices</h2>",
        "<h2>Link the app</h2>",
        "Create an enrolment code",
    ] {
        assert!(html.contains(words), "{words}: {html}");
    }
    assert!(
        !html.contains("Ứng dụng VNeID trên điện thoại")
            && !html.contains("Thiết bị đã liên kết")
            && !html.contains("Liên kết ứng dụng"),
        "{html}"
    );
    let (_, _, html) = browser
        .submit(&url, &html, "/account/devices/code", &[])
        .await
        .page();
    assert!(
        html.contains("Enter this code in the app within")
            && html.contains("aria-label=\"QR code: ")
            && !html.contains("Nhập mã này"),
        "{html}"
    );
}

on_both_backends!(passkeys_and_devices_pages_in_either_language);
