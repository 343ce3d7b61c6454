//! The Level 2 registration desk (Decree 59 Art. 14.2): receiving officers, who log in with a
//! password and a second factor, find the citizen, capture and verify the portrait and a
//! fingerprint against the registry, choose the documents to integrate, record the citizen's
//! consent, create or upgrade the account to Level 2 and enrol the TOTP second factor with a QR
//! code. Every action is audited with the officer's id.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::json;
use vneid_contract::Lang;

use crate::accounts::{password, totp};
use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::registry::{Modality, RegistryPerson, Template as Biometric};
use crate::secret;
use crate::state::AppState;
use crate::store::{
    AuditEvent, Enrolment, NewAccount, NewDocument, OfficerRow, OrganizationRow, VerificationRow,
};

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
    documents: Vec<String>,
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
    phone: String,
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

/// The officer of this request's desk session, with its CSRF token.
async fn officer(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<(OfficerRow, String)>, AppError> {
    let Some(id) = jar.get(DESK_COOKIE).map(|c| c.value().to_string()) else {
        return Ok(None);
    };
    Ok(state
        .store
        .desk_session(&secret::hash(&id), state.now())
        .await?)
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

fn signed_in(o: &OfficerRow) -> String {
    format!("{} · {}", o.name, o.station)
}

/// `GET /desk`.
pub async fn home(State(state): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    Ok(match officer(&state, &jar).await? {
        Some((o, csrf)) => HomePage {
            officer: signed_in(&o),
            error: None,
            csrf,
        }
        .into_response(),
        None => login_page(jar, &state, None),
    })
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
    let now = state.now();
    let refused =
        || Some("Sai tên đăng nhập, mật khẩu hoặc mã xác thực (wrong credentials)".to_string());
    let Some(o) = state
        .store
        .officer_by_username(form.username.trim())
        .await?
    else {
        password::verify(form.password, state.dummy_hash.clone()).await?;
        return Ok(login_page(jar, &state, refused()));
    };
    if o.locked_until.is_some_and(|t| t > now) {
        return Ok(login_page(
            jar,
            &state,
            Some("Tài khoản cán bộ đang bị tạm khóa (officer account locked)".into()),
        ));
    }
    let password_ok = password::verify(form.password, o.password_hash.clone()).await?;
    let step = totp::check(&state.sealer.open_string(&o.totp_secret)?, &form.otp, now);
    let accepted = match (password_ok, step) {
        (true, Some(step)) => state.store.officer_totp_step(&o.id, step).await?,
        _ => false,
    };
    if !accepted {
        state
            .store
            .officer_failed_login(
                &o.id,
                state.config.lockout_threshold,
                now + state.config.lockout_seconds,
            )
            .await?;
        let event = AuditEvent {
            kind: "officer_login_failed",
            account_id: None,
            client_id: None,
            detail: json!({ "officer": o.id }),
        };
        state.store.audit(event, now).await?;
        return Ok(login_page(jar, &state, refused()));
    }
    let id = secret::new_bearer();
    state
        .store
        .create_desk_session(
            &secret::hash(&id),
            &secret::new_bearer(),
            &o.id,
            now,
            now + 8 * 3600,
        )
        .await?;
    let event = AuditEvent {
        kind: "officer_login",
        account_id: None,
        client_id: None,
        detail: json!({ "officer": o.id }),
    };
    state.store.audit(event, now).await?;
    tracing::info!(officer = %o.id, "officer logged in at the desk");
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
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if let (Some((_, csrf)), Some(id)) = (
        officer(&state, &jar).await?,
        jar.get(DESK_COOKIE).map(|c| c.value().to_string()),
    ) && secret::equal(&csrf, &form.csrf)
    {
        state.store.delete_desk_session(&secret::hash(&id)).await?;
    }
    Ok((
        jar.remove(Cookie::build(DESK_COOKIE).path("/desk")),
        Redirect::to("/desk"),
    )
        .into_response())
}

/// Runs `page` for a signed-in officer whose form carried the right CSRF token (`None`: a GET).
async fn guarded(
    state: &AppState,
    jar: &CookieJar,
    csrf: Option<&str>,
) -> Result<Result<(OfficerRow, String), Response>, AppError> {
    match officer(state, jar).await? {
        Some((o, token)) if csrf.is_none_or(|c| secret::equal(c, &token)) => Ok(Ok((o, token))),
        Some(_) => Ok(Err(Redirect::to("/desk").into_response())),
        None => Ok(Err(Redirect::to("/desk").into_response())),
    }
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

/// `GET /desk/people?id_number=...`.
pub async fn person(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(q): Query<PersonQuery>,
) -> Result<Response, AppError> {
    let (o, csrf) = match guarded(&state, &jar, None).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let id_number = q.id_number.trim();
    let Some(p) = state
        .registry
        .person(id_number)
        .await
        .map_err(|e| AppError::Registry(e.to_string()))?
    else {
        return Ok(HomePage {
            officer: signed_in(&o),
            error: Some(format!(
                "Không có {id_number} trong cơ sở dữ liệu dân cư (not in the registry)"
            )),
            csrf,
        }
        .into_response());
    };
    let account = state.store.account_by_username(id_number).await?;
    let account_status = match &account {
        None => "chưa có (none)".to_string(),
        Some(a) => format!("mức độ {} · {}", a.level, a.status),
    };
    Ok(PersonPage {
        officer: signed_in(&o),
        error: None,
        csrf,
        id_number: p.id_number.clone(),
        name: full_name(&p),
        kind: p.kind.as_str().into(),
        birthdate: p.birthdate.clone(),
        gender: p.gender.as_str().into(),
        account_status,
        has_account: account.is_some(),
        documents: p.documents.iter().map(document_line).collect(),
    }
    .into_response())
}

/// The capture form.
#[derive(Deserialize)]
pub struct VerifyForm {
    csrf: String,
    id_number: String,
    portrait_template: String,
    finger: String,
    fingerprint_template: String,
    device_id: String,
}

/// `POST /desk/verify`: compares the captured templates with the enrolled ones.
pub async fn verify(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<VerifyForm>,
) -> Result<Response, AppError> {
    let (o, csrf) = match guarded(&state, &jar, Some(&form.csrf)).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let home_error = |error: String| {
        HomePage {
            officer: signed_in(&o),
            error: Some(error),
            csrf: csrf.clone(),
        }
        .into_response()
    };
    let parse = |what: &str, text: &str| -> Result<Biometric, String> {
        let values: Vec<f32> = serde_json::from_str(text).map_err(|_| {
            format!("{what}: không phải mảng số JSON (not a JSON array of numbers)")
        })?;
        Biometric::new(values).map_err(|e| format!("{what}: {e}"))
    };
    let (portrait, fingerprint) = match (
        parse("portrait", &form.portrait_template),
        parse("fingerprint", &form.fingerprint_template),
    ) {
        (Ok(p), Ok(f)) => (p, f),
        (Err(e), _) | (_, Err(e)) => return Ok(home_error(e)),
    };
    let finger = match Modality::parse(&format!("fingerprint:{}", form.finger)) {
        Some(m) => m,
        None => return Ok(home_error("unknown finger".into())),
    };
    let Some(p) = state
        .registry
        .person(&form.id_number)
        .await
        .map_err(|e| AppError::Registry(e.to_string()))?
    else {
        return Ok(home_error("not in the registry".into()));
    };
    let mut results = Vec::new();
    let mut checks = Vec::new();
    let mut matched = true;
    for (modality, probe) in [(Modality::Portrait, &portrait), (finger, &fingerprint)] {
        match state
            .registry
            .match_template(&p.id_number, &modality, probe)
            .await
        {
            Ok(m) => {
                matched &= m.matched;
                results.push(format!(
                    "{}: {:.3} (ngưỡng {:.2}) {}",
                    m.modality,
                    m.score,
                    m.threshold,
                    if m.matched {
                        "✓ khớp"
                    } else {
                        "✗ không khớp"
                    }
                ));
                checks.push(json!({ "method": if modality == Modality::Portrait { "portrait_match" } else { "fingerprint_match" }, "modality": m.modality, "score": m.score, "threshold": m.threshold, "matched": m.matched }));
            }
            Err(e) => {
                matched = false;
                results.push(format!("{}: {e}", modality.as_string()));
            }
        }
    }
    let now = state.now();
    let evidence = json!({ "checks": checks, "device": form.device_id, "officer": o.id, "station": o.station, "time": now });
    let verification = VerificationRow {
        id: secret::new_id(),
        officer_id: o.id.clone(),
        id_number: p.id_number.clone(),
        evidence: evidence.to_string(),
    };
    if matched {
        state
            .store
            .insert_verification(&verification, now, now + 1800)
            .await?;
    }
    let phone = state
        .store
        .account_by_username(&p.id_number)
        .await?
        .and_then(|a| a.phone_number)
        .unwrap_or_default();
    Ok(VerifiedPage {
        officer: signed_in(&o),
        error: None,
        csrf,
        id_number: p.id_number.clone(),
        results,
        matched,
        verification: verification.id,
        documents: p.documents.iter().map(document_line).collect(),
        phone,
    }
    .into_response())
}

/// `POST /desk/enrol`: consent recorded, account created or upgraded to Level 2, second factor
/// enrolled, citizen notified.
pub async fn enrol(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    let (o, csrf) = match guarded(&state, &jar, Some(field("csrf"))).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let home_error = |error: &str| {
        HomePage {
            officer: signed_in(&o),
            error: Some(error.to_string()),
            csrf: csrf.clone(),
        }
        .into_response()
    };
    if field("consent") != "yes" {
        return Ok(home_error(
            "Cần xác nhận đồng ý của công dân (the citizen's consent is required)",
        ));
    }
    let now = state.now();
    let Some(v) = state.store.verification(field("verification"), now).await? else {
        return Ok(home_error(
            "Phiên xác minh đã hết hạn hoặc đã dùng (verification expired or used)",
        ));
    };
    let Some(p) = state
        .registry
        .person(&v.id_number)
        .await
        .map_err(|e| AppError::Registry(e.to_string()))?
    else {
        return Ok(home_error("not in the registry"));
    };
    // Decree 69: no Level 2 under 6; a foreigner needs a valid residence card.
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let today = time::OffsetDateTime::from_unix_timestamp(now)
        .map(|t| t.date())
        .ok();
    let age = time::Date::parse(&p.birthdate, format)
        .ok()
        .zip(today)
        .map(|(born, today)| crate::accounts::registration::age_on(born, today));
    if age.is_none_or(|age| age < 6) {
        return Ok(home_error(
            "Không cấp tài khoản mức độ 2 cho người dưới 6 tuổi (Nghị định 69/2024) — no Level 2 under 6",
        ));
    }
    let card_valid = p
        .residence_card
        .as_ref()
        .zip(today)
        .is_some_and(|(card, today)| card.expires_on.as_str() > today.to_string().as_str());
    if p.kind == vneid_contract::AccountKind::Foreigner && !card_valid {
        return Ok(home_error(
            "Người nước ngoài cần thẻ thường trú hoặc tạm trú còn hạn (a valid residence card is needed)",
        ));
    }
    let phone = Some(field("phone_number").trim().to_string()).filter(|s| !s.is_empty());
    let email = Some(field("email").trim().to_string()).filter(|s| !s.is_empty());
    if phone
        .as_deref()
        .is_some_and(|ph| !crate::accounts::contact::is_phone(ph))
    {
        return Ok(home_error("Số điện thoại phải có dạng +84 và 9-10 chữ số"));
    }
    let documents: Vec<NewDocument> = p
        .documents
        .iter()
        .enumerate()
        .filter(|(i, _)| field(&format!("doc_{i}")) == "on")
        .map(|(_, d)| NewDocument {
            doc_type: d.doc_type.as_str().into(),
            number: d.number.clone(),
            issued_on: d.issued_on.clone(),
            expires_on: d.expires_on.clone(),
            issuer: d.issuer.clone(),
            details: (!d.details.is_empty()).then(|| json!(d.details).to_string()),
        })
        .collect();
    let existing = state.store.account_by_username(&p.id_number).await?;
    let mut first_password = None;
    let account = match &existing {
        Some(a) => Err(a.id.clone()),
        None => {
            let pw = secret::random_token(9);
            let new = NewAccount {
                id: secret::new_id(),
                kind: p.kind.as_str().into(),
                level: 2,
                username: p.id_number.clone(),
                password_hash: password::hash(pw.clone()).await?,
                totp_secret: None,
                family_name: p.family_name.clone(),
                middle_name: p.middle_name.clone(),
                given_name: p.given_name.clone(),
                birthdate: p.birthdate.clone(),
                gender: p.gender.as_str().into(),
                nationality: p.nationality.clone(),
                travel_document: p
                    .travel_document
                    .as_ref()
                    .and_then(|t| serde_json::to_string(t).ok()),
                portrait_jpeg: None,
                phone_number: phone.clone(),
                email: email.clone(),
                verification_evidence: None,
                must_change_password: true,
            };
            first_password = Some(pw);
            Ok(new)
        }
    };
    let contact = phone.clone().or(email.clone()).or_else(|| {
        existing
            .as_ref()
            .and_then(|a| a.phone_number.clone().or(a.email.clone()))
    });
    let Some(recipient) = contact else {
        return Ok(home_error(
            "Cần số điện thoại hoặc email để thông báo (a phone number or email is needed)",
        ));
    };
    let channel = if recipient.starts_with('+') {
        Channel::Sms
    } else {
        Channel::Email
    };
    let base32 = crate::accounts::totp::new_secret();
    let evidence = level2_evidence(&v.evidence);
    let body = match &first_password {
        Some(pw) => format!(
            "VNeID: tai khoan dinh danh dien tu muc 2 da duoc tao. Mat khau lan dau: {pw} (doi mat khau khi dang nhap lan dau)."
        ),
        None => {
            "VNeID: tai khoan dinh danh dien tu cua ban da duoc nang cap len muc 2.".to_string()
        }
    };
    let notification = Notification {
        channel,
        recipient: &recipient,
        subject: "VNeID",
        body,
        kind: if first_password.is_some() {
            "first_password"
        } else {
            "level2_enrolled"
        },
        account_id: None,
        secret: first_password.is_some(),
    }
    .row(now, &state.sealer)?;
    let enrolment = Enrolment {
        verification_id: &v.id,
        officer_id: &o.id,
        account,
        documents: &documents,
        totp_secret_sealed: &state.sealer.seal(base32.as_bytes())?,
        evidence: &evidence,
        notification,
    };
    state.store.enrol_level2(enrolment, now).await?;
    tracing::info!(officer = %o.id, "level 2 enrolment");
    let mut otpauth =
        url::Url::parse("otpauth://totp/").map_err(|e| AppError::Registry(e.to_string()))?;
    otpauth.set_path(&format!("VNeID:{}", p.id_number));
    otpauth
        .query_pairs_mut()
        .append_pair("secret", &base32)
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
    Ok(EnrolledPage {
        officer: signed_in(&o),
        error: None,
        name: full_name(&p),
        id_number: p.id_number.clone(),
        otpauth: otpauth.to_string(),
        qr_svg,
        secret: base32,
        notice: if first_password.is_some() {
            "Mật khẩu lần đầu đã được gửi qua tin nhắn.".into()
        } else {
            "Công dân đã được thông báo.".into()
        },
    }
    .into_response())
}

fn level2_evidence(desk: &str) -> String {
    let desk: serde_json::Value = serde_json::from_str(desk).unwrap_or_default();
    json!([{
        "type": "electronic_record",
        "check_details": [
            { "check_method": "bvr", "organization": desk["station"] },
            { "check_method": "fingerprint_match", "organization": desk["station"] }
        ],
        "record": { "type": "identity_card_register", "source": { "name": "Cơ sở dữ liệu căn cước", "country_code": "VN" } },
        "desk": desk,
    }])
    .to_string()
}

/// The account-status form.
#[derive(Deserialize)]
pub struct StatusForm {
    csrf: String,
    status: String,
}

/// `POST /desk/accounts/{id_number}/status`: lock, unlock or revoke.
pub async fn set_status(
    State(state): State<AppState>,
    jar: CookieJar,
    Path(id_number): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    let (o, _) = match guarded(&state, &jar, Some(&form.csrf)).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    if !["active", "locked", "revoked"].contains(&form.status.as_str()) {
        return Ok(Redirect::to("/desk").into_response());
    }
    if let Some(account) = state.store.account_by_username(&id_number).await? {
        state
            .store
            .set_account_status(&account, &form.status, &o.id, state.now())
            .await?;
        tracing::info!(officer = %o.id, account = %account.id, status = %form.status, "account status changed");
    }
    let mut back = url::Url::parse("http://desk/desk/people")
        .map_err(|e| AppError::Registry(e.to_string()))?;
    back.query_pairs_mut().append_pair("id_number", &id_number);
    Ok(Redirect::to(&format!("{}?{}", back.path(), back.query().unwrap_or(""))).into_response())
}

/// The organisation form.
#[derive(Deserialize)]
pub struct OrganizationForm {
    csrf: String,
    code: String,
    name: String,
    short_name: String,
    foreign_name: String,
    established_on: String,
    head_office_address: String,
    representative: String,
}

/// `POST /desk/organizations`: an organisation account, represented by a Level 2 citizen.
pub async fn organization(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<OrganizationForm>,
) -> Result<Response, AppError> {
    let (o, csrf) = match guarded(&state, &jar, Some(&form.csrf)).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let page = |error: String| {
        HomePage {
            officer: signed_in(&o),
            error: Some(error),
            csrf: csrf.clone(),
        }
        .into_response()
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if form.code.trim().is_empty()
        || form.name.trim().is_empty()
        || form.head_office_address.trim().is_empty()
    {
        return Ok(page(
            "Cần mã, tên và địa chỉ trụ sở (code, name and address are required)".into(),
        ));
    }
    if time::Date::parse(form.established_on.trim(), format).is_err() {
        return Ok(page("Ngày thành lập phải có dạng YYYY-MM-DD".into()));
    }
    let Some(rep) = state
        .store
        .account_by_username(form.representative.trim())
        .await?
        .filter(|a| a.level >= 2 && a.status == "active")
    else {
        return Ok(page("Người đại diện phải có tài khoản mức độ 2 (the representative needs a Level 2 account)".into()));
    };
    let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let row = OrganizationRow {
        code: form.code.trim().into(),
        name: form.name.trim().into(),
        short_name: optional(&form.short_name),
        foreign_name: optional(&form.foreign_name),
        established_on: form.established_on.trim().into(),
        head_office_address: form.head_office_address.trim().into(),
        representative_account_id: rep.id.clone(),
    };
    match state
        .store
        .insert_organization(&row, &o.id, state.now())
        .await
    {
        Ok(()) => Ok(page(format!(
            "Đã đăng ký tổ chức {} (registered)",
            row.name
        ))),
        Err(crate::store::StoreError::Duplicate(what)) => {
            Ok(page(format!("{what} exists already")))
        }
        Err(e) => Err(e.into()),
    }
}
