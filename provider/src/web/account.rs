//! Citizen self-service: the account's level and documents, consents (each revocable), the
//! history of every release of the citizen's data, password change, contact change with a
//! verification code, and password reset by an SMS one-time code.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use vneid_contract::{AuthMethod, DocumentType, Lang, Level};

use super::session::{self, BrowserSession};
use crate::accounts::login::{PasswordOutcome, check_password};
use crate::accounts::password;
use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::secret;
use crate::state::AppState;
use crate::store::AccountRow;

#[derive(Template, WebTemplate)]
#[template(path = "account_login.html")]
struct LoginPage {
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account_reset.html")]
struct ResetPage {
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    username: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    name: String,
    username: String,
    level: i64,
    phone: String,
    email: String,
    documents: Vec<String>,
    consents: Vec<(String, String, String)>,
    releases: Vec<String>,
}

async fn signed_in(
    state: &AppState,
    jar: &CookieJar,
) -> Result<Option<(BrowserSession, AccountRow)>, AppError> {
    let Some(session) = session::load(state, jar).await? else {
        return Ok(None);
    };
    let Some(auth) = &session.auth else {
        return Ok(None);
    };
    let Some(account) = state.store.account(&auth.account_id).await? else {
        return Ok(None);
    };
    Ok(Some((session, account)))
}

fn when(unix: i64) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.to_offset(offset)
                .format(time::macros::format_description!(
                    "[day]/[month]/[year] [hour]:[minute]"
                ))
                .ok()
        })
        .unwrap_or_default()
}

async fn dashboard(
    state: &AppState,
    session: &BrowserSession,
    account: &AccountRow,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let documents = state
        .store
        .documents(&account.id)
        .await?
        .into_iter()
        .map(|d| {
            format!(
                "{}: {}",
                DocumentType::parse(&d.doc_type).description(Lang::Vi),
                d.number
            )
        })
        .collect();
    let consents = state
        .store
        .consents_of(&account.id)
        .await?
        .into_iter()
        .map(|c| (c.client_id, c.client_name, c.scopes))
        .collect();
    let releases = state
        .store
        .audit_events(&account.id, 100)
        .await?
        .into_iter()
        .filter(|(_, kind, _, _)| kind == "claims_released")
        .map(|(at, _, client, detail)| {
            let detail: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
            let claims: Vec<&str> = detail["claims"]
                .as_array()
                .map(|a| a.iter().filter_map(|c| c.as_str()).collect())
                .unwrap_or_default();
            format!(
                "{} · {} · {}",
                when(at),
                client.unwrap_or_default(),
                claims.join(", ")
            )
        })
        .collect();
    let name = [
        Some(account.family_name.as_str()),
        account.middle_name.as_deref(),
        Some(account.given_name.as_str()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let error = error.or_else(|| {
        (account.must_change_password != 0)
            .then(|| "Hãy đổi mật khẩu được gửi qua tin nhắn (change the SMS password)".to_string())
    });
    Ok(AccountPage {
        error,
        notice,
        csrf: session.row.csrf.clone(),
        name,
        username: account.username.clone(),
        level: account.level,
        phone: account.phone_number.clone().unwrap_or_else(|| "—".into()),
        email: account.email.clone().unwrap_or_else(|| "—".into()),
        documents,
        consents,
        releases,
    }
    .into_response())
}

/// `GET /account`.
pub async fn show(State(state): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    match signed_in(&state, &jar).await? {
        Some((session, account)) => dashboard(&state, &session, &account, None, None).await,
        None => Ok(Redirect::to("/account/login").into_response()),
    }
}

/// `GET /account/login`.
pub async fn login_page(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (session, jar) = session::load_or_start(&state, jar).await?;
    Ok((
        jar,
        LoginPage {
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

/// `POST /account/login`.
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, AppError> {
    let Some(session) = session::load(&state, &jar)
        .await?
        .filter(|s| session::csrf_ok(s, &form.csrf))
    else {
        return Ok(Redirect::to("/account/login").into_response());
    };
    let page = |error: &str| {
        LoginPage {
            error: Some(error.into()),
            notice: None,
            csrf: session.row.csrf.clone(),
        }
        .into_response()
    };
    match check_password(&state, form.username.trim(), &form.password).await? {
        PasswordOutcome::Success(account) => {
            let jar = session::renew(
                &state,
                jar,
                &session.row,
                &account.id,
                Level::Level1,
                &[AuthMethod::Pwd],
            )
            .await?;
            Ok((jar, Redirect::to("/account")).into_response())
        }
        PasswordOutcome::Locked { .. } => {
            Ok(page("Tài khoản tạm khóa do nhập sai nhiều lần (locked)"))
        }
        PasswordOutcome::Disabled => Ok(page("Tài khoản không còn sử dụng được (disabled)")),
        PasswordOutcome::WrongCredentials => Ok(page(
            "Số định danh hoặc mật khẩu không đúng (wrong credentials)",
        )),
    }
}

/// A form with only the CSRF token.
#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

/// Runs with the signed-in citizen when the CSRF token is right; otherwise back to login.
async fn guarded(
    state: &AppState,
    jar: &CookieJar,
    csrf: &str,
) -> Result<Result<(BrowserSession, AccountRow), Response>, AppError> {
    match signed_in(state, jar).await? {
        Some((s, a)) if session::csrf_ok(&s, csrf) => Ok(Ok((s, a))),
        _ => Ok(Err(Redirect::to("/account/login").into_response())),
    }
}

/// `POST /account/logout`.
pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    if let Ok((s, _)) = guarded(&state, &jar, &form.csrf).await? {
        state.store.delete_session(&s.row.id_hash).await?;
    }
    Ok(Redirect::to("/account/login").into_response())
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
    confirm_password: String,
}

/// `POST /account/password`.
pub async fn change_password(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let (s, account) = match guarded(&state, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let error = if !password::verify(form.current_password, account.password_hash.clone()).await? {
        Some("Mật khẩu hiện tại không đúng (wrong current password)")
    } else if form.new_password != form.confirm_password {
        Some("Hai lần nhập mật khẩu mới không giống nhau")
    } else if !password::acceptable(&form.new_password, &account.username) {
        Some("Mật khẩu mới: ít nhất 8 ký tự, có chữ và số, không trùng số định danh")
    } else {
        None
    };
    if let Some(error) = error {
        return dashboard(&state, &s, &account, Some(error.into()), None).await;
    }
    let hash = password::hash(form.new_password).await?;
    state
        .store
        .set_password(&account.id, &hash, state.now())
        .await?;
    let account = state.store.account(&account.id).await?.unwrap_or(account);
    dashboard(
        &state,
        &s,
        &account,
        None,
        Some("Đã đổi mật khẩu (password changed)".into()),
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
    jar: CookieJar,
    Form(form): Form<RevokeForm>,
) -> Result<Response, AppError> {
    let (s, account) = match guarded(&state, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    state
        .store
        .revoke_consent(&account.id, &form.client_id, state.now())
        .await?;
    dashboard(
        &state,
        &s,
        &account,
        None,
        Some("Đã thu hồi (withdrawn)".into()),
    )
    .await
}

/// The contact-change forms.
#[derive(Deserialize)]
pub struct ContactForm {
    csrf: String,
    kind: String,
    value: Option<String>,
    code: Option<String>,
}

fn six_digits() -> String {
    format!("{:06}", rand::random::<u32>() % 1_000_000)
}

/// `POST /account/contact`: sends a code to the new phone number or email.
pub async fn change_contact(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let (s, account) = match guarded(&state, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let value = form.value.unwrap_or_default().trim().to_string();
    let phone = form.kind == "phone";
    let valid = if phone {
        crate::accounts::contact::is_phone(&value)
    } else {
        crate::accounts::contact::is_email(&value)
    };
    if !valid {
        return dashboard(
            &state,
            &s,
            &account,
            Some("Số điện thoại (+84...) hoặc email không hợp lệ".into()),
            None,
        )
        .await;
    }
    let code = six_digits();
    let now = state.now();
    let message = Notification {
        channel: if phone { Channel::Sms } else { Channel::Email },
        recipient: &value,
        subject: "VNeID",
        body: format!("VNeID: ma xac minh {code} (10 phut)."),
        kind: "contact_code",
        account_id: Some(&account.id),
        secret: true,
    }
    .row(now, &state.sealer)?;
    let purpose = if phone {
        "phone_change"
    } else {
        "email_change"
    };
    state
        .store
        .issue_one_time_code(
            &account.id,
            purpose,
            Some(&value),
            &secret::hash(&code),
            now + 600,
            &message,
        )
        .await?;
    dashboard(
        &state,
        &s,
        &account,
        None,
        Some(format!("Đã gửi mã xác minh tới {value}")),
    )
    .await
}

/// `POST /account/contact/confirm`.
pub async fn confirm_contact(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ContactForm>,
) -> Result<Response, AppError> {
    let (s, account) = match guarded(&state, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(r) => return Ok(r),
    };
    let phone = form.kind == "phone";
    let purpose = if phone {
        "phone_change"
    } else {
        "email_change"
    };
    let code = form.code.unwrap_or_default();
    let now = state.now();
    match state
        .store
        .use_one_time_code(&account.id, purpose, &secret::hash(code.trim()), now)
        .await?
    {
        Some(Some(target)) => {
            state
                .store
                .set_contact(&account.id, phone, &target, now)
                .await?;
            let account = state.store.account(&account.id).await?.unwrap_or(account);
            dashboard(
                &state,
                &s,
                &account,
                None,
                Some("Đã cập nhật (updated)".into()),
            )
            .await
        }
        _ => {
            dashboard(
                &state,
                &s,
                &account,
                Some("Mã không đúng hoặc đã hết hạn (wrong or expired code)".into()),
                None,
            )
            .await
        }
    }
}

/// `GET /account/reset`.
pub async fn reset_page(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (session, jar) = session::load_or_start(&state, jar).await?;
    Ok((
        jar,
        ResetPage {
            error: None,
            notice: None,
            csrf: session.row.csrf,
            username: String::new(),
        },
    )
        .into_response())
}

/// The reset forms.
#[derive(Deserialize)]
pub struct ResetForm {
    csrf: String,
    username: String,
    code: Option<String>,
    new_password: Option<String>,
    confirm_password: Option<String>,
}

/// `POST /account/reset`: a code by SMS when the account has a phone number. The answer is the
/// same whether or not the account exists.
pub async fn reset(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    let Some(session) = session::load(&state, &jar)
        .await?
        .filter(|s| session::csrf_ok(s, &form.csrf))
    else {
        return Ok(Redirect::to("/account/reset").into_response());
    };
    let username = form.username.trim().chars().take(20).collect::<String>();
    if let Some(account) = state
        .store
        .account_by_username(&username)
        .await?
        .filter(|a| a.status == "active")
        && let Some(phone) = &account.phone_number
    {
        let code = six_digits();
        let now = state.now();
        let message = Notification {
            channel: Channel::Sms,
            recipient: phone,
            subject: "VNeID",
            body: format!("VNeID: ma dat lai mat khau {code} (10 phut). Khong chia se ma nay."),
            kind: "reset_code",
            account_id: Some(&account.id),
            secret: true,
        }
        .row(now, &state.sealer)?;
        state
            .store
            .issue_one_time_code(
                &account.id,
                "password_reset",
                None,
                &secret::hash(&code),
                now + 600,
                &message,
            )
            .await?;
    }
    Ok(ResetPage {
        error: None,
        notice: None,
        csrf: session.row.csrf,
        username,
    }
    .into_response())
}

/// `POST /account/reset/confirm`.
pub async fn reset_confirm(
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ResetForm>,
) -> Result<Response, AppError> {
    let Some(session) = session::load(&state, &jar)
        .await?
        .filter(|s| session::csrf_ok(s, &form.csrf))
    else {
        return Ok(Redirect::to("/account/reset").into_response());
    };
    let username = form.username.trim().to_string();
    let page = |error: &str| {
        ResetPage {
            error: Some(error.into()),
            notice: None,
            csrf: session.row.csrf.clone(),
            username: username.clone(),
        }
        .into_response()
    };
    let new = form.new_password.unwrap_or_default();
    if Some(&new) != form.confirm_password.as_ref() {
        return Ok(page("Hai lần nhập mật khẩu mới không giống nhau"));
    }
    if !password::acceptable(&new, &username) {
        return Ok(page(
            "Mật khẩu mới: ít nhất 8 ký tự, có chữ và số, không trùng số định danh",
        ));
    }
    let now = state.now();
    let Some(account) = state.store.account_by_username(&username).await? else {
        return Ok(page(
            "Mã không đúng hoặc đã hết hạn (wrong or expired code)",
        ));
    };
    let code = form.code.unwrap_or_default();
    if state
        .store
        .use_one_time_code(
            &account.id,
            "password_reset",
            &secret::hash(code.trim()),
            now,
        )
        .await?
        .is_none()
    {
        return Ok(page(
            "Mã không đúng hoặc đã hết hạn (wrong or expired code)",
        ));
    }
    let hash = password::hash(new).await?;
    state.store.set_password(&account.id, &hash, now).await?;
    tracing::info!(account = %account.id, "password reset by SMS code");
    Ok(LoginPage {
        error: None,
        notice: Some("Đã đặt lại mật khẩu; hãy đăng nhập (password reset; log in)".into()),
        csrf: session.row.csrf,
    }
    .into_response())
}
