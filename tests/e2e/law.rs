//! Issue 11, items 1, 5 and 6, on SQLite and PostgreSQL: organisations' own accounts with
//! several representatives (one removed, then refused); the account lifecycle (a downgrade caps
//! the next refresh and the next login at Level 1 at once, the holder is told, revoked is final);
//! documents that expire (withheld once expired) and are re-synced from the registry with a
//! history.

use base64::Engine;
use serde_json::{Value, json};
use vneid_sdk::{ClientCredentials, Level, LoginRequest, ScopeSet, VneidClient};
use vneid_tests::browser::{Browser, form};
use vneid_tests::{Backend, TestProvider, VERIFIER, on_both_backends, param, spawn_provider};

use super::journey::officer_login_as;

const L1: &str = "urn:vneid:acr:level1";
const L2: &str = "urn:vneid:acr:level2";
const BINH: &str = "079198000002";
const CUONG: &str = "079090000003";

fn config(provider: &TestProvider) -> vneid_provider::config::Config {
    vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    )
}

async fn bank(provider: &TestProvider) -> VneidClient {
    VneidClient::discover(
        &provider.issuer,
        "demo-bank",
        ClientCredentials::Secret("demo-bank-secret".into()),
        "http://127.0.0.1:3002/callback",
    )
    .await
    .unwrap()
}

/// A form post as the officer in `officer`, with the desk session's CSRF token.
pub(crate) async fn desk_post(
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

async fn import_organizations(provider: &TestProvider) {
    let export = json!([
        { "code": "0101234567", "name": "Công ty TNHH Bình An", "short_name": "BINH AN CO",
          "established_on": "2019-06-01", "head_office_address": "1 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
          "status": "active", "representatives": [BINH] },
        { "code": "0309876543", "name": "Công ty CP Giải thể", "established_on": "2010-01-01",
          "head_office_address": "2 Hai Bà Trưng", "status": "dissolved", "representatives": [] }
    ]);
    let n = vneid_provider::cli::import_organizations(&config(provider), &export.to_string())
        .await
        .unwrap();
    assert_eq!(n, 2);
}

/// Logs `username` in to the bank at Level 2 asking for `organization`; the claim, if released.
async fn organization_released(
    provider: &TestProvider,
    citizen: &Browser,
    username: &str,
) -> Option<vneid_contract::Organization> {
    let bank = bank(provider).await;
    let (url, pending) = bank.begin(&LoginRequest::new(
        Level::Level2,
        ScopeSet::parse("openid profile organization").unwrap(),
    ));
    let back = vneid_tests::login(provider, citizen, url.as_str(), username).await;
    let id = bank.complete(pending, back.query().unwrap()).await.unwrap();
    id.organization
}

async fn an_organisation_with_two_representatives_one_removed(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import_organizations(&provider).await;
    vneid_tests::add_level2_citizen(&provider, CUONG).await;
    let supervisor = Browser::new(&provider.base);
    officer_login_as(&provider, &supervisor, "giamsat01").await;
    let register = |code: &'static str, reps: &'static str| {
        let supervisor = &supervisor;
        let provider = &provider;
        async move {
            desk_post(
                supervisor,
                provider,
                "/desk/organizations",
                &[("code", code), ("representative", reps)],
            )
            .await
            .1
        }
    };
    // Refused: a malformed code, a code the business registry does not have, an organisation it
    // says is dissolved, a Level 1 representative.
    for (code, reps, says) in [
        ("01012345", BINH, "10 chữ số"),
        ("0101234568", BINH, "đăng ký doanh nghiệp"),
        ("0309876543", BINH, "không còn hoạt động"),
        ("0101234567", "079198000002, 001095000001", "mức độ 2"),
    ] {
        let html = register(code, reps).await;
        assert!(html.contains(says), "{code} {reps}: {html}");
    }
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'organization'")
            .await,
        0,
        "nothing half-written"
    );
    let html = register("0101234567", "079198000002, 079090000003").await;
    assert!(html.contains("Đã đăng ký tổ chức"), "{html}");
    // The organisation has an account of its own, with no level.
    let org_id = provider
        .state
        .store
        .organization_by_code("0101234567")
        .await
        .unwrap()
        .unwrap()
        .id;
    let own = provider
        .state
        .store
        .account(&org_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((own.kind.as_str(), own.level), ("organization", 0));

    // Each representative releases it, named as the representative.
    let binh = Browser::new(&provider.base);
    let org = organization_released(&provider, &binh, BINH).await.unwrap();
    assert_eq!(org.code, "0101234567");
    assert_eq!(org.short_name.as_deref(), Some("BINH AN CO"));
    assert_eq!(org.representative.id_number, BINH);
    let cuong = Browser::new(&provider.base);
    let org = organization_released(&provider, &cuong, CUONG)
        .await
        .unwrap();
    assert_eq!(org.representative.id_number, CUONG);

    // A registrar may not change representatives.
    let registrar = Browser::new(&provider.base);
    officer_login_as(&provider, &registrar, "canbo01").await;
    let (status, _) = desk_post(
        &registrar,
        &provider,
        "/desk/organizations/0101234567/representatives",
        &[("change", "remove"), ("id_number", CUONG)],
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    // The supervisor removes Cường: his next login releases no organisation.
    let (_, html) = desk_post(
        &supervisor,
        &provider,
        "/desk/organizations/0101234567/representatives",
        &[("change", "remove"), ("id_number", CUONG)],
    )
    .await;
    assert!(html.contains("Đã cập nhật người đại diện"), "{html}");
    assert!(
        organization_released(&provider, &cuong, CUONG)
            .await
            .is_none(),
        "a removed representative releases nothing"
    );
    // The last representative stays.
    let (_, html) = desk_post(
        &supervisor,
        &provider,
        "/desk/organizations/0101234567/representatives",
        &[("change", "remove"), ("id_number", BINH)],
    )
    .await;
    assert!(html.contains("người đại diện cuối cùng"), "{html}");
    // Locked, the organisation is released by nobody; revoked, it cannot come back.
    for status in ["locked", "revoked", "active"] {
        desk_post(
            &supervisor,
            &provider,
            "/desk/organizations/0101234567/status",
            &[("status", status)],
        )
        .await;
    }
    let own = provider
        .state
        .store
        .account(&org_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(own.status, "revoked", "revoked is final");
    assert!(
        organization_released(&provider, &binh, BINH)
            .await
            .is_none()
    );
    let events: Vec<String> = provider
        .state
        .store
        .audit_events(&org_id, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|(_, k, _, _)| k)
        .collect();
    for kind in [
        "organization_registered",
        "organization_representative_removed",
        "account_status_changed",
    ] {
        assert!(events.iter().any(|k| k == kind), "audited: {kind}");
    }
}

/// The `acr` of an ID token (read, not verified: the token endpoint just gave it to us).
fn acr(id_token: &str) -> String {
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["acr"].as_str().unwrap().to_string()
}

async fn refresh(provider: &TestProvider, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth("demo-portal", Some("demo-portal-secret"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn a_downgrade_caps_the_next_refresh_and_login_and_revoked_is_final(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let citizen = Browser::new(&provider.base);
    let url = provider.authorize_url(&[
        ("scope", "openid profile offline_access"),
        ("acr_values", L2),
        ("prompt", "consent"),
    ]);
    let back = vneid_tests::login(&provider, &citizen, &url, BINH).await;
    let (status, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(acr(body["id_token"].as_str().unwrap()), L2);
    let refresh_token = body["refresh_token"].as_str().unwrap().to_string();
    let access_token = body["access_token"].as_str().unwrap().to_string();

    // A registrar may not downgrade; a supervisor does.
    let registrar = Browser::new(&provider.base);
    officer_login_as(&provider, &registrar, "canbo01").await;
    let (status, _) = desk_post(
        &registrar,
        &provider,
        &format!("/desk/accounts/{BINH}/downgrade"),
        &[],
    )
    .await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    let supervisor = Browser::new(&provider.base);
    officer_login_as(&provider, &supervisor, "giamsat01").await;
    desk_post(
        &supervisor,
        &provider,
        &format!("/desk/accounts/{BINH}/downgrade"),
        &[],
    )
    .await;
    let row = provider
        .state
        .store
        .account_by_username(BINH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.level, 1, "downgraded");

    // The next refresh is Level 1, and the old access token no longer works.
    let (status, body) = refresh(&provider, &refresh_token).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(acr(body["id_token"].as_str().unwrap()), L1);
    let userinfo = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(&access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 401);

    // The next login in the same browser session is Level 1; Level 2 is out of reach.
    let url = provider.authorize_url(&[("acr_values", L1)]);
    let back = vneid_tests::login(&provider, &citizen, &url, BINH).await;
    let (status, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(acr(body["id_token"].as_str().unwrap()), L1);
    let (_, _, html) = citizen
        .navigate(&provider.authorize_url(&[("acr_values", L2)]))
        .await
        .page();
    assert!(
        !html.contains("name=\"otp\""),
        "no second factor offered: {html}"
    );

    // Revoked is final, and the holder is told of each change on the contact on record.
    for status in ["revoked", "active"] {
        desk_post(
            &supervisor,
            &provider,
            &format!("/desk/accounts/{BINH}/status"),
            &[("status", status)],
        )
        .await;
    }
    let row = provider
        .state
        .store
        .account_by_username(BINH)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.status.as_str(), row.level), ("revoked", 1));
    let notices: Vec<(String, String)> = provider
        .outbox()
        .await
        .into_iter()
        .filter(|m| m.account_id.as_deref() == Some(row.id.as_str()))
        .map(|m| (m.kind, m.recipient))
        .collect();
    for kind in ["account_downgraded", "account_revoked"] {
        assert!(
            notices
                .iter()
                .any(|(k, r)| k == kind && r == "+84938000002"),
            "{kind} told: {notices:?}"
        );
    }
    assert!(
        !notices.iter().any(|(k, _)| k == "account_reactivated"),
        "nothing came back"
    );
}

/// The Vietnam date `days` from now at the provider's clock.
fn vietnam_day(provider: &TestProvider, days: i64) -> String {
    let today = vneid_provider::accounts::claims::vietnam_date(provider.state.now()).unwrap();
    (today + time::Duration::days(days)).to_string()
}

async fn import_binh(provider: &TestProvider, health_card_expires: &str) {
    let export = json!([{
        "id_number": BINH, "kind": "citizen", "family_name": "Trần", "middle_name": "Thị", "given_name": "Bình",
        "birthdate": "1998-07-25", "gender": "female", "phone_number": "+84938000002",
        "documents": [
            { "type": "driving_licence", "number": "790123456789", "issued_on": "2019-05-20",
              "issuer": "Sở Giao thông vận tải TP. Hồ Chí Minh", "details": { "class": "B2" } },
            { "type": "health_insurance_card", "number": "GD4797912345678", "issued_on": "2025-01-01",
              "expires_on": health_card_expires, "issuer": "Bảo hiểm xã hội Việt Nam",
              "details": { "registered_hospital": "Bệnh viện Nhân dân Gia Định" } }
        ]
    }]);
    vneid_provider::cli::import_registry(&config(provider), &export.to_string(), false)
        .await
        .unwrap();
}

async fn documents_released(provider: &TestProvider, access_token: &str) -> Vec<Value> {
    let body: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["documents"].as_array().cloned().unwrap_or_default()
}

async fn an_expired_document_is_withheld_and_a_resync_renews_it(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let citizen = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("scope", "openid profile documents"), ("acr_values", L2)]);
    let back = vneid_tests::login(&provider, &citizen, &url, BINH).await;
    let (status, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    let card = |docs: &[Value]| {
        docs.iter()
            .find(|d| d["number"] == "GD4797912345678")
            .cloned()
    };

    // The registry says the card ended yesterday (Vietnam's date); an officer re-syncs.
    import_binh(&provider, &vietnam_day(&provider, -1)).await;
    let registrar = Browser::new(&provider.base);
    officer_login_as(&provider, &registrar, "canbo01").await;
    let (_, html) = desk_post(
        &registrar,
        &provider,
        &format!("/desk/accounts/{BINH}/sync"),
        &[],
    )
    .await;
    assert!(html.contains("Đã đồng bộ giấy tờ"), "{html}");
    let docs = documents_released(&provider, &token).await;
    assert!(
        card(&docs).is_none(),
        "an expired card is withheld: {docs:?}"
    );
    assert!(
        docs.iter().any(|d| d["number"] == "790123456789"),
        "the licence (no expiry) still released: {docs:?}"
    );

    // Renewed in the registry: the next re-sync brings it back, with its new date.
    let renewed = vietnam_day(&provider, 365);
    import_binh(&provider, &renewed).await;
    desk_post(
        &registrar,
        &provider,
        &format!("/desk/accounts/{BINH}/sync"),
        &[],
    )
    .await;
    let docs = documents_released(&provider, &token).await;
    assert_eq!(
        card(&docs).expect("renewed card released")["expires_on"],
        renewed.as_str()
    );

    let account = provider
        .state
        .store
        .account_by_username(BINH)
        .await
        .unwrap()
        .unwrap();
    let history = provider
        .state
        .store
        .document_history(&account.id)
        .await
        .unwrap();
    let card_changes: Vec<(String, Option<String>)> = history
        .iter()
        .filter(|h| h.number == "GD4797912345678")
        .map(|h| (h.change.clone(), h.new_value.clone()))
        .collect();
    assert_eq!(card_changes.len(), 2, "{history:?}");
    assert!(card_changes.iter().all(|(c, _)| c == "changed"));
    // Both syncs happen within the same second: the history's order among them is not fixed.
    assert!(
        card_changes
            .iter()
            .any(|(_, new)| new.as_deref().is_some_and(|v| v.contains(renewed.as_str()))),
        "{card_changes:?}"
    );
    // The passport the registry no longer has is removed, and that is recorded too.
    assert!(
        history
            .iter()
            .any(|h| h.doc_type == "passport" && h.change == "removed" && h.source == "desk")
    );
}

on_both_backends!(
    an_organisation_with_two_representatives_one_removed,
    a_downgrade_caps_the_next_refresh_and_login_and_revoked_is_final,
    an_expired_document_is_withheld_and_a_resync_renews_it,
);
