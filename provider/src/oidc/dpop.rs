//! DPoP (RFC 9449): proof of possession of a key for access and refresh tokens.
//!
//! A client sends a `DPoP` header, a JWT signed with its key (`typ: dpop+jwt`, ES256 or PS256,
//! the public key in the `jwk` header), naming the method and URL of the request (`htm`,
//! `htu`, compared without query and fragment), a single-use `jti`, its `iat`, and, at a
//! resource, the hash of the access token (`ath`). Tokens issued with a proof are bound to the
//! key's SHA-256 thumbprint (`cnf.jkt`, RFC 7638) and refused without a proof by that key.
//!
//! Server nonces (RFC 9449 8, 9) are always required, at PAR, the token endpoint and UserInfo
//! alike, for every client: a proof without the current nonce is answered `use_dpop_nonce`
//! with a fresh `DPoP-Nonce` header, which every response of these endpoints carries. A nonce
//! is an HMAC of the current five-minute window under a server secret (nothing stored, the
//! same in every process); the current and the previous window are accepted. So a proof
//! cannot be made ahead of time, and its `jti` is kept only as long as its `iat` is accepted.

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsVerifier, PS256};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::error::{BearerError, ErrorCode, OAuthError};
use crate::state::AppState;
use crate::store::TokenRow;

/// The JWS algorithms accepted for proofs (and listed in discovery).
pub const ALGS: [&str; 2] = ["ES256", "PS256"];
/// How old a proof's `iat` may be, in seconds.
pub const MAX_AGE: i64 = 300;
/// How far ahead of our clock a proof's `iat` may be, in seconds.
pub const MAX_AHEAD: i64 = 60;
/// The length of a nonce window, in seconds.
const NONCE_WINDOW: i64 = 300;
/// The longest proof accepted, in bytes (an RSA-4096 key and signature fit).
const MAX_PROOF_LEN: usize = 8192;
/// The longest `jti` accepted.
const MAX_JTI_LEN: usize = 256;
/// The response header carrying the server nonce.
pub static NONCE_HEADER: HeaderName = HeaderName::from_static("dpop-nonce");

/// Why a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// Missing, malformed, badly signed, for another request, too old, replayed.
    #[error("{0}")]
    Invalid(&'static str),
    /// Without the current server nonce.
    #[error("the DPoP proof must carry the server nonce from the DPoP-Nonce header")]
    UseNonce,
}

impl From<DpopError> for OAuthError {
    fn from(err: DpopError) -> Self {
        match err {
            DpopError::Invalid(why) => OAuthError::new(ErrorCode::InvalidDpopProof, why),
            DpopError::UseNonce => OAuthError::new(ErrorCode::UseDpopNonce, err.to_string()),
        }
    }
}

/// A proof whose signature and claims were checked; its `jti` is not yet recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// The SHA-256 JWK thumbprint of its key (RFC 7638), base64url.
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
    pub nonce: Option<String>,
}

/// What the proof must be for.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    /// The HTTP method, upper case.
    pub htm: &'a str,
    /// The URL of the endpoint.
    pub htu: &'a str,
    /// At a resource, the access token presented with the proof (`ath`).
    pub access_token: Option<&'a str>,
    pub now: i64,
}

fn invalid(why: &'static str) -> DpopError {
    DpopError::Invalid(why)
}

/// Checks a proof's form, signature and claims against the request (not the nonce, not the
/// replay of its `jti`).
pub fn check(jwt: &str, expected: &Expected<'_>) -> Result<Proof, DpopError> {
    if jwt.len() > MAX_PROOF_LEN {
        return Err(invalid("the DPoP proof is too long"));
    }
    let header =
        josekit::jwt::decode_header(jwt).map_err(|_| invalid("the DPoP proof is not a JWT"))?;
    if header.claim("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err(invalid("the DPoP proof's typ must be dpop+jwt"));
    }
    let alg = header.claim("alg").and_then(Value::as_str).unwrap_or("");
    if !ALGS.contains(&alg) {
        return Err(invalid("the DPoP proof must be signed with ES256 or PS256"));
    }
    let Some(Value::Object(jwk)) = header.claim("jwk") else {
        return Err(invalid("the DPoP proof's header has no jwk"));
    };
    let jkt = public_thumbprint(jwk, alg)?;
    let key =
        Jwk::from_map(jwk.clone()).map_err(|_| invalid("the DPoP proof's jwk is unusable"))?;
    let verifier: Box<dyn JwsVerifier> = match alg {
        "ES256" => {
            let mut v = ES256
                .verifier_from_jwk(&key)
                .map_err(|_| invalid("the DPoP proof's jwk is unusable"))?;
            v.remove_key_id();
            Box::new(v)
        }
        _ => {
            let mut v = PS256
                .verifier_from_jwk(&key)
                .map_err(|_| invalid("the DPoP proof's jwk is unusable"))?;
            v.remove_key_id();
            Box::new(v)
        }
    };
    let (payload, _) = josekit::jwt::decode_with_verifier(jwt, verifier.as_ref())
        .map_err(|_| invalid("the DPoP proof's signature does not verify with its jwk"))?;
    let claims = payload.claims_set();
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= MAX_JTI_LEN)
        .ok_or_else(|| invalid("the DPoP proof needs a jti"))?;
    if claims.get("htm").and_then(Value::as_str) != Some(expected.htm) {
        return Err(invalid("the DPoP proof is for another HTTP method"));
    }
    let htu = claims
        .get("htu")
        .and_then(Value::as_str)
        .and_then(without_query)
        .ok_or_else(|| invalid("the DPoP proof needs an htu URL"))?;
    if Some(htu) != without_query(expected.htu) {
        return Err(invalid("the DPoP proof is for another URL"));
    }
    // A NumericDate may have a fraction (RFC 7519 2; josekit writes one): it is cut off.
    let iat = claims
        .get("iat")
        .and_then(Value::as_number)
        .and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
        .ok_or_else(|| invalid("the DPoP proof needs an iat"))?;
    if iat > expected.now + MAX_AHEAD {
        return Err(invalid("the DPoP proof is issued in the future"));
    }
    if iat < expected.now - MAX_AGE {
        return Err(invalid("the DPoP proof is too old"));
    }
    if let Some(token) = expected.access_token {
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
        if claims.get("ath").and_then(Value::as_str) != Some(ath.as_str()) {
            return Err(invalid(
                "the DPoP proof's ath is not the hash of the access token",
            ));
        }
    }
    let nonce = match claims.get("nonce") {
        None => None,
        Some(Value::String(n)) => Some(n.clone()),
        Some(_) => return Err(invalid("the DPoP proof's nonce must be a string")),
    };
    Ok(Proof {
        jkt,
        jti: jti.to_string(),
        iat,
        nonce,
    })
}

/// The URL without query and fragment, normalised (RFC 9449 4.3, 9).
fn without_query(raw: &str) -> Option<String> {
    let mut url = url::Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "https" | "http") {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    Some(url.to_string())
}

/// The RFC 7638 thumbprint of a public key fit for `alg`; refuses a private or symmetric key.
fn public_thumbprint(jwk: &Map<String, Value>, alg: &str) -> Result<String, DpopError> {
    const PRIVATE: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];
    if PRIVATE.iter().any(|m| jwk.contains_key(*m)) {
        return Err(invalid("the DPoP proof's jwk must be a public key"));
    }
    let member = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid("the DPoP proof's jwk is incomplete"))
    };
    let kty = member("kty")?;
    let quoted = |v: &str| Value::String(v.to_string()).to_string();
    // Members in lexicographic order, no whitespace (RFC 7638 3).
    let canonical = match (alg, kty) {
        ("ES256", "EC") => {
            if member("crv")? != "P-256" {
                return Err(invalid("an ES256 DPoP key is on P-256"));
            }
            format!(
                r#"{{"crv":"P-256","kty":"EC","x":{},"y":{}}}"#,
                quoted(member("x")?),
                quoted(member("y")?)
            )
        }
        ("PS256", "RSA") => format!(
            r#"{{"e":{},"kty":"RSA","n":{}}}"#,
            quoted(member("e")?),
            quoted(member("n")?)
        ),
        _ => return Err(invalid("the DPoP proof's jwk does not fit its alg")),
    };
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes())))
}

/// The nonce of the window holding `at`.
fn nonce_at(secret: &[u8], at: i64) -> String {
    let window = at.div_euclid(NONCE_WINDOW);
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"vneid dpop nonce ");
    mac.update(&window.to_be_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether `nonce` is the current window's or the previous one's.
fn nonce_fresh(secret: &[u8], nonce: Option<&str>, now: i64) -> bool {
    nonce.is_some_and(|n| {
        [now, now - NONCE_WINDOW]
            .iter()
            .any(|t| crate::secret::equal(n, &nonce_at(secret, *t)))
    })
}

/// The current server nonce.
pub fn nonce(state: &AppState) -> String {
    nonce_at(&state.pairwise_salt, state.now())
}

/// Adds the current `DPoP-Nonce` to a response of the token endpoint or UserInfo.
pub fn with_nonce(state: &AppState, mut response: Response) -> Response {
    if let Ok(value) = HeaderValue::from_str(&nonce(state)) {
        response.headers_mut().insert(NONCE_HEADER.clone(), value);
    }
    response
}

/// The request's DPoP proof, checked with its nonce for `method` at `path`; `None` without a
/// `DPoP` header. Its `jti` is not yet spent: call [`spend`] once the caller is authenticated.
pub fn proof(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    access_token: Option<&str>,
) -> Result<Option<Proof>, DpopError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(invalid("send one DPoP header"));
    }
    let jwt = first
        .to_str()
        .map_err(|_| invalid("the DPoP proof is not a JWT"))?;
    let now = state.now();
    let proof = check(
        jwt,
        &Expected {
            htm: method,
            htu: &state.url(path),
            access_token,
            now,
        },
    )?;
    if !nonce_fresh(&state.pairwise_salt, proof.nonce.as_deref(), now) {
        return Err(DpopError::UseNonce);
    }
    Ok(Some(proof))
}

/// Spends the proof's `jti`: refused if it was used before with this key.
pub async fn spend(state: &AppState, proof: &Proof) -> Result<(), OAuthError> {
    let fresh = state
        .store
        .use_dpop_jti(&proof.jkt, &proof.jti, proof.iat + MAX_AGE + 1)
        .await?;
    if !fresh {
        tracing::warn!("DPoP proof replayed");
        return Err(DpopError::Invalid("the DPoP proof was used already").into());
    }
    Ok(())
}

/// How an access token was presented at a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// `Authorization: Bearer` or the `access_token` form field (RFC 6750).
    Bearer,
    /// `Authorization: DPoP` with a `DPoP` proof (RFC 9449 7.1).
    Dpop,
}

/// The access token from `Authorization: Bearer|DPoP` or, for POST, the `access_token` form
/// field (bearer only).
pub fn presented(headers: &HeaderMap, body: &str) -> Result<(String, Scheme), OAuthError> {
    let header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let from_header = header.and_then(|v| {
        let (scheme, token) = v.split_once(' ')?;
        let scheme = if scheme.eq_ignore_ascii_case("bearer") {
            Scheme::Bearer
        } else if scheme.eq_ignore_ascii_case("dpop") {
            Scheme::Dpop
        } else {
            return None;
        };
        Some((token.trim().to_string(), scheme))
    });
    let from_body = url::form_urlencoded::parse(body.as_bytes())
        .find(|(k, _)| k == "access_token")
        .map(|(_, v)| v.into_owned());
    match (from_header, from_body) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "send the token once, not in header and body",
        )),
        (Some(found), None) => Ok(found),
        (None, Some(t)) => Ok((t, Scheme::Bearer)),
        (None, None) => Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "an access token is required",
        )),
    }
}

/// Whether a token bound to `bound` (or a bearer token) may be used as presented, given the
/// request's proof (already checked against the token's hash): the rule of RFC 9449 7.1.
pub fn allows(
    bound: Option<&str>,
    scheme: Scheme,
    proof: Option<&Proof>,
) -> Result<(), OAuthError> {
    match (bound, scheme, proof) {
        (None, Scheme::Bearer, _) => Ok(()),
        (None, Scheme::Dpop, _) => Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token is not DPoP-bound; present it as a Bearer token",
        )),
        (Some(_), Scheme::Bearer, _) => Err(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token is DPoP-bound: present it with the DPoP scheme and a proof",
        )),
        (Some(_), Scheme::Dpop, None) => Err(DpopError::Invalid(
            "a DPoP proof is required with a DPoP-bound access token",
        )
        .into()),
        (Some(jkt), Scheme::Dpop, Some(proof)) if proof.jkt != jkt => Err(DpopError::Invalid(
            "the DPoP proof is signed by another key than the token's",
        )
        .into()),
        (Some(_), Scheme::Dpop, Some(_)) => Ok(()),
    }
}

/// The live access token presented to a resource at `path`, with its proof checked and spent
/// when it is (or claims to be) DPoP-bound.
pub async fn resource_token(
    state: &AppState,
    method: &str,
    headers: &HeaderMap,
    body: &str,
    path: &str,
) -> Result<TokenRow, Challenge> {
    let (token, scheme) = presented(headers, body).map_err(|e| Challenge::new(e, false))?;
    let dpop = scheme == Scheme::Dpop;
    let row = state
        .store
        .access_token(&crate::secret::hash(&token), state.now())
        .await
        .map_err(|e| Challenge::new(e.into(), dpop))?
        .ok_or_else(|| {
            Challenge::new(
                OAuthError::new(
                    ErrorCode::InvalidToken,
                    "the access token is invalid, expired or revoked",
                ),
                dpop,
            )
        })?;
    let bound = row.dpop_jkt.is_some();
    let challenge = |e: OAuthError| Challenge::new(e, dpop || bound);
    let proof = if dpop {
        proof(state, headers, method, path, Some(&token)).map_err(|e| challenge(e.into()))?
    } else {
        None
    };
    allows(row.dpop_jkt.as_deref(), scheme, proof.as_ref()).map_err(challenge)?;
    if let Some(proof) = &proof {
        spend(state, proof).await.map_err(challenge)?;
    }
    Ok(row)
}

/// A protected-resource error with the challenge that fits: `DPoP` (RFC 9449 7.1) when the
/// token is or was presented as DPoP-bound, `Bearer` (RFC 6750 3) otherwise.
pub struct Challenge {
    pub error: OAuthError,
    pub dpop: bool,
}

impl Challenge {
    pub fn new(error: OAuthError, dpop: bool) -> Self {
        Challenge { error, dpop }
    }
}

impl IntoResponse for Challenge {
    fn into_response(self) -> Response {
        if !self.dpop {
            return BearerError(self.error).into_response();
        }
        let status = match self.error.code {
            ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        let challenge = format!(
            "DPoP algs=\"{}\", error=\"{}\", error_description=\"{}\"",
            ALGS.join(" "),
            self.error.code.as_str(),
            self.error.description.replace('"', "'")
        );
        let body = json!({
            "error": self.error.code.as_str(),
            "error_description": self.error.description,
        });
        let mut response = (status, Json(body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use josekit::jws::JwsHeader;
    use josekit::jwt::JwtPayload;

    use super::*;

    const HTU: &str = "https://id.example/token";
    const NOW: i64 = 1_800_000_000;

    struct Key {
        pair: Jwk,
        alg: &'static str,
    }

    fn es256() -> Key {
        Key {
            pair: ES256.generate_key_pair().unwrap().to_jwk_key_pair(),
            alg: "ES256",
        }
    }

    impl Key {
        fn public(&self) -> Value {
            serde_json::to_value(self.pair.to_public_key().unwrap().as_ref()).unwrap()
        }

        fn sign(&self, jwk: Value, claims: Value) -> String {
            let mut header = JwsHeader::new();
            header.set_token_type("dpop+jwt");
            header.set_claim("jwk", Some(jwk)).unwrap();
            let mut payload = JwtPayload::new();
            for (k, v) in claims.as_object().unwrap() {
                payload.set_claim(k, Some(v.clone())).unwrap();
            }
            match self.alg {
                "ES256" => josekit::jwt::encode_with_signer(
                    &payload,
                    &header,
                    &ES256.signer_from_jwk(&self.pair).unwrap(),
                ),
                _ => josekit::jwt::encode_with_signer(
                    &payload,
                    &header,
                    &PS256.signer_from_jwk(&self.pair).unwrap(),
                ),
            }
            .unwrap()
        }

        fn proof(&self, claims: Value) -> String {
            self.sign(self.public(), claims)
        }
    }

    fn claims() -> Value {
        json!({ "jti": "j1", "htm": "POST", "htu": HTU, "iat": NOW })
    }

    fn expected() -> Expected<'static> {
        Expected {
            htm: "POST",
            htu: HTU,
            access_token: None,
            now: NOW,
        }
    }

    fn with(claims: Value, name: &str, value: Value) -> Value {
        let mut c = claims;
        c[name] = value;
        c
    }

    #[test]
    fn a_good_proof_gives_the_thumbprint_of_its_key() {
        let key = es256();
        let proof = check(&key.proof(claims()), &expected()).unwrap();
        assert_eq!(proof.jti, "j1");
        assert_eq!(proof.iat, NOW);
        // RFC 7638 3.1: the thumbprint of the RSA key of the example.
        let rfc = json!({"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29",
            "n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"});
        assert_eq!(
            public_thumbprint(rfc.as_object().unwrap(), "PS256").unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        let mut jwk = key.public();
        jwk["kid"] = json!("ignored");
        assert_eq!(
            public_thumbprint(jwk.as_object().unwrap(), "ES256").unwrap(),
            proof.jkt
        );
    }

    #[test]
    fn htu_is_compared_without_query_and_fragment() {
        let key = es256();
        let c = with(claims(), "htu", json!("https://ID.example:443/token?x=1#f"));
        assert!(check(&key.proof(c), &expected()).is_ok());
        let c = with(claims(), "htu", json!("https://id.example/userinfo"));
        assert_eq!(
            check(&key.proof(c), &expected()).unwrap_err(),
            invalid("the DPoP proof is for another URL")
        );
        let c = with(claims(), "htm", json!("GET"));
        assert_eq!(
            check(&key.proof(c), &expected()).unwrap_err(),
            invalid("the DPoP proof is for another HTTP method")
        );
    }

    #[test]
    fn iat_must_be_recent() {
        let key = es256();
        for (iat, ok) in [
            (NOW - MAX_AGE, true),
            (NOW - MAX_AGE - 1, false),
            (NOW + MAX_AHEAD, true),
            (NOW + MAX_AHEAD + 1, false),
        ] {
            let c = with(claims(), "iat", json!(iat));
            assert_eq!(check(&key.proof(c), &expected()).is_ok(), ok, "iat {iat}");
        }
    }

    #[test]
    fn ath_must_hash_the_access_token() {
        let key = es256();
        let mut at = expected();
        at.access_token = Some("token-1");
        let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(b"token-1"));
        assert!(check(&key.proof(with(claims(), "ath", json!(ath))), &at).is_ok());
        let other = URL_SAFE_NO_PAD.encode(Sha256::digest(b"token-2"));
        assert!(check(&key.proof(with(claims(), "ath", json!(other))), &at).is_err());
        assert!(check(&key.proof(claims()), &at).is_err());
    }

    #[test]
    fn private_keys_wrong_types_and_other_signers_are_refused() {
        let key = es256();
        let private = serde_json::to_value(key.pair.as_ref()).unwrap();
        assert_eq!(
            check(&key.sign(private, claims()), &expected()).unwrap_err(),
            invalid("the DPoP proof's jwk must be a public key")
        );
        // Signed by one key, naming another.
        let other = es256();
        assert!(check(&key.sign(other.public(), claims()), &expected()).is_err());
        // typ other than dpop+jwt.
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        header.set_claim("jwk", Some(key.public())).unwrap();
        let mut payload = JwtPayload::new();
        for (k, v) in claims().as_object().unwrap() {
            payload.set_claim(k, Some(v.clone())).unwrap();
        }
        let jwt = josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &ES256.signer_from_jwk(&key.pair).unwrap(),
        )
        .unwrap();
        assert!(check(&jwt, &expected()).is_err());
        // alg none.
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let none = format!(
            "{}.{}.",
            b64(&json!({"typ":"dpop+jwt","alg":"none","jwk":key.public()})),
            b64(&claims())
        );
        assert!(check(&none, &expected()).is_err());
    }

    #[test]
    fn nonces_last_two_windows() {
        let secret = b"secret";
        let n = nonce_at(secret, NOW);
        assert!(nonce_fresh(secret, Some(&n), NOW));
        assert!(nonce_fresh(secret, Some(&n), NOW + NONCE_WINDOW));
        assert!(!nonce_fresh(secret, Some(&n), NOW + 2 * NONCE_WINDOW));
        assert!(!nonce_fresh(b"other", Some(&n), NOW));
        assert!(!nonce_fresh(secret, None, NOW));
    }

    #[test]
    fn bound_tokens_need_the_dpop_scheme_and_their_key() {
        let proof = |jkt: &str| Proof {
            jkt: jkt.into(),
            jti: "j".into(),
            iat: NOW,
            nonce: None,
        };
        assert!(allows(None, Scheme::Bearer, None).is_ok());
        assert!(allows(None, Scheme::Dpop, Some(&proof("a"))).is_err());
        assert!(allows(Some("a"), Scheme::Bearer, None).is_err());
        assert!(allows(Some("a"), Scheme::Dpop, None).is_err());
        assert!(allows(Some("a"), Scheme::Dpop, Some(&proof("b"))).is_err());
        assert!(allows(Some("a"), Scheme::Dpop, Some(&proof("a"))).is_ok());
    }
}
