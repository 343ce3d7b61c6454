//! The second-factor step with a passkey instead of the TOTP code: a page that runs the
//! WebAuthn ceremony (`POST /interaction/{id}/passkey`), and its answer
//! (`POST /interaction/{id}/passkey/finish`), which makes the session Level 2 with `amr`
//! `["pwd", "hwk", "mfa"]`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;
use vneid_contract::{AuthMethod, Lang, Level};

use super::{form_step, step_page};
use crate::accounts::login::local_time;
use crate::accounts::passkey::{self, PasskeyError};
use crate::accounts::second_factor::Verdict;
use crate::error::AppError;
use crate::oidc::paths;
use crate::state::AppState;
use crate::store::AuditEvent;
use crate::web::passkey::{FinishForm, PasskeyTexts};
use crate::web::session;
use crate::web::texts::{Texts, texts};

/// Starts a passkey proof: the second-factor page's button.
pub const START: &str = "/interaction/{id}/passkey";
/// The ceremony's answer.
pub const FINISH: &str = "/interaction/{id}/passkey/finish";

/// The offer on the second-factor page: a button, when the account has a passkey.
pub struct PasskeyOffer {
    pub action: String,
    pub label: &'static str,
}

/// What the second-factor page offers besides the code.
pub async fn offer(
    state: &AppState,
    interaction_id: &str,
    account_id: &str,
    lang: Lang,
) -> Result<Option<PasskeyOffer>, AppError> {
    if state.store.passkey_count(account_id).await? == 0 {
        return Ok(None);
    }
    Ok(Some(PasskeyOffer {
        action: paths::interaction(interaction_id, START),
        label: crate::web::passkey::texts(lang).use_button,
    }))
}

/// The page that runs `navigator.credentials.get()`.
#[derive(Template, WebTemplate)]
#[template(path = "passkey_login.html")]
struct PasskeyLoginPage {
    t: &'static Texts,
    p: &'static PasskeyTexts,
    switch_href: String,
    username: String,
    action: String,
    csrf: String,
    ceremony: String,
    options: String,
    back_href: String,
    script: &'static str,
}

/// The start form: the CSRF token only.
#[derive(Deserialize)]
pub struct StartForm {
    csrf: String,
}

/// `POST /interaction/{id}/passkey`.
pub async fn passkey_start(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<StartForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let back = paths::interaction(&ia.id, paths::INTERACTION);
    let Some(auth) = session.auth.clone() else {
        return Ok(Redirect::to(&back).into_response());
    };
    let lang = session::lang(&jar, ia.request.lang());
    let Some(account) = state.store.account(&auth.account_id).await? else {
        return Ok(Redirect::to(&back).into_response());
    };
    let p = crate::web::passkey::texts(lang);
    let started = match passkey::start_authentication(&state, &account, &session.row.id_hash).await
    {
        Ok(Ok(started)) => started,
        Ok(Err(locked)) => {
            return step_page(&state, &ia, &session, lang, Some(refusal(lang, locked))).await;
        }
        Err(PasskeyError::App(err)) => return Err(err),
        Err(err) => {
            tracing::info!(account = %account.id, error = %err, "passkey proof not started");
            return step_page(&state, &ia, &session, lang, Some(p.unavailable.into())).await;
        }
    };
    Ok(PasskeyLoginPage {
        t: texts(lang),
        p,
        switch_href: String::new(),
        username: auth.username,
        action: paths::interaction(&ia.id, FINISH),
        csrf: session.row.csrf.clone(),
        ceremony: started.ceremony,
        options: started.options,
        back_href: back,
        script: crate::web::passkey::SCRIPT,
    }
    .into_response())
}

/// `POST /interaction/{id}/passkey/finish`.
pub async fn passkey_finish(
    State(state): State<AppState>,
    Path(id): Path<String>,
    jar: CookieJar,
    Form(form): Form<FinishForm>,
) -> Result<Response, AppError> {
    let (ia, session) = match form_step(&state, &id, &jar, &form.csrf).await? {
        Ok(v) => v,
        Err(page) => return Ok(page),
    };
    let back = paths::interaction(&ia.id, paths::INTERACTION);
    let Some(auth) = session.auth.clone() else {
        return Ok(Redirect::to(&back).into_response());
    };
    let lang = session::lang(&jar, ia.request.lang());
    let Some(account) = state.store.account(&auth.account_id).await? else {
        return Ok(Redirect::to(&back).into_response());
    };
    let outcome = passkey::finish_authentication(
        &state,
        &account,
        &session.row.id_hash,
        &form.ceremony,
        &form.credential,
    )
    .await;
    let verdict = match outcome {
        Ok(verdict) => verdict,
        Err(PasskeyError::App(err)) => return Err(err),
        Err(err) => {
            tracing::info!(account = %account.id, error = %err, "passkey proof refused");
            let p = crate::web::passkey::texts(lang);
            return step_page(&state, &ia, &session, lang, Some(p.refused.into())).await;
        }
    };
    if !verdict.accepted() {
        return step_page(&state, &ia, &session, lang, Some(refusal(lang, verdict))).await;
    }
    let amr = [AuthMethod::Pwd, AuthMethod::Hwk, AuthMethod::Mfa];
    let jar = session::renew(&state, jar, &session.row, &account.id, Level::Level2, &amr).await?;
    let event = AuditEvent {
        kind: "second_factor_succeeded",
        account_id: Some(&account.id),
        client_id: Some(ia.client.id.as_str()),
        detail: json!({ "amr": ["pwd", "hwk", "mfa"], "acr": Level::Level2.acr() }),
    };
    state.store.audit(event, state.now()).await?;
    tracing::info!(account = %account.id, client = ia.client.id.as_str(), "passkey accepted as the second factor");
    Ok((jar, Redirect::to(&back)).into_response())
}

/// What the second-factor page says after a refused passkey.
fn refusal(lang: Lang, verdict: Verdict) -> String {
    match verdict {
        Verdict::LockedNow { until } | Verdict::StillLocked { until } => {
            format!("{} {}.", texts(lang).otp_locked_until, local_time(until))
        }
        _ => crate::web::passkey::texts(lang).refused.to_string(),
    }
}
