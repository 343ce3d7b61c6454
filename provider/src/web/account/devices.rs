//! The citizen's phone-app devices on /account/devices: listed and removable; a Level 2 session
//! of a Level 2 account gets a one-time enrolment code (text and QR) that the app redeems with
//! its public key. A Level 1 account cannot enrol a device: approval in the app is a Level 2
//! possession factor, bound from a login that proved one.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use vneid_contract::Level;

use super::Citizen;
use crate::accounts::device::{ENROLMENT_CODE_LIFETIME, may_use_app, new_enrolment_code};
use crate::error::AppError;
use crate::oidc::paths;
use crate::state::AppState;
use crate::store::AuditEvent;
use crate::web::texts::{AccountTexts, switch_href, when};

#[derive(Template, WebTemplate)]
#[template(path = "account_devices.html")]
struct DevicesPage {
    t: &'static AccountTexts,
    switch_href: String,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    /// id, name, created, last used.
    devices: Vec<(String, String, String, String)>,
    /// May enrol now (Level 2 account, Level 2 session).
    can_enrol: bool,
    /// A Level 2 account in a Level 1 session: step up first.
    needs_step_up: bool,
    /// A freshly made code, its QR and the provider URL to give the app.
    code: Option<String>,
    code_qr: String,
    provider: String,
    code_minutes: i64,
}

async fn render(
    state: &AppState,
    citizen: &Citizen,
    code: Option<String>,
    notice: Option<String>,
) -> Result<Response, AppError> {
    let t = citizen.t();
    let devices = state
        .store
        .devices_of(&citizen.row.id)
        .await?
        .into_iter()
        .map(|d| {
            (
                d.id,
                d.name,
                when(t.lang, d.created_at),
                d.last_used_at
                    .map(|at| when(t.lang, at))
                    .unwrap_or_else(|| "—".into()),
            )
        })
        .collect();
    let account_ok = may_use_app(&citizen.row);
    let code_qr = match &code {
        Some(code) => {
            let mut url = url::Url::parse(&state.url(paths::APP_ENROL))
                .map_err(|e| AppError::Registry(e.to_string()))?;
            url.query_pairs_mut().append_pair("code", code);
            qrcode::QrCode::new(url.as_str().as_bytes())
                .map(|c| {
                    c.render::<qrcode::render::svg::Color>()
                        .min_dimensions(200, 200)
                        .build()
                })
                .unwrap_or_default()
        }
        None => String::new(),
    };
    Ok(DevicesPage {
        t,
        switch_href: switch_href("/account/devices", t.other_lang),
        error: None,
        notice,
        csrf: citizen.session.row.csrf.clone(),
        devices,
        can_enrol: account_ok && citizen.level == Level::Level2,
        needs_step_up: account_ok && citizen.level != Level::Level2,
        code,
        code_qr,
        provider: state.issuer.clone(),
        code_minutes: ENROLMENT_CODE_LIFETIME / 60,
    }
    .into_response())
}

/// `GET /account/devices`.
pub async fn page(State(state): State<AppState>, citizen: Citizen) -> Result<Response, AppError> {
    render(&state, &citizen, None, None).await
}

/// The forms of the page.
#[derive(Deserialize)]
pub struct DeviceForm {
    csrf: String,
    #[serde(default)]
    device_id: String,
}

/// `POST /account/devices/code`: a one-time enrolment code, only in a Level 2 session of a
/// Level 2 account.
pub async fn new_code(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<DeviceForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(Redirect::to("/account/devices").into_response());
    }
    if !(may_use_app(&citizen.row) && citizen.level == Level::Level2) {
        return render(&state, &citizen, None, None).await;
    }
    let code = new_enrolment_code(&state, &citizen.row.id).await?;
    render(&state, &citizen, Some(code), None).await
}

/// `POST /account/devices/remove`: the device can no longer approve anything.
pub async fn remove(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<DeviceForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(Redirect::to("/account/devices").into_response());
    }
    let now = state.now();
    let removed = state
        .store
        .revoke_device(&citizen.row.id, &form.device_id, now)
        .await?;
    if removed {
        let event = AuditEvent {
            kind: "app_device_removed",
            account_id: Some(&citizen.row.id),
            client_id: None,
            detail: json!({ "device": form.device_id }),
        };
        state.store.audit(event, now).await?;
    }
    let notice = removed.then(|| citizen.t().device_removed.to_string());
    render(&state, &citizen, None, notice).await
}
