//! The VNeID OpenID Connect provider: Level 1 and Level 2 electronic identity login for
//! relying parties (public-service portals, banks), on SQLite or PostgreSQL.
//!
//! [`app`] builds the router from an [`AppState`]; [`start`] opens the database, loads the keys
//! and serves on a listener; `main.rs` is only the command line.

#![cfg_attr(test, allow(clippy::unwrap_used))]
// The discovery document is one `json!` literal: it outgrew the default macro recursion depth.
#![recursion_limit = "256"]

pub mod accounts;
pub mod api;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
pub mod events;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod registry;
pub mod secret;
pub mod state;
pub mod store;
pub mod web;

use std::time::Duration;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::{KeyRing, Sealer};
use crate::limits::{Limits, Route};
use crate::oidc::paths;
use crate::state::{AppState, Inner};
use crate::store::Store;

pub use crate::error::AppError;

/// The router: every endpoint, with the security headers every response carries, rate limits
/// on the posts that guess or cost, the password pool of this provider, a whole-request
/// timeout, and outermost the request id, the access log line and the request metrics.
pub fn app(state: AppState) -> Router {
    let limited = |route: Route| {
        axum::middleware::from_fn_with_state((state.clone(), route), limits::throttle)
    };
    let request_timeout = Duration::from_secs(state.config.timeouts.request);
    Router::new()
        .route(paths::DISCOVERY, get(oidc::discovery::discovery))
        .route(paths::JWKS, get(oidc::discovery::jwks))
        .route(paths::KEY_HISTORY, get(oidc::receipt::key_history))
        .route(paths::EVENTS_POLL, post(events::poll))
        .route(paths::AUTHORIZE, get(web::interaction::authorize_get).post(web::interaction::authorize_post))
        .route(
            paths::TOKEN,
            post(oidc::token::token).layer(limited(Route::Token)),
        )
        .route(paths::PAR, post(oidc::par::par))
        .route(paths::REVOCATION, post(oidc::revocation::revoke))
        .route(paths::INTROSPECTION, post(oidc::introspection::introspect))
        .route(paths::REGISTRATION, post(oidc::registration::register))
        .route(
            paths::REGISTRATION_CLIENT,
            get(oidc::registration::read).put(oidc::registration::replace).delete(oidc::registration::delete),
        )
        .route(paths::USERINFO, get(oidc::userinfo::userinfo).post(oidc::userinfo::userinfo))
        .route(paths::END_SESSION, get(web::logout::logout_get).post(web::logout::logout_post))
        .route(paths::INTERACTION, get(web::interaction::show))
        .route(
            paths::INTERACTION_LOGIN,
            post(web::interaction::login).layer(limited(Route::Login)),
        )
        .route(
            paths::INTERACTION_OTP,
            post(web::interaction::otp).layer(limited(Route::Login)),
        )
        .route(paths::INTERACTION_PASSWORD, post(web::interaction::change_password))
        .route(paths::INTERACTION_CONSENT, post(web::interaction::consent))
        .route(paths::INTERACTION_ABORT, post(web::interaction::abort))
        .route(paths::INTERACTION_QR, get(web::qr_login::page))
        .route(paths::INTERACTION_QR_STATUS, get(web::qr_login::status))
        .route(paths::INTERACTION_QR_CONTINUE, post(web::qr_login::finish))
        .route(paths::QR_SCRIPT, get(web::qr_login::script))
        .route(
            paths::BACKCHANNEL_AUTHENTICATION,
            post(oidc::ciba::backchannel_authentication).layer(limited(Route::Token)),
        )
        .route(paths::APP_ENROL, post(api::app::enrol).layer(limited(Route::Login)))
        .route(paths::APP_PENDING, post(api::app::pending))
        .route(paths::APP_QR, post(api::app::qr))
        .route(paths::APP_APPROVE, post(api::app::approve))
        .route(paths::APP_DENY, post(api::app::deny))
        .route("/account/devices", get(web::account::devices::page))
        .route("/account/devices/code", post(web::account::devices::new_code))
        .route("/account/devices/remove", post(web::account::devices::remove))
        .route(
            web::interaction::passkey::START,
            post(web::interaction::passkey_start).layer(limited(Route::Login)),
        )
        .route(
            web::interaction::passkey::FINISH,
            post(web::interaction::passkey_finish).layer(limited(Route::Login)),
        )
        .route(
            api::REGISTRATIONS,
            post(api::submit).layer(limited(Route::Registration)),
        )
        .route(api::REGISTRATION, get(api::status))
        .route(api::OPENAPI, get(api::openapi))
        .route(paths::DEMO_OUTBOX, get(demo_outbox))
        .route("/account", get(web::account::show))
        .route(
            "/account/login",
            get(web::account::login_page)
                .post(web::account::login)
                .layer(limited(Route::Login)),
        )
        .route(
            "/account/step-up",
            get(web::account::step_up_page)
                .post(web::account::step_up)
                .layer(limited(Route::Login)),
        )
        .route("/account/logout", post(web::account::logout))
        .route(web::account::passkeys::PAGE, get(web::account::passkeys_page))
        .route(web::account::passkeys::NEW, post(web::account::passkey_new))
        .route(
            web::account::passkeys::FINISH,
            post(web::account::passkey_finish).layer(limited(Route::Login)),
        )
        .route(web::account::passkeys::REMOVE, post(web::account::passkey_remove))
        .route("/account/password", post(web::account::change_password))
        .route("/account/consents/revoke", post(web::account::revoke_consent))
        .route("/account/contact", post(web::account::change_contact))
        .route("/account/contact/confirm", post(web::account::confirm_contact))
        .route("/account/contact/verify", post(web::account::verify_contact))
        .route("/account/guardian", post(web::account::decide_child))
        .route("/account/guardian/desk", post(web::account::decide_desk_child))
        .route(
            "/account/reset",
            get(web::account::reset_page)
                .post(web::account::reset)
                .layer(limited(Route::Reset)),
        )
        .route(
            "/account/reset/confirm",
            post(web::account::reset_confirm).layer(limited(Route::Reset)),
        )
        .route("/desk", get(web::desk::home))
        .route(
            "/desk/login",
            post(web::desk::login).layer(limited(Route::Login)),
        )
        .route("/desk/logout", post(web::desk::logout))
        .route("/desk/people", get(web::desk::person))
        .route("/desk/verify", post(web::desk::verify))
        .route("/desk/enrol", post(web::desk::enrol))
        .route("/desk/accounts/{id_number}/status", post(web::desk::set_status))
        .route("/desk/organizations", post(web::desk::organization))
        .route("/desk/organizations/{code}/representatives", post(web::desk::organization_representative))
        .route("/desk/organizations/{code}/status", post(web::desk::organization_status))
        .route("/desk/accounts/{id_number}/downgrade", post(web::desk::downgrade))
        .route("/desk/accounts/{id_number}/sync", post(web::desk::sync))
        .route(paths::HEALTH, get(health))
        .route(READY, get(ready))
        .route(METRICS, get(metrics::scrape))
        .route(paths::STYLE, get(style))
        .route(web::passkey::SCRIPT, get(web::passkey::script))
        .fallback(not_found)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(64 * 1024))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(state.clone(), web::lang::switch))
        .layer(axum::middleware::from_fn_with_state(state.clone(), bounds))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'",
            ),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::observe))
        .layer(axum::middleware::from_fn(metrics::request_span))
        .with_state(state)
}

/// Runs the request with this provider's password pool, and gives every 503 and 429 that has
/// none a `Retry-After` (the request timeout's, a busy token endpoint's).
async fn bounds(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let pool = state.limits.argon2.clone();
    let response = accounts::password::scope(pool, next.run(request)).await;
    let status = response.status();
    if (status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS)
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        return error::with_retry_after(response, state.config.argon2.wait_seconds);
    }
    response
}

/// Readiness: 200 when the database answers within `[timeouts] readiness`, else 503.
pub const READY: &str = "/ready";
/// Prometheus metrics, for the scrapers `[metrics]` allows.
pub const METRICS: &str = "/metrics";

async fn demo_outbox(
    axum::extract::State(state): axum::extract::State<AppState>,
    jar: axum_extra::extract::CookieJar,
) -> Result<axum::response::Response, AppError> {
    if !state.config.demo {
        return Ok(not_found().await.into_response());
    }
    let messages = notify::recent_opened(&state.store, &state.sealer, 100)
        .await?
        .into_iter()
        .map(|m| web::pages::OutboxItem {
            state: match (m.sent_at, &m.last_error, m.given_up_at) {
                (Some(_), _, _) => "sent".into(),
                (None, Some(e), Some(_)) => format!("given up: {e}"),
                (None, Some(e), None) => format!("retrying: {e}"),
                (None, None, _) => "queued".into(),
            },
            channel: m.channel,
            recipient: m.recipient,
            kind: m.kind.trim_start_matches("secret:").to_string(),
            body: m.body,
        })
        .collect();
    // In the language chosen on the citizen's pages (the same cookie), with the same switch.
    let t = web::texts::texts(web::session::lang(&jar, None));
    Ok(web::pages::OutboxPage {
        t,
        switch_href: web::texts::switch_href(paths::DEMO_OUTBOX, t.other_lang),
        messages,
    }
    .into_response())
}

/// Liveness: the process answers HTTP. It does not ask the database (a database outage must
/// not get every process restarted); `/ready` does.
async fn health() -> impl IntoResponse {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Readiness: the database answers a query within the readiness timeout (a load balancer
/// takes a process out of rotation while it does not).
async fn ready(axum::extract::State(state): axum::extract::State<AppState>) -> impl IntoResponse {
    let timeout = Duration::from_secs(state.config.timeouts.readiness);
    match state.store.ready(timeout).await {
        Ok(()) => (
            axum::http::StatusCode::OK,
            axum::Json(serde_json::json!({ "status": "ok" })),
        ),
        Err(err) => {
            tracing::error!(error = %err, "readiness check: database unreachable");
            (
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(serde_json::json!({ "status": "database unreachable" })),
            )
        }
    }
}

async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../templates/style.css"),
    )
}

async fn not_found() -> impl IntoResponse {
    web::pages::ErrorPage::new(
        axum::http::StatusCode::NOT_FOUND,
        "Không tìm thấy trang",
        "Page not found",
    )
}

/// Opens the database, migrates it and loads (or makes) the keys: the state to serve with.
pub async fn prepare(config: Config, clock: Clock) -> Result<AppState, StartError> {
    let store = Store::connect_with(
        &config.database_url,
        store::PoolSettings {
            max_connections: config.max_connections,
            acquire_timeout: Duration::from_secs(config.timeouts.database),
        },
    )
    .await?;
    store.migrate().await?;
    let sealer = Sealer::new(config.key_encryption_key.clone());
    let now = clock.now();
    let keys = KeyRing::load(store.clone(), sealer.clone(), now).await?;
    let sealed_salt = store
        .setting_or_insert("pairwise_salt", || {
            sealer
                .seal(secret::random_token(32).as_bytes())
                .unwrap_or_default()
        })
        .await?;
    let pairwise_salt = sealer.open(&sealed_salt)?;
    let dummy_hash = accounts::password::hash_blocking("not a real password")?;
    let limits = Limits::new(
        &config.limits,
        accounts::password::Pool::new(config.argon2.pool_size()),
    );
    let metrics = metrics::Metrics::new(limits.argon2.wait_histogram());
    let issuer = config.issuer_str().to_string();
    let discovery = oidc::discovery::document(&issuer, &config);
    let thresholds = config.registry.thresholds;
    let registry = match &config.registry.url {
        Some(url) => registry::Registry::Http(
            registry::HttpRegistry::new(url.clone(), thresholds)
                .map_err(|e| StartError::Config(e.to_string()))?,
        ),
        None => {
            registry::Registry::Embedded(registry::EmbeddedRegistry::new(store.clone(), thresholds))
        }
    };
    let sender = if config.demo {
        notify::Sender::console()
    } else {
        notify::Sender::new(&config.notify).map_err(StartError::Config)?
    };
    Ok(AppState::new(Inner {
        config,
        issuer,
        store,
        keys,
        sealer,
        clock,
        pairwise_salt,
        registry,
        sender,
        discovery,
        dummy_hash,
        limits,
        metrics,
        clients: cache::ClientCache::default(),
    }))
}

/// Serves on `listener` until ctrl-c (or until the task is dropped). In the background it
/// delivers the outbox, reloads the keys every minute (so a rotation made by another process is
/// picked up), forgets idle rate-limit buckets and purges expired rows every ten minutes.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    let outbox = tokio::spawn(notify::run(
        state.store.clone(),
        state.sealer.clone(),
        state.sender.clone(),
        state.clock.clone(),
        Duration::from_secs(if state.config.demo { 1 } else { 5 }),
        state.config.demo,
        Some(oidc::backchannel::minter(state.clone())),
    ));
    let security_events = tokio::spawn(events::run(
        state.clone(),
        Duration::from_secs(if state.config.demo { 1 } else { 5 }),
    ));
    let worker = state.clone();
    let housekeeping = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        for round in 0u64.. {
            tick.tick().await;
            if let Err(err) = worker.keys.reload(worker.now()).await {
                tracing::error!(error = %err, "key reload failed");
            }
            worker.limits.forget_idle();
            match accounts::registration::decide_pending(&worker).await {
                Ok(0) => {}
                Ok(decided) => tracing::info!(decided, "pending registrations decided"),
                Err(err) => tracing::error!(error = %err, "pending registrations failed"),
            }
            if round % 10 == 0 {
                if let Err(err) = worker.store.purge_expired_app_rows(worker.now()).await {
                    tracing::error!(error = %err, "purge of app rows failed");
                }
                match worker.store.purge_expired(worker.now()).await {
                    Ok(0) => {}
                    Ok(rows) => tracing::info!(rows, "expired rows purged"),
                    Err(err) => tracing::error!(error = %err, "purge failed"),
                }
            }
            // Hourly (never at start): re-sync accounts not synced for a day from the registry.
            if round % 60 == 59 {
                let now = worker.now();
                match registry::sync::sync_due(&worker.store, &worker.registry, 86_400, 500, now)
                    .await
                {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(accounts = n, "accounts re-synced from the registry"),
                    Err(err) => tracing::error!(error = %err, "re-sync failed"),
                }
            }
        }
    });
    let header_read_timeout = Duration::from_secs(state.config.timeouts.header_read);
    let result = serve_http(listener, app(state), header_read_timeout, shutdown()).await;
    housekeeping.abort();
    outbox.abort();
    security_events.abort();
    result
}

/// HTTP/1.1 with hyper's header-read timeout (a connection that has not sent a whole request
/// header by then is closed, unanswered), the peer address as `ConnectInfo<SocketAddr>`, and a
/// graceful shutdown: on `signal` stop accepting and let requests in flight finish.
async fn serve_http(
    listener: TcpListener,
    router: Router,
    header_read_timeout: Duration,
    signal: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut signal = std::pin::pin!(signal);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::error!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<_>| {
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            router.clone().oneshot(request.map(axum::body::Body::new))
        });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, %peer, "connection closed with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(30), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 30 s; closing them");
    }
    Ok(())
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
    tracing::info!("shutting down");
}

/// Why the provider could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The database.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// The keys.
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    /// Sealed settings.
    #[error(transparent)]
    Seal(#[from] keys::SealError),
    /// Something else.
    #[error(transparent)]
    App(#[from] AppError),
    /// Listening.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    /// A setting that cannot be used.
    #[error("configuration: {0}")]
    Config(String),
}
