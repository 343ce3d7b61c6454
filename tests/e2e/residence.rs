//! `resident_of:<province>`: computed from the permanent residence the population registry
//! records, of which only the province is kept with the account. A portal asking
//! `resident_of:01` gets a yes or no, on the consent page in words, in the ID token, UserInfo
//! and the receipt, and never the address; a province the portal did not register (an RP
//! narrowing down where someone lives) is not released; a province that no longer exists
//! (before 1 July 2025) is read from the registry but cannot be registered.

use serde_json::{Value, json};
use vneid_provider::accounts::documents::SyncSource;
use vneid_provider::registry::{import, sync};
use vneid_sdk::{
    ClientCredentials, Level, LoginRequest, Predicate, Province, ScopeSet, VneidClient,
};
use vneid_tests::browser::Browser;
use vneid_tests::{Backend, TestProvider, login, on_both_backends, spawn_provider};

use crate::predicates::{jwt_payload, login_showing_consent, tokens_and_userinfo};

const ADDRESS: &str = "Số 12 phố Hàng Bài, phường Hoàn Kiếm";

/// Puts the Level 1 demo citizen into the registry with this permanent residence and re-syncs
/// the account from it (as the desk or the periodic task does).
async fn reside(provider: &TestProvider, address: &str, province: &str) {
    let record = json!({
        "id_number": "001095000001", "kind": "citizen", "family_name": "Nguyễn",
        "middle_name": "Văn", "given_name": "An", "birthdate": "1995-03-12", "gender": "male",
        "permanent_residence": { "address": address, "province": province },
    })
    .to_string();
    let rows = import::validate(&import::parse(&record).unwrap()).unwrap();
    let store = &provider.state.store;
    store
        .registry_import(&rows, provider.state.now(), || {})
        .await
        .unwrap();
    let account = store
        .account_by_username("001095000001")
        .await
        .unwrap()
        .unwrap();
    let report = sync::sync_account(
        store,
        &provider.state.registry,
        &account.id,
        SyncSource::Desk,
        provider.state.now(),
    )
    .await
    .unwrap();
    assert!(report.found);
}

async fn a_portal_asking_resident_of_01_never_sees_the_address(backend: Backend) {
    let provider = spawn_provider(backend).await;
    reside(&provider, &format!("{ADDRESS}, Hà Nội"), "Hà Nội").await;
    // A third-party client speaking HTTP: Hà Nội (registered by the demo portal) and Đà Nẵng
    // (not registered: asking province after province would find the residence).
    let ask = json!({ "resident_of:01": null, "resident_of:48": null });
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
    assert!(consent.contains("Resident of Hà Nội: yes"), "{consent}");
    assert!(!consent.contains("Đà Nẵng"), "unregistered: not shown");
    assert!(!consent.contains("Hàng Bài"), "{consent}");
    let (id_token, userinfo) = tokens_and_userinfo(&provider, &code).await;
    assert_eq!(id_token["resident_of:01"], json!(true));
    assert_eq!(userinfo["resident_of:01"], json!(true));
    let receipt = jwt_payload(userinfo["ekyc_receipt"].as_str().unwrap());
    assert_eq!(receipt["claims"]["resident_of:01"], json!(true));
    for (place, value) in [
        ("ID token", &id_token),
        ("UserInfo", &userinfo),
        ("receipt", &receipt),
    ] {
        let text = value.to_string();
        for secret in [
            "Hàng Bài",
            "Hoàn Kiếm",
            "address",
            "resident_of:48",
            "Hà Nội",
        ] {
            assert!(!text.contains(secret), "{place} shows {secret}: {text}");
        }
    }

    // The same through the SDK's typed helper; the Level 2 demo citizen lives in Hồ Chí Minh
    // City (registered too): a "no" for Hà Nội.
    let client = VneidClient::discover(
        &provider.issuer,
        "demo-portal",
        ClientCredentials::Secret("demo-portal-secret".into()),
        "http://127.0.0.1:3001/callback",
    )
    .await
    .unwrap();
    let hanoi = Province::parse("01").unwrap();
    let hcmc = Province::parse("79").unwrap();
    let request = LoginRequest::new(Level::Level1, ScopeSet::parse("openid").unwrap())
        .with_predicate(Predicate::ResidentOf(hanoi))
        .with_predicate(Predicate::ResidentOf(hcmc));
    for (username, in_hanoi) in [("001095000001", true), ("079198000002", false)] {
        let (url, pending) = client.begin(&request);
        let browser = Browser::new(&provider.base);
        let back = login(&provider, &browser, url.as_str(), username).await;
        let id = client
            .complete(pending, back.query().unwrap_or(""))
            .await
            .unwrap();
        assert_eq!(id.resident_of(hanoi), Some(in_hanoi), "{username}");
        assert_eq!(id.resident_of(hcmc), Some(!in_hanoi), "{username}");
        assert!(
            !Value::Object(id.claims.clone())
                .to_string()
                .contains("Hàng Bài")
        );
    }
}

/// The registry still names a province from before 1 July 2025 (Hà Giang): the account is a
/// resident of Tuyên Quang, which absorbed it. A client cannot register the old code (its
/// answer would cover a larger area than named), nor ask for it; it registers `08`.
async fn a_residence_recorded_before_the_2025_merger_answers_for_the_new_province(
    backend: Backend,
) {
    let provider = spawn_provider(backend).await;
    let config = &provider.state.config;
    let refused =
        vneid_provider::cli::set_resident_provinces(config, "demo-portal", &["02".into()])
            .await
            .unwrap_err()
            .to_string();
    assert!(
        refused.contains("Tuyên Quang") && refused.contains("08"),
        "{refused}"
    );
    for bad in ["1", "99", "Hà Nội"] {
        assert!(
            vneid_provider::cli::set_resident_provinces(config, "demo-portal", &[bad.into()])
                .await
                .is_err(),
            "{bad}"
        );
    }
    // The refused calls changed nothing: Hà Nội is still registered.
    assert_eq!(
        provider
            .state
            .store
            .client_resident_provinces("demo-portal")
            .await
            .unwrap(),
        ["01", "79"]
    );
    vneid_provider::cli::set_resident_provinces(config, "demo-portal", &["08".into(), "01".into()])
        .await
        .unwrap();
    reside(
        &provider,
        "Tổ 5, phường Minh Khai, thành phố Hà Giang",
        "02",
    )
    .await;
    let claims = json!({ "userinfo": {
        "resident_of:01": null, "resident_of:08": null, "resident_of:02": null,
    }})
    .to_string();
    let (consent, code) = login_showing_consent(
        &provider,
        &[("scope", "openid"), ("claims", &claims)],
        "001095000001",
    )
    .await;
    assert!(
        consent.contains("Thường trú tại Tuyên Quang: có"),
        "{consent}"
    );
    assert!(
        consent.contains("Thường trú tại Hà Nội: không"),
        "{consent}"
    );
    let (_, userinfo) = tokens_and_userinfo(&provider, &code).await;
    assert_eq!(userinfo["resident_of:08"], json!(true));
    assert_eq!(userinfo["resident_of:01"], json!(false));
    assert!(userinfo.get("resident_of:02").is_none(), "{userinfo}");
    assert!(!userinfo.to_string().contains("Minh Khai"));
    // An export naming no province the law knows is refused, row and field named.
    let bad = json!({
        "id_number": "001095000001", "kind": "citizen", "family_name": "Nguyễn",
        "given_name": "An", "birthdate": "1995-03-12", "gender": "male",
        "permanent_residence": { "address": "x", "province": "03" },
    })
    .to_string();
    let rejected = import::validate(&import::parse(&bad).unwrap()).unwrap_err();
    assert_eq!(rejected[0].field, "permanent_residence");
}

on_both_backends!(
    a_portal_asking_resident_of_01_never_sees_the_address,
    a_residence_recorded_before_the_2025_merger_answers_for_the_new_province,
);
