//! OpenID Connect Back-Channel Logout 1.0: the provider POSTs a logout token when the citizen's
//! session ends there; the relying party validates it (signature with the provider's keys,
//! `iss`, `aud`, `iat`, `jti`, the back-channel `events` member, `sid` or `sub`, and no `nonce`)
//! and ends the matching sessions in its [`crate::SessionStore`].

use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsVerifier, PS256, RS256};
use serde_json::{Map, Value};

use crate::client::VneidClient;

/// The `events` member a logout token must carry.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How far in the past a logout token's `iat` may be (they are sent at once, retried for a
/// while).
const MAX_AGE: i64 = 10 * 60;
/// Clock skew tolerated for `iat` in the future.
const SKEW: i64 = 60;

/// Why a JWS does not verify.
#[derive(Debug, thiserror::Error)]
pub(crate) enum JwsError {
    #[error("malformed JWS")]
    Malformed,
    #[error("algorithm not accepted")]
    Algorithm,
    #[error("unknown key")]
    UnknownKey,
    #[error("bad signature")]
    Signature,
}

/// A JSON object.
type Json = Map<String, Value>;

/// Verifies a compact JWS (ES256, RS256, PS256) with the key of its `kid` in `jwks`; returns
/// the payload object and the header.
pub(crate) fn verify_jws_with_header(jws: &str, jwks: &Value) -> Result<(Json, Json), JwsError> {
    let parts: Vec<&str> = jws.split('.').collect();
    if parts.len() != 3 {
        return Err(JwsError::Malformed);
    }
    let header: Map<String, Value> = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0])
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(JwsError::Malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let kid = header.get("kid").and_then(Value::as_str);
    let jwk = jwks
        .get("keys")
        .and_then(Value::as_array)
        .and_then(|keys| {
            keys.iter().find(|k| match kid {
                Some(kid) => k.get("kid").and_then(Value::as_str) == Some(kid),
                // Without a kid, only a set of one key says which.
                None => keys.len() == 1,
            })
        })
        .and_then(|k| k.as_object().cloned())
        .and_then(|k| Jwk::from_map(k).ok())
        .ok_or(JwsError::UnknownKey)?;
    let verifier: Box<dyn JwsVerifier> = match alg {
        "ES256" => Box::new(
            ES256
                .verifier_from_jwk(&jwk)
                .map_err(|_| JwsError::UnknownKey)?,
        ),
        "RS256" => Box::new(
            RS256
                .verifier_from_jwk(&jwk)
                .map_err(|_| JwsError::UnknownKey)?,
        ),
        "PS256" => Box::new(
            PS256
                .verifier_from_jwk(&jwk)
                .map_err(|_| JwsError::UnknownKey)?,
        ),
        _ => return Err(JwsError::Algorithm),
    };
    let (payload, _) = josekit::jws::deserialize_compact(jws, verifier.as_ref())
        .map_err(|_| JwsError::Signature)?;
    let payload: Map<String, Value> =
        serde_json::from_slice(&payload).map_err(|_| JwsError::Malformed)?;
    Ok((payload, header))
}

/// [`verify_jws_with_header`] without the header.
pub(crate) fn verify_jws(jws: &str, jwks: &Value) -> Result<Map<String, Value>, JwsError> {
    verify_jws_with_header(jws, jwks).map(|(payload, _)| payload)
}

/// Whether `aud` (a string or an array) names `client_id`.
pub(crate) fn audience_has(payload: &Map<String, Value>, client_id: &str) -> bool {
    match payload.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    }
}

/// Why a logout token is refused (the receiver answers `400 invalid_request` and ends
/// nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogoutTokenError {
    /// Not a signed JWT with a JSON payload.
    #[error("the logout token is malformed")]
    Malformed,
    /// Signed with an algorithm other than ES256, RS256 or PS256, or with a key the provider
    /// does not publish, or the signature does not verify.
    #[error("the logout token's signature does not verify with the provider's keys")]
    Signature,
    /// `iss` is not the provider.
    #[error("the logout token comes from another issuer")]
    Issuer,
    /// `aud` does not name this client.
    #[error("the logout token is for another client")]
    Audience,
    /// `iat` is missing, in the future or too old.
    #[error("the logout token's iat is missing or out of range")]
    IssuedAt,
    /// `jti` is missing.
    #[error("the logout token has no jti")]
    MissingJti,
    /// `events` lacks the back-channel logout member.
    #[error("the logout token's events do not say back-channel logout")]
    Events,
    /// Neither `sid` nor `sub`.
    #[error("the logout token names neither a session nor a subject")]
    NoSubject,
    /// It carries a `nonce`: it is an ID token, not a logout token.
    #[error("the logout token carries a nonce")]
    Nonce,
    /// Its `jti` was received already.
    #[error("the logout token was received already")]
    Replayed,
}

/// A verified logout token: end the sessions with this `sid` (and this `sub`, when both are
/// given), or all sessions of `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogoutToken {
    /// Its unique id.
    pub jti: String,
    /// The provider's session.
    pub sid: Option<String>,
    /// The subject.
    pub sub: Option<String>,
    /// When it was issued.
    pub iat: i64,
}

/// Validates a logout token's signature and claims (Back-Channel Logout 1.0, 2.6).
pub(crate) fn check_logout_token(
    jwt: &str,
    jwks: &Value,
    issuer: &str,
    client_id: &str,
    now: i64,
) -> Result<LogoutToken, LogoutTokenError> {
    let (payload, header) = verify_jws_with_header(jwt, jwks).map_err(|e| match e {
        JwsError::Malformed => LogoutTokenError::Malformed,
        _ => LogoutTokenError::Signature,
    })?;
    // `typ` is recommended to be `logout+jwt`; an ID token (`JWT`) is accepted only through the
    // checks below (the nonce and events members tell them apart).
    if let Some(typ) = header.get("typ").and_then(Value::as_str)
        && !matches!(typ.to_ascii_lowercase().as_str(), "logout+jwt" | "jwt")
    {
        return Err(LogoutTokenError::Malformed);
    }
    if payload.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(LogoutTokenError::Issuer);
    }
    if !audience_has(&payload, client_id) {
        return Err(LogoutTokenError::Audience);
    }
    let iat = payload
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(LogoutTokenError::IssuedAt)?;
    if iat > now + SKEW || iat < now - MAX_AGE {
        return Err(LogoutTokenError::IssuedAt);
    }
    if let Some(exp) = payload.get("exp").and_then(Value::as_i64)
        && exp < now - SKEW
    {
        return Err(LogoutTokenError::IssuedAt);
    }
    let jti = payload
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or(LogoutTokenError::MissingJti)?;
    let event_ok = payload
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT))
        .is_some_and(Value::is_object);
    if !event_ok {
        return Err(LogoutTokenError::Events);
    }
    if payload.contains_key("nonce") {
        return Err(LogoutTokenError::Nonce);
    }
    let text = |name: &str| {
        payload
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (sid, sub) = (text("sid"), text("sub"));
    if sid.is_none() && sub.is_none() {
        return Err(LogoutTokenError::NoSubject);
    }
    Ok(LogoutToken {
        jti: jti.to_string(),
        sid,
        sub,
        iat,
    })
}

impl VneidClient {
    /// Verifies a back-channel logout token with the provider's keys (refetched once on an
    /// unknown `kid`). Ending the sessions, and dropping a repeated `jti`, is the caller's (the
    /// axum receiver does both).
    pub async fn verify_logout_token(&self, jwt: &str) -> Result<LogoutToken, LogoutTokenError> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let check = |keys: &openidconnect::core::CoreJsonWebKeySet| {
            let jwks = serde_json::to_value(keys).unwrap_or(Value::Null);
            check_logout_token(jwt, &jwks, self.issuer(), self.client_id(), now)
        };
        match check(&self.key_cache().current()) {
            Err(LogoutTokenError::Signature) if self.key_cache().refetch(self.http()).await => {
                check(&self.key_cache().current())
            }
            result => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jws::JwsHeader;
    use serde_json::json;

    const ISS: &str = "https://id.example.vn";

    fn keys() -> (Jwk, Value) {
        let mut private = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
        private.set_key_id("k1");
        let mut public = private.to_public_key().unwrap();
        public.set_key_id("k1");
        let jwks = json!({ "keys": [serde_json::to_value(public.as_ref()).unwrap()] });
        (private, jwks)
    }

    fn sign(key: &Jwk, claims: &Value) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("logout+jwt");
        header.set_key_id("k1");
        let signer = ES256.signer_from_jwk(key).unwrap();
        josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &signer).unwrap()
    }

    fn good(now: i64) -> Value {
        json!({
            "iss": ISS, "aud": "bank", "iat": now, "exp": now + 120, "jti": "j1",
            "sid": "s1", "sub": "u1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} }
        })
    }

    #[test]
    fn each_rule_of_section_2_6_is_enforced() {
        let (key, jwks) = keys();
        let now = 1_800_000_000;
        let check =
            |claims: &Value| check_logout_token(&sign(&key, claims), &jwks, ISS, "bank", now);
        let token = check(&good(now)).unwrap();
        assert_eq!(token.sid.as_deref(), Some("s1"));
        let with = |f: &dyn Fn(&mut Map<String, Value>)| {
            let mut c = good(now);
            f(c.as_object_mut().unwrap());
            check(&c)
        };
        use LogoutTokenError as E;
        assert_eq!(
            with(&|c| {
                c.insert("nonce".into(), json!("n"));
            }),
            Err(E::Nonce)
        );
        assert_eq!(
            with(&|c| {
                c.insert("aud".into(), json!("other"));
            }),
            Err(E::Audience)
        );
        assert_eq!(
            with(&|c| {
                c.insert("iss".into(), json!("https://evil"));
            }),
            Err(E::Issuer)
        );
        assert_eq!(
            with(&|c| {
                c.remove("events");
            }),
            Err(E::Events)
        );
        assert_eq!(
            with(&|c| {
                c.insert(
                    "events".into(),
                    json!({ "http://schemas.openid.net/event/other": {} }),
                );
            }),
            Err(E::Events)
        );
        assert_eq!(
            with(&|c| {
                c.remove("jti");
            }),
            Err(E::MissingJti)
        );
        assert_eq!(
            with(&|c| {
                c.remove("iat");
            }),
            Err(E::IssuedAt)
        );
        assert_eq!(
            with(&|c| {
                c.insert("iat".into(), json!(now + 3600));
            }),
            Err(E::IssuedAt)
        );
        assert_eq!(
            with(&|c| {
                c.insert("iat".into(), json!(now - 3600));
            }),
            Err(E::IssuedAt)
        );
        assert_eq!(
            with(&|c| {
                c.remove("sid");
                c.remove("sub");
            }),
            Err(E::NoSubject)
        );
        assert!(
            with(&|c| {
                c.remove("sid");
            })
            .is_ok(),
            "sub alone ends all of its sessions"
        );
        let (other, _) = keys();
        assert_eq!(
            check_logout_token(&sign(&other, &good(now)), &jwks, ISS, "bank", now),
            Err(E::Signature)
        );
        let unsigned = format!(
            "{}.{}.",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(good(now).to_string())
        );
        assert_eq!(
            check_logout_token(&unsigned, &jwks, ISS, "bank", now),
            Err(E::Signature)
        );
    }
}
