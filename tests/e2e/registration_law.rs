//! Registration as Decree 69/2024 has it (issue 11): a number whose place code is not a
//! province (a birth registered abroad) registers; from 14 a valid chip card is required; under
//! 14 only a parent or guardian the registry records may request; the portrait photo captured
//! in the app comes back through `portrait`; a registry outage leaves the request pending, and
//! the worker decides and notifies it when the registry returns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode as AxumStatus;
use axum::routing::{get, post};
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{
    Backend, TestProvider, on_both_backends, param, spawn_provider, spawn_provider_with,
};

use super::registration::{card, recorded_reasons, sms_password, submit, template, time_year};

/// A citizen born in 2001 whose birth was registered abroad: place code 900, not a province.
const ABROAD: &str = "900301000456";

async fn import(provider: &TestProvider, people: Value) {
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    vneid_provider::cli::import_registry(&config, &people.to_string(), false)
        .await
        .unwrap();
}

fn person(id_number: &str, given: &str, phone: &str, identity_card: Value, seed: u32) -> Value {
    json!({ "id_number": id_number, "kind": "citizen", "family_name": "Trần", "given_name": given,
            "birthdate": "2001-04-02", "gender": "female", "phone_number": phone,
            "identity_card": identity_card, "biometrics": { "portrait": template(seed, 0.0) } })
}

fn request(id_number: &str, given: &str, seed: u32) -> Value {
    json!({ "id_number": id_number, "family_name": "Trần", "given_name": given, "birthdate": "2001-04-02",
            "gender": "female", "portrait": { "template": template(seed, 0.03), "device_id": "phone-9" } })
}

/// Decree 137/2015 Art. 13: a birth registered abroad gets a country code. The number is
/// imported and registers like any other; its century, sex and year digits are still checked.
async fn a_number_whose_place_code_is_not_a_province_registers(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(
        &provider,
        json!([person(ABROAD, "Mai", "+84912000456", card(ABROAD), 11)]),
    )
    .await;
    let (status, body) = submit(&provider, &request(ABROAD, "Mai", 11), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "approved", "{body}");
    let pin = vneid_contract::PersonalIdNumber::parse(ABROAD).unwrap();
    assert_eq!(pin.birth_place().name(), None);
    assert_eq!(pin.province_name(), "");
    // The digits after the place code are checked as before: a man born in 2001 is not her.
    let mut wrong = request(ABROAD, "Mai", 11);
    wrong["gender"] = json!("male");
    let (status, body) = submit(&provider, &wrong, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("4th digit"), "{body}");
}

on_both_backends!(a_number_whose_place_code_is_not_a_province_registers);

/// From 14, Level 1 in the app needs a valid chip card on record: none, lost, expired or one
/// without a chip is refused, with the reason on the row and the same answer as any refusal.
async fn from_fourteen_a_valid_chip_card_is_required(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let lost = json!({ "number": "001301000501", "kind": "chip_cccd", "issued_on": "2021-05-01", "expires_on": "2041-04-02", "status": "lost" });
    let expired = json!({ "number": "001301000502", "kind": "chip_cccd", "issued_on": "2015-05-01", "expires_on": "2021-04-02", "status": "valid" });
    let barcode = json!({ "number": "001301000503", "kind": "cccd_barcode", "issued_on": "2018-05-01", "expires_on": "2041-04-02", "status": "valid" });
    let mut none = person("001301000504", "Bốn", "+84912000504", Value::Null, 24);
    none.as_object_mut().unwrap().remove("identity_card");
    import(
        &provider,
        json!([
            person("001301000501", "Một", "+84912000501", lost, 21),
            person("001301000502", "Hai", "+84912000502", expired, 22),
            person("001301000503", "Ba", "+84912000503", barcode, 23),
            none,
            person(
                "001301000505",
                "Năm",
                "+84912000505",
                card("001301000505"),
                25
            ),
        ]),
    )
    .await;
    let mut answers = Vec::new();
    for (id, given, seed) in [
        ("001301000501", "Một", 21),
        ("001301000502", "Hai", 22),
        ("001301000503", "Ba", 23),
        ("001301000504", "Bốn", 24),
    ] {
        let (status, body) = submit(&provider, &request(id, given, seed), None).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(body["status"], "refused", "{id}: {body}");
        let reasons = recorded_reasons(&provider, body["id"].as_str().unwrap()).await;
        assert_eq!(reasons, vec!["no_valid_card".to_string()], "{id}");
        answers.push(body["message"].clone());
    }
    assert!(answers.iter().all(|m| m == &answers[0]));
    let (_, body) = submit(&provider, &request("001301000505", "Năm", 25), None).await;
    assert_eq!(body["status"], "approved", "a valid chip card: {body}");
}

on_both_backends!(from_fourteen_a_valid_chip_card_is_required);

/// Under 14, only a parent or guardian the registry records (with an active account) may
/// request: Bình's active account is refused for An's son, An (the recorded father) is not.
async fn a_child_is_registered_only_at_a_recorded_guardians_request(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let year = time_year(provider.state.now()) - 10;
    let child_pin = format!("0012{:02}000888", year % 100);
    import(
        &provider,
        json!([{ "id_number": child_pin, "kind": "citizen", "family_name": "Nguyễn", "given_name": "Bé",
                 "birthdate": format!("{year}-01-01"), "gender": "male", "email": "an.parent@example.vn",
                 "relations": [{ "id_number": "001095000001", "relation": "father" }],
                 "biometrics": { "portrait": template(31, 0.0) } }]),
    )
    .await;
    let child = |guardian: &str| {
        json!({ "id_number": child_pin, "family_name": "Nguyễn", "given_name": "Bé", "birthdate": format!("{year}-01-01"),
                "gender": "male", "guardian_id_number": guardian,
                "portrait": { "template": template(31, 0.02), "device_id": "phone-3" } })
    };
    // Bình holds an active account, but is not recorded as the child's parent or guardian.
    let (_, body) = submit(&provider, &child("079198000002"), None).await;
    assert_eq!(body["status"], "refused", "{body}");
    assert_eq!(
        recorded_reasons(&provider, body["id"].as_str().unwrap()).await,
        vec!["guardian_not_recorded".to_string()]
    );
    // An, the recorded father, may request: the request waits for his approval in his own
    // session (`guardians::a_childs_account_is_created_only_when_its_recorded_guardian_approves`).
    let (_, body) = submit(&provider, &child("001095000001"), None).await;
    assert_eq!(body["status"], "pending", "{body}");
}

on_both_backends!(a_child_is_registered_only_at_a_recorded_guardians_request);

/// The photo the app captured is kept sealed and released through `portrait`.
async fn a_portrait_registered_in_the_app_comes_back_through_portrait(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(
        &provider,
        json!([person(ABROAD, "Mai", "+84912000456", card(ABROAD), 11)]),
    )
    .await;
    let jpeg: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0]
        .into_iter()
        .chain((0..600u32).map(|i| (i * 31 % 251) as u8))
        .collect();
    let photo = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    let mut body = request(ABROAD, "Mai", 11);
    body["portrait"]["photo"] = json!(photo);
    let (_, answer) = submit(&provider, &body, None).await;
    assert_eq!(answer["status"], "approved", "{answer}");
    // Sealed at rest: the stored value is not the photo.
    let stored = provider
        .state
        .store
        .account_by_username(ABROAD)
        .await
        .unwrap()
        .unwrap()
        .portrait_jpeg
        .unwrap();
    assert!(
        !stored.contains(&photo[..40]),
        "the portrait is sealed at rest"
    );
    // A photo that is not a JPEG is malformed.
    let mut bad = request("001301000123", "Châu", 1);
    bad["portrait"]["photo"] =
        json!(base64::engine::general_purpose::STANDARD.encode(b"GIF89a...."));
    let (status, _) = submit(&provider, &bad, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let password = sms_password(&provider, "+84912000456").await;
    let browser = Browser::new(&provider.base);
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[("scope", "openid profile portrait")]))
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", ABROAD), ("password", &password)],
        )
        .await
        .page();
    assert!(has_form(&html, "/password"), "{html}");
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/password",
            &[
                ("new_password", "Mai-2026-moi-pw"),
                ("confirm_password", "Mai-2026-moi-pw"),
            ],
        )
        .await
        .page();
    assert!(has_form(&html, "/consent"), "{html}");
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let (status, tokens) = provider
        .redeem(&param(&back, "code").unwrap(), vneid_tests::VERIFIER)
        .await;
    assert_eq!(status, 200, "{tokens}");
    let info: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["portrait"],
        json!(format!("data:image/jpeg;base64,{photo}")),
        "{info}"
    );
}

on_both_backends!(a_portrait_registered_in_the_app_comes_back_through_portrait);

/// A registry service that can be taken down and brought back.
async fn flaky_registry(up: Arc<AtomicBool>) -> String {
    let (people, matcher) = (up.clone(), up);
    let app = axum::Router::new()
        .route(
            "/people/{id}",
            get(move |Path(id): Path<String>| {
                let up = people.clone();
                async move {
                    if !up.load(Ordering::SeqCst) {
                        return Err(AxumStatus::SERVICE_UNAVAILABLE);
                    }
                    if id != "001301000123" {
                        return Err(AxumStatus::NOT_FOUND);
                    }
                    Ok(Json(json!({
                        "id_number": id, "kind": "citizen", "family_name": "Lê", "middle_name": "Minh",
                        "given_name": "Châu", "birthdate": "2001-04-02", "gender": "female",
                        "phone_number": "+84912345678", "identity_card": card("001301000123")
                    })))
                }
            }),
        )
        .route(
            "/people/{id}/match",
            post(move |Path(_id): Path<String>, Json(body): Json<Value>| {
                let up = matcher.clone();
                async move {
                    if !up.load(Ordering::SeqCst) {
                        return Err(AxumStatus::SERVICE_UNAVAILABLE);
                    }
                    let first = body["template"][0].as_f64().unwrap_or(0.0);
                    Ok(Json(json!({ "score": if first != 0.0 { 0.97 } else { 0.10 } })))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// The registry is down: the request is pending (not refused), nothing is sent; the worker
/// retries while it stays down; when it returns, the worker decides and the password goes to
/// the registry's contact. The app sees the decision on the registration.
async fn a_registry_outage_leaves_a_pending_request_decided_and_notified_later(backend: Backend) {
    let up = Arc::new(AtomicBool::new(false));
    let url = flaky_registry(up.clone()).await;
    let provider = spawn_provider_with(backend, |config| {
        config.registry.url = Some(url.parse().unwrap())
    })
    .await;
    let (status, body) = submit(&provider, &super::registration::chau(), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending", "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    assert!(
        provider.outbox().await.is_empty(),
        "nothing decided, nothing sent"
    );
    let state = &provider.state;
    // Still down at the next round: still pending.
    state.clock.advance(120);
    assert_eq!(
        vneid_provider::accounts::registration::decide_pending(state)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        state.store.registration(&id).await.unwrap().unwrap().status,
        "pending"
    );
    // Back up: decided at the next due round, and notified.
    up.store(true, Ordering::SeqCst);
    state.clock.advance(3600);
    assert_eq!(
        vneid_provider::accounts::registration::decide_pending(state)
            .await
            .unwrap(),
        1
    );
    let row = state.store.registration(&id).await.unwrap().unwrap();
    assert_eq!(row.status, "approved");
    assert!(row.account_id.is_some() && row.decided_at.is_some());
    let _ = sms_password(&provider, "+84912345678").await;
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM registration_holds")
            .await,
        0,
        "the sealed capture is gone with the hold"
    );
    // Decided once: another round does nothing.
    state.clock.advance(3600);
    assert_eq!(
        vneid_provider::accounts::registration::decide_pending(state)
            .await
            .unwrap(),
        0
    );
    let token = provider.app_token().await;
    let seen: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/registrations/{id}", provider.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["status"], "approved", "{seen}");
}

on_both_backends!(a_registry_outage_leaves_a_pending_request_decided_and_notified_later);
