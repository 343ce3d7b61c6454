//! Resource bounds: rate limits (with `governor`, in memory and per process), the password
//! hashing pool, and the client address they are keyed on.
//!
//! Two ways in:
//! - [`throttle`], a middleware the router puts on the posts that guess or cost (password and
//!   second factor, reset, registration, token): a token bucket per client address, refused
//!   with 429 and `Retry-After` before any work is done;
//! - [`Limits::check`] with a [`LimitKey`], for the rules that know whom a request is about
//!   (an account, a client, an identification number).
//!
//! The client address is the TCP peer, never a header, unless the operator names a trusted
//! proxy (`[limits.trusted_proxy]`): then, on connections from that proxy only, the last
//! address of the configured header (the one the proxy appended). IPv6 addresses count per /64,
//! the smallest network a subscriber is given.
//!
//! The buckets live in this process's memory: with several processes behind a load balancer
//! each allows its share, so the effective limit is the configured one times the processes.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::accounts::account::AccountId;
use crate::accounts::password::Pool;
use crate::config::{LimitsConfig, Rate, TrustedProxy};
use crate::error::{AppError, with_retry_after};
use crate::state::AppState;

/// What a rule limits, for [`Limits::check`].
#[derive(Debug, Clone, Copy)]
pub enum LimitKey<'a> {
    /// Logins, second-factor codes and reset requests for one account (`limits.account`).
    Account(&'a AccountId),
    /// Password attempts for one typed username (`limits.account`), whether or not an account
    /// has it, so the limit itself does not tell which numbers exist.
    Username(&'a str),
    /// Requests by one client (`limits.client`).
    Client(&'a str),
    /// Registrations for one identification number (`limits.id_number`).
    IdNumber(&'a str),
    /// Requests from one client address to one kind of route.
    Address(Route, IpAddr),
}

/// The kinds of route limited per client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Password and second-factor posts: `/interaction/{id}/login`, `/interaction/{id}/otp`,
    /// `/account/login`, `/desk/login`.
    Login,
    /// `/account/reset`, `/account/reset/confirm`.
    Reset,
    /// `POST /api/v1/registrations`.
    Registration,
    /// `POST /token` (also limited per client id).
    Token,
}

/// Refused by a rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("rate limited: try again in {retry_after} s")]
pub struct TooMany {
    /// Seconds until the next request would pass (at least 1).
    pub retry_after: u64,
}

type Keyed<K> = DefaultKeyedRateLimiter<K>;

/// The rate limiters and the password hashing pool of one provider process.
pub struct Limits {
    enabled: bool,
    trusted_proxy: Option<TrustedProxy>,
    login: Keyed<IpAddr>,
    reset: Keyed<IpAddr>,
    registration: Keyed<IpAddr>,
    token: Keyed<IpAddr>,
    client: Keyed<String>,
    account: Keyed<String>,
    id_number: Keyed<String>,
    /// The argon2 pool that [`crate::accounts::password`] uses for this provider's requests.
    pub argon2: Arc<Pool>,
}

fn quota(rate: Rate) -> Quota {
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    let period = Duration::from_secs_f64(3600.0 / f64::from(rate.per_hour.max(1)));
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Limits {
    /// Empty buckets from the configuration, and a started password pool.
    pub fn new(config: &LimitsConfig, argon2: Pool) -> Self {
        Limits {
            enabled: config.enabled,
            trusted_proxy: config.trusted_proxy.clone(),
            login: RateLimiter::keyed(quota(config.login)),
            reset: RateLimiter::keyed(quota(config.reset)),
            registration: RateLimiter::keyed(quota(config.registration)),
            token: RateLimiter::keyed(quota(config.token)),
            client: RateLimiter::keyed(quota(config.client)),
            account: RateLimiter::keyed(quota(config.account)),
            id_number: RateLimiter::keyed(quota(config.id_number)),
            argon2: Arc::new(argon2),
        }
    }

    /// Counts one request against `key`'s bucket; refused when the bucket is empty.
    pub fn check(&self, key: LimitKey<'_>) -> Result<(), TooMany> {
        if !self.enabled {
            return Ok(());
        }
        match key {
            LimitKey::Account(id) => take(&self.account, &id.as_str().to_string()),
            LimitKey::Username(name) => take(&self.account, &format!("username:{name}")),
            LimitKey::Client(id) => take(&self.client, &id.to_string()),
            LimitKey::IdNumber(number) => take(&self.id_number, &number.to_string()),
            LimitKey::Address(route, ip) => {
                let limiter = match route {
                    Route::Login => &self.login,
                    Route::Reset => &self.reset,
                    Route::Registration => &self.registration,
                    Route::Token => &self.token,
                };
                take(limiter, &ip)
            }
        }
    }

    /// The address a request is counted against: the peer, or on a connection from a trusted
    /// proxy the last address in its header. Without a peer (a router driven without a
    /// socket), `0.0.0.0`, which all such requests then share.
    pub fn client_address(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> IpAddr {
        let Some(peer) = peer.map(|p| p.ip()) else {
            return IpAddr::from([0, 0, 0, 0]);
        };
        let forwarded = self
            .trusted_proxy
            .as_ref()
            .filter(|proxy| {
                proxy
                    .addresses
                    .iter()
                    .any(|a| canonical(*a) == canonical(peer))
            })
            .and_then(|proxy| last_address(headers, &proxy.header));
        bucket(forwarded.unwrap_or(peer))
    }

    /// Drops the buckets that are full again (nobody asked lately), to bound the memory.
    pub fn forget_idle(&self) {
        fn sweep<K: std::hash::Hash + Eq + Clone>(limiter: &Keyed<K>) {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        sweep(&self.login);
        sweep(&self.reset);
        sweep(&self.registration);
        sweep(&self.token);
        sweep(&self.client);
        sweep(&self.account);
        sweep(&self.id_number);
    }
}

fn take<K: std::hash::Hash + Eq + Clone>(limiter: &Keyed<K>, key: &K) -> Result<(), TooMany> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(limiter.clock().now());
        TooMany {
            retry_after: wait.as_secs_f64().ceil().max(1.0) as u64,
        }
    })
}

/// IPv4-mapped IPv6 addresses as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key of an address: IPv4 as is, IPv6 by its /64.
fn bucket(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// The last address in a (possibly repeated, comma-separated) header: the one the trusted
/// proxy wrote; those before it are whatever the client sent.
fn last_address(headers: &HeaderMap, name: &str) -> Option<IpAddr> {
    let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The middleware state: the provider and the kind of route.
pub type Throttle = (AppState, Route);

/// Limits posts to a route per client address (and `/token` also per client id): 429 with
/// `Retry-After` when over, before any work. Other methods (the pages' GETs) pass.
pub async fn throttle(
    State((state, route)): State<Throttle>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST || !state.limits.enabled {
        return next.run(request).await;
    }
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let address = state.limits.client_address(peer, request.headers());
    if let Err(limited) = state.limits.check(LimitKey::Address(route, address)) {
        tracing::warn!(?route, %address, "rate limited");
        return refusal(route, limited);
    }
    if route != Route::Token {
        return next.run(request).await;
    }
    // Per client too, by the id the request claims (authenticated later by the handler).
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return refusal_json(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            "the request body is too large",
            None,
        );
    };
    if let Some(client) = claimed_client(&parts.headers, &bytes)
        && let Err(limited) = state.limits.check(LimitKey::Client(&client))
    {
        tracing::warn!(client, "rate limited per client");
        return refusal(route, limited);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The refusal each kind of route speaks: a page, the registration API's JSON, or an OAuth
/// error. At `/token` the code is `temporarily_unavailable` (RFC 6749 has no rate-limit code;
/// `slow_down` belongs to the device flow, and `invalid_request` would tell the client its
/// request was wrong when it only came too often) with status 429.
fn refusal(route: Route, limited: TooMany) -> Response {
    match route {
        Route::Login | Route::Reset => AppError::from(limited).into_response(),
        Route::Registration => refusal_json(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "too many requests from this address; try again later",
            Some(limited.retry_after),
        ),
        Route::Token => refusal_json(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many requests; try again later",
            Some(limited.retry_after),
        ),
    }
}

fn refusal_json(
    status: StatusCode,
    error: &str,
    description: &str,
    retry_after: Option<u64>,
) -> Response {
    let response = (
        status,
        Json(serde_json::json!({ "error": error, "error_description": description })),
    )
        .into_response();
    match retry_after {
        Some(seconds) => with_retry_after(response, seconds),
        None => response,
    }
}

/// The client id a token request claims: the Basic user (RFC 6749 2.3.1, form-encoded), the
/// `client_id` parameter, or the `sub` of an unverified `client_assertion`.
fn claimed_client(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let user = pair.split(':').next()?;
            url::form_urlencoded::parse(user.as_bytes())
                .next()
                .map(|(k, _)| k.into_owned())
        });
    if let Some(user) = basic.filter(|u| !u.is_empty()) {
        return Some(user);
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if let Some(id) = value("client_id").filter(|id| !id.is_empty()) {
        return Some(id.to_string());
    }
    let payload = value("client_assertion")?.split('.').nth(1)?;
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&json).ok()?;
    claims.get("sub")?.as_str().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::password::PoolSize;
    use axum::http::HeaderValue;

    fn limits(config: LimitsConfig) -> Limits {
        Limits::new(
            &config,
            Pool::new(PoolSize {
                threads: 1,
                queue: 1,
                wait: Duration::from_secs(1),
            }),
        )
    }

    fn tight() -> LimitsConfig {
        LimitsConfig {
            login: Rate {
                burst: 3,
                per_hour: 1,
            },
            account: Rate {
                burst: 2,
                per_hour: 1,
            },
            ..LimitsConfig::default()
        }
    }

    #[test]
    fn a_bucket_refuses_past_its_burst_and_says_when_to_come_back() {
        let l = limits(tight());
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..3 {
            l.check(LimitKey::Address(Route::Login, ip)).unwrap();
        }
        let refused = l.check(LimitKey::Address(Route::Login, ip)).unwrap_err();
        // One request an hour: the next in about an hour.
        assert!((3000..=3600).contains(&refused.retry_after), "{refused:?}");
        // Other addresses, other routes and other keys have their own buckets.
        l.check(LimitKey::Address(
            Route::Login,
            "203.0.113.8".parse().unwrap(),
        ))
        .unwrap();
        l.check(LimitKey::Address(Route::Reset, ip)).unwrap();
        let a = AccountId::new("a1");
        let b = AccountId::new("b2");
        l.check(LimitKey::Account(&a)).unwrap();
        l.check(LimitKey::Account(&a)).unwrap();
        assert!(l.check(LimitKey::Account(&a)).is_err());
        l.check(LimitKey::Account(&b)).unwrap();
        l.forget_idle();
        assert!(l.check(LimitKey::Account(&a)).is_err(), "still limited");
    }

    #[test]
    fn disabled_limits_pass_everything() {
        let l = limits(LimitsConfig {
            enabled: false,
            ..tight()
        });
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..10 {
            l.check(LimitKey::Address(Route::Login, ip)).unwrap();
        }
    }

    fn xff(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn forwarded_headers_are_ignored_unless_from_the_trusted_proxy() {
        let peer: SocketAddr = "198.51.100.1:5000".parse().unwrap();
        let headers = xff("203.0.113.9");
        // Default: the header is whatever the client typed.
        let l = limits(LimitsConfig::default());
        assert_eq!(
            l.client_address(Some(peer), &headers),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
        // Trusted, from the proxy: its (last) address.
        let proxied = limits(LimitsConfig {
            trusted_proxy: Some(TrustedProxy {
                header: "x-forwarded-for".into(),
                addresses: vec!["198.51.100.1".parse().unwrap()],
            }),
            ..LimitsConfig::default()
        });
        assert_eq!(
            proxied.client_address(Some(peer), &xff("1.2.3.4, 203.0.113.9")),
            "203.0.113.9".parse::<IpAddr>().unwrap(),
            "the address the proxy appended, not the one the client put first"
        );
        // From anyone else, the header is not believed.
        let other: SocketAddr = "192.0.2.50:5000".parse().unwrap();
        assert_eq!(
            proxied.client_address(Some(other), &headers),
            "192.0.2.50".parse::<IpAddr>().unwrap()
        );
        // Garbage in the header: the proxy's own address.
        assert_eq!(
            proxied.client_address(Some(peer), &xff("not an address")),
            "198.51.100.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let l = limits(LimitsConfig::default());
        let a: SocketAddr = "[2001:db8:1:2:aaaa::1]:1".parse().unwrap();
        let b: SocketAddr = "[2001:db8:1:2:bbbb::2]:1".parse().unwrap();
        assert_eq!(
            l.client_address(Some(a), &HeaderMap::new()),
            l.client_address(Some(b), &HeaderMap::new())
        );
        let mapped: SocketAddr = "[::ffff:203.0.113.7]:1".parse().unwrap();
        assert_eq!(
            l.client_address(Some(mapped), &HeaderMap::new()),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn the_claimed_client_of_a_token_request() {
        let mut basic = HeaderMap::new();
        // "demo%2Dportal:secret": the user is form-encoded.
        let encoded = base64::engine::general_purpose::STANDARD.encode("demo%2Dportal:s3cret");
        basic.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Basic {encoded}")).unwrap(),
        );
        assert_eq!(claimed_client(&basic, b"").as_deref(), Some("demo-portal"));
        assert_eq!(
            claimed_client(&HeaderMap::new(), b"grant_type=x&client_id=demo-bank").as_deref(),
            Some("demo-bank")
        );
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"app"}"#);
        let body = format!("client_assertion=h.{claims}.s");
        assert_eq!(
            claimed_client(&HeaderMap::new(), body.as_bytes()).as_deref(),
            Some("app")
        );
        assert_eq!(claimed_client(&HeaderMap::new(), b"grant_type=x"), None);
        assert_eq!(claimed_client(&HeaderMap::new(), b"\xff\xfe"), None);
    }
}
