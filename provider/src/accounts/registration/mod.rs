//! Level 1 registration from the national app (Decree 59 Art. 14, Decree 69 age rules): the
//! declared data and the portrait template are checked against the population registry; the
//! decision, the account and the notification are one transaction.
//!
//! The caller (an authenticated app, never an anonymous one) learns only "approved" or "refused":
//! never which field differed, a score, or that an account exists. The full reasons stay on the
//! registration row and in the audit log for an operator. The first password, and any notice,
//! goes only to the contact the registry holds for the person. Portrait failures and submissions
//! are counted per identification number in the database.

mod guardian;
mod pending;
mod request;
mod rules;

pub use guardian::{GuardianDecision, PendingChild, guardian_decides, pending_for_guardian};
pub use pending::decide_pending;
use pending::{HOLD_GUARDIAN, HOLD_REGISTRY, hold};

pub use request::{Capture, FieldError, RegistrationRequest, Submission, parse};
pub use rules::{GuardianCheck, Reason, Refusal, age_on, record_refusals};

use serde::Deserialize;
use serde_json::json;

use crate::accounts::account::Account;
use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::oidc::types::ClientId;
use crate::registry::{
    MatchOutcome, Modality, RegistryContact, RegistryError, RegistryPerson, RelationKind,
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
    let found = assess(state, &submission, now).await?;
    let mut row = RegistrationRow {
        id: crate::secret::new_id(),
        id_number: submission.request.id_number.clone(),
        channel: "app".into(),
        status: String::new(),
        reasons: None,
        submission: submitted,
        idempotency_key: stored_key,
        account_id: None,
        evidence: None,
        created_at: now,
        decided_at: Some(now),
        client_id: Some(client.as_str().to_string()),
    };
    if found.unreachable {
        hold(state, &mut row, &submission, now).await?;
        return Ok(Outcome::Decided(row));
    }
    decide(state, &mut row, &submission, found, now, Mode::New).await?;
    Ok(Outcome::Decided(row))
}

/// How a decision is written: a new row, a row held for the registry, or a row held for its
/// guardian's approval (decided by that guardian only).
#[derive(Debug, Clone)]
enum Mode {
    New,
    Held,
    Guardian {
        guardian_account_id: String,
        relation: RelationKind,
    },
}

/// Approves or refuses on what the checks found; a child's request that passes every check
/// waits for its recorded guardian's approval instead (`guardian::await_guardian`).
async fn decide(
    state: &AppState,
    row: &mut RegistrationRow,
    submission: &Submission,
    found: Assessment,
    now: i64,
    mode: Mode,
) -> Result<(), AppError> {
    let Assessment {
        mut refusals,
        person,
        evidence,
        portrait_matched,
        unreachable: _,
        guardian,
    } = found;
    if !evidence.is_empty() {
        row.evidence = Some(json!(evidence).to_string());
    }
    row.decided_at = Some(now);
    if refusals.is_empty()
        && let Some(g) = &guardian
        && !matches!(mode, Mode::Guardian { .. })
    {
        return guardian::await_guardian(state, row, submission, g, now, &mode).await;
    }
    if refusals.is_empty()
        && let Some(p) = &person
        && let Some(contact) = p.contact()
    {
        match approve(state, row, submission, p, &contact, now, &mode).await? {
            Approval::Done => return Ok(()),
            // Registered meanwhile by a concurrent submission.
            Approval::Duplicate => refusals.push(Refusal::AccountExists),
        }
    }
    refuse(
        state,
        row,
        &refusals,
        person.as_ref(),
        portrait_matched,
        now,
        &mode,
    )
    .await
}

/// What the checks of a submission found.
#[derive(Default)]
struct Assessment {
    refusals: Vec<Refusal>,
    person: Option<RegistryPerson>,
    /// The portrait comparison (score, threshold, device), for the registration row.
    evidence: Vec<serde_json::Value>,
    /// Whether the portrait matched (its counted attempt is given back with the decision).
    portrait_matched: bool,
    /// The registry could not be reached: nothing can be decided now.
    unreachable: bool,
    /// A child's recorded parent or guardian, holding an active account, who must approve.
    guardian: Option<guardian::GuardianOnRecord>,
}

/// Runs every check: the per-number limits first (a throttled or locked number is not looked
/// at), then the account, the registry record and the portrait. Past the limits, a person on
/// record gets every check whatever the others found, so an existing account costs the same work
/// as a mismatch.
async fn assess(state: &AppState, s: &Submission, now: i64) -> Result<Assessment, AppError> {
    let limits = &state.config.registration;
    let id_number = s.request.id_number.as_str();
    let mut found = Assessment::default();
    let store = &state.store;
    if !store
        .reserve_registration_submission(
            id_number,
            now,
            limits.submission_window,
            limits.max_submissions_per_number,
        )
        .await?
    {
        found.refusals.push(Refusal::RateLimited);
        return Ok(found);
    }
    if store
        .registration_portrait_locked(
            id_number,
            now,
            limits.portrait_failure_window,
            limits.max_portrait_failures,
        )
        .await?
    {
        found.refusals.push(Refusal::PortraitLocked);
        return Ok(found);
    }
    checks(state, s, now, &mut found).await?;
    Ok(found)
}

/// The checks past the per-number limits: the account, the registry record and the portrait.
async fn checks(
    state: &AppState,
    s: &Submission,
    now: i64,
    found: &mut Assessment,
) -> Result<(), AppError> {
    let id_number = s.request.id_number.as_str();
    if state.store.account_by_username(id_number).await?.is_some() {
        found.refusals.push(Refusal::AccountExists);
    }
    let person = match state.registry.person(id_number).await {
        Ok(Some(person)) => person,
        Ok(None) => {
            found.refusals.push(Refusal::NotInRegistry);
            return Ok(());
        }
        Err(RegistryError::Service(e)) => {
            tracing::warn!(error = %e, "the registry is unreachable");
            found.unreachable = true;
            return Ok(());
        }
        Err(e) => return Err(registry_failure(e)),
    };
    let (guardian, on_record) = guardian_check(state, s, &person).await?;
    let today = registration_date(now).unwrap_or(s.birthdate);
    found
        .refusals
        .extend(record_refusals(s, &person, today, guardian));
    if age_on(s.birthdate, today) < crate::registry::card::CARD_REQUIRED_FROM_AGE {
        found.guardian = on_record;
    }
    let device = s.request.portrait.device_id.as_str();
    match portrait(state, s, now).await? {
        Portrait::Matched(outcome) => {
            found.portrait_matched = true;
            found
                .evidence
                .push(portrait_evidence(&outcome, device, now));
        }
        Portrait::Failed(outcome) => {
            found.refusals.push(Refusal::PortraitMismatch {
                score: outcome.score,
                threshold: outcome.threshold,
            });
            found
                .evidence
                .push(portrait_evidence(&outcome, device, now));
        }
        Portrait::Refused(refusal) => found.refusals.push(refusal),
        Portrait::Unreachable => found.unreachable = true,
    }
    found.person = Some(person);
    Ok(())
}

/// The date ages are counted on: today in Vietnam (Asia/Ho_Chi_Minh, UTC+7), so that on a
/// birthday the applicant is a year older from midnight in Hà Nội, not from 07:00.
pub fn registration_date(now: i64) -> Option<time::Date> {
    crate::accounts::claims::vietnam_date(now)
}

/// Whether the guardian named is a parent or guardian the registry records for the applicant
/// and holds an active account (any other account, however active, is not), with that account.
async fn guardian_check(
    state: &AppState,
    s: &Submission,
    person: &RegistryPerson,
) -> Result<(GuardianCheck, Option<guardian::GuardianOnRecord>), AppError> {
    let Some(g) = &s.request.guardian_id_number else {
        return Ok((GuardianCheck::None, None));
    };
    let Some(relation) = person.recorded_guardian(g) else {
        return Ok((GuardianCheck::NotRecorded, None));
    };
    let account = match state.store.account_by_username(g).await? {
        Some(row) => Some(Account::try_from(row)?),
        None => None,
    };
    Ok(match account.filter(Account::is_active) {
        Some(account) => (
            GuardianCheck::Recorded,
            Some(guardian::GuardianOnRecord { account, relation }),
        ),
        None => (GuardianCheck::NotRecorded, None),
    })
}

/// The portrait comparison, counted against the number's failure budget.
enum Portrait {
    Matched(MatchOutcome),
    Failed(MatchOutcome),
    Refused(Refusal),
    Unreachable,
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
                RegistryError::Service(e) => {
                    tracing::warn!(error = %e, "the registry is unreachable");
                    Ok(Portrait::Unreachable)
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
    mode: &Mode,
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
        portrait_jpeg: s
            .photo
            .as_deref()
            .map(|jpeg| crate::accounts::portrait::seal(&state.sealer, jpeg))
            .transpose()?,
        phone_number: p.phone_number.clone().filter(|v| is_phone(v)),
        email: p.email.clone().filter(|v| is_email(v)),
        verification_evidence: Some(level1_evidence(now)),
        must_change_password: true,
        residence_province: p.residence_province().map(|p| p.code().to_string()),
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
    store::mark_contacts_unverified(&mut tx, &account.id).await?;
    if !write_decision(&mut tx, row, mode).await? {
        tx.rollback().await.map_err(StoreError::from)?;
        // Decided meanwhile: this decision is not the row's.
        row.status = "pending".into();
        row.account_id = None;
        return Ok(Approval::Done);
    }
    if let Mode::Guardian {
        guardian_account_id,
        relation,
    } = mode
    {
        store::insert_guardianship(
            &mut tx,
            &account.id,
            guardian_account_id,
            relation.as_str(),
            &row.id,
            now,
        )
        .await?;
    }
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
    mode: &Mode,
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
    if !write_decision(&mut tx, row, mode).await? {
        tx.rollback().await.map_err(StoreError::from)?;
        row.status = "pending".into();
        return Ok(());
    }
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

/// Writes the decision: a new row, or the pending row's decision (`false` when it was decided
/// meanwhile, by another worker or an earlier approval: the caller rolls back). A row held for
/// a guardian is decided only with that guardian's account.
async fn write_decision(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    row: &RegistrationRow,
    mode: &Mode,
) -> Result<bool, AppError> {
    match mode {
        Mode::New => {
            store::insert_registration(tx, row).await?;
            Ok(true)
        }
        Mode::Held => Ok(store::decide_held(tx, row, HOLD_REGISTRY, None).await?),
        Mode::Guardian {
            guardian_account_id,
            ..
        } => Ok(store::decide_held(tx, row, HOLD_GUARDIAN, Some(guardian_account_id)).await?),
    }
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
