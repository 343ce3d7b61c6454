//! Dynamic client registration (RFC 7591) and management (RFC 7592). Attacks: registering
//! without or with a wrong initial access token, metadata the command line would refuse, a
//! registration access token used on another client; each changes nothing.

use serde_json::{Value, json};
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, PORTAL_CALLBACK, TestProvider, VERIFIER, login, on_both_backends, param,
    spawn_provider_with,
};

const IAT: &str = "test-initial-access-token";

async fn provider(backend: Backend) -> TestProvider {
    spawn_provider_with(backend, |c| {
        c.clients.initial_access_token = Some(IAT.into())
    })
    .await
}

async fn send(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(body);
    }
    let r = request.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

fn metadata() -> Value {
    json!({
        "client_name": "Ngân hàng thử nghiệm",
        "redirect_uris": [PORTAL_CALLBACK],
        "token_endpoint_auth_method": "client_secret_post",
        "scope": "openid profile",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    })
}

async fn client_count(provider: &TestProvider) -> usize {
    provider.state.store.clients().await.unwrap().len()
}

/// Register, log in with the new client, read, replace and delete it.
async fn a_client_registers_and_manages_itself(backend: Backend) {
    let provider = provider(backend).await;
    let d: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let endpoint = d["registration_endpoint"].as_str().unwrap().to_string();
    assert_eq!(endpoint, format!("{}/register", provider.issuer));
    let endpoint = format!("{}/register", provider.base);
    let (status, reg) = send(
        reqwest::Method::POST,
        &endpoint,
        Some(IAT),
        Some(&metadata()),
    )
    .await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["client_id"].as_str().unwrap().to_string();
    let secret = reg["client_secret"].as_str().unwrap().to_string();
    let rat = reg["registration_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = reg["registration_client_uri"].as_str().unwrap();
    assert_eq!(uri, format!("{}/register/{id}", provider.issuer));
    let uri = format!("{}/register/{id}", provider.base);
    assert_eq!(reg["client_name"], "Ngân hàng thử nghiệm");
    assert_eq!(reg["client_secret_expires_at"], 0);

    // The new client logs in a citizen.
    let browser = Browser::new(&provider.base);
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[("client_id", &id)]),
        "001095000001",
    )
    .await;
    let r = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &param(&back, "code").unwrap()),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Read and replace with the registration access token.
    let (status, read) = send(reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["redirect_uris"], json!([PORTAL_CALLBACK]));
    assert!(read.get("client_secret").is_none() && read.get("registration_access_token").is_none());
    let mut changed = metadata();
    changed["client_id"] = json!(id);
    changed["client_name"] = json!("Renamed bank");
    changed["redirect_uris"] = json!(["https://bank.example/cb"]);
    let (status, put) = send(reqwest::Method::PUT, &uri, Some(&rat), Some(&changed)).await;
    assert_eq!(status, 200, "{put}");
    let (_, read) = send(reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(read["client_name"], "Renamed bank");
    assert_eq!(read["redirect_uris"], json!(["https://bank.example/cb"]));
    // The secret did not change.
    let r = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", "https://bank.example/cb"),
            ("code_verifier", VERIFIER),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant", "authenticated: {body}");

    let (status, _) = send(reqwest::Method::DELETE, &uri, Some(&rat), None).await;
    assert_eq!(status, 204);
    let (status, _) = send(reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(status, 401);
    assert!(provider.state.store.client(&id).await.unwrap().is_none());
}

/// Without the initial access token, with a wrong one, or with metadata the command line would
/// refuse: the RFC's error, and no client.
async fn registration_attacks_change_nothing(backend: Backend) {
    let provider = provider(backend).await;
    let endpoint = format!("{}/register", provider.base);
    let before = client_count(&provider).await;
    for token in [None, Some("wrong-token"), Some("demo-registration-token")] {
        let (status, body) = send(reqwest::Method::POST, &endpoint, token, Some(&metadata())).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("invalid_token")),
            "{token:?}"
        );
    }
    let with = |k: &str, v: Value| {
        let mut m = metadata();
        m[k] = v;
        m
    };
    for (meta, error) in [
        (
            with("redirect_uris", json!(["http://bank.example/cb"])),
            "invalid_redirect_uri",
        ),
        (
            with("redirect_uris", json!(["https://bank.example/cb#x"])),
            "invalid_redirect_uri",
        ),
        (with("redirect_uris", json!([])), "invalid_redirect_uri"),
        (with("scope", json!("profile")), "invalid_client_metadata"),
        (
            with("scope", json!("openid shoe_size")),
            "invalid_client_metadata",
        ),
        (
            with("token_endpoint_auth_method", json!("private_key_jwt")),
            "invalid_client_metadata",
        ),
        (
            with("token_endpoint_auth_method", json!("none")),
            "invalid_client_metadata",
        ),
        (
            with("grant_types", json!(["implicit"])),
            "invalid_client_metadata",
        ),
        (
            with(
                "jwks",
                json!({ "keys": [{ "kty": "oct", "k": "c2VjcmV0" }] }),
            ),
            "invalid_client_metadata",
        ),
        (
            with("client_id", json!("demo-portal")),
            "invalid_client_metadata",
        ),
        (
            with("software_statement", json!("eyJ.x.y")),
            "unapproved_software_statement",
        ),
    ] {
        let (status, body) = send(reqwest::Method::POST, &endpoint, Some(IAT), Some(&meta)).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{meta}"
        );
    }
    assert_eq!(client_count(&provider).await, before);

    // One client's registration access token does not open another client.
    let (_, a) = send(
        reqwest::Method::POST,
        &endpoint,
        Some(IAT),
        Some(&metadata()),
    )
    .await;
    let (_, b) = send(
        reqwest::Method::POST,
        &endpoint,
        Some(IAT),
        Some(&metadata()),
    )
    .await;
    let b_uri = format!(
        "{}/register/{}",
        provider.base,
        b["client_id"].as_str().unwrap()
    );
    let a_token = a["registration_access_token"].as_str().unwrap();
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let (status, _) = send(method, &b_uri, Some(a_token), None).await;
        assert_eq!(status, 401);
    }
    let mut changed = metadata();
    changed["client_id"] = b["client_id"].clone();
    let (status, _) = send(reqwest::Method::PUT, &b_uri, Some(a_token), Some(&changed)).await;
    assert_eq!(status, 401);
    // The operator's clients cannot be managed through the endpoint at all.
    let portal = format!("{}/register/demo-portal", provider.base);
    let (status, _) = send(reqwest::Method::DELETE, &portal, Some(IAT), None).await;
    assert_eq!(status, 401);
    assert_eq!(client_count(&provider).await, before + 2);
}

/// The token endpoint's answer to a client authenticating with a wrong code: `invalid_grant`
/// when the client is known, `invalid_client` when not.
async fn token_error(base: &str, id: &str, secret: &str) -> String {
    let r = reqwest::Client::new()
        .post(format!("{base}/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    body["error"].as_str().unwrap_or_default().to_string()
}

/// Clients are cached in memory (provider/src/cache.rs): a client deleted through one process is
/// refused there at once, and by another process on the same database within the cache's
/// lifetime, though both had just cached it.
async fn a_deleted_client_is_refused_by_every_process(backend: Backend) {
    let a = provider(backend).await;
    let b = vneid_tests::spawn_on(&a.database_url, &a.kek, Some(&a.issuer)).await;
    let (status, reg) = send(
        reqwest::Method::POST,
        &format!("{}/register", a.base),
        Some(IAT),
        Some(&metadata()),
    )
    .await;
    assert_eq!(status, 201, "{reg}");
    let id = reg["client_id"].as_str().unwrap();
    let secret = reg["client_secret"].as_str().unwrap();
    let rat = reg["registration_access_token"].as_str().unwrap();
    // Both processes know (and now cache) the client.
    assert_eq!(token_error(&a.base, id, secret).await, "invalid_grant");
    assert_eq!(token_error(&b.base, id, secret).await, "invalid_grant");

    let (status, _) = send(
        reqwest::Method::DELETE,
        &format!("{}/register/{id}", a.base),
        Some(rat),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(token_error(&a.base, id, secret).await, "invalid_client");
    tokio::time::sleep(vneid_provider::cache::CLIENT_TTL + std::time::Duration::from_millis(200))
        .await;
    assert_eq!(token_error(&b.base, id, secret).await, "invalid_client");
}

on_both_backends!(
    a_client_registers_and_manages_itself,
    registration_attacks_change_nothing,
    a_deleted_client_is_refused_by_every_process,
);
