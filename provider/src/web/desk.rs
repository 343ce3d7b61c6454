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

use std::collections::HashMap;

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

use crate::accounts::account::{Account, AccountStatus};
use crate::accounts::desk::{Action, Forbidden, Officer, StatusRefused, status_change};
use crate::accounts::desk_login::{self, Credentials};
use crate::accounts::documents::SyncSource;
use crate::accounts::eligibility::Ineligible;
use crate::accounts::enrolment::{
    self, Capture, CaptureFields, Compared, Desk, EnrolError, EnrolRequest,
};
use crate::accounts::lifecycle::{self, Change, DowngradeReason};
use crate::accounts::organization::{self, OrganizationCode, OrganizationRefused};
use crate::error::AppError;
use crate::registry::{Modality, RegistryPerson};
use crate::secret;
use crate::state::AppState;
use crate::store::{Downgrade, OrganizationRow, StatusChange};
use crate::web::texts::{Texts, texts};

/// The language of the desk's pages (the switch's cookie).
fn desk_texts(jar: &CookieJar) -> &'static Texts {
    texts(crate::web::session::lang(jar, None))
}

mod organizations;
pub use organizations::{organization, organization_representative, organization_status};

const DESK_COOKIE: &str = "vneid_desk";
const PRE_COOKIE: &str = "vneid_desk_login";

#[derive(Template, WebTemplate)]
#[template(path = "desk_login.html")]
struct LoginPage {
    officer: String,
    error: Option<String>,
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_home.html")]
struct HomePage {
    officer: String,
    error: Option<String>,
    csrf: String,
    supervisor: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_person.html")]
struct PersonPage {
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
    t: &'static Texts,
    /// The account's recorded parents or guardians: "relation: name".
    guardians: Vec<String>,
    /// The fingers whose templates the account keeps.
    fingers_kept: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_verified.html")]
struct VerifiedPage {
    officer: String,
    error: Option<String>,
    csrf: String,
    id_number: String,
    results: Vec<String>,
    matched: bool,
    verification: String,
    documents: Vec<String>,
    /// The masked contact on record an upgrade's notice goes to; empty for a new account.
    contact_on_record: String,
    t: &'static Texts,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_enrolled.html")]
struct EnrolledPage {
    officer: String,
    error: Option<String>,
    name: String,
    id_number: String,
    otpauth: String,
    qr_svg: String,
    secret: String,
    notice: String,
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

    fn signed_in(&self) -> String {
        let o = self.officer();
        format!("{} · {} · {}", o.name, o.station, role_label(o))
    }

    /// Whether the form's CSRF token is this session's.
    fn csrf_ok(&self, token: &str) -> bool {
        secret::equal(&self.csrf, token)
    }

    fn home(&self, error: Option<String>) -> HomePage {
        HomePage {
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
            self.home(Some(
                "Vai trò của bạn không được làm việc này (your role does not allow this)".into(),
            )),
        )
            .into_response())
    }
}

fn role_label(o: &Officer) -> &'static str {
    if o.role.may(Action::Lock) {
        "giám sát (supervisor)"
    } else {
        "tiếp nhận (registrar)"
    }
}

fn login_page(jar: CookieJar, state: &AppState, error: Option<String>) -> Response {
    let csrf = secret::new_bearer();
    let jar = jar.add(cookie(state, PRE_COOKIE, csrf.clone()));
    (
        jar,
        LoginPage {
            officer: String::new(),
            error,
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
    if !csrf_ok {
        return Ok(login_page(
            jar,
            &state,
            Some("Biểu mẫu đã hết hạn, hãy thử lại (form expired)".into()),
        ));
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
        return Ok(login_page(
            jar,
            &state,
            Some("Sai tên đăng nhập, mật khẩu hoặc mã xác thực, hoặc đã thử quá nhiều lần: hãy thử lại sau (wrong credentials, or too many attempts: try again later)".into()),
        ));
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

fn document_line(d: &vneid_contract::Document) -> String {
    format!(
        "{}: {}{}",
        d.doc_type.description(Lang::Vi),
        d.number,
        d.expires_on
            .as_deref()
            .map(|e| format!(" (hết hạn {e})"))
            .unwrap_or_default()
    )
}

fn full_name(p: &RegistryPerson) -> String {
    [
        Some(p.family_name.as_str()),
        p.middle_name.as_deref(),
        Some(p.given_name.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
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
    let t = desk_texts(&jar);
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
    let Some(p) = person else {
        return Ok(session.message(format!(
            "Không có {id_number} trong cơ sở dữ liệu dân cư (not in the registry)"
        )));
    };
    let account_status = match &account {
        None => "chưa có (none)".to_string(),
        Some(a) => format!(
            "mức độ {} · {}",
            a.level.map(|l| l.as_number()).unwrap_or(0),
            a.status.as_str()
        ),
    };
    Ok(PersonPage {
        officer: session.signed_in(),
        error: None,
        csrf: session.csrf.clone(),
        id_number: p.id_number.clone(),
        name: full_name(&p),
        kind: p.kind.as_str().into(),
        birthdate: p.birthdate.clone(),
        gender: p.gender.as_str().into(),
        account_status,
        has_account: account.is_some(),
        supervisor: session.officer().role.may(Action::Lock),
        documents: p.documents.iter().map(document_line).collect(),
        t,
        guardians: guardians_of(&state, account.as_ref(), t).await?,
        fingers_kept: match &account {
            Some(a) => state.store.fingerprint_modalities(a.id.as_str()).await?,
            None => Vec::new(),
        },
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

/// The capture form.
#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: String,
    id_number: String,
    portrait_template: String,
    finger: String,
    fingerprint_template: String,
    #[serde(default)]
    finger_2: String,
    #[serde(default)]
    fingerprint_template_2: String,
    #[serde(default)]
    portrait_photo: String,
    device_id: String,
}

fn result_line(c: &Compared) -> String {
    let what = match &c.modality {
        Modality::Portrait => "Chân dung (portrait)".to_string(),
        Modality::Fingerprint(finger) => format!("Vân tay {finger} (fingerprint)"),
    };
    let outcome = match c.matched {
        Some(true) => "✓ khớp (match)",
        Some(false) => "✗ không khớp (no match)",
        None => "✗ không so khớp được (could not compare)",
    };
    format!("{what}: {outcome}")
}

/// `POST /desk/verify`: compares the captured templates with the enrolled ones.
pub async fn verify(
    State(state): State<AppState>,
    session: DeskSession,
    jar: CookieJar,
    Form(form): Form<VerifyForm>,
) -> Result<Response, AppError> {
    if let Some(refused) = session
        .guard(
            &state,
            &form.csrf,
            Action::Verify,
            json!({ "id_number": form.id_number }),
        )
        .await?
    {
        return Ok(refused);
    }
    let capture = match Capture::parse(CaptureFields {
        id_number: &form.id_number,
        portrait: &form.portrait_template,
        fingers: [
            (&form.finger, &form.fingerprint_template),
            (&form.finger_2, &form.fingerprint_template_2),
        ],
        device: &form.device_id,
        photo: &form.portrait_photo,
    }) {
        Ok(c) => c,
        Err(e) => return Ok(session.message(e.to_string())),
    };
    let Some(verified) = enrolment::verify(&state, &session.desk, capture).await? else {
        return Ok(session.message("Không có trong cơ sở dữ liệu dân cư (not in the registry)"));
    };
    let contact_on_record = verified
        .existing
        .as_ref()
        .and_then(lifecycle::notice_to)
        .map(|(channel, address)| enrolment::Recipient { channel, address })
        .map(|r| r.masked())
        .unwrap_or_default();
    Ok(VerifiedPage {
        officer: session.signed_in(),
        error: None,
        csrf: session.csrf.clone(),
        id_number: verified.person.id_number.clone(),
        results: verified.results.iter().map(result_line).collect(),
        matched: verified.matched(),
        verification: verified.verification.clone().unwrap_or_default(),
        documents: verified
            .person
            .documents
            .iter()
            .map(document_line)
            .collect(),
        contact_on_record,
        t: desk_texts(&jar),
    }
    .into_response())
}

fn enrol_message(e: EnrolError, t: &'static Texts) -> &'static str {
    match e {
        EnrolError::GuardianRequired => t.desk_guardian_required,
        EnrolError::Ineligible(Ineligible::NoValidCard(_)) => t.desk_no_valid_card,
        EnrolError::NoConsent => {
            "Cần xác nhận đồng ý của công dân (the citizen's consent is required)"
        }
        EnrolError::Verification(_) => {
            "Phiên xác minh không dùng được: đã hết hạn, đã dùng hoặc không do bạn thực hiện tại quầy này — hãy xác minh lại (the verification cannot be used: expired, used, or not made by you at this desk; verify again)"
        }
        EnrolError::NotInRegistry => "Không có trong cơ sở dữ liệu dân cư (not in the registry)",
        EnrolError::Ineligible(i) => match i {
            Ineligible::TooYoung => {
                "Không cấp tài khoản mức độ 2 cho người dưới 6 tuổi (Nghị định 69/2024) — no Level 2 under 6"
            }
            Ineligible::NoValidResidenceCard => {
                "Người nước ngoài cần thẻ thường trú hoặc tạm trú còn hạn (a valid residence card is needed)"
            }
            Ineligible::BirthdateUnknown => {
                "Ngày sinh trong cơ sở dữ liệu không đọc được (the registry's birth date is unreadable)"
            }
            Ineligible::Organization => {
                "Tổ chức không đăng ký mức độ 2 tại quầy (organisations are not enrolled here)"
            }
            Ineligible::AccountLocked => {
                "Tài khoản đang bị khóa: cán bộ giám sát cần mở khóa trước (the account is locked: a supervisor unlocks it first)"
            }
            Ineligible::AccountRevoked => "Tài khoản đã bị thu hồi (the account is revoked)",
            Ineligible::AccountMismatch => {
                "Tài khoản không khớp với hồ sơ dân cư (the account does not match the record)"
            }
            Ineligible::NoValidCard(_) => t.desk_no_valid_card,
        },
        EnrolError::BadPhone => {
            "Số điện thoại phải có dạng +84 và 9-10 chữ số (phone: +84 and 9-10 digits)"
        }
        EnrolError::BadEmail => "Email không hợp lệ (invalid email address)",
        EnrolError::NoContact => {
            "Cần số điện thoại hoặc email để thông báo (a phone number or email is needed)"
        }
    }
}

/// `POST /desk/enrol`: consent recorded, account created or upgraded to Level 2, second factor
/// enrolled, citizen notified.
pub async fn enrol(
    State(state): State<AppState>,
    session: DeskSession,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if !session.csrf_ok(field("csrf")) {
        return Ok(Redirect::to("/desk").into_response());
    }
    if let Err(refused) = session.officer().may(Action::Enrol) {
        return session
            .forbidden(
                &state,
                refused,
                json!({ "verification": field("verification") }),
            )
            .await;
    }
    let request = EnrolRequest {
        verification: field("verification").to_string(),
        consent: field("consent") == "yes",
        documents: form
            .iter()
            .filter(|(_, v)| v.as_str() == "on")
            .filter_map(|(k, _)| k.strip_prefix("doc_")?.parse().ok())
            .collect(),
        phone: Some(field("phone_number").to_string()),
        email: Some(field("email").to_string()),
        guardian_id_number: Some(field("guardian_id_number").to_string()),
    };
    let enrolled = match enrolment::enrol(&state, &session.desk, &request).await? {
        Ok(e) => e,
        Err(e) => return Ok(session.message(enrol_message(e, desk_texts(&jar)))),
    };
    let mut otpauth =
        url::Url::parse("otpauth://totp/").map_err(|e| AppError::Registry(e.to_string()))?;
    otpauth.set_path(&format!("VNeID:{}", enrolled.id_number));
    otpauth
        .query_pairs_mut()
        .append_pair("secret", &enrolled.totp_secret)
        .append_pair("issuer", "VNeID")
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("period", "30");
    let qr_svg = qrcode::QrCode::new(otpauth.as_str().as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .build()
        })
        .unwrap_or_default();
    let notice = if enrolled.created {
        format!(
            "Mật khẩu lần đầu đã được gửi tới {} (the first password was sent).",
            enrolled.notified
        )
    } else {
        format!(
            "Thông báo đã được gửi tới liên hệ đã đăng ký {} (the contact on record was notified).",
            enrolled.notified
        )
    };
    Ok(EnrolledPage {
        officer: session.signed_in(),
        error: None,
        name: enrolled.name,
        id_number: enrolled.id_number,
        otpauth: otpauth.to_string(),
        qr_svg,
        secret: enrolled.totp_secret,
        notice,
    }
    .into_response())
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
        return Ok(session.message("Trạng thái không hợp lệ (unknown status)"));
    };
    let Some(row) = state.store.account_by_username(&id_number).await? else {
        return Ok(session.message("Không có tài khoản này (no such account)"));
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
            return Ok(session.message(
                "Tài khoản đã bị thu hồi, không thể thay đổi (a revoked account stays revoked)",
            ));
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
        return Ok(session.message("Không có tài khoản này (no such account)"));
    };
    let account = Account::try_from(&row)?;
    let reason = DowngradeReason::OfficerDecision;
    let actor = lifecycle::Actor::from(session.officer().role);
    let level = match lifecycle::downgrade(&account, actor, reason) {
        Ok(level) => level,
        Err(refused) => {
            return Ok(session.message(format!("Không thể hạ mức (cannot downgrade): {refused}")));
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
        return Ok(session.message("Không có tài khoản này (no such account)"));
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
    Ok(session.message(format!(
        "Đã đồng bộ giấy tờ: {} thay đổi (documents re-synced: {} changes){}",
        report.changes,
        report.changes,
        if report.downgraded {
            " · hạ về mức 1 (now Level 1)"
        } else {
            ""
        }
    )))
}
