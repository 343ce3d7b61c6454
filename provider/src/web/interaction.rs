//! The authorization endpoint and the pages of a login: thin handlers over `oidc::flow`.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;
use vneid_contract::{AuthMethod, Claim, Lang, Level};

use super::pages::{
    ChangePasswordPage, ConsentPage, ErrorPage, Level2NeededPage, LoginPage, OrganizationChoice,
    SecondFactorPage,
};
use super::session::{self, BrowserSession};
use super::texts::{Texts, texts};
use crate::accounts::consent::{ConsentItem, Granted};
use crate::accounts::login::{PasswordOutcome, check_password, local_time, second_factor_attempt};
use crate::accounts::second_factor::Verdict;
use crate::error::AppError;
use crate::oidc::authorize::{
    self, AuthorizationRequest, AuthorizeError, AuthorizeParams, BadClient,
};
use crate::oidc::client::Client;
use crate::oidc::error::{ErrorCode, OAuthError};
use crate::oidc::flow::{SessionAuth, Step, consent_needed, next_step, released_items};
use crate::oidc::grant::issue_code;
use crate::oidc::paths;
use crate::oidc::request_object;
use crate::oidc::types::Prompt;
use crate::secret;
use crate::state::AppState;
use crate::store::AuditEvent;

pub mod passkey;
pub use passkey::{passkey_finish, passkey_start};

/// `GET /authorize`.
pub async fn authorize_get(
    State(state): State<AppState>,
    jar: CookieJar,
    params: Result<Query<AuthorizeParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    match params {
        Ok(Query(params)) => authorize(state, jar, params).await,
        Err(_) => Ok(malformed_request()),
    }
}

/// `POST /authorize` (form-encoded, OpenID Connect Core 3.1.2.1).
pub async fn authorize_post(
    State(state): State<AppState>,
    jar: CookieJar,
    params: Result<Form<AuthorizeParams>, axum::extract::rejection::FormRejection>,
) -> Result<Response, AppError> {
    match params {
        Ok(Form(params)) => authorize(state, jar, params).await,
        Err(_) => Ok(malformed_request()),
    }
}

fn malformed_request() -> Response {
    ErrorPage::new(
        StatusCode::BAD_REQUEST,
        "Yêu cầu đăng nhập không hợp lệ (tham số lặp lại hoặc sai định dạng)",
        "The login request is malformed (a repeated or badly encoded parameter)",
    )
    .into_response()
}

async fn authorize(
    state: AppState,
    jar: CookieJar,
    params: AuthorizeParams,
) -> Result<Response, AppError> {
    let (client, request) = match validate(&state, params).await? {
        Ok(valid) => valid,
        Err(AuthorizeError::Page(reason)) => return Ok(bad_client_page(reason)),
        Err(AuthorizeError::Redirect(back)) => {
            let authorize::RedirectBack {
                error,
                redirect_uri,
                state: rp_state,
            } = *back;
            tracing::info!(error = error.code.as_str(), description = %error.description, "authorization request refused");
            return Ok(error.redirect(&redirect_uri, rp_state.as_deref(), &state.issuer));
        }
    };
    let now = state.now();
    let session = session::load(&state, &jar).await?;
    let auth = session.as_ref().and_then(|s| s.auth.as_ref());
    let consent = consent_for(&state, auth, &client).await?;
    let step = next_step(&request, false, auth, &consent, now);
    if request.prompts(Prompt::None) {
        let code = match step {
            Step::Issue => None,
            Step::Login => Some(ErrorCode::LoginRequired),
            Step::ChangePassword => Some(ErrorCode::InteractionRequired),
            Step::SecondFactor => Some(ErrorCode::InteractionRequired),
            Step::Level2Needed => Some(ErrorCode::UnmetAuthenticationRequirements),
            Step::Consent => Some(ErrorCode::ConsentRequired),
        };
        if let Some(code) = code {
            let error = OAuthError::new(code, "prompt=none, and the citizen would have to act");
            return Ok(error.redirect(
                &request.redirect_uri,
                request.state.as_deref(),
                &state.issuer,
            ));
        }
    }
    if let (Step::Issue, Some(auth)) = (step, auth) {
        // A returning citizen with a live session and a remembered consent: no page at all.
        return issue_code(&state, None, &request, auth, None, None).await;
    }
    let id = secret::new_bearer();
    let params = serde_json::to_string(&request)?;
    state
        .store
        .insert_request(
            &id,
            client.id.as_str(),
            &params,
            now,
            now + state.config.lifetimes.interaction,
        )
        .await?;
    Ok(Redirect::to(&paths::interaction(&id, paths::INTERACTION)).into_response())
}

async fn validate(
    state: &AppState,
    params: AuthorizeParams,
) -> Result<Result<(Client, AuthorizationRequest), AuthorizeError>, AppError> {
    let client_id = match authorize::client_id(&params) {
        Ok(id) => id,
        Err(e) => return Ok(Err(e)),
    };
    let Some(client) = state.client(&client_id).await? else {
        return Ok(Err(AuthorizeError::Page(BadClient::UnknownClient)));
    };
    // A pushed request (RFC 9126): only its parameters count; it is used up here.
    if let Some(request_uri) = params.request_uri.as_deref() {
        return Ok(
            match crate::oidc::par::take(state, &client, request_uri).await? {
                Some(mut request) => {
                    crate::oidc::predicates::restrict(state, &client, &mut request.claims).await?;
                    Ok((client, request))
                }
                None => {
                    tracing::info!(
                        client = client.id.as_str(),
                        "unknown, used or expired request_uri"
                    );
                    Err(authorize::refuse(
                        &params,
                        &client,
                        OAuthError::new(
                            ErrorCode::InvalidRequestUri,
                            "the request_uri is unknown, used or expired",
                        ),
                    ))
                }
            },
        );
    }
    let must_push =
        client.require_par || state.config.clients.require_pushed_authorization_requests;
    let outer = AuthorizeParams {
        redirect_uri: params.redirect_uri.clone(),
        state: params.state.clone(),
        ..AuthorizeParams::default()
    };
    let params = match request_object::apply_once(state, params, &client).await {
        Ok(params) => params,
        Err(error) => return Ok(Err(authorize::refuse(&outer, &client, error))),
    };
    let mut validated = authorize::validate(params, &client, must_push);
    if let Ok(request) = &mut validated {
        crate::oidc::predicates::restrict(state, &client, &mut request.claims).await?;
    }
    Ok(validated.map(|request| (client, request)))
}

fn bad_client_page(reason: BadClient) -> Response {
    let (vi, en) = match reason {
        BadClient::MissingClientId => (
            "Thiếu mã dịch vụ (client_id)",
            "The request does not name the service (client_id)",
        ),
        BadClient::UnknownClient => (
            "Dịch vụ này chưa được đăng ký với VNeID",
            "This service is not registered with VNeID",
        ),
        BadClient::MissingRedirectUri => (
            "Thiếu địa chỉ quay lại (redirect_uri)",
            "The request has no return address (redirect_uri)",
        ),
        BadClient::UnregisteredRedirectUri => (
            "Địa chỉ quay lại không khớp với địa chỉ đã đăng ký; để bảo vệ bạn, chúng tôi không chuyển tiếp",
            "The return address does not match the registered one; to protect you, we do not redirect",
        ),
        BadClient::BadRequestUri => (
            "Yêu cầu đăng nhập đã hết hạn hoặc đã được dùng. Hãy quay lại dịch vụ và bắt đầu lại",
            "This login request has expired or was used already. Go back to the service and start again",
        ),
    };
    tracing::info!(reason = ?reason, "authorization request from an untrusted client refused with a page");
    ErrorPage::new(StatusCode::BAD_REQUEST, vi, en).into_response()
}

/// What the citizen of this session agreed to give this client so far.
async fn consent_for(
    state: &AppState,
    auth: Option<&SessionAuth>,
    client: &Client,
) -> Result<Granted, AppError> {
    let Some(auth) = auth else {
        return Ok(Granted::none());
    };
    let stored = state
        .store
        .consent_items(&auth.account_id, client.id.as_str())
        .await?;
    let mut granted =
        Granted::from_stored(stored.iter().map(|(item, level)| (item.as_str(), *level)));
    // The organisation agreed to is the one chosen: with several and no valid choice on
    // record, the page asks again.
    let organization = ConsentItem::Claim(Claim::Organization);
    if granted.covers(organization, Level::Level1) {
        let codes = organization_codes(state, &auth.account_id).await?;
        let chosen = state
            .store
            .consent_organization(&auth.account_id, client.id.as_str())
            .await?;
        if crate::accounts::organization::choice_needed(&codes, chosen.as_deref()) {
            granted.forget(organization);
        }
    }
    Ok(granted)
}

/// The codes of the organisations this account may release now.
async fn organization_codes(state: &AppState, account_id: &str) -> Result<Vec<String>, AppError> {
    Ok(state
        .store
        .organizations_of(account_id)
        .await?
        .into_iter()
        .map(|o| o.code)
        .collect())
}

/// A login in progress, loaded for a page.
pub(super) struct Interaction {
    pub(super) id: String,
    pub(super) request: AuthorizationRequest,
    pub(super) login_done: bool,
    pub(super) client: Client,
}

pub(super) async fn load_interaction(
    state: &AppState,
    id: &str,
) -> Result<Result<Interaction, Response>, AppError> {
    let expired = || {
        ErrorPage::new(
            StatusCode::NOT_FOUND,
            "Phiên đăng nhập đã hết hạn hoặc đã hoàn tất. Hãy quay lại dịch vụ và bắt đầu lại",
            "This login has expired or is finished. Go back to the service and start again",
        )
        .into_response()
    };
    if id.len() > 64 {
        return Ok(Err(expired()));
    }
    let Some((params, login_done)) = state.store.request(id, state.now()).await? else {
        return Ok(Err(expired()));
    };
    let request: AuthorizationRequest = serde_json::from_str(&params)?;
    let Some(client) = state.client(&request.client_id).await? else {
        return Ok(Err(expired()));
    };
    Ok(Ok(Interaction {
        id: id.to_string(),
        request,
        login_done,
        client,
    }))
}

/// Query of the interaction page: an optional language switch.
#[derive(Deserialize)]
pub struct LangQuery {
    lang: Option<String>,
}

/// `GET /interaction/{id}`: shows the next step, or finishes.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<LangQuery>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let ia = match load_interaction(&state, &id).await? {
        Ok(ia) => ia,
        Err(page) => return Ok(page),
    };
    let mut jar = jar;
    let switched = match query.lang.as_deref() {
        Some("en") => Some(Lang::En),
        Some("vi") => Some(Lang::Vi),
        _ => None,
    };
    if let Some(lang) = switched {
        jar = session::set_lang(&state, jar, lang);
    }
    let (session, jar) = session::load_or_start(&state, jar).await?;
    let lang = switched.unwrap_or_else(|| session::lang(&jar, ia.request.lang()));
    let response = step_page(&state, &ia, &session, lang, None).await?;
    Ok((jar, response).into_response())
}

/// Renders the page for the next step, or issues the code when nothing is left to ask.
async fn step_page(
    state: &AppState,
    ia: &Interaction,
    session: &BrowserSession,
    lang: Lang,
    error: Option<String>,
) -> Result<Response, AppError> {
    let t = texts(lang);
    let auth = session.auth.as_ref();
    let consent = consent_for(state, auth, &ia.client).await?;
    let step = next_step(&ia.request, ia.login_done, auth, &consent, state.now());
    let csrf = session.row.csrf.clone();
    let switch_href = format!(
        "{}?lang={}",
        paths::interaction(&ia.id, paths::INTERACTION),
        t.other_lang
    );
    let cancel_action = paths::interaction(&ia.id, paths::INTERACTION_ABORT);
    let client_name = ia.client.name.clone();
    Ok(match (step, auth) {
        (Step::Login, _) | (_, None) => LoginPage {
            t,
            switch_href,
            client_name,
            level_name: t.level_name(ia.request.required_level),
            action: paths::interaction(&ia.id, paths::INTERACTION_LOGIN),
            cancel_action,
            csrf,
            username: ia
                .request
                .login_hint
                .clone()
                .filter(|h| h.len() <= 20)
                .unwrap_or_default(),
            error,
            qr: Some(super::qr_login::view(state, ia, &session.row, lang).await?),
        }
        .into_response(),
        (Step::ChangePassword, Some(_)) => ChangePasswordPage {
            t,
            switch_href,
            action: paths::interaction(&ia.id, paths::INTERACTION_PASSWORD),
            csrf,
            error,
        }
        .into_response(),
        (Step::SecondFactor, Some(auth)) => SecondFactorPage {
            t,
            switch_href,
            username: auth.username.clone(),
            action: paths::interaction(&ia.id, paths::INTERACTION_OTP),
            cancel_action,
            csrf,
            error,
            passkey: passkey::offer(state, &ia.id, &auth.account_id, lang).await?,
        }
        .into_response(),
        (Step::Level2Needed, Some(_)) => Level2NeededPage {
            t,
            switch_href,
            client_name,
            action: cancel_action,
            csrf,
        }
        .into_response(),
        (Step::Consent, Some(auth)) => {
            // Just what is new; what was agreed before is said too: together, exactly what
            // the grant releases.
            let new = consent_needed(&ia.request, auth, &consent);
            let released = released_items(&ia.request, auth);
            // Predicates are shown with their value ("Aged 18 or over: yes").
            let predicates = released
                .iter()
                .filter_map(|item| match item {
                    ConsentItem::Predicate(p) => Some(*p),
                    _ => None,
                })
                .collect::<std::collections::BTreeSet<_>>();
            let values = match state.store.account(&auth.account_id).await? {
                Some(account) if !predicates.is_empty() => {
                    crate::oidc::predicates::values(state, &account, &predicates).await?
                }
                _ => Default::default(),
            };
            let has_predicates = !predicates.is_empty();
            let organizations = if released.contains(&ConsentItem::Claim(Claim::Organization)) {
                organization_choices(state, &auth.account_id, ia.client.id.as_str()).await?
            } else {
                Vec::new()
            };
            let agreed = released.into_iter().filter(|item| !new.contains(item));
            ConsentPage {
                t,
                switch_href,
                client_name,
                items: new.iter().map(|i| i.describe(lang, &values)).collect(),
                agreed: agreed.map(|i| i.describe(lang, &values)).collect(),
                has_predicates,
                organizations,
                level_name: t.level_name(auth.level),
                action: paths::interaction(&ia.id, paths::INTERACTION_CONSENT),
                csrf,
            }
            .into_response()
        }
        (Step::Issue, Some(auth)) => {
            issue_code(state, Some(&ia.id), &ia.request, auth, None, None).await?
        }
    })
}

/// The organisations a representative of several chooses among on the consent page (none for
/// a representative of one: there is nothing to choose), the remembered choice ticked.
async fn organization_choices(
    state: &AppState,
    account_id: &str,
    client_id: &str,
) -> Result<Vec<OrganizationChoice>, AppError> {
    let all = state.store.organizations_of(account_id).await?;
    if all.len() < 2 {
        return Ok(Vec::new());
    }
    let chosen = state
        .store
        .consent_organization(account_id, client_id)
        .await?;
    Ok(all
        .into_iter()
        .map(|o| OrganizationChoice {
            checked: chosen.as_deref() == Some(o.code.as_str()),
            code: o.code,
            name: o.name,
        })
        .collect())
}

/// The fields every form carries.
#[derive(Deserialize)]
pub struct LoginForm {
    csrf: String,
    username: String,
    password: String,
}

/// The session behind a form post, if its CSRF token is right.
async fn form_session(
    state: &AppState,
    jar: &CookieJar,
    csrf: &str,
) -> Result<Result<BrowserSession, Response>, AppError> {
    match session::load(state, jar).await? {
        Some(session) if session::csrf_ok(&session, csrf) => Ok(Ok(session)),
        _ => Ok(Err(ErrorPage::new(
            StatusCode::FORBIDDEN,
            "Biểu mẫu đã hết hạn. Hãy tải lại trang và thử lại",
            "The form has expired. Reload the page and try again",
        )
        .into_response())),
    }
}

/// The login in progress and the browser session behind a form post, or the page to show
/// instead (expired login, wrong CSRF token).
pub(super) async fn form_step(
    state: &AppState,
    id: &str,
    jar: &CookieJar,
    csrf: &str,
) -> Result<Result<(Interaction, BrowserSession), Response>, AppError> {
    let ia = match load_interaction(state, id).await? {
        Ok(ia) => ia,
        Err(page) => return Ok(Err(page)),
    };
    Ok(form_session(state, jar, csrf)
        .await?
        .map(|session| (ia, session)))
}

/// `POST /interaction/{id}/login`.
pub async fn login(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let lang = session::lang(&jar, ia.request.lang());
    let t = texts(lang);
    let username = form.username.trim();
    let outcome = if username.len() > 20 || form.password.len() > 256 {
        PasswordOutcome::WrongCredentials
    } else {
        check_password(&state, username, &form.password).await?
    };
    let error = match outcome {
        PasswordOutcome::Success(account) => {
            let level = Level::Level1;
            let jar = session::renew(
                &state,
                jar,
                &session.row,
                &account.id,
                level,
                &[AuthMethod::Pwd],
            )
            .await?;
            state.store.mark_login_done(&ia.id).await?;
            let event = AuditEvent {
                kind: "login_succeeded",
                account_id: Some(&account.id),
                client_id: Some(ia.client.id.as_str()),
                detail: json!({ "amr": ["pwd"], "acr": level.acr() }),
            };
            state.store.audit(event, state.now()).await?;
            tracing::info!(account = %account.id, client = ia.client.id.as_str(), "password login");
            return Ok((
                jar,
                Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)),
            )
                .into_response());
        }
        // Unknown, wrong and locked say the same: the lock is told on the contact on record.
        PasswordOutcome::WrongCredentials | PasswordOutcome::Locked { .. } => {
            t.wrong_credentials.to_string()
        }
        PasswordOutcome::Disabled => t.account_disabled.to_string(),
    };
    let mut page = LoginPage {
        t,
        switch_href: String::new(),
        client_name: ia.client.name.clone(),
        level_name: t.level_name(ia.request.required_level),
        action: paths::interaction(&ia.id, paths::INTERACTION_LOGIN),
        cancel_action: paths::interaction(&ia.id, paths::INTERACTION_ABORT),
        csrf: session.row.csrf.clone(),
        username: username.chars().take(20).collect(),
        error: Some(error),
        qr: Some(super::qr_login::view(&state, &ia, &session.row, lang).await?),
    };
    page.switch_href = format!(
        "{}?lang={}",
        paths::interaction(&ia.id, paths::INTERACTION),
        t.other_lang
    );
    Ok(page.into_response())
}

/// The second-factor form.
#[derive(Deserialize)]
pub struct OtpForm {
    csrf: String,
    otp: String,
}

/// `POST /interaction/{id}/otp`.
pub async fn otp(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<OtpForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let Some(auth) = session.auth.clone() else {
        return Ok(Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)).into_response());
    };
    let lang = session::lang(&jar, ia.request.lang());
    let Some(account) = state.store.account(&auth.account_id).await? else {
        return Ok(Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)).into_response());
    };
    let verdict = if account.level >= 2 {
        second_factor_attempt(&state, &account, &form.otp).await?
    } else {
        None
    };
    if verdict.is_some_and(Verdict::accepted) {
        let amr = [AuthMethod::Pwd, AuthMethod::Otp, AuthMethod::Mfa];
        let jar =
            session::renew(&state, jar, &session.row, &account.id, Level::Level2, &amr).await?;
        let event = AuditEvent {
            kind: "second_factor_succeeded",
            account_id: Some(&account.id),
            client_id: Some(ia.client.id.as_str()),
            detail: json!({ "amr": ["pwd", "otp", "mfa"], "acr": Level::Level2.acr() }),
        };
        state.store.audit(event, state.now()).await?;
        tracing::info!(account = %account.id, client = ia.client.id.as_str(), "second factor accepted");
        return Ok((
            jar,
            Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)),
        )
            .into_response());
    }
    let t: &Texts = texts(lang);
    // The password was right already: saying that the second factor is locked tells nothing
    // new, and the citizen was told on the contact on record too.
    let error = match verdict {
        Some(Verdict::LockedNow { until } | Verdict::StillLocked { until }) => {
            format!("{} {}.", t.otp_locked_until, local_time(until))
        }
        _ => t.wrong_otp.to_string(),
    };
    step_page(&state, &ia, &session, lang, Some(error)).await
}

/// The change-password form.
#[derive(Deserialize)]
pub struct ChangePasswordForm {
    csrf: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /interaction/{id}/password`: the first password came by SMS; a new one replaces it.
pub async fn change_password(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let Some(auth) = session.auth.as_ref().filter(|a| a.must_change_password) else {
        return Ok(Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)).into_response());
    };
    let t = texts(session::lang(&jar, ia.request.lang()));
    let error = if form.new_password != form.confirm_password {
        Some(t.passwords_differ)
    } else if !crate::accounts::password::acceptable(&form.new_password, &auth.username) {
        Some(t.password_too_weak)
    } else {
        None
    };
    if let Some(error) = error {
        return step_page(
            &state,
            &ia,
            &session,
            session::lang(&jar, ia.request.lang()),
            Some(error.to_string()),
        )
        .await;
    }
    let hash = crate::accounts::password::hash(form.new_password).await?;
    state
        .store
        .set_password(&auth.account_id, &hash, state.now())
        .await?;
    tracing::info!(account = %auth.account_id, "first password changed");
    Ok(Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)).into_response())
}

/// The consent form.
#[derive(Deserialize)]
pub struct ConsentForm {
    csrf: String,
    decision: String,
    /// The organisation chosen (its code), for a representative of several.
    organization: Option<String>,
}

/// `POST /interaction/{id}/consent`.
pub async fn consent(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<ConsentForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let Some(auth) = session.auth.as_ref() else {
        return Ok(Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)).into_response());
    };
    // Consent counts only once every earlier step is done (no skipping the second factor).
    let step = next_step(
        &ia.request,
        ia.login_done,
        Some(auth),
        &Granted::none(),
        state.now(),
    );
    if step != Step::Consent {
        return Ok(Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)).into_response());
    }
    match form.decision.as_str() {
        "allow" => {
            // Everything the grant releases was on the page (new, or agreed before).
            let shown = released_items(&ia.request, auth);
            let organization = if shown.contains(&ConsentItem::Claim(Claim::Organization)) {
                match chosen_organization(&state, auth, &ia, form.organization).await? {
                    Ok(chosen) => chosen,
                    Err(page) => return Ok(page),
                }
            } else {
                None
            };
            issue_code(
                &state,
                Some(&ia.id),
                &ia.request,
                auth,
                Some(&shown),
                organization.as_deref(),
            )
            .await
        }
        "deny" => {
            finish_with_error(
                &state,
                &ia,
                Some(&auth.account_id),
                ErrorCode::AccessDenied,
                "consent_denied",
                "the citizen refused to share the information",
            )
            .await
        }
        _ => Ok(ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "Lựa chọn không hợp lệ",
            "Unknown decision",
        )
        .into_response()),
    }
}

/// The organisation chosen on the consent page, checked: one the citizen represents now (a
/// code they do not represent is refused, never released), and a choice is required from a
/// representative of several with none remembered.
async fn chosen_organization(
    state: &AppState,
    auth: &SessionAuth,
    ia: &Interaction,
    chosen: Option<String>,
) -> Result<Result<Option<String>, Response>, AppError> {
    let codes = organization_codes(state, &auth.account_id).await?;
    let remembered = state
        .store
        .consent_organization(&auth.account_id, ia.client.id.as_str())
        .await?;
    let chosen = chosen.filter(|c| !c.is_empty());
    let refused = match chosen.as_deref() {
        Some(c) if !codes.iter().any(|o| o == c) => true,
        Some(_) => false,
        None => crate::accounts::organization::choice_needed(&codes, remembered.as_deref()),
    };
    if refused {
        tracing::info!(account = %auth.account_id, client = ia.client.id.as_str(), "organisation choice refused");
        let event = AuditEvent {
            kind: "organization_choice_refused",
            account_id: Some(&auth.account_id),
            client_id: Some(ia.client.id.as_str()),
            detail: json!({ "chosen": chosen }),
        };
        state.store.audit(event, state.now()).await?;
        return Ok(Err(ErrorPage::new(
            StatusCode::BAD_REQUEST,
            "Hãy chọn một tổ chức mà bạn là người đại diện",
            "Choose an organisation you represent",
        )
        .into_response()));
    }
    Ok(Ok(chosen))
}

/// The cancel and "return to the service" forms.
#[derive(Deserialize)]
pub struct AbortForm {
    csrf: String,
}

/// `POST /interaction/{id}/abort`: the citizen cancels, or leaves the "Level 2 needed" page.
pub async fn abort(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<AbortForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let auth = session.auth.as_ref();
    let step = next_step(
        &ia.request,
        ia.login_done,
        auth,
        &Granted::none(),
        state.now(),
    );
    let account_id = auth.map(|a| a.account_id.as_str());
    if step == Step::Level2Needed {
        finish_with_error(
            &state,
            &ia,
            account_id,
            ErrorCode::UnmetAuthenticationRequirements,
            "level2_needed",
            "the account is not Level 2",
        )
        .await
    } else {
        finish_with_error(
            &state,
            &ia,
            account_id,
            ErrorCode::AccessDenied,
            "login_cancelled",
            "the citizen cancelled the login",
        )
        .await
    }
}

async fn finish_with_error(
    state: &AppState,
    ia: &Interaction,
    account_id: Option<&str>,
    code: ErrorCode,
    audit_kind: &str,
    description: &'static str,
) -> Result<Response, AppError> {
    state.store.delete_request(&ia.id).await?;
    let event = AuditEvent {
        kind: audit_kind,
        account_id,
        client_id: Some(ia.client.id.as_str()),
        detail: json!({ "error": code.as_str() }),
    };
    state.store.audit(event, state.now()).await?;
    let error = OAuthError::new(code, description);
    Ok(error.redirect(
        &ia.request.redirect_uri,
        ia.request.state.as_deref(),
        &state.issuer,
    ))
}
