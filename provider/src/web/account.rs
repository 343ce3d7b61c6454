//! Citizen self-service pages: the account's level and documents (documents only in a Level 2
//! session: a step-up with the second factor), consents (each revocable), the history of every
//! release of the citizen's data, password change, contact change, and password reset by an
//! SMS code. The rules are in `accounts::selfservice` and `accounts::reset`; these handlers
//! parse the form, call them, and render.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;
use vneid_contract::{AuthMethod, DocumentType, Lang, Level};

use super::session::{self, BrowserSession};
use super::texts::{AccountTexts, Texts, account as texts, switch_href};
use crate::accounts::account::Account;
use crate::accounts::consent::ConsentItem;
use crate::accounts::login::{PasswordOutcome, check_password, check_second_factor};
use crate::accounts::password;
use crate::accounts::selfservice::{self, DocumentsView};
use crate::error::AppError;
use crate::notify::Notification;
use crate::secret;
use crate::state::AppState;
use crate::store::{AccountRow, AuditEvent};

pub mod devices;
mod guardian;
pub mod passkeys;
mod password_reset;

pub use guardian::{decide_child, decide_desk_child, verify_contact};
pub use passkeys::{passkey_finish, passkey_new, passkey_remove, passkeys_page};
pub use password_reset::{reset, reset_confirm, reset_page};

#[derive(Template, WebTemplate)]
#[template(path = "account_login.html")]
struct LoginPage {
    t: &'static AccountTexts,
    switch_href: String,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account_step_up.html")]
struct StepUpPage {
    t: &'static AccountTexts,
    switch_href: String,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    username: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    t: &'static AccountTexts,
    switch_href: String,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    name: String,
    username: String,
    level_name: &'static str,
    phone: String,
    email: String,
    documents_shown: bool,
    step_up: bool,
    documents: Vec<String>,
    /// The texts of the guardian and contact-verification parts (issue 11).
    lt: &'static Texts,
    /// Children's requests waiting for this guardian (issue 11).
    pending_children: Vec<crate::accounts::registration::PendingChild>,
    /// Children's Level 2 enrolments at the desk waiting for this guardian.
    desk_children: Vec<crate::store::DeskGuardianRow>,
    /// This child's recorded parents or guardians: (relation, name).
    guardians: Vec<(String, String)>,
    phone_verified: bool,
    email_verified: bool,
    consents: Vec<ConsentLine>,
    releases: Vec<ReleaseLine>,
}

/// A consent as the citizen reads it: the service's name, what it receives in the consent
/// page's words, since when, at which level.
struct ConsentLine {
    client_id: String,
    service: String,
    items: Vec<String>,
    since: String,
    level: &'static str,
}

/// A release of the citizen's data: when, to which service, what, at which level.
struct ReleaseLine {
    when: String,
    service: String,
    items: Vec<String>,
    level: &'static str,
}

fn to_login() -> Response {
    Redirect::to("/account/login").into_response()
}

/// The signed-in citizen: extracting it from a request without a live login sends the
/// browser to the login page.
pub struct Citizen {
    session: BrowserSession,
    row: AccountRow,
    account: Account,
    /// The level this session logged in at.
    level: Level,
    /// The language of the pages (the switch's cookie).
    lang: Lang,
}

impl Citizen {
    async fn load(state: &AppState, jar: &CookieJar) -> Result<Option<Citizen>, AppError> {
        let Some(session) = session::load(state, jar).await? else {
            return Ok(None);
        };
        let Some((level, id)) = session
            .auth
            .as_ref()
            .map(|a| (a.level, a.account_id.clone()))
        else {
            return Ok(None);
        };
        let Some(row) = state.store.account(&id).await? else {
            return Ok(None);
        };
        let account = Account::try_from(&row)?;
        Ok(Some(Citizen {
            session,
            row,
            account,
            level,
            lang: session::lang(jar, None),
        }))
    }

    fn t(&self) -> &'static AccountTexts {
        texts(self.lang)
    }

    /// Whether a submitted CSRF token is this session's.
    fn csrf_ok(&self, submitted: &str) -> bool {
        session::csrf_ok(&self.session, submitted)
    }

    /// Whether `pw` is the account's current password (counted like a login: wrong ones lock).
    async fn password_ok(&self, state: &AppState, pw: Option<&str>) -> Result<bool, AppError> {
        let Some(pw) = pw.filter(|p| !p.is_empty()) else {
            return Ok(false);
        };
        Ok(matches!(
            check_password(state, &self.account.username, pw).await?,
            PasswordOutcome::Success(a) if a.id == self.row.id
        ))
    }
}

impl FromRequestParts<AppState> for Citizen {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let jar = CookieJar::from_headers(&parts.headers);
        match Citizen::load(state, &jar).await {
            Ok(Some(citizen)) => Ok(citizen),
            Ok(None) => Err(to_login()),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// The account page, freshly read, with an error or a notice.
async fn dashboard(
    state: &AppState,
    citizen: &Citizen,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let row = state
        .store
        .account(&citizen.row.id)
        .await?
        .unwrap_or_else(|| citizen.row.clone());
    let account = Account::try_from(&row)?;
    let t = citizen.t();
    let lang = citizen.lang;
    let view = selfservice::documents_view(&account, citizen.level);
    let documents = if view == DocumentsView::Shown {
        state
            .store
            .documents(&row.id)
            .await?
            .into_iter()
            .map(|d| {
                format!(
                    "{}: {}",
                    DocumentType::parse(&d.doc_type).description(lang),
                    d.number
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let consents = consent_lines(state, &row.id, t, lang).await?;
    let releases = release_lines(state, &row.id, t, lang).await?;
    let error = error.or_else(|| {
        account
            .must_change_password
            .then(|| t.change_sms_password.to_string())
    });
    let lt = super::texts::texts(citizen.lang);
    let pending_children =
        crate::accounts::registration::pending_for_guardian(state, &account).await?;
    let desk_children = crate::accounts::desk_guardian::pending_for(state, &account).await?;
    let mut guardians = Vec::new();
    for (guardian_id, relation) in state.store.guardians_of(&row.id).await? {
        if let Some(g) = state.store.account(&guardian_id).await? {
            let g = Account::try_from(&g)?;
            guardians.push((lt.relation(&relation).to_string(), g.full_name()));
        }
    }
    Ok(AccountPage {
        t,
        lt,
        pending_children,
        desk_children,
        guardians,
        phone_verified: row.phone_verified != 0,
        email_verified: row.email_verified != 0,
        switch_href: switch_href("/account", t.other_lang),
        error,
        notice,
        csrf: citizen.session.row.csrf.clone(),
        name: account.full_name(),
        username: account.username.clone(),
        level_name: account.level.map_or(t.none, |l| t.level_name(l)),
        phone: account.phone_number.clone().unwrap_or_else(|| "—".into()),
        email: account.email.clone().unwrap_or_else(|| "—".into()),
        documents_shown: view == DocumentsView::Shown,
        step_up: view == DocumentsView::NeedsStepUp,
        documents,
        consents,
        releases,
    }
    .into_response())
}

/// The consents, each in the citizen's words (`account::consent_words`).
async fn consent_lines(
    state: &AppState,
    account_id: &str,
    t: &'static AccountTexts,
    lang: Lang,
) -> Result<Vec<ConsentLine>, AppError> {
    let mut lines = Vec::new();
    for c in state.store.consents_of(account_id).await? {
        let items = state.store.consent_items(account_id, &c.client_id).await?;
        let level = items
            .iter()
            .filter_map(|(_, l)| Level::from_number(*l))
            .max_by_key(|l| l.as_number())
            .unwrap_or(Level::Level1);
        lines.push(ConsentLine {
            items: consent_words(items.iter().map(|(i, _)| i.as_str()), lang),
            client_id: c.client_id,
            service: c.client_name,
            since: t.when(c.granted_at),
            level: t.level_name(level),
        });
    }
    Ok(lines)
}

/// The release history (the last 100 events), with the service's name and the claims in the
/// consent page's words.
async fn release_lines(
    state: &AppState,
    account_id: &str,
    t: &'static AccountTexts,
    lang: Lang,
) -> Result<Vec<ReleaseLine>, AppError> {
    let mut names = std::collections::BTreeMap::new();
    let mut lines = Vec::new();
    let events = state.store.audit_events(account_id, 100).await?;
    for (at, _, client, detail) in events
        .into_iter()
        .filter(|(_, k, _, _)| k == "claims_released")
    {
        let client = client.unwrap_or_default();
        if !names.contains_key(&client) {
            let name = match state.store.client(&client).await? {
                Some(row) => row.name,
                None => client.clone(),
            };
            names.insert(client.clone(), name);
        }
        let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
        let claims = detail["claims"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str()).collect::<Vec<_>>())
            .unwrap_or_default();
        let level = detail["acr"]
            .as_str()
            .and_then(Level::from_acr)
            .unwrap_or(Level::Level1);
        lines.push(ReleaseLine {
            when: t.when(at),
            service: names.get(&client).cloned().unwrap_or_default(),
            items: consent_words(claims.into_iter(), lang),
            level: t.level_name(level),
        });
    }
    Ok(lines)
}

/// Stored item or claim names in the consent page's words (one source of words:
/// `ConsentItem::description`); `sub` (the service's own identifier for the citizen) first, an
/// unknown name as it is.
fn consent_words<'a>(names: impl Iterator<Item = &'a str>, lang: Lang) -> Vec<String> {
    let mut items: Vec<_> = names.map(|n| (ConsentItem::parse(n), n)).collect();
    items.sort_by_key(|(item, _)| *item);
    items.dedup_by_key(|(item, n)| (*item, item.is_none().then(|| n.to_string())));
    items
        .into_iter()
        .map(|(item, n)| match item {
            Some(i) => i.description(lang).into_owned(),
            None => n.to_string(),
        })
        .collect()
}

/// `GET /account`.
pub async fn show(State(state): State<AppState>, citizen: Citizen) -> Result<Response, AppError> {
    dashboard(&state, &citizen, None, None).await
}

/// `GET /account/login`.
pub async fn login_page(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (session, jar) = session::load_or_start(&state, jar).await?;
    let t = texts(session::lang(&jar, None));
    Ok((
        jar,
        LoginPage {
            t,
            switch_href: switch_href("/account/login", t.other_lang),
            error: None,
            notice: None,
            csrf: session.row.csrf,
        },
    )
        .into_response())
}

/// The login form.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

/// `POST /account/login`: a Level 1 session; a Level 2 account is offered the step-up next.
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let Some(session) = session::load(&state, &jar)
        .await?
        .filter(|s| session::csrf_ok(s, &form.csrf))
    else {
        return Ok(to_login());
    };
    let t = texts(session::lang(&jar, None));
    let page = |error: &str| {
        LoginPage {
            t,
            switch_href: switch_href("/account/login", t.other_lang),
            error: Some(error.into()),
            notice: None,
            csrf: session.row.csrf.clone(),
        }
        .into_response()
    };
    match check_password(&state, form.username.trim(), &form.password).await? {
        PasswordOutcome::Success(row) => {
            let account = Account::try_from(row.as_ref())?;
            let jar = session::renew(
                &state,
                jar,
                &session.row,
                &row.id,
                Level::Level1,
                &[AuthMethod::Pwd],
            )
            .await?;
            let next = if selfservice::may_step_up(&account, Level::Level1) {
                "/account/step-up"
            } else {
                "/account"
            };
            Ok((jar, Redirect::to(next)).into_response())
        }
        PasswordOutcome::Disabled => Ok(page(t.disabled)),
        // Unknown, wrong and locked answer alike: the lock is told on the contact on record.
        PasswordOutcome::Locked { .. } | PasswordOutcome::WrongCredentials => {
            Ok(page(t.wrong_credentials))
        }
    }
}

/// `GET /account/step-up`: the second-factor form, for a password-only session of a Level 2
/// account.
pub async fn step_up_page(citizen: Citizen) -> Result<Response, AppError> {
    if !selfservice::may_step_up(&citizen.account, citizen.level) {
        return Ok(Redirect::to("/account").into_response());
    }
    let t = citizen.t();
    Ok(StepUpPage {
        t,
        switch_href: switch_href("/account/step-up", t.other_lang),
        error: None,
        notice: None,
        csrf: citizen.session.row.csrf.clone(),
        username: citizen.account.username.clone(),
    }
    .into_response())
}

/// The step-up form.
#[derive(Deserialize)]
pub struct StepUpForm {
    csrf: String,
    otp: String,
}

/// `POST /account/step-up`: a right TOTP code makes the session Level 2 (a new session id).
pub async fn step_up(
    State(state): State<AppState>,
    jar: CookieJar,
    citizen: Citizen,
    Form(form): Form<StepUpForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    if !selfservice::may_step_up(&citizen.account, citizen.level) {
        return Ok(Redirect::to("/account").into_response());
    }
    if check_second_factor(&state, &citizen.row, form.otp.trim()).await? {
        let amr = [AuthMethod::Pwd, AuthMethod::Otp, AuthMethod::Mfa];
        let jar = session::renew(
            &state,
            jar,
            &citizen.session.row,
            &citizen.row.id,
            Level::Level2,
            &amr,
        )
        .await?;
        let event = AuditEvent {
            kind: "second_factor_succeeded",
            account_id: Some(&citizen.row.id),
            client_id: None,
            detail: json!({ "amr": ["pwd", "otp", "mfa"], "acr": Level::Level2.acr(), "for": "self_service" }),
        };
        state.store.audit(event, state.now()).await?;
        return Ok((jar, Redirect::to("/account")).into_response());
    }
    let t = citizen.t();
    Ok(StepUpPage {
        t,
        switch_href: switch_href("/account/step-up", t.other_lang),
        error: Some(t.wrong_otp.into()),
        notice: None,
        csrf: citizen.session.row.csrf.clone(),
        username: citizen.account.username.clone(),
    }
    .into_response())
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// `POST /account/logout`.
pub async fn logout(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if citizen.csrf_ok(&form.csrf) {
        crate::oidc::backchannel::end_session(&state, &citizen.session.row.id_hash).await?;
    }
    Ok(to_login())
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current_password: Option<String>,
    new_password: String,
    confirm_password: String,
}

/// `POST /account/password`: needs the current password; every other session of the account
/// ends and its tokens are revoked with the new hash, in one transaction.
pub async fn change_password(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    if let Err(e) = selfservice::check_new_password(
        &form.new_password,
        &form.confirm_password,
        &citizen.account.username,
    ) {
        let message = new_password_error(citizen.t(), e);
        return dashboard(&state, &citizen, Some(message.into()), None).await;
    }
    if !citizen
        .password_ok(&state, form.current_password.as_deref())
        .await?
    {
        return dashboard(
            &state,
            &citizen,
            Some(citizen.t().wrong_current_password.into()),
            None,
        )
        .await;
    }
    let hash = password::hash(form.new_password).await?;
    let ended = state
        .store
        .change_password(
            &citizen.row.id,
            &hash,
            &citizen.session.row.id_hash,
            state.now(),
        )
        .await?;
    tracing::info!(account = %citizen.row.id, sessions = ended.sessions, tokens = ended.tokens,
        "password changed; other sessions ended, tokens revoked");
    dashboard(
        &state,
        &citizen,
        None,
        Some(citizen.t().password_changed.into()),
    )
    .await
}

/// The consent-withdrawal form.
#[derive(Deserialize)]
pub struct RevokeForm {
    csrf: String,
    client_id: String,
}

/// `POST /account/consents/revoke`: the consent goes, the client's tokens are revoked.
pub async fn revoke_consent(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<RevokeForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    state
        .store
        .revoke_consent(&citizen.row.id, &form.client_id, state.now())
        .await?;
    dashboard(&state, &citizen, None, Some(citizen.t().withdrawn.into())).await
}

/// The contact-change forms.
#[derive(Deserialize)]
pub struct ContactForm {
    csrf: String,
    kind: String,
    value: Option<String>,
    current_password: Option<String>,
    code: Option<String>,
}

fn six_digits() -> String {
    format!("{:06}", rand::random::<u32>() % 1_000_000)
}

/// `POST /account/contact`: with the current password re-entered, sends a code to the new
/// phone number or email.
pub async fn change_contact(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    let new = match selfservice::new_contact(
        &citizen.account,
        &form.kind,
        form.value.as_deref().unwrap_or_default(),
    ) {
        Ok(new) => new,
        Err(e) => {
            let message = contact_error(citizen.t(), e);
            return dashboard(&state, &citizen, Some(message.into()), None).await;
        }
    };
    if !citizen
        .password_ok(&state, form.current_password.as_deref())
        .await?
    {
        return dashboard(
            &state,
            &citizen,
            Some(citizen.t().wrong_current_password.into()),
            None,
        )
        .await;
    }
    let code = six_digits();
    let now = state.now();
    let message = Notification {
        channel: new.kind.channel(),
        recipient: &new.value,
        subject: "VNeID",
        body: format!("VNeID: ma xac minh {code} (10 phut)."),
        kind: "contact_code",
        account_id: Some(&citizen.row.id),
        secret: true,
    }
    .row(now, &state.sealer)?;
    state
        .store
        .issue_one_time_code(
            &citizen.row.id,
            new.kind.code_purpose(),
            Some(&new.value),
            &secret::hash(&code),
            now + 600,
            &message,
        )
        .await?;
    dashboard(
        &state,
        &citizen,
        None,
        Some(format!("{} {}", citizen.t().code_sent_to, new.value)),
    )
    .await
}

/// `POST /account/contact/confirm`: the code sets the new contact and tells the old one, in
/// one transaction.
pub async fn confirm_contact(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    let Some(kind) = selfservice::ContactKind::parse(&form.kind) else {
        return dashboard(&state, &citizen, Some(citizen.t().wrong_code.into()), None).await;
    };
    let code = form.code.unwrap_or_default();
    let now = state.now();
    let account_id = citizen.row.id.as_str();
    let changed = state
        .store
        .confirm_contact_change(
            account_id,
            kind.code_purpose(),
            kind == selfservice::ContactKind::Phone,
            &secret::hash(code.trim()),
            now,
            |old_phone, old_email, new| {
                let old_same = match kind {
                    selfservice::ContactKind::Phone => old_phone,
                    selfservice::ContactKind::Email => old_email,
                };
                if old_same == Some(new) {
                    // The contact on record verified, not changed: nobody to warn.
                    return None;
                }
                let notice = selfservice::old_contact_notice(kind, old_phone, old_email, new)?;
                Some(
                    Notification {
                        channel: notice.channel,
                        recipient: &notice.recipient,
                        subject: "VNeID",
                        body: notice.body.clone(),
                        kind: "contact_changed",
                        account_id: Some(account_id),
                        secret: false,
                    }
                    .plain_row(now),
                )
            },
        )
        .await?;
    match changed {
        Some(_) => {
            let notice = citizen.t().contact_updated.into();
            dashboard(&state, &citizen, None, Some(notice)).await
        }
        None => dashboard(&state, &citizen, Some(citizen.t().wrong_code.into()), None).await,
    }
}

/// A refused new password, in the page's language.
fn new_password_error(t: &AccountTexts, e: selfservice::NewPasswordError) -> &'static str {
    match e {
        selfservice::NewPasswordError::Mismatch => t.passwords_differ,
        selfservice::NewPasswordError::TooWeak => t.password_too_weak,
    }
}

/// A refused contact change, in the page's language.
fn contact_error(t: &AccountTexts, e: selfservice::ContactError) -> &'static str {
    match e {
        selfservice::ContactError::UnknownKind | selfservice::ContactError::Invalid => {
            t.contact_invalid
        }
        selfservice::ContactError::Unchanged => t.contact_unchanged,
    }
}
