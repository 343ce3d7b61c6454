//! Password reset by an SMS code to the number on record: `/account/reset`. The budget and
//! the rules are in `accounts::reset`.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::{LoginPage, new_password_error, six_digits};
use crate::accounts::account::Account;
use crate::accounts::reset::{self, Spend};
use crate::accounts::{password, selfservice};
use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::secret;
use crate::state::AppState;
use crate::store::AuditEvent;
use crate::web::session;
use crate::web::texts::{AccountTexts, account as texts, switch_href};

#[derive(Template, WebTemplate)]
#[template(path = "account_reset.html")]
struct ResetPage {
    t: &'static AccountTexts,
    switch_href: String,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    username: String,
}

/// `GET /account/reset`.
pub async fn reset_page(
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (session, jar) = session::load_or_start(&state, jar).await?;
    let t = texts(session::lang(&jar, None));
    Ok((
        jar,
        ResetPage {
            t,
            switch_href: switch_href("/account/reset", t.other_lang),
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

/// `POST /account/reset`: a code by SMS to the number on record, within the number's budget.
/// The answer, and the work, are the same whether the account exists, has a phone, or has
/// spent its budget.
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
    let number = reset::normalise_number(&form.username);
    let now = state.now();
    let within_budget =
        reset::spend(&state.store, &state.config.reset, &number, Spend::Code, now).await?;
    let row = state.store.account_by_username(&number).await?;
    let account = row.as_ref().map(Account::try_from).transpose()?;
    let code = six_digits();
    let code_hash = secret::hash(&code);
    match (within_budget, reset::code_recipient(account.as_ref())) {
        (true, Some(phone)) => {
            let id = account.as_ref().map(|a| a.id.as_str()).unwrap_or_default();
            let message = Notification {
                channel: Channel::Sms,
                recipient: phone,
                subject: "VNeID",
                body: reset::code_message(&code),
                kind: "reset_code",
                account_id: Some(id),
                secret: true,
            }
            .row(now, &state.sealer)?;
            state
                .store
                .issue_one_time_code(
                    id,
                    reset::PURPOSE,
                    None,
                    &code_hash,
                    now + reset::CODE_LIFETIME,
                    &message,
                )
                .await?;
        }
        (false, _) => tracing::info!("password-reset code not sent: the number's budget is spent"),
        (true, None) => {}
    }
    let t = texts(session::lang(&jar, None));
    Ok(ResetPage {
        t,
        switch_href: switch_href("/account/reset", t.other_lang),
        error: None,
        notice: None,
        csrf: session.row.csrf,
        username: number,
    }
    .into_response())
}

/// `POST /account/reset/confirm`: one attempt from the number's budget; a right code sets the
/// new password, ends every session and revokes every token, in one transaction.
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
    let number = reset::normalise_number(&form.username);
    let t = texts(session::lang(&jar, None));
    let page = |error: &str| {
        ResetPage {
            t,
            switch_href: switch_href("/account/reset", t.other_lang),
            error: Some(error.into()),
            notice: None,
            csrf: session.row.csrf.clone(),
            username: number.clone(),
        }
        .into_response()
    };
    let new = form.new_password.unwrap_or_default();
    if let Err(e) = selfservice::check_new_password(
        &new,
        form.confirm_password.as_deref().unwrap_or_default(),
        &number,
    ) {
        return Ok(page(new_password_error(t, e)));
    }
    let now = state.now();
    if !reset::spend(
        &state.store,
        &state.config.reset,
        &number,
        Spend::Attempt,
        now,
    )
    .await?
    {
        return Ok(page(t.too_many_attempts));
    }
    let code_hash = secret::hash(form.code.unwrap_or_default().trim());
    let row = state.store.account_by_username(&number).await?;
    let account = row
        .as_ref()
        .map(Account::try_from)
        .transpose()?
        .filter(Account::is_active);
    let live = match &account {
        Some(a) => {
            state
                .store
                .live_code(a.id.as_str(), reset::PURPOSE, &code_hash, now)
                .await?
        }
        None => None,
    };
    let (Some(account), Some(code_id)) = (account, live) else {
        let event = AuditEvent {
            kind: "password_reset_failed",
            account_id: row.as_ref().map(|r| r.id.as_str()),
            client_id: None,
            detail: json!({ "reason": "wrong_code" }),
        };
        state.store.audit(event, now).await?;
        return Ok(page(t.wrong_code));
    };
    let hash = password::hash(new).await?;
    match state
        .store
        .reset_password(account.id.as_str(), &code_id, &hash, now)
        .await?
    {
        Some(ended) => {
            tracing::info!(account = %account.id, sessions = ended.sessions, tokens = ended.tokens,
                "password reset by SMS code; sessions ended, tokens revoked");
            Ok(LoginPage {
                t,
                switch_href: switch_href("/account/login", t.other_lang),
                error: None,
                notice: Some(t.reset_done.into()),
                csrf: session.row.csrf,
            }
            .into_response())
        }
        None => Ok(page(t.wrong_code)),
    }
}
