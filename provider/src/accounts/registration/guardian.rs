//! A child's registration and its guardian (Decree 69/2024: under 14 the request is a parent's
//! or guardian's). A request naming a parent or guardian the registry records, who holds an
//! active account, and passing every other check is held: the guardian is told on their
//! contact on record and approves or denies it in their own session at `/account`. Only then
//! is the child's account created, with the guardianship recorded. A hold is decided only with
//! the account of the guardian it names (in SQL, so a replay or a concurrent second approval
//! finds nothing), and lapses after [`GUARDIAN_WINDOW`] seconds.

use serde_json::json;

use super::pending::{HOLD_GUARDIAN, held_submission};
use super::{Assessment, Mode, Refusal, age_on, record_refusals, registration_date};
use crate::accounts::account::Account;
use crate::accounts::lifecycle::notice_to;
use crate::error::AppError;
use crate::notify::Notification;
use crate::registry::RelationKind;
use crate::state::AppState;
use crate::store::{self, AuditEvent, RegistrationRow, StoreError};

/// How long a guardian has to decide (seconds): seven days.
pub const GUARDIAN_WINDOW: i64 = 7 * 24 * 3600;

/// A recorded parent or guardian with an active account.
#[derive(Debug, Clone)]
pub struct GuardianOnRecord {
    pub account: Account,
    pub relation: RelationKind,
}

/// Holds a child's request for its guardian (a new row, or one held for the registry until
/// now), tells the guardian on their contact on record, and audits it: one transaction.
pub(super) async fn await_guardian(
    state: &AppState,
    row: &mut RegistrationRow,
    s: &super::Submission,
    guardian: &GuardianOnRecord,
    now: i64,
    mode: &Mode,
) -> Result<(), AppError> {
    row.status = "pending".into();
    row.decided_at = None;
    let expires_at = now + GUARDIAN_WINDOW;
    let notice = notice_to(&guardian.account).map(|(channel, recipient)| {
        Notification {
            channel,
            recipient: &recipient,
            subject: "VNeID",
            body: format!(
                "VNeID: co de nghi dang ky tai khoan dinh danh dien tu cho con/nguoi duoc giam ho cua ban ({} {}). Dang nhap VNeID, muc Tai khoan, de dong y hoac tu choi trong 7 ngay. / A request to register an account for your child awaits your approval in your VNeID account (7 days).",
                s.request.family_name, s.request.given_name
            ),
            kind: "guardian_request",
            account_id: Some(guardian.account.id.as_str()),
            secret: false,
        }
        .plain_row(now)
    });
    let mut tx = state.store.begin().await?;
    match mode {
        Mode::New => {
            store::insert_registration(&mut tx, row).await?;
            let capture = state
                .sealer
                .seal(serde_json::to_string(&s.request.portrait)?.as_bytes())?;
            let hold = store::HoldRow {
                registration_id: row.id.clone(),
                reason: HOLD_GUARDIAN.into(),
                capture_sealed: capture,
                guardian_account_id: Some(guardian.account.id.as_str().to_string()),
                attempts: 0,
                next_attempt_at: expires_at,
                created_at: now,
            };
            store::insert_hold(&mut tx, &hold).await?;
        }
        Mode::Held => {
            let moved =
                store::hold_for_guardian(&mut tx, row, guardian.account.id.as_str(), expires_at)
                    .await?;
            if !moved {
                tx.rollback().await.map_err(StoreError::from)?;
                return Ok(());
            }
        }
        // An approval never holds again: `decide` does not call this in that mode.
        Mode::Guardian { .. } => return Ok(()),
    }
    if let Some(notice) = &notice {
        store::enqueue(&mut tx, notice).await?;
    }
    // The portrait matched: its attempt was not a failure.
    store::release_portrait_attempt(&mut tx, &row.id_number).await?;
    let event = AuditEvent {
        kind: "registration_awaiting_guardian",
        account_id: Some(guardian.account.id.as_str()),
        client_id: row.client_id.as_deref(),
        detail: json!({ "registration": row.id, "relation": guardian.relation.as_str(), "guardian_notified": notice.is_some() }),
    };
    store::audit_in(&mut *tx, event, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(registration = %row.id, "child's registration waits for its guardian");
    Ok(())
}

/// A child's request waiting for this guardian, as the guardian's page shows it.
#[derive(Debug, Clone)]
pub struct PendingChild {
    pub registration_id: String,
    pub id_number: String,
    pub name: String,
    pub birthdate: String,
}

/// The requests waiting for `guardian`'s decision.
pub async fn pending_for_guardian(
    state: &AppState,
    guardian: &Account,
) -> Result<Vec<PendingChild>, AppError> {
    let mut out = Vec::new();
    for hold in state
        .store
        .holds_for_guardian(guardian.id.as_str(), state.now())
        .await?
    {
        let Some(row) = state.store.registration(&hold.registration_id).await? else {
            continue;
        };
        let r: serde_json::Value = serde_json::from_str(&row.submission)?;
        let name = ["family_name", "middle_name", "given_name"]
            .iter()
            .filter_map(|k| r[k].as_str())
            .filter(|v| !v.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(PendingChild {
            registration_id: row.id.clone(),
            id_number: row.id_number.clone(),
            name,
            birthdate: r["birthdate"].as_str().unwrap_or_default().to_string(),
        });
    }
    Ok(out)
}

/// What a guardian's decision came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardianDecision {
    /// The child's account is created (its first password goes to the registry's contact).
    Approved,
    /// Approved, but a check failed on the day (the registry changed, an account exists): refused.
    Refused,
    /// Denied by the guardian: refused.
    Denied,
    /// No request of this guardian's by that id waits (another guardian's, decided already,
    /// lapsed, or unknown): nothing happens, and the attempt is audited.
    NotFound,
}

/// The guardian in their own session approves (`approve`) or denies a held request. The checks
/// are run again on the registry's record of the day, and the guardian must still be recorded.
pub async fn guardian_decides(
    state: &AppState,
    guardian: &Account,
    registration_id: &str,
    approve: bool,
) -> Result<GuardianDecision, AppError> {
    let now = state.now();
    let hold = state.store.hold(registration_id).await?.filter(|h| {
        h.reason == HOLD_GUARDIAN
            && h.guardian_account_id.as_deref() == Some(guardian.id.as_str())
            && h.next_attempt_at > now
            && guardian.is_active()
    });
    let row = match &hold {
        Some(_) => state.store.registration(registration_id).await?,
        None => None,
    };
    let (Some(hold), Some(mut row)) = (hold, row) else {
        let event = AuditEvent {
            kind: "guardian_decision_refused",
            account_id: Some(guardian.id.as_str()),
            client_id: None,
            detail: json!({ "registration": registration_id }),
        };
        state.store.audit(event, now).await?;
        return Ok(GuardianDecision::NotFound);
    };
    let Some(s) = held_submission(state, &row, &hold)? else {
        return Ok(GuardianDecision::NotFound);
    };
    let mut found = Assessment::default();
    let relation = if approve {
        let person = state
            .registry
            .person(&row.id_number)
            .await
            .map_err(|e| AppError::Registry(e.to_string()))?;
        let today = registration_date(now).unwrap_or(s.birthdate);
        match person {
            None => found.refusals.push(Refusal::NotInRegistry),
            Some(p) => {
                if state
                    .store
                    .account_by_username(&row.id_number)
                    .await?
                    .is_some()
                {
                    found.refusals.push(Refusal::AccountExists);
                }
                found.refusals.extend(record_refusals(
                    &s,
                    &p,
                    today,
                    super::GuardianCheck::Recorded,
                ));
                if p.recorded_guardian(&guardian.username).is_none() {
                    found
                        .refusals
                        .push(Refusal::GuardianNotRecorded(age_on(s.birthdate, today)));
                }
                found.person = Some(p);
            }
        }
        found
            .person
            .as_ref()
            .and_then(|p| p.recorded_guardian(&guardian.username))
            .unwrap_or(RelationKind::Guardian)
    } else {
        found.refusals.push(Refusal::GuardianDenied);
        RelationKind::Guardian
    };
    let mode = Mode::Guardian {
        guardian_account_id: guardian.id.as_str().to_string(),
        relation,
    };
    super::decide(state, &mut row, &s, found, now, mode).await?;
    Ok(match row.status.as_str() {
        "approved" => GuardianDecision::Approved,
        _ if !approve => GuardianDecision::Denied,
        "refused" => GuardianDecision::Refused,
        _ => GuardianDecision::NotFound,
    })
}
