//! `private_key_jwt` (OpenID Connect Core 9, RFC 7523): the client proves itself with a JWT
//! signed by a key it registered. Each assertion is single use (its `jti`) and short-lived.

use josekit::jwk::JwkSet;
use josekit::jws::{ES256, JwsVerifier, PS256, RS256};
use serde_json::Value;

use super::client::Client;
use super::error::OAuthError;
use super::paths;
use super::types::{ClientAuthMethod, ClientId};
use crate::state::AppState;

/// The `client_assertion_type` of a JWT client assertion.
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Longest accepted assertion lifetime, in seconds.
const MAX_LIFETIME: i64 = 600;

fn bad(reason: &'static str) -> OAuthError {
    OAuthError::invalid_client(reason)
}

/// Authenticates a client by its assertion.
pub async fn authenticate(
    state: &AppState,
    assertion: &str,
    body_client_id: Option<&str>,
) -> Result<Client, OAuthError> {
    use base64::Engine;
    let payload_part = assertion
        .split('.')
        .nth(1)
        .ok_or_else(|| bad("client_assertion is not a JWT"))?;
    let unverified: Value = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload_part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or_else(|| bad("client_assertion is not a JWT"))?;
    let issuer = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("client_assertion has no iss"))?;
    if body_client_id.is_some_and(|id| id != issuer) {
        return Err(bad("client_id differs from the assertion's issuer"));
    }
    let client_id = ClientId::parse(issuer).ok_or_else(|| bad("unknown client"))?;
    let client = state
        .client(&client_id)
        .await?
        .ok_or_else(|| bad("unknown client"))?;
    if client.auth_method != ClientAuthMethod::PrivateKeyJwt {
        return Err(OAuthError::invalid_client(format!(
            "this client is registered for {}",
            client.auth_method.as_str()
        )));
    }
    let jwks = client
        .jwks
        .as_deref()
        .and_then(|j| JwkSet::from_bytes(j.as_bytes()).ok())
        .ok_or_else(|| bad("the client has no registered keys"))?;
    let header = josekit::jwt::decode_header(assertion)
        .map_err(|_| bad("client_assertion header is malformed"))?;
    let alg = header.claim("alg").and_then(Value::as_str).unwrap_or("");
    let kid = header.claim("kid").and_then(Value::as_str);
    let key = jwks
        .keys()
        .into_iter()
        .find(|k| {
            kid.is_none_or(|kid| k.key_id() == Some(kid)) && k.algorithm().is_none_or(|a| a == alg)
        })
        .ok_or_else(|| bad("no registered key matches the assertion"))?;
    let verifier: Box<dyn JwsVerifier> = match alg {
        "ES256" => Box::new(
            ES256
                .verifier_from_jwk(key)
                .map_err(|_| bad("unusable registered key"))?,
        ),
        "RS256" => Box::new(
            RS256
                .verifier_from_jwk(key)
                .map_err(|_| bad("unusable registered key"))?,
        ),
        "PS256" => Box::new(
            PS256
                .verifier_from_jwk(key)
                .map_err(|_| bad("unusable registered key"))?,
        ),
        _ => {
            return Err(bad(
                "client_assertion must be signed with ES256, RS256 or PS256",
            ));
        }
    };
    let (payload, _) = josekit::jwt::decode_with_verifier(assertion, verifier.as_ref())
        .map_err(|_| bad("client_assertion signature is invalid"))?;
    let now = state.now();
    let token_endpoint = state.url(paths::TOKEN);
    if payload.issuer() != Some(issuer) || payload.subject() != Some(issuer) {
        return Err(bad("client_assertion iss and sub must be the client id"));
    }
    let audience_ok = payload.audience().is_some_and(|aud| {
        aud.iter()
            .any(|a| *a == token_endpoint || *a == state.issuer)
    });
    if !audience_ok {
        return Err(bad(
            "client_assertion aud must be the token endpoint or the issuer",
        ));
    }
    let exp = payload
        .expires_at()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
        .ok_or_else(|| bad("client_assertion has no exp"))?;
    if exp <= now || exp > now + MAX_LIFETIME {
        return Err(bad("client_assertion is expired or lives too long"));
    }
    let jti = payload
        .jwt_id()
        .ok_or_else(|| bad("client_assertion has no jti"))?;
    if !state
        .store
        .use_assertion_jti(client.id.as_str(), jti, exp)
        .await?
    {
        tracing::warn!(client = client.id.as_str(), "client assertion replayed");
        return Err(bad("client_assertion was used before"));
    }
    Ok(client)
}
