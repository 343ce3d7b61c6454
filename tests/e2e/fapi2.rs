//! The FAPI 2.0 Security Profile as a client option (`clients add --profile fapi2`): pushed
//! requests, `private_key_jwt`, DPoP, codes of at most 60 seconds. Attacks: a fapi2 client
//! trying an authorization request that was not pushed, a client secret, a token request
//! without DPoP, an RS256 request object; a fapi2 registration with a secret.

use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader, RS256};
use josekit::jwt::JwtPayload;
use serde_json::{Value, json};
use vneid_provider::oidc::client::Profile;
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, CHALLENGE, PORTAL_CALLBACK, TestProvider, VERIFIER, login, on_both_backends, param,
    spawn_provider_with,
};

use super::dpop::{DpopKey, token_claims};

const CLIENT: &str = "fapi-bank";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn config(provider: &TestProvider) -> vneid_provider::config::Config {
    vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    )
}

/// Registers the fapi2 client with one ES256 key (and an RS256 key without `alg`, to show that
/// the profile, not the key, refuses RS256); returns the ES256 key pair and the RSA one.
async fn fapi_client(provider: &TestProvider) -> (Jwk, Jwk) {
    let es = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
    let mut es_public = es.to_public_key().unwrap();
    es_public.set_key_id("es");
    let rsa = RS256.generate_key_pair(2048).unwrap().to_jwk_key_pair();
    let mut rsa_public = rsa.to_public_key().unwrap();
    rsa_public.set_key_id("rsa");
    let mut new = vneid_provider::cli::NewClient::new(
        CLIENT,
        "FAPI bank",
        vec![PORTAL_CALLBACK.into()],
        "openid profile",
        ClientAuthMethod::PrivateKeyJwt,
    );
    new.jwks = Some(json!({ "keys": [es_public.as_ref(), rsa_public.as_ref()] }).to_string());
    new.profile = Profile::Fapi2;
    vneid_provider::cli::add_client(&config(provider), new)
        .await
        .unwrap();
    (es, rsa)
}

fn sign(key: &Jwk, kid: &str, claims: Value) -> String {
    let mut payload = JwtPayload::new();
    for (k, v) in claims.as_object().unwrap() {
        payload.set_claim(k, Some(v.clone())).unwrap();
    }
    let mut header = JwsHeader::new();
    header.set_key_id(kid);
    if key.key_type() == "RSA" {
        josekit::jwt::encode_with_signer(&payload, &header, &RS256.signer_from_jwk(key).unwrap())
    } else {
        josekit::jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(key).unwrap())
    }
    .unwrap()
}

fn assertion(provider: &TestProvider, key: &Jwk, kid: &str) -> String {
    let now = provider.state.now();
    sign(
        key,
        kid,
        json!({ "iss": CLIENT, "sub": CLIENT, "aud": provider.issuer,
                "jti": vneid_provider::secret::new_id(), "exp": now + 60, "iat": now }),
    )
}

fn request_params() -> Vec<(&'static str, &'static str)> {
    vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", PORTAL_CALLBACK),
        ("scope", "openid profile"),
        ("state", "fapi-state"),
        ("nonce", "fapi-nonce"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

fn authorize_url(provider: &TestProvider, pairs: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{}/authorize", provider.base)).unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url.to_string()
}

async fn push(provider: &TestProvider, form: &[(&str, &str)]) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/par", provider.base))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn redeem(
    provider: &TestProvider,
    key: &Jwk,
    code: &str,
    proof: Option<&str>,
) -> (u16, Value) {
    let assertion = assertion(provider, key, "es");
    let mut request = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", CLIENT),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ]);
    if let Some(proof) = proof {
        request = request.header("DPoP", proof);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The whole FAPI 2.0 flow, with each shortcut tried and refused on the way: an authorization
/// request not pushed, a pushed request with a secret or an RS256 assertion, a token request
/// without DPoP (the code stays good); the code lives at most 60 s whatever the configuration.
async fn a_fapi2_client_logs_in_only_the_fapi_way(backend: Backend) {
    let provider = spawn_provider_with(backend, |c| c.lifetimes.code = 600).await;
    let (es, rsa) = fapi_client(&provider).await;
    let browser = Browser::new(&provider.base);

    // Not pushed: sent back with invalid_request, no login starts.
    let back = browser
        .navigate(&authorize_url(&provider, &request_params()))
        .await
        .away();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert!(param(&back, "code").is_none());

    // Pushed with a client secret, or with an RS256 assertion by a registered RSA key: refused.
    let mut with_secret = request_params();
    with_secret.push(("client_secret", "guessed"));
    let (status, body) = push(&provider, &with_secret).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let rs256 = assertion(&provider, &rsa, "rsa");
    let mut with_rs256 = request_params();
    with_rs256.extend([
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", rs256.as_str()),
    ]);
    let (status, body) = push(&provider, &with_rs256).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM pushed_requests")
            .await,
        0
    );

    // The FAPI way: pushed with private_key_jwt (ES256).
    let es256 = assertion(&provider, &es, "es");
    let mut form = request_params();
    form.extend([
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", es256.as_str()),
    ]);
    let (status, body) = push(&provider, &form).await;
    assert_eq!(status, 201, "{body}");
    let url = authorize_url(
        &provider,
        &[
            ("client_id", CLIENT),
            ("request_uri", body["request_uri"].as_str().unwrap()),
        ],
    );
    let back = login(&provider, &browser, &url, "001095000001").await;
    assert_eq!(
        param(&back, "iss").as_deref(),
        Some(provider.issuer.as_str())
    );
    let code = param(&back, "code").unwrap();
    let lifetime = provider
        .scalar("SELECT MAX(expires_at) FROM auth_codes")
        .await
        - provider.state.now();
    assert!(lifetime <= 60, "a FAPI 2.0 code lives {lifetime} s");

    // Without DPoP: refused, the code stays good.
    let (status, body) = redeem(&provider, &es, &code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_dpop_proof"))
    );
    let key = DpopKey::new();
    let proof = key.proof(&token_claims(&provider).await);
    let (status, tokens) = redeem(&provider, &es, &code, Some(&proof)).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "DPoP");
}

/// A request object signed RS256 by a fapi2 client is refused, even with a registered key.
async fn a_fapi2_request_object_must_be_es256_or_ps256(backend: Backend) {
    let provider = spawn_provider_with(backend, |_| {}).await;
    let (es, rsa) = fapi_client(&provider).await;
    let now = provider.state.now();
    let mut claims = json!({ "iss": CLIENT, "aud": provider.issuer, "exp": now + 60, "nbf": now });
    for (k, v) in request_params() {
        claims[k] = json!(v);
    }
    for (key, kid, ok) in [(&rsa, "rsa", false), (&es, "es", true)] {
        let request = sign(key, kid, claims.clone());
        let assertion = assertion(&provider, &es, "es");
        let (status, body) = push(
            &provider,
            &[
                ("client_id", CLIENT),
                ("request", &request),
                ("client_assertion_type", ASSERTION_TYPE),
                ("client_assertion", &assertion),
            ],
        )
        .await;
        if ok {
            assert_eq!(status, 201, "{body}");
        } else {
            assert_eq!(
                (status, body["error"].as_str()),
                (400, Some("invalid_request_object"))
            );
        }
    }
}

/// `--profile fapi2` registers only private_key_jwt clients with ES256 ID tokens.
async fn a_fapi2_registration_needs_keys_not_a_secret(backend: Backend) {
    let provider = spawn_provider_with(backend, |_| {}).await;
    let mut new = vneid_provider::cli::NewClient::new(
        "fapi-secret",
        "FAPI with a secret",
        vec![PORTAL_CALLBACK.into()],
        "openid",
        ClientAuthMethod::SecretBasic,
    );
    new.profile = Profile::Fapi2;
    let err = vneid_provider::cli::add_client(&config(&provider), new)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("private_key_jwt"), "{err}");
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM clients WHERE id = 'fapi-secret'")
            .await,
        0
    );
}

/// panva's openid-client (npm, v6; `tests/fixtures/openid-client`) completes a FAPI 2.0 login
/// against our provider as a fapi2 client: PAR, private_key_jwt, DPoP with the nonce retry,
/// PKCE S256, the ID token and UserInfo checked on its side.
async fn openid_client_completes_a_fapi2_login(backend: Backend) {
    use std::io::{BufRead, BufReader, Write};
    let provider = spawn_provider_with(backend, |_| {}).await;
    let (es, _) = fapi_client(&provider).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/openid-client");
    assert!(
        dir.join("node_modules/openid-client").exists(),
        "run `npm ci` in {} (.ci/run does it)",
        dir.display()
    );
    let mut child = std::process::Command::new("node")
        .arg("fapi2.js")
        .args([&provider.issuer, CLIENT, PORTAL_CALLBACK])
        .arg(serde_json::to_string(es.as_ref()).unwrap())
        .arg("es")
        .current_dir(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("node must be installed");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The child talks to the provider in this process: read it off the runtime's threads.
    let (line, mut stdout) = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        (line, stdout)
    })
    .await
    .unwrap();
    let started: Value = serde_json::from_str(&line).unwrap_or(json!({ "error": line }));
    let authorize = started["authorize"]
        .as_str()
        .unwrap_or_else(|| panic!("openid-client did not start: {started}"));
    assert!(authorize.contains("request_uri="), "{authorize}");
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, authorize, "001095000001").await;
    writeln!(stdin, "{back}").unwrap();
    drop(stdin);
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line
    })
    .await
    .unwrap();
    let _ = child.wait();
    let done: Value = serde_json::from_str(&line).unwrap_or(json!({ "error": line }));
    assert!(done["error"].is_null(), "openid-client failed: {done}");
    assert_eq!(done["token_type"], "dpop", "{done}");
    assert_eq!(done["claims"]["iss"], provider.issuer.as_str());
    assert_eq!(done["claims"]["aud"], CLIENT);
    assert_eq!(done["userinfo"]["sub"], done["claims"]["sub"]);
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM tokens WHERE dpop_jkt IS NOT NULL AND kind = 'access'")
            .await,
        1
    );
}

on_both_backends!(
    openid_client_completes_a_fapi2_login,
    a_fapi2_client_logs_in_only_the_fapi_way,
    a_fapi2_request_object_must_be_es256_or_ps256,
    a_fapi2_registration_needs_keys_not_a_secret,
);
