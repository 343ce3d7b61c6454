//! The client-credentials grant (RFC 6749 4.4) for clients that act for themselves at the
//! provider's APIs: the national app, registered with `private_key_jwt` and the API scope
//! `registration`, gets a short-lived bearer token and calls the registration API with it
//! (RFC 6750). A citizen's access token is never accepted there.

use axum::Json;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::client::Client;
use super::error::{ErrorCode, OAuthError};
use super::types::{ClientAuthMethod, ClientId};
use crate::state::AppState;

/// A permission at the provider's APIs, granted to a client by the operator
/// (`clients add --api-scope`), obtained only through the client-credentials grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ApiScope {
    /// Submit Level 1 registrations and read their decisions back.
    Registration,
}

impl ApiScope {
    /// Every API scope.
    pub const ALL: [ApiScope; 1] = [ApiScope::Registration];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ApiScope::Registration => "registration",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Parses a space-separated list; `None` if any item is unknown.
    pub fn parse_list(s: &str) -> Option<Vec<ApiScope>> {
        let mut out: Vec<ApiScope> = s
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(ApiScope::parse)
            .collect::<Option<_>>()?;
        out.sort();
        out.dedup();
        Some(out)
    }
}

fn join(scopes: &[ApiScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The client-credentials token response: no ID token, no refresh token.
#[derive(Debug, Serialize)]
pub struct ClientCredentialsResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    scope: String,
}

/// Which scopes a client-credentials request gets: all the client holds when it names none,
/// else exactly those it names, each of which it must hold.
pub fn granted_scopes(
    held: &[ApiScope],
    requested: Option<&str>,
) -> Result<Vec<ApiScope>, OAuthError> {
    let invalid = || {
        OAuthError::new(
            ErrorCode::InvalidScope,
            "the scope is unknown or not granted to this client",
        )
    };
    let wanted = match requested {
        None => held.to_vec(),
        Some(s) => ApiScope::parse_list(s).ok_or_else(invalid)?,
    };
    if wanted.is_empty() || !wanted.iter().all(|w| held.contains(w)) {
        return Err(invalid());
    }
    Ok(wanted)
}

/// The API scopes a client holds now (unknown stored values are ignored).
async fn held_scopes(state: &AppState, client: &str) -> Result<Vec<ApiScope>, OAuthError> {
    Ok(state
        .store
        .client_api_scopes(client)
        .await?
        .iter()
        .filter_map(|s| ApiScope::parse(s))
        .collect())
}

/// Issues a token to an authenticated client for itself.
pub async fn grant(
    state: &AppState,
    client: &Client,
    scope: Option<&str>,
) -> Result<ClientCredentialsResponse, OAuthError> {
    let held = held_scopes(state, client.id.as_str()).await?;
    if client.auth_method != ClientAuthMethod::PrivateKeyJwt || held.is_empty() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the client_credentials grant",
        ));
    }
    let scopes = granted_scopes(&held, scope)?;
    let token = crate::secret::new_bearer();
    let now = state.now();
    let lifetime = state.config.registration.token_lifetime;
    state
        .store
        .insert_client_token(
            &crate::secret::hash(&token),
            client.id.as_str(),
            &join(&scopes),
            now + lifetime,
            now,
        )
        .await?;
    tracing::info!(
        client = client.id.as_str(),
        scope = %join(&scopes),
        "client-credentials token issued"
    );
    Ok(ClientCredentialsResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: lifetime,
        scope: join(&scopes),
    })
}

/// Why an API call is refused (RFC 6750 3.1).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiAuthError {
    /// No bearer token, or one that is unknown, expired or not a client token: 401.
    #[error("a valid bearer token of an authorised client is required")]
    InvalidToken,
    /// A valid token without the scope, or a client that no longer holds it: 403.
    #[error("the token does not carry the `{0}` scope")]
    InsufficientScope(&'static str),
    /// The provider failed.
    #[error(transparent)]
    Internal(#[from] crate::store::StoreError),
}

impl IntoResponse for ApiAuthError {
    fn into_response(self) -> Response {
        let (status, code, challenge) = match &self {
            ApiAuthError::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "Bearer realm=\"vneid\", error=\"invalid_token\"".to_string(),
            ),
            ApiAuthError::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                "insufficient_scope",
                format!("Bearer realm=\"vneid\", error=\"insufficient_scope\", scope=\"{scope}\""),
            ),
            ApiAuthError::Internal(err) => {
                tracing::error!(error = %err, "API authentication failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({ "error": "server_error" })),
                )
                    .into_response();
            }
        };
        let mut response = (
            status,
            Json(json!({ "error": code, "error_description": self.to_string() })),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}

/// The client calling an API with `Authorization: Bearer`, if its token is live and both the
/// token and the client (still) hold `needed`.
pub async fn authorize_api(
    state: &AppState,
    headers: &HeaderMap,
    needed: ApiScope,
) -> Result<ClientId, ApiAuthError> {
    let token = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or(ApiAuthError::InvalidToken)?;
    let row = state
        .store
        .client_token(&crate::secret::hash(token), state.now())
        .await?
        .ok_or(ApiAuthError::InvalidToken)?;
    let client = ClientId::parse(&row.client_id).ok_or(ApiAuthError::InvalidToken)?;
    let in_token = ApiScope::parse_list(&row.scopes).is_some_and(|s| s.contains(&needed));
    let held = state
        .store
        .client_api_scopes(client.as_str())
        .await?
        .iter()
        .any(|s| s == needed.as_str());
    if !(in_token && held) {
        tracing::warn!(
            client = client.as_str(),
            scope = needed.as_str(),
            "API call without the scope"
        );
        return Err(ApiAuthError::InsufficientScope(needed.as_str()));
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_only_the_scopes_it_holds() {
        let held = [ApiScope::Registration];
        assert_eq!(
            granted_scopes(&held, None).unwrap(),
            vec![ApiScope::Registration]
        );
        assert_eq!(
            granted_scopes(&held, Some("registration registration")).unwrap(),
            vec![ApiScope::Registration]
        );
        for bad in ["openid", "registration admin", ""] {
            assert_eq!(
                granted_scopes(&held, Some(bad)).unwrap_err().code,
                ErrorCode::InvalidScope,
                "{bad}"
            );
        }
        assert!(granted_scopes(&[], None).is_err());
    }
}
