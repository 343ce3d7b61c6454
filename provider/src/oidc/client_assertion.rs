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
    if !client.profile.allows_alg(alg) {
        return Err(bad(
            "client_assertion must be signed with ES256 or PS256 (or RS256, except under FAPI 2.0)",
        ));
    }
    let kid = header.claim("kid").and_then(Value::as_str);
    let key = jwks
        .keys()
        .into_iter()
        .find(|k| {
            kid.is_none_or(|kid| k.key_id() == Some(kid))
                && k.algorithm().is_none_or(|a| a == alg)
                && k.key_use().is_none_or(|u| u == "sig")
        })
        .ok_or_else(|| bad("no registered key matches the assertion"))?;
    // The key was chosen by `kid` above. josekit would also demand the key's `kid` in the
    // header, refusing an assertion without one (RFC 7523 does not require it): its own check
    // is switched off.
    let unusable = |_| bad("unusable registered key");
    let verifier: Box<dyn JwsVerifier> = match alg {
        "ES256" => {
            let mut v = ES256.verifier_from_jwk(key).map_err(unusable)?;
            v.remove_key_id();
            Box::new(v)
        }
        "RS256" => {
            let mut v = RS256.verifier_from_jwk(key).map_err(unusable)?;
            v.remove_key_id();
            Box::new(v)
        }
        "PS256" => {
            let mut v = PS256.verifier_from_jwk(key).map_err(unusable)?;
            v.remove_key_id();
            Box::new(v)
        }
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
    // Read as a number here: josekit's `expires_at` panics on one no clock can hold (1e19).
    // A fraction is cut off; a number beyond i64 saturates, and lives too long.
    let exp = payload
        .claim("exp")
        .and_then(Value::as_number)
        .and_then(|n| n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)))
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use josekit::jwk::Jwk;
    use josekit::jws::{ES256, JwsHeader};
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};
    use serde_json::{Value, json};

    use super::authenticate;
    use crate::clock::Clock;
    use crate::config::KeyEncryptionKey;
    use crate::oidc::error::ErrorCode;
    use crate::oidc::paths;
    use crate::oidc::types::{ClientAuthMethod, SigningAlg, SubjectType};
    use crate::state::AppState;

    const CLIENT: &str = "keyed";
    const KID: &str = "rp-key";

    /// A provider state on a fresh SQLite file with one `private_key_jwt` client; its key.
    async fn state() -> (AppState, Jwk) {
        let path = std::env::temp_dir().join(format!(
            "vneid-assertion-{}-{}.db",
            std::process::id(),
            rand::random::<u64>()
        ));
        let config = crate::config::Config::new(
            "http://127.0.0.1:9".parse().unwrap(),
            format!("sqlite:{}", path.display()),
            KeyEncryptionKey::generate(),
        );
        let state = crate::prepare(config.clone(), Clock::default())
            .await
            .unwrap();
        // The private key has no kid: josekit would write it over the header's `kid`.
        let private = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
        let mut public = private.to_public_key().unwrap();
        public.set_key_id(KID);
        let jwks = json!({ "keys": [serde_json::to_value(public.as_ref()).unwrap()] });
        crate::cli::add_client(
            &config,
            crate::cli::NewClient {
                id: CLIENT.into(),
                name: "Keyed".into(),
                redirect_uris: vec!["https://rp.example/cb".into()],
                post_logout_redirect_uris: vec![],
                scopes: "openid".into(),
                auth_method: ClientAuthMethod::PrivateKeyJwt,
                signing_alg: SigningAlg::Es256,
                subject_type: SubjectType::Pairwise,
                jwks: Some(jwks.to_string()),
                require_par: false,
                resource_server: false,
                require_dpop: false,
                profile: crate::oidc::client::Profile::Baseline,
                responses: Default::default(),
            },
        )
        .await
        .unwrap();
        (state, private)
    }

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// JSON that looks like a JOSE header or a JWT payload, or not at all.
    fn jose_json() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            prop::sample::select(vec![
                "ES256",
                "RS256",
                "PS256",
                "HS256",
                "none",
                KID,
                CLIENT,
                "demo-portal",
                ""
            ])
            .prop_map(Value::from),
            ".{0,10}".prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            Just(Value::Null),
            Just(json!([CLIENT, 1])),
        ];
        let names = prop::sample::select(vec![
            "alg", "kid", "typ", "crit", "jwk", "iss", "sub", "aud", "exp", "nbf", "iat", "jti",
        ]);
        prop::collection::btree_map(names, text, 0..8)
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
    }

    /// Strings shaped like compact JWTs: parts of base64url JSON, base64url bytes, or text.
    fn jwt_shaped() -> impl Strategy<Value = String> {
        let part = prop_oneof![
            jose_json().prop_map(|v| b64(v.to_string().as_bytes())),
            prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| b64(&b)),
            "[A-Za-z0-9_=+/-]{0,20}",
            ".{0,6}",
        ];
        prop::collection::vec(part, 1..5).prop_map(|parts| parts.join("."))
    }

    /// `exp` as a relying party might send it: relative to now, or any JSON number.
    #[derive(Debug, Clone)]
    enum Exp {
        In(i64),
        Raw(Value),
        Missing,
    }

    fn exp() -> impl Strategy<Value = Exp> {
        prop_oneof![
            3 => (-700i64..1300).prop_map(Exp::In),
            1 => prop_oneof![
                any::<u64>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                Just(json!(1e19)),
                Just(json!(1.7976931348623157e308)),
                Just(json!(-1)),
                Just(json!("soon")),
            ]
            .prop_map(Exp::Raw),
            1 => Just(Exp::Missing),
        ]
    }

    /// A signed assertion's varying parts.
    #[derive(Debug, Clone)]
    struct Signed {
        iss: &'static str,
        sub: &'static str,
        aud: Value,
        exp: Exp,
        jti: bool,
        kid: Option<&'static str>,
        registered_key: bool,
        body_client_id: Option<&'static str>,
    }

    fn signed() -> impl Strategy<Value = Signed> {
        let who = || prop::sample::select(vec![CLIENT, CLIENT, "demo-portal", ""]);
        let aud = prop_oneof![
            Just(json!("{token}")),
            Just(json!("{issuer}")),
            Just(json!(["https://evil.example", "{token}"])),
            Just(json!("https://evil.example")),
            Just(json!([])),
        ];
        (
            who(),
            who(),
            aud,
            exp(),
            prop::bool::weighted(0.9),
            prop::sample::select(vec![Some(KID), Some(KID), None, Some("other")]),
            prop::bool::weighted(0.85),
            prop::sample::select(vec![None, None, Some(CLIENT), Some("demo-portal")]),
        )
            .prop_map(
                |(iss, sub, aud, exp, jti, kid, registered_key, body_client_id)| Signed {
                    iss,
                    sub,
                    aud,
                    exp,
                    jti,
                    kid,
                    registered_key,
                    body_client_id,
                },
            )
    }

    fn sign(key: &Jwk, claims: &Value, kid: Option<&str>) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("JWT");
        if let Some(kid) = kid {
            header.set_key_id(kid);
        }
        let signer = ES256.signer_from_jwk(key).unwrap();
        josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &signer).unwrap()
    }

    /// RFC 7523 does not require `kid`: josekit refused one without it when the registered key
    /// has one.
    #[tokio::test]
    async fn an_assertion_without_kid_is_checked_with_the_registered_key() {
        let (state, key) = state().await;
        let claims = |jti: &str| {
            json!({
                "iss": CLIENT, "sub": CLIENT, "aud": state.url(paths::TOKEN),
                "exp": state.now() + 60, "jti": jti
            })
        };
        let client = authenticate(&state, &sign(&key, &claims("a"), None), None)
            .await
            .unwrap();
        assert_eq!(client.id.as_str(), CLIENT);
        let stranger = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
        let e = authenticate(&state, &sign(&stranger, &claims("b"), None), None)
            .await
            .unwrap_err();
        assert_eq!(e.description, "client_assertion signature is invalid");
        let e = authenticate(&state, &sign(&key, &claims("c"), Some("other")), None)
            .await
            .unwrap_err();
        assert_eq!(e.description, "no registered key matches the assertion");
    }

    /// josekit's `expires_at` panicked on these (a duration past what `SystemTime` holds):
    /// a client's own key could crash its token request.
    #[tokio::test]
    async fn an_exp_no_clock_can_hold_is_refused_not_a_panic() {
        let (state, key) = state().await;
        for exp in [json!(1e19), json!(1.7976931348623157e308), json!(u64::MAX)] {
            let claims = json!({
                "iss": CLIENT, "sub": CLIENT, "aud": state.url(paths::TOKEN),
                "exp": exp, "jti": format!("j-{exp}")
            });
            let e = authenticate(&state, &sign(&key, &claims, Some(KID)), None)
                .await
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient);
            assert_eq!(
                e.description,
                "client_assertion is expired or lives too long"
            );
        }
    }

    /// Garbage of every shape: never accepted, never a panic, always `invalid_client`.
    #[test]
    fn garbage_assertions_are_invalid_client() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (state, _) = rt.block_on(state());
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::with_cases(512)
        });
        let garbage = prop_oneof![
            any::<String>(),
            jwt_shaped(),
            jwt_shaped().prop_map(|j| format!("{j}.")),
        ];
        runner
            .run(
                &(
                    garbage,
                    prop::option::of(prop::sample::select(vec![CLIENT, "x"])),
                ),
                |(assertion, body_client_id)| {
                    let result = rt.block_on(authenticate(&state, &assertion, body_client_id));
                    match result {
                        Ok(client) => Err(TestCaseError::fail(format!(
                            "accepted {assertion:?} for {}",
                            client.id.as_str()
                        ))),
                        Err(e) => {
                            prop_assert_eq!(e.code, ErrorCode::InvalidClient, "{}", e);
                            Ok(())
                        }
                    }
                },
            )
            .unwrap();
    }

    /// Signed assertions with every claim varied: accepted exactly when `iss` and `sub` are
    /// the client, `aud` names the token endpoint or the issuer, `exp` is in the next 600 s,
    /// there is a `jti`, and the registered key signed it; otherwise `invalid_client`, and
    /// never a panic (even for an `exp` no clock can hold).
    #[test]
    fn signed_assertions_are_accepted_exactly_when_well_formed() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let (state, key) = rt.block_on(state());
        let stranger = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
        let token_endpoint = state.url(paths::TOKEN);
        let issuer = state.issuer.clone();
        let counter = AtomicUsize::new(0);
        let mut runner = TestRunner::new(Config {
            failure_persistence: None,
            ..Config::with_cases(256)
        });
        runner
            .run(&signed(), |case| {
                let now = state.now();
                let aud = serde_json::from_str::<Value>(
                    &case
                        .aud
                        .to_string()
                        .replace("{token}", &token_endpoint)
                        .replace("{issuer}", &issuer),
                )
                .unwrap();
                let mut claims = json!({ "iss": case.iss, "sub": case.sub, "aud": aud });
                match &case.exp {
                    Exp::In(offset) => claims["exp"] = json!(now + offset),
                    Exp::Raw(v) => claims["exp"] = v.clone(),
                    Exp::Missing => {}
                }
                if case.jti {
                    // Unique per run, so a replay is never what refuses it.
                    claims["jti"] = json!(format!("j{}", counter.fetch_add(1, Ordering::SeqCst)));
                }
                let signing_key = if case.registered_key { &key } else { &stranger };
                let assertion = sign(signing_key, &claims, case.kid);
                let audience_ok = match &aud {
                    Value::String(a) => *a == token_endpoint || *a == issuer,
                    Value::Array(list) => list.iter().any(|a| a == &token_endpoint || a == &issuer),
                    _ => false,
                };
                let should_pass = case.iss == CLIENT
                    && case.sub == CLIENT
                    && case.body_client_id.is_none_or(|id| id == CLIENT)
                    && audience_ok
                    && matches!(case.exp, Exp::In(offset) if offset > 0 && offset <= 600)
                    && case.jti
                    && case.kid != Some("other")
                    && case.registered_key;
                let result = rt.block_on(authenticate(&state, &assertion, case.body_client_id));
                match result {
                    Ok(client) => {
                        prop_assert!(should_pass, "accepted {case:?}");
                        prop_assert_eq!(client.id.as_str(), CLIENT);
                    }
                    Err(e) => {
                        prop_assert!(!should_pass, "refused {case:?}: {e}");
                        prop_assert_eq!(e.code, ErrorCode::InvalidClient, "{}", e);
                    }
                }
                Ok(())
            })
            .unwrap();
    }
}
