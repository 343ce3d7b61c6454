//! The JSON API for the national app: Level 1 registration, described by an OpenAPI document.
//! Only an authenticated client holding the `registration` API scope may call it (a bearer
//! token from the client-credentials grant); it learns "approved" or "refused", nothing more.

pub mod app;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::accounts::registration::{self, FieldError, Outcome};
use crate::error::AppError;
use crate::oidc::client_credentials::{ApiAuthError, ApiScope, authorize_api};
use crate::oidc::types::ClientId;
use crate::state::AppState;
use crate::store::RegistrationRow;

/// Paths of the API.
pub const REGISTRATIONS: &str = "/api/v1/registrations";
/// What the caller sees of a registration decided later (the registry could not be reached).
pub const PENDING: &str = "The registration is being processed. The result will be sent to the \
    applicant's contact on record when it is decided.";
/// One registration.
pub const REGISTRATION: &str = "/api/v1/registrations/{id}";
/// The OpenAPI document.
pub const OPENAPI: &str = "/api/v1/openapi.json";

/// What every refusal says, whatever its reasons: the reasons are for the operator.
pub const REFUSED: &str = "The registration could not be completed. The applicant may try again \
    later or register at a police station's registration desk.";
/// What an approval says.
pub const APPROVED: &str = "The Level 1 account is created; the first password is sent to the \
    phone number or email address the population registry holds for the applicant.";

/// The national app, authenticated: a live client-credentials token with the `registration`
/// scope, from a client that still holds it. Anything else is 401 or 403 before the body is read.
pub struct RegistrationApp(pub ClientId);

impl FromRequestParts<AppState> for RegistrationApp {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let client = authorize_api(state, &parts.headers, ApiScope::Registration)
            .await
            .map_err(ApiAuthError::into_response)?;
        per_client_limit(state, &client).map_err(Throttled::into_response)?;
        Ok(RegistrationApp(client))
    }
}

/// Per-client rate limiting of the registration API, after the app authenticated (per-number
/// limits are in `accounts::registration`, counted in the database).
fn per_client_limit(state: &AppState, client: &ClientId) -> Result<(), Throttled> {
    state
        .limits
        .check(crate::limits::LimitKey::Client(client.as_str()))
        .map_err(|limited| Throttled {
            retry_after: limited.retry_after,
        })
}

/// Too many requests from one client: `429` with `Retry-After`.
#[derive(Debug, Clone, Copy)]
pub struct Throttled {
    /// Seconds to wait.
    pub retry_after: u64,
}

impl IntoResponse for Throttled {
    fn into_response(self) -> Response {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(
                axum::http::header::RETRY_AFTER,
                self.retry_after.to_string(),
            )],
            Json(json!({ "error": "too_many_requests" })),
        )
            .into_response()
    }
}

fn invalid(fields: Vec<FieldError>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": "invalid_request", "fields": fields })),
    )
        .into_response()
}

/// What the caller sees of a decision: its id and approved or refused. Every refusal has the
/// same body apart from the id.
fn view(row: &RegistrationRow) -> Value {
    if row.status == "approved" {
        json!({ "id": row.id, "status": "approved", "message": APPROVED })
    } else if row.status == "pending" {
        json!({ "id": row.id, "status": "pending", "message": PENDING })
    } else {
        json!({ "id": row.id, "status": "refused", "message": REFUSED })
    }
}

/// `POST /api/v1/registrations`.
pub async fn submit(
    State(state): State<AppState>,
    RegistrationApp(client): RegistrationApp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let key = match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => None,
        Some(Ok(k)) if !k.is_empty() && k.len() <= 128 => Some(k.to_string()),
        Some(_) => {
            return Ok(invalid(vec![FieldError {
                field: "Idempotency-Key".into(),
                reason: "must be 1 to 128 visible ASCII characters".into(),
            }]));
        }
    };
    let submission = match registration::parse(&body, state.config.registry.dimensions) {
        Ok(s) => s,
        Err(fields) => return Ok(invalid(fields)),
    };
    Ok(
        match registration::register(&state, &client, submission, key.as_deref()).await? {
            Outcome::Decided(row) => (StatusCode::CREATED, Json(view(&row))).into_response(),
            Outcome::Replayed(row) => (StatusCode::OK, Json(view(&row))).into_response(),
            Outcome::KeyReused => (
                StatusCode::CONFLICT,
                Json(json!({
                    "error": "idempotency_key_reused",
                    "message": "this Idempotency-Key was used for another submission",
                })),
            )
                .into_response(),
        },
    )
}

/// `GET /api/v1/registrations/{id}`: only the client that submitted it sees it.
pub async fn status(
    State(state): State<AppState>,
    RegistrationApp(client): RegistrationApp,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    Ok(match state.store.registration(&id).await? {
        Some(row) if row.client_id.as_deref() == Some(client.as_str()) => {
            Json(view(&row)).into_response()
        }
        _ => (StatusCode::NOT_FOUND, Json(json!({ "error": "not_found" }))).into_response(),
    })
}

/// `GET /api/v1/openapi.json`.
pub async fn openapi(State(state): State<AppState>) -> Response {
    let mut doc: Value = serde_json::from_str(include_str!("openapi.json")).unwrap_or(Value::Null);
    doc["servers"] = json!([{ "url": state.issuer }]);
    doc["components"]["securitySchemes"]["app"]["flows"]["clientCredentials"]["tokenUrl"] =
        json!(state.url(crate::oidc::paths::TOKEN));
    Json(doc).into_response()
}
