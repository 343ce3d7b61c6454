//! DPoP (RFC 9449): tokens bound to the client's key at the token endpoint, UserInfo that wants
//! the proof, introspection that tells the key. Attacks: a proof replayed, for another URL or
//! method, with a wrong `ath`, too old, without the server nonce, with a private key or no
//! signature (`alg: none`, HS256) in it; a bound token used as Bearer, without its proof or with
//! another key. Each gets the RFC's error and uses nothing up.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, HS256, JwsHeader};
use josekit::jwt::JwtPayload;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, PORTAL_CALLBACK, TestProvider, VERIFIER, login, login_code, on_both_backends, param,
    spawn_provider,
};

/// A client's DPoP key.
pub struct DpopKey {
    pub pair: Jwk,
}

/// What a proof says; the tests bend one thing at a time.
pub struct Claims<'a> {
    pub htm: &'a str,
    pub htu: String,
    pub iat: i64,
    pub nonce: Option<String>,
    pub access_token: Option<&'a str>,
}

impl DpopKey {
    pub fn new() -> Self {
        DpopKey {
            pair: ES256.generate_key_pair().unwrap().to_jwk_key_pair(),
        }
    }

    pub fn public(&self) -> Value {
        serde_json::to_value(self.pair.to_public_key().unwrap().as_ref()).unwrap()
    }

    /// The RFC 7638 thumbprint of the public key.
    pub fn jkt(&self) -> String {
        let p = self.public();
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            p["x"].as_str().unwrap(),
            p["y"].as_str().unwrap()
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    fn payload(claims: &Claims<'_>) -> Value {
        let mut payload = json!({
            "jti": vneid_provider::secret::new_id(),
            "htm": claims.htm,
            "htu": claims.htu,
            "iat": claims.iat,
        });
        if let Some(nonce) = &claims.nonce {
            payload["nonce"] = json!(nonce);
        }
        if let Some(token) = claims.access_token {
            payload["ath"] = json!(URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes())));
        }
        payload
    }

    /// A proof with `jwk` in its header, signed with this key.
    pub fn sign_with_jwk(&self, jwk: Value, claims: &Claims<'_>) -> String {
        let mut header = JwsHeader::new();
        header.set_token_type("dpop+jwt");
        header.set_claim("jwk", Some(jwk)).unwrap();
        let mut payload = JwtPayload::new();
        for (k, v) in Self::payload(claims).as_object().unwrap() {
            payload.set_claim(k, Some(v.clone())).unwrap();
        }
        josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &ES256.signer_from_jwk(&self.pair).unwrap(),
        )
        .unwrap()
    }

    pub fn proof(&self, claims: &Claims<'_>) -> String {
        self.sign_with_jwk(self.public(), claims)
    }
}

/// The provider's clock, as proofs must use it.
pub fn now(provider: &TestProvider) -> i64 {
    provider.state.now()
}

/// A fresh server nonce: every answer of the token endpoint carries one.
pub async fn server_nonce(provider: &TestProvider) -> String {
    let r = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    r.headers()["dpop-nonce"].to_str().unwrap().to_string()
}

/// Good claims for the token endpoint, with the current nonce.
pub async fn token_claims(provider: &TestProvider) -> Claims<'static> {
    Claims {
        htm: "POST",
        htu: format!("{}/token", provider.issuer),
        iat: now(provider),
        nonce: Some(server_nonce(provider).await),
        access_token: None,
    }
}

/// Redeems a code as the demo portal, with `proof` in a `DPoP` header when given.
async fn redeem(provider: &TestProvider, code: &str, proof: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth("demo-portal", Some("demo-portal-secret"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
        ]);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Calls UserInfo with `authorization` and an optional proof; status, `WWW-Authenticate`, body.
async fn userinfo(
    provider: &TestProvider,
    authorization: &str,
    proof: Option<&str>,
) -> (u16, String, Value) {
    let mut request = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .header("Authorization", authorization);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let r = request.send().await.unwrap();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        r.status().as_u16(),
        challenge,
        r.json().await.unwrap_or(Value::Null),
    )
}

/// A login to the demo portal that gives a refresh token too.
async fn offline_code(provider: &TestProvider) -> String {
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("scope", "openid profile offline_access")]);
    let back = login(provider, &browser, &url, "001095000001").await;
    param(&back, "code").unwrap()
}

/// A bound token: `token_type: DPoP`; UserInfo wants the DPoP scheme, a proof by the same key
/// with the token's hash, for GET at /userinfo, with the nonce, once. Introspection tells the key.
async fn dpop_bound_tokens_need_their_proof_at_userinfo(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let code = login_code(&provider, &Browser::new(&provider.base), "001095000001").await;
    let key = DpopKey::new();
    let (status, tokens) = redeem(
        &provider,
        &code,
        Some(&key.proof(&token_claims(&provider).await)),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
    let token = tokens["access_token"].as_str().unwrap();
    let dpop = format!("DPoP {token}");
    let nonce = server_nonce(&provider).await;
    let good = |provider: &TestProvider| Claims {
        htm: "GET",
        htu: format!("{}/userinfo", provider.issuer),
        iat: now(provider),
        nonce: Some(nonce.clone()),
        access_token: Some(token),
    };

    // As Bearer, as DPoP without a proof: refused with a DPoP challenge.
    let (status, challenge, body) = userinfo(&provider, &format!("Bearer {token}"), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_token"))
    );
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    let (status, challenge, body) = userinfo(&provider, &dpop, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_dpop_proof"))
    );
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    // Another key, another method, another URL, a wrong ath, too old, no nonce.
    let other = DpopKey::new().proof(&good(&provider));
    let post = key.proof(&Claims {
        htm: "POST",
        ..good(&provider)
    });
    let url = key.proof(&Claims {
        htu: format!("{}/token", provider.issuer),
        ..good(&provider)
    });
    let ath = key.proof(&Claims {
        access_token: Some("another-token"),
        ..good(&provider)
    });
    let old = key.proof(&Claims {
        iat: now(&provider) - 600,
        ..good(&provider)
    });
    for proof in [&other, &post, &url, &ath, &old] {
        let (status, challenge, body) = userinfo(&provider, &dpop, Some(proof)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_dpop_proof")),
            "{body}"
        );
        assert!(challenge.starts_with("DPoP "), "{challenge}");
    }
    let r = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .header("Authorization", &dpop)
        .header(
            "DPoP",
            key.proof(&Claims {
                nonce: None,
                ..good(&provider)
            }),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("dpop-nonce"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "use_dpop_nonce");

    // The right proof works once; replayed, it is refused.
    let proof = key.proof(&good(&provider));
    let (status, _, body) = userinfo(&provider, &dpop, Some(&proof)).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["sub"].is_string());
    let (status, _, body) = userinfo(&provider, &dpop, Some(&proof)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_dpop_proof"))
    );

    // Introspection by a resource server shows the binding.
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let mut rs = vneid_provider::cli::NewClient::new(
        "api-gateway",
        "API gateway",
        vec![PORTAL_CALLBACK.into()],
        "openid",
        ClientAuthMethod::SecretBasic,
    );
    rs.resource_server = true;
    let secret = vneid_provider::cli::add_client(&config, rs).await.unwrap();
    let info: Value = reqwest::Client::new()
        .post(format!("{}/introspect", provider.base))
        .basic_auth("api-gateway", Some(&secret))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["active"], true, "{info}");
    assert_eq!(info["token_type"], "DPoP");
    assert_eq!(info["cnf"]["jkt"], key.jkt());
}

/// At the token endpoint: every bad proof is `invalid_dpop_proof` (or `use_dpop_nonce`) and the
/// code stays unredeemed; a proof spent on a failed request cannot be replayed.
async fn bad_proofs_at_the_token_endpoint_leave_the_code(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let code = login_code(&provider, &Browser::new(&provider.base), "001095000001").await;
    let key = DpopKey::new();
    let good = token_claims(&provider).await;
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string().as_bytes());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({ "typ": "dpop+jwt", "alg": "none", "jwk": key.public() })),
        b64(&DpopKey::payload(&good))
    );
    let hs256 = {
        let secret = b"a shared secret of thirty-two by";
        let mut header = JwsHeader::new();
        header.set_token_type("dpop+jwt");
        let jwk = json!({ "kty": "oct", "k": URL_SAFE_NO_PAD.encode(secret) });
        header.set_claim("jwk", Some(jwk)).unwrap();
        let mut payload = JwtPayload::new();
        for (k, v) in DpopKey::payload(&good).as_object().unwrap() {
            payload.set_claim(k, Some(v.clone())).unwrap();
        }
        josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &HS256.signer_from_bytes(secret).unwrap(),
        )
        .unwrap()
    };
    let private = key.sign_with_jwk(serde_json::to_value(key.pair.as_ref()).unwrap(), &good);
    let bad = [
        unsigned,
        hs256,
        private,
        key.proof(&Claims {
            htm: "GET",
            ..token_claims(&provider).await
        }),
        key.proof(&Claims {
            htu: format!("{}/userinfo", provider.issuer),
            ..token_claims(&provider).await
        }),
        key.proof(&Claims {
            iat: now(&provider) - 301,
            ..token_claims(&provider).await
        }),
        "not-a-jwt".to_string(),
    ];
    for proof in &bad {
        let (status, body) = redeem(&provider, &code, Some(proof)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{body}"
        );
    }
    let stale = key.proof(&Claims {
        nonce: Some("a-nonce-we-never-gave".into()),
        ..token_claims(&provider).await
    });
    let (status, body) = redeem(&provider, &code, Some(&stale)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce"))
    );

    // A good proof spent on a failed exchange cannot be used again.
    let spent = key.proof(&token_claims(&provider).await);
    let (status, body) = redeem(&provider, "not-a-code", Some(&spent)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, body) = redeem(&provider, &code, Some(&spent)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );

    // Nothing was used up: the code still redeems, bound to the key.
    let (status, tokens) = redeem(
        &provider,
        &code,
        Some(&key.proof(&token_claims(&provider).await)),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
}

/// A bound refresh token is refreshed only with a proof by its key; refused attempts leave it
/// usable.
async fn a_bound_refresh_token_needs_its_key(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let code = offline_code(&provider).await;
    let key = DpopKey::new();
    let (status, tokens) = redeem(
        &provider,
        &code,
        Some(&key.proof(&token_claims(&provider).await)),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let refresh = |proof: Option<String>| {
        let refresh_token = refresh_token.clone();
        let base = provider.base.clone();
        async move {
            let mut request = reqwest::Client::new()
                .post(format!("{base}/token"))
                .basic_auth("demo-portal", Some("demo-portal-secret"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh_token.as_str()),
                ]);
            if let Some(proof) = proof {
                request = request.header("DPoP", proof);
            }
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = refresh(None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let other = DpopKey::new().proof(&token_claims(&provider).await);
    let (status, body) = refresh(Some(other)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let (status, body) = refresh(Some(key.proof(&token_claims(&provider).await))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "DPoP");
}

/// A code bound to a key (RFC 9449 10), by a proof sent with the pushed request or by
/// `dpop_jkt` at /authorize, is redeemed only with that key: other keys and no proof are refused
/// and leave the code to its client.
async fn a_code_bound_to_a_key_needs_that_key(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let key = DpopKey::new();
    let browser = Browser::new(&provider.base);

    // Pushed with a proof (the nonce first, as at the token endpoint).
    let pushed = |proof: String| {
        let base = provider.base.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/par"))
                .basic_auth("demo-portal", Some("demo-portal-secret"))
                .header("DPoP", proof)
                .form(&[
                    ("response_type", "code"),
                    ("client_id", "demo-portal"),
                    ("redirect_uri", PORTAL_CALLBACK),
                    ("scope", "openid profile"),
                    ("state", "s"),
                    ("code_challenge", vneid_tests::CHALLENGE),
                    ("code_challenge_method", "S256"),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let par_claims = |nonce: Option<String>| Claims {
        htm: "POST",
        htu: format!("{}/par", provider.issuer),
        iat: now(&provider),
        nonce,
        access_token: None,
    };
    let (status, body) = pushed(key.proof(&par_claims(None))).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("use_dpop_nonce"))
    );
    let nonce = server_nonce(&provider).await;
    let (status, body) = pushed(key.proof(&par_claims(Some(nonce)))).await;
    assert_eq!(status, 201, "{body}");
    let mut url = url::Url::parse(&format!("{}/authorize", provider.base)).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("client_id", "demo-portal"),
        ("request_uri", body["request_uri"].as_str().unwrap()),
    ]);
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let pushed_code = param(&back, "code").unwrap();

    // Named with dpop_jkt at /authorize.
    let url = provider.authorize_url(&[("dpop_jkt", &key.jkt())]);
    let back = login(&provider, &browser, &url, "001095000001").await;
    let named_code = param(&back, "code").unwrap();

    for code in [&pushed_code, &named_code] {
        let other = DpopKey::new().proof(&token_claims(&provider).await);
        for proof in [None, Some(other.as_str())] {
            let (status, body) = redeem(&provider, code, proof).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_dpop_proof")),
                "{body}"
            );
        }
        let (status, tokens) = redeem(
            &provider,
            code,
            Some(&key.proof(&token_claims(&provider).await)),
        )
        .await;
        assert_eq!(status, 200, "{tokens}");
        assert_eq!(tokens["token_type"], "DPoP");
    }
}

/// A client registered with `--require-dpop` gets no token without a proof; the code survives
/// the refusal.
async fn a_client_that_requires_dpop_gets_no_bearer_token(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let mut new = vneid_provider::cli::NewClient::new(
        "dpop-only",
        "DPoP only",
        vec![PORTAL_CALLBACK.into()],
        "openid profile",
        ClientAuthMethod::SecretBasic,
    );
    new.require_dpop = true;
    let secret = vneid_provider::cli::add_client(&config, new).await.unwrap();
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("client_id", "dpop-only")]);
    let code = param(
        &login(&provider, &browser, &url, "001095000001").await,
        "code",
    )
    .unwrap();
    let exchange = |proof: Option<String>| {
        let (base, code, secret) = (provider.base.clone(), code.clone(), secret.clone());
        async move {
            let mut request = reqwest::Client::new()
                .post(format!("{base}/token"))
                .basic_auth("dpop-only", Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", PORTAL_CALLBACK),
                    ("code_verifier", VERIFIER),
                ]);
            if let Some(proof) = proof {
                request = request.header("DPoP", proof);
            }
            let r = request.send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = exchange(None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let key = DpopKey::new();
    let (status, tokens) = exchange(Some(key.proof(&token_claims(&provider).await))).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
}

/// Discovery lists the DPoP algorithms.
async fn discovery_lists_dpop_algorithms(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let doc: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        doc["dpop_signing_alg_values_supported"],
        json!(["ES256", "PS256"])
    );
}

on_both_backends!(
    dpop_bound_tokens_need_their_proof_at_userinfo,
    bad_proofs_at_the_token_endpoint_leave_the_code,
    a_bound_refresh_token_needs_its_key,
    a_code_bound_to_a_key_needs_that_key,
    a_client_that_requires_dpop_gets_no_bearer_token,
    discovery_lists_dpop_algorithms,
);
