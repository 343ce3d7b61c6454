//! Token introspection (RFC 7662) for resource servers: a client registered as a resource
//! server (`clients add --resource-server`) authenticates as at the token endpoint and learns
//! whether a token is active, with its scope, client, subject and times. Any other client is
//! refused with 403 `unauthorized_client`; an unknown, expired or revoked token is
//! `{"active": false}` and nothing more. A DPoP-bound token is introspected with
//! `token_type: DPoP` and `cnf.jkt`, the thumbprint of its key (RFC 9449 6.2).

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::client_auth::TokenLookupParams;
use super::error::{ErrorCode, OAuthError, TokenError};
use super::grant::Grant;
use super::subject::subject;
use super::types::ClientId;
use crate::secret;
use crate::state::AppState;
use crate::store::IssuedToken;

/// `POST /introspect`.
pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<TokenLookupParams>, axum::extract::rejection::FormRejection>,
) -> Result<Response, TokenError> {
    let (caller, token) = TokenLookupParams::authenticated(&state, &headers, form).await?;
    if !caller.resource_server {
        tracing::info!(
            client = caller.id.as_str(),
            "introspection by a client that is not a resource server"
        );
        let body = json!({
            "error": ErrorCode::UnauthorizedClient.as_str(),
            "error_description": "only resource servers may introspect tokens",
        });
        return Ok((StatusCode::FORBIDDEN, Json(body)).into_response());
    }
    let token = token
        .as_deref()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let now = state.now();
    let found = state
        .store
        .issued_token(&secret::hash(token), now)
        .await
        .map_err(OAuthError::from)?;
    let body = match found {
        Some(row) if row.live != 0 => active(&state, &row).await?,
        _ => json!({ "active": false }),
    };
    Ok(Json(body).into_response())
}

/// What a live token is.
async fn active(state: &AppState, row: &IssuedToken) -> Result<Value, OAuthError> {
    let grant: Grant = serde_json::from_str(&row.grant_data)?;
    let inactive = json!({ "active": false });
    let Some(client_id) = ClientId::parse(&row.client_id) else {
        return Ok(inactive);
    };
    let Some(client) = state.client(&client_id).await? else {
        return Ok(inactive);
    };
    let mut body = json!({
        "active": true,
        "scope": grant.scopes.to_string(),
        "client_id": client.id.as_str(),
        "sub": subject(&state.pairwise_salt, &client, &row.account_id),
        "exp": row.expires_at,
        "iat": row.created_at,
        "iss": state.issuer,
        "acr": grant.level.acr(),
        "auth_time": grant.auth_time,
    });
    if row.kind == "access" {
        body["token_type"] = json!(if row.dpop_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        });
    }
    // The key a DPoP-bound token must be used with (RFC 9449 6.2): the resource server checks
    // the proof it received against it.
    if let Some(jkt) = &row.dpop_jkt {
        body["cnf"] = json!({ "jkt": jkt });
    }
    Ok(body)
}
