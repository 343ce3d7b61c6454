//! ID token validation (OpenID Connect Core 3.1.3.7). `openidconnect`'s verifier checks the
//! JOSE header, `iss`, `aud`, the signature against an explicit ES256/RS256 allow-list, `exp`
//! and `nonce`; the checks it leaves to the client follow: `azp`, `iat`, `at_hash`, `acr`
//! against the level asked for (fail closed) and `auth_time` against `max_age`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    AccessToken, AccessTokenHash, ClaimsVerificationError, ClientId, IssuerUrl, Nonce,
    SignatureVerificationError,
};
use serde_json::{Map, Value};
use vneid_contract::Level;

use crate::error::{IdTokenError, SdkError};

/// Clock skew tolerated on `exp`, `iat`, `auth_time` and `max_age`, in seconds.
pub(crate) const LEEWAY: i64 = 60;

/// The only signature algorithms accepted: never `none`, never a MAC (HS*).
const ALLOWED_ALGS: [CoreJwsSigningAlgorithm; 2] = [
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
];

/// What this login expects of its ID token.
pub(crate) struct Expected<'a> {
    pub issuer: &'a IssuerUrl,
    pub client_id: &'a ClientId,
    pub nonce: &'a Nonce,
    /// The level asked for (`None`: a provider without VNeID levels).
    pub level: Option<Level>,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// Whether the provider issues `at_hash` (it lists it in `claims_supported`).
    pub at_hash_required: bool,
    /// Now, in Unix seconds.
    pub now: i64,
}

/// An ID token that passed every check.
#[derive(Debug)]
pub(crate) struct VerifiedIdToken {
    pub subject: String,
    pub level: Option<Level>,
    pub auth_time: Option<i64>,
    pub methods: Vec<String>,
    /// The compact serialization, as evidence.
    pub raw: String,
    /// Every claim of the payload.
    pub payload: Map<String, Value>,
}

/// Validates `token` with `keys`.
pub(crate) fn verify(
    token: &CoreIdToken,
    access_token: &AccessToken,
    keys: &CoreJsonWebKeySet,
    expected: &Expected<'_>,
) -> Result<VerifiedIdToken, SdkError> {
    let invalid = SdkError::InvalidIdToken;
    let raw = token.to_string();
    let header = Header::of(&raw);
    // exp is compared with `now - LEEWAY`: a token that expired within the skew still passes.
    // An impossible time fails closed (everything is expired).
    let skewed = chrono::DateTime::from_timestamp(expected.now - LEEWAY, 0)
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC);
    // A public-client verifier: no client secret, so no HMAC key can ever match.
    let verifier = CoreIdTokenVerifier::new_public_client(
        expected.client_id.clone(),
        expected.issuer.clone(),
        keys.clone(),
    )
    .set_allowed_algs(ALLOWED_ALGS)
    .set_time_fn(move || skewed);
    let claims = token
        .claims(&verifier, expected.nonce)
        .map_err(|e| invalid(problem(e, &header)))?;

    if let Some(azp) = claims.authorized_party()
        && azp.as_str() != expected.client_id.as_str()
    {
        return Err(invalid(IdTokenError::AuthorizedParty {
            azp: azp.as_str().to_string(),
        }));
    }
    if claims.issue_time().timestamp() > expected.now + LEEWAY {
        return Err(invalid(IdTokenError::IssuedInFuture));
    }
    match claims.access_token_hash() {
        Some(received) => {
            let alg = token
                .signing_alg()
                .map_err(|e| invalid(IdTokenError::BadSignature(Box::new(e))))?;
            let key = token
                .signing_key(&verifier)
                .map_err(|e| invalid(IdTokenError::BadSignature(Box::new(e))))?;
            let computed = AccessTokenHash::from_token(access_token, alg, key)
                .map_err(|e| invalid(IdTokenError::BadSignature(Box::new(e))))?;
            if computed.as_str() != received.as_str() {
                return Err(invalid(IdTokenError::AccessTokenHashMismatch));
            }
        }
        None if expected.at_hash_required => {
            return Err(invalid(IdTokenError::AccessTokenHashMissing));
        }
        None => {}
    }
    let level = check_level(
        claims.auth_context_ref().map(|acr| acr.as_str()),
        expected.level,
    )?;
    // The contract puts auth_time in every ID token: required whenever a level was asked.
    let auth_time = check_auth_time(
        claims.auth_time().map(|t| t.timestamp()),
        expected.level.is_some(),
        expected.max_age,
        expected.now,
    )?;
    let subject = claims.subject().as_str().to_string();
    let methods = claims
        .auth_method_refs()
        .map(|m| m.iter().map(|m| m.as_str().to_string()).collect())
        .unwrap_or_default();
    let payload = payload(&raw).map_err(invalid)?;
    Ok(VerifiedIdToken {
        subject,
        level,
        auth_time,
        methods,
        raw,
        payload,
    })
}

/// Whether the error is an unknown `kid`, which a refetch of the keys may cure.
pub(crate) fn is_unknown_key(error: &SdkError) -> bool {
    matches!(
        error,
        SdkError::InvalidIdToken(IdTokenError::UnknownKey { .. })
    )
}

/// The level reached, which must satisfy the level asked for: a missing or unknown `acr` is a
/// failure, never a pass.
pub(crate) fn check_level(
    acr: Option<&str>,
    required: Option<Level>,
) -> Result<Option<Level>, SdkError> {
    let reached = acr.and_then(Level::from_acr);
    match required {
        Some(required) if !reached.is_some_and(|r| r.satisfies(required)) => {
            Err(SdkError::LevelTooLow { required, reached })
        }
        _ => Ok(reached),
    }
}

/// `auth_time`: present when `required` or when `max_age` was asked, not in the future, and
/// no older than `max_age`.
pub(crate) fn check_auth_time(
    auth_time: Option<i64>,
    required: bool,
    max_age: Option<i64>,
    now: i64,
) -> Result<Option<i64>, SdkError> {
    let Some(at) = auth_time else {
        return if required || max_age.is_some() {
            Err(SdkError::InvalidIdToken(IdTokenError::AuthTimeMissing))
        } else {
            Ok(None)
        };
    };
    if at > now + LEEWAY {
        return Err(SdkError::InvalidIdToken(IdTokenError::AuthTimeInFuture));
    }
    if let Some(max_age) = max_age {
        let age = now - at;
        if age > max_age.saturating_add(LEEWAY) {
            return Err(SdkError::LoginTooOld { age, max_age });
        }
    }
    Ok(Some(at))
}

/// `alg` and `kid` of the JOSE header, for error messages only (never trusted).
#[derive(Debug, Default)]
struct Header {
    alg: String,
    kid: Option<String>,
}

impl Header {
    fn of(jwt: &str) -> Header {
        let json = jwt
            .split('.')
            .next()
            .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok());
        let field = |name: &str| {
            json.as_ref()
                .and_then(|h| h.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        Header {
            alg: field("alg").unwrap_or_default(),
            kid: field("kid"),
        }
    }
}

/// Maps the verifier's error to a typed problem, keeping it as the source.
fn problem(error: ClaimsVerificationError, header: &Header) -> IdTokenError {
    use ClaimsVerificationError as C;
    use SignatureVerificationError as S;
    match &error {
        C::Expired(_) => IdTokenError::Expired(Box::new(error)),
        C::InvalidAudience(_) => IdTokenError::Audience(Box::new(error)),
        C::InvalidIssuer(_) => IdTokenError::Issuer(Box::new(error)),
        C::InvalidNonce(_) => IdTokenError::Nonce(Box::new(error)),
        C::SignatureVerification(S::NoMatchingKey) => IdTokenError::UnknownKey {
            kid: header.kid.clone(),
        },
        C::SignatureVerification(S::DisallowedAlg(_) | S::UnsupportedAlg(_) | S::NoSignature) => {
            IdTokenError::DisallowedAlgorithm {
                alg: header.alg.clone(),
            }
        }
        C::SignatureVerification(_) => IdTokenError::BadSignature(Box::new(error)),
        _ => IdTokenError::Malformed(Box::new(error)),
    }
}

/// The payload of a JWT whose signature was verified.
fn payload(jwt: &str) -> Result<Map<String, Value>, IdTokenError> {
    let malformed = |reason: &str| IdTokenError::Malformed(reason.to_string().into());
    let part = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| malformed("no payload"))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| malformed("payload is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(malformed("payload is not a JSON object")),
    }
}

#[cfg(test)]
mod tests;
