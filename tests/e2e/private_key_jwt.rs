//! `private_key_jwt` at the token endpoint: a client registered with its public keys proves
//! itself with a signed, single-use assertion.

use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::JwtPayload;
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, PORTAL_CALLBACK, VERIFIER, login, on_both_backends, param, spawn_provider,
};

fn assertion(key: &josekit::jwk::Jwk, client: &str, aud: &str, jti: &str, exp_in: i64) -> String {
    let mut payload = JwtPayload::new();
    payload.set_issuer(client);
    payload.set_subject(client);
    payload.set_audience(vec![aud]);
    payload.set_jwt_id(jti);
    let now = std::time::SystemTime::now();
    payload.set_issued_at(&now);
    let exp = if exp_in >= 0 {
        now + std::time::Duration::from_secs(exp_in as u64)
    } else {
        now - std::time::Duration::from_secs((-exp_in) as u64)
    };
    payload.set_expires_at(&exp);
    let mut header = JwsHeader::new();
    header.set_key_id("rp-key");
    josekit::jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(key).unwrap())
        .unwrap()
}

/// Registers a `private_key_jwt` client with one public key.
async fn register_keyed(
    provider: &vneid_tests::TestProvider,
    id: &str,
    public: &josekit::jwk::Jwk,
) {
    let jwks =
        serde_json::json!({ "keys": [serde_json::to_value(public.as_ref()).unwrap()] }).to_string();
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let mut registration = vneid_provider::cli::NewClient::new(
        id,
        "Keyed client",
        vec![PORTAL_CALLBACK.into()],
        "openid profile",
        ClientAuthMethod::PrivateKeyJwt,
    );
    registration.jwks = Some(jwks);
    assert_eq!(
        vneid_provider::cli::add_client(&config, registration)
            .await
            .unwrap(),
        "",
        "no secret"
    );
}

async fn clients_authenticate_with_a_signed_assertion(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let key = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
    let mut public = key.to_public_key().unwrap();
    public.set_key_id("rp-key");
    public.set_algorithm("ES256");
    register_keyed(&provider, "keyed-bank", &public).await;
    let token_endpoint = format!("{}/token", provider.issuer);
    let browser = Browser::new(&provider.base);
    let redeem = |code: String, assertion: String| {
        let url = format!("{}/token", provider.base);
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", PORTAL_CALLBACK),
                    ("code_verifier", VERIFIER),
                    ("client_id", "keyed-bank"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", &assertion),
                ])
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[("client_id", "keyed-bank")]),
        "001095000001",
    )
    .await;
    let code = param(&back, "code").unwrap();
    let good = assertion(&key, "keyed-bank", &token_endpoint, "jti-1", 60);
    let (status, body) = redeem(code, good.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["id_token"].is_string());
    // The same assertion again, a wrong audience, an expired one, another key: all invalid_client.
    let other = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
    for bad in [
        good,
        assertion(
            &key,
            "keyed-bank",
            "https://elsewhere.example/token",
            "jti-2",
            60,
        ),
        assertion(&key, "keyed-bank", &token_endpoint, "jti-3", -60),
        assertion(&other, "keyed-bank", &token_endpoint, "jti-4", 60),
    ] {
        let back = browser
            .navigate(&provider.authorize_url(&[("client_id", "keyed-bank")]))
            .await
            .away();
        let (status, body) = redeem(param(&back, "code").unwrap(), bad).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_client")),
            "{body}"
        );
    }
}

on_both_backends!(clients_authenticate_with_a_signed_assertion);

/// The SDK signs its own assertions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_authenticates_with_private_key_jwt() {
    let provider = spawn_provider(Backend::Sqlite).await;
    let pair = ES256.generate_key_pair().unwrap();
    let mut public = pair.to_jwk_public_key();
    public.set_key_id("sdk-key");
    public.set_algorithm("ES256");
    register_keyed(&provider, "keyed-portal", &public).await;
    let pem = String::from_utf8(pair.to_pem_private_key()).unwrap();
    let credentials = vneid_sdk::ClientCredentials::PrivateKeyJwt {
        key_id: "sdk-key".into(),
        private_key_pem: pem.into(),
    };
    let client = vneid_sdk::VneidClient::discover(
        &provider.issuer,
        "keyed-portal",
        credentials,
        PORTAL_CALLBACK,
    )
    .await
    .unwrap();
    let request = vneid_sdk::LoginRequest::new(
        vneid_sdk::Level::Level1,
        vneid_sdk::ScopeSet::parse("openid profile").unwrap(),
    );
    let (url, pending) = client.begin(&request);
    let browser = Browser::new(&provider.base);
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let identity = client
        .complete(pending, back.query().unwrap())
        .await
        .unwrap();
    assert_eq!(identity.full_name().as_deref(), Some("Nguyễn Văn An"));
}
