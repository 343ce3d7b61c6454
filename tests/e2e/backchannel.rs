//! Back-Channel Logout 1.0: ID tokens carry a `sid` stable for the browser session; when the
//! session ends (RP-initiated logout, the /account logout button), each client it logged in to
//! that registered a `backchannel_logout_uri` is POSTed a logout token through the outbox. The
//! receiver here is a real HTTP server on a loopback port; each token is checked against our
//! JWKS. Attacks: a cross-site logout link, another browser's session, a client without an
//! endpoint, an endpoint that is not https: none of them gets (or causes) a logout token.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::JwkSet;
use josekit::jws::ES256;
use serde_json::Value;
use tokio::sync::mpsc;
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::browser::{Browser, form};
use vneid_tests::{
    Backend, PORTAL_CALLBACK, TestProvider, VERIFIER, login, on_both_backends, param,
    spawn_provider,
};

const RP: &str = "bcl-rp";
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// What the receiver got: the content type and the `logout_token` form field.
struct Received {
    content_type: String,
    token: String,
}

/// A back-channel logout endpoint on a loopback port: answers `statuses` in turn (then 200)
/// and hands every request to the test.
async fn receiver(statuses: Vec<u16>) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let answers = std::sync::Arc::new(std::sync::Mutex::new(statuses.into_iter()));
    type Shared = (
        mpsc::UnboundedSender<Received>,
        std::sync::Arc<std::sync::Mutex<std::vec::IntoIter<u16>>>,
    );
    async fn handle(
        State((tx, answers)): State<Shared>,
        headers: HeaderMap,
        body: String,
    ) -> StatusCode {
        let token = url::form_urlencoded::parse(body.as_bytes())
            .find(|(k, _)| k == "logout_token")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        let content_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        tx.send(Received {
            content_type,
            token,
        })
        .unwrap();
        let status = answers.lock().unwrap().next().unwrap_or(200);
        StatusCode::from_u16(status).unwrap()
    }
    let app = Router::new()
        .route("/backchannel", post(handle))
        .with_state((tx, answers));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/backchannel",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

/// The next logout token, waiting at most a minute (the outbox runs every 5 seconds).
async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(60), rx.recv())
        .await
        .expect("a logout token within a minute")
        .unwrap()
}

fn config(provider: &TestProvider) -> vneid_provider::config::Config {
    vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    )
}

/// Registers a client with a back-channel logout endpoint (or none); returns its secret.
async fn register(provider: &TestProvider, id: &str, endpoint: Option<&str>) -> String {
    let mut new = vneid_provider::cli::NewClient::new(
        id,
        "Back-channel RP",
        vec![PORTAL_CALLBACK.into()],
        "openid profile",
        ClientAuthMethod::SecretBasic,
    );
    new.responses.backchannel_logout_uri = endpoint.map(Into::into);
    new.responses.backchannel_logout_session_required = i64::from(endpoint.is_some());
    vneid_provider::cli::add_client(&config(provider), new)
        .await
        .unwrap()
}

/// Logs `username` in to `client` in `browser` and redeems the code; returns the token
/// response.
async fn tokens(
    provider: &TestProvider,
    browser: &Browser,
    client: &str,
    secret: &str,
    username: &str,
) -> Value {
    let url = provider.authorize_url(&[("client_id", client)]);
    let back = login(provider, browser, &url, username).await;
    let code = param(&back, "code").expect("a code");
    let response = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// The payload of a compact JWS, unverified (the ID token the test itself received).
fn claims(jws: &str) -> Value {
    let part = jws.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Verifies a logout token with the provider's published keys; returns its header and claims.
async fn verified(provider: &TestProvider, token: &str) -> (Value, Value) {
    let jwks = reqwest::get(format!("{}/jwks", provider.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    let keys = JwkSet::from_bytes(jwks.as_bytes()).unwrap();
    let key = keys.get(header["kid"].as_str().unwrap())[0];
    assert_eq!(header["alg"], "ES256");
    let verifier = ES256.verifier_from_jwk(key).unwrap();
    let (payload, _) = josekit::jws::deserialize_compact(token, &verifier).expect("our signature");
    (header, serde_json::from_slice(&payload).unwrap())
}

fn backchannel_rows(rows: &[vneid_provider::store::OutboxRow]) -> usize {
    rows.iter().filter(|r| r.channel == "backchannel").count()
}

/// The RP-initiated logout of a session with `id_token_hint` alone: the client with an
/// endpoint gets one valid logout token naming the session and the citizen; the demo portal
/// (no endpoint) in the same session and another browser's session of the same client get
/// nothing. A cross-site logout link before that sends nothing either.
async fn rp_initiated_logout_sends_a_logout_token(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (endpoint, mut rx) = receiver(vec![]).await;
    let secret = register(&provider, RP, Some(&endpoint)).await;

    let browser = Browser::new(&provider.base);
    let first = tokens(&provider, &browser, RP, &secret, "001095000001").await;
    let id_token = claims(first["id_token"].as_str().unwrap());
    let sid = id_token["sid"]
        .as_str()
        .expect("sid in the ID token")
        .to_string();
    // Single sign-on to the demo portal in the same browser: the same session, the same sid.
    let portal = tokens(
        &provider,
        &browser,
        "demo-portal",
        "demo-portal-secret",
        "001095000001",
    )
    .await;
    assert_eq!(
        claims(portal["id_token"].as_str().unwrap())["sid"],
        sid.as_str()
    );
    // Another citizen in another browser, logged in to the same client: another session.
    let other = Browser::new(&provider.base);
    let theirs = tokens(&provider, &other, RP, &secret, "079198000002").await;
    let their_sid = claims(theirs["id_token"].as_str().unwrap())["sid"].clone();
    assert_ne!(their_sid, sid.as_str());

    // A cross-site link to /logout without a hint ends nothing and tells nobody.
    let (_, status, _) = browser
        .navigate(&format!("{}/logout", provider.base))
        .await
        .page();
    assert_eq!(status, 200);
    assert_eq!(backchannel_rows(&provider.outbox().await), 0);

    let mut url = url::Url::parse(&format!("{}/logout", provider.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", first["id_token"].as_str().unwrap());
    let (_, status, _) = browser.navigate(url.as_str()).await.page();
    assert_eq!(status, 200);

    let got = next(&mut rx).await;
    assert_eq!(got.content_type, "application/x-www-form-urlencoded");
    let (header, token) = verified(&provider, &got.token).await;
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(token["iss"], provider.issuer.as_str());
    assert_eq!(token["aud"], RP);
    assert_eq!(token["sub"], id_token["sub"]);
    assert_eq!(token["sid"], sid.as_str());
    assert_eq!(token["events"], serde_json::json!({ LOGOUT_EVENT: {} }));
    assert!(token.get("nonce").is_none(), "a logout token has no nonce");
    assert!(token["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let (iat, exp) = (
        token["iat"].as_i64().unwrap(),
        token["exp"].as_i64().unwrap(),
    );
    assert!(iat <= provider.state.now() && exp > iat && exp - iat <= 300);

    // One message only: not to the demo portal, not for the other browser's session.
    let rows = provider.outbox().await;
    assert_eq!(backchannel_rows(&rows), 1);
    let row = rows.iter().find(|r| r.channel == "backchannel").unwrap();
    assert_eq!(row.recipient, endpoint);
    assert!(!row.body.contains('.'), "the row keeps claims, not a token");

    // The other citizen logs out from the account page: their session's token, their sid.
    let (page_url, _, html) = other
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    let (_, fields) = form(&html, "/account/logout");
    let csrf = fields.iter().find(|(k, _)| k == "csrf").unwrap().1.clone();
    other
        .submit(&page_url, &html, "/account/logout", &[("csrf", &csrf)])
        .await;
    let got = next(&mut rx).await;
    let (_, token) = verified(&provider, &got.token).await;
    assert_eq!(token["sid"], their_sid);
    assert_eq!(
        token["sub"],
        claims(theirs["id_token"].as_str().unwrap())["sub"]
    );
    assert_eq!(backchannel_rows(&provider.outbox().await), 2);
}

/// An endpoint that fails is tried again (at least once delivery) with the same `jti` and a
/// fresh token; the second answer (200) ends the retries.
async fn a_failed_delivery_is_retried_with_the_same_jti(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (endpoint, mut rx) = receiver(vec![503]).await;
    let secret = register(&provider, RP, Some(&endpoint)).await;
    let browser = Browser::new(&provider.base);
    let got = tokens(&provider, &browser, RP, &secret, "001095000001").await;
    let mut url = url::Url::parse(&format!("{}/logout", provider.base)).unwrap();
    url.query_pairs_mut()
        .append_pair("id_token_hint", got["id_token"].as_str().unwrap());
    browser.navigate(url.as_str()).await.page();

    let first = next(&mut rx).await;
    let (_, first) = verified(&provider, &first.token).await;
    // The retry is due after the backoff: move the provider's clock past it.
    provider.state.clock.advance(60);
    let second = next(&mut rx).await;
    let (_, second) = verified(&provider, &second.token).await;
    assert_eq!(first["jti"], second["jti"]);
    assert!(
        second["iat"].as_i64() > first["iat"].as_i64(),
        "a fresh token"
    );
    assert_eq!(first["sid"], second["sid"]);
    // The worker records the delivery after the answer: wait for it.
    let mut row = None;
    for _ in 0..100 {
        let rows = provider.outbox().await;
        row = rows.into_iter().find(|r| r.channel == "backchannel");
        if row.as_ref().is_some_and(|r| r.sent_at.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = row.unwrap();
    assert!(row.sent_at.is_some(), "recorded as delivered");
    assert_eq!(row.attempts, 2);
}

/// A password change at /account ends the citizen's other sessions: their clients are told,
/// the session that changed it (logged in to the same client) is kept and not told.
async fn a_password_change_tells_the_clients_of_the_other_sessions(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (endpoint, mut rx) = receiver(vec![]).await;
    let secret = register(&provider, RP, Some(&endpoint)).await;
    let elsewhere = Browser::new(&provider.base);
    let theirs = tokens(&provider, &elsewhere, RP, &secret, "001095000001").await;
    let here = Browser::new(&provider.base);
    let ours = tokens(&provider, &here, RP, &secret, "001095000001").await;
    let (their_sid, our_sid) = (
        claims(theirs["id_token"].as_str().unwrap())["sid"].clone(),
        claims(ours["id_token"].as_str().unwrap())["sid"].clone(),
    );
    assert_ne!(their_sid, our_sid);

    let (url, _, html) = here
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    here.submit(
        &url,
        &html,
        "/account/password",
        &[
            ("current_password", "Demo@2026"),
            ("new_password", "Binh-2026-x!"),
            ("confirm_password", "Binh-2026-x!"),
        ],
    )
    .await;
    let got = next(&mut rx).await;
    let (_, token) = verified(&provider, &got.token).await;
    assert_eq!(token["sid"], their_sid);
    assert_eq!(
        backchannel_rows(&provider.outbox().await),
        1,
        "ours is kept"
    );
}

/// Another citizen logging in over a live login in the same browser ends that session (its
/// clients are told, with its sid); an officer's lock ends the new citizen's sessions (told too).
async fn a_login_over_a_session_and_a_lock_tell_the_clients(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (endpoint, mut rx) = receiver(vec![]).await;
    let secret = register(&provider, RP, Some(&endpoint)).await;
    let browser = Browser::new(&provider.base);
    let first = tokens(&provider, &browser, RP, &secret, "001095000001").await;
    let first_sid = claims(first["id_token"].as_str().unwrap())["sid"].clone();

    // prompt=login, and somebody else logs in.
    let url = provider.authorize_url(&[("client_id", RP), ("prompt", "login")]);
    let back = login(&provider, &browser, &url, "079198000002").await;
    assert!(param(&back, "code").is_some());
    let got = next(&mut rx).await;
    let (_, token) = verified(&provider, &got.token).await;
    assert_eq!(token["sid"], first_sid);
    assert_eq!(
        token["sub"],
        claims(first["id_token"].as_str().unwrap())["sub"]
    );

    // The same citizen logging in again keeps the session's sid (and tells nobody).
    let second = tokens(&provider, &browser, RP, &secret, "079198000002").await;
    let second_sid = claims(second["id_token"].as_str().unwrap())["sid"].clone();
    let url = provider.authorize_url(&[("client_id", RP), ("prompt", "login")]);
    login(&provider, &browser, &url, "079198000002").await;
    let third = tokens(&provider, &browser, RP, &secret, "079198000002").await;
    assert_eq!(
        claims(third["id_token"].as_str().unwrap())["sid"],
        second_sid
    );
    assert_eq!(backchannel_rows(&provider.outbox().await), 1);

    // An officer locks the account: its session's clients are told.
    let store = &provider.state.store;
    let account = store
        .account_by_username("079198000002")
        .await
        .unwrap()
        .unwrap();
    let officer = store
        .officer_by_username(vneid_provider::demo::DEMO_OFFICER)
        .await
        .unwrap()
        .unwrap();
    store
        .set_account_status(
            &account,
            "locked",
            &officer.id,
            &officer.station,
            provider.state.now(),
        )
        .await
        .unwrap();
    let got = next(&mut rx).await;
    let (_, token) = verified(&provider, &got.token).await;
    assert_eq!(token["sid"], second_sid);
    assert_eq!(backchannel_rows(&provider.outbox().await), 2);
}

/// A client that registers an endpoint that is not https (nor loopback http), or not a URL
/// without fragment, is refused; nothing is stored.
async fn a_non_https_endpoint_is_refused(backend: Backend) {
    let provider = spawn_provider(backend).await;
    for bad in [
        "http://rp.example/backchannel",
        "https://rp.example/backchannel#frag",
        "not a url",
    ] {
        let mut new = vneid_provider::cli::NewClient::new(
            "bad-rp",
            "Bad",
            vec![PORTAL_CALLBACK.into()],
            "openid",
            ClientAuthMethod::SecretBasic,
        );
        new.responses.backchannel_logout_uri = Some(bad.into());
        assert!(
            vneid_provider::cli::add_client(&config(&provider), new)
                .await
                .is_err(),
            "{bad}"
        );
    }
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM clients WHERE id = 'bad-rp'")
            .await,
        0
    );
}

on_both_backends!(
    rp_initiated_logout_sends_a_logout_token,
    a_failed_delivery_is_retried_with_the_same_jti,
    a_password_change_tells_the_clients_of_the_other_sessions,
    a_login_over_a_session_and_a_lock_tell_the_clients,
    a_non_https_endpoint_is_refused,
);
