//! Passkeys as the Level 2 factor (issue 10 item 4), driven over HTTP with a software
//! authenticator (`webauthn-authenticator-rs`'s `SoftPasskey`) in place of the browser's: enrol
//! in self-service after a step-up, log in with password and passkey (`acr` level 2, `amr`
//! `hwk`), and the attacks: a ceremony of another account or browser, a ceremony answered twice,
//! a counter that does not grow, wrong assertions that lock the second factor, a Level 1
//! account or session that tries to enrol. The Chromium run is in `browser.rs`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scraper::{Html, Selector};
use url::Url;
use vneid_tests::browser::{Browser, Landing, has_form};
use vneid_tests::{Backend, TestProvider, VERIFIER, on_both_backends, param, spawn_provider};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs_proto::{CreationChallengeResponse, RequestChallengeResponse};

const L2: &str = "urn:vneid:acr:level2";
pub(super) const HOLDER: &str = "079198000002";
const LEVEL1: &str = "001095000001";
const CUONG: &str = "001090000003";

type Authenticator = WebauthnAuthenticator<SoftPasskey>;

fn authenticator() -> Authenticator {
    // `true`: the soft token says it verified the user (as a fingerprint or PIN would).
    WebauthnAuthenticator::new(SoftPasskey::new(true))
}

/// The origin passkeys are bound to (the issuer's, with `localhost` for a loopback address).
fn origin(provider: &TestProvider) -> Url {
    vneid_provider::accounts::passkey::relying_party(&provider.state.config)
        .unwrap()
        .1
}

/// The ceremony options a passkey page carries.
fn options(html: &str) -> String {
    let doc = Html::parse_document(html);
    let form = Selector::parse("#passkey-form").unwrap();
    doc.select(&form)
        .next()
        .unwrap_or_else(|| panic!("no passkey form in:\n{html}"))
        .value()
        .attr("data-options")
        .unwrap()
        .to_string()
}

/// Logs `username` in at `/account` with the password (and the code, for a Level 2 account);
/// returns the last page.
pub(super) async fn account_login(
    provider: &TestProvider,
    username: &str,
    step_up: bool,
) -> (Browser, Url, String) {
    let browser = Browser::new(&provider.base);
    let (url, _, html) = browser
        .navigate(&format!("{}/account/login", provider.base))
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/account/login",
            &[("username", username), ("password", "Demo@2026")],
        )
        .await
        .page();
    if !step_up {
        return (browser, url, html);
    }
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/account/step-up",
            &[("otp", &provider.totp())],
        )
        .await
        .page();
    assert!(html.contains("passkeys-link"), "the account page: {html}");
    (browser, url, html)
}

/// Enrols a passkey of `key` from a Level 2 self-service session.
async fn enrol(provider: &TestProvider, browser: &Browser, key: &mut Authenticator, name: &str) {
    let (url, _, html) = browser
        .navigate(&format!("{}/account/passkeys", provider.base))
        .await
        .page();
    let (url, _, html) = browser
        .submit(&url, &html, "/account/passkeys/new", &[("name", name)])
        .await
        .page();
    let challenge: CreationChallengeResponse = serde_json::from_str(&options(&html)).unwrap();
    let answer = key.do_registration(origin(provider), challenge).unwrap();
    let (_, _, html) = browser
        .submit(
            &url,
            &html,
            "/account/passkeys/finish",
            &[("credential", &serde_json::to_string(&answer).unwrap())],
        )
        .await
        .page();
    assert!(html.contains("Đã thêm khóa truy cập"), "enrolled: {html}");
    assert!(html.contains(name), "listed by name: {html}");
}

/// A Level 2 login to the portal, up to the second-factor page.
async fn second_factor_page(
    provider: &TestProvider,
    browser: &Browser,
    username: &str,
) -> (Url, String) {
    let url = provider.authorize_url(&[("acr_values", L2), ("prompt", "login")]);
    let (url, _, html) = browser.navigate(&url).await.page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", username), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(has_form(&html, "/otp"), "second factor asked: {html}");
    (url, html)
}

/// From the second-factor page, starts a passkey proof: the ceremony page.
async fn passkey_page(browser: &Browser, url: &Url, html: &str) -> (Url, String) {
    assert!(has_form(html, "/passkey"), "a passkey is offered: {html}");
    let (url, _, html) = browser.submit(url, html, "/passkey", &[]).await.page();
    (url, html)
}

/// The authenticator's answer to the ceremony on `html`, as the page would post it.
fn assertion(provider: &TestProvider, key: &mut Authenticator, html: &str) -> String {
    let challenge: RequestChallengeResponse = serde_json::from_str(&options(html)).unwrap();
    let answer = key.do_authentication(origin(provider), challenge).unwrap();
    serde_json::to_string(&answer).unwrap()
}

fn id_token_claims(tokens: &serde_json::Value) -> serde_json::Value {
    let jwt = tokens["id_token"].as_str().unwrap();
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn audit_kinds(provider: &TestProvider, username: &str) -> Vec<String> {
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
        .audit_events(&account.id, 200)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, kind, _, _)| kind)
        .collect()
}

/// The citizen enrols a passkey at `/account` after the step-up, logs in again elsewhere with
/// password and passkey: the ID token says Level 2 by `pwd`, `hwk`, `mfa` (no `otp`).
async fn a_passkey_enrolled_in_self_service_gives_level2_with_hwk(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let mut key = authenticator();
    let (browser, _, _) = account_login(&provider, HOLDER, true).await;
    enrol(&provider, &browser, &mut key, "Điện thoại của tôi").await;

    // A new browser (logged out): password, then the passkey instead of the code.
    let browser = Browser::new(&provider.base);
    let (url, html) = second_factor_page(&provider, &browser, HOLDER).await;
    let (url, html) = passkey_page(&browser, &url, &html).await;
    let credential = assertion(&provider, &mut key, &html);
    let landing = browser
        .submit(
            &url,
            &html,
            "/passkey/finish",
            &[("credential", &credential)],
        )
        .await;
    let back = match landing {
        Landing::Away(url) => url,
        page => {
            let (url, _, html) = page.page();
            browser
                .submit(&url, &html, "/consent", &[("decision", "allow")])
                .await
                .away()
        }
    };
    let code = param(&back, "code").expect("a code");
    let (status, tokens) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = id_token_claims(&tokens);
    assert_eq!(claims["acr"], L2);
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(amr, ["pwd", "hwk", "mfa"]);

    let kinds = audit_kinds(&provider, HOLDER).await;
    for kind in [
        "passkey_enrolled",
        "passkey_used",
        "second_factor_succeeded",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} audited: {kinds:?}");
    }
    // The list shows when it was last used; removing it is audited and the offer goes. (A
    // code's step is good once: the next step-up waits for the next one.)
    provider.state.clock.advance(30);
    let (browser, _, _) = account_login(&provider, HOLDER, true).await;
    let (url, _, html) = browser
        .navigate(&format!("{}/account/passkeys", provider.base))
        .await
        .page();
    assert!(!html.contains("dùng lần cuối —"), "last use shown: {html}");
    let (_, _, html) = browser
        .submit(&url, &html, "/account/passkeys/remove", &[])
        .await
        .page();
    assert!(html.contains("Đã xóa khóa truy cập"), "{html}");
    assert!(
        audit_kinds(&provider, HOLDER)
            .await
            .iter()
            .any(|k| k == "passkey_removed")
    );
    let (_, html) = second_factor_page(&provider, &Browser::new(&provider.base), HOLDER).await;
    assert!(!has_form(&html, "/passkey"), "no passkey, no offer: {html}");
}

/// A ceremony is bound to the account and the browser session that began it, and answers
/// once; a signature counter that does not grow is refused.
async fn passkey_ceremonies_are_bound_to_their_account_and_answer_once(backend: Backend) {
    let provider = spawn_provider(backend).await;
    vneid_tests::add_level2_citizen(&provider, CUONG).await;
    let mut key = authenticator();
    let (browser, _, _) = account_login(&provider, HOLDER, true).await;
    enrol(&provider, &browser, &mut key, "key").await;

    // Cường knows his own password; he presents Bình's ceremony and Bình's passkey's answer
    // in his own login. Refused: he stays at the second-factor step.
    let binh = Browser::new(&provider.base);
    let (url, html) = second_factor_page(&provider, &binh, HOLDER).await;
    let (_, binh_page) = passkey_page(&binh, &url, &html).await;
    let stolen = assertion(&provider, &mut key, &binh_page);
    let cuong = Browser::new(&provider.base);
    let (url, html) = second_factor_page(&provider, &cuong, CUONG).await;
    let forged = with_ceremony_of(&binh_page, &html, &url);
    let (_, _, html) = cuong
        .submit(&url, &forged, "/passkey/finish", &[("credential", &stolen)])
        .await
        .page();
    assert!(
        has_form(&html, "/otp"),
        "still at the second factor: {html}"
    );
    // The ceremony was taken by that attempt: Bình's own browser cannot use it any more.
    let (_, _, html) = binh
        .submit(
            &url,
            &binh_page,
            "/passkey/finish",
            &[("credential", &stolen)],
        )
        .await
        .page();
    assert!(
        has_form(&html, "/otp"),
        "a used ceremony answers no more: {html}"
    );

    // The same citizen's other browser (the password typed on an attacker's machine, the
    // passkey's answer relayed from the citizen's): a ceremony answers only the browser
    // session that began it.
    let relay = Browser::new(&provider.base);
    let (relay_url, relay_html) = second_factor_page(&provider, &relay, HOLDER).await;
    let (url, html) = second_factor_page(&provider, &binh, HOLDER).await;
    let (_, victim_page) = passkey_page(&binh, &url, &html).await;
    let relayed = assertion(&provider, &mut key, &victim_page);
    let forged = with_ceremony_of(&victim_page, &relay_html, &relay_url);
    let (_, _, html) = relay
        .submit(
            &relay_url,
            &forged,
            "/passkey/finish",
            &[("credential", &relayed)],
        )
        .await
        .page();
    assert!(
        has_form(&html, "/otp"),
        "another browser's ceremony is refused: {html}"
    );

    // Replay: a ceremony answered wrongly once is gone; the right answer after it is refused.
    let (url, html) = second_factor_page(&provider, &binh, HOLDER).await;
    let (url, page) = passkey_page(&binh, &url, &html).await;
    let good = assertion(&provider, &mut key, &page);
    let (_, _, html) = binh
        .submit(&url, &page, "/passkey/finish", &[("credential", "{}")])
        .await
        .page();
    assert!(
        html.contains("not accepted") || html.contains("không được chấp nhận"),
        "{html}"
    );
    let (_, _, html) = binh
        .submit(&url, &page, "/passkey/finish", &[("credential", &good)])
        .await
        .page();
    assert!(
        has_form(&html, "/otp"),
        "the replayed ceremony is refused: {html}"
    );

    // A counter that does not grow past the stored one (a cloned authenticator) is refused.
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&provider.database_url)
        .await
        .unwrap();
    sqlx::query("UPDATE passkeys SET counter = 1000000")
        .execute(&mut db)
        .await
        .unwrap();
    let (url, html) = second_factor_page(&provider, &binh, HOLDER).await;
    let (url, page) = passkey_page(&binh, &url, &html).await;
    let credential = assertion(&provider, &mut key, &page);
    let (_, _, html) = binh
        .submit(
            &url,
            &page,
            "/passkey/finish",
            &[("credential", &credential)],
        )
        .await
        .page();
    assert!(
        has_form(&html, "/otp"),
        "counter regression refused: {html}"
    );
}

/// `own` (a page of the attacker's login) with the ceremony id of `victim`'s passkey page, in a
/// form aimed at the attacker's own interaction.
fn with_ceremony_of(victim: &str, own: &str, own_url: &Url) -> String {
    let doc = Html::parse_document(victim);
    let ceremony = Selector::parse("input[name=ceremony]").unwrap();
    let ceremony = doc
        .select(&ceremony)
        .next()
        .unwrap()
        .value()
        .attr("value")
        .unwrap()
        .to_string();
    let (_, hidden) = vneid_tests::browser::form(own, "/otp");
    let csrf = hidden.into_iter().find(|(k, _)| k == "csrf").unwrap().1;
    let action = format!("{}/passkey/finish", own_url.path());
    format!(
        "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"ceremony\" value=\"{ceremony}\"></form>"
    )
}

/// Wrong assertions count on the second factor's own counter and lock it; a locked second
/// factor refuses the passkey before any challenge.
async fn wrong_assertions_lock_the_second_factor_and_a_locked_one_refuses_passkeys(
    backend: Backend,
) {
    let provider = spawn_provider(backend).await;
    let mut key = authenticator();
    let (browser, _, _) = account_login(&provider, HOLDER, true).await;
    enrol(&provider, &browser, &mut key, "key").await;
    let browser = Browser::new(&provider.base);
    let (mut url, mut html) = second_factor_page(&provider, &browser, HOLDER).await;
    for _ in 0..5 {
        let (u, page) = passkey_page(&browser, &url, &html).await;
        let (u, _, h) = browser
            .submit(&u, &page, "/passkey/finish", &[("credential", "{}")])
            .await
            .page();
        (url, html) = (u, h);
    }
    assert!(
        html.contains("tạm khóa") || html.contains("locked"),
        "five wrong assertions lock: {html}"
    );
    let kinds = audit_kinds(&provider, HOLDER).await;
    assert!(
        kinds.iter().any(|k| k == "second_factor_locked"),
        "{kinds:?}"
    );
    // Locked: not even a challenge is made, and a right answer cannot be had.
    let ceremonies = provider
        .scalar("SELECT COUNT(*) FROM passkey_ceremonies")
        .await;
    let (_, _, html) = browser.submit(&url, &html, "/passkey", &[]).await.page();
    assert!(has_form(&html, "/otp"), "{html}");
    assert!(
        html.contains("tạm khóa") || html.contains("locked"),
        "{html}"
    );
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM passkey_ceremonies")
            .await,
        ceremonies
    );
}

/// A Level 1 account has no passkey to enrol, and a Level 2 account needs a Level 2 session:
/// the forms are not shown and a forged post makes no ceremony.
async fn a_level1_account_or_session_cannot_enrol_a_passkey(backend: Backend) {
    let provider = spawn_provider(backend).await;
    for (username, step_up) in [(LEVEL1, false), (HOLDER, false)] {
        let (browser, _, _) = account_login(&provider, username, step_up).await;
        let url = format!("{}/account/passkeys", provider.base);
        let (url, _, html) = browser.navigate(&url).await.page();
        assert!(!has_form(&html, "/account/passkeys/new"), "{html}");
        let csrf = {
            let (_, hidden) = vneid_tests::browser::form(
                &html_with_logout(&browser, &provider).await,
                "/account/logout",
            );
            hidden.into_iter().find(|(k, _)| k == "csrf").unwrap().1
        };
        let forged = format!(
            "<form method=\"post\" action=\"/account/passkeys/new\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"></form>"
        );
        let (_, _, html) = browser
            .submit(&url, &forged, "/account/passkeys/new", &[("name", "x")])
            .await
            .page();
        assert!(
            html.contains("Cần đăng nhập mức độ 2 để quản lý khóa truy cập"),
            "{username}: {html}"
        );
        assert!(!html.contains("data-options"), "{html}");
        assert_eq!(
            provider
                .scalar("SELECT COUNT(*) FROM passkey_ceremonies")
                .await,
            0
        );
    }
}

async fn html_with_logout(browser: &Browser, provider: &TestProvider) -> String {
    browser
        .navigate(&format!("{}/account", provider.base))
        .await
        .page()
        .2
}

/// An account locked at the desk while its citizen is at the passkey page is refused: the
/// answer raises nothing, and the password no longer opens a second-factor step.
async fn an_account_locked_at_the_desk_cannot_finish_or_start_a_passkey_login(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let mut key = authenticator();
    let (browser, _, _) = account_login(&provider, HOLDER, true).await;
    enrol(&provider, &browser, &mut key, "key").await;
    let browser = Browser::new(&provider.base);
    let (url, html) = second_factor_page(&provider, &browser, HOLDER).await;
    let (url, page) = passkey_page(&browser, &url, &html).await;
    let credential = assertion(&provider, &mut key, &page);
    let store = &provider.state.store;
    let account = store.account_by_username(HOLDER).await.unwrap().unwrap();
    let change = vneid_provider::store::StatusChange {
        account_id: &account.id,
        from: "active",
        to: "locked",
        detail: serde_json::json!({ "officer": "test" }),
        notice: None,
    };
    assert!(
        store
            .change_account_status(change, provider.state.now())
            .await
            .unwrap()
    );
    let landing = browser
        .submit(
            &url,
            &page,
            "/passkey/finish",
            &[("credential", &credential)],
        )
        .await;
    let Landing::Page { html, .. } = landing else {
        panic!("a locked account was sent back to the relying party: {landing:?}");
    };
    assert!(!has_form(&html, "/consent"), "{html}");
    // A new login: the right password is told the account cannot be used, no second factor.
    let fresh = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("acr_values", L2)]);
    let (url, _, html) = fresh.navigate(&url).await.page();
    let (_, _, html) = fresh
        .submit(
            &url,
            &html,
            "/login",
            &[("username", HOLDER), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(
        !has_form(&html, "/passkey") && !has_form(&html, "/otp"),
        "{html}"
    );
}

on_both_backends!(
    a_passkey_enrolled_in_self_service_gives_level2_with_hwk,
    passkey_ceremonies_are_bound_to_their_account_and_answer_once,
    wrong_assertions_lock_the_second_factor_and_a_locked_one_refuses_passkeys,
    a_level1_account_or_session_cannot_enrol_a_passkey,
    an_account_locked_at_the_desk_cannot_finish_or_start_a_passkey_login,
);
