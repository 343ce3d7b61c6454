//! The SDK against a fake provider that serves discovery, keys, tokens and UserInfo like ours,
//! but with ID tokens and answers each test makes up: what the SDK must check itself beyond
//! `openidconnect` (azp, iat, at_hash, acr, auth_time, UserInfo's sub, the claims), its key
//! cache (rotation, rate limit, an unreachable provider) and the request it sends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader, JwsSigner, RS256};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vneid_sdk::{
    ClaimError, ClientCredentials, IdTokenError, Level, LoginRequest, PendingLogin, ScopeSet,
    SdkError, TokenExchangeError, UserInfoError, VneidClient,
};

const ACCESS_TOKEN: &str = "at-1";
const REDIRECT: &str = "http://127.0.0.1:3002/callback";

#[derive(Default)]
pub(super) struct Shared {
    token: Mutex<(u16, Value)>,
    pub(super) userinfo: Mutex<(u16, Value)>,
    /// When set, UserInfo answers this JWT as `application/jwt` instead.
    pub(super) userinfo_jwt: Mutex<Option<String>>,
    /// `None`: the JWKS endpoint is down.
    jwks: Mutex<Option<Value>>,
    jwks_hits: AtomicUsize,
    /// `Authorization` header and form of each token request.
    token_requests: Mutex<Vec<(String, String)>>,
}

pub(super) struct Fake {
    pub(super) issuer: String,
    pub(super) shared: Arc<Shared>,
    _server: tokio::task::JoinHandle<()>,
}

pub(super) fn key_pair(alg: &str, kid: &str) -> (Jwk, Value) {
    let mut private = match alg {
        "ES256" => ES256.generate_key_pair().unwrap().to_jwk_key_pair(),
        _ => RS256.generate_key_pair(2048).unwrap().to_jwk_key_pair(),
    };
    private.set_key_id(kid);
    let mut public = private.to_public_key().unwrap();
    public.set_key_id(kid);
    public.set_algorithm(alg);
    public.set_key_use("sig");
    (private, serde_json::to_value(public.as_ref()).unwrap())
}

async fn jwks(State(s): State<Arc<Shared>>) -> impl IntoResponse {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    match s.jwks.lock().unwrap().clone() {
        Some(keys) => (StatusCode::OK, axum::Json(keys)).into_response(),
        None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

async fn token(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    s.token_requests.lock().unwrap().push((auth, body));
    let (status, body) = s.token.lock().unwrap().clone();
    (StatusCode::from_u16(status).unwrap(), axum::Json(body))
}

async fn userinfo(State(s): State<Arc<Shared>>) -> axum::response::Response {
    if let Some(jwt) = s.userinfo_jwt.lock().unwrap().clone() {
        return ([("content-type", "application/jwt")], jwt).into_response();
    }
    let (status, body) = s.userinfo.lock().unwrap().clone();
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

impl Fake {
    pub(super) async fn start(keys: Vec<Value>) -> Fake {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared::default());
        *shared.jwks.lock().unwrap() = Some(json!({ "keys": keys }));
        let doc = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "userinfo_endpoint": format!("{issuer}/userinfo"),
            "jwks_uri": format!("{issuer}/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256", "RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            "claims_supported": ["sub", "acr", "auth_time", "at_hash", "name", "birthdate"],
            "authorization_response_iss_parameter_supported": true,
        });
        let app = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || async move { axum::Json(doc) }),
            )
            .route("/jwks", get(jwks))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(shared.clone());
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Fake {
            issuer,
            shared,
            _server: server,
        }
    }

    pub(super) async fn client(&self) -> VneidClient {
        VneidClient::discover(
            &self.issuer,
            "bank",
            ClientCredentials::Secret("s3cret".into()),
            REDIRECT,
        )
        .await
        .unwrap()
    }

    /// Begins a login; returns the pending login, its state, its nonce and the URL.
    pub(super) fn begin(
        client: &VneidClient,
        request: &LoginRequest,
    ) -> (PendingLogin, String, String, url::Url) {
        let (url, pending) = client.begin(request);
        let get = |n: &str| vneid_tests::param(&url, n).unwrap();
        (pending, get("state"), get("nonce"), url)
    }

    /// Honest claims for this login.
    pub(super) fn claims(&self, nonce: &str) -> Value {
        json!({
            "iss": self.issuer, "sub": "citizen-1", "aud": "bank", "azp": "bank",
            "exp": now() + 300, "iat": now(), "auth_time": now() - 5, "nonce": nonce,
            "acr": "urn:vneid:acr:level2", "amr": ["pwd", "otp", "mfa"],
            "at_hash": at_hash(ACCESS_TOKEN),
        })
    }

    pub(super) fn serve_id_token(&self, id_token: &str) {
        *self.shared.token.lock().unwrap() = (
            200,
            json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer", "expires_in": 300, "id_token": id_token }),
        );
    }

    pub(super) fn callback(&self, state: &str) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", "c0de")
            .append_pair("state", state)
            .append_pair("iss", &self.issuer)
            .finish()
    }

    /// Completes a login at `level` (openid only) whose ID token `forge` makes from honest claims.
    async fn attempt(
        &self,
        client: &VneidClient,
        key: &Jwk,
        forge: impl FnOnce(&mut Value),
    ) -> Result<vneid_sdk::VerifiedIdentity, SdkError> {
        let request = LoginRequest::new(Level::Level2, scopes("openid"));
        let (pending, state, nonce, _) = Fake::begin(client, &request);
        let mut claims = self.claims(&nonce);
        forge(&mut claims);
        self.serve_id_token(&sign(key, &claims));
        client.complete(pending, &self.callback(&state)).await
    }
}

pub(super) fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

pub(super) fn sign(key: &Jwk, claims: &Value) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type("JWT");
    header.set_key_id(key.key_id().unwrap());
    let signer: Box<dyn JwsSigner> = match key.key_type() {
        "EC" => Box::new(ES256.signer_from_jwk(key).unwrap()),
        _ => Box::new(RS256.signer_from_jwk(key).unwrap()),
    };
    josekit::jws::serialize_compact(claims.to_string().as_bytes(), &header, &*signer).unwrap()
}

fn problem(result: Result<vneid_sdk::VerifiedIdentity, SdkError>) -> IdTokenError {
    match result {
        Err(SdkError::InvalidIdToken(problem)) => problem,
        other => panic!("expected an invalid ID token, got {other:?}"),
    }
}

/// The honest path with both algorithms, and what the SDK sends to the token endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn honest_es256_and_rs256_tokens_pass_and_the_token_request_is_right() {
    let (es, es_pub) = key_pair("ES256", "es1");
    let (rs, rs_pub) = key_pair("RS256", "rs1");
    let fake = Fake::start(vec![es_pub, rs_pub]).await;
    let client = fake.client().await;

    let (pending, state, nonce, url) = Fake::begin(
        &client,
        &LoginRequest::new(Level::Level1, scopes("openid profile")),
    );
    fake.serve_id_token(&sign(&es, &fake.claims(&nonce)));
    *fake.shared.userinfo.lock().unwrap() = (
        200,
        json!({ "sub": "citizen-1", "name": "Trần Thị Bình", "birthdate": "1998-07-25", "gender": "female" }),
    );
    let id = client
        .complete(pending, &fake.callback(&state))
        .await
        .unwrap();
    assert_eq!(id.subject, "citizen-1");
    assert_eq!(id.level, Some(Level::Level2), "Level 2 satisfies Level 1");
    assert_eq!(id.full_name().as_deref(), Some("Trần Thị Bình"));

    // client_secret_basic, the code, the redirect URI and the PKCE verifier of this login.
    let (auth, form) = fake.shared.token_requests.lock().unwrap()[0].clone();
    assert_eq!(auth, format!("Basic {}", STANDARD.encode("bank:s3cret")));
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(form.as_bytes())
            .into_owned()
            .collect();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "c0de");
    assert_eq!(form["redirect_uri"], REDIRECT);
    assert!(!form.contains_key("client_secret"));
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(form["code_verifier"].as_bytes()));
    assert_eq!(
        Some(challenge),
        vneid_tests::param(&url, "code_challenge"),
        "S256 of the verifier sent is the challenge of the authorization request"
    );

    let id = fake.attempt(&client, &rs, |_| {}).await.unwrap();
    assert_eq!(id.level, Some(Level::Level2));
    assert_eq!(id.methods, ["pwd", "otp", "mfa"]);
}

/// The checks `openidconnect` leaves to the relying party.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checks_left_to_the_client_are_made() {
    let (es, es_pub) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![es_pub]).await;
    let client = fake.client().await;
    let remove = |name: &'static str| {
        move |c: &mut Value| {
            c.as_object_mut().unwrap().remove(name);
        }
    };

    let result = fake.attempt(&client, &es, remove("at_hash")).await;
    assert!(matches!(
        problem(result),
        IdTokenError::AccessTokenHashMissing
    ));
    let result = fake
        .attempt(&client, &es, |c| c["at_hash"] = json!(at_hash("another")))
        .await;
    assert!(matches!(
        problem(result),
        IdTokenError::AccessTokenHashMismatch
    ));
    let result = fake
        .attempt(&client, &es, |c| c["azp"] = json!("portal"))
        .await;
    assert!(matches!(
        problem(result),
        IdTokenError::AuthorizedParty { .. }
    ));
    let result = fake
        .attempt(&client, &es, |c| c["aud"] = json!(["bank", "portal"]))
        .await;
    assert!(matches!(problem(result), IdTokenError::Audience(_)));
    let result = fake
        .attempt(&client, &es, |c| c["iat"] = json!(now() + 3600))
        .await;
    assert!(matches!(problem(result), IdTokenError::IssuedInFuture));
    let result = fake.attempt(&client, &es, remove("auth_time")).await;
    assert!(matches!(problem(result), IdTokenError::AuthTimeMissing));
    let result = fake.attempt(&client, &es, remove("nonce")).await;
    assert!(matches!(problem(result), IdTokenError::Nonce(_)));
    let result = fake
        .attempt(&client, &es, |c| c["acr"] = json!("urn:vneid:acr:level3"))
        .await;
    assert!(
        matches!(result, Err(SdkError::LevelTooLow { reached: None, .. })),
        "{result:?}"
    );
    // Expired within the 60 s skew still passes; beyond, it does not.
    let result = fake
        .attempt(&client, &es, |c| c["exp"] = json!(now() - 10))
        .await;
    assert!(result.is_ok(), "{result:?}");

    // max_age: a login older than asked for is refused.
    let mut request = LoginRequest::new(Level::Level1, scopes("openid"));
    request.max_age = Some(std::time::Duration::from_secs(300));
    let (pending, state, nonce, url) = Fake::begin(&client, &request);
    assert_eq!(vneid_tests::param(&url, "max_age").as_deref(), Some("300"));
    let mut claims = fake.claims(&nonce);
    claims["auth_time"] = json!(now() - 3600);
    fake.serve_id_token(&sign(&es, &claims));
    assert!(matches!(
        client.complete(pending, &fake.callback(&state)).await,
        Err(SdkError::LoginTooOld { max_age: 300, .. })
    ));
}

/// UserInfo must describe the ID token's subject, and its claims must hold together.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn userinfo_is_bound_to_the_id_token_and_checked() {
    let (es, es_pub) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![es_pub]).await;
    let client = fake.client().await;
    let with_userinfo = |status: u16, body: Value| {
        let fake = &fake;
        let client = &client;
        let es = &es;
        async move {
            *fake.shared.userinfo.lock().unwrap() = (status, body);
            let request =
                LoginRequest::new(Level::Level1, scopes("openid profile identity_number"));
            let (pending, state, nonce, _) = Fake::begin(client, &request);
            fake.serve_id_token(&sign(es, &fake.claims(&nonce)));
            client.complete(pending, &fake.callback(&state)).await
        }
    };
    let result = with_userinfo(200, json!({ "sub": "someone-else", "name": "X" })).await;
    assert!(
        matches!(
            result,
            Err(SdkError::UserInfo(UserInfoError::SubjectMismatch))
        ),
        "{result:?}"
    );
    let result = with_userinfo(401, json!({ "error": "invalid_token" })).await;
    match result {
        Err(SdkError::UserInfo(UserInfoError::Refused { status, error })) => {
            assert_eq!((status, error.as_deref()), (401, Some("invalid_token")));
        }
        other => panic!("{other:?}"),
    }
    // The identification number says a man born in 1995; the profile says a woman born in 1998.
    let result = with_userinfo(
        200,
        json!({ "sub": "citizen-1", "birthdate": "1998-07-25", "gender": "female", "personal_id_number": "001095000001" }),
    )
    .await;
    assert!(
        matches!(
            result,
            Err(SdkError::Inconsistent(ClaimError::IdNumberMismatch(_)))
        ),
        "{result:?}"
    );
    let result = with_userinfo(
        200,
        json!({ "sub": "citizen-1", "personal_id_number": "12345" }),
    )
    .await;
    assert!(
        matches!(result, Err(SdkError::Inconsistent(ClaimError::IdNumber(_)))),
        "{result:?}"
    );
    for bad in [
        json!({ "sub": "citizen-1", "birthdate": "25/07/1998" }),
        json!({ "sub": "citizen-1", "gender": "unknown" }),
        json!({ "sub": "citizen-1", "name": 42 }),
        json!({ "sub": "citizen-1", "documents": [{ "type": "passport" }] }),
        json!({ "sub": "citizen-1", "portrait": "https://example.com/me.jpg" }),
    ] {
        let result = with_userinfo(200, bad.clone()).await;
        assert!(
            matches!(
                result,
                Err(SdkError::Inconsistent(ClaimError::Malformed { .. }))
            ),
            "{bad}: {result:?}"
        );
    }
    let result = with_userinfo(200, json!(["not", "an", "object"])).await;
    assert!(
        matches!(
            result,
            Err(SdkError::UserInfo(UserInfoError::InvalidResponse(_)))
        ),
        "{result:?}"
    );
}

/// A rotation is followed with one refetch; refetches are rate-limited; while the provider's
/// keys cannot be fetched, the last good keys keep working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_cache_follows_rotations_within_limits() {
    let (es1, es1_pub) = key_pair("ES256", "es1");
    let (es2, es2_pub) = key_pair("ES256", "es2");
    let (es3, es3_pub) = key_pair("ES256", "es3");
    let fake = Fake::start(vec![es1_pub.clone()]).await;
    let client = fake.client().await;
    let hits = || fake.shared.jwks_hits.load(Ordering::SeqCst);
    assert_eq!(hits(), 1, "keys fetched at discovery");
    fake.attempt(&client, &es1, |_| {}).await.unwrap();
    assert_eq!(hits(), 1, "known keys are not refetched");

    // Rotation: es2 is published after discovery.
    *fake.shared.jwks.lock().unwrap() = Some(json!({ "keys": [es1_pub, es2_pub] }));
    fake.attempt(&client, &es2, |_| {}).await.unwrap();
    assert_eq!(hits(), 2, "one refetch for the new kid");

    // Another unknown kid within 30 s: no refetch, refused.
    *fake.shared.jwks.lock().unwrap() = Some(json!({ "keys": [es3_pub] }));
    let result = fake.attempt(&client, &es3, |_| {}).await;
    assert!(matches!(problem(result), IdTokenError::UnknownKey { kid: Some(ref k) } if k == "es3"));
    assert_eq!(hits(), 2, "rate-limited");
    // A forged kid does not spend a refetch on signature errors either.
    let result = fake.attempt(&client, &es3, |_| {}).await;
    assert!(matches!(problem(result), IdTokenError::UnknownKey { .. }));

    // The provider's JWKS is down: a refetch fails, the known keys still verify.
    *fake.shared.jwks.lock().unwrap() = None;
    client.expire_keys();
    let result = fake.attempt(&client, &es3, |_| {}).await;
    assert!(matches!(problem(result), IdTokenError::UnknownKey { .. }));
    assert_eq!(hits(), 3, "one attempt");
    fake.attempt(&client, &es2, |_| {}).await.unwrap();
    fake.attempt(&client, &es1, |_| {}).await.unwrap();
}

/// Errors of the token endpoint, and answers that are not token responses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_endpoint_failures_are_typed() {
    let (_, es_pub) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![es_pub]).await;
    let client = fake.client().await;
    let with_token = |status: u16, body: Value| {
        let fake = &fake;
        let client = &client;
        async move {
            *fake.shared.token.lock().unwrap() = (status, body);
            let request = LoginRequest::new(Level::Level1, scopes("openid"));
            let (pending, state, _, _) = Fake::begin(client, &request);
            client.complete(pending, &fake.callback(&state)).await
        }
    };
    match with_token(
        400,
        json!({ "error": "invalid_grant", "error_description": "used" }),
    )
    .await
    {
        Err(SdkError::TokenExchange(TokenExchangeError::Refused { code, description })) => {
            assert_eq!(
                (code.as_str(), description.as_deref()),
                ("invalid_grant", Some("used"))
            );
        }
        other => panic!("{other:?}"),
    }
    let result = with_token(
        200,
        json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer" }),
    )
    .await;
    assert!(
        matches!(result, Err(SdkError::InvalidIdToken(IdTokenError::Missing))),
        "{result:?}"
    );
    let result = with_token(200, json!({ "unexpected": true })).await;
    assert!(
        matches!(
            result,
            Err(SdkError::TokenExchange(
                TokenExchangeError::InvalidResponse(_)
            ))
        ),
        "{result:?}"
    );
    let result = with_token(
        200,
        json!({ "access_token": ACCESS_TOKEN, "token_type": "Bearer", "id_token": "not.a.jwt" }),
    )
    .await;
    assert!(result.is_err(), "{result:?}");
}

/// Forgeries get the problem that names them, not just "invalid".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgeries_are_named() {
    let (es, es_pub) = key_pair("ES256", "es1");
    let (impostor, _) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![es_pub.clone()]).await;
    let client = fake.client().await;
    let with_token = |make: Box<dyn FnOnce(&Value) -> String>| {
        let fake = &fake;
        let client = &client;
        async move {
            let request = LoginRequest::new(Level::Level2, scopes("openid"));
            let (pending, state, nonce, _) = Fake::begin(client, &request);
            fake.serve_id_token(&make(&fake.claims(&nonce)));
            client.complete(pending, &fake.callback(&state)).await
        }
    };
    let result = with_token(Box::new(|c| sign(&impostor, c))).await;
    assert!(matches!(problem(result), IdTokenError::BadSignature(_)));
    let result = with_token(Box::new(|c| {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","kid":"es1"}"#);
        format!("{header}.{}.", URL_SAFE_NO_PAD.encode(c.to_string()))
    }))
    .await;
    assert!(
        matches!(problem(result), IdTokenError::DisallowedAlgorithm { ref alg } if alg == "none")
    );
    let public_as_secret = es_pub.to_string();
    let result = with_token(Box::new(move |c| {
        let mut header = JwsHeader::new();
        header.set_key_id("es1");
        let signer = josekit::jws::HS256
            .signer_from_bytes(public_as_secret.as_bytes())
            .unwrap();
        josekit::jws::serialize_compact(c.to_string().as_bytes(), &header, &signer).unwrap()
    }))
    .await;
    assert!(
        matches!(problem(result), IdTokenError::DisallowedAlgorithm { ref alg } if alg == "HS256")
    );
    // A signed payload altered afterwards.
    let result = with_token(Box::new(|c| {
        let token = sign(&es, c);
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        let mut claims = c.clone();
        claims["acr"] = json!("urn:vneid:acr:level2");
        claims["sub"] = json!("someone-else");
        parts[1] = URL_SAFE_NO_PAD.encode(claims.to_string());
        parts.join(".")
    }))
    .await;
    assert!(matches!(problem(result), IdTokenError::BadSignature(_)));
    // typ other than JWT (a token meant for something else).
    let result = with_token(Box::new(|c| {
        let mut header = JwsHeader::new();
        header.set_token_type("at+jwt");
        header.set_key_id("es1");
        let signer = ES256.signer_from_jwk(&es).unwrap();
        josekit::jws::serialize_compact(c.to_string().as_bytes(), &header, &signer).unwrap()
    }))
    .await;
    assert!(matches!(problem(result), IdTokenError::Malformed(_)));
}

/// Signed UserInfo (`application/jwt`, OpenID Connect Core 5.3.2): read when signed by the
/// provider for this client; refused when it names another client or issuer, is signed by
/// another key under the provider's `kid`, is unsigned, or is encrypted to a client without a
/// decryption key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_userinfo_is_verified() {
    let (es, es_pub) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![es_pub]).await;
    let client = fake.client().await;
    let honest = || json!({ "iss": fake.issuer, "aud": "bank", "sub": "citizen-1", "name": "Trần Thị Bình" });
    let with_jwt = |jwt: String| {
        let fake = &fake;
        let client = &client;
        let es = &es;
        async move {
            *fake.shared.userinfo_jwt.lock().unwrap() = Some(jwt);
            let request = LoginRequest::new(Level::Level1, scopes("openid profile"));
            let (pending, state, nonce, _) = Fake::begin(client, &request);
            fake.serve_id_token(&sign(es, &fake.claims(&nonce)));
            client.complete(pending, &fake.callback(&state)).await
        }
    };
    let id = with_jwt(sign(&es, &honest())).await.unwrap();
    assert_eq!(id.full_name().as_deref(), Some("Trần Thị Bình"));
    let refused = |result: Result<vneid_sdk::VerifiedIdentity, SdkError>| {
        assert!(
            matches!(
                result,
                Err(SdkError::UserInfo(UserInfoError::InvalidResponse(_)))
            ),
            "{result:?}"
        );
    };
    let mut other_aud = honest();
    other_aud["aud"] = json!("another-client");
    refused(with_jwt(sign(&es, &other_aud)).await);
    let mut other_iss = honest();
    other_iss["iss"] = json!("https://evil.example");
    refused(with_jwt(sign(&es, &other_iss)).await);
    let (attacker, _) = key_pair("ES256", "es1");
    refused(with_jwt(sign(&attacker, &honest())).await);
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
        URL_SAFE_NO_PAD.encode(honest().to_string())
    );
    refused(with_jwt(unsigned).await);
    // Encrypted to a key this client does not have.
    let rsa = RS256.generate_key_pair(2048).unwrap();
    let mut header = josekit::jwe::JweHeader::new();
    header.set_content_encryption("A256GCM");
    let encrypter = josekit::jwe::RSA_OAEP_256
        .encrypter_from_pem(rsa.to_pem_public_key())
        .unwrap();
    let jwe = josekit::jwe::serialize_compact(sign(&es, &honest()).as_bytes(), &header, &encrypter)
        .unwrap();
    refused(with_jwt(jwe).await);
}
