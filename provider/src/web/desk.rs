//! The Level 2 registration desk (Decree 59 Art. 14.2): receiving officers, who log in with a
//! password and a second factor, find the citizen, capture and verify the portrait and a
//! fingerprint against the registry (match or no match, never a score), choose the documents to
//! integrate, record the citizen's consent, create or upgrade the account to Level 2 and enrol
//! the TOTP second factor with a QR code. Supervisors also lock, unlock and revoke accounts and
//! register organisations. Every look-up, verification and action is audited with the officer,
//! the station and the desk session.
//!
//! The rules live in `accounts::{desk, desk_login, eligibility, enrolment}`; these handlers parse
//! the form, call them and render the outcome.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::json;
use vneid_contract::Lang;

use super::texts::{DeskTexts, desk as texts, switch_href};

use crate::accounts::account::{Account, AccountStatus};
use crate::accounts::desk::{Action, Forbidden, Officer, StatusRefused, status_change};
use crate::accounts::desk_login::{self, Credentials};
use crate::accounts::documents::SyncSource;
use crate::accounts::enrolment::Desk;
use crate::accounts::lifecycle::{self, Change, DowngradeReason};
use crate::accounts::organization::{self, OrganizationCode, OrganizationRefused};
use crate::error::AppError;
use crate::secret;
use crate::state::AppState;
use crate::store::{Downgrade, OrganizationRow, StatusChange};
use crate::web::texts::Texts;

/// The language of the desk's pages (the switch's cookie).
fn desk_texts(jar: &CookieJar) -> &'static Texts {
    crate::web::texts::texts(crate::web::session::lang(jar, None))
}

mod enrolment;
mod organizations;
pub use enrolment::{enrol, verify};
pub use organizations::{organization, organization_representative, organization_status};

const DESK_COOKIE: &str = "vneid_desk";
const PRE_COOKIE: &str = "vneid_desk_login";

#[derive(Template, WebTemplate)]
#[template(path = "desk_login.html")]
struct LoginPage {
    t: &'static DeskTexts,
    switch_href: String,
    officer: String,
    error: Option<String>,
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_home.html")]
struct HomePage {
    t: &'static DeskTexts,
    switch_href: String,
    officer: String,
    error: Option<String>,
    csrf: String,
    supervisor: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_person.html")]
struct PersonPage {
    t: &'static DeskTexts,
    switch_href: String,
    officer: String,
    error: Option<String>,
    csrf: String,
    id_number: String,
    name: String,
    kind: String,
    birthdate: String,
    gender: String,
    account_status: String,
    has_account: bool,
    supervisor: bool,
    documents: Vec<String>,
    /// The texts of the guardian and capture parts (issue 11).
    lt: &'static Texts,
    /// The account's recorded parents or guardians: "relation: name".
    guardians: Vec<String>,
    /// The fingers whose templates the account keeps.
    fingers_kept: Vec<String>,
}

fn cookie(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .path("/desk")
        .build()
}

/// A signed-in officer's desk session; without one, the browser goes to the desk's login.
pub struct DeskSession {
    desk: Desk,
    csrf: String,
    /// The language of the pages (the switch's cookie, shared with the login pages).
    lang: Lang,
}

impl DeskSession {
    /// The session named by the desk cookie, if it is live and its officer valid.
    async fn load(parts: &Parts, state: &AppState) -> Result<Option<DeskSession>, AppError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(id) = jar.get(DESK_COOKIE).map(|c| c.value().to_string()) else {
            return Ok(None);
        };
        let session_hash = secret::hash(&id);
        let Some((row, csrf)) = state.store.desk_session(&session_hash, state.now()).await? else {
            return Ok(None);
        };
        match Officer::try_from(&row) {
            Ok(officer) => Ok(Some(DeskSession {
                desk: Desk {
                    officer,
                    session_hash,
                },
                csrf,
                lang: super::session::lang(&jar, None),
            })),
            Err(e) => {
                tracing::error!(error = %e, "desk session refused");
                Ok(None)
            }
        }
    }
}

impl FromRequestParts<AppState> for DeskSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match DeskSession::load(parts, state).await {
            Ok(Some(session)) => Ok(session),
            Ok(None) => Err(Redirect::to("/desk").into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

impl OptionalFromRequestParts<AppState> for DeskSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, Response> {
        DeskSession::load(parts, state)
            .await
            .map_err(IntoResponse::into_response)
    }
}

impl DeskSession {
    fn officer(&self) -> &Officer {
        &self.desk.officer
    }

    fn t(&self) -> &'static DeskTexts {
        texts(self.lang)
    }

    fn signed_in(&self) -> String {
        let o = self.officer();
        format!("{} · {} · {}", o.name, o.station, role_label(self.t(), o))
    }

    /// Whether the form's CSRF token is this session's.
    fn csrf_ok(&self, token: &str) -> bool {
        secret::equal(&self.csrf, token)
    }

    fn home(&self, error: Option<String>) -> HomePage {
        HomePage {
            t: self.t(),
            switch_href: switch_href("/desk", self.t().other_lang),
            officer: self.signed_in(),
            error,
            csrf: self.csrf.clone(),
            supervisor: self.officer().role.may(Action::Lock),
        }
    }

    /// The home page with a message.
    fn message(&self, text: impl Into<String>) -> Response {
        self.home(Some(text.into())).into_response()
    }

    /// The guard of every desk form: a wrong CSRF token goes back home; a role that may not do
    /// `action` is audited and gets a 403 page. `Ok(None)`: go on.
    async fn guard(
        &self,
        state: &AppState,
        csrf: &str,
        action: Action,
        target: serde_json::Value,
    ) -> Result<Option<Response>, AppError> {
        if !self.csrf_ok(csrf) {
            return Ok(Some(Redirect::to("/desk").into_response()));
        }
        match self.officer().may(action) {
            Ok(()) => Ok(None),
            Err(refused) => self.forbidden(state, refused, target).await.map(Some),
        }
    }

    /// The role does not allow the action: audited, and a 403 page.
    async fn forbidden(
        &self,
        state: &AppState,
        refused: Forbidden,
        target: serde_json::Value,
    ) -> Result<Response, AppError> {
        let event = self.desk.event(
            "desk_action_refused",
            None,
            json!({ "action": refused.action.as_str(), "role": refused.role.as_str(), "target": target }),
        );
        state.store.audit(event, state.now()).await?;
        Ok((
            StatusCode::FORBIDDEN,
            self.home(Some(self.t().forbidden_role.into())),
        )
            .into_response())
    }
}

fn role_label(t: &DeskTexts, o: &Officer) -> &'static str {
    if o.role.may(Action::Lock) {
        t.role_supervisor
    } else {
        t.role_registrar
    }
}

fn login_page(jar: CookieJar, state: &AppState, error: Option<&str>) -> Response {
    let csrf = secret::new_bearer();
    let t = texts(super::session::lang(&jar, None));
    let jar = jar.add(cookie(state, PRE_COOKIE, csrf.clone()));
    (
        jar,
        LoginPage {
            t,
            switch_href: switch_href("/desk", t.other_lang),
            error: error.map(str::to_string),
            officer: String::new(),
            csrf,
        },
    )
        .into_response()
}

/// `GET /desk`.
pub async fn home(
    State(state): State<AppState>,
    jar: CookieJar,
    session: Option<DeskSession>,
) -> Response {
    match session {
        Some(s) => s.home(None).into_response(),
        None => login_page(jar, &state, None),
    }
}

/// The officer login form.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
    otp: String,
}

/// `POST /desk/login`: password and TOTP, both required.
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let csrf_ok = jar
        .get(PRE_COOKIE)
        .is_some_and(|c| secret::equal(c.value(), &form.csrf));
    let t = texts(super::session::lang(&jar, None));
    if !csrf_ok {
        return Ok(login_page(jar, &state, Some(t.form_expired)));
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    let credentials = Credentials {
        username: &form.username,
        password: form.password,
        otp: &form.otp,
        user_agent: &user_agent,
    };
    let Some(officer) = desk_login::login(&state, credentials).await? else {
        return Ok(login_page(jar, &state, Some(t.wrong_credentials)));
    };
    let id = secret::new_bearer();
    let now = state.now();
    state
        .store
        .create_desk_session(
            &secret::hash(&id),
            &secret::new_bearer(),
            officer.id.as_str(),
            now,
            now + 8 * 3600,
        )
        .await?;
    let jar = jar
        .remove(Cookie::build(PRE_COOKIE).path("/desk"))
        .add(cookie(&state, DESK_COOKIE, id));
    Ok((jar, Redirect::to("/desk")).into_response())
}

/// A form that only carries the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /desk/logout`.
pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    session: Option<DeskSession>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if let Some(s) = session
        && s.csrf_ok(&form.csrf)
    {
        state
            .store
            .delete_desk_session(&s.desk.session_hash)
            .await?;
    }
    Ok((
        jar.remove(Cookie::build(DESK_COOKIE).path("/desk")),
        Redirect::to("/desk"),
    )
        .into_response())
}

fn document_line(t: &DeskTexts, lang: Lang, d: &vneid_contract::Document) -> String {
    format!(
        "{}: {}{}",
        d.doc_type.description(lang),
        d.number,
        d.expires_on
            .as_deref()
            .map(|e| format!(" ({} {e})", t.expires))
            .unwrap_or_default()
    )
}

/// The search query.
#[derive(Deserialize)]
pub struct PersonQuery {
    id_number: String,
}

/// `GET /desk/people?id_number=...`: a look-up, audited whether found or not.
pub async fn person(
    State(state): State<AppState>,
    session: DeskSession,
    jar: CookieJar,
    Query(q): Query<PersonQuery>,
) -> Result<Response, AppError> {
    let lt = desk_texts(&jar);
    let id_number = q.id_number.trim();
    if let Err(refused) = session.officer().may(Action::LookUp) {
        return session
            .forbidden(&state, refused, json!({ "id_number": id_number }))
            .await;
    }
    let person = state
        .registry
        .person(id_number)
        .await
        .map_err(|e| AppError::Registry(e.to_string()))?;
    let account = match state.store.account_by_username(id_number).await? {
        Some(row) => Some(Account::try_from(&row)?),
        None => None,
    };
    let event = session.desk.event(
        "desk_lookup",
        account.as_ref().map(|a| a.id.as_str()),
        json!({ "id_number": id_number, "found": person.is_some() }),
    );
    state.store.audit(event, state.now()).await?;
    let t = session.t();
    let Some(p) = person else {
        return Ok(session.message(format!("{id_number}: {}", t.not_in_registry)));
    };
    let account_status = match &account {
        None => t.no_account_yet.to_string(),
        Some(a) => format!("{} · {}", t.level(a.level), t.status(a.status)),
    };
    let here = format!(
        "/desk/people?id_number={}",
        url::form_urlencoded::byte_serialize(id_number.as_bytes()).collect::<String>()
    );
    Ok(PersonPage {
        t,
        switch_href: switch_href(&here, t.other_lang),
        officer: session.signed_in(),
        error: None,
        csrf: session.csrf.clone(),
        id_number: p.id_number.clone(),
        name: p.full_name(),
        kind: match p.kind {
            vneid_contract::AccountKind::Foreigner => t.kind_foreigner,
            vneid_contract::AccountKind::Organization => t.kind_organization,
            _ => t.kind_citizen,
        }
        .into(),
        birthdate: p.birthdate.clone(),
        gender: t.gender(p.gender).into(),
        account_status,
        has_account: account.is_some(),
        supervisor: session.officer().role.may(Action::Lock),
        lt,
        guardians: guardians_of(&state, account.as_ref(), lt).await?,
        fingers_kept: match &account {
            Some(a) => state.store.fingerprint_modalities(a.id.as_str()).await?,
            None => Vec::new(),
        },
        documents: p
            .documents
            .iter()
            .map(|d| document_line(t, session.lang, d))
            .collect(),
    }
    .into_response())
}

/// A child's recorded parents or guardians, for the desk's person page.
async fn guardians_of(
    state: &AppState,
    account: Option<&Account>,
    t: &Texts,
) -> Result<Vec<String>, AppError> {
    let Some(account) = account else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (id, relation) in state.store.guardians_of(account.id.as_str()).await? {
        if let Some(row) = state.store.account(&id).await? {
            let g = Account::try_from(&row)?;
            out.push(format!(
                "{}: {} ({})",
                t.relation(&relation),
                g.full_name(),
                g.username
            ));
        }
    }
    Ok(out)
}

/// The account-status form.
#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

/// `POST /desk/accounts/{id_number}/status`: lock, unlock or revoke (supervisors).
pub async fn set_status(
    State(state): State<AppState>,
    session: DeskSession,
    Path(id_number): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    if !session.csrf_ok(&form.csrf) {
        return Ok(Redirect::to("/desk").into_response());
    }
    let Some(wanted) = AccountStatus::parse(&form.status) else {
        return Ok(session.message(session.t().unknown_status));
    };
    let Some(row) = state.store.account_by_username(&id_number).await? else {
        return Ok(session.message(session.t().no_such_account));
    };
    let account = Account::try_from(&row)?;
    match status_change(session.officer().role, account.status, wanted) {
        Err(StatusRefused::Forbidden(refused)) => {
            return session
                .forbidden(
                    &state,
                    refused,
                    json!({ "account": account.id.as_str(), "status": wanted.as_str() }),
                )
                .await;
        }
        Err(StatusRefused::Final) => {
            return Ok(session.message(session.t().revoked_final));
        }
        Err(StatusRefused::Unchanged) | Ok(_) => {}
    }
    if account.status != wanted {
        let o = session.officer();
        let changed = state
            .store
            .change_account_status(
                StatusChange {
                    account_id: account.id.as_str(),
                    from: account.status.as_str(),
                    to: wanted.as_str(),
                    detail: json!({ "officer": o.id.as_str(), "station": o.station, "actor": "supervisor" }),
                    notice: lifecycle::notice(&account, Change::Status(wanted), state.now()),
                },
                state.now(),
            )
            .await?;
        if changed {
            tracing::info!(officer = %o.id, account = %account.id, status = %wanted.as_str(), "account status changed");
        }
    }
    back_to_person(&id_number)
}

fn back_to_person(id_number: &str) -> Result<Response, AppError> {
    let mut back = url::Url::parse("http://desk/desk/people")
        .map_err(|e| AppError::Registry(e.to_string()))?;
    back.query_pairs_mut().append_pair("id_number", id_number);
    Ok(Redirect::to(&format!("{}?{}", back.path(), back.query().unwrap_or(""))).into_response())
}

/// `POST /desk/accounts/{id_number}/downgrade`: a supervisor's decision to take a Level 2
/// account down to Level 1 (sessions and refresh grants are capped at once; the holder is told).
pub async fn downgrade(
    State(state): State<AppState>,
    session: DeskSession,
    Path(id_number): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if let Some(refused) = session
        .guard(
            &state,
            &form.csrf,
            Action::Downgrade,
            json!({ "id_number": id_number }),
        )
        .await?
    {
        return Ok(refused);
    }
    let Some(row) = state.store.account_by_username(&id_number).await? else {
        return Ok(session.message(session.t().no_such_account));
    };
    let account = Account::try_from(&row)?;
    let reason = DowngradeReason::OfficerDecision;
    let actor = lifecycle::Actor::from(session.officer().role);
    let level = match lifecycle::downgrade(&account, actor, reason) {
        Ok(level) => level,
        Err(refused) => {
            let t = session.t();
            return Ok(session.message(match refused {
                lifecycle::DowngradeRefused::NotLevel2 => t.cannot_downgrade_level,
                lifecycle::DowngradeRefused::Revoked => t.revoked_final,
                lifecycle::DowngradeRefused::NotAllowed { .. } => t.cannot_downgrade_role,
            }));
        }
    };
    let o = session.officer();
    state
        .store
        .downgrade_account(
            Downgrade {
                account_id: account.id.as_str(),
                to_level: i64::from(level.as_number()),
                detail: json!({ "officer": o.id.as_str(), "station": o.station, "actor": actor.as_str(), "reason": reason.as_str() }),
                notice: lifecycle::notice(&account, Change::Downgraded(reason), state.now()),
            },
            state.now(),
        )
        .await?;
    tracing::info!(officer = %o.id, account = %account.id, "account downgraded to Level 1");
    back_to_person(&id_number)
}

/// `POST /desk/accounts/{id_number}/sync`: re-syncs the account's documents (and what the
/// registry says about its level) now.
pub async fn sync(
    State(state): State<AppState>,
    session: DeskSession,
    Path(id_number): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if let Some(refused) = session
        .guard(
            &state,
            &form.csrf,
            Action::SyncDocuments,
            json!({ "id_number": id_number }),
        )
        .await?
    {
        return Ok(refused);
    }
    let Some(row) = state.store.account_by_username(&id_number).await? else {
        return Ok(session.message(session.t().no_such_account));
    };
    let report = crate::registry::sync::sync_account(
        &state.store,
        &state.registry,
        &row.id,
        SyncSource::Desk,
        state.now(),
    )
    .await
    .map_err(|e| AppError::Registry(e.to_string()))?;
    let event = session.desk.event(
        "desk_documents_synced",
        Some(&row.id),
        json!({ "changes": report.changes, "downgraded": report.downgraded }),
    );
    state.store.audit(event, state.now()).await?;
    let t = session.t();
    Ok(session.message(format!(
        "{} {}{}",
        t.synced,
        report.changes,
        if report.downgraded {
            format!(" · {}", t.now_level1)
        } else {
            String::new()
        }
    )))
}
