//! Account-status Security Event Tokens (RFC 8417): the provider tells a relying party that an
//! account it received claims for was disabled (locked or revoked), enabled again, changed its
//! password or its level, or withdrew its consent. [`VneidClient::verify_security_event`]
//! checks one (signature with the provider's keys, `typ` `secevent+jwt`, issuer, this client as
//! audience); the axum integration's receiver ends the matching sessions.

use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsVerifier, RS256};
use serde::Deserialize;
use serde_json::{Map, Value};
use vneid_contract::{AccountEvent, SET_TYPE};

use crate::client::VneidClient;

/// Why a SET is not to be trusted (the receiver answers `400`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetError {
    /// Not a compact JWS with a JSON header and a SET payload.
    #[error("the security event is malformed: {0}")]
    Malformed(&'static str),
    /// `alg` is not ES256 or RS256.
    #[error("the security event's algorithm `{0}` is not allowed")]
    Algorithm(String),
    /// `typ` is not `secevent+jwt` (an ID token or a receipt is not an event).
    #[error("the JWS is not a security event (typ {0:?})")]
    WrongType(Option<String>),
    /// The `kid` is not among the provider's keys.
    #[error("the security event's key {0:?} is not the provider's")]
    UnknownKey(Option<String>),
    /// The signature does not verify.
    #[error("the security event's signature does not verify")]
    Signature,
    /// Another issuer.
    #[error("the security event comes from another issuer")]
    Issuer,
    /// Meant for another client.
    #[error("the security event is for another client")]
    Audience,
}

impl SetError {
    /// The RFC 8935 error code for the receiver's `400` answer.
    pub fn code(&self) -> &'static str {
        match self {
            SetError::Malformed(_) | SetError::WrongType(_) => "invalid_request",
            SetError::Issuer => "invalid_issuer",
            SetError::Audience => "invalid_audience",
            _ => "invalid_key",
        }
    }
}

/// A verified security event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SecurityEvent {
    /// Its unique id: drop a second SET with the same `jti` (delivery is at least once).
    pub jti: String,
    /// When the provider issued it (Unix seconds).
    pub iat: i64,
    /// The subject, as this client knows it (the `sub` of its logins).
    pub subject: String,
    /// The events it carries, with their members (`event_timestamp`, ...).
    pub events: Vec<(AccountEvent, Value)>,
    /// Event types this SDK does not know (ignore them).
    pub unknown: Vec<String>,
}

impl SecurityEvent {
    /// Whether the subject's sessions at this relying party should end (account disabled,
    /// credential changed, consent withdrawn).
    pub fn ends_sessions(&self) -> bool {
        self.events.iter().any(|(e, _)| e.ends_sessions())
    }

    /// When it happened at the provider: the earliest `event_timestamp`, else `iat`.
    pub fn happened_at(&self) -> i64 {
        self.events
            .iter()
            .filter_map(|(_, v)| v.get("event_timestamp").and_then(Value::as_i64))
            .min()
            .unwrap_or(self.iat)
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Payload {
    iss: String,
    iat: i64,
    jti: String,
    aud: Value,
    sub_id: SubId,
    events: Map<String, Value>,
}

#[derive(Deserialize)]
struct SubId {
    sub: String,
}

fn header(jws: &str) -> Result<Header, SetError> {
    let part = jws
        .split('.')
        .next()
        .ok_or(SetError::Malformed("not a JWS"))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| SetError::Malformed("not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| SetError::Malformed("the header is not JSON"))
}

/// Finds `kid` in a JWK set given as JSON.
fn find_key(keys: &Value, kid: &str) -> Option<Jwk> {
    keys.get("keys")?
        .as_array()?
        .iter()
        .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        .and_then(|k| k.as_object().cloned())
        .and_then(|k| Jwk::from_map(k).ok())
}

/// Verifies `jws` as a SET of `issuer` for `client_id` with the keys of `jwks` (a JWK set as
/// JSON). `Err(UnknownKey)` lets the caller refetch the keys once.
pub(crate) fn verify(
    jws: &str,
    jwks: &Value,
    issuer: &str,
    client_id: &str,
) -> Result<SecurityEvent, SetError> {
    if jws.split('.').count() != 3 {
        return Err(SetError::Malformed("not a compact JWS"));
    }
    let header = header(jws)?;
    let alg = header.alg.unwrap_or_default();
    if alg != "ES256" && alg != "RS256" {
        return Err(SetError::Algorithm(alg));
    }
    if header.typ.as_deref() != Some(SET_TYPE) {
        return Err(SetError::WrongType(header.typ));
    }
    let kid = header.kid.ok_or(SetError::UnknownKey(None))?;
    let jwk = find_key(jwks, &kid).ok_or_else(|| SetError::UnknownKey(Some(kid.clone())))?;
    let verifier: Box<dyn JwsVerifier> = match alg.as_str() {
        "ES256" => Box::new(
            ES256
                .verifier_from_jwk(&jwk)
                .map_err(|_| SetError::UnknownKey(Some(kid.clone())))?,
        ),
        _ => Box::new(
            RS256
                .verifier_from_jwk(&jwk)
                .map_err(|_| SetError::UnknownKey(Some(kid.clone())))?,
        ),
    };
    let (payload, _) = josekit::jws::deserialize_compact(jws, verifier.as_ref())
        .map_err(|_| SetError::Signature)?;
    let payload: Payload = serde_json::from_slice(&payload)
        .map_err(|_| SetError::Malformed("the payload is not a SET"))?;
    if payload.iss != issuer {
        return Err(SetError::Issuer);
    }
    let for_us = match &payload.aud {
        Value::String(a) => a == client_id,
        Value::Array(list) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !for_us {
        return Err(SetError::Audience);
    }
    let mut events = Vec::new();
    let mut unknown = Vec::new();
    for (uri, members) in payload.events {
        match AccountEvent::from_uri(&uri) {
            Some(event) => events.push((event, members)),
            None => unknown.push(uri),
        }
    }
    Ok(SecurityEvent {
        jti: payload.jti,
        iat: payload.iat,
        subject: payload.sub_id.sub,
        events,
        unknown,
    })
}

impl VneidClient {
    /// Verifies a Security Event Token the provider pushed or this client polled: ES256/RS256
    /// with the provider's keys (refetched once on an unknown `kid`), `typ` `secevent+jwt`, the
    /// issuer, and this client as the audience. Deduplicating by `jti` is the caller's.
    pub async fn verify_security_event(&self, jws: &str) -> Result<SecurityEvent, SetError> {
        let check = |keys: &openidconnect::core::CoreJsonWebKeySet| {
            let jwks = serde_json::to_value(keys).unwrap_or(Value::Null);
            verify(jws, &jwks, self.issuer(), self.client_id())
        };
        match check(&self.key_cache().current()) {
            Err(SetError::UnknownKey(_)) if self.key_cache().refetch(self.http()).await => {
                check(&self.key_cache().current())
            }
            result => result,
        }
    }
}
