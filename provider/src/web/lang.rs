//! The language switch of the citizen's own pages and the registration desk: a `lang=en` or
//! `lang=vi` query parameter on any `/account` or `/desk` page is remembered in the same cookie
//! the login pages use, and the page answering it is already in that language. The demo outbox
//! follows the same choice.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use super::session;
use super::texts::lang_param;
use crate::state::AppState;

/// Applies a `lang` query parameter on `/account` and `/desk` pages and the demo outbox (others
/// pass untouched).
pub async fn switch(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let ours = path == crate::oidc::paths::DEMO_OUTBOX
        || ["/account", "/desk"]
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")));
    let Some(lang) = ours.then(|| lang_param(request.uri().query())).flatten() else {
        return next.run(request).await;
    };
    // The handler reads the language from the cookie: give it the new choice now.
    let jar = session::set_lang(&state, CookieJar::from_headers(request.headers()), lang);
    let cookies = jar
        .iter()
        .map(|c| format!("{}={}", c.name(), c.value()))
        .collect::<Vec<_>>()
        .join("; ");
    request.headers_mut().remove(header::COOKIE);
    if let Ok(value) = HeaderValue::from_str(&cookies) {
        request.headers_mut().insert(header::COOKIE, value);
    }
    let response = next.run(request).await;
    let set = session::set_lang(&state, CookieJar::new(), lang);
    (set, response).into_response()
}
