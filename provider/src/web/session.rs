//! The browser session cookie and its CSRF token. One cookie factory with secure defaults:
//! HttpOnly, SameSite=Lax, Secure when the issuer is https; the id changes at every login.

use axum_extra::extract::CookieJar;
use cookie::{Cookie, SameSite};
use vneid_contract::{AuthMethod, Lang, Level};

use crate::error::AppError;
use crate::oidc::flow::SessionAuth;
use crate::secret;
use crate::state::AppState;
use crate::store::{SessionLogin, SessionRow};

const SESSION_COOKIE: &str = "vneid_session";
const LANG_COOKIE: &str = "vneid_lang";

/// A browser session, loaded or freshly made.
pub struct BrowserSession {
    /// The stored row.
    pub row: SessionRow,
    /// The login it carries, with the account's own level.
    pub auth: Option<SessionAuth>,
}

fn cookie(state: &AppState, name: &'static str, value: String, max_age: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

/// Loads the session named by the cookie, or starts an anonymous one (and sets its cookie).
pub async fn load_or_start(
    state: &AppState,
    jar: CookieJar,
) -> Result<(BrowserSession, CookieJar), AppError> {
    if let Some(session) = load(state, &jar).await? {
        return Ok((session, jar));
    }
    let id = secret::new_bearer();
    let csrf = secret::new_bearer();
    let now = state.now();
    let lifetime = state.config.lifetimes.session;
    state
        .store
        .create_session(&secret::hash(&id), &csrf, now, now + lifetime)
        .await?;
    let row = SessionRow {
        id_hash: secret::hash(&id),
        csrf,
        account_id: None,
        level: None,
        amr: None,
        auth_time: None,
        sid: None,
    };
    let jar = jar.add(cookie(state, SESSION_COOKIE, id, lifetime));
    Ok((BrowserSession { row, auth: None }, jar))
}

/// Loads the session named by the cookie, if it is live.
pub async fn load(state: &AppState, jar: &CookieJar) -> Result<Option<BrowserSession>, AppError> {
    let Some(id) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    let Some((row, account)) = state
        .store
        .session_with_account(&secret::hash(&id), state.now())
        .await?
    else {
        return Ok(None);
    };
    let auth = match (
        &row.account_id,
        row.level.and_then(Level::from_number),
        row.auth_time,
        account,
    ) {
        (Some(account_id), Some(level), Some(auth_time), Some(account))
            if account.status == "active" =>
        {
            let account_level = Level::from_number(account.level).unwrap_or(Level::Level1);
            Some(SessionAuth {
                account_id: account_id.clone(),
                username: account.username,
                // Never more than the account has now: a downgrade caps live sessions.
                level: crate::accounts::lifecycle::capped(level, account_level),
                amr: row
                    .amr
                    .as_deref()
                    .unwrap_or("")
                    .split(' ')
                    .filter_map(AuthMethod::parse)
                    .collect(),
                auth_time,
                account_level,
                has_second_factor: account.has_totp,
                kind: vneid_contract::AccountKind::parse(&account.kind)
                    .unwrap_or(vneid_contract::AccountKind::Citizen),
                must_change_password: account.must_change_password,
                sid: row.sid.clone(),
            })
        }
        _ => None,
    };
    Ok(Some(BrowserSession { row, auth }))
}

/// Replaces the session with a fresh one holding this login (new id, new CSRF token).
pub async fn renew(
    state: &AppState,
    jar: CookieJar,
    old: &SessionRow,
    account_id: &str,
    level: Level,
    amr: &[AuthMethod],
) -> Result<CookieJar, AppError> {
    let id = secret::new_bearer();
    let now = state.now();
    let lifetime = state.config.lifetimes.session;
    let amr = amr.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(" ");
    let sid = secret::random_token(24);
    let login = SessionLogin {
        account_id,
        level: i64::from(level.as_number()),
        amr: &amr,
        auth_time: now,
        sid: &sid,
    };
    state
        .store
        .renew_session(
            &old.id_hash,
            &secret::hash(&id),
            &secret::new_bearer(),
            &login,
            now,
            now + lifetime,
        )
        .await?;
    Ok(jar.add(cookie(state, SESSION_COOKIE, id, lifetime)))
}

/// Whether the browser sent a session cookie at all (live or not).
pub fn has_cookie(jar: &CookieJar) -> bool {
    jar.get(SESSION_COOKIE).is_some()
}

/// Drops the session cookie (after the session row is deleted).
pub fn forget(jar: CookieJar) -> CookieJar {
    jar.remove(Cookie::build(SESSION_COOKIE).path("/"))
}

/// Whether a submitted CSRF token is this session's.
pub fn csrf_ok(session: &BrowserSession, submitted: &str) -> bool {
    secret::equal(&session.row.csrf, submitted)
}

/// The language: the citizen's own choice (cookie) first, then the relying party's
/// `ui_locales`, then Vietnamese.
pub fn lang(jar: &CookieJar, ui_lang: Option<Lang>) -> Lang {
    match jar.get(LANG_COOKIE).map(|c| c.value()) {
        Some("en") => Lang::En,
        Some("vi") => Lang::Vi,
        _ => ui_lang.unwrap_or(Lang::Vi),
    }
}

/// Remembers the citizen's choice of language for a year.
pub fn set_lang(state: &AppState, jar: CookieJar, lang: Lang) -> CookieJar {
    jar.add(cookie(
        state,
        LANG_COOKIE,
        lang.as_str().to_string(),
        365 * 24 * 3600,
    ))
}
