//! Observability: Prometheus metrics at `/metrics`, a request id in every log line and in the
//! response, and who may scrape.
//!
//! Each provider (each [`crate::state::AppState`]) has its own [`Metrics`] registry, so several
//! providers in one process (the tests) do not mix their figures. Counters and histograms move
//! as requests are served; the gauges (pool use, argon2 queue, outbox backlog) are read at each
//! scrape.
//!
//! Requests are labelled by the route *template* (`/interaction/:id/login`), never the raw
//! path: an interaction id or a path an attacker makes up must not become a new series.
//! Requests that match no route are labelled `unmatched`.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;
use tracing::Instrument;

use crate::config::{MetricsConfig, TrustedProxy};
use crate::state::AppState;

/// The response (and request) header carrying the request id.
pub const REQUEST_ID: &str = "x-request-id";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LoginLabels {
    /// The account's level (`1`, `2`), or `unknown` for a number with no account.
    level: &'static str,
    /// `password` or `second_factor`.
    factor: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// Which step of a login an outcome is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Factor {
    /// The password.
    Password,
    /// The TOTP code of a Level 2 login.
    SecondFactor,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// A histogram for the time a password hash waits for a pool thread.
pub fn wait_histogram() -> Histogram {
    // 100 µs to about 6.5 s.
    Histogram::new(exponential_buckets(0.0001, 2.0, 17))
}

/// This provider's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    latency: Family<HttpLabels, Histogram, fn() -> Histogram>,
    logins: Family<LoginLabels, Counter>,
    second_factor_failures: Family<ReasonLabels, Counter>,
    argon2_queued: Gauge,
    argon2_threads: Gauge,
    pool_connections: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
    database_up: Gauge,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A fresh registry; `argon2_wait` is the password pool's wait histogram (it observes it).
    pub fn new(argon2_wait: Histogram) -> Self {
        let mut registry = Registry::with_prefix("vneid");
        let requests = Family::<HttpLabels, Counter>::default();
        let latency = Family::<HttpLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let logins = Family::<LoginLabels, Counter>::default();
        let second_factor_failures = Family::<ReasonLabels, Counter>::default();
        let argon2_queued = Gauge::default();
        let argon2_threads = Gauge::default();
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        let pool_max = Gauge::default();
        let database_up = Gauge::default();
        let outbox_pending = Gauge::default();
        let outbox_oldest_age = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route template, method and status",
            latency.clone(),
        );
        registry.register(
            "logins",
            "Login attempts by the account's level (unknown: no such account), factor and outcome",
            logins.clone(),
        );
        registry.register(
            "second_factor_failures",
            "Second-factor codes refused (wrong or replayed, or the second factor locked)",
            second_factor_failures.clone(),
        );
        registry.register(
            "argon2_queue_depth",
            "Password hashes waiting for a pool thread now",
            argon2_queued.clone(),
        );
        registry.register(
            "argon2_threads",
            "Password hashing threads",
            argon2_threads.clone(),
        );
        registry.register(
            "argon2_wait_seconds",
            "Time a password hash waited for a pool thread",
            argon2_wait,
        );
        registry.register(
            "db_pool_connections",
            "Database connections open, by state (idle, in_use)",
            pool_connections.clone(),
        );
        registry.register(
            "db_pool_max_connections",
            "Database connections at most",
            pool_max.clone(),
        );
        registry.register(
            "db_up",
            "1 if the database answered the last scrape's backlog query in time, else 0",
            database_up.clone(),
        );
        registry.register(
            "outbox_pending",
            "Notifications not delivered yet",
            outbox_pending.clone(),
        );
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest notification not delivered yet (0 when none)",
            outbox_oldest_age.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            logins,
            second_factor_failures,
            argon2_queued,
            argon2_threads,
            pool_connections,
            pool_max,
            database_up,
            outbox_pending,
            outbox_oldest_age,
        }
    }

    /// One request answered.
    pub fn request(&self, route: &str, method: &str, status: StatusCode, elapsed: Duration) {
        let labels = HttpLabels {
            route: route.to_string(),
            method: method.to_string(),
            status: status.as_u16().to_string(),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }

    /// One login step came to `outcome` for an account of `level` (`None`: no such account).
    pub fn login(&self, level: Option<i64>, factor: Factor, outcome: &'static str) {
        let level = match level {
            Some(1) => "1",
            Some(2) => "2",
            Some(_) => "other",
            None => "unknown",
        };
        let factor = match factor {
            Factor::Password => "password",
            Factor::SecondFactor => "second_factor",
        };
        self.logins
            .get_or_create(&LoginLabels {
                level,
                factor,
                outcome,
            })
            .inc();
    }

    /// A second-factor code refused: `wrong_code` or `locked`.
    pub fn second_factor_failure(&self, reason: &'static str) {
        self.second_factor_failures
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// Reads the gauges (the database with `timeout`) and renders the text format.
    pub async fn render(&self, state: &AppState, timeout: Duration) -> String {
        let pool = &state.limits.argon2;
        self.argon2_queued.set(saturating_i64(pool.queued()));
        self.argon2_threads.set(saturating_i64(pool.size().threads));
        let stats = state.store.pool_stats();
        self.pool_connections
            .get_or_create(&PoolLabels { state: "idle" })
            .set(i64::from(stats.idle));
        self.pool_connections
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(stats.size.saturating_sub(stats.idle)));
        self.pool_max.set(i64::from(stats.max));
        match tokio::time::timeout(timeout, state.store.outbox_backlog()).await {
            Ok(Ok(backlog)) => {
                self.database_up.set(1);
                self.outbox_pending.set(backlog.pending);
                let age = backlog
                    .oldest_created_at
                    .map_or(0, |created| (state.now() - created).max(0));
                self.outbox_oldest_age.set(age);
            }
            Ok(Err(err)) => {
                tracing::warn!(error = %err, "metrics: outbox backlog query failed");
                self.database_up.set(0);
            }
            Err(_) => {
                tracing::warn!("metrics: outbox backlog query timed out");
                self.database_up.set(0);
            }
        }
        let mut text = String::new();
        if let Err(err) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::error!(error = %err, "metrics: encoding failed");
        }
        text
    }
}

fn saturating_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Whether a scrape may read the metrics: its client address is allowed, or it carries the
/// configured bearer token. The client address is the TCP peer, except on a connection from a
/// trusted proxy, where it is the address that proxy forwarded (so that a proxy on loopback
/// does not make every outside client a loopback one).
pub fn may_scrape(
    config: &MetricsConfig,
    trusted_proxy: Option<&TrustedProxy>,
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
) -> bool {
    if let Some(token) = config.token.as_deref().filter(|t| !t.is_empty()) {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
            return true;
        }
    }
    let Some(peer) = peer.map(|p| canonical(p.ip())) else {
        return false;
    };
    let client = match trusted_proxy {
        Some(proxy) if proxy.addresses.iter().any(|a| canonical(*a) == peer) => {
            match headers.get_all(proxy.header.as_str()).iter().next_back() {
                // A forwarded request: the proxy's last entry is the client. One the proxy
                // forwarded without the header is taken as the proxy's own.
                Some(value) => match value
                    .to_str()
                    .ok()
                    .and_then(|v| v.rsplit(',').next())
                    .and_then(|v| v.trim().parse::<IpAddr>().ok())
                {
                    Some(forwarded) => canonical(forwarded),
                    None => return false,
                },
                None => peer,
            }
        }
        _ => peer,
    };
    config.allow.iter().any(|a| canonical(*a) == client)
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `GET /metrics`: the Prometheus text format, for allowed scrapers only (403 otherwise).
pub async fn scrape(State(state): State<AppState>, request: Request) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    if !may_scrape(
        &state.config.metrics,
        state.config.limits.trusted_proxy.as_ref(),
        peer,
        request.headers(),
    ) {
        tracing::warn!(peer = ?peer, "metrics scrape refused");
        return (StatusCode::FORBIDDEN, "forbidden\n").into_response();
    }
    let timeout = Duration::from_secs(state.config.timeouts.readiness);
    let text = state.metrics.render(&state, timeout).await;
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// A route template as a label: `/interaction/{id}/login` becomes `/interaction/:id/login`
/// (braces inside label values trip up simple text-format parsers).
pub fn route_label(template: &str) -> String {
    template.replace('{', ":").replace('}', "")
}

/// A request id as the client sent it, when it is sensible to log: 1 to 64 characters of
/// letters, digits, `-`, `_`, `.`, `:`.
pub fn well_formed_request_id(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// The request's id: the client's `x-request-id` when well-formed, else a fresh random one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| well_formed_request_id(v))
        .map_or_else(|| crate::secret::random_token(12), str::to_string)
}

/// The outermost middleware: gives the request its id, the client's well-formed
/// `x-request-id` or a fresh one, as a tracing span around everything logged while it is
/// served (`request{id=...}` on every line), and in the `x-request-id` response header.
pub async fn request_span(request: Request, next: Next) -> Response {
    let id = request_id(request.headers());
    let span = tracing::info_span!("request", id = %id);
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// Inside [`request_span`]: counts the request by route template, method and status with its
/// latency, and logs one line (method, path without the query: it carries codes and state,
/// status, time taken).
pub async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |m| route_label(m.as_str()));
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let status = response.status();
    state
        .metrics
        .request(&route, method.as_str(), status, elapsed);
    let ms = elapsed.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::error!(%method, path, status = status.as_u16(), ms, "request");
    } else {
        tracing::debug!(%method, path, status = status.as_u16(), ms, "request");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(ip: &str) -> Option<SocketAddr> {
        Some(SocketAddr::new(ip.parse().unwrap(), 40000))
    }

    #[test]
    fn by_default_only_loopback_peers_scrape() {
        let config = MetricsConfig::default();
        let none = HeaderMap::new();
        assert!(may_scrape(&config, None, peer("127.0.0.1"), &none));
        assert!(may_scrape(&config, None, peer("::1"), &none));
        assert!(!may_scrape(&config, None, peer("10.1.2.3"), &none));
        assert!(!may_scrape(&config, None, None, &none));
    }

    #[test]
    fn a_loopback_proxy_does_not_make_outside_clients_loopback() {
        let config = MetricsConfig::default();
        let proxy = TrustedProxy {
            header: "x-forwarded-for".into(),
            addresses: vec!["127.0.0.1".parse().unwrap()],
        };
        let mut forwarded = HeaderMap::new();
        forwarded.insert("x-forwarded-for", "127.0.0.1, 203.0.113.9".parse().unwrap());
        assert!(!may_scrape(
            &config,
            Some(&proxy),
            peer("127.0.0.1"),
            &forwarded
        ));
        // The proxy's own (last) entry counts: a loopback client through the proxy.
        let mut spoofed = HeaderMap::new();
        spoofed.insert("x-forwarded-for", "203.0.113.9, 127.0.0.1".parse().unwrap());
        assert!(may_scrape(
            &config,
            Some(&proxy),
            peer("127.0.0.1"),
            &spoofed
        ));
        let mut garbage = HeaderMap::new();
        garbage.insert("x-forwarded-for", "nonsense".parse().unwrap());
        assert!(!may_scrape(
            &config,
            Some(&proxy),
            peer("127.0.0.1"),
            &garbage
        ));
    }

    #[test]
    fn the_token_admits_from_anywhere_and_only_the_exact_token() {
        let config = MetricsConfig {
            allow: vec![],
            token: Some("s3cret-token".into()),
        };
        let mut good = HeaderMap::new();
        good.insert(
            header::AUTHORIZATION,
            "Bearer s3cret-token".parse().unwrap(),
        );
        assert!(may_scrape(&config, None, peer("198.51.100.7"), &good));
        for bad in [
            "Bearer s3cret-toke",
            "Bearer s3cret-token2",
            "Basic s3cret-token",
            "",
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, bad.parse().unwrap());
            assert!(
                !may_scrape(&config, None, peer("127.0.0.1"), &headers),
                "{bad}"
            );
        }
    }

    /// Collects what is logged, with the spans around it.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_logged_while_serving_carries_the_request_id_which_is_echoed() {
        use tower::ServiceExt;
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::DEBUG)
            .finish();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let app = axum::Router::new()
            .route(
                "/work",
                axum::routing::get(|| async {
                    tracing::warn!("first line");
                    tokio::task::yield_now().await;
                    tracing::info!("second line");
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn(request_span));
        let (given, generated) = tracing::subscriber::with_default(subscriber, || {
            runtime.block_on(async {
                let given = app
                    .clone()
                    .oneshot(
                        Request::get("/work")
                            .header(REQUEST_ID, "rid-given-42")
                            .body(axum::body::Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                let generated = app
                    .oneshot(
                        Request::get("/work")
                            .header(REQUEST_ID, "not a valid id")
                            .body(axum::body::Body::empty())
                            .unwrap(),
                    )
                    .await
                    .unwrap();
                (given, generated)
            })
        });
        assert_eq!(given.headers()[REQUEST_ID], "rid-given-42");
        let fresh = generated.headers()[REQUEST_ID]
            .to_str()
            .unwrap()
            .to_string();
        assert!(well_formed_request_id(&fresh) && fresh != "not a valid id");
        let log = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(lines.len(), 4, "{log}");
        for line in &lines[..2] {
            assert!(line.contains("request{id=rid-given-42}"), "{line}");
        }
        for line in &lines[2..] {
            assert!(line.contains(&format!("request{{id={fresh}}}")), "{line}");
        }
    }

    #[test]
    fn request_ids_are_taken_only_when_well_formed() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, "abc-123_x.y:z".parse().unwrap());
        assert_eq!(request_id(&headers), "abc-123_x.y:z");
        for bad in ["", "has space", "new\tline", &"a".repeat(65), "quote\"s"] {
            let mut headers = HeaderMap::new();
            if let Ok(value) = bad.parse() {
                headers.insert(REQUEST_ID, value);
            }
            let id = request_id(&headers);
            assert_ne!(id, bad);
            assert!(well_formed_request_id(&id));
        }
    }
}
