//! The SDK against a provider that lies: a fake token endpoint serves ID tokens we sign (or
//! forge) ourselves. Each forgery must be refused; the honest token must pass.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, HS256, JwsHeader};
use serde_json::{Value, json};
use vneid_sdk::{ClientCredentials, Level, LoginRequest, ScopeSet, SdkError, VneidClient};

/// `at_hash`: base64url of the left half of SHA-256.
fn left_half_sha256(value: &str) -> String {
    use sha2::Digest;
    URL_SAFE_NO_PAD.encode(&sha2::Sha256::digest(value.as_bytes())[..16])
}

/// Makes the ID token from the claims (and the nonce asked for).
type Forge = Box<dyn Fn(&mut Value, &str) -> String + Send>;

struct Fake {
    issuer: String,
    token: Arc<Mutex<String>>,
    _server: tokio::task::JoinHandle<()>,
}

async fn fake_provider(public: Jwk) -> Fake {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let token = Arc::new(Mutex::new(String::new()));
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "authorization_response_iss_parameter_supported": true,
    });
    let jwks = json!({ "keys": [serde_json::to_value(public.as_ref()).unwrap()] });
    let t = token.clone();
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(move || async move { Json(doc) }))
        .route("/jwks", get(move || async move { Json(jwks) }))
        .route(
            "/token",
            post(move || {
                let t = t.clone();
                async move {
                    let id_token = t.lock().unwrap().clone();
                    Json(json!({ "access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token }))
                }
            }),
        );
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Fake {
        issuer,
        token,
        _server: server,
    }
}

fn sign_es256(key: &Jwk, kid: &str, claims: &Value) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id(kid);
    let signer = ES256.signer_from_jwk(key).unwrap();
    josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &signer).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_id_tokens_are_refused() {
    let key = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
    let mut public = key.to_public_key().unwrap();
    public.set_key_id("k1");
    public.set_algorithm("ES256");
    public.set_key_use("sig");
    let fake = fake_provider(public.clone()).await;
    let client = VneidClient::discover(
        &fake.issuer,
        "bank",
        ClientCredentials::Secret("s".into()),
        "http://127.0.0.1:3002/callback",
    )
    .await
    .unwrap();

    let attempt = |forge: Forge| {
        let client = &client;
        let fake = &fake;
        async move {
            let (url, pending) = client.begin(&LoginRequest::new(
                Level::Level2,
                ScopeSet::parse("openid").unwrap(),
            ));
            let get = |n: &str| {
                url.query_pairs()
                    .find(|(k, _)| k == n)
                    .unwrap()
                    .1
                    .into_owned()
            };
            let (state, nonce) = (get("state"), get("nonce"));
            let mut claims = json!({
                "iss": fake.issuer, "sub": "citizen", "aud": "bank", "azp": "bank", "exp": now() + 300, "iat": now(),
                "auth_time": now(), "nonce": nonce, "acr": "urn:vneid:acr:level2", "amr": ["pwd", "otp"],
                "at_hash": left_half_sha256("at"),
            });
            *fake.token.lock().unwrap() = forge(&mut claims, &nonce);
            let iss: String =
                url::form_urlencoded::byte_serialize(fake.issuer.as_bytes()).collect();
            client
                .complete(pending, &format!("code=c&state={state}&iss={iss}"))
                .await
        }
    };
    let honest = {
        let key = key.clone();
        move |c: &mut Value, _: &str| sign_es256(&key, "k1", c)
    };
    let id = attempt(Box::new(honest.clone()))
        .await
        .expect("the honest token passes");
    assert_eq!(id.level, Some(Level::Level2));

    let other_key = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
    let cases: Vec<(&str, Forge)> = vec![
        (
            "bad signature",
            Box::new(move |c: &mut Value, _: &str| sign_es256(&other_key, "k1", c)),
        ),
        (
            "alg none",
            Box::new(|c: &mut Value, _: &str| {
                let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
                format!("{header}.{}.", URL_SAFE_NO_PAD.encode(c.to_string()))
            }),
        ),
        (
            "HS256 with the public key as secret",
            Box::new({
                let public = public.clone();
                move |c: &mut Value, _: &str| {
                    let mut header = JwsHeader::new();
                    header.set_key_id("k1");
                    let signer = HS256
                        .signer_from_bytes(public.to_string().as_bytes())
                        .unwrap();
                    josekit::jws::serialize_compact(c.to_string().as_bytes(), &header, &signer)
                        .unwrap()
                }
            }),
        ),
        (
            "wrong aud",
            Box::new({
                let h = honest.clone();
                move |c: &mut Value, n: &str| {
                    c["aud"] = json!("another-bank");
                    c["azp"] = json!("another-bank");
                    h(c, n)
                }
            }),
        ),
        (
            "wrong iss",
            Box::new({
                let h = honest.clone();
                move |c: &mut Value, n: &str| {
                    c["iss"] = json!("http://evil.example");
                    h(c, n)
                }
            }),
        ),
        (
            "wrong nonce",
            Box::new({
                let h = honest.clone();
                move |c: &mut Value, n: &str| {
                    c["nonce"] = json!("replayed");
                    h(c, n)
                }
            }),
        ),
        (
            "expired",
            Box::new({
                let h = honest.clone();
                move |c: &mut Value, n: &str| {
                    c["exp"] = json!(now() - 3600);
                    c["iat"] = json!(now() - 7200);
                    h(c, n)
                }
            }),
        ),
        (
            "wrong at_hash",
            Box::new({
                let h = honest.clone();
                move |c: &mut Value, n: &str| {
                    c["at_hash"] = json!(left_half_sha256("other"));
                    h(c, n)
                }
            }),
        ),
    ];
    for (name, forge) in cases {
        let result = attempt(forge).await;
        assert!(
            matches!(result, Err(SdkError::InvalidIdToken(_))),
            "{name}: {result:?}"
        );
    }
    let lowered = attempt(Box::new({
        let h = honest.clone();
        move |c: &mut Value, n: &str| {
            c["acr"] = json!("urn:vneid:acr:level1");
            h(c, n)
        }
    }))
    .await;
    assert!(
        matches!(
            lowered,
            Err(SdkError::LevelTooLow {
                reached: Some(Level::Level1),
                ..
            })
        ),
        "{lowered:?}"
    );
    let missing = attempt(Box::new({
        let h = honest.clone();
        move |c: &mut Value, n: &str| {
            c.as_object_mut().unwrap().remove("acr");
            h(c, n)
        }
    }))
    .await;
    assert!(
        matches!(missing, Err(SdkError::LevelTooLow { reached: None, .. })),
        "{missing:?}"
    );
}
