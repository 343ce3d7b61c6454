//! Token revocation (RFC 7009): a client revokes its own access or refresh token; a refresh
//! token takes its family with it. The answer is 200 whether or not the token was known or the
//! caller's, so it tells nothing about other clients' tokens.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::client_auth::authenticate;
use super::error::{OAuthError, TokenError};
use crate::secret;
use crate::state::AppState;

/// The revocation request.
#[derive(Debug, Default, Deserialize)]
pub struct RevocationParams {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// `POST /revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<RevocationParams>, axum::extract::rejection::FormRejection>,
) -> Result<Response, TokenError> {
    let axum::Form(params) = form.map_err(|_| {
        OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")
    })?;
    let client = authenticate(
        &state,
        &headers,
        params.client_id.as_deref(),
        params.client_secret.as_deref(),
        params
            .client_assertion_type
            .as_deref()
            .zip(params.client_assertion.as_deref()),
    )
    .await?;
    let token = params
        .token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    // Hints are only hints (RFC 7009 2.1): every kind is looked up.
    let revoked = state
        .store
        .revoke_token(&secret::hash(token), client.id.as_str(), state.now())
        .await
        .map_err(OAuthError::from)?;
    if revoked > 0 {
        tracing::info!(
            client = client.id.as_str(),
            tokens = revoked,
            "tokens revoked"
        );
    }
    Ok(StatusCode::OK.into_response())
}
