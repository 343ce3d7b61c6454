//! Token revocation (RFC 7009): a client revokes its own access or refresh token; a refresh
//! token takes its family with it. The answer is 200 whether or not the token was known or the
//! caller's, so it tells nothing about other clients' tokens.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::client_auth::TokenLookupParams;
use super::error::{OAuthError, TokenError};
use crate::secret;
use crate::state::AppState;

/// `POST /revoke`.
pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<TokenLookupParams>, axum::extract::rejection::FormRejection>,
) -> Result<Response, TokenError> {
    let (client, token) = TokenLookupParams::authenticated(&state, &headers, form).await?;
    let token = token
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
