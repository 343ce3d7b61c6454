//! The desk's capture and enrolment: `POST /desk/verify` compares the captured templates,
//! `POST /desk/enrol` enrols (or waits for a child's guardian, or refuses with the reason).

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use serde_json::json;

use super::{DeskSession, desk_texts, document_line};
use crate::accounts::desk::Action;
use crate::accounts::eligibility::Ineligible;
use crate::accounts::enrolment::{
    self, Capture, CaptureFields, Compared, EnrolError, EnrolRequest,
};
use crate::accounts::lifecycle;
use crate::error::AppError;
use crate::registry::Modality;
use crate::state::AppState;
use crate::web::texts::{DeskTexts, Texts, switch_href};

#[derive(Template, WebTemplate)]
#[template(path = "desk_verified.html")]
struct VerifiedPage {
    t: &'static DeskTexts,
    switch_href: String,
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
    /// The texts of the guardian field (issue 11).
    lt: &'static Texts,
}

/// A child's enrolment waiting for its guardian's approval: the same form, to submit again.
#[derive(Template, WebTemplate)]
#[template(path = "desk_awaiting_guardian.html")]
struct AwaitingGuardianPage {
    t: &'static DeskTexts,
    lt: &'static Texts,
    switch_href: String,
    officer: String,
    error: Option<String>,
    csrf: String,
    /// Where the guardian was told, masked.
    notified: String,
    /// The enrolment form's fields as submitted (the CSRF token aside).
    fields: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "desk_enrolled.html")]
struct EnrolledPage {
    t: &'static DeskTexts,
    switch_href: String,
    officer: String,
    error: Option<String>,
    name: String,
    id_number: String,
    otpauth: String,
    qr_svg: String,
    secret: String,
    notice: String,
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

fn result_line(t: &DeskTexts, c: &Compared) -> String {
    let what = match &c.modality {
        Modality::Portrait => t.portrait.to_string(),
        Modality::Fingerprint(finger) => format!("{} {finger}", t.fingerprint),
    };
    let outcome = match c.matched {
        Some(true) => t.matched,
        Some(false) => t.not_matched,
        None => t.not_compared,
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
        Err(e) => {
            tracing::info!(error = %e, "desk capture refused");
            return Ok(session.message(session.t().bad_capture));
        }
    };
    let t = session.t();
    let Some(verified) = enrolment::verify(&state, &session.desk, capture).await? else {
        return Ok(session.message(t.not_in_registry));
    };
    let contact_on_record = verified
        .existing
        .as_ref()
        .and_then(lifecycle::notice_to)
        .map(|(channel, address)| enrolment::Recipient { channel, address })
        .map(|r| r.masked())
        .unwrap_or_default();
    Ok(VerifiedPage {
        t,
        switch_href: switch_href("/desk", t.other_lang),
        officer: session.signed_in(),
        error: None,
        csrf: session.csrf.clone(),
        id_number: verified.person.id_number.clone(),
        results: verified.results.iter().map(|c| result_line(t, c)).collect(),
        matched: verified.matched(),
        verification: verified.verification.clone().unwrap_or_default(),
        documents: verified
            .person
            .documents
            .iter()
            .map(|d| document_line(t, session.lang, d))
            .collect(),
        contact_on_record,
        lt: desk_texts(&jar),
    }
    .into_response())
}

fn enrol_message(t: &DeskTexts, lt: &'static Texts, e: EnrolError) -> &'static str {
    match e {
        EnrolError::GuardianRequired => lt.desk_guardian_required,
        EnrolError::GuardianDenied => lt.desk_guardian_denied,
        // The enrol handler shows its own page for this one.
        EnrolError::AwaitingGuardian { .. } => lt.desk_guardian_waiting,
        EnrolError::Ineligible(Ineligible::NoValidCard(_)) => lt.desk_no_valid_card,
        EnrolError::NoConsent => t.no_consent,
        EnrolError::Verification(_) => t.verification_unusable,
        EnrolError::NotInRegistry => t.not_in_registry,
        EnrolError::Ineligible(i) => match i {
            Ineligible::TooYoung => t.too_young,
            Ineligible::NoValidResidenceCard => t.residence_card,
            Ineligible::BirthdateUnknown => t.birthdate_unreadable,
            Ineligible::Organization => t.organisation_not_here,
            Ineligible::AccountLocked => t.account_locked,
            Ineligible::AccountRevoked => t.account_revoked,
            Ineligible::AccountMismatch => t.account_mismatch,
            Ineligible::NoValidCard(_) => lt.desk_no_valid_card,
        },
        EnrolError::BadPhone => t.bad_phone,
        EnrolError::BadEmail => t.bad_email,
        EnrolError::NoContact => t.no_contact,
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
        Err(EnrolError::AwaitingGuardian { notified }) => {
            let t = session.t();
            let mut fields: Vec<(String, String)> =
                form.into_iter().filter(|(k, _)| k != "csrf").collect();
            fields.sort();
            return Ok(AwaitingGuardianPage {
                t,
                lt: desk_texts(&jar),
                switch_href: switch_href("/desk", t.other_lang),
                officer: session.signed_in(),
                error: None,
                csrf: session.csrf.clone(),
                notified,
                fields,
            }
            .into_response());
        }
        Err(e) => {
            return Ok(session.message(enrol_message(session.t(), desk_texts(&jar), e)));
        }
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
    let t = session.t();
    let notice = if enrolled.created {
        format!("{} {}.", t.first_password_sent, enrolled.notified)
    } else {
        format!("{} {}.", t.contact_notified, enrolled.notified)
    };
    Ok(EnrolledPage {
        t,
        switch_href: switch_href("/desk", t.other_lang),
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
