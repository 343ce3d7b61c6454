//! RP-Initiated Logout 1.0: the relying party sends the browser to `end_session_endpoint` with
//! `id_token_hint` (an ID token we issued: it names the client and the citizen, and an expired
//! one still does), maybe `client_id`, `post_logout_redirect_uri` and `state`.
//!
//! The rules, without HTTP: the hint is checked against our own keys and issuer; `client_id`
//! must agree with the hint's audience; only a registered post-logout address is followed; and a
//! session ends at once only when the hint names this session's citizen; otherwise the citizen
//! confirms first (a cross-site link must not log anyone out).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::JwkSet;
use josekit::jws::{ES256, JwsVerifier, RS256};
use serde::Deserialize;
use serde_json::Value;

use super::types::ClientId;

/// The parameters, from the query (GET) or the form (POST); all untrusted.
#[derive(Debug, Default, Deserialize)]
pub struct LogoutParams {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
    pub ui_locales: Option<String>,
    pub logout_hint: Option<String>,
    /// Only on our own confirmation form: the session's CSRF token.
    pub csrf: Option<String>,
}

/// What a valid `id_token_hint` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    /// The client the ID token was issued to (`aud`).
    pub client_id: ClientId,
    /// The subject as that client knows it (pairwise by default).
    pub sub: String,
}

/// Why a logout request is refused (with a page, never a redirect).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    /// `id_token_hint` is not an ID token of ours: malformed, unknown key, bad signature,
    /// another issuer, or no audience.
    #[error("id_token_hint is not an ID token of this provider")]
    BadHint,
    /// `client_id` names another client than the hint's audience.
    #[error("client_id differs from the audience of id_token_hint")]
    ClientMismatch,
    /// `client_id` names no registered client.
    #[error("unknown client")]
    UnknownClient,
    /// `post_logout_redirect_uri` is not registered for the client (or no client is named).
    #[error("post_logout_redirect_uri is not registered for this client")]
    UnregisteredRedirect,
}

/// Longest hint we look at (an ID token with claims is a few kilobytes).
const MAX_HINT_LEN: usize = 16 * 1024;

/// Checks an `id_token_hint`: signed by one of our published keys (`jwks`), issued by us. Its
/// expiry is not checked: a relying party logs out with the ID token it kept, often expired.
pub fn verify_hint(jwks: &str, issuer: &str, token: &str) -> Result<IdTokenHint, LogoutError> {
    let bad = |_| LogoutError::BadHint;
    if token.len() > MAX_HINT_LEN || token.split('.').count() != 3 {
        return Err(LogoutError::BadHint);
    }
    let header_part = token.split('.').next().unwrap_or_default();
    let header: Value = URL_SAFE_NO_PAD
        .decode(header_part)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(LogoutError::BadHint)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    let kid = header
        .get("kid")
        .and_then(Value::as_str)
        .ok_or(LogoutError::BadHint)?;
    let keys = JwkSet::from_bytes(jwks.as_bytes()).map_err(bad)?;
    let key = keys
        .get(kid)
        .into_iter()
        .find(|k| k.algorithm() == Some(alg))
        .ok_or(LogoutError::BadHint)?;
    let verifier: Box<dyn JwsVerifier> = match alg {
        "ES256" => Box::new(ES256.verifier_from_jwk(key).map_err(bad)?),
        "RS256" => Box::new(RS256.verifier_from_jwk(key).map_err(bad)?),
        _ => return Err(LogoutError::BadHint),
    };
    let (payload, _) = josekit::jwt::decode_with_verifier(token, verifier.as_ref()).map_err(bad)?;
    if payload.issuer() != Some(issuer) {
        return Err(LogoutError::BadHint);
    }
    let audience = match payload.audience() {
        Some(aud) if aud.len() == 1 => aud[0].to_string(),
        _ => return Err(LogoutError::BadHint),
    };
    let client_id = ClientId::parse(&audience).ok_or(LogoutError::BadHint)?;
    let sub = payload
        .subject()
        .filter(|s| !s.is_empty())
        .ok_or(LogoutError::BadHint)?
        .to_string();
    Ok(IdTokenHint { client_id, sub })
}

/// The client a logout request names: the hint's audience, or `client_id`; both must agree.
pub fn client_of(
    hint: Option<&IdTokenHint>,
    client_id: Option<&str>,
) -> Result<Option<ClientId>, LogoutError> {
    let asked = match client_id.filter(|c| !c.is_empty()) {
        Some(raw) => Some(ClientId::parse(raw).ok_or(LogoutError::UnknownClient)?),
        None => None,
    };
    match (hint, asked) {
        (Some(h), Some(c)) if h.client_id != c => Err(LogoutError::ClientMismatch),
        (Some(h), _) => Ok(Some(h.client_id.clone())),
        (None, c) => Ok(c),
    }
}

/// What to do with the browser's session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutDecision {
    /// No one is logged in here: nothing to end.
    NothingToEnd,
    /// End the session now.
    End,
    /// Ask the citizen first (POST form with CSRF).
    Confirm,
}

/// Decides. `session_sub` is the subject the hint's client knows this session's citizen by
/// (`None`: nobody logged in); `confirmed` is a valid confirmation form.
pub fn decide(
    session_sub: Option<&str>,
    hint: Option<&IdTokenHint>,
    confirmed: bool,
) -> LogoutDecision {
    let Some(sub) = session_sub else {
        return LogoutDecision::NothingToEnd;
    };
    if confirmed || hint.is_some_and(|h| h.sub == sub) {
        LogoutDecision::End
    } else {
        LogoutDecision::Confirm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jws::JwsHeader;
    use josekit::jwt::JwtPayload;

    struct Keys {
        jwks: String,
        signer: josekit::jws::alg::ecdsa::EcdsaJwsSigner,
    }

    fn keys(kid: &str) -> Keys {
        let pair = ES256.generate_key_pair().unwrap();
        let mut public = pair.to_jwk_public_key();
        public.set_key_id(kid);
        public.set_algorithm("ES256");
        let jwks = serde_json::json!({ "keys": [public.as_ref()] }).to_string();
        let mut private = pair.to_jwk_private_key();
        private.set_key_id(kid);
        Keys {
            jwks,
            signer: ES256.signer_from_jwk(&private).unwrap(),
        }
    }

    fn token(keys: &Keys, kid: &str, iss: &str, aud: &str, exp: i64) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(kid);
        let mut payload = JwtPayload::new();
        payload.set_issuer(iss);
        payload.set_subject("pairwise-sub");
        payload.set_audience(vec![aud]);
        payload
            .set_claim("exp", Some(serde_json::json!(exp)))
            .unwrap();
        josekit::jwt::encode_with_signer(&payload, &header, &keys.signer).unwrap()
    }

    const ISS: &str = "https://id.example.vn";

    #[test]
    fn our_hint_is_accepted_even_expired() {
        let k = keys("k1");
        let hint = verify_hint(&k.jwks, ISS, &token(&k, "k1", ISS, "demo-portal", 1)).unwrap();
        assert_eq!(hint.client_id.as_str(), "demo-portal");
        assert_eq!(hint.sub, "pairwise-sub");
    }

    #[test]
    fn another_issuer_another_key_or_a_tampered_token_is_refused() {
        let ours = keys("k1");
        let theirs = keys("k1");
        let unknown = keys("k2");
        let good = token(&ours, "k1", ISS, "demo-portal", 1);
        for (case, bad) in [
            token(&ours, "k1", "https://evil.example", "demo-portal", 1),
            token(&theirs, "k1", ISS, "demo-portal", 1),
            token(&unknown, "k2", ISS, "demo-portal", 1),
            format!("{}x", &good[..good.len() - 1]),
            good.replacen('.', "..", 1),
            "not a jwt".to_string(),
            String::new(),
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(
                verify_hint(&ours.jwks, ISS, bad),
                Err(LogoutError::BadHint),
                "case {case}: {bad}"
            );
        }
    }

    #[test]
    fn client_id_must_agree_with_the_hint() {
        let hint = IdTokenHint {
            client_id: ClientId::parse("demo-portal").unwrap(),
            sub: "s".into(),
        };
        assert_eq!(
            client_of(Some(&hint), Some("demo-bank")),
            Err(LogoutError::ClientMismatch)
        );
        assert_eq!(
            client_of(Some(&hint), None),
            Ok(Some(hint.client_id.clone()))
        );
        assert_eq!(
            client_of(None, Some("demo-bank"))
                .unwrap()
                .unwrap()
                .as_str(),
            "demo-bank"
        );
        assert_eq!(client_of(None, None), Ok(None));
    }

    #[test]
    fn only_a_hint_for_this_citizen_or_a_confirmation_ends_the_session() {
        let hint = IdTokenHint {
            client_id: ClientId::parse("demo-portal").unwrap(),
            sub: "alice".into(),
        };
        assert_eq!(
            decide(Some("alice"), Some(&hint), false),
            LogoutDecision::End
        );
        assert_eq!(
            decide(Some("bob"), Some(&hint), false),
            LogoutDecision::Confirm
        );
        assert_eq!(decide(Some("bob"), None, false), LogoutDecision::Confirm);
        assert_eq!(decide(Some("bob"), None, true), LogoutDecision::End);
        assert_eq!(decide(None, None, false), LogoutDecision::NothingToEnd);
    }
}
