//! The back-channel logout receiver (`vneid_sdk::axum::backchannel_logout`), attacked as an
//! attacker would: logout tokens signed by the (fake) provider's key but carrying a `nonce`
//! (an ID token replayed as a logout token), naming another client, without the back-channel
//! `events` member, or signed with another key under the provider's `kid`. Each is refused with
//! `400` and ends no session; a good one ends exactly the sessions it names, in the memory and
//! the SQLite store.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::post;
use axum_extra::extract::cookie::Key;
use serde_json::{Value, json};
use tower::ServiceExt;
use vneid_sdk::axum::VneidAuth;
use vneid_sdk::{
    BACKCHANNEL_LOGOUT_EVENT, MemorySessionStore, Session, SessionStore, SqlSessionStore, Tokens,
};

use super::fake::{Fake, key_pair, scopes, sign};

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

async fn app(fake: &Fake, store: Arc<dyn SessionStore>) -> Router {
    let auth = VneidAuth::new(fake.client().await, Key::generate(), |_| scopes("openid"))
        .with_session_store(store);
    Router::new()
        .route(
            "/backchannel-logout",
            post(vneid_sdk::axum::backchannel_logout),
        )
        .with_state(auth)
}

async fn deliver(app: &Router, token: &str) -> StatusCode {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", token)
        .finish();
    let response = app
        .clone()
        .oneshot(
            Request::post("/backchannel-logout")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        response.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    response.status()
}

fn session(sub: &str, sid: &str) -> Session {
    let mut s = Session::new(sub.into(), "id-token".into(), Tokens::default());
    s.sid = Some(sid.into());
    s
}

async fn the_receiver_ends_only_what_a_valid_logout_token_names(store: Arc<dyn SessionStore>) {
    let (key, public) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![public]).await;
    let app = app(&fake, store.clone()).await;
    let mine = session("citizen-1", "sid-1");
    let other_device = session("citizen-1", "sid-2");
    let someone_else = session("citizen-2", "sid-3");
    for s in [&mine, &other_device, &someone_else] {
        store.save(s).await.unwrap();
    }
    let good = |jti: &str| -> Value {
        json!({
            "iss": fake.issuer, "aud": "bank", "iat": now(), "exp": now() + 120, "jti": jti,
            "sub": "citizen-1", "sid": "sid-1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} }
        })
    };
    let alive = |s: &Session| {
        let store = store.clone();
        let id = s.id.clone();
        async move { store.load(&id).await.unwrap().is_some() }
    };

    // An ID token replayed as a logout token (it has a nonce).
    let mut with_nonce = good("j-nonce");
    with_nonce["nonce"] = json!("n-0S6_WzA2Mj");
    // Meant for another relying party.
    let mut other_aud = good("j-aud");
    other_aud["aud"] = json!("another-client");
    // No back-channel event.
    let mut no_events = good("j-events");
    no_events.as_object_mut().unwrap().remove("events");
    let mut other_event = good("j-other-event");
    other_event["events"] = json!({ "http://schemas.openid.net/event/other": {} });
    // Neither sid nor sub.
    let mut nobody = good("j-nobody");
    nobody.as_object_mut().unwrap().remove("sid");
    nobody.as_object_mut().unwrap().remove("sub");
    for forged in [with_nonce, other_aud, no_events, other_event, nobody] {
        assert_eq!(
            deliver(&app, &sign(&key, &forged)).await,
            StatusCode::BAD_REQUEST,
            "{forged}"
        );
    }
    // Signed by the attacker's key under the provider's kid.
    let (attacker, _) = key_pair("ES256", "es1");
    assert_eq!(
        deliver(&app, &sign(&attacker, &good("j-forged"))).await,
        StatusCode::BAD_REQUEST
    );
    // The payload of a good token under another signature.
    let genuine = sign(&key, &good("j-1"));
    let forged = sign(&attacker, &good("j-1"));
    let spliced = format!(
        "{}.{}",
        genuine.rsplit_once('.').unwrap().0,
        forged.rsplit_once('.').unwrap().1
    );
    assert_eq!(deliver(&app, &spliced).await, StatusCode::BAD_REQUEST);
    assert_eq!(deliver(&app, "not-a-jwt").await, StatusCode::BAD_REQUEST);
    for s in [&mine, &other_device, &someone_else] {
        assert!(alive(s).await, "a refused token ended nothing");
    }

    // The genuine token ends the session it names, and only it.
    assert_eq!(deliver(&app, &genuine).await, StatusCode::OK);
    assert!(!alive(&mine).await);
    assert!(alive(&other_device).await && alive(&someone_else).await);
    // Delivered again (at least once): accepted, nothing more ends.
    assert_eq!(deliver(&app, &genuine).await, StatusCode::OK);
    assert!(alive(&other_device).await);

    // A token with `sub` alone ends all of the subject's sessions.
    let mut all = good("j-all");
    all.as_object_mut().unwrap().remove("sid");
    assert_eq!(deliver(&app, &sign(&key, &all)).await, StatusCode::OK);
    assert!(!alive(&other_device).await);
    assert!(alive(&someone_else).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_channel_logout_with_the_memory_store() {
    the_receiver_ends_only_what_a_valid_logout_token_names(Arc::new(MemorySessionStore::new()))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_channel_logout_with_the_sqlite_store() {
    let dir = std::env::temp_dir().join(format!("vneid-rp-{}.db", rand::random::<u64>()));
    let url = format!("sqlite://{}?mode=rwc", dir.display());
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .connect(&url)
        .await
        .unwrap();
    let store = SqlSessionStore::new(pool.clone()).await.unwrap();
    the_receiver_ends_only_what_a_valid_logout_token_names(Arc::new(store)).await;
    pool.close().await;
    let _ = std::fs::remove_file(dir);
}

/// Without a session store there is nothing to end: the receiver says so rather than
/// pretending.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_store_the_receiver_is_not_implemented() {
    let (key, public) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![public]).await;
    let auth = VneidAuth::new(fake.client().await, Key::generate(), |_| scopes("openid"));
    let app = Router::new()
        .route(
            "/backchannel-logout",
            post(vneid_sdk::axum::backchannel_logout),
        )
        .with_state(auth);
    let token = sign(
        &key,
        &json!({ "iss": fake.issuer, "aud": "bank", "iat": now(), "jti": "j", "sub": "s",
                 "events": { BACKCHANNEL_LOGOUT_EVENT: {} } }),
    );
    assert_eq!(deliver(&app, &token).await, StatusCode::NOT_IMPLEMENTED);
}
