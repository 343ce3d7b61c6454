//! axum integration (feature `axum`): a login handler, a `finish` step for the app's callback,
//! the session in a private (encrypted, authenticated) cookie, and extractors that demand a
//! level and send the browser to login, or to step-up, when the session's level is too low.
//!
//! ```no_run
//! use axum::{Router, routing::get, extract::{Query, State, FromRef}, response::{IntoResponse, Redirect}};
//! use axum_extra::extract::cookie::{Key, PrivateCookieJar};
//! use vneid_sdk::axum::{RequireLevel, VneidAuth};
//!
//! #[derive(Clone)]
//! struct App { auth: VneidAuth }
//! impl FromRef<App> for VneidAuth { fn from_ref(a: &App) -> VneidAuth { a.auth.clone() } }
//! impl FromRef<App> for Key { fn from_ref(a: &App) -> Key { a.auth.key().clone() } }
//!
//! async fn records(RequireLevel(session): RequireLevel<1>) -> String {
//!     format!("Hello {}", session.name.unwrap_or_default())
//! }
//! async fn callback(State(app): State<App>, jar: PrivateCookieJar, uri: axum::http::Uri) -> impl IntoResponse {
//!     match app.auth.finish(jar, uri.query().unwrap_or("")).await {
//!         Ok((jar, _identity, next)) => (jar, Redirect::to(&next)).into_response(),
//!         Err((jar, error)) => (jar, error.to_string()).into_response(),
//!     }
//! }
//! # fn router(app: App) -> Router {
//! Router::new()
//!     .route("/login", get(vneid_sdk::axum::login))
//!     .route("/callback", get(callback))
//!     .route("/records", get(records))
//!     .with_state(app)
//! # }
//! ```

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, Key, PrivateCookieJar, SameSite};
use serde::{Deserialize, Serialize};
use vneid_contract::{Level, ScopeSet};

use crate::client::VneidClient;
use crate::error::SdkError;
use crate::identity::VerifiedIdentity;
use crate::pending::{LoginRequest, PendingLogin};

const SESSION: &str = "vneid_rp_session";
const PENDING: &str = "vneid_rp_pending";

/// The integration's settings; cheap to clone.
#[derive(Clone)]
pub struct VneidAuth {
    client: Arc<VneidClient>,
    key: Key,
    login_path: String,
    scopes: Arc<dyn Fn(Level) -> ScopeSet + Send + Sync>,
    secure: bool,
}

/// What the session cookie keeps of a login (not the whole identity: cookies are small; keep
/// the identity in your own store if you need it later).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The subject.
    pub subject: String,
    /// The full name, when `profile` was released.
    pub name: Option<String>,
    /// The level reached.
    pub level: Option<Level>,
    /// When the citizen authenticated.
    pub auth_time: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    login: PendingLogin,
    next: String,
}

impl VneidAuth {
    /// The integration for `client`, with `key` for the private cookies (64 random bytes, kept
    /// across restarts), and the scopes to ask for at each level.
    pub fn new(
        client: VneidClient,
        key: Key,
        scopes: impl Fn(Level) -> ScopeSet + Send + Sync + 'static,
    ) -> Self {
        VneidAuth {
            client: Arc::new(client),
            key,
            login_path: "/login".into(),
            scopes: Arc::new(scopes),
            secure: false,
        }
    }

    /// Where the login handler is mounted (default `/login`).
    pub fn with_login_path(mut self, path: &str) -> Self {
        self.login_path = path.to_string();
        self
    }

    /// Mark the cookies `Secure` (the app is served over https).
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

    fn cookie(&self, name: &'static str, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .http_only(true)
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .path("/")
            .build()
    }

    /// Starts a login: keeps the pending login in a private cookie and redirects to the provider.
    pub fn start(
        &self,
        jar: PrivateCookieJar,
        level: Level,
        next: &str,
    ) -> (PrivateCookieJar, Redirect) {
        let (url, login) = self
            .client
            .begin(&LoginRequest::new(level, (self.scopes)(level)));
        let pending = Pending {
            login,
            next: safe_next(next),
        };
        let value = serde_json::to_string(&pending).unwrap_or_default();
        (
            jar.add(self.cookie(PENDING, value)),
            Redirect::to(url.as_str()),
        )
    }

    /// Completes the login at the app's callback: verifies everything, opens the session, and
    /// returns the identity and where to go next.
    pub async fn finish(
        &self,
        jar: PrivateCookieJar,
        callback_query: &str,
    ) -> Result<(PrivateCookieJar, VerifiedIdentity, String), (PrivateCookieJar, SdkError)> {
        let pending: Option<Pending> = jar
            .get(PENDING)
            .and_then(|c| serde_json::from_str(c.value()).ok());
        let jar = jar.remove(Cookie::from(PENDING));
        let Some(pending) = pending else {
            return Err((jar, SdkError::StateMismatch));
        };
        match self.client.complete(pending.login, callback_query).await {
            Ok(identity) => {
                let session = Session {
                    subject: identity.subject.clone(),
                    name: identity.full_name(),
                    level: identity.level,
                    auth_time: identity.auth_time,
                };
                let jar = jar
                    .add(self.cookie(SESSION, serde_json::to_string(&session).unwrap_or_default()));
                Ok((jar, identity, pending.next))
            }
            Err(e) => Err((jar, e)),
        }
    }

    /// Ends the session at the app.
    pub fn logout(&self, jar: PrivateCookieJar) -> PrivateCookieJar {
        jar.remove(Cookie::from(SESSION))
    }

    /// The session, if any.
    pub fn session(&self, jar: &PrivateCookieJar) -> Option<Session> {
        jar.get(SESSION)
            .and_then(|c| serde_json::from_str(c.value()).ok())
    }
}

/// Only local paths: never an open redirect.
fn safe_next(next: &str) -> String {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next.to_string()
    } else {
        "/".to_string()
    }
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
    jar: PrivateCookieJar,
    Query(q): Query<LoginQuery>,
) -> Response {
    let level = Level::from_number(i64::from(q.level.unwrap_or(1))).unwrap_or(Level::Level1);
    auth.start(jar, level, q.next.as_deref().unwrap_or("/"))
        .into_response()
}

/// An extractor that demands a session of at least level `N` (1 or 2). Without a session the
/// browser goes to login; with a lower level, to login at level `N` (the provider asks only the
/// second factor: step-up).
pub struct RequireLevel<const N: u8>(pub Session);

impl<S, const N: u8> FromRequestParts<S> for RequireLevel<N>
where
    S: Send + Sync,
    VneidAuth: FromRef<S>,
{
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Redirect> {
        let auth = VneidAuth::from_ref(state);
        let jar = PrivateCookieJar::from_headers(&parts.headers, auth.key.clone());
        let required = Level::from_number(i64::from(N)).unwrap_or(Level::Level2);
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        match auth.session(&jar) {
            Some(session) if session.level.is_some_and(|l| l.satisfies(required)) => {
                Ok(RequireLevel(session))
            }
            _ => Err(Redirect::to(&auth.login_url(required, next))),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn next_is_always_local() {
        assert_eq!(super::safe_next("/apply?x=1"), "/apply?x=1");
        assert_eq!(super::safe_next("//evil.example"), "/");
        assert_eq!(super::safe_next("https://evil.example"), "/");
        assert_eq!(super::safe_next("/\\evil"), "/");
    }
}
