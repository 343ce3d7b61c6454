//! CIBA (OpenID Connect Client-Initiated Backchannel Authentication Core 1.0) with approval in
//! the app: a branch starts a login for a citizen's number, the citizen approves in
//! `vneid-app`, the branch gets Level 2 tokens by polling (`poll`) or when pinged (`ping`,
//! through the outbox). A hint naming nobody able to approve is answered like any other; an
//! app cannot approve another account's request; a locked account's request never completes.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::Value;
use tokio::sync::mpsc;
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::app::{AN, BINH, enrolled_app, lock};
use vneid_tests::{Backend, PORTAL_CALLBACK, TestProvider, on_both_backends, spawn_provider};

use crate::levels::jwt_payload;

const LEVEL2: &str = "urn:vneid:acr:level2";

fn config(provider: &TestProvider) -> vneid_provider::config::Config {
    vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    )
}

/// Registers a CIBA client; returns its secret.
async fn register(provider: &TestProvider, id: &str, mode: &str, endpoint: Option<&str>) -> String {
    let new = vneid_provider::cli::NewClient::new(
        id,
        "Chi nhánh ngân hàng (demo)",
        vec![PORTAL_CALLBACK.into()],
        "openid profile identity_number",
        ClientAuthMethod::SecretBasic,
    );
    let config = config(provider);
    let secret = vneid_provider::cli::add_client(&config, new).await.unwrap();
    vneid_provider::cli::set_ciba(&config, id, Some(mode), endpoint)
        .await
        .unwrap();
    secret
}

async fn post_form(
    provider: &TestProvider,
    path: &str,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", provider.base))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn start(
    provider: &TestProvider,
    client: (&str, &str),
    extra: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = vec![("scope", "openid profile"), ("acr_values", LEVEL2)];
    form.extend_from_slice(extra);
    post_form(provider, "/backchannel-authentication", client, &form).await
}

async fn poll(provider: &TestProvider, client: (&str, &str), auth_req_id: &str) -> (u16, Value) {
    post_form(
        provider,
        "/token",
        client,
        &[
            ("grant_type", "urn:openid:params:grant-type:ciba"),
            ("auth_req_id", auth_req_id),
        ],
    )
    .await
}

fn error(body: &Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

async fn ciba_poll_login_approved_in_the_app(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let discovery: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(
        discovery["backchannel_authentication_endpoint"],
        format!("{}/backchannel-authentication", provider.issuer)
    );
    assert_eq!(
        discovery["backchannel_token_delivery_modes_supported"],
        serde_json::json!(["poll", "ping"])
    );
    assert_eq!(
        discovery["backchannel_user_code_parameter_supported"],
        false
    );
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g == "urn:openid:params:grant-type:ciba")
    );

    let secret = register(&provider, "branch-poll", "poll", None).await;
    let branch = ("branch-poll", secret.as_str());
    let (app, _) = enrolled_app(&provider).await;

    // A client not registered for CIBA may not start one.
    let (status, body) = start(
        &provider,
        ("demo-portal", "demo-portal-secret"),
        &[("login_hint", BINH)],
    )
    .await;
    assert_eq!((status, error(&body)), (400, "unauthorized_client"));
    let long = "x".repeat(65);
    let (status, body) = start(
        &provider,
        branch,
        &[("login_hint", BINH), ("binding_message", &long)],
    )
    .await;
    assert_eq!((status, error(&body)), (400, "invalid_binding_message"));

    let (status, body) = start(
        &provider,
        branch,
        &[("login_hint", BINH), ("binding_message", "Quầy 3 · 4821")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["expires_in"].as_i64(), body["interval"].as_i64()),
        (Some(300), Some(5))
    );
    let auth_req_id = body["auth_req_id"].as_str().unwrap().to_string();

    let (status, body) = poll(&provider, branch, &auth_req_id).await;
    assert_eq!((status, error(&body)), (400, "authorization_pending"));
    let (status, body) = poll(&provider, branch, &auth_req_id).await;
    assert_eq!((status, error(&body)), (400, "slow_down"));
    // Another client cannot redeem it.
    let (status, body) = poll(
        &provider,
        ("demo-portal", "demo-portal-secret"),
        &auth_req_id,
    )
    .await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));

    let pending = app.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].summary.binding_message.as_deref(),
        Some("Quầy 3 · 4821")
    );
    assert_eq!(pending[0].summary.client_id, "branch-poll");
    app.approve_id(&pending[0].id).await.unwrap();

    provider.state.clock.advance(6);
    let (status, tokens) = poll(&provider, branch, &auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = jwt_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["acr"], LEVEL2);
    assert!(claims["amr"].as_array().unwrap().iter().any(|m| m == "hwk"));
    let userinfo: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(userinfo["given_name"], "Bình", "{userinfo}");
    // Used once.
    provider.state.clock.advance(6);
    let (status, body) = poll(&provider, branch, &auth_req_id).await;
    assert_eq!((status, error(&body)), (400, "invalid_grant"));

    // Refused in the app: access_denied.
    let (_, body) = start(&provider, branch, &[("login_hint", BINH)]).await;
    let denied = body["auth_req_id"].as_str().unwrap().to_string();
    let id = app.pending().await.unwrap()[0].id.clone();
    app.deny(&id).await.unwrap();
    let (status, body) = poll(&provider, branch, &denied).await;
    assert_eq!((status, error(&body)), (400, "access_denied"));

    // Nobody approves: the request expires.
    let (_, body) = start(
        &provider,
        branch,
        &[("login_hint", BINH), ("requested_expiry", "30")],
    )
    .await;
    assert_eq!(body["expires_in"], 30);
    let expiring = body["auth_req_id"].as_str().unwrap().to_string();
    provider.state.clock.advance(31);
    let (status, body) = poll(&provider, branch, &expiring).await;
    assert_eq!((status, error(&body)), (400, "expired_token"));
}

/// A request for a hint that names no account able to approve looks exactly like one that
/// does; an app cannot see or decide another account's request.
async fn ciba_hints_are_no_oracle_and_requests_stay_with_their_account(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let secret = register(&provider, "branch-poll", "poll", None).await;
    let branch = ("branch-poll", secret.as_str());
    // Bình's account has no app yet, An is Level 1, the third number is nobody's.
    let mut shapes = Vec::new();
    for hint in [BINH, AN, "001099999999"] {
        let (status, body) = start(&provider, branch, &[("login_hint", hint)]).await;
        let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
        keys.sort();
        shapes.push((
            status,
            format!("{keys:?}"),
            body["expires_in"].clone(),
            body["interval"].clone(),
        ));
        let (status, poll_body) =
            poll(&provider, branch, body["auth_req_id"].as_str().unwrap()).await;
        assert_eq!((status, error(&poll_body)), (400, "authorization_pending"));
    }
    assert!(shapes.windows(2).all(|w| w[0] == w[1]), "{shapes:?}");

    // Make An Level 2 with an app of his own, and ask for An.
    let (binh_app, _) = enrolled_app(&provider).await;
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&provider.database_url)
        .await
        .unwrap();
    sqlx::query("UPDATE accounts SET level = 2 WHERE username = $1")
        .bind(AN)
        .execute(&mut conn)
        .await
        .unwrap();
    let an = provider
        .state
        .store
        .account_by_username(AN)
        .await
        .unwrap()
        .unwrap();
    let now = provider.state.now();
    provider
        .state
        .store
        .insert_enrolment_code(
            &vneid_provider::secret::hash("code-for-an"),
            &an.id,
            now,
            now + 600,
        )
        .await
        .unwrap();
    let an_app = vneid_app::App::enrol(&provider.issuer, "code-for-an", "An's phone")
        .await
        .unwrap();
    let (_, body) = start(&provider, branch, &[("login_hint", AN)]).await;
    let auth_req_id = body["auth_req_id"].as_str().unwrap().to_string();
    assert!(binh_app.pending().await.unwrap().is_empty());
    let an_pending = an_app.pending().await.unwrap();
    assert_eq!(an_pending.len(), 1);
    // Bình's app, knowing the id, can neither approve nor deny it.
    let approval = an_pending[0].clone();
    match binh_app.approve(&approval).await {
        Err(vneid_app::AppError::Refused { status, .. }) => assert_eq!(status, 404),
        other => panic!("another account's request was approved: {other:?}"),
    }
    assert!(binh_app.deny(&approval.id).await.is_err());
    an_app.approve(&approval).await.unwrap();
    let (status, tokens) = poll(&provider, branch, &auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
}

/// What the notification endpoint received: the bearer token and the body.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(String, Value)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    async fn handle(
        State(tx): State<mpsc::UnboundedSender<(String, Value)>>,
        headers: HeaderMap,
        body: String,
    ) -> StatusCode {
        let auth = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        tx.send((auth, serde_json::from_str(&body).unwrap_or(Value::Null)))
            .unwrap();
        StatusCode::NO_CONTENT
    }
    let app = Router::new().route("/ciba", post(handle)).with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/ciba",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn ciba_ping_login_and_a_locked_account(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (endpoint, mut pings) = receiver().await;
    let secret = register(&provider, "branch-ping", "ping", Some(&endpoint)).await;
    let branch = ("branch-ping", secret.as_str());
    let (app, _) = enrolled_app(&provider).await;

    let (status, body) = start(&provider, branch, &[("login_hint", BINH)]).await;
    assert_eq!(
        (status, error(&body)),
        (400, "invalid_request"),
        "ping needs a notification token"
    );
    let (status, body) = start(
        &provider,
        branch,
        &[
            ("login_hint", BINH),
            ("client_notification_token", "notify-secret-123"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let auth_req_id = body["auth_req_id"].as_str().unwrap().to_string();
    let id = app.pending().await.unwrap()[0].id.clone();
    app.approve_id(&id).await.unwrap();
    let (auth, ping) = tokio::time::timeout(Duration::from_secs(60), pings.recv())
        .await
        .expect("a ping within a minute (the outbox runs every 5 s)")
        .unwrap();
    assert_eq!(auth, "Bearer notify-secret-123");
    assert_eq!(ping["auth_req_id"], auth_req_id);
    let (status, tokens) = poll(&provider, branch, &auth_req_id).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(
        jwt_payload(tokens["id_token"].as_str().unwrap())["acr"],
        LEVEL2
    );

    // Approved, then locked before the branch collects: no tokens.
    let (_, body) = start(
        &provider,
        branch,
        &[
            ("login_hint", BINH),
            ("client_notification_token", "notify-secret-456"),
        ],
    )
    .await;
    let approved_then_locked = body["auth_req_id"].as_str().unwrap().to_string();
    let id = app.pending().await.unwrap()[0].id.clone();
    app.approve_id(&id).await.unwrap();
    lock(&provider, BINH).await;
    let (status, body) = poll(&provider, branch, &approved_then_locked).await;
    assert_eq!((status, error(&body)), (400, "access_denied"));
    // A locked account's app is refused, and a new request for it is answered alike, then
    // simply expires.
    match app.pending().await {
        Err(vneid_app::AppError::Refused { status, .. }) => assert_eq!(status, 403),
        other => panic!("a locked account's app was answered {other:?}"),
    }
    let (status, body) = start(
        &provider,
        branch,
        &[
            ("login_hint", BINH),
            ("client_notification_token", "notify-secret-789"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = poll(&provider, branch, body["auth_req_id"].as_str().unwrap()).await;
    assert_eq!((status, error(&body)), (400, "authorization_pending"));
}

/// Dynamic registration (RFC 7591) takes the CIBA metadata, validated as on the command line.
async fn ciba_metadata_is_validated_at_registration(backend: Backend) {
    let provider = vneid_tests::spawn_provider_with(backend, |c| {
        c.clients.initial_access_token = Some("iat-ciba".into())
    })
    .await;
    let register = |body: Value| {
        let url = format!("{}/register", provider.base);
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth("iat-ciba")
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let base = |extra: Value| {
        let mut body = serde_json::json!({
            "redirect_uris": [PORTAL_CALLBACK],
            "scope": "openid profile",
            "client_name": "Branch",
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for bad in [
        serde_json::json!({"backchannel_token_delivery_mode": "ping"}),
        serde_json::json!({"backchannel_token_delivery_mode": "push"}),
        serde_json::json!({"backchannel_token_delivery_mode": "poll", "backchannel_client_notification_endpoint": "https://bank.example/ciba"}),
        serde_json::json!({"backchannel_token_delivery_mode": "ping", "backchannel_client_notification_endpoint": "http://bank.example/ciba"}),
        serde_json::json!({"grant_types": ["urn:openid:params:grant-type:ciba"]}),
        serde_json::json!({"backchannel_token_delivery_mode": "poll", "backchannel_user_code_parameter": true}),
    ] {
        let (status, body) = register(base(bad.clone())).await;
        assert_eq!(
            (status, error(&body)),
            (400, "invalid_client_metadata"),
            "{bad}"
        );
    }
    let (status, body) = register(base(serde_json::json!({
        "backchannel_token_delivery_mode": "poll",
        "grant_types": ["authorization_code", "urn:openid:params:grant-type:ciba"],
    })))
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["backchannel_token_delivery_mode"], "poll");
    let id = body["client_id"].as_str().unwrap();
    let secret = body["client_secret"].as_str().unwrap();
    let (status, body) = start(&provider, (id, secret), &[("login_hint", BINH)]).await;
    assert_eq!(status, 200, "{body}");
}

/// Reads one line of a child's output off the runtime's threads (the child talks to the
/// provider in this process).
async fn next_line<R: std::io::BufRead + Send + 'static>(mut out: R) -> (Value, R) {
    tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let value = serde_json::from_str(&line).unwrap_or(serde_json::json!({ "error": line }));
        (value, out)
    })
    .await
    .unwrap()
}

/// A third-party CIBA client: panva's openid-client (npm, v6; `tests/fixtures/openid-client`)
/// starts a poll-mode login for the Level 2 citizen's number, the citizen approves in
/// `vneid-app`, and openid-client's own polling (interval, `authorization_pending`) ends with an
/// ID token it has checked: Level 2, approved in the app.
async fn openid_client_completes_a_ciba_poll_login(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let secret = register(&provider, "branch-node", "poll", None).await;
    let (app, _) = enrolled_app(&provider).await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/openid-client");
    assert!(
        dir.join("node_modules/openid-client").exists(),
        "run `npm ci` in {} (.ci/run does it)",
        dir.display()
    );
    let mut child = std::process::Command::new("node")
        .arg("ciba.js")
        .args([&provider.issuer, "branch-node", &secret, BINH])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("node must be installed");
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let (started, out) = next_line(out).await;
    assert!(
        started["auth_req_id"].is_string(),
        "openid-client did not start: {started}"
    );
    let pending = app.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].summary.client_id, "branch-node");
    app.approve_id(&pending[0].id).await.unwrap();
    let (done, _) = next_line(out).await;
    let _ = child.wait();
    assert!(done["error"].is_null(), "openid-client failed: {done}");
    assert_eq!(done["claims"]["iss"], provider.issuer.as_str());
    assert_eq!(done["claims"]["aud"], "branch-node");
    assert_eq!(done["claims"]["acr"], LEVEL2);
    assert_eq!(done["claims"]["amr"], serde_json::json!(["hwk", "mfa"]));
}

on_both_backends!(
    openid_client_completes_a_ciba_poll_login,
    ciba_metadata_is_validated_at_registration,
    ciba_poll_login_approved_in_the_app,
    ciba_hints_are_no_oracle_and_requests_stay_with_their_account,
    ciba_ping_login_and_a_locked_account,
);
