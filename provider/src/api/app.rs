//! The phone app's JSON API: enrol a device, list the CIBA requests waiting for it, look up a
//! scanned QR code, approve, deny. Every request body is one compact JWT signed with the device
//! key (`application/jwt`; see `accounts::device`): no password, no cookie. Errors are JSON
//! `{"error", "error_description"}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::accounts::approval::{self, DecideError, Decision};
use crate::accounts::device::{self, DeviceError, DeviceRequest};
use crate::error::AppError;
use crate::oidc::paths;
use crate::state::AppState;
use crate::store::ApprovalRow;

fn error(status: StatusCode, code: &str, description: String) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}

fn device_error(err: DeviceError) -> Response {
    let (status, code) = match err {
        DeviceError::Malformed(_) => (StatusCode::BAD_REQUEST, "invalid_request"),
        DeviceError::Stale(_) => (StatusCode::UNAUTHORIZED, "invalid_request_jwt"),
        DeviceError::Unauthenticated => (StatusCode::UNAUTHORIZED, "invalid_device"),
        DeviceError::Replayed => (StatusCode::UNAUTHORIZED, "replayed_request"),
        DeviceError::AccountUnusable => (StatusCode::FORBIDDEN, "account_unusable"),
        DeviceError::BadCode => (StatusCode::BAD_REQUEST, "invalid_code"),
    };
    error(status, code, err.to_string())
}

fn decide_error(err: DecideError) -> Response {
    let (status, code) = match err {
        DecideError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
        DecideError::SummaryMismatch => (StatusCode::BAD_REQUEST, "summary_mismatch"),
        DecideError::UserVerificationMissing => {
            (StatusCode::BAD_REQUEST, "user_verification_required")
        }
    };
    error(status, code, err.to_string())
}

/// What the app is shown of one approval.
fn view(a: &ApprovalRow) -> Value {
    json!({
        "id": a.id,
        "kind": a.kind,
        "summary": a.summary,
        "binding_message": a.binding_message,
        "expires_at": a.expires_at,
    })
}

async fn verified(
    state: &AppState,
    body: &str,
    path: &str,
) -> Result<Result<DeviceRequest, Response>, AppError> {
    Ok(device::verify_request(state, body, path)
        .await?
        .map_err(device_error))
}

/// `POST /app/enrol`: a JWT signed by the new key, its public key in the header.
pub async fn enrol(State(state): State<AppState>, body: String) -> Result<Response, AppError> {
    Ok(
        match device::enrol(&state, &body, paths::APP_ENROL).await? {
            Ok(device) => (
                StatusCode::CREATED,
                Json(
                    json!({ "device_id": device.id, "name": device.name, "issuer": state.issuer }),
                ),
            )
                .into_response(),
            Err(err) => device_error(err),
        },
    )
}

/// `POST /app/pending`: the CIBA requests waiting for this device's account.
pub async fn pending(State(state): State<AppState>, body: String) -> Result<Response, AppError> {
    let request = match verified(&state, &body, paths::APP_PENDING).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let approvals = state
        .store
        .pending_approvals(&request.account.id, state.now())
        .await?;
    Ok(
        Json(json!({ "approvals": approvals.iter().map(view).collect::<Vec<_>>() }))
            .into_response(),
    )
}

/// `POST /app/qr`: the approval a scanned QR code names (claim `qr`).
pub async fn qr(State(state): State<AppState>, body: String) -> Result<Response, AppError> {
    let request = match verified(&state, &body, paths::APP_QR).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let id = request
        .claims
        .get("qr")
        .and_then(Value::as_str)
        .unwrap_or("");
    Ok(match approval::scanned(&state, &request, id).await? {
        Some(a) => Json(view(&a)).into_response(),
        None => decide_error(DecideError::NotFound),
    })
}

async fn decide(state: AppState, body: String, decision: Decision) -> Result<Response, AppError> {
    let path = match decision {
        Decision::Approve => paths::APP_APPROVE,
        Decision::Deny => paths::APP_DENY,
    };
    let request = match verified(&state, &body, path).await? {
        Ok(r) => r,
        Err(page) => return Ok(page),
    };
    let claim = |name: &str| request.claims.get(name).and_then(Value::as_str);
    let Some(id) = claim("approval_id") else {
        return Ok(device_error(DeviceError::Malformed(
            "approval_id is required",
        )));
    };
    let uv = request.claims.get("uv").and_then(Value::as_bool) == Some(true);
    Ok(
        match approval::decide(&state, &request, id, decision, claim("summary_hash"), uv).await? {
            Ok(()) => Json(json!({ "status": match decision {
                Decision::Approve => "approved",
                Decision::Deny => "denied",
            } }))
            .into_response(),
            Err(err) => decide_error(err),
        },
    )
}

/// `POST /app/approve`: claims `approval_id`, `summary_hash` (base64url SHA-256 of the summary
/// shown) and `uv: true` (the app verified its user).
pub async fn approve(State(state): State<AppState>, body: String) -> Result<Response, AppError> {
    decide(state, body, Decision::Approve).await
}

/// `POST /app/deny`: claim `approval_id`.
pub async fn deny(State(state): State<AppState>, body: String) -> Result<Response, AppError> {
    decide(state, body, Decision::Deny).await
}
