//! The registry as a service over HTTP: the provider asks it about people and has it compare
//! templates, and registers Level 1 accounts on its answers.

use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::{Value, json};
use vneid_tests::{Backend, on_both_backends, spawn_provider_with};

async fn registry_service() -> String {
    let app = axum::Router::new()
        .route(
            "/people/{id}",
            get(|Path(id): Path<String>| async move {
                if id != "001301000123" {
                    return Err(StatusCode::NOT_FOUND);
                }
                Ok(Json(json!({
                    "id_number": id, "kind": "citizen", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
                    "birthdate": "2001-04-02", "gender": "female", "phone_number": "+84912345678",
                    "documents": [{ "type": "passport", "number": "C9999999" }],
                    "identity_card": super::registration::card("001301000123"),
                    // More than the provider reads (a ward): ignored, not a failure.
                    "permanent_residence": { "address": "Số 1 Tràng Tiền", "province": "01", "ward": "Hoàn Kiếm" }
                })))
            }),
        )
        .route(
            "/organizations/{code}",
            get(|Path(code): Path<String>| async move {
                let status = match code.as_str() {
                    "0101234567" => "active",
                    "0309876543" => "dissolved",
                    _ => return Err(StatusCode::NOT_FOUND),
                };
                Ok(Json(json!({
                    "code": code, "name": "Công ty TNHH Bình An", "short_name": "BINH AN CO",
                    "established_on": "2019-06-01", "head_office_address": "1 Lê Lợi, Quận 1, TP. Hồ Chí Minh",
                    "status": status, "representatives": ["079198000002"]
                })))
            }),
        )
        .route(
            "/people/{id}/match",
            post(|Path(_id): Path<String>, Json(body): Json<Value>| async move {
                // The service compares; here: the first number decides.
                let first = body["template"][0].as_f64().unwrap_or(0.0);
                Json(json!({ "score": if first > 0.0 { 0.97 } else { 0.10 } }))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn registration_against_a_registry_service(backend: Backend) {
    let url = registry_service().await;
    let provider = spawn_provider_with(backend, |config| {
        config.registry.url = Some(url.parse().unwrap())
    })
    .await;
    let mut body = super::registration::chau();
    body["phone_number"] = json!("+84999000111");
    let (status, answer) = super::registration::submit(&provider, &body, None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["status"], "approved", "{answer}");
    // Only the province of the permanent residence is kept with the account (`resident_of`).
    let store = &provider.state.store;
    let account = store
        .account_by_username("001301000123")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store
            .account_residence_province(&account.id)
            .await
            .unwrap()
            .as_deref(),
        Some("01")
    );
    // The password goes to the phone the registry service holds, not to the typed one.
    let _ = super::registration::sms_password(&provider, "+84912345678").await;
    assert!(
        provider
            .outbox()
            .await
            .iter()
            .all(|m| m.recipient != "+84999000111")
    );
    let refusals = [
        ("001301000123", json!(vec![-1.0; 64]), "account_exists"),
        (
            "001301000999",
            json!(super::registration::template(1, 0.0)),
            "not_in_registry",
        ),
    ];
    let mut texts = Vec::new();
    for (id_number, template, code) in refusals {
        body["id_number"] = json!(id_number);
        body["portrait"]["template"] = template;
        let (status, answer) = super::registration::submit(&provider, &body, None).await;
        assert_eq!(status, StatusCode::CREATED, "no 409: {answer}");
        assert_eq!(answer["status"], "refused");
        let row = provider
            .state
            .store
            .registration(answer["id"].as_str().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(row.reasons.unwrap().contains(code), "{code}");
        let mut answer = answer;
        answer["id"] = json!("ID");
        texts.push(answer);
    }
    assert_eq!(
        texts[0], texts[1],
        "an existing account reads like an unknown number"
    );
}

/// Issue 11, item 1: the desk registers an organisation from the business registry served over
/// HTTP (`GET {base}/organizations/{code}`): an active one is created with its own account (no
/// level) and released to its representative; one the service does not know, or says is
/// dissolved, is refused with nothing written.
async fn an_organisation_registered_at_the_desk_from_a_registry_service(backend: Backend) {
    let url = registry_service().await;
    let provider = spawn_provider_with(backend, |config| {
        config.registry.url = Some(url.parse().unwrap())
    })
    .await;
    let supervisor = vneid_tests::browser::Browser::new(&provider.base);
    super::journey::officer_login_as(&provider, &supervisor, "giamsat01").await;
    let register = |code: &'static str| {
        let supervisor = &supervisor;
        let provider = &provider;
        async move {
            super::organization_choice::desk_post(
                supervisor,
                provider,
                "/desk/organizations",
                &[("code", code), ("representative", "079198000002")],
            )
            .await
            .1
        }
    };
    for (code, says) in [
        ("0101234568", "Không có tổ chức này"),
        ("0309876543", "không còn hoạt động"),
    ] {
        let html = register(code).await;
        assert!(html.contains(says), "{code}: {html}");
    }
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM accounts WHERE kind = 'organization'")
            .await,
        0
    );
    let html = register("0101234567").await;
    assert!(
        html.contains("Đã đăng ký tổ chức Công ty TNHH Bình An"),
        "{html}"
    );
    let org = provider
        .state
        .store
        .organization_by_code("0101234567")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(org.organization.short_name.as_deref(), Some("BINH AN CO"));
    let own = provider
        .state
        .store
        .account(&org.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((own.kind.as_str(), own.level), ("organization", 0));
    // Bình, its representative, releases it.
    let binh = provider
        .state
        .store
        .account_by_username("079198000002")
        .await
        .unwrap()
        .unwrap();
    let released = provider
        .state
        .store
        .organization_of(&binh.id, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(released.code, "0101234567");
}

on_both_backends!(
    registration_against_a_registry_service,
    an_organisation_registered_at_the_desk_from_a_registry_service,
);
