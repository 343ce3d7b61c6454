//! Signed request objects (JAR, RFC 9101; OpenID Connect Core 6.1): the `request` parameter
//! at `/authorize` and inside a pushed request. Only signatures by a key the client registered
//! (ES256, PS256, or RS256 with an RSA key) are accepted, never `alg: none`; `iss` is the
//! client, `aud` our issuer, `exp` in the future (at most an hour away, and at most an hour
//! after `nbf`), `nbf` passed (and, for FAPI 2.0 clients, present and at most an hour old). An
//! object with a `jti` is accepted once (`apply_once`). The object's parameters win over those
//! outside it.

use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{ES256, JwsVerifier, PS256, RS256};
use serde_json::{Map, Value};

use super::authorize::AuthorizeParams;
use super::client::Client;
use super::error::{ErrorCode, OAuthError};

/// Longest accepted lifetime of a request object, from now to `exp`, in seconds.
const MAX_LIFETIME: i64 = 3600;
/// Clock skew tolerated on `nbf`, in seconds.
const SKEW: i64 = 30;

/// The claims of a JWT that are not authorization parameters.
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

fn bad(description: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequestObject, description)
}

/// Replaces `params` by the verified request object merged over them, when there is one;
/// refuses an object whose `jti` was accepted before (a replay), recording it until the object
/// expires.
pub async fn apply_once(
    state: &crate::state::AppState,
    mut params: AuthorizeParams,
    client: &Client,
) -> Result<AuthorizeParams, OAuthError> {
    let Some(jwt) = params.request.take() else {
        return Ok(params);
    };
    let claims = verify(&jwt, client, &state.issuer, state.now())?;
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let jti = match claims.get("jti") {
        None => None,
        Some(Value::String(jti)) if !jti.is_empty() && jti.len() <= 256 => Some(jti.clone()),
        Some(_) => return Err(bad("the request object's jti must be a short string")),
    };
    let merged = merge(params, claims)?;
    if let Some(jti) = jti {
        let first = state
            .store
            .use_request_object_jti(client.id.as_str(), &jti, exp)
            .await
            .map_err(OAuthError::from)?;
        if !first {
            tracing::info!(
                client = client.id.as_str(),
                "request object replayed (same jti)"
            );
            return Err(bad("the request object was used before (same jti)"));
        }
    }
    Ok(merged)
}

/// Verifies the object's signature and its JWT claims; returns its claims.
pub fn verify(
    jwt: &str,
    client: &Client,
    issuer: &str,
    now: i64,
) -> Result<Map<String, Value>, OAuthError> {
    let header =
        josekit::jwt::decode_header(jwt).map_err(|_| bad("the request object is not a JWT"))?;
    let alg = header.claim("alg").and_then(Value::as_str).unwrap_or("");
    if !client.profile.allows_alg(alg) {
        return Err(bad(match client.profile {
            super::client::Profile::Fapi2 => {
                "the request object must be signed with ES256 or PS256 (FAPI 2.0)"
            }
            super::client::Profile::Baseline => {
                "the request object must be signed with ES256, PS256 or RS256 (never alg none)"
            }
        }));
    }
    let kid = header.claim("kid").and_then(Value::as_str);
    let jwks = client
        .jwks
        .as_deref()
        .and_then(|j| JwkSet::from_bytes(j.as_bytes()).ok())
        .ok_or_else(|| bad("the client registered no keys to verify request objects with"))?;
    let verifiers = jwks
        .keys()
        .into_iter()
        .filter(|k| kid.is_none_or(|kid| k.key_id() == Some(kid)))
        .filter(|k| k.key_use().is_none_or(|u| u == "sig"))
        .filter(|k| k.algorithm().is_none_or(|a| a == alg))
        .filter_map(|k| verifier(alg, k))
        .collect::<Vec<_>>();
    let payload = verifiers
        .iter()
        .find_map(|v| josekit::jwt::decode_with_verifier(jwt, v.as_ref()).ok())
        .map(|(payload, _)| payload)
        .ok_or_else(|| {
            bad("the request object's signature does not verify with a registered key")
        })?;
    let claims = payload.claims_set().clone();
    if claims.get("iss").and_then(Value::as_str) != Some(client.id.as_str()) {
        return Err(bad("the request object's iss must be the client id"));
    }
    if let Some(id) = claims.get("client_id")
        && id.as_str() != Some(client.id.as_str())
    {
        return Err(bad(
            "the request object's client_id differs from the client's",
        ));
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == issuer,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(issuer)),
        _ => false,
    };
    if !audience_ok {
        return Err(bad("the request object's aud must be the issuer"));
    }
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| bad("the request object has no exp"))?;
    if exp <= now {
        return Err(bad("the request object has expired"));
    }
    if exp > now + MAX_LIFETIME {
        return Err(bad("the request object lives longer than an hour"));
    }
    let nbf = match claims.get("nbf") {
        Some(nbf) => Some(
            nbf.as_i64()
                .ok_or_else(|| bad("the request object's nbf is not a number"))?,
        ),
        // FAPI 2.0 Message Signing 5.3.1: nbf is required.
        None if client.profile == super::client::Profile::Fapi2 => {
            return Err(bad("the request object has no nbf (FAPI 2.0)"));
        }
        None => None,
    };
    if let Some(nbf) = nbf {
        if nbf > now + SKEW {
            return Err(bad("the request object is not valid yet"));
        }
        if nbf < now - MAX_LIFETIME {
            return Err(bad("the request object's nbf is more than an hour old"));
        }
        if exp - nbf > MAX_LIFETIME {
            return Err(bad(
                "the request object lives longer than an hour (exp - nbf)",
            ));
        }
    }
    Ok(claims)
}

fn verifier(alg: &str, key: &Jwk) -> Option<Box<dyn JwsVerifier>> {
    Some(match alg {
        "ES256" => Box::new(ES256.verifier_from_jwk(key).ok()?),
        "PS256" => Box::new(PS256.verifier_from_jwk(key).ok()?),
        "RS256" => Box::new(RS256.verifier_from_jwk(key).ok()?),
        _ => return None,
    })
}

/// The object's parameters over the outer ones (strings as they are, numbers as text, the
/// `claims` object as its JSON).
fn merge(
    params: AuthorizeParams,
    claims: Map<String, Value>,
) -> Result<AuthorizeParams, OAuthError> {
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(bad("a request object cannot hold request or request_uri"));
    }
    let Value::Object(mut merged) =
        serde_json::to_value(&params).map_err(|_| bad("the request could not be merged"))?
    else {
        return Err(bad("the request could not be merged"));
    };
    for (name, value) in claims {
        if JWT_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        let text = match value {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Object(_) if name == "claims" => value.to_string(),
            Value::Null => continue,
            _ => return Err(bad("request object parameters must be strings")),
        };
        merged.insert(name, Value::String(text));
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|_| bad("the request object's parameters are malformed"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::ClientRow;
    use josekit::jws::JwsHeader;
    use josekit::jwt::JwtPayload;
    use serde_json::json;

    const ISSUER: &str = "https://id.example.vn";
    const NOW: i64 = 1_800_000_000;

    /// Verification and merge, without the replay check (which needs the store).
    fn apply(
        mut params: AuthorizeParams,
        client: &Client,
        issuer: &str,
        now: i64,
    ) -> Result<AuthorizeParams, OAuthError> {
        let jwt = params.request.take().unwrap();
        merge(params, verify(&jwt, client, issuer, now)?)
    }

    fn client(public: &Jwk) -> Client {
        Client::try_from(ClientRow {
            id: "bank".into(),
            name: "Bank".into(),
            secret_hash: None,
            auth_method: "private_key_jwt".into(),
            redirect_uris: r#"["https://bank.example/cb"]"#.into(),
            post_logout_redirect_uris: "[]".into(),
            allowed_scopes: "openid profile".into(),
            signing_alg: "ES256".into(),
            subject_type: "pairwise".into(),
            jwks: Some(json!({ "keys": [public.as_ref()] }).to_string()),
            options: Default::default(),
            responses: Default::default(),
        })
        .unwrap()
    }

    fn sign(key: &Jwk, claims: Value) -> String {
        let mut payload = JwtPayload::new();
        for (k, v) in claims.as_object().unwrap() {
            payload.set_claim(k, Some(v.clone())).unwrap();
        }
        let header = JwsHeader::new();
        josekit::jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(key).unwrap())
            .unwrap()
    }

    fn good() -> Value {
        json!({ "iss": "bank", "aud": ISSUER, "exp": NOW + 60, "nbf": NOW - 1,
                "client_id": "bank", "scope": "openid profile", "max_age": 0,
                "claims": { "userinfo": { "name": { "essential": true } } } })
    }

    fn outer(jwt: String) -> AuthorizeParams {
        AuthorizeParams {
            client_id: Some("bank".into()),
            scope: Some("openid".into()),
            state: Some("outer".into()),
            request: Some(jwt),
            ..AuthorizeParams::default()
        }
    }

    #[test]
    fn the_object_wins_and_is_merged() {
        let key = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
        let c = client(&key.to_public_key().unwrap());
        let merged = apply(outer(sign(&key, good())), &c, ISSUER, NOW).unwrap();
        assert_eq!(merged.scope.as_deref(), Some("openid profile"));
        assert_eq!(merged.state.as_deref(), Some("outer"));
        assert_eq!(merged.max_age.as_deref(), Some("0"));
        assert!(merged.claims.unwrap().contains("essential"));
        assert!(merged.request.is_none());
    }

    #[test]
    fn bad_objects_are_invalid_request_object() {
        let key = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
        let other = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
        let c = client(&key.to_public_key().unwrap());
        let with = |k: &str, v: Value| {
            let mut claims = good();
            claims[k] = v;
            sign(&key, claims)
        };
        let without = |k: &str| {
            let mut claims = good();
            claims.as_object_mut().unwrap().remove(k);
            sign(&key, claims)
        };
        use base64::Engine;
        let b64 = |v: Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
        };
        let unsigned = format!("{}.{}.", b64(json!({"alg": "none"})), b64(good()));
        for jwt in [
            unsigned,
            sign(&other, good()),
            with("aud", json!("https://elsewhere.example")),
            with("iss", json!("someone-else")),
            with("client_id", json!("someone-else")),
            with("exp", json!(NOW - 1)),
            with("exp", json!(NOW + 7200)),
            with("nbf", json!(NOW + 600)),
            with("nbf", json!(NOW - 3601)),
            sign(&key, {
                // Each within bounds, but an hour and more apart.
                let mut claims = good();
                claims["nbf"] = json!(NOW - 3000);
                claims["exp"] = json!(NOW + 700);
                claims
            }),
            with("request_uri", json!("urn:x")),
            without("exp"),
            without("aud"),
            "not a jwt".into(),
        ] {
            let err = apply(outer(jwt.clone()), &c, ISSUER, NOW).unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequestObject, "{jwt}");
        }
    }
}
