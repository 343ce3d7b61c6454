//! Poll delivery of SETs (RFC 8936): `POST /events/poll` with the client's `client_secret_basic`
//! credentials and a JSON body `{"ack": [jti...], "setErrs": {jti: {...}}, "maxEvents": n}`;
//! the answer is `{"sets": {jti: SET}, "moreAvailable": bool}`. Acknowledged (or reported
//! erroneous) SETs are not offered again. Answers at once (no long polling).

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::oidc::client_auth::authenticate;
use crate::oidc::error::{OAuthError, TokenError};
use crate::state::AppState;

/// The most SETs one answer carries.
const MAX_EVENTS: i64 = 100;

/// The poll request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollRequest {
    #[serde(default)]
    ack: Vec<String>,
    #[serde(default)]
    set_errs: Map<String, Value>,
    #[serde(default)]
    max_events: Option<i64>,
}

/// `POST /events/poll`.
pub async fn poll(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, TokenError> {
    let client = authenticate(&state, &headers, None, None, None).await?;
    let request: PollRequest = if body.trim().is_empty() {
        PollRequest::default()
    } else {
        serde_json::from_str(&body)
            .map_err(|_| OAuthError::invalid_request("the body must be a JSON poll request"))?
    };
    let mut acks = request.ack;
    acks.extend(request.set_errs.keys().cloned());
    if acks.len() > 1000 {
        return Err(OAuthError::invalid_request("at most 1000 acknowledgements at once").into());
    }
    let max = request.max_events.unwrap_or(20).clamp(0, MAX_EVENTS);
    let (sets, more) = state
        .store
        .poll_events(client.id.as_str(), &acks, max, state.now())
        .await
        .map_err(OAuthError::from)?;
    let sets: Map<String, Value> = sets
        .into_iter()
        .map(|(jti, jws)| (jti, Value::String(jws)))
        .collect();
    Ok(Json(json!({ "sets": sets, "moreAvailable": more })).into_response())
}
