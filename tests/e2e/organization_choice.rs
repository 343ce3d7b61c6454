//! Issue 11, item 1, on SQLite and PostgreSQL: a representative of several organisations chooses
//! on the consent page which one a service receives (a fieldset of radio buttons); the choice is
//! remembered with the consent and is what the ID token and UserInfo release; a code they do not
//! represent is refused; a removed representative no longer releases the organisation.

use base64::Engine;
use serde_json::{Value, json};
use vneid_tests::browser::{Browser, Landing, form, has_form};
use vneid_tests::{Backend, TestProvider, VERIFIER, on_both_backends, param, spawn_provider};

use super::journey::officer_login_as;

const BINH: &str = "079198000002";
const CUONG: &str = "079090000003";
const BINH_AN: &str = "0101234567";
const MEKONG: &str = "0312345678";

/// A form post as the officer in `officer`, with the desk session's CSRF token.
pub async fn desk_post(
    officer: &Browser,
    provider: &TestProvider,
    action: &str,
    fields: &[(&str, &str)],
) -> (reqwest::StatusCode, String) {
    let (url, _, home) = officer
        .navigate(&format!("{}/desk", provider.base))
        .await
        .page();
    let csrf = form(&home, "/desk/logout").1.remove(0).1;
    let forged = format!(
        "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"></form>"
    );
    let (_, status, html) = officer.submit(&url, &forged, action, fields).await.page();
    (status, html)
}

/// Two organisations in the business registry, registered at the desk: Bình An represented by
/// Bình and Cường, Mekong by Bình alone.
async fn two_organisations(provider: &TestProvider, supervisor: &Browser) {
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let export = json!([
        { "code": BINH_AN, "name": "Công ty TNHH Bình An", "established_on": "2019-06-01",
          "head_office_address": "1 Lê Lợi, Quận 1, TP. Hồ Chí Minh", "status": "active",
          "representatives": [BINH] },
        { "code": MEKONG, "name": "Công ty CP Thủy sản Mekong", "established_on": "2015-03-01",
          "head_office_address": "5 Hòa Bình, Cần Thơ", "status": "active",
          "representatives": [BINH] }
    ]);
    vneid_provider::cli::import_organizations(&config, &export.to_string())
        .await
        .unwrap();
    officer_login_as(provider, supervisor, "giamsat01").await;
    for (code, reps, name) in [
        (
            BINH_AN,
            "079198000002, 079090000003",
            "Công ty TNHH Bình An",
        ),
        (MEKONG, BINH, "Công ty CP Thủy sản Mekong"),
    ] {
        let (_, html) = desk_post(
            supervisor,
            provider,
            "/desk/organizations",
            &[("code", code), ("representative", reps)],
        )
        .await;
        assert!(html.contains(name), "{html}");
    }
}

/// Goes through login and the second factor; stops at the consent page, or where the browser
/// was sent back to.
async fn to_consent(
    provider: &TestProvider,
    browser: &Browser,
    url: &str,
    username: &str,
) -> Landing {
    let mut landing = browser.navigate(url).await;
    for _ in 0..3 {
        let (url, _, html) = match landing {
            Landing::Away(_) => return landing,
            page => page.page(),
        };
        landing = if has_form(&html, "/login") && html.contains("name=\"password\"") {
            let fields = [("username", username), ("password", "Demo@2026")];
            browser.submit(&url, &html, "/login", &fields).await
        } else if has_form(&html, "/otp") {
            let otp = provider.totp();
            browser.submit(&url, &html, "/otp", &[("otp", &otp)]).await
        } else {
            return Landing::Page {
                url,
                status: reqwest::StatusCode::OK,
                html,
            };
        };
    }
    landing
}

fn authorize_url(provider: &TestProvider, prompt: &str) -> String {
    provider.authorize_url(&[
        ("scope", "openid profile organization"),
        ("acr_values", "urn:vneid:acr:level2"),
        ("ui_locales", "en"),
        ("prompt", prompt),
        // In the ID token too (scope claims go to UserInfo only).
        ("claims", r#"{"id_token":{"organization":null}}"#),
    ])
}

/// The organisation's code in the ID token and in UserInfo for this code (both the same).
async fn released(provider: &TestProvider, back: &url::Url) -> Option<String> {
    let code = param(back, "code").expect("a code");
    let (status, tokens) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let id_token = tokens["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let userinfo: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let in_id_token = claims["organization"]["code"].as_str().map(str::to_string);
    let in_userinfo = userinfo["organization"]["code"]
        .as_str()
        .map(str::to_string);
    assert_eq!(in_id_token, in_userinfo, "{claims} {userinfo}");
    in_userinfo
}

/// Allows on the consent page with this organisation chosen (`None`: no choice sent).
async fn allow(
    browser: &Browser,
    (url, html): &(url::Url, String),
    organization: Option<&str>,
) -> Landing {
    let mut fields = vec![("decision", "allow")];
    if let Some(o) = organization {
        fields.push(("organization", o));
    }
    browser.submit(url, html, "/consent", &fields).await
}

/// The consent page reached.
fn consent_page(landing: Landing) -> (url::Url, String) {
    let (url, _, html) = landing.page();
    assert!(has_form(&html, "/consent"), "{html}");
    (url, html)
}

async fn a_representative_of_two_organisations_chooses_which_one(backend: Backend) {
    let provider = spawn_provider(backend).await;
    vneid_tests::add_level2_citizen(&provider, CUONG).await;
    let supervisor = Browser::new(&provider.base);
    two_organisations(&provider, &supervisor).await;

    // Cường represents one organisation: nothing to choose, it is released.
    let cuong = Browser::new(&provider.base);
    let page =
        consent_page(to_consent(&provider, &cuong, &authorize_url(&provider, ""), CUONG).await);
    assert!(!page.1.contains("organization-choice"), "{}", page.1);
    let back = allow(&cuong, &page, None).await.away();
    assert_eq!(released(&provider, &back).await.as_deref(), Some(BINH_AN));

    // Bình represents two: the consent page asks which, as a fieldset of radio buttons.
    provider.state.clock.advance(30);
    let binh = Browser::new(&provider.base);
    let page =
        consent_page(to_consent(&provider, &binh, &authorize_url(&provider, ""), BINH).await);
    let html = &page.1;
    assert!(
        html.contains("<fieldset id=\"organization-choice\">"),
        "{html}"
    );
    assert!(html.contains("<legend>You represent several organisations"));
    for code in [BINH_AN, MEKONG] {
        assert!(
            html.contains(&format!(
                "type=\"radio\" name=\"organization\" value=\"{code}\" required"
            )),
            "{html}"
        );
    }
    // No choice, and codes Bình does not represent (a dissolved company's, a branch's):
    // refused, no code issued.
    for choice in [None, Some("0309876543"), Some("0101234567-001")] {
        let refused = allow(&binh, &page, choice).await;
        let Landing::Page { status, html, .. } = refused else {
            panic!("{choice:?} released an organisation");
        };
        assert_eq!(status, reqwest::StatusCode::BAD_REQUEST, "{html}");
        assert!(
            html.contains("Choose an organisation you represent"),
            "{html}"
        );
    }
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'organization_choice_refused'")
            .await,
        3
    );
    // Bình picks the second: the ID token and UserInfo carry Mekong.
    let back = allow(&binh, &page, Some(MEKONG)).await.away();
    assert_eq!(released(&provider, &back).await.as_deref(), Some(MEKONG));

    // Remembered with the consent: the next login shows no page and releases Mekong again.
    let back = binh.navigate(&authorize_url(&provider, "")).await.away();
    assert_eq!(released(&provider, &back).await.as_deref(), Some(MEKONG));
    // Asked again (prompt=consent), the remembered choice is ticked and may be changed.
    let page = consent_page(
        to_consent(&provider, &binh, &authorize_url(&provider, "consent"), BINH).await,
    );
    assert!(
        page.1
            .contains(&format!("value=\"{MEKONG}\" required checked")),
        "{}",
        page.1
    );
    let back = allow(&binh, &page, Some(BINH_AN)).await.away();
    assert_eq!(released(&provider, &back).await.as_deref(), Some(BINH_AN));

    // Removed from Bình An, Bình releases the one left (Mekong); Cường removed next releases
    // nothing.
    for (org, who) in [(BINH_AN, BINH)] {
        let (_, html) = desk_post(
            &supervisor,
            &provider,
            &format!("/desk/organizations/{org}/representatives"),
            &[("change", "remove"), ("id_number", who)],
        )
        .await;
        assert!(html.contains("Đã cập nhật người đại diện"), "{html}");
    }
    let back = binh.navigate(&authorize_url(&provider, "")).await.away();
    assert_eq!(released(&provider, &back).await.as_deref(), Some(MEKONG));
    // Cường is now the only representative of Bình An: add Bình back, then remove Cường.
    desk_post(
        &supervisor,
        &provider,
        &format!("/desk/organizations/{BINH_AN}/representatives"),
        &[("change", "add"), ("id_number", BINH)],
    )
    .await;
    desk_post(
        &supervisor,
        &provider,
        &format!("/desk/organizations/{BINH_AN}/representatives"),
        &[("change", "remove"), ("id_number", CUONG)],
    )
    .await;
    let back = cuong.navigate(&authorize_url(&provider, "")).await.away();
    assert_eq!(released(&provider, &back).await, None, "Cường was removed");
    // Bình represents both again and chose Bình An before: that one.
    let back = binh.navigate(&authorize_url(&provider, "")).await.away();
    assert_eq!(released(&provider, &back).await.as_deref(), Some(BINH_AN));
}

on_both_backends!(a_representative_of_two_organisations_chooses_which_one);
