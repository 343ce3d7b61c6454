//! `/account` for a guardian and for unverified contacts (issue 11): a recorded parent or
//! guardian approves or denies a child's registration in their own session; a contact the
//! account was created with is verified by a code sent to it.

use axum::Form;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::{Citizen, dashboard, six_digits, to_login};
use crate::accounts::registration::{GuardianDecision, guardian_decides};
use crate::accounts::selfservice::ContactKind;
use crate::error::AppError;
use crate::notify::Notification;
use crate::secret;
use crate::state::AppState;

/// A decision button's value: `Some(true)` to approve, `Some(false)` to deny.
fn approves(decision: &str) -> Option<bool> {
    match decision {
        "approve" => Some(true),
        "deny" => Some(false),
        _ => None,
    }
}

/// The guardian's decision form.
#[derive(Deserialize)]
pub struct GuardianForm {
    csrf: String,
    registration: String,
    decision: String,
}

/// `POST /account/guardian`: the guardian, signed in, approves or denies a child's request
/// held for them (anyone else's session, a replay, or a lapsed request finds nothing).
pub async fn decide_child(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<GuardianForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    let t = crate::web::texts::texts(citizen.lang);
    let Some(approve) = approves(&form.decision) else {
        return dashboard(&state, &citizen, Some(t.guardian_not_found.into()), None).await;
    };
    let decision = guardian_decides(&state, &citizen.account, &form.registration, approve).await?;
    let (error, notice) = match decision {
        GuardianDecision::Approved => (None, Some(t.guardian_approved)),
        GuardianDecision::Denied => (None, Some(t.guardian_denied)),
        GuardianDecision::Refused => (Some(t.guardian_refused), None),
        GuardianDecision::NotFound => (Some(t.guardian_not_found), None),
    };
    dashboard(
        &state,
        &citizen,
        error.map(Into::into),
        notice.map(Into::into),
    )
    .await
}

/// The guardian's decision on a desk request.
#[derive(Deserialize)]
pub struct DeskGuardianForm {
    csrf: String,
    request: String,
    decision: String,
}

/// `POST /account/guardian/desk`: the guardian, signed in, approves or denies a child's Level 2
/// enrolment the desk asked them about (anyone else's session, a replay, or a lapsed request
/// finds nothing). The officer's next submission then enrols, or is refused.
pub async fn decide_desk_child(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<DeskGuardianForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    let t = crate::web::texts::texts(citizen.lang);
    let Some(approve) = approves(&form.decision) else {
        return dashboard(&state, &citizen, Some(t.guardian_not_found.into()), None).await;
    };
    let decided =
        crate::accounts::desk_guardian::decide(&state, &citizen.account, &form.request, approve)
            .await?;
    let (error, notice) = match (decided, approve) {
        (true, true) => (None, Some(t.guardian_desk_approved)),
        (true, false) => (None, Some(t.guardian_denied)),
        (false, _) => (Some(t.guardian_not_found), None),
    };
    dashboard(
        &state,
        &citizen,
        error.map(Into::into),
        notice.map(Into::into),
    )
    .await
}

/// The verify-a-contact form.
#[derive(Deserialize)]
pub struct VerifyContactForm {
    csrf: String,
    kind: String,
}

/// `POST /account/contact/verify`: sends a code to the account's own unverified phone number
/// or email; entering it at `/account/contact/confirm` marks it verified (10 minutes, 5 tries,
/// the same code store as a change).
pub async fn verify_contact(
    State(state): State<AppState>,
    citizen: Citizen,
    Form(form): Form<VerifyContactForm>,
) -> Result<Response, AppError> {
    if !citizen.csrf_ok(&form.csrf) {
        return Ok(to_login());
    }
    let t = crate::web::texts::texts(citizen.lang);
    let a = &citizen.account;
    let target = match ContactKind::parse(&form.kind) {
        Some(ContactKind::Phone) if !a.phone_verified => {
            a.phone_number.clone().map(|v| (ContactKind::Phone, v))
        }
        Some(ContactKind::Email) if !a.email_verified => {
            a.email.clone().map(|v| (ContactKind::Email, v))
        }
        _ => None,
    };
    let Some((kind, value)) = target else {
        return dashboard(&state, &citizen, None, None).await;
    };
    let code = six_digits();
    let now = state.now();
    let message = Notification {
        channel: kind.channel(),
        recipient: &value,
        subject: "VNeID",
        body: format!(
            "VNeID: ma xac minh {code} (10 phut). / Verification code {code} (10 minutes)."
        ),
        kind: "contact_code",
        account_id: Some(&citizen.row.id),
        secret: true,
    }
    .row(now, &state.sealer)?;
    state
        .store
        .issue_one_time_code(
            &citizen.row.id,
            kind.code_purpose(),
            Some(&value),
            &secret::hash(&code),
            now + 600,
            &message,
        )
        .await?;
    let sent = format!(
        "{} → {}",
        t.contact_verify_button,
        crate::accounts::selfservice::mask(&value)
    );
    dashboard(&state, &citizen, None, Some(sent)).await
}
