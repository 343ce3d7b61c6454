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
                    "birthdate": "2001-04-02", "gender": "female",
                    "documents": [{ "type": "passport", "number": "C9999999" }]
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
    let (status, answer) = super::registration::submit(&provider, &body, None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(answer["status"], "approved", "{answer}");
    body["portrait"]["template"] = json!(vec![-1.0; 64]);
    body["id_number"] = json!("001301000123");
    let (status, _) = super::registration::submit(&provider, &body, None).await;
    assert_eq!(status, StatusCode::CONFLICT, "registered already");
    body["id_number"] = json!("001301000999");
    let (_, answer) = super::registration::submit(&provider, &body, None).await;
    assert_eq!(answer["reasons"][0]["code"], "not_in_registry", "{answer}");
}

on_both_backends!(registration_against_a_registry_service);
