//! A real browser: headless Chromium (Debian's `chromium` and `chromium-driver`, installed by
//! `.ci/run`) clicks through the example portal → provider login → consent → the portal page
//! that greets the citizen by name, and the example bank's Level 2 flow with the TOTP code.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use vneid_tests::{Backend, TestProvider, spawn_provider};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

// The driver process is waited for in `Driver`'s Drop.
#[allow(clippy::zombie_processes)]
async fn chromedriver() -> (Driver, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver must be installed (.ci/run installs Debian's chromium-driver)");
    let url = format!("http://127.0.0.1:{port}");
    for _ in 0..100 {
        if reqwest::get(format!("{url}/status")).await.is_ok() {
            return (Driver(child), url);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &str) -> Client {
    let mut caps = serde_json::Map::new();
    let profile = std::env::temp_dir().join(format!("vneid-chrome-{}", rand::random::<u64>()));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=390,844", format!("--user-data-dir={}", profile.display())]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("a Chromium session")
}

async fn serve(router: axum::Router, port: u16) -> tokio::task::JoinHandle<()> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap_or_else(|e| {
            panic!("port {port} is needed by the example app (the demo clients' redirect URI): {e}")
        });
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() })
}

async fn text(c: &Client, css: &str) -> String {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn fill(c: &Client, name: &str, value: &str) {
    let field = c
        .wait()
        .for_element(Locator::Css(&format!("input[name={name}]")))
        .await
        .unwrap();
    field.send_keys(value).await.unwrap();
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn portal_then_bank(provider: &TestProvider, driver: &str) {
    // The portal: "My records" needs Level 1.
    let c = browser(driver).await;
    c.goto("http://127.0.0.1:3001/records").await.unwrap();
    fill(&c, "username", "001095000001").await;
    fill(&c, "password", "Demo@2026").await;
    click(&c, "form[action$='/login'] button").await;
    click(&c, "button[value=allow]").await;
    let greeting = text(&c, "#greeting").await;
    assert!(greeting.contains("Nguyễn Văn An"), "{greeting}");
    let png = c.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("vneid-portal.png"), png).unwrap();
    c.close().await.unwrap();

    // The bank: Level 2 with the TOTP code, documents, the eKYC record.
    let c = browser(driver).await;
    c.goto("http://127.0.0.1:3002/").await.unwrap();
    click(&c, "#open").await;
    fill(&c, "username", "079198000002").await;
    fill(&c, "password", "Demo@2026").await;
    click(&c, "form[action$='/login'] button").await;
    fill(&c, "otp", &provider.totp()).await;
    click(&c, "form[action$='/otp'] button[type=submit]").await;
    click(&c, "button[value=allow]").await;
    assert_eq!(text(&c, "#name").await, "Trần Thị Bình");
    assert_eq!(text(&c, "#pin").await, "079198000002");
    assert_eq!(text(&c, "#level").await, "Mức độ 2");
    let page = c.source().await.unwrap();
    assert!(
        page.contains("Giấy phép lái xe: 790123456789"),
        "documents shown"
    );
    let png = c.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("vneid-bank.png"), png).unwrap();
    c.close().await.unwrap();
}

/// Issue 4's journey in the browser, through the example apps: a person only in the registry
/// registers Level 1 by the API, logs in to the portal with the SMS password (changing it), is
/// upgraded at the desk, and opens a bank account at Level 2 with the enrolled code.
async fn registry_to_bank(provider: &TestProvider, driver: &str) {
    super::registration::import(provider).await;
    let (_, body) = super::registration::submit(provider, &super::registration::chau(), None).await;
    assert_eq!(body["status"], "approved");
    let sms = super::registration::sms_password(provider, "+84912345678").await;

    let citizen = browser(driver).await;
    citizen.goto("http://127.0.0.1:3001/records").await.unwrap();
    fill(&citizen, "username", "001301000123").await;
    fill(&citizen, "password", &sms).await;
    click(&citizen, "form[action$='/login'] button").await;
    fill(&citizen, "new_password", "Chau-2026-moi").await;
    fill(&citizen, "confirm_password", "Chau-2026-moi").await;
    click(&citizen, "form[action$='/password'] button").await;
    click(&citizen, "button[value=allow]").await;
    assert!(text(&citizen, "#greeting").await.contains("Lê Minh Châu"));
    assert_eq!(text(&citizen, "#level").await, "Mức độ 1");

    let officer = browser(driver).await;
    officer
        .goto(&format!("{}/desk", provider.base))
        .await
        .unwrap();
    fill(&officer, "username", "canbo01").await;
    fill(&officer, "password", "Demo@2026").await;
    fill(&officer, "otp", &vneid_tests::totp_at(provider.state.now())).await;
    click(&officer, "form[action='/desk/login'] button").await;
    fill(&officer, "id_number", "001301000123").await;
    click(&officer, "form[action='/desk/people'] button").await;
    let probe =
        |seed, shift| serde_json::to_string(&super::registration::template(seed, shift)).unwrap();
    fill_area(&officer, "portrait_template", &probe(1, 0.02)).await;
    fill_area(&officer, "fingerprint_template", &probe(2, 0.01)).await;
    fill_area(&officer, "fingerprint_template_2", &probe(8, 0.01)).await;
    click(&officer, "form[action='/desk/verify'] button").await;
    click(&officer, "input[name=consent]").await;
    click(&officer, "form[action='/desk/enrol'] button[type=submit]").await;
    let secret = text(&officer, "#totp-secret").await;
    let png = officer.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("vneid-desk.png"), png).unwrap();
    officer.close().await.unwrap();

    citizen.goto("http://127.0.0.1:3002/").await.unwrap();
    click(&citizen, "#open").await;
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&secret).unwrap())
        .build_noncompliant();
    fill(
        &citizen,
        "otp",
        &totp.generate(provider.state.now() as u64).to_string(),
    )
    .await;
    click(&citizen, "form[action$='/otp'] button[type=submit]").await;
    click(&citizen, "button[value=allow]").await;
    assert_eq!(text(&citizen, "#name").await, "Lê Minh Châu");
    assert_eq!(text(&citizen, "#level").await, "Mức độ 2");
    citizen.close().await.unwrap();
}

async fn fill_area(c: &Client, name: &str, value: &str) {
    let field = c
        .wait()
        .for_element(Locator::Css(&format!("textarea[name={name}]")))
        .await
        .unwrap();
    field.send_keys(value).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_logs_in_to_the_portal_and_the_bank() {
    let provider = spawn_provider(Backend::Sqlite).await;
    let portal = public_portal::app(&provider.issuer, "http://127.0.0.1:3001")
        .await
        .unwrap();
    let db = std::env::temp_dir().join(format!("bank-{}.db", rand::random::<u64>()));
    let bank = bank_ekyc::app(
        &provider.issuer,
        "http://127.0.0.1:3002",
        &format!("sqlite:{}?mode=rwc", db.display()),
    )
    .await
    .unwrap();
    let _portal = serve(portal, 3001).await;
    let _bank = serve(bank, 3002).await;
    let (_driver, url) = chromedriver().await;
    portal_then_bank(&provider, &url).await;
    registry_to_bank(&provider, &url).await;
}

/// WebDriver's WebAuthn extension: a virtual authenticator in this Chromium session (a
/// platform authenticator that holds resident keys and verifies the user).
#[derive(Debug)]
struct AddVirtualAuthenticator;

impl fantoccini::wd::WebDriverCompatibleCommand for AddVirtualAuthenticator {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/webauthn/authenticator",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
        });
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// Issue 10 item 4 in Chromium, with its virtual authenticator: the Level 2 citizen steps up
/// at `/account`, enrols a passkey, and in a fresh login to a relying party asking Level 2
/// uses it instead of the code: the ID token has `acr` level 2 and `amr` `hwk`. WebAuthn
/// refuses IP addresses, so this provider is `http://localhost:PORT`; its own client's
/// redirect URI is a port nobody serves (the code is read from the address bar).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_enrols_a_passkey_and_logs_in_with_it() {
    let provider = vneid_tests::spawn_provider_with(Backend::Sqlite, |config| {
        config.issuer.set_host(Some("localhost")).unwrap();
    })
    .await;
    let site = provider.state.config.issuer_str().to_string();
    let callback = "http://127.0.0.1:9/passkey-callback";
    let new = vneid_provider::cli::NewClient::new(
        "passkey-rp",
        "Passkey RP",
        vec![callback.into()],
        "openid profile",
        vneid_provider::oidc::types::ClientAuthMethod::SecretBasic,
    );
    let secret = vneid_provider::cli::add_client(&provider.state.config, new)
        .await
        .unwrap();
    let (_driver, url) = chromedriver().await;
    let c = browser(&url).await;
    c.issue_cmd(AddVirtualAuthenticator).await.unwrap();

    // Self-service: password, the code (step-up), then a passkey.
    c.goto(&format!("{site}/account/login")).await.unwrap();
    fill(&c, "username", "079198000002").await;
    fill(&c, "password", "Demo@2026").await;
    click(&c, "form[action='/account/login'] button").await;
    fill(&c, "otp", &provider.totp()).await;
    click(&c, "form[action='/account/step-up'] button").await;
    click(&c, "#passkeys-link").await;
    fill(&c, "name", "Chromium").await;
    click(&c, "#passkey-new").await;
    let png = c.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("vneid-passkey-enrol.png"), png).unwrap();
    click(&c, "#passkey-start").await;
    assert!(
        text(&c, "p[role=status] strong")
            .await
            .contains("Đã thêm khóa truy cập")
    );
    click(&c, "a[href='/account']").await;
    click(&c, "form[action='/account/logout'] button").await;

    // A relying party asks Level 2: password, then the passkey.
    let mut authorize = url::Url::parse(&format!("{site}/authorize")).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", "passkey-rp"),
        ("redirect_uri", callback),
        ("scope", "openid profile"),
        ("state", "st4te"),
        ("nonce", "n0nce"),
        ("acr_values", "urn:vneid:acr:level2"),
        ("code_challenge", vneid_tests::CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    c.goto(authorize.as_str()).await.unwrap();
    fill(&c, "username", "079198000002").await;
    fill(&c, "password", "Demo@2026").await;
    click(&c, "form[action$='/login'] button").await;
    click(&c, "#use-passkey").await;
    c.wait()
        .for_element(Locator::Css("#passkey-start"))
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("vneid-passkey-login.png"), png).unwrap();
    click(&c, "#passkey-start").await;
    click(&c, "button[value=allow]").await;
    let mut back = None;
    for _ in 0..100 {
        let now = c.current_url().await.unwrap();
        if now.as_str().starts_with(callback) {
            back = Some(now);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let back = back.expect("sent back to the relying party");
    let code = vneid_tests::param(&back, "code").expect("a code");
    c.close().await.unwrap();
    let tokens: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth("passkey-rp", Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback),
            ("code_verifier", vneid_tests::VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwt = tokens["id_token"].as_str().expect("an ID token");
    use base64::Engine;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(1).unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(claims["acr"], "urn:vneid:acr:level2");
    assert_eq!(claims["amr"], json!(["pwd", "hwk", "mfa"]));
}

/// Issue 11: the desk and `/account` in English in Chromium, through the visible switch: the
/// headings, labels and buttons are English, the `lang` attribute says so, and no Vietnamese
/// (with English in brackets or not) is left on those pages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_and_account_pages_in_english_in_chromium() {
    let provider = spawn_provider(Backend::Sqlite).await;
    super::registration::import(&provider).await;
    let (_driver, url) = chromedriver().await;
    let vietnamese = [
        "Tra cứu",
        "Đăng nhập",
        "Mật khẩu",
        "Giấy tờ",
        "Mức độ",
        "Đổi mật khẩu",
        "Thu nhận",
        "(find a person)",
        "(officer login)",
    ];
    let english = |page: &str, place: &str| {
        assert!(page.contains("<html lang=\"en\">"), "{place}: {page}");
        for vi in vietnamese {
            assert!(!page.contains(vi), "{place}: {vi} in {page}");
        }
    };

    let officer = browser(&url).await;
    officer
        .goto(&format!("{}/desk", provider.base))
        .await
        .unwrap();
    assert_eq!(text(&officer, "#lang-switch").await, "English");
    click(&officer, "#lang-switch").await;
    assert_eq!(text(&officer, "h1").await, "Officer login");
    assert_eq!(text(&officer, "label[for=username]").await, "Username");
    english(&officer.source().await.unwrap(), "desk login");
    fill(&officer, "username", "canbo01").await;
    fill(&officer, "password", "Demo@2026").await;
    fill(&officer, "otp", &vneid_tests::totp_at(provider.state.now())).await;
    click(&officer, "form[action='/desk/login'] button").await;
    assert_eq!(text(&officer, "h1").await, "Find a person");
    assert_eq!(
        text(&officer, "form[action='/desk/people'] button").await,
        "Look up"
    );
    english(&officer.source().await.unwrap(), "desk home");
    fill(&officer, "id_number", "001301000123").await;
    click(&officer, "form[action='/desk/people'] button").await;
    assert_eq!(text(&officer, "#account-status").await, "none yet");
    assert_eq!(text(&officer, "h2").await, "Documents on record");
    assert_eq!(text(&officer, "#lang-switch").await, "Tiếng Việt");
    english(&officer.source().await.unwrap(), "desk person");
    let png = officer.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("vneid-desk-en.png"), png).unwrap();
    officer.close().await.unwrap();

    let citizen = browser(&url).await;
    citizen
        .goto(&format!("{}/account", provider.base))
        .await
        .unwrap();
    click(&citizen, "#lang-switch").await;
    assert_eq!(text(&citizen, "h1").await, "Log in");
    english(&citizen.source().await.unwrap(), "account login");
    fill(&citizen, "username", "001095000001").await;
    fill(&citizen, "password", "Demo@2026").await;
    click(&citizen, "form[action='/account/login'] button").await;
    assert_eq!(text(&citizen, "#level").await, "Level 1");
    assert_eq!(text(&citizen, "h2").await, "Integrated documents");
    let page = citizen.source().await.unwrap();
    assert!(page.contains("Change your password"), "{page}");
    english(&page, "account");
    let png = citizen.screenshot().await.unwrap();
    std::fs::write(std::env::temp_dir().join("vneid-account-en.png"), png).unwrap();
    citizen.close().await.unwrap();
}
