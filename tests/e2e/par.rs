//! Pushed authorization requests (RFC 9126) and signed request objects (RFC 9101): a client
//! pushes its request, authenticated, and sends the browser with `request_uri`; a client signs
//! its request with a registered key. Attacks: a `request_uri` used twice, after expiry or by
//! another client; an unsigned, wrong-audience or expired request object.

use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::JwtPayload;
use serde_json::{Value, json};
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::browser::{Browser, Landing};
use vneid_tests::{
    Backend, CHALLENGE, PORTAL_CALLBACK, TestProvider, VERIFIER, login, on_both_backends, param,
    spawn_provider, spawn_provider_with,
};

const URN: &str = "urn:ietf:params:oauth:request_uri:";

/// The demo portal's authorization parameters, overridden by `extra`.
fn request_params(client_id: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", PORTAL_CALLBACK),
        ("scope", "openid profile"),
        ("state", "pushed-state"),
        ("nonce", "n0nce"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        all.retain(|(name, _)| name != k);
        if !v.is_empty() {
            all.push((k.to_string(), v.to_string()));
        }
    }
    all
}

/// Pushes as the demo portal with `client_secret_basic` (or `secret` for `client`).
async fn push(
    provider: &TestProvider,
    client: &str,
    secret: Option<&str>,
    params: &[(String, String)],
) -> (u16, Value) {
    let mut request = reqwest::Client::new().post(format!("{}/par", provider.base));
    if let Some(secret) = secret {
        request = request.basic_auth(client, Some(secret));
    }
    let r = request.form(params).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

pub(super) fn authorize_with(provider: &TestProvider, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{}/authorize", provider.base)).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

/// A pushed request logs in once: the browser carries only `client_id` and `request_uri`.
async fn a_pushed_request_logs_in_once(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (status, body) = push(
        &provider,
        "demo-portal",
        Some("demo-portal-secret"),
        &request_params("demo-portal", &[]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["expires_in"], 60);
    let request_uri = body["request_uri"].as_str().unwrap().to_string();
    assert!(request_uri.starts_with(URN), "{request_uri}");
    let browser = Browser::new(&provider.base);
    let url = authorize_with(
        &provider,
        &[("client_id", "demo-portal"), ("request_uri", &request_uri)],
    );
    let back = login(&provider, &browser, &url, "001095000001").await;
    assert_eq!(param(&back, "state").as_deref(), Some("pushed-state"));
    let (status, tokens) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200, "{tokens}");

    // Used twice: refused, even with a live session and consent that would issue at once.
    match browser.navigate(&url).await {
        Landing::Page { status, html, .. } => {
            assert_eq!(status, 400);
            assert!(html.contains("role=\"alert\""), "{html}");
        }
        Landing::Away(url) => panic!("a used request_uri sent the browser to {url}"),
    }
    let with_redirect = authorize_with(
        &provider,
        &[
            ("client_id", "demo-portal"),
            ("request_uri", &request_uri),
            ("redirect_uri", PORTAL_CALLBACK),
        ],
    );
    let back = browser.navigate(&with_redirect).await.away();
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("invalid_request_uri")
    );
    assert!(param(&back, "code").is_none());
}

/// A `request_uri` dies after 60 seconds, and is only its own client's.
async fn a_request_uri_expires_and_belongs_to_its_client(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    let fresh = || async {
        let (status, body) = push(
            &provider,
            "demo-portal",
            Some("demo-portal-secret"),
            &request_params("demo-portal", &[]),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        body["request_uri"].as_str().unwrap().to_string()
    };
    let refused = |client: &'static str, uri: String| {
        let url = authorize_with(
            &provider,
            &[
                ("client_id", client),
                ("request_uri", &uri),
                ("redirect_uri", PORTAL_CALLBACK),
            ],
        );
        let browser = &browser;
        async move {
            match browser.navigate(&url).await {
                Landing::Away(back) => {
                    assert!(param(&back, "code").is_none(), "{back}");
                    param(&back, "error")
                }
                Landing::Page { status, .. } => {
                    assert_eq!(status, 400);
                    None
                }
            }
        }
    };
    let expired = fresh().await;
    provider.state.clock.advance(61);
    assert_eq!(
        refused("demo-portal", expired).await.as_deref(),
        Some("invalid_request_uri")
    );
    // demo-bank presenting the portal's request_uri gets nothing, and burns it.
    let stolen = fresh().await;
    refused("demo-bank", stolen.clone()).await;
    assert_eq!(
        refused("demo-portal", stolen).await.as_deref(),
        Some("invalid_request_uri")
    );
    // A made-up request_uri.
    let made_up = format!("{URN}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        refused("demo-portal", made_up).await.as_deref(),
        Some("invalid_request_uri")
    );
}

/// The PAR endpoint authenticates the client and validates the request before storing it.
async fn pushing_needs_a_client_and_a_valid_request(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let params = request_params("demo-portal", &[]);
    let (status, body) = push(&provider, "demo-portal", None, &params).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = push(&provider, "demo-portal", Some("wrong"), &params).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    // client_secret_post works as well (a secret client may use either).
    let mut posted = params.clone();
    posted.push(("client_secret".into(), "demo-portal-secret".into()));
    let (status, body) = push(&provider, "demo-portal", None, &posted).await;
    assert_eq!(status, 201, "{body}");
    for (extra, error) in [
        (
            ("redirect_uri", "http://evil.example/cb"),
            "invalid_request",
        ),
        (("scope", "profile"), "invalid_scope"),
        (("code_challenge_method", "plain"), "invalid_request"),
        (
            ("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            "invalid_request",
        ),
        (("client_id", "demo-bank"), "invalid_request"),
    ] {
        let (status, body) = push(
            &provider,
            "demo-portal",
            Some("demo-portal-secret"),
            &request_params("demo-portal", &[extra]),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{extra:?}"
        );
        assert!(body.get("request_uri").is_none());
    }
}

/// A client registered with `--require-par` cannot start a login at the front channel.
async fn a_par_client_must_push(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let mut new = vneid_provider::cli::NewClient::new(
        "par-bank",
        "PAR bank",
        vec![PORTAL_CALLBACK.into()],
        "openid profile",
        ClientAuthMethod::SecretBasic,
    );
    new.require_par = true;
    let secret = vneid_provider::cli::add_client(&config, new).await.unwrap();
    let browser = Browser::new(&provider.base);
    let back = browser
        .navigate(&provider.authorize_url(&[("client_id", "par-bank")]))
        .await
        .away();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert!(param(&back, "code").is_none());
    let (status, body) = push(
        &provider,
        "par-bank",
        Some(&secret),
        &request_params("par-bank", &[]),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let url = authorize_with(
        &provider,
        &[
            ("client_id", "par-bank"),
            ("request_uri", body["request_uri"].as_str().unwrap()),
        ],
    );
    let back = login(&provider, &browser, &url, "001095000001").await;
    assert!(param(&back, "code").is_some(), "{back}");
}

/// The server-wide switch makes every client push, and discovery says so.
async fn the_server_can_require_par_for_everyone(backend: Backend) {
    let provider = spawn_provider_with(backend, |c| {
        c.clients.require_pushed_authorization_requests = true
    })
    .await;
    let discovery: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(discovery["require_pushed_authorization_requests"], true);
    let back = Browser::new(&provider.base)
        .navigate(&provider.authorize_url(&[]))
        .await
        .away();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
}

// ---- Signed request objects ----

pub(super) struct Keyed {
    key: Jwk,
}

/// Registers `keyed-bank`: private_key_jwt with one ES256 key, which also signs its requests.
pub(super) async fn keyed_client(provider: &TestProvider) -> Keyed {
    let key = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
    let mut public = key.to_public_key().unwrap();
    public.set_key_id("rp-key");
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let mut new = vneid_provider::cli::NewClient::new(
        "keyed-bank",
        "Keyed bank",
        vec![PORTAL_CALLBACK.into()],
        "openid profile email",
        ClientAuthMethod::PrivateKeyJwt,
    );
    new.jwks = Some(json!({ "keys": [public.as_ref()] }).to_string());
    vneid_provider::cli::add_client(&config, new).await.unwrap();
    Keyed { key }
}

impl Keyed {
    pub(super) fn sign(&self, claims: Value, alg_none: bool) -> String {
        if alg_none {
            use base64::Engine;
            let b64 = |v: &Value| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
            };
            return format!("{}.{}.", b64(&json!({ "alg": "none" })), b64(&claims));
        }
        let mut payload = JwtPayload::new();
        for (k, v) in claims.as_object().unwrap() {
            payload.set_claim(k, Some(v.clone())).unwrap();
        }
        let mut header = JwsHeader::new();
        header.set_key_id("rp-key");
        josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &ES256.signer_from_jwk(&self.key).unwrap(),
        )
        .unwrap()
    }

    pub(super) fn assertion(&self, audience: &str) -> String {
        let now = unix_now();
        self.sign(
            json!({ "iss": "keyed-bank", "sub": "keyed-bank", "aud": audience,
                    "jti": vneid_provider::secret::new_id(), "exp": now + 60, "iat": now }),
            false,
        )
    }
}

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub(super) fn request_claims(provider: &TestProvider) -> Value {
    let now = unix_now();
    json!({
        "iss": "keyed-bank", "aud": provider.issuer, "exp": now + 300, "nbf": now - 5,
        "iat": now, "jti": vneid_provider::secret::new_id(),
        "response_type": "code", "client_id": "keyed-bank", "redirect_uri": PORTAL_CALLBACK,
        "scope": "openid profile", "state": "signed-state", "nonce": "signed-nonce",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256",
        "claims": { "userinfo": { "email": { "essential": true } } },
    })
}

pub(super) async fn redeem_keyed(
    provider: &TestProvider,
    keyed: &Keyed,
    code: &str,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", "keyed-bank"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &keyed.assertion(&provider.issuer)),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// A signed request object by value at /authorize: its parameters win over the outer ones.
async fn a_signed_request_object_wins(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let keyed = keyed_client(&provider).await;
    let jwt = keyed.sign(request_claims(&provider), false);
    let url = authorize_with(
        &provider,
        &[
            ("client_id", "keyed-bank"),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "outer-state"),
            ("request", &jwt),
        ],
    );
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, &url, "001095000001").await;
    assert_eq!(param(&back, "state").as_deref(), Some("signed-state"));
    let (status, tokens) = redeem_keyed(&provider, &keyed, &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile", "the object's scope won");
}

/// PAR with private_key_jwt and a signed request object inside: the FAPI 2.0 shape.
async fn a_signed_request_can_be_pushed_with_private_key_jwt(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let keyed = keyed_client(&provider).await;
    let jwt = keyed.sign(request_claims(&provider), false);
    let r = reqwest::Client::new()
        .post(format!("{}/par", provider.base))
        .form(&[
            ("client_id", "keyed-bank"),
            ("request", jwt.as_str()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &keyed.assertion(&provider.issuer)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let url = authorize_with(
        &provider,
        &[
            ("client_id", "keyed-bank"),
            ("request_uri", body["request_uri"].as_str().unwrap()),
        ],
    );
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, &url, "001095000001").await;
    assert_eq!(param(&back, "state").as_deref(), Some("signed-state"));
    let (status, tokens) = redeem_keyed(&provider, &keyed, &param(&back, "code").unwrap()).await;
    assert_eq!(status, 200, "{tokens}");
    let info: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        info["email"].is_string(),
        "the object's claims request: {info}"
    );
}

/// Unsigned, wrong-audience, expired, foreign-key or mismatched request objects are refused
/// with `invalid_request_object`, at /authorize and at /par, and start no login.
async fn bad_request_objects_are_refused(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let keyed = keyed_client(&provider).await;
    let stranger = Keyed {
        key: ES256.generate_key_pair().unwrap().to_jwk_key_pair(),
    };
    let with = |k: &str, v: Value| {
        let mut c = request_claims(&provider);
        c[k] = v;
        c
    };
    let now = unix_now();
    let bad = [
        keyed.sign(request_claims(&provider), true),
        keyed.sign(with("aud", json!("https://elsewhere.example")), false),
        keyed.sign(with("exp", json!(now - 10)), false),
        keyed.sign(with("iss", json!("demo-portal")), false),
        keyed.sign(with("client_id", json!("demo-portal")), false),
        stranger.sign(request_claims(&provider), false),
    ];
    let browser = Browser::new(&provider.base);
    for jwt in &bad {
        let url = authorize_with(
            &provider,
            &[
                ("client_id", "keyed-bank"),
                ("redirect_uri", PORTAL_CALLBACK),
                ("state", "outer-state"),
                ("request", jwt),
            ],
        );
        let back = browser.navigate(&url).await.away();
        assert_eq!(
            param(&back, "error").as_deref(),
            Some("invalid_request_object"),
            "{back}"
        );
        assert_eq!(param(&back, "state").as_deref(), Some("outer-state"));
        assert!(param(&back, "code").is_none());
        let r = reqwest::Client::new()
            .post(format!("{}/par", provider.base))
            .form(&[
                ("client_id", "keyed-bank"),
                ("request", jwt.as_str()),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
                ("client_assertion", &keyed.assertion(&provider.issuer)),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request_object", "{body}");
    }
    // A secret client with no registered keys cannot sign requests at all.
    let jwt = keyed.sign(with("client_id", json!("demo-portal")), false);
    let back = browser
        .navigate(&provider.authorize_url(&[("request", &jwt)]))
        .await
        .away();
    assert_eq!(
        param(&back, "error").as_deref(),
        Some("invalid_request_object")
    );
}

/// Discovery lists what now works.
async fn discovery_lists_par_and_request_objects(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let d: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let at = |p: &str| json!(format!("{}{p}", provider.issuer));
    assert_eq!(d["pushed_authorization_request_endpoint"], at("/par"));
    assert_eq!(d["require_pushed_authorization_requests"], false);
    assert_eq!(d["request_parameter_supported"], true);
    assert_eq!(
        d["request_object_signing_alg_values_supported"],
        json!(["ES256", "PS256", "RS256"])
    );
    assert_eq!(d["revocation_endpoint"], at("/revoke"));
    assert_eq!(d["introspection_endpoint"], at("/introspect"));
    assert!(
        d.get("registration_endpoint").is_none(),
        "no initial access token configured"
    );
}

on_both_backends!(
    a_pushed_request_logs_in_once,
    a_request_uri_expires_and_belongs_to_its_client,
    pushing_needs_a_client_and_a_valid_request,
    a_par_client_must_push,
    the_server_can_require_par_for_everyone,
    a_signed_request_object_wins,
    a_signed_request_can_be_pushed_with_private_key_jwt,
    bad_request_objects_are_refused,
    discovery_lists_par_and_request_objects,
);
