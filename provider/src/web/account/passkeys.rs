//! Passkeys in self-service: the list (name, when added, when last used), enrolment and
//! removal, all from a Level 2 session of a Level 2 account (a password alone never binds or
//! removes a factor).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use vneid_contract::Level;

use super::{Citizen, to_login};
use crate::accounts::passkey::{self, MAX_NAME_CHARS, PasskeyError, Started};
use crate::error::AppError;
use crate::state::AppState;
use crate::web::passkey::{FinishForm, SCRIPT};
use crate::web::texts::{AccountTexts, switch_href, when};

/// The list page: `GET`.
pub const PAGE: &str = "/account/passkeys";
/// Starts an enrolment (the name is asked here).
pub const NEW: &str = "/account/passkeys/new";
/// The enrolment's answer.
pub const FINISH: &str = "/account/passkeys/finish";
/// Removes one.
pub const REMOVE: &str = "/account/passkeys/remove";

/// One passkey in the list.
struct Item {
    id: String,
    name: String,
    created: String,
    last_used: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "passkey_account.html")]
struct PasskeysPage {
    t: &'static AccountTexts,
    switch_href: String,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    /// Whether this session may enrol and remove (Level 2 account, Level 2 session).
    level2_session: bool,
    /// Whether the account is Level 2 at all.
    level2_account: bool,
    items: Vec<Item>,
    /// An enrolment under way: its ceremony id, the options, and the name given.
    enrolling: Option<(Started, String)>,
    max_name: usize,
    script: &'static str,
}

impl Citizen {
    fn level2_session(&self) -> bool {
        self.level == Level::Level2 && self.row.level >= 2
    }
}

async fn page(
    state: &AppState,
    citizen: &Citizen,
    error: Option<&str>,
    notice: Option<&str>,
    enrolling: Option<(Started, String)>,
) -> Result<Response, AppError> {
    let t = citizen.t();
    let items = state
        .store
        .passkeys(&citizen.row.id)
        .await?
        .into_iter()
        .map(|p| Item {
            id: p.id,
            name: p.name,
            created: when(t.lang, p.created_at),
            last_used: p
                .last_used_at
                .map(|at| when(t.lang, at))
                .unwrap_or_else(|| "—".into()),
        })
        .collect();
    Ok(PasskeysPage {
        t,
        switch_href: switch_href("/account/passkeys", t.other_lang),
        error: error.map(str::to_string),
        notice: notice.map(str::to_string),
        csrf: citizen.session.row.csrf.clone(),
        level2_session: citizen.level2_session(),
        level2_account: citizen.row.level >= 2,
        items,
        enrolling,
        max_name: MAX_NAME_CHARS,
        script: SCRIPT,
    }
    .into_response())
}

/// The page again, with what went wrong in the citizen's language.
async fn refused(
    state: &AppState,
    citizen: &Citizen,
    err: &PasskeyError,
) -> Result<Response, AppError> {
    page(state, citizen, Some(message(citizen.t(), err)), None, None).await
}

fn message(t: &AccountTexts, err: &PasskeyError) -> &'static str {
    match err {
        PasskeyError::NotLevel2 => t.passkey_not_level2,
        PasskeyError::TooMany => t.passkey_too_many,
        PasskeyError::Duplicate => t.passkey_duplicate,
        _ => t.passkey_not_registered,
    }
}

/// `GET /account/passkeys`.
pub async fn passkeys_page(
    State(state): State<AppState>,
    citizen: Citizen,
) -> Result<Response, AppError> {
    page(&state, &citizen, None, None, None).await
}

/// The enrolment form: a name for the new passkey.
#[derive(Deserialize)]
pub struct NewForm {
    csrf: String,
    #[serde(default)]
    name: String,
}

/// `POST /account/passkeys/new`: the page again, now running `navigator.credentials.create()`.
pub async fn passkey_new(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<NewForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    match passkey::start_registration(
        &state,
        &citizen.row,
        &citizen.session.row.id_hash,
        citizen.level2_session(),
    )
    .await
    {
        Ok(started) => {
            let name: String = form.name.trim().chars().take(MAX_NAME_CHARS).collect();
            page(&state, &citizen, None, None, Some((started, name))).await
        }
        Err(PasskeyError::App(err)) => Err(err),
        Err(err) => refused(&state, &citizen, &err).await,
    }
}

/// `POST /account/passkeys/finish`.
pub async fn passkey_finish(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<FinishForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    if !citizen.level2_session() {
        return refused(&state, &citizen, &PasskeyError::NotLevel2).await;
    }
    match passkey::finish_registration(
        &state,
        &citizen.row,
        &citizen.session.row.id_hash,
        &form.ceremony,
        &form.credential,
        &form.name,
    )
    .await
    {
        Ok(()) => {
            page(
                &state,
                &citizen,
                None,
                Some(citizen.t().passkey_added),
                None,
            )
            .await
        }
        Err(PasskeyError::App(err)) => Err(err),
        Err(err) => refused(&state, &citizen, &err).await,
    }
}

/// The removal form.
#[derive(Deserialize)]
pub struct RemoveForm {
    csrf: String,
    id: String,
}

/// `POST /account/passkeys/remove`.
pub async fn passkey_remove(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<RemoveForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    if !citizen.level2_session() {
        return refused(&state, &citizen, &PasskeyError::NotLevel2).await;
    }
    match passkey::remove(&state, &citizen.row.id, &form.id).await {
        Ok(true) => {
            page(
                &state,
                &citizen,
                None,
                Some(citizen.t().passkey_removed),
                None,
            )
            .await
        }
        Ok(false) => {
            page(
                &state,
                &citizen,
                Some(citizen.t().passkey_not_found),
                None,
                None,
            )
            .await
        }
        Err(PasskeyError::App(err)) => Err(err),
        Err(err) => refused(&state, &citizen, &err).await,
    }
}
