//! Predicate claims: a portal that asks only `age_over_18` gets a yes, shown on the consent
//! page in words, and never the birth date (not in the ID token, UserInfo or the receipt); an
//! `age_over_N` the client did not register (an RP narrowing down the birth date) is not
//! released; `document_valid:<type>` only from a Level 2 login, on Vietnam's date.

use base64::Engine;
use serde_json::{Value, json};
use vneid_sdk::{ClientCredentials, Level, LoginRequest, Predicate, ScopeSet, VneidClient};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{
    Backend, TestProvider, VERIFIER, login, on_both_backends, param, spawn_provider,
};

const BIRTHDATE_L1: &str = "1995-03-12";

pub(crate) fn jwt_payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// Logs in through the pages and returns the consent page's HTML and the code.
pub(crate) async fn login_showing_consent(
    provider: &TestProvider,
    params: &[(&str, &str)],
    username: &str,
) -> (String, String) {
    let browser = Browser::new(&provider.base);
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(params))
        .await
        .page();
    let (mut url, _, mut html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", username), ("password", "Demo@2026")],
        )
        .await
        .page();
    if has_form(&html, "/otp") {
        (url, _, html) = browser
            .submit(&url, &html, "/otp", &[("otp", &provider.totp())])
            .await
            .page();
    }
    assert!(has_form(&html, "/consent"), "{html}");
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    (html, param(&back, "code").expect("a code"))
}

/// Redeems a code as the demo portal: the ID token's payload and the UserInfo body.
pub(crate) async fn tokens_and_userinfo(provider: &TestProvider, code: &str) -> (Value, Value) {
    let (status, tokens) = provider.redeem(code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let userinfo: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (jwt_payload(tokens["id_token"].as_str().unwrap()), userinfo)
}

async fn a_portal_asking_only_age_over_18_never_sees_the_birth_date(backend: Backend) {
    let provider = spawn_provider(backend).await;
    // A third-party client speaking HTTP: `openid` and the predicate in both places, plus a
    // receipt, and age_over_19..age_over_40, which the portal did not register (asking each
    // would narrow down the birth date).
    let mut ask = serde_json::Map::new();
    ask.insert("age_over_18".into(), Value::Null);
    for n in 19..=40 {
        ask.insert(format!("age_over_{n}"), Value::Null);
    }
    let claims = json!({ "id_token": ask, "userinfo": ask }).to_string();
    let (consent, code) = login_showing_consent(
        &provider,
        &[
            ("scope", "openid ekyc_receipt"),
            ("claims", &claims),
            ("ui_locales", "en"),
        ],
        "001095000001",
    )
    .await;
    assert!(consent.contains("Aged 18 or over: yes"), "{consent}");
    assert!(!consent.contains("Aged 21"), "unregistered: not shown");
    assert!(!consent.contains(BIRTHDATE_L1) && !consent.contains("Date of birth"));
    let (id_token, userinfo) = tokens_and_userinfo(&provider, &code).await;
    assert_eq!(id_token["age_over_18"], json!(true));
    assert_eq!(userinfo["age_over_18"], json!(true));
    let receipt = jwt_payload(userinfo["ekyc_receipt"].as_str().unwrap());
    assert_eq!(receipt["claims"]["age_over_18"], json!(true));
    for (place, value) in [
        ("ID token", &id_token),
        ("UserInfo", &userinfo),
        ("receipt", &receipt),
    ] {
        let text = value.to_string();
        assert!(!text.contains("birthdate"), "{place}: {text}");
        assert!(!text.contains(BIRTHDATE_L1), "{place}: {text}");
        assert!(!text.contains("1995"), "{place}: {text}");
        assert!(
            !text.contains("age_over_2"),
            "{place}: unregistered ages: {text}"
        );
        assert!(!text.contains("age_over_19"), "{place}: {text}");
    }

    // The same through the SDK's typed helper.
    let client = VneidClient::discover(
        &provider.issuer,
        "demo-portal",
        ClientCredentials::Secret("demo-portal-secret".into()),
        "http://127.0.0.1:3001/callback",
    )
    .await
    .unwrap();
    let request = LoginRequest::new(Level::Level1, ScopeSet::parse("openid").unwrap())
        .with_predicate(Predicate::AgeOver(18))
        .with_predicate(Predicate::AgeOver(21));
    let (url, pending) = client.begin(&request);
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let id = client
        .complete(pending, back.query().unwrap_or(""))
        .await
        .unwrap();
    assert_eq!(id.age_over(18), Some(true));
    assert_eq!(id.age_over(21), None, "not registered by the portal");
    assert_eq!(id.person.birthdate, None);
    assert!(!id.claims.contains_key("birthdate"));
    assert!(!jwt_payload(&id.id_token).to_string().contains("1995"));
}

async fn document_predicates_need_level2_and_follow_the_date(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let claims = json!({ "userinfo": {
        "document_valid:driving_licence": null,
        "document_valid:passport": null,
    }})
    .to_string();
    // Level 1 login of the Level 2 account: no document predicate.
    let (consent, code) = login_showing_consent(
        &provider,
        &[
            ("scope", "openid"),
            ("claims", &claims),
            ("acr_values", "urn:vneid:acr:level1"),
            ("ui_locales", "en"),
        ],
        "079198000002",
    )
    .await;
    assert!(!consent.contains("passport"), "{consent}");
    let (_, userinfo) = tokens_and_userinfo(&provider, &code).await;
    assert!(
        userinfo.get("document_valid:passport").is_none(),
        "{userinfo}"
    );

    // Level 2: both valid today (the demo passport expires in 6 years), no document details.
    provider.state.clock.advance(30);
    let (consent, code) = login_showing_consent(
        &provider,
        &[
            ("scope", "openid"),
            ("claims", &claims),
            ("acr_values", "urn:vneid:acr:level2"),
            ("ui_locales", "en"),
        ],
        "079198000002",
    )
    .await;
    assert!(consent.contains("Holds a valid passport: yes"), "{consent}");
    let (_, userinfo) = tokens_and_userinfo(&provider, &code).await;
    assert_eq!(userinfo["document_valid:passport"], json!(true));
    assert_eq!(userinfo["document_valid:driving_licence"], json!(true));
    assert!(userinfo.get("documents").is_none());
    assert!(!userinfo.to_string().contains("C1234567"));

    // At 00:00 the day after its expiry in Hà Nội (17:00 UTC on the expiry date) the passport
    // has expired. The demo dates it from the day the demo was seeded.
    let binh = provider
        .state
        .store
        .account_by_username("079198000002")
        .await
        .unwrap()
        .unwrap();
    let passport = provider
        .state
        .store
        .documents(&binh.id)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.doc_type == "passport")
        .unwrap();
    let expires_on = time::Date::parse(
        passport.expires_on.as_deref().unwrap(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .unwrap();
    let expired_at = expires_on.midnight().assume_utc().unix_timestamp() + 17 * 3600;
    provider
        .state
        .clock
        .advance(expired_at - provider.state.now());
    let (consent, code) = login_showing_consent(
        &provider,
        &[
            ("scope", "openid"),
            ("claims", &claims),
            ("acr_values", "urn:vneid:acr:level2"),
            ("prompt", "consent"),
        ],
        "079198000002",
    )
    .await;
    assert!(
        consent.contains("Có hộ chiếu còn hiệu lực: không"),
        "{consent}"
    );
    let (_, userinfo) = tokens_and_userinfo(&provider, &code).await;
    assert_eq!(userinfo["document_valid:passport"], json!(false));
    assert_eq!(userinfo["document_valid:driving_licence"], json!(true));
}

/// `clients add --age-over 18,21` (the same call): the client may then ask `age_over_21`; an
/// age outside 1..=150 is refused before anything is stored.
async fn registered_ages_are_the_ones_released(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let config = &provider.state.config;
    for bad in [[0u8].as_slice(), &[18, 151]] {
        assert!(
            vneid_provider::cli::set_age_thresholds(config, "demo-portal", bad)
                .await
                .is_err()
        );
    }
    vneid_provider::cli::set_age_thresholds(config, "demo-portal", &[21, 18, 21])
        .await
        .unwrap();
    let claims =
        json!({ "userinfo": { "age_over_18": null, "age_over_21": null, "age_over_60": null } })
            .to_string();
    let (_, code) = login_showing_consent(
        &provider,
        &[("scope", "openid"), ("claims", &claims)],
        "001095000001",
    )
    .await;
    let (_, userinfo) = tokens_and_userinfo(&provider, &code).await;
    assert_eq!(userinfo["age_over_18"], json!(true));
    assert_eq!(userinfo["age_over_21"], json!(true));
    assert!(userinfo.get("age_over_60").is_none(), "{userinfo}");
}

/// The portal example asks `age_over_18` and `resident_of:01` and shows the answers on "My
/// records"; it asks for the name alone, not `profile`, so the birth date never reaches it.
async fn the_portal_shows_age_over_18(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let portal = public_portal::app(&provider.issuer, "http://127.0.0.1:3001")
        .await
        .unwrap();
    let mut cookies = Vec::new();
    let get = crate::receipt::get_app;
    let (status, to_login, _) = get(&portal, "/records", &mut cookies).await;
    assert_eq!(status, 303);
    let (_, to_provider, _) = get(&portal, &to_login, &mut cookies).await;
    assert!(to_provider.contains("age_over_18"), "{to_provider}");
    assert!(to_provider.contains("resident_of"), "{to_provider}");
    assert!(!to_provider.contains("profile"), "{to_provider}");
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, &to_provider, "001095000001").await;
    let (_, next, _) = get(
        &portal,
        &format!("/callback?{}", back.query().unwrap()),
        &mut cookies,
    )
    .await;
    let (status, _, page) = get(&portal, &next, &mut cookies).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<strong id=\"adult\">có</strong>"), "{page}");
    assert!(page.contains("<strong id=\"hanoi\">có</strong>"), "{page}");
    assert!(page.contains("Nguyễn Văn An"), "{page}");
    assert!(!page.contains(BIRTHDATE_L1), "{page}");
}

on_both_backends!(
    the_portal_shows_age_over_18,
    registered_ages_are_the_ones_released,
    a_portal_asking_only_age_over_18_never_sees_the_birth_date,
    document_predicates_need_level2_and_follow_the_date,
);
