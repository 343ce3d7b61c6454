//! The citizen's phone app in the tests: the `vneid-app` library enrolled from a Level 2
//! session of /account/devices, as a citizen would.

use scraper::{Html, Selector};

use crate::TestProvider;
use crate::browser::Browser;

/// The Level 2 demo account.
pub const BINH: &str = "079198000002";
/// The Level 1 demo account.
pub const AN: &str = "001095000001";

/// Logs `username` in to /account (with the step-up for a Level 2 account); returns the browser
/// and the devices page's URL and HTML.
pub async fn account_session(
    provider: &TestProvider,
    username: &str,
) -> (Browser, url::Url, String) {
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
            &[("username", username), ("password", "Demo@2026")],
        )
        .await
        .page();
    if url.path().ends_with("/account/step-up") {
        me.submit(
            &url,
            &html,
            "/account/step-up",
            &[("otp", &provider.totp())],
        )
        .await
        .page();
    }
    let (url, _, html) = me
        .navigate(&format!("{}/account/devices", provider.base))
        .await
        .page();
    (me, url, html)
}

/// The text of the element with this id.
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let doc = Html::parse_document(html);
    let selector = Selector::parse(&format!("#{id}")).ok()?;
    doc.select(&selector)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_string())
}

/// A one-time enrolment code for the Level 2 demo account from /account/devices, and the
/// browser still logged in to /account.
pub async fn enrolment_code(provider: &TestProvider) -> (String, Browser) {
    let (me, url, html) = account_session(provider, BINH).await;
    let (_, _, html) = me
        .submit(&url, &html, "/account/devices/code", &[])
        .await
        .page();
    let code = text_of(&html, "enrolment-code").expect("an enrolment code");
    (code, me)
}

/// Enrols a fresh `vneid-app` for the Level 2 demo account through /account/devices; returns
/// the app and the browser still logged in to /account.
pub async fn enrolled_app(provider: &TestProvider) -> (vneid_app::App, Browser) {
    let (code, me) = enrolment_code(provider).await;
    let app = vneid_app::App::enrol(&provider.issuer, &code, "test phone")
        .await
        .unwrap();
    (app, me)
}

/// Locks `username`'s account as the demo officer would at the desk.
pub async fn lock(provider: &TestProvider, username: &str) {
    let store = &provider.state.store;
    let account = store.account_by_username(username).await.unwrap().unwrap();
    let officer = store
        .officer_by_username(vneid_provider::demo::DEMO_OFFICER)
        .await
        .unwrap()
        .unwrap();
    store
        .set_account_status(
            &account,
            vneid_provider::accounts::account::AccountStatus::Locked.as_str(),
            &officer.id,
            &officer.station,
            provider.state.now(),
        )
        .await
        .unwrap();
}
