//! The outbox: delivery to an SMS gateway, retries with backoff, no double send across workers.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;
use vneid_provider::notify::{Sender, SenderConfig, deliver_due};
use vneid_tests::{Backend, on_both_backends, spawn_provider};

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
    let now = provider.state.now();
    assert_eq!(
        deliver_due(store, &sender, now, false).await.unwrap(),
        0,
        "the gateway fails once"
    );
    assert_eq!(
        deliver_due(store, &sender, now + 1, false).await.unwrap(),
        0,
        "not due again before the backoff"
    );
    // Two workers at once after the backoff: one delivery.
    let (a, b) = tokio::join!(
        deliver_due(store, &sender, now + 60, false),
        deliver_due(store, &sender, now + 60, false)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["to"], "+84912345678");
    assert!(got[0]["idempotency_key"].is_string());
    let sent = store
        .outbox_recent(10)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.kind.ends_with("first_password"))
        .unwrap();
    assert!(
        sent.sent_at.is_some() && !sent.body.contains("Mat khau"),
        "the password is scrubbed once delivered"
    );
    assert_eq!(
        deliver_due(store, &sender, now + 3600, false)
            .await
            .unwrap(),
        0,
        "nothing is sent twice"
    );
}

on_both_backends!(the_outbox_retries_and_delivers_once);
