//! QR login: the login page shows a QR code that the citizen scans with the VNeID app; the app
//! shows the relying party and the claims and approves by signing with its device key. The
//! browser then continues without typing anything: a self-hosted script polls and continues by
//! itself; without JavaScript, the QR page refreshes itself (`<meta http-equiv="refresh">`) and
//! a "continue" button finishes.
//!
//! Each code is an approval row bound to the login (interaction) and to the browser session
//! that showed it, so an approval only ever logs in the browser that displayed the code. A new
//! code every [`ROTATE_EVERY`] seconds; each lives [`QR_LIFETIME`] seconds. The approval, with
//! the app's own user verification, is the possession factor: the login is Level 2 (`amr`
//! `hwk`, `mfa`).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;
use vneid_contract::{AuthMethod, Lang, Level};

use super::interaction::{Interaction, form_step, load_interaction};
use super::session;
use super::texts::{Texts, texts};
use crate::accounts::approval::{KIND_QR, Summary};
use crate::accounts::device::may_use_app;
use crate::error::AppError;
use crate::oidc::paths;
use crate::secret;
use crate::state::AppState;
use crate::store::{ApprovalRow, AuditEvent, SessionRow};

/// Seconds between two codes.
pub const ROTATE_EVERY: i64 = 10;
/// Seconds a code can be scanned and approved.
pub const QR_LIFETIME: i64 = 30;

/// The words of the QR login, in both languages.
pub struct QrTexts {
    pub title: &'static str,
    pub intro: &'static str,
    pub alt: &'static str,
    pub code_label: &'static str,
    pub continue_button: &'static str,
    pub page_link: &'static str,
    pub waiting: &'static str,
    pub approved: &'static str,
    pub denied: &'static str,
}

const VI: QrTexts = QrTexts {
    title: "Đăng nhập bằng ứng dụng VNeID",
    intro: "Mở ứng dụng VNeID trên điện thoại, quét mã QR này, xem dịch vụ và thông tin được chia sẻ, rồi xác nhận. Mã đổi sau vài giây.",
    alt: "Mã QR đăng nhập bằng ứng dụng VNeID",
    code_label: "Mã dành cho ứng dụng:",
    continue_button: "Tiếp tục sau khi đã xác nhận trên ứng dụng",
    page_link: "Trang mã QR tự làm mới (không cần JavaScript)",
    waiting: "Đang chờ xác nhận trên ứng dụng…",
    approved: "Đã xác nhận trên ứng dụng. Bấm Tiếp tục.",
    denied: "Yêu cầu đã bị từ chối trên ứng dụng.",
};

const EN: QrTexts = QrTexts {
    title: "Log in with the VNeID app",
    intro: "Open the VNeID app on your phone, scan this QR code, check the service and the information shared, then approve. The code changes every few seconds.",
    alt: "QR code to log in with the VNeID app",
    code_label: "Code for the app:",
    continue_button: "Continue after approving in the app",
    page_link: "A QR page that refreshes by itself (no JavaScript needed)",
    waiting: "Waiting for your approval in the app…",
    approved: "Approved in the app. Press Continue.",
    denied: "The request was refused in the app.",
};

/// The QR words in `lang`.
pub fn qr_texts(lang: Lang) -> &'static QrTexts {
    match lang {
        Lang::En => &EN,
        _ => &VI,
    }
}

/// The QR code block of a login page.
pub struct QrView {
    pub t: &'static QrTexts,
    /// What the code carries: `{issuer}/app/qr?id=...` (also shown as text, for screen readers
    /// and for typing into the app).
    pub payload: String,
    pub svg: String,
    pub page: String,
    pub status_url: String,
    pub continue_action: String,
}

/// Where the login stands in the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QrState {
    Pending,
    Approved,
    Denied,
}

impl QrState {
    fn as_str(self) -> &'static str {
        match self {
            QrState::Pending => "pending",
            QrState::Approved => "approved",
            QrState::Denied => "denied",
        }
    }
}

fn state_of(rows: &[ApprovalRow]) -> QrState {
    if rows.iter().any(|r| r.status == "approved") {
        QrState::Approved
    } else if rows.first().is_some_and(|r| r.status == "denied") {
        QrState::Denied
    } else {
        QrState::Pending
    }
}

fn payload(state: &AppState, id: &str) -> String {
    let mut url = url::Url::parse(&state.url(paths::APP_QR))
        .unwrap_or_else(|_| url::Url::parse("http://invalid/").expect("a valid URL"));
    url.query_pairs_mut().append_pair("id", id);
    url.to_string()
}

fn svg(payload: &str) -> String {
    qrcode::QrCode::new(payload.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .build()
        })
        .unwrap_or_default()
}

/// The code to show now for this login in this browser session: the newest live one, or a new
/// one when it is older than [`ROTATE_EVERY`]. Returns it with the rows seen.
async fn current(
    state: &AppState,
    ia: &Interaction,
    session_hash: &str,
) -> Result<(String, Vec<ApprovalRow>), AppError> {
    let now = state.now();
    let rows = state.store.qr_approvals(&ia.id, session_hash).await?;
    if let Some(fresh) = rows
        .iter()
        .find(|r| r.status == "pending" && r.created_at > now - ROTATE_EVERY && r.expires_at > now)
    {
        return Ok((fresh.id.clone(), rows));
    }
    let approval = ApprovalRow {
        id: secret::new_bearer(),
        kind: KIND_QR.into(),
        account_id: None,
        client_id: ia.client.id.as_str().to_string(),
        summary: Summary::new(KIND_QR, &ia.client, &ia.request.scopes, None).to_json(),
        binding_message: None,
        status: "pending".into(),
        device_id: None,
        created_at: now,
        expires_at: now + QR_LIFETIME,
        decided_at: None,
        interaction_id: Some(ia.id.clone()),
        session_hash: Some(session_hash.to_string()),
        auth_req_hash: None,
        request: None,
        notification_sealed: None,
        last_poll_at: None,
        interval_seconds: 0,
    };
    state.store.insert_approval(&approval).await?;
    Ok((approval.id, rows))
}

/// The QR block of the login page of `ia` in this session.
pub(super) async fn view(
    state: &AppState,
    ia: &Interaction,
    session: &SessionRow,
    lang: Lang,
) -> Result<QrView, AppError> {
    let (id, _) = current(state, ia, &session.id_hash).await?;
    let payload = payload(state, &id);
    Ok(QrView {
        t: qr_texts(lang),
        svg: svg(&payload),
        payload,
        page: paths::interaction(&ia.id, paths::INTERACTION_QR),
        status_url: paths::interaction(&ia.id, paths::INTERACTION_QR_STATUS),
        continue_action: paths::interaction(&ia.id, paths::INTERACTION_QR_CONTINUE),
    })
}

/// The QR page: refreshes itself every few seconds until the app approved.
#[derive(Template, WebTemplate)]
#[template(path = "qr_login.html")]
pub struct QrLoginPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub client_name: String,
    pub qr: QrView,
    pub csrf: String,
    pub status: &'static str,
    pub approved: bool,
    pub refresh_seconds: i64,
}

/// `GET /interaction/{id}/qr`.
pub async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let ia = match load_interaction(&state, &id).await? {
        Ok(ia) => ia,
        Err(page) => return Ok(page),
    };
    let (session, jar) = session::load_or_start(&state, jar).await?;
    let lang = session::lang(&jar, ia.request.lang());
    let qr = view(&state, &ia, &session.row, lang).await?;
    let rows = state
        .store
        .qr_approvals(&ia.id, &session.row.id_hash)
        .await?;
    let qr_state = state_of(&rows);
    let status = match qr_state {
        QrState::Pending => qr.t.waiting,
        QrState::Approved => qr.t.approved,
        QrState::Denied => qr.t.denied,
    };
    let page = QrLoginPage {
        t: texts(lang),
        switch_href: String::new(),
        client_name: ia.client.name.clone(),
        qr,
        csrf: session.row.csrf.clone(),
        status,
        approved: qr_state == QrState::Approved,
        refresh_seconds: ROTATE_EVERY,
    };
    Ok((jar, page).into_response())
}

/// `GET /interaction/{id}/qr/status`: for the script (JSON: the state and the current code).
pub async fn status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let ia = match load_interaction(&state, &id).await? {
        Ok(ia) => ia,
        Err(_) => return Ok(Json(json!({ "status": "expired" })).into_response()),
    };
    let Some(session) = session::load(&state, &jar).await? else {
        return Ok(Json(json!({ "status": "expired" })).into_response());
    };
    let (current_id, rows) = current(&state, &ia, &session.row.id_hash).await?;
    let qr_state = state_of(&rows);
    let payload = payload(&state, &current_id);
    Ok(Json(json!({
        "status": qr_state.as_str(),
        "payload": payload,
        "svg": svg(&payload),
    }))
    .into_response())
}

/// The continue form.
#[derive(Deserialize)]
pub struct ContinueForm {
    csrf: String,
}

/// `POST /interaction/{id}/qr/continue`: once the app approved a code this browser showed, the
/// session becomes a Level 2 login of the device's account.
pub async fn finish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<ContinueForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let back = Redirect::to(&paths::interaction(&ia.id, paths::INTERACTION)).into_response();
    let rows = state
        .store
        .qr_approvals(&ia.id, &session.row.id_hash)
        .await?;
    let Some(approved) = rows.into_iter().find(|r| r.status == "approved") else {
        return Ok(back);
    };
    // Single use, whatever happens next.
    let mut tx = state.store.begin().await?;
    let used = crate::store::use_approval(&mut tx, &approved.id).await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    if !used {
        return Ok(back);
    }
    let account = match approved.account_id.as_deref() {
        Some(account_id) => state.store.account(account_id).await?,
        None => None,
    };
    // Locked, revoked or downgraded since the approval: no login.
    let Some(account) = account.filter(may_use_app) else {
        tracing::info!(
            client = ia.client.id.as_str(),
            "QR login refused: the account cannot use the app now"
        );
        return Ok(back);
    };
    let amr = [AuthMethod::Hwk, AuthMethod::Mfa];
    let jar = session::renew(&state, jar, &session.row, &account.id, Level::Level2, &amr).await?;
    state.store.mark_login_done(&ia.id).await?;
    let event = AuditEvent {
        kind: "login_succeeded",
        account_id: Some(&account.id),
        client_id: Some(ia.client.id.as_str()),
        detail: json!({ "amr": ["hwk", "mfa"], "acr": Level::Level2.acr(), "via": "app_qr", "device": approved.device_id }),
    };
    state.store.audit(event, state.now()).await?;
    tracing::info!(account = %account.id, client = ia.client.id.as_str(), "QR login approved in the app");
    Ok((jar, back).into_response())
}

/// `GET /static/qr-login.js`: polls the QR state, swaps the code when it rotates, continues by
/// itself once the app decided.
pub async fn script() -> impl IntoResponse {
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "text/javascript; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../templates/qr-login.js"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(status: &str) -> ApprovalRow {
        ApprovalRow {
            id: "a".into(),
            kind: KIND_QR.into(),
            account_id: None,
            client_id: "c".into(),
            summary: "{}".into(),
            binding_message: None,
            status: status.into(),
            device_id: None,
            created_at: 0,
            expires_at: 30,
            decided_at: None,
            interaction_id: None,
            session_hash: None,
            auth_req_hash: None,
            request: None,
            notification_sealed: None,
            last_poll_at: None,
            interval_seconds: 0,
        }
    }

    #[test]
    fn any_approval_counts_and_only_the_newest_denial() {
        assert_eq!(state_of(&[]), QrState::Pending);
        assert_eq!(
            state_of(&[row("pending"), row("approved")]),
            QrState::Approved
        );
        assert_eq!(state_of(&[row("denied"), row("pending")]), QrState::Denied);
        assert_eq!(state_of(&[row("pending"), row("denied")]), QrState::Pending);
        assert_eq!(state_of(&[row("used")]), QrState::Pending);
    }
}
