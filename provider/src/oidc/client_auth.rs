//! Client authentication at the token endpoint (and PAR, revocation, introspection):
//! `client_secret_basic` or `client_secret_post` for a client registered with a secret (either,
//! RFC 6749 2.3.1), `private_key_jwt` for a client registered with keys.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::client::Client;
use super::error::OAuthError;
use super::types::{ClientAuthMethod, ClientId};
use crate::state::AppState;

/// Credentials as presented.
struct Presented {
    method: ClientAuthMethod,
    client_id: String,
    secret: String,
}

/// Authenticates the calling client from the `Authorization` header or the form body.
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    body_client_id: Option<&str>,
    body_secret: Option<&str>,
    assertion: Option<(&str, &str)>,
) -> Result<Client, OAuthError> {
    if let Some((assertion_type, assertion)) = assertion {
        if headers.contains_key(AUTHORIZATION) || body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not several",
            ));
        }
        if assertion_type != super::client_assertion::ASSERTION_TYPE {
            return Err(OAuthError::invalid_client(
                "unsupported client_assertion_type",
            ));
        }
        return super::client_assertion::authenticate(state, assertion, body_client_id).await;
    }
    let presented = presented(headers, body_client_id, body_secret)?;
    let client_id = ClientId::parse(&presented.client_id)
        .ok_or_else(|| OAuthError::invalid_client("unknown client"))?;
    let client = state
        .client(&client_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_client("unknown client or wrong secret"))?;
    if !client.secret_matches(&presented.secret) {
        tracing::info!(
            client = client.id.as_str(),
            "token request with a wrong client secret"
        );
        return Err(OAuthError::invalid_client("unknown client or wrong secret"));
    }
    if !accepts(client.auth_method, presented.method) {
        return Err(OAuthError::invalid_client(format!(
            "this client is registered for {}",
            client.auth_method.as_str()
        )));
    }
    Ok(client)
}

/// Whether a client registered for `registered` may authenticate with `presented`: a secret
/// client with either secret method, a keyed client only with its keys.
pub fn accepts(registered: ClientAuthMethod, presented: ClientAuthMethod) -> bool {
    use ClientAuthMethod::{PrivateKeyJwt, SecretBasic, SecretPost};
    match registered {
        SecretBasic | SecretPost => matches!(presented, SecretBasic | SecretPost),
        PrivateKeyJwt => presented == PrivateKeyJwt,
    }
}

fn presented(
    headers: &HeaderMap,
    body_client_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<Presented, OAuthError> {
    let basic = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    match (basic, body_secret) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method, not both",
        )),
        (Some(encoded), None) => {
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| OAuthError::invalid_client("malformed Basic credentials"))?;
            // RFC 6749 2.3.1: both parts are form-urlencoded.
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            let client_id = decode(id);
            if body_client_id.is_some_and(|body| body != client_id) {
                return Err(OAuthError::invalid_request(
                    "client_id does not match the credentials",
                ));
            }
            Ok(Presented {
                method: ClientAuthMethod::SecretBasic,
                client_id,
                secret: decode(secret),
            })
        }
        (None, Some(secret)) => Ok(Presented {
            method: ClientAuthMethod::SecretPost,
            client_id: body_client_id
                .ok_or_else(|| OAuthError::invalid_client("client_id is required"))?
                .to_string(),
            secret: secret.to_string(),
        }),
        (None, None) => Err(OAuthError::invalid_client(
            "client authentication is required",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ClientAuthMethod::{PrivateKeyJwt, SecretBasic, SecretPost};

    #[test]
    fn secret_clients_use_either_secret_method_keyed_clients_only_keys() {
        for registered in [SecretBasic, SecretPost] {
            assert!(accepts(registered, SecretBasic));
            assert!(accepts(registered, SecretPost));
            assert!(!accepts(registered, PrivateKeyJwt));
        }
        assert!(accepts(PrivateKeyJwt, PrivateKeyJwt));
        assert!(!accepts(PrivateKeyJwt, SecretBasic));
        assert!(!accepts(PrivateKeyJwt, SecretPost));
    }
}

/// The form of revocation (RFC 7009 2.1) and introspection (RFC 7662 2.1): a token, its
/// optional hint, and the caller's client authentication.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenLookupParams {
    pub token: Option<String>,
    /// Only a hint: every kind of token is looked up.
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub client_assertion_type: Option<String>,
    pub client_assertion: Option<String>,
}

impl TokenLookupParams {
    /// Parses the form and authenticates the caller: the client and the token asked about.
    pub async fn authenticated(
        state: &AppState,
        headers: &HeaderMap,
        form: Result<axum::Form<Self>, axum::extract::rejection::FormRejection>,
    ) -> Result<(Client, Option<String>), OAuthError> {
        let axum::Form(params) = form.map_err(|_| {
            OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")
        })?;
        let client = authenticate(
            state,
            headers,
            params.client_id.as_deref(),
            params.client_secret.as_deref(),
            params
                .client_assertion_type
                .as_deref()
                .zip(params.client_assertion.as_deref()),
        )
        .await?;
        Ok((client, params.token))
    }
}
