//! Registrations held for a later decision: while the registry is unreachable (Decree 59
//! Art. 14: the result is notified later), retried by the worker with a growing wait; and the
//! hold of a child's request for its guardian (`guardian`).

use serde_json::json;

use super::{Assessment, Mode, Submission, checks, decide, parse};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{self, AuditEvent, RegistrationRow, StoreError};

/// The registry could not be reached: the registration is recorded as pending with its capture
/// sealed, for the worker to decide when the registry answers again (Decree 59 Art. 14: the
/// result is notified later). One transaction.
pub(super) async fn hold(
    state: &AppState,
    row: &mut RegistrationRow,
    s: &Submission,
    now: i64,
) -> Result<(), AppError> {
    row.status = "pending".into();
    row.decided_at = None;
    let capture = state
        .sealer
        .seal(serde_json::to_string(&s.request.portrait)?.as_bytes())?;
    let held = store::HoldRow {
        registration_id: row.id.clone(),
        reason: HOLD_REGISTRY.into(),
        capture_sealed: capture,
        guardian_account_id: None,
        attempts: 0,
        next_attempt_at: now + RETRY_AFTER,
        created_at: now,
    };
    let mut tx = state.store.begin().await?;
    store::insert_registration(&mut tx, row).await?;
    store::insert_hold(&mut tx, &held).await?;
    let event = AuditEvent {
        kind: "registration_pending",
        account_id: None,
        client_id: row.client_id.as_deref(),
        detail: json!({ "registration": row.id, "channel": "app", "reason": HOLD_REGISTRY }),
    };
    store::audit_in(&mut *tx, event, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::warn!(registration = %row.id, "registry unreachable: registration pending");
    Ok(())
}

/// The hold reason of a registration waiting for the registry.
pub(super) const HOLD_REGISTRY: &str = "registry_unreachable";
/// The hold reason of a child's registration waiting for its guardian's approval.
pub(super) const HOLD_GUARDIAN: &str = "guardian";
/// Seconds before the first retry of a pending registration; doubled each time, up to an hour.
const RETRY_AFTER: i64 = 60;

/// Decides the pending registrations whose registry check is due (the worker calls it every
/// minute; it is safe to run in several processes at once). Returns how many were decided.
pub async fn decide_pending(state: &AppState) -> Result<usize, AppError> {
    let now = state.now();
    let mut decided = 0;
    for held in state.store.due_holds(HOLD_REGISTRY, now, 50).await? {
        let Some(mut row) = state.store.registration(&held.registration_id).await? else {
            continue;
        };
        let Some(submission) = held_submission(state, &row, &held)? else {
            continue;
        };
        let mut found = Assessment::default();
        checks(state, &submission, now, &mut found).await?;
        if found.unreachable {
            let wait = (RETRY_AFTER << held.attempts.clamp(0, 6)).min(3600);
            state
                .store
                .reschedule_hold(&held.registration_id, now + wait)
                .await?;
            continue;
        }
        decide(state, &mut row, &submission, found, now, Mode::Held).await?;
        decided += 1;
    }
    Ok(decided)
}

/// The submission of a held registration, with its sealed capture opened (`None`, logged, if
/// it no longer parses).
pub(super) fn held_submission(
    state: &AppState,
    row: &RegistrationRow,
    held: &store::HoldRow,
) -> Result<Option<Submission>, AppError> {
    let capture = state.sealer.open_string(&held.capture_sealed)?;
    let mut body: serde_json::Value = serde_json::from_str(&row.submission)?;
    body["portrait"] = serde_json::from_str(&capture)?;
    match parse(
        body.to_string().as_bytes(),
        state.config.registry.dimensions,
    ) {
        Ok(s) => Ok(Some(s)),
        Err(_) => {
            tracing::error!(registration = %row.id, "a pending registration no longer parses");
            Ok(None)
        }
    }
}
