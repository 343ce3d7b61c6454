//! Software statements (RFC 7591 2.3): client metadata signed by the operator, the second gate
//! of the registration endpoint beside the initial access token. The statement is a JWT signed
//! by the operator's key (ES256, PS256 or RS256; never `alg: none`), with `iss` the operator
//! (`[clients] software_statement_issuer`, by default the provider's issuer), `iat`, and `exp`
//! and `nbf` checked when present. Its claims win over the same fields of the JSON body, and the
//! result is validated as any registration. `vneid-provider software-statement` signs one.

use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{ES256, JwsHeader, JwsSigner, JwsVerifier, PS256, RS256};
use josekit::jwt::JwtPayload;
use serde_json::{Map, Value};

use super::error::{ErrorCode, OAuthError};

/// The demo operator's public key (its private key is `examples/registry/demo-operator-key.pem`,
/// public, for the demo only).
pub const DEMO_OPERATOR_JWKS: &str =
    include_str!("../../../examples/registry/demo-operator-jwks.json");

/// Clock skew tolerated on `iat`, `nbf` and `exp`, in seconds.
const SKEW: i64 = 60;

/// The claims of the JWT that are not client metadata.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

/// Why a software statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// Not a well-formed, signed, current JWT (`invalid_software_statement`).
    #[error("{0}")]
    Invalid(&'static str),
    /// Well formed, but not the operator's (`unapproved_software_statement`).
    #[error("{0}")]
    Unapproved(&'static str),
}

impl From<StatementError> for OAuthError {
    fn from(err: StatementError) -> Self {
        match err {
            StatementError::Invalid(why) => {
                OAuthError::new(ErrorCode::InvalidSoftwareStatement, why)
            }
            StatementError::Unapproved(why) => {
                OAuthError::new(ErrorCode::UnapprovedSoftwareStatement, why)
            }
        }
    }
}

/// The operator's verification keys.
pub struct OperatorKeys(Vec<(&'static str, Option<String>, Box<dyn JwsVerifier>)>);

impl std::fmt::Debug for OperatorKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(alg, kid, _)| (alg, kid)))
            .finish()
    }
}

impl OperatorKeys {
    /// Reads a public key: a PEM (P-256 or RSA) or a JWK or JWKS document, given inline or as
    /// the path of a file that holds it.
    pub fn parse(spec: &str) -> Result<OperatorKeys, String> {
        let text = spec.trim();
        let text = if text.starts_with("-----BEGIN") || text.starts_with('{') {
            text.to_string()
        } else {
            std::fs::read_to_string(text)
                .map_err(|e| format!("the software statement key `{text}`: {e}"))?
        };
        let text = text.trim();
        let mut keys = Vec::new();
        if text.starts_with("-----BEGIN") {
            if text.contains("PRIVATE KEY") {
                return Err("the software statement key must be the operator's public key".into());
            }
            for alg in ["ES256", "PS256", "RS256"] {
                if let Some(v) = pem_verifier(alg, text) {
                    keys.push((alg, None, v));
                }
            }
        } else {
            let value: Value = serde_json::from_str(text)
                .map_err(|e| format!("the software statement key is not JSON: {e}"))?;
            let set = if value.get("keys").is_some() {
                JwkSet::from_bytes(text.as_bytes()).map_err(|e| e.to_string())?
            } else {
                let mut set = JwkSet::new();
                set.push_key(Jwk::from_bytes(text.as_bytes()).map_err(|e| e.to_string())?);
                set
            };
            for key in set.keys() {
                if key.parameter("d").is_some() || key.parameter("k").is_some() {
                    return Err(
                        "the software statement key must be the operator's public key".into(),
                    );
                }
                if key.key_use().is_some_and(|u| u != "sig") {
                    continue;
                }
                for alg in ["ES256", "PS256", "RS256"] {
                    if key.algorithm().is_some_and(|a| a != alg) {
                        continue;
                    }
                    if let Some(v) = jwk_verifier(alg, key) {
                        keys.push((alg, key.key_id().map(str::to_string), v));
                    }
                }
            }
        }
        if keys.is_empty() {
            return Err("the software statement key holds no P-256 or RSA public key".into());
        }
        Ok(OperatorKeys(keys))
    }
}

fn pem_verifier(alg: &str, pem: &str) -> Option<Box<dyn JwsVerifier>> {
    Some(match alg {
        "ES256" => Box::new(ES256.verifier_from_pem(pem).ok()?),
        "PS256" => Box::new(PS256.verifier_from_pem(pem).ok()?),
        "RS256" => Box::new(RS256.verifier_from_pem(pem).ok()?),
        _ => return None,
    })
}

/// A verifier for `key`, its own `kid` check off (the key was chosen by `kid` already).
fn jwk_verifier(alg: &str, key: &Jwk) -> Option<Box<dyn JwsVerifier>> {
    Some(match alg {
        "ES256" => {
            let mut v = ES256.verifier_from_jwk(key).ok()?;
            v.remove_key_id();
            Box::new(v)
        }
        "PS256" => {
            let mut v = PS256.verifier_from_jwk(key).ok()?;
            v.remove_key_id();
            Box::new(v)
        }
        "RS256" => {
            let mut v = RS256.verifier_from_jwk(key).ok()?;
            v.remove_key_id();
            Box::new(v)
        }
        _ => return None,
    })
}

/// The operator's keys in force: the configured ones, or in demo mode the demo operator's;
/// `Ok(None)` when software statements are off.
pub fn operator_keys(config: &crate::config::Config) -> Result<Option<OperatorKeys>, String> {
    match config
        .clients
        .software_statement_key
        .as_deref()
        .filter(|k| !k.trim().is_empty())
    {
        Some(spec) => OperatorKeys::parse(spec).map(Some),
        None if config.demo => OperatorKeys::parse(DEMO_OPERATOR_JWKS).map(Some),
        None => Ok(None),
    }
}

/// Whether software statements are accepted (a key is configured, or demo mode).
pub fn enabled(config: &crate::config::Config) -> bool {
    config.demo
        || config
            .clients
            .software_statement_key
            .as_deref()
            .is_some_and(|k| !k.trim().is_empty())
}

/// Verifies a statement: signed by one of `keys`, from `issuer`, current at `now`. Returns the
/// metadata it carries (its JWT claims removed).
pub fn verify(
    jwt: &str,
    keys: &OperatorKeys,
    issuer: &str,
    now: i64,
) -> Result<Map<String, Value>, StatementError> {
    let header = josekit::jwt::decode_header(jwt)
        .map_err(|_| StatementError::Invalid("the software statement is not a JWT"))?;
    let alg = header.claim("alg").and_then(Value::as_str).unwrap_or("");
    if !matches!(alg, "ES256" | "PS256" | "RS256") {
        return Err(StatementError::Invalid(
            "the software statement must be signed with ES256, PS256 or RS256 (never alg none)",
        ));
    }
    let kid = header.claim("kid").and_then(Value::as_str);
    let payload = keys
        .0
        .iter()
        .filter(|(a, _, _)| *a == alg)
        .filter(|(_, k, _)| match (kid, k) {
            (Some(kid), Some(k)) => kid == k,
            _ => true,
        })
        .find_map(|(_, _, v)| josekit::jwt::decode_with_verifier(jwt, v.as_ref()).ok())
        .map(|(payload, _)| payload)
        .ok_or(StatementError::Unapproved(
            "the software statement is not signed by the operator's key",
        ))?;
    let claims = payload.claims_set().clone();
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err(StatementError::Unapproved(
            "the software statement is not from the operator (iss)",
        ));
    }
    let number = |name: &str| -> Result<Option<i64>, StatementError> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or(StatementError::Invalid(
                "the software statement's iat, nbf and exp must be whole numbers",
            )),
        }
    };
    let iat = number("iat")?.ok_or(StatementError::Invalid("the software statement has no iat"))?;
    if iat > now + SKEW {
        return Err(StatementError::Invalid(
            "the software statement is issued in the future",
        ));
    }
    if number("nbf")?.is_some_and(|nbf| nbf > now + SKEW) {
        return Err(StatementError::Invalid(
            "the software statement is not valid yet",
        ));
    }
    if number("exp")?.is_some_and(|exp| exp + SKEW <= now) {
        return Err(StatementError::Invalid(
            "the software statement has expired",
        ));
    }
    Ok(claims
        .into_iter()
        .filter(|(name, _)| !JWT_CLAIMS.contains(&name.as_str()))
        .collect())
}

/// The registration body with the statement's metadata over it (RFC 7591 2.3: the statement's
/// values win).
pub fn merge(mut body: Map<String, Value>, statement: Map<String, Value>) -> Map<String, Value> {
    body.remove("software_statement");
    body.extend(statement);
    body
}

/// Signs `metadata` as a software statement from `issuer` with the operator's private key
/// (PEM: P-256 signs ES256, RSA PS256), valid `lifetime` seconds from `now` (no `exp` when
/// `None`).
pub fn sign(
    private_key_pem: &str,
    key_id: Option<&str>,
    issuer: &str,
    metadata: &Map<String, Value>,
    now: i64,
    lifetime: Option<i64>,
) -> Result<String, String> {
    if let Some(name) = JWT_CLAIMS.iter().find(|c| metadata.contains_key(**c)) {
        return Err(format!(
            "the metadata holds `{name}`, which the statement sets itself"
        ));
    }
    if metadata.contains_key("software_statement") {
        return Err("the metadata holds a software_statement".into());
    }
    let signer: Box<dyn JwsSigner> = match ES256.signer_from_pem(private_key_pem) {
        Ok(s) => Box::new(s),
        Err(_) => Box::new(
            PS256
                .signer_from_pem(private_key_pem)
                .map_err(|_| "the key is neither a P-256 nor an RSA private key in PEM")?,
        ),
    };
    let mut payload = JwtPayload::new();
    for (name, value) in metadata {
        payload
            .set_claim(name, Some(value.clone()))
            .map_err(|e| e.to_string())?;
    }
    payload
        .set_claim("iss", Some(Value::from(issuer)))
        .map_err(|e| e.to_string())?;
    payload
        .set_claim("iat", Some(Value::from(now)))
        .map_err(|e| e.to_string())?;
    payload
        .set_claim("jti", Some(Value::from(crate::secret::new_id())))
        .map_err(|e| e.to_string())?;
    if let Some(lifetime) = lifetime {
        payload
            .set_claim("exp", Some(Value::from(now.saturating_add(lifetime))))
            .map_err(|e| e.to_string())?;
    }
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    if let Some(kid) = key_id {
        header.set_key_id(kid);
    }
    josekit::jwt::encode_with_signer(&payload, &header, signer.as_ref()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://id.example.vn";
    const NOW: i64 = 1_800_000_000;

    fn operator() -> (String, OperatorKeys) {
        let pair = ES256.generate_key_pair().unwrap();
        let private = String::from_utf8(pair.to_pem_private_key()).unwrap();
        let public = String::from_utf8(pair.to_pem_public_key()).unwrap();
        (private, OperatorKeys::parse(&public).unwrap())
    }

    fn metadata() -> Map<String, Value> {
        json!({ "client_name": "Bank", "redirect_uris": ["https://bank.example/cb"] })
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn a_signed_statement_verifies_and_wins_over_the_body() {
        let (private, keys) = operator();
        let jwt = sign(&private, None, ISSUER, &metadata(), NOW, Some(3600)).unwrap();
        let claims = verify(&jwt, &keys, ISSUER, NOW + 10).unwrap();
        assert_eq!(claims.get("client_name"), Some(&json!("Bank")));
        assert!(!claims.contains_key("iss") && !claims.contains_key("exp"));
        let body = json!({ "client_name": "Other", "software_statement": jwt, "scope": "openid" });
        let merged = merge(body.as_object().unwrap().clone(), claims);
        assert_eq!(merged["client_name"], "Bank");
        assert_eq!(merged["scope"], "openid");
        assert!(!merged.contains_key("software_statement"));
    }

    #[test]
    fn bad_statements_are_refused() {
        let (private, keys) = operator();
        let (other, _) = operator();
        let forged = sign(&other, None, ISSUER, &metadata(), NOW, None).unwrap();
        assert!(matches!(
            verify(&forged, &keys, ISSUER, NOW),
            Err(StatementError::Unapproved(_))
        ));
        let elsewhere = sign(&private, None, "https://other", &metadata(), NOW, None).unwrap();
        assert!(matches!(
            verify(&elsewhere, &keys, ISSUER, NOW),
            Err(StatementError::Unapproved(_))
        ));
        let expired = sign(&private, None, ISSUER, &metadata(), NOW - 7200, Some(3600)).unwrap();
        assert!(matches!(
            verify(&expired, &keys, ISSUER, NOW),
            Err(StatementError::Invalid(_))
        ));
        use base64::Engine;
        let b64 = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let unsigned = format!(
            "{}.{}.",
            b64(json!({ "alg": "none" })),
            b64(json!({ "iss": ISSUER, "iat": NOW }))
        );
        assert!(matches!(
            verify(&unsigned, &keys, ISSUER, NOW),
            Err(StatementError::Invalid(_))
        ));
        assert!(OperatorKeys::parse(&private).is_err(), "a private key");
    }
}
