//! The outbox: delivery to an SMS gateway, retries with backoff, no double send across workers;
//! secrets (first passwords, codes) sealed at rest and erased once delivered or given up.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use vneid_provider::notify::{MAX_ATTEMPTS, Sender, SenderConfig, deliver_due};
use vneid_tests::{Backend, TestProvider, on_both_backends, spawn_provider, spawn_provider_with};

/// A fake SMS gateway that fails its first `fail_first` calls.
async fn gateway(fail_first: usize) -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(0usize));
    let (r, c) = (received.clone(), calls.clone());
    let app = axum::Router::new().route(
        "/send",
        post(move |Json(body): Json<Value>| {
            let (r, c) = (r.clone(), c.clone());
            async move {
                let mut n = c.lock().unwrap();
                *n += 1;
                if *n <= fail_first {
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                r.lock().unwrap().push(body);
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

async fn the_outbox_retries_and_delivers_once(backend: Backend) {
    let provider = spawn_provider(backend).await;
    super::registration::import(&provider).await;
    let (status, body) =
        super::registration::submit(&provider, &super::registration::chau(), None).await;
    assert_eq!(
        (status.as_u16(), body["status"].as_str()),
        (201, Some("approved"))
    );
    let (url, received) = gateway(1).await;
    let sender = Sender::new(&SenderConfig {
        sms_gateway_url: Some(url.parse().unwrap()),
        ..Default::default()
    })
    .unwrap();
    let store = &provider.state.store;
    let sealer = &provider.state.sealer;
    let now = provider.state.now();
    let password =
        super::registration::sms_password(&provider, super::registration::CHAU_PHONE).await;
    assert_sealed(&provider, &password).await;
    assert_eq!(
        deliver_due(store, sealer, &sender, now, false)
            .await
            .unwrap(),
        0,
        "the gateway fails once"
    );
    assert_eq!(
        deliver_due(store, sealer, &sender, now + 1, false)
            .await
            .unwrap(),
        0,
        "not due again before the backoff"
    );
    // Two workers at once after the backoff: one delivery.
    let (a, b) = tokio::join!(
        deliver_due(store, sealer, &sender, now + 60, false),
        deliver_due(store, sealer, &sender, now + 60, false)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["to"], "+84912345678");
    assert!(got[0]["idempotency_key"].is_string());
    assert!(
        got[0]["text"].as_str().unwrap().contains(&password),
        "the gateway gets the plain text"
    );
    let sent = store
        .outbox_recent(10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind.ends_with("first_password"))
        .unwrap();
    assert!(
        sent.sent_at.is_some() && sent.body == "[delivered; removed]",
        "the password is erased once delivered: {}",
        sent.body
    );
    assert_eq!(
        deliver_due(store, sealer, &sender, now + 3600, false)
            .await
            .unwrap(),
        0,
        "nothing is sent twice"
    );
}

/// What is stored for Châu's first password: no password, no text; it opens with the key.
async fn assert_sealed(provider: &TestProvider, password: &str) {
    let raw = provider
        .state
        .store
        .outbox_recent(50)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind.ends_with("first_password"))
        .unwrap();
    assert!(
        !raw.body.contains(password) && !raw.body.contains("Mat khau"),
        "a first password is not plain text in the database: {}",
        raw.body
    );
    assert_eq!(
        raw.body.split('.').count(),
        5,
        "a compact JWE: {}",
        raw.body
    );
}

/// A gateway that never accepts: after the last attempt the message is given up and the
/// password erased, and nobody leases it again.
async fn a_given_up_secret_is_erased(backend: Backend) {
    let provider = spawn_provider(backend).await;
    super::registration::import(&provider).await;
    let (_, body) =
        super::registration::submit(&provider, &super::registration::chau(), None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let (url, received) = gateway(usize::MAX).await;
    let sender = Sender::new(&SenderConfig {
        sms_gateway_url: Some(url.parse().unwrap()),
        ..Default::default()
    })
    .unwrap();
    let (store, sealer) = (&provider.state.store, &provider.state.sealer);
    let now = provider.state.now();
    for attempt in 0..MAX_ATTEMPTS {
        let sent = deliver_due(store, sealer, &sender, now + attempt * 4000, false)
            .await
            .unwrap();
        assert_eq!(sent, 0);
    }
    assert!(received.lock().unwrap().is_empty());
    let row = store
        .outbox_recent(10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind.ends_with("first_password"))
        .unwrap();
    assert_eq!(row.attempts, MAX_ATTEMPTS);
    assert!(row.given_up_at.is_some() && row.sent_at.is_none());
    assert_eq!(row.body, "[given up; removed]", "the password is erased");
    assert!(row.last_error.is_some(), "the operator sees why");
    assert_eq!(
        store
            .lease_outbox(now + 999_999, now + 1_000_100, 16)
            .await
            .unwrap()
            .len(),
        0,
        "a given-up message is never leased again"
    );
}

/// Demo mode still shows the first password on its outbox page, though it is sealed at rest.
async fn the_demo_outbox_shows_opened_bodies(backend: Backend) {
    let provider = spawn_provider_with(backend, |config| config.demo = true).await;
    super::registration::import(&provider).await;
    let (_, body) =
        super::registration::submit(&provider, &super::registration::chau(), None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let password =
        super::registration::sms_password(&provider, super::registration::CHAU_PHONE).await;
    assert_sealed(&provider, &password).await;
    let page = reqwest::get(format!("{}/demo/outbox", provider.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&password), "{page}");
    // In the language of the citizen's pages, with the same switch.
    assert!(
        page.contains("<h1>Hộp thư đi (demo)</h1>")
            && page.contains("href=\"/demo/outbox?lang=en\""),
        "{page}"
    );
    let english = reqwest::get(format!("{}/demo/outbox?lang=en", provider.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        english.contains("<html lang=\"en\">")
            && english.contains("<h1>Demo outbox</h1>")
            && !english.contains("Hộp thư đi"),
        "{english}"
    );
}

on_both_backends!(
    the_outbox_retries_and_delivers_once,
    a_given_up_secret_is_erased,
    the_demo_outbox_shows_opened_bodies,
);
