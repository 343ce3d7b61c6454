//! Level 1 registration from the national app (Decree 59 Art. 14, Decree 69 age rules): the
//! declared data and the portrait template are checked against the population registry; the
//! decision, the account and the notification are one transaction.
//!
//! The caller (an authenticated app, never an anonymous one) learns only "approved" or "refused":
//! never which field differed, a score, or that an account exists. The full reasons stay on the
//! registration row and in the audit log for an operator. The first password, and any notice,
//! goes only to the contact the registry holds for the person. Portrait failures and submissions
//! are counted per identification number in the database.

use serde::{Deserialize, Serialize};
use serde_json::json;
use vneid_contract::AccountKind;

use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::oidc::types::ClientId;
use crate::registry::import::check_identity;
use crate::registry::{
    Dimensions, MatchOutcome, Modality, RegistryContact, RegistryError, RegistryPerson, Template,
};
use crate::state::AppState;
use crate::store::{self, AuditEvent, NewAccount, RegistrationRow, StoreError};

/// `[registration]`: the per-number limits and the app's token lifetime.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistrationConfig {
    /// Submissions accepted per identification number in `submission_window` seconds.
    pub max_submissions_per_number: i64,
    /// See `max_submissions_per_number`.
    pub submission_window: i64,
    /// Portrait failures per identification number before registration for it is locked for
    /// the rest of `portrait_failure_window` seconds.
    pub max_portrait_failures: i64,
    /// See `max_portrait_failures`.
    pub portrait_failure_window: i64,
    /// Lifetime of the app's client-credentials access tokens, in seconds.
    pub token_lifetime: i64,
}

impl Default for RegistrationConfig {
    fn default() -> Self {
        RegistrationConfig {
            max_submissions_per_number: 10,
            submission_window: 3600,
            max_portrait_failures: 3,
            portrait_failure_window: 24 * 3600,
            token_lifetime: 600,
        }
    }
}

/// What the app submits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    /// `citizen` (default) or `foreigner`.
    #[serde(default = "citizen")]
    pub kind: String,
    pub id_number: String,
    /// What the applicant typed in the app: recorded with the submission, checked for form,
    /// never used to send anything (the registry's contact is).
    #[serde(default)]
    pub phone_number: Option<String>,
    /// See `phone_number`.
    #[serde(default)]
    pub email: Option<String>,
    pub family_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
    pub given_name: String,
    pub birthdate: String,
    pub gender: String,
    #[serde(default)]
    pub nationality: Option<String>,
    /// A parent's or guardian's identification number (applicants under 14).
    #[serde(default)]
    pub guardian_id_number: Option<String>,
    /// The portrait captured by the app, as a template.
    #[serde(skip_serializing)]
    pub portrait: Capture,
}

fn citizen() -> String {
    "citizen".into()
}

/// A capture: a template and the device that made it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    pub template: Vec<f32>,
    pub device_id: String,
}

/// A field that is malformed (its form only: nothing about the registry).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// Why a well-formed request was refused, for the operator (row and audit log), never the caller.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reason {
    /// A stable code (`not_in_registry`, `data_mismatch`, `portrait_mismatch`, `under_age`, ...).
    pub code: String,
    /// The field concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For the operator.
    pub message: String,
}

/// One reason to refuse.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Too many submissions for this number in the window.
    RateLimited,
    /// Too many portrait failures for this number: registration for it is locked a while.
    PortraitLocked,
    /// The number has an account already.
    AccountExists,
    /// The registry does not know the number.
    NotInRegistry,
    /// A declared field differs from the registry.
    DataMismatch(&'static str),
    /// Under 14 without a guardian who holds an active account.
    UnderAge(i32),
    /// A foreigner without a valid residence card on record.
    NoResidenceCard,
    /// The registry holds no phone number or email for the person: nowhere to send the password.
    NoRegistryContact,
    /// The portrait does not match the enrolled one.
    PortraitMismatch { score: f64, threshold: f64 },
    /// No portrait is enrolled.
    NoEnrolledPortrait,
    /// The enrolled portrait cannot be compared (another size than the devices make).
    EnrolledTemplateUnusable,
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::RateLimited => "rate_limited",
            Refusal::PortraitLocked => "portrait_locked",
            Refusal::AccountExists => "account_exists",
            Refusal::NotInRegistry => "not_in_registry",
            Refusal::DataMismatch(_) => "data_mismatch",
            Refusal::UnderAge(_) => "under_age",
            Refusal::NoResidenceCard => "no_residence_card",
            Refusal::NoRegistryContact => "no_registry_contact",
            Refusal::PortraitMismatch { .. } => "portrait_mismatch",
            Refusal::NoEnrolledPortrait => "no_enrolled_portrait",
            Refusal::EnrolledTemplateUnusable => "enrolled_template_unusable",
        }
    }

    /// The full reason, for the operator.
    pub fn reason(&self) -> Reason {
        let (field, message) = match self {
            Refusal::RateLimited => (None, "too many submissions for this identification number; try later".to_string()),
            Refusal::PortraitLocked => (None, "registration for this identification number is locked after repeated portrait failures".into()),
            Refusal::AccountExists => (Some("id_number"), "an account with this identification number exists already".into()),
            Refusal::NotInRegistry => (Some("id_number"), "this identification number is not in the population registry".into()),
            Refusal::DataMismatch(field) => (Some(*field), format!("the declared {field} differs from the population registry")),
            Refusal::UnderAge(age) => (Some("birthdate"), format!("applicants under 14 (this one is {age}) are registered at the request of a parent or guardian who holds an account")),
            Refusal::NoResidenceCard => (None, "a foreigner needs a valid permanent or temporary residence card on record".into()),
            Refusal::NoRegistryContact => (None, "the registry holds no phone number or email for this person".into()),
            Refusal::PortraitMismatch { score, threshold } => (Some("portrait.template"), format!("the portrait does not match the enrolled one (score {score:.2}, needed {threshold:.2})")),
            Refusal::NoEnrolledPortrait => (None, "the registry holds no portrait to compare with".into()),
            Refusal::EnrolledTemplateUnusable => (None, "the enrolled portrait has another size than the capture devices make".into()),
        };
        Reason {
            code: self.code().into(),
            field: field.map(Into::into),
            message,
        }
    }
}

/// The outcome.
#[derive(Debug)]
pub enum Outcome {
    /// Decided and recorded (approved, or refused with the reasons on the row).
    Decided(RegistrationRow),
    /// The same submission (same client and Idempotency-Key) again: its decision.
    Replayed(RegistrationRow),
    /// The Idempotency-Key was used by this client for another submission.
    KeyReused,
}

/// A well-formed submission, parsed.
#[derive(Debug)]
pub struct Submission {
    pub request: RegistrationRequest,
    pub kind: AccountKind,
    pub birthdate: time::Date,
    pub template: Template,
}

/// Parses and checks a request body: a submission, or every malformed field. Only the form is
/// checked (nothing here depends on the registry); a template of another size than the devices
/// make is malformed.
pub fn parse(body: &[u8], dimensions: Dimensions) -> Result<Submission, Vec<FieldError>> {
    let request: RegistrationRequest = serde_json::from_slice(body).map_err(|e| {
        vec![FieldError {
            field: "body".into(),
            reason: format!("not a valid registration: {e}"),
        }]
    })?;
    validate(request, dimensions)
}

fn validate(r: RegistrationRequest, dimensions: Dimensions) -> Result<Submission, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, reason: String| {
        errors.push(FieldError {
            field: field.into(),
            reason,
        })
    };
    let kind = match AccountKind::parse(&r.kind) {
        Some(k @ (AccountKind::Citizen | AccountKind::Foreigner)) => Some(k),
        _ => {
            err("kind", "must be `citizen` or `foreigner`".into());
            None
        }
    };
    let birthdate = match kind.map(|k| check_identity(k, &r.id_number, &r.birthdate, &r.gender)) {
        Some(Ok((date, _))) => Some(date),
        Some(Err((field, reason))) => {
            err(field, reason);
            None
        }
        None => None,
    };
    for (field, value) in [
        ("family_name", &r.family_name),
        ("given_name", &r.given_name),
    ] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            err(field, "must be 1 to 100 characters".into());
        }
    }
    if r.middle_name
        .as_deref()
        .is_some_and(|m| m.chars().count() > 100)
    {
        err("middle_name", "must be at most 100 characters".into());
    }
    if r.phone_number
        .as_deref()
        .is_some_and(|p| !super::contact::is_phone(p))
    {
        err(
            "phone_number",
            "must be a Vietnamese number in E.164 form, +84 and 9 or 10 digits".into(),
        );
    }
    if r.email
        .as_deref()
        .is_some_and(|e| !super::contact::is_email(e))
    {
        err("email", "is not an email address".into());
    }
    if r.guardian_id_number.as_deref().is_some_and(|g| {
        g.is_empty() || g.len() > 20 || !g.bytes().all(|b| b.is_ascii_alphanumeric())
    }) {
        err(
            "guardian_id_number",
            "must be 1 to 20 letters or digits".into(),
        );
    }
    if kind == Some(AccountKind::Foreigner) {
        let n = r.nationality.as_deref().unwrap_or("");
        if n.len() != 2 || !n.bytes().all(|b| b.is_ascii_uppercase()) {
            err(
                "nationality",
                "a foreigner gives an ISO 3166-1 alpha-2 nationality".into(),
            );
        }
    }
    if r.portrait.device_id.trim().is_empty() || r.portrait.device_id.chars().count() > 100 {
        err("portrait.device_id", "must be 1 to 100 characters".into());
    }
    let template = if r.portrait.template.len() != dimensions.portrait {
        err(
            "portrait.template",
            format!("a portrait template has {} numbers", dimensions.portrait),
        );
        None
    } else {
        match Template::new(r.portrait.template.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                err("portrait.template", e.to_string());
                None
            }
        }
    };
    match (kind, birthdate, template, errors.is_empty()) {
        (Some(kind), Some(birthdate), Some(template), true) => Ok(Submission {
            request: r,
            kind,
            birthdate,
            template,
        }),
        _ => Err(errors),
    }
}

/// Full years between two dates.
pub fn age_on(birthdate: time::Date, today: time::Date) -> i32 {
    let mut age = today.year() - birthdate.year();
    if (today.month() as u8, today.day()) < (birthdate.month() as u8, birthdate.day()) {
        age -= 1;
    }
    age
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// What the registry record says against the declared data, the age rules and the contact: every
/// reason to refuse that needs no biometric comparison. `guardian_ok` says whether the guardian
/// named holds an active account.
pub fn record_refusals(
    s: &Submission,
    p: &RegistryPerson,
    today: time::Date,
    guardian_ok: bool,
) -> Vec<Refusal> {
    let r = &s.request;
    let mut out = Vec::new();
    let mut check = |field: &'static str, ok: bool| {
        if !ok {
            out.push(Refusal::DataMismatch(field));
        }
    };
    check("kind", p.kind == s.kind);
    check("family_name", same(&r.family_name, &p.family_name));
    check(
        "middle_name",
        same(
            r.middle_name.as_deref().unwrap_or(""),
            p.middle_name.as_deref().unwrap_or(""),
        ),
    );
    check("given_name", same(&r.given_name, &p.given_name));
    check("birthdate", r.birthdate == p.birthdate);
    check("gender", r.gender == p.gender.as_str());
    if s.kind == AccountKind::Foreigner {
        check("nationality", r.nationality == p.nationality);
    }
    let age = age_on(s.birthdate, today);
    if age < 14 && !guardian_ok {
        out.push(Refusal::UnderAge(age));
    }
    if s.kind == AccountKind::Foreigner {
        let valid_card = p
            .residence_card
            .as_ref()
            .is_some_and(|c| c.expires_on.as_str() > today.to_string().as_str());
        if !valid_card && age >= 6 {
            out.push(Refusal::NoResidenceCard);
        }
    }
    if p.contact().is_none() {
        out.push(Refusal::NoRegistryContact);
    }
    out
}

/// The Idempotency-Key as stored: scoped to the client (client ids hold no spaces).
fn scoped_key(client: &ClientId, key: &str) -> String {
    format!("{} {key}", client.as_str())
}

/// Decides a submission from an authenticated client and records it (with the account on
/// approval). Per-client limiting is the caller's (the API layer's) hook.
pub async fn register(
    state: &AppState,
    client: &ClientId,
    submission: Submission,
    idempotency_key: Option<&str>,
) -> Result<Outcome, AppError> {
    let stored_key = idempotency_key.map(|k| scoped_key(client, k));
    let submitted = serde_json::to_string(&submission.request)?;
    if let Some(key) = &stored_key
        && let Some(existing) = state.store.registration_by_key(key).await?
    {
        return Ok(if existing.submission == submitted {
            Outcome::Replayed(existing)
        } else {
            Outcome::KeyReused
        });
    }
    let now = state.now();
    let limits = &state.config.registration;
    let id_number = submission.request.id_number.as_str();
    let mut refusals = Vec::new();
    let mut person = None;
    let mut evidence = Vec::new();
    let mut portrait_matched = false;
    if !state
        .store
        .reserve_registration_submission(
            id_number,
            now,
            limits.submission_window,
            limits.max_submissions_per_number,
        )
        .await?
    {
        refusals.push(Refusal::RateLimited);
    } else if state
        .store
        .registration_portrait_locked(
            id_number,
            now,
            limits.portrait_failure_window,
            limits.max_portrait_failures,
        )
        .await?
    {
        refusals.push(Refusal::PortraitLocked);
    } else {
        let today = time::OffsetDateTime::from_unix_timestamp(now)
            .map(|t| t.date())
            .unwrap_or(submission.birthdate);
        if state.store.account_by_username(id_number).await?.is_some() {
            refusals.push(Refusal::AccountExists);
        }
        person = state
            .registry
            .person(id_number)
            .await
            .map_err(registry_failure)?;
        match &person {
            None => refusals.push(Refusal::NotInRegistry),
            Some(p) => {
                let guardian_ok = match &submission.request.guardian_id_number {
                    Some(g) => state
                        .store
                        .account_by_username(g)
                        .await?
                        .is_some_and(|a| a.status == "active"),
                    None => false,
                };
                refusals.extend(record_refusals(&submission, p, today, guardian_ok));
                match portrait(state, &submission, now).await? {
                    Portrait::Matched(outcome) => {
                        portrait_matched = true;
                        evidence.push(portrait_evidence(
                            &outcome,
                            &submission.request.portrait.device_id,
                            now,
                        ));
                    }
                    Portrait::Failed(outcome) => {
                        refusals.push(Refusal::PortraitMismatch {
                            score: outcome.score,
                            threshold: outcome.threshold,
                        });
                        evidence.push(portrait_evidence(
                            &outcome,
                            &submission.request.portrait.device_id,
                            now,
                        ));
                    }
                    Portrait::Refused(refusal) => refusals.push(refusal),
                }
            }
        }
    }
    let mut row = RegistrationRow {
        id: crate::secret::new_id(),
        id_number: id_number.to_string(),
        channel: "app".into(),
        status: String::new(),
        reasons: None,
        submission: submitted,
        idempotency_key: stored_key,
        account_id: None,
        evidence: Some(json!(evidence).to_string()),
        created_at: now,
        decided_at: Some(now),
        client_id: Some(client.as_str().to_string()),
    };
    if refusals.is_empty()
        && let Some(p) = &person
        && let Some(contact) = p.contact()
    {
        match approve(state, &mut row, &submission, p, &contact, now).await? {
            Approval::Done => return Ok(Outcome::Decided(row)),
            // Registered meanwhile by a concurrent submission.
            Approval::Duplicate => refusals.push(Refusal::AccountExists),
        }
    }
    refuse(
        state,
        &mut row,
        &refusals,
        person.as_ref(),
        portrait_matched,
        now,
    )
    .await?;
    Ok(Outcome::Decided(row))
}

/// The portrait comparison, counted against the number's failure budget.
enum Portrait {
    Matched(MatchOutcome),
    Failed(MatchOutcome),
    Refused(Refusal),
}

async fn portrait(state: &AppState, s: &Submission, now: i64) -> Result<Portrait, AppError> {
    let limits = &state.config.registration;
    let id_number = s.request.id_number.as_str();
    if !state
        .store
        .reserve_portrait_attempt(
            id_number,
            now,
            limits.portrait_failure_window,
            limits.max_portrait_failures,
        )
        .await?
    {
        return Ok(Portrait::Refused(Refusal::PortraitLocked));
    }
    let result = state
        .registry
        .match_template(id_number, &Modality::Portrait, &s.template)
        .await;
    match result {
        // Given back in the decision's transaction.
        Ok(outcome) if outcome.matched => Ok(Portrait::Matched(outcome)),
        // Stays counted.
        Ok(outcome) => Ok(Portrait::Failed(outcome)),
        // Not a failure of the applicant's portrait: the attempt is given back.
        Err(e) => {
            state.store.release_portrait_attempt(id_number).await?;
            match e {
                RegistryError::NotEnrolled(_) => Ok(Portrait::Refused(Refusal::NoEnrolledPortrait)),
                e @ RegistryError::SizeMismatch(..) => {
                    tracing::error!(error = %e, "the registry's enrolled portrait cannot be compared");
                    Ok(Portrait::Refused(Refusal::EnrolledTemplateUnusable))
                }
                e => Err(registry_failure(e)),
            }
        }
    }
}

enum Approval {
    Done,
    Duplicate,
}

/// The account, the registration, the first password to the registry's contact and the audit
/// event: one transaction.
async fn approve(
    state: &AppState,
    row: &mut RegistrationRow,
    s: &Submission,
    p: &RegistryPerson,
    contact: &RegistryContact,
    now: i64,
) -> Result<Approval, AppError> {
    use crate::accounts::contact::{is_email, is_phone};
    let password = crate::secret::random_token(9);
    let account = NewAccount {
        id: crate::secret::new_id(),
        kind: s.kind.as_str().into(),
        level: 1,
        username: s.request.id_number.clone(),
        password_hash: crate::accounts::password::hash(password.clone()).await?,
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
        phone_number: p.phone_number.clone().filter(|v| is_phone(v)),
        email: p.email.clone().filter(|v| is_email(v)),
        verification_evidence: Some(level1_evidence(now)),
        must_change_password: true,
    };
    row.status = "approved".into();
    row.account_id = Some(account.id.clone());
    let (channel, recipient) = channel_of(contact);
    let notification = Notification {
        channel,
        recipient,
        subject: "VNeID",
        body: format!("VNeID: tai khoan dinh danh dien tu muc 1 cua ban da duoc tao. Mat khau lan dau: {password} (doi mat khau khi dang nhap lan dau)."),
        kind: "first_password",
        account_id: Some(&account.id),
        secret: true,
    }
    .row(now, &state.sealer)?;
    let mut tx = state.store.begin().await?;
    match store::insert_account(&mut tx, &account, &[], now).await {
        Err(StoreError::Duplicate(_)) => {
            tx.rollback().await.map_err(StoreError::from)?;
            row.status.clear();
            row.account_id = None;
            return Ok(Approval::Duplicate);
        }
        other => other?,
    }
    store::insert_registration(&mut tx, row).await?;
    store::enqueue(&mut tx, &notification).await?;
    // The portrait matched: its attempt was not a failure.
    store::release_portrait_attempt(&mut tx, &row.id_number).await?;
    let event = AuditEvent {
        kind: "registration_approved",
        account_id: Some(&account.id),
        client_id: row.client_id.as_deref(),
        detail: json!({ "registration": row.id, "channel": "app" }),
    };
    store::audit_in(&mut *tx, event, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(registration = %row.id, "level 1 registration approved");
    Ok(Approval::Done)
}

/// The refusal with its full reasons, a notice to the registry's contact (if the person is on
/// record and was not throttled), and the audit events: one transaction.
async fn refuse(
    state: &AppState,
    row: &mut RegistrationRow,
    refusals: &[Refusal],
    person: Option<&RegistryPerson>,
    portrait_matched: bool,
    now: i64,
) -> Result<(), AppError> {
    let reasons: Vec<Reason> = refusals.iter().map(Refusal::reason).collect();
    row.status = "refused".into();
    row.reasons = Some(json!(reasons).to_string());
    let throttled = refusals
        .iter()
        .any(|r| matches!(r, Refusal::RateLimited | Refusal::PortraitLocked));
    let notice = match person.and_then(RegistryPerson::contact) {
        Some(contact) if !throttled => {
            let (channel, recipient) = channel_of(&contact);
            Some(
                Notification {
                    channel,
                    recipient,
                    subject: "VNeID",
                    body: format!(
                        "VNeID: mot de nghi dang ky tai khoan muc 1 voi so dinh danh cua ban khong duoc chap nhan (ma ho so {}). Neu khong phai ban, hay lien he co quan Cong an.",
                        row.id
                    ),
                    kind: "registration_refused",
                    account_id: None,
                    secret: false,
                }
                .row(now, &state.sealer)?,
            )
        }
        _ => None,
    };
    let locked_now = refusals
        .iter()
        .any(|r| matches!(r, Refusal::PortraitMismatch { .. }))
        && state
            .store
            .registration_portrait_locked(
                &row.id_number,
                now,
                state.config.registration.portrait_failure_window,
                state.config.registration.max_portrait_failures,
            )
            .await?;
    let mut tx = state.store.begin().await?;
    store::insert_registration(&mut tx, row).await?;
    if let Some(notice) = &notice {
        store::enqueue(&mut tx, notice).await?;
    }
    if portrait_matched {
        // The portrait matched: the attempt was not a failure.
        store::release_portrait_attempt(&mut tx, &row.id_number).await?;
    }
    let event = AuditEvent {
        kind: "registration_refused",
        account_id: None,
        client_id: row.client_id.as_deref(),
        detail: json!({ "registration": row.id, "channel": "app", "reasons": reasons }),
    };
    store::audit_in(&mut *tx, event, now).await?;
    if locked_now {
        let event = AuditEvent {
            kind: "registration_portrait_locked",
            account_id: None,
            client_id: row.client_id.as_deref(),
            detail: json!({ "registration": row.id, "id_number": row.id_number }),
        };
        store::audit_in(&mut *tx, event, now).await?;
    }
    tx.commit().await.map_err(StoreError::from)?;
    let codes: Vec<&str> = refusals.iter().map(Refusal::code).collect();
    tracing::info!(registration = %row.id, reasons = ?codes, "level 1 registration refused");
    Ok(())
}

fn channel_of(contact: &RegistryContact) -> (Channel, &str) {
    match contact {
        RegistryContact::Phone(p) => (Channel::Sms, p.as_str()),
        RegistryContact::Email(e) => (Channel::Email, e.as_str()),
    }
}

fn registry_failure(e: RegistryError) -> AppError {
    AppError::Registry(e.to_string())
}

fn portrait_evidence(outcome: &MatchOutcome, device: &str, now: i64) -> serde_json::Value {
    json!({
        "method": "portrait_match",
        "modality": outcome.modality,
        "score": outcome.score,
        "threshold": outcome.threshold,
        "matched": outcome.matched,
        "device": device,
        "time": now,
    })
}

/// The account's evidence, in OpenID Connect for Identity Assurance terms only (no score, no
/// device: those stay on the registration row for the operator).
fn level1_evidence(now: i64) -> String {
    let time = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        });
    json!([{
        "type": "electronic_record",
        "check_details": [{ "check_method": "data", "organization": "Bộ Công an" }, { "check_method": "bvr" }],
        "time": time,
        "record": { "type": "population_register", "source": { "name": "Cơ sở dữ liệu quốc gia về dân cư", "country_code": "VN" } },
    }])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn valid() -> Value {
        json!({
            "id_number": "001301000123", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
            "birthdate": "2001-04-02", "gender": "female", "phone_number": "+84912345678",
            "portrait": { "template": (0..64).map(|i| (i % 7) as f32 - 3.0).collect::<Vec<_>>(), "device_id": "phone-1" }
        })
    }

    fn dims() -> Dimensions {
        Dimensions { portrait: 64 }
    }

    /// Parses, and checks the answer is a submission or a clear list of malformed fields.
    fn check(body: &[u8]) -> Result<(), TestCaseError> {
        match parse(body, dims()) {
            Ok(s) => {
                prop_assert_eq!(s.template.values().len(), 64);
                prop_assert!(matches!(
                    s.kind,
                    AccountKind::Citizen | AccountKind::Foreigner
                ));
            }
            Err(fields) => {
                prop_assert!(!fields.is_empty());
                for f in &fields {
                    prop_assert!(!f.field.is_empty() && !f.reason.is_empty(), "{:?}", f);
                }
            }
        }
        Ok(())
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            any::<String>().prop_map(Value::String),
            "[0-9+@.a-z-]{0,14}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..70).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_.]{1,12}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    const FIELDS: [&str; 13] = [
        "kind",
        "id_number",
        "phone_number",
        "email",
        "family_name",
        "middle_name",
        "given_name",
        "birthdate",
        "gender",
        "nationality",
        "guardian_id_number",
        "portrait",
        "extra",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            check(&bytes)?;
        }

        #[test]
        fn arbitrary_json_never_panics(value in any_json()) {
            check(value.to_string().as_bytes())?;
        }

        /// A valid body with some fields replaced by anything, removed, or added.
        #[test]
        fn mutated_registrations_are_decided_or_clearly_malformed(
            changes in prop::collection::vec((0..FIELDS.len(), prop::option::of(any_json())), 0..5),
            template in prop::option::of(prop::collection::vec(any::<f32>(), 0..80)),
        ) {
            let mut body = valid();
            for (i, value) in changes {
                match value {
                    Some(v) => body[FIELDS[i]] = v,
                    None => { body.as_object_mut().unwrap().remove(FIELDS[i]); }
                }
            }
            if let Some(t) = template && body["portrait"].is_object() {
                body["portrait"]["template"] = json!(t);
            }
            check(body.to_string().as_bytes())?;
        }
    }

    #[test]
    fn a_template_of_another_size_is_malformed_not_scored() {
        let mut body = valid();
        assert!(parse(body.to_string().as_bytes(), dims()).is_ok());
        for len in [16, 63, 65, 128] {
            body["portrait"]["template"] = json!(vec![1.0; len]);
            let fields = parse(body.to_string().as_bytes(), dims()).unwrap_err();
            assert_eq!(fields[0].field, "portrait.template", "{len}");
        }
    }

    #[test]
    fn the_registry_record_decides_without_biometrics() {
        let s = parse(valid().to_string().as_bytes(), dims()).unwrap();
        let person = RegistryPerson {
            id_number: "001301000123".into(),
            kind: AccountKind::Citizen,
            family_name: "Lê".into(),
            middle_name: Some("Minh".into()),
            given_name: "Châu".into(),
            birthdate: "2001-04-02".into(),
            gender: vneid_contract::Gender::Female,
            nationality: None,
            travel_document: None,
            residence_card: None,
            documents: vec![],
            phone_number: Some("+84912345678".into()),
            email: None,
        };
        let today = time::macros::date!(2026 - 01 - 01);
        assert_eq!(record_refusals(&s, &person, today, false), vec![]);
        let other = RegistryPerson {
            given_name: "Chi".into(),
            phone_number: None,
            ..person.clone()
        };
        assert_eq!(
            record_refusals(&s, &other, today, false),
            vec![
                Refusal::DataMismatch("given_name"),
                Refusal::NoRegistryContact
            ]
        );
        // Ten years before her 14th birthday she needs a guardian.
        let early = time::macros::date!(2011 - 01 - 01);
        assert_eq!(
            record_refusals(&s, &person, early, false),
            vec![Refusal::UnderAge(9)]
        );
        assert_eq!(record_refusals(&s, &person, early, true), vec![]);
    }

    #[test]
    fn refusal_reasons_carry_the_detail_for_the_operator() {
        let r = Refusal::PortraitMismatch {
            score: 0.41,
            threshold: 0.8,
        }
        .reason();
        assert_eq!(r.code, "portrait_mismatch");
        assert!(r.message.contains("0.41"));
        assert_eq!(Refusal::AccountExists.code(), "account_exists");
    }

    #[test]
    fn ages_count_full_years() {
        let d = |y, m, day| {
            time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap()
        };
        assert_eq!(age_on(d(2012, 5, 10), d(2026, 5, 9)), 13);
        assert_eq!(age_on(d(2012, 5, 10), d(2026, 5, 10)), 14);
    }
}
