//! axum integration (feature `axum`): login, callback and logout handlers, the session in a
//! private (encrypted, authenticated) cookie, and extractors that demand a level and send the
//! browser to login, or to step-up, when the session's level is too low.
//!
//! ```no_run
//! use axum::{Router, routing::get, extract::{State, FromRef}, response::{IntoResponse, Redirect}};
//! use axum_extra::extract::cookie::{Key, PrivateCookieJar};
//! use vneid_sdk::axum::{CurrentSession, RequireLevel, VneidAuth};
//! use vneid_sdk::{ClientCredentials, Level, ScopeSet, VneidClient};
//!
//! #[derive(Clone)]
//! struct App { auth: VneidAuth }
//! impl FromRef<App> for VneidAuth { fn from_ref(a: &App) -> VneidAuth { a.auth.clone() } }
//! impl FromRef<App> for Key { fn from_ref(a: &App) -> Key { a.auth.key().clone() } }
//!
//! async fn home(CurrentSession(session): CurrentSession) -> String {
//!     match session {
//!         Some(s) => format!("Hello {}", s.name.unwrap_or_default()),
//!         None => "Hello, please log in".into(),
//!     }
//! }
//! // Level 1 is enough to read; applying needs Level 2 (a Level 1 session steps up).
//! async fn records(RequireLevel(session): RequireLevel<1>) -> String {
//!     format!("Records of {}", session.name.unwrap_or_default())
//! }
//! async fn apply(RequireLevel(session): RequireLevel<2>) -> String {
//!     format!("Application form for {}", session.name.unwrap_or_default())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = VneidClient::discover(
//!     "http://127.0.0.1:8080",
//!     "demo-portal",
//!     ClientCredentials::Secret("demo-portal-secret".into()),
//!     "http://127.0.0.1:3001/callback",
//! )
//! .await?;
//! let scopes = |level: Level| match level {
//!     Level::Level1 => ScopeSet::parse("openid profile").expect("known scopes"),
//!     Level::Level2 => ScopeSet::parse("openid profile identity_number").expect("known scopes"),
//! };
//! // The key encrypts the cookies: load 64 random bytes from your secrets in production.
//! let app = App { auth: VneidAuth::new(client, Key::generate(), scopes) };
//! let router: Router = Router::new()
//!     .route("/", get(home))
//!     .route("/login", get(vneid_sdk::axum::login))
//!     .route("/callback", get(vneid_sdk::axum::callback))
//!     .route("/logout", get(vneid_sdk::axum::logout))
//!     .route("/records", get(records))
//!     .route("/apply", get(apply))
//!     .with_state(app);
//! # let _ = router; Ok(())
//! # }
//! ```
//!
//! Mount [`security_events`] at the endpoint registered with the provider (`clients add
//! --events-endpoint`): it verifies each pushed Security Event Token (RFC 8935), drops
//! duplicates by `jti`, and ends the sessions of a subject whose account was disabled, whose
//! password changed or who withdrew consent (sessions are cookies: the list of ended subjects is
//! kept in this process's memory; an app on several processes also passes the events to
//! [`VneidAuth::with_event_handler`] and shares them).
//!
//! An app that must keep more of the identity than the session holds (a bank's eKYC record:
//! documents, portrait, the ID token as evidence) writes its own callback around
//! [`VneidAuth::finish`], which returns the whole [`VerifiedIdentity`].

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use serde::{Deserialize, Serialize};
use vneid_contract::{Level, Predicate, ScopeSet};

use crate::client::VneidClient;
use crate::error::SdkError;
use crate::events::SecurityEvent;
use crate::identity::VerifiedIdentity;
use crate::pending::{LoginRequest, PendingLogin};
use crate::store::SessionStore;

const SESSION: &str = "vneid_rp_session";
const PENDING: &str = "vneid_rp_pending";
/// How long a login may take at the provider (its interaction lasts 30 minutes).
const PENDING_LIFETIME: Duration = Duration::from_secs(30 * 60);
/// The default session lifetime (the provider's own session lasts 8 hours).
const SESSION_LIFETIME: Duration = Duration::from_secs(8 * 60 * 60);

/// The integration's settings; cheap to clone.
#[derive(Clone)]
pub struct VneidAuth {
    client: Arc<VneidClient>,
    key: Key,
    login_path: String,
    scopes: Arc<dyn Fn(Level) -> ScopeSet + Send + Sync>,
    predicates: Vec<Predicate>,
    claims: crate::ClaimsRequest,
    secure: bool,
    session_lifetime: Duration,
    ended: Arc<Mutex<EndedSessions>>,
    on_event: Option<EventHandler>,
    store: Option<Arc<dyn SessionStore>>,
    post_logout_redirect_uri: Option<String>,
}

/// The application's hook for security events.
type EventHandler = Arc<dyn Fn(&SecurityEvent) + Send + Sync>;

/// What the security events received so far ended.
#[derive(Default)]
struct EndedSessions {
    /// Subject → when its sessions ended (provider time): sessions authenticated before are
    /// over.
    subjects: HashMap<String, i64>,
    /// The `jti`s received, to drop repeated deliveries.
    seen: HashSet<String>,
}

/// The most `jti`s remembered (a redelivery comes within hours; the set is cleared past this).
const MAX_SEEN: usize = 100_000;

/// What the session cookie keeps of a login (not the whole identity: cookies are small; keep
/// the identity in your own store if you need it later).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// The subject.
    pub subject: String,
    /// The full name, when `profile` was released.
    pub name: Option<String>,
    /// The level reached.
    pub level: Option<Level>,
    /// When the citizen authenticated.
    pub auth_time: Option<i64>,
    /// When the session ends (Unix seconds); a cookie without it is no session.
    #[serde(default)]
    pub expires_at: i64,
    /// The answers to the predicate claims asked for ([`VneidAuth::with_predicates`]), by
    /// name (`age_over_18`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub predicates: std::collections::BTreeMap<String, bool>,
    /// The id of the whole login ([`crate::Session`]) in the app's [`SessionStore`], when one
    /// is configured ([`VneidAuth::with_session_store`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
}

impl Session {
    /// `age_over_N` as released at this login (`None`: not asked or not released).
    pub fn age_over(&self, years: u8) -> Option<bool> {
        self.predicates
            .get(Predicate::AgeOver(years).as_str())
            .copied()
    }

    /// `resident_of:<code>` as released at this login (`None`: not asked, not released, or
    /// no residence on record).
    pub fn resident_of(&self, province: vneid_contract::Province) -> Option<bool> {
        self.predicates
            .get(Predicate::ResidentOf(province).as_str())
            .copied()
    }
}

#[derive(Serialize, Deserialize)]
struct Pending {
    login: PendingLogin,
    next: String,
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn seconds(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl VneidAuth {
    /// The integration for `client`, with `key` for the private cookies (64 random bytes, kept
    /// across restarts), and the scopes to ask for at each level. Cookies are `Secure` when the
    /// client's redirect URI is https.
    pub fn new(
        client: VneidClient,
        key: Key,
        scopes: impl Fn(Level) -> ScopeSet + Send + Sync + 'static,
    ) -> Self {
        let secure = client.redirect_uri().starts_with("https://");
        VneidAuth {
            client: Arc::new(client),
            key,
            login_path: "/login".into(),
            scopes: Arc::new(scopes),
            predicates: Vec::new(),
            claims: crate::ClaimsRequest::default(),
            secure,
            session_lifetime: SESSION_LIFETIME,
            ended: Arc::default(),
            on_event: None,
            store: None,
            post_logout_redirect_uri: None,
        }
    }

    /// Keeps every login ([`crate::Session`]: the ID token, the provider's `sid`, the tokens)
    /// in `store`: the cookie then names it, a session ended in the store (by
    /// [`backchannel_logout`], or the app) is over, and [`logout`] chains to the provider's
    /// end-session endpoint with the ID token as `id_token_hint`.
    pub fn with_session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Where the provider sends the browser after its logout (registered with the provider as
    /// a `post_logout_redirect_uri`).
    pub fn with_post_logout_redirect_uri(mut self, uri: &str) -> Self {
        self.post_logout_redirect_uri = Some(uri.to_string());
        self
    }

    /// The session store, if any.
    pub fn session_store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.store.as_ref()
    }

    /// Predicate claims to ask for at every login (`Predicate::AgeOver(18)`); their answers
    /// are kept in the [`Session`].
    pub fn with_predicates(mut self, predicates: impl IntoIterator<Item = Predicate>) -> Self {
        self.predicates = predicates.into_iter().collect();
        self
    }

    /// Claims to ask for one by one at every login, beside the scopes (`name` without the
    /// rest of `profile`, so that the birth date is not released).
    pub fn with_claims(mut self, claims: crate::ClaimsRequest) -> Self {
        self.claims = claims;
        self
    }

    /// Called with every new verified security event (after the sessions it ends are ended).
    pub fn with_event_handler(
        mut self,
        handler: impl Fn(&SecurityEvent) + Send + Sync + 'static,
    ) -> Self {
        self.on_event = Some(Arc::new(handler));
        self
    }

    /// Takes a verified security event: `false` when its `jti` was seen already. Ends the
    /// subject's sessions when the event says so.
    pub fn receive(&self, event: &SecurityEvent) -> bool {
        {
            let mut ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
            if ended.seen.len() >= MAX_SEEN {
                ended.seen.clear();
            }
            if !ended.seen.insert(event.jti.clone()) {
                return false;
            }
            if event.ends_sessions() {
                let at = event.happened_at();
                let entry = ended.subjects.entry(event.subject.clone()).or_insert(at);
                *entry = (*entry).max(at);
            }
        }
        if let Some(handler) = &self.on_event {
            handler(event);
        }
        true
    }

    /// Whether a session was ended by a security event.
    fn is_ended(&self, session: &Session) -> bool {
        let ended = self.ended.lock().unwrap_or_else(|p| p.into_inner());
        ended
            .subjects
            .get(&session.subject)
            .is_some_and(|at| session.auth_time.unwrap_or(i64::MIN) <= *at)
    }

    /// Where the login handler is mounted (default `/login`).
    pub fn with_login_path(mut self, path: &str) -> Self {
        self.login_path = path.to_string();
        self
    }

    /// How long a session lasts (default 8 hours).
    pub fn with_session_lifetime(mut self, lifetime: Duration) -> Self {
        self.session_lifetime = lifetime;
        self
    }

    /// Mark the cookies `Secure` or not (default: whether the redirect URI is https).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The cookie key.
    pub fn key(&self) -> &Key {
        &self.key
    }

    /// The client.
    pub fn client(&self) -> &VneidClient {
        &self.client
    }

    /// The URL of the login handler for `level`, coming back to `next`.
    pub fn login_url(&self, level: Level, next: &str) -> String {
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("level", &level.as_number().to_string())
            .append_pair("next", next)
            .finish();
        format!("{}?{query}", self.login_path)
    }

    fn cookie(&self, name: &'static str, value: String, max_age: Duration) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            // Lax: the cookies come along on the provider's top-level redirect back.
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .max_age(time::Duration::seconds(seconds(max_age)))
            .build()
    }

    /// A removal cookie that matches the path the cookie was set with.
    fn removal(name: &'static str) -> Cookie<'static> {
        Cookie::build(name).path("/").build()
    }

    /// Starts a login: keeps the pending login in a private cookie and redirects to the provider.
    pub fn start(
        &self,
        jar: PrivateCookieJar,
        level: Level,
        next: &str,
    ) -> (PrivateCookieJar, Redirect) {
        let (url, login) = self.client.begin(&self.request(level));
        self.pending(jar, url, login, next)
    }

    /// As [`VneidAuth::start`], with a pushed authorization request (RFC 9126, required by
    /// FAPI 2.0): the parameters go to the provider directly, client-authenticated, and the
    /// browser carries only `client_id` and `request_uri`.
    pub async fn start_pushed(
        &self,
        jar: PrivateCookieJar,
        level: Level,
        next: &str,
    ) -> Result<(PrivateCookieJar, Redirect), SdkError> {
        let (url, login) = self.client.begin_pushed(&self.request(level)).await?;
        Ok(self.pending(jar, url, login, next))
    }

    fn request(&self, level: Level) -> LoginRequest {
        let mut request = LoginRequest::new(level, (self.scopes)(level));
        request.predicates = self.predicates.clone();
        request.claims = self.claims.clone();
        request
    }

    /// Keeps the pending login in a private cookie and redirects to `url`.
    fn pending(
        &self,
        jar: PrivateCookieJar,
        url: url::Url,
        login: PendingLogin,
        next: &str,
    ) -> (PrivateCookieJar, Redirect) {
        let pending = Pending {
            login,
            next: safe_next(next),
        };
        // Serializing plain strings and numbers cannot fail; if it did, the callback would
        // report a state mismatch rather than the app panicking.
        let value = serde_json::to_string(&pending).unwrap_or_default();
        (
            jar.add(self.cookie(PENDING, value, PENDING_LIFETIME)),
            Redirect::to(url.as_str()),
        )
    }

    /// Completes the login at the app's callback: verifies everything, opens the session, and
    /// returns the identity and where to go next. Without a pending-login cookie (expired, or
    /// another browser) the error is [`SdkError::StateMismatch`].
    pub async fn finish(
        &self,
        jar: PrivateCookieJar,
        callback_query: &str,
    ) -> Result<(PrivateCookieJar, VerifiedIdentity, String), (PrivateCookieJar, SdkError)> {
        let pending: Option<Pending> = jar
            .get(PENDING)
            .and_then(|c| serde_json::from_str(c.value()).ok());
        let jar = jar.remove(Self::removal(PENDING));
        let Some(pending) = pending else {
            return Err((jar, SdkError::StateMismatch));
        };
        match self.client.complete(pending.login, callback_query).await {
            Ok(identity) => {
                let mut store_id = None;
                if let Some(store) = &self.store {
                    let kept = identity.session();
                    if let Err(e) = store.save(&kept).await {
                        tracing::error!(error = %e, "the session store failed");
                        return Err((
                            jar,
                            SdkError::Config("the session store is unavailable".into()),
                        ));
                    }
                    store_id = Some(kept.id);
                }
                let session = Session {
                    store_id,
                    subject: identity.subject.clone(),
                    name: identity.full_name(),
                    level: identity.level,
                    auth_time: identity.auth_time,
                    expires_at: unix_now().saturating_add(seconds(self.session_lifetime)),
                    predicates: self
                        .predicates
                        .iter()
                        .filter_map(|p| identity.predicate(*p).map(|v| (p.as_str().to_string(), v)))
                        .collect(),
                };
                let value = serde_json::to_string(&session).unwrap_or_default();
                let jar = jar.add(self.cookie(SESSION, value, self.session_lifetime));
                Ok((jar, identity, pending.next))
            }
            Err(e) => Err((jar, e)),
        }
    }

    /// Ends the session at the app.
    pub fn logout(&self, jar: PrivateCookieJar) -> PrivateCookieJar {
        jar.remove(Self::removal(SESSION))
    }

    /// The session, if any, not expired, not ended by a security event, and (with a session
    /// store) still in the store: what the extractors use.
    pub async fn live_session(&self, jar: &PrivateCookieJar) -> Option<Session> {
        let session = self.session(jar)?;
        let Some(store) = &self.store else {
            return Some(session);
        };
        // With a store, a cookie that names no stored login is no session (fail closed).
        let id = session.store_id.as_deref()?;
        match store.load(id).await {
            Ok(Some(_)) => Some(session),
            Ok(None) => None,
            Err(e) => {
                tracing::error!(error = %e, "the session store failed");
                None
            }
        }
    }

    /// The session from the cookie alone, if any and not expired and not ended by a security
    /// event (without consulting the session store: see [`VneidAuth::live_session`]).
    pub fn session(&self, jar: &PrivateCookieJar) -> Option<Session> {
        jar.get(SESSION)
            .and_then(|c| serde_json::from_str::<Session>(c.value()).ok())
            .filter(|s| s.expires_at > unix_now())
            .filter(|s| !self.is_ended(s))
    }

    fn jar(&self, headers: &HeaderMap) -> PrivateCookieJar {
        PrivateCookieJar::from_headers(headers, self.key.clone())
    }
}

/// The security-event receiver (RFC 8935), `POST` at the endpoint registered with the
/// provider: `202 Accepted` for a verified SET (a repeated `jti` included), `400` with
/// `{"err", "description"}` for one that is not to be trusted.
pub async fn security_events(State(auth): State<VneidAuth>, body: String) -> Response {
    match auth.client.verify_security_event(body.trim()).await {
        Ok(event) => {
            if auth.receive(&event) {
                tracing::info!(jti = %event.jti, ends_sessions = event.ends_sessions(), "security event received");
            }
            StatusCode::ACCEPTED.into_response()
        }
        Err(error) => {
            tracing::warn!(%error, "security event refused");
            let body = serde_json::json!({ "err": error.code(), "description": error.to_string() });
            (StatusCode::BAD_REQUEST, axum::Json(body)).into_response()
        }
    }
}

/// Longest `next` kept (it travels in the pending-login cookie, which browsers cap at 4 KiB).
const MAX_NEXT_LEN: usize = 1024;
/// Rounds of percent-decoding `safe_next` follows (`%2509` is `%09` after one round, a tab
/// after two); a path still changing after them is refused.
const DECODE_ROUNDS: usize = 3;

/// Where to go after the login: only a local path, never an open redirect, whatever a browser
/// or a server on the way makes of it. `next` must start with exactly one `/` and hold no
/// control character, no whitespace and no backslash, as given and after each round of
/// percent-decoding: browsers drop tabs and newlines (`/\t/evil.example` becomes
/// `//evil.example`) and read `\` as `/`, and a server that decodes `/%2f%2fevil` sees
/// `///evil`. Anything else, or anything longer than [`MAX_NEXT_LEN`], is `/`.
pub(crate) fn safe_next(next: &str) -> String {
    if next.len() > MAX_NEXT_LEN {
        return "/".to_string();
    }
    let mut form = next.to_string();
    for _ in 0..=DECODE_ROUNDS {
        if !is_local_path(&form) {
            return "/".to_string();
        }
        let decoded = percent_encoding::percent_decode_str(&form)
            .decode_utf8_lossy()
            .into_owned();
        if decoded == form {
            return next.to_string();
        }
        form = decoded;
    }
    "/".to_string()
}

/// One `/`, then anything but a second `/`, a control character, whitespace or `\\`.
fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && chars.next() != Some('/')
        && !path
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
}

/// Query of the login handler.
#[derive(Deserialize)]
pub struct LoginQuery {
    /// 1 or 2 (default 1).
    pub level: Option<u8>,
    /// A local path to return to.
    pub next: Option<String>,
}

/// `GET /login?level=1|2&next=/path`: starts a login.
pub async fn login(
    State(auth): State<VneidAuth>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    // An unknown level asks for the highest: fail closed.
    let level = Level::from_number(i64::from(q.level.unwrap_or(1))).unwrap_or(Level::Level2);
    auth.start(auth.jar(&headers), level, q.next.as_deref().unwrap_or("/"))
        .into_response()
}

/// `GET /callback`: completes the login, opens the session and goes back where the login
/// started. Failures answer a short page with a fitting status; the detail goes to the log.
pub async fn callback(State(auth): State<VneidAuth>, headers: HeaderMap, uri: Uri) -> Response {
    match auth
        .finish(auth.jar(&headers), uri.query().unwrap_or(""))
        .await
    {
        Ok((jar, _, next)) => (jar, Redirect::to(&next)).into_response(),
        Err((jar, error)) => (jar, CallbackError(error)).into_response(),
    }
}

/// `GET /logout`: ends the session at the app; with a session store, ends the stored login
/// too and sends the browser to the provider's end-session endpoint (`id_token_hint`,
/// `post_logout_redirect_uri`, `state`); otherwise goes home.
pub async fn logout(State(auth): State<VneidAuth>, headers: HeaderMap) -> Response {
    let jar = auth.jar(&headers);
    let stored = match (&auth.store, auth.session(&jar).and_then(|s| s.store_id)) {
        (Some(store), Some(id)) => {
            let kept = store.load(&id).await.ok().flatten();
            if let Err(e) = store.remove(&id).await {
                tracing::error!(error = %e, "the session store failed");
            }
            kept
        }
        _ => None,
    };
    let jar = auth.logout(jar);
    let target = stored.and_then(|kept| {
        let state = openidconnect::CsrfToken::new_random().secret().clone();
        auth.client
            .logout_url(
                &kept,
                auth.post_logout_redirect_uri.as_deref(),
                Some(&state),
            )
            .ok()
    });
    match target {
        Some(url) => (jar, Redirect::to(url.as_str())).into_response(),
        None => (jar, Redirect::to("/")).into_response(),
    }
}

/// The form the provider POSTs to the back-channel logout URI.
#[derive(Deserialize)]
pub struct LogoutForm {
    /// The logout token.
    pub logout_token: Option<String>,
}

/// The back-channel logout receiver (OpenID Connect Back-Channel Logout 1.0), `POST` at the
/// `backchannel_logout_uri` registered with the provider: verifies the logout token (signature,
/// `iss`, `aud`, `iat`, `jti`, `events`, `sid` or `sub`, no `nonce`), drops a repeated `jti`,
/// and ends the matching sessions in the [`SessionStore`]. `200` when done, `400`
/// `invalid_request` for a token not to be trusted (nothing ended), `501` without a store.
pub async fn backchannel_logout(
    State(auth): State<VneidAuth>,
    axum::Form(form): axum::Form<LogoutForm>,
) -> Response {
    let no_store = || [(axum::http::header::CACHE_CONTROL, "no-store")];
    let Some(store) = auth.store.clone() else {
        return (StatusCode::NOT_IMPLEMENTED, no_store(), "no session store").into_response();
    };
    let refused = |description: String| {
        let body =
            serde_json::json!({ "error": "invalid_request", "error_description": description });
        (StatusCode::BAD_REQUEST, no_store(), axum::Json(body)).into_response()
    };
    let Some(jwt) = form.logout_token else {
        return refused("logout_token is required".into());
    };
    let token = match auth.client.verify_logout_token(jwt.trim()).await {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(%error, "logout token refused");
            return refused(error.to_string());
        }
    };
    {
        let mut ended = auth.ended.lock().unwrap_or_else(|p| p.into_inner());
        if ended.seen.len() >= MAX_SEEN {
            ended.seen.clear();
        }
        if !ended.seen.insert(format!("logout:{}", token.jti)) {
            // Already done: the provider retried.
            return (StatusCode::OK, no_store()).into_response();
        }
    }
    match store
        .end_matching(token.sid.as_deref(), token.sub.as_deref())
        .await
    {
        Ok(count) => {
            tracing::info!(jti = %token.jti, sessions = count, "back-channel logout");
            (StatusCode::OK, no_store()).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "the session store failed");
            // Not remembered as seen: the provider's retry will try again.
            auth.ended
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .seen
                .remove(&format!("logout:{}", token.jti));
            (StatusCode::INTERNAL_SERVER_ERROR, no_store()).into_response()
        }
    }
}

/// A failed callback as a response: the status and a generic text for the citizen; the
/// error itself is logged, not shown.
pub struct CallbackError(pub SdkError);

impl IntoResponse for CallbackError {
    fn into_response(self) -> Response {
        let (status, text) = match &self.0 {
            SdkError::InsufficientLevel { .. } => (
                StatusCode::FORBIDDEN,
                "This service needs a Level 2 electronic identity account. Activate it at the police of your commune or ward with your chip-based identity card.",
            ),
            SdkError::Denied => (
                StatusCode::FORBIDDEN,
                "You declined to share the information this service needs.",
            ),
            e if e.is_transient() => (
                StatusCode::BAD_GATEWAY,
                "The identity provider could not be reached. Please try again later.",
            ),
            _ => (
                StatusCode::BAD_REQUEST,
                "The login could not be completed. Please start again.",
            ),
        };
        tracing::warn!(error = %self.0, "VNeID login failed");
        (status, text).into_response()
    }
}

/// The session, if there is one: for pages that greet a logged-in citizen but do not need one.
pub struct CurrentSession(pub Option<Session>);

impl<S> FromRequestParts<S> for CurrentSession
where
    S: Send + Sync,
    VneidAuth: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = VneidAuth::from_ref(state);
        Ok(CurrentSession(
            auth.live_session(&auth.jar(&parts.headers)).await,
        ))
    }
}

/// An extractor that demands a session of at least level `N` (1 or 2). Without a session the
/// browser goes to login; with a lower level, to login at level `N` (the provider asks only the
/// second factor: step-up). Any other `N` demands Level 2.
pub struct RequireLevel<const N: u8>(pub Session);

impl<S, const N: u8> FromRequestParts<S> for RequireLevel<N>
where
    S: Send + Sync,
    VneidAuth: FromRef<S>,
{
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Redirect> {
        let auth = VneidAuth::from_ref(state);
        let required = Level::from_number(i64::from(N)).unwrap_or(Level::Level2);
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        match auth.live_session(&auth.jar(&parts.headers)).await {
            Some(session) if session.level.is_some_and(|l| l.satisfies(required)) => {
                Ok(RequireLevel(session))
            }
            _ => Err(Redirect::to(&auth.login_url(required, next))),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{MAX_NEXT_LEN, safe_next};

    #[test]
    fn next_is_always_local() {
        assert_eq!(safe_next("/apply?x=1"), "/apply?x=1");
        assert_eq!(safe_next("/records?x=1"), "/records?x=1");
        assert_eq!(
            safe_next("/h%E1%BB%93-s%C6%A1?q=a+b"),
            "/h%E1%BB%93-s%C6%A1?q=a+b"
        );
        assert_eq!(safe_next("/hồ-sơ"), "/hồ-sơ");
        assert_eq!(safe_next("/"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil"), "/");
        assert_eq!(safe_next(""), "/");
    }

    /// What browsers normalise (tabs and newlines dropped, `\\` read as `/`) and what a
    /// decoding server on the way would make of the percent-encoded forms.
    #[test]
    fn paths_a_browser_or_a_decoder_turns_into_another_host_are_refused() {
        for attack in [
            "/%09/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/%0a/evil.example",
            "/%0D%0A/evil.example",
            "/%5Cevil",
            "/%5cevil",
            "/\\evil",
            "\\\\evil",
            "//evil",
            "///evil",
            "/%2f%2fevil",
            "/%2F/evil",
            "%2F%2Fevil",
            " /x",
            "/x ",
            "/a b",
            "\t/x",
            "/\u{a0}/evil",
            "/\u{2028}/evil",
            "/x%00",
            "/x\u{7f}",
            "/%2509/evil.example",
            "/%252f/evil.example",
            "/%25252f/evil.example",
            "/%2525252f/evil.example",
        ] {
            assert_eq!(safe_next(attack), "/", "{attack:?}");
        }
        let long = format!("/{}", "a".repeat(MAX_NEXT_LEN));
        assert_eq!(safe_next(&long), "/");
    }

    proptest! {
        /// Whatever comes in, what goes out is a local path that is a valid `Location` (so
        /// `Redirect::to` cannot panic), and it is either the input or `/`.
        #[test]
        fn any_next_is_a_local_path(next in any::<String>()) {
            let out = safe_next(&next);
            prop_assert!(out == next || out == "/");
            prop_assert!(super::is_local_path(&out));
            prop_assert!(axum::http::HeaderValue::from_str(&out).is_ok());
        }

        /// Local-looking paths with dangerous pieces inside.
        #[test]
        fn dangerous_pieces_anywhere_are_refused(
            head in "/[a-z0-9/?=&.-]{0,12}",
            piece in prop::sample::select(vec![
                "\t", "\n", "\r", "\\", " ", "%09", "%0a", "%0D", "%5c", "%5C", "%20", "%00", "%2509", "%255c",
            ]),
            tail in "[a-z0-9/?=&.-]{0,12}",
        ) {
            let next = format!("{head}{piece}{tail}");
            prop_assert_eq!(safe_next(&next), "/");
        }

        /// Plain local paths are kept.
        #[test]
        fn plain_local_paths_are_kept(path in "/[a-zA-Z0-9._~-][a-zA-Z0-9/._~-]{0,30}(\\?[a-z0-9=&+%]{0,20})?") {
            prop_assume!(!path.contains('%'));
            prop_assert_eq!(safe_next(&path), path);
        }
    }
}
