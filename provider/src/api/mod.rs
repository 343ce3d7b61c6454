//! The JSON API for the mobile app: Level 1 registration, described by an OpenAPI document.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::accounts::registration::{self, FieldError, Outcome, RegistrationRequest};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::RegistrationRow;

/// Paths of the API.
pub const REGISTRATIONS: &str = "/api/v1/registrations";
/// One registration.
pub const REGISTRATION: &str = "/api/v1/registrations/{id}";
/// The OpenAPI document.
pub const OPENAPI: &str = "/api/v1/openapi.json";

fn invalid(fields: Vec<FieldError>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": "invalid_request", "fields": fields })),
    )
        .into_response()
}

fn view(row: &RegistrationRow) -> Value {
    let reasons: Value = row
        .reasons
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_else(|| json!([]));
    let mut v = json!({
        "id": row.id,
        "id_number": row.id_number,
        "status": row.status,
        "reasons": reasons,
        "created_at": row.created_at,
        "decided_at": row.decided_at,
    });
    if row.status == "approved" {
        v["account"] = json!({ "level": 1, "first_password": "sent by SMS (or email when no phone number was given)" });
    }
    v
}

/// `POST /api/v1/registrations`.
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let request: RegistrationRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            let field = e.to_string();
            return Ok(invalid(vec![FieldError {
                field: "body".into(),
                reason: format!("not a valid registration: {field}"),
            }]));
        }
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if key.as_ref().is_some_and(|k| k.is_empty() || k.len() > 128) {
        return Ok(invalid(vec![FieldError {
            field: "Idempotency-Key".into(),
            reason: "must be 1 to 128 characters".into(),
        }]));
    }
    Ok(match registration::register(&state, request, key).await? {
        Outcome::Invalid(fields) => invalid(fields),
        Outcome::Conflict(message) => (
            StatusCode::CONFLICT,
            Json(json!({ "error": "conflict", "message": message })),
        )
            .into_response(),
        Outcome::Decided(row) => (StatusCode::CREATED, Json(view(&row))).into_response(),
        Outcome::Replayed(row) => (StatusCode::OK, Json(view(&row))).into_response(),
    })
}

/// `GET /api/v1/registrations/{id}`.
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(match state.store.registration(&id).await? {
        Some(row) => Json(view(&row)).into_response(),
        None => (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response(),
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Response {
    let mut doc: Value = serde_json::from_str(include_str!("openapi.json")).unwrap_or(Value::Null);
    doc["servers"] = json!([{ "url": state.issuer }]);
    Json(doc).into_response()
}
