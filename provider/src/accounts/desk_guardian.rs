//! A child's Level 2 at the desk (Decree 69/2024): from 6 to under 14 the request is made by a
//! parent or guardian the registry records, who holds an active account and is present. The
//! desk opens a request to that guardian, who is told on their contact on record and approves
//! or denies it in their own session at `/account` (the same rule as the app's registration,
//! so the two paths agree); the officer's enrolment goes through only once it is approved. The
//! guardianship is recorded with the enrolment and the guardian is told of it.

use serde_json::json;

use crate::accounts::account::Account;
use crate::accounts::enrolment::{Desk, EnrolRequest, Recipient};
use crate::error::AppError;
use crate::notify::Notification;
use crate::registry::{RegistryPerson, RelationKind};
use crate::state::AppState;
use crate::store::{AuditEvent, DeskGuardianRow, VerificationRow};

/// The parent or guardian named at the desk, if the registry records them for `person` and
/// they hold an active account: their account and relation.
pub async fn on_record(
    state: &AppState,
    person: &RegistryPerson,
    request: &EnrolRequest,
) -> Result<Option<(Account, crate::registry::RelationKind)>, AppError> {
    let Some(g) = request
        .guardian_id_number
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty())
    else {
        return Ok(None);
    };
    let Some(relation) = person.recorded_guardian(g) else {
        return Ok(None);
    };
    let account = match state.store.account_by_username(g).await? {
        Some(row) => Account::try_from(&row)?,
        None => return Ok(None),
    };
    Ok(account.is_active().then_some((account, relation)))
}

/// The guardian's notice of a Level 2 enrolment they requested for a child.
pub fn notice(
    guardian: &Account,
    child: &RegistryPerson,
    now: i64,
) -> Option<crate::store::OutboxRow> {
    let (channel, recipient) = crate::accounts::lifecycle::notice_to(guardian)?;
    Some(
        Notification {
            channel,
            recipient: &recipient,
            subject: "VNeID",
            body: format!(
                "VNeID: tai khoan dinh danh dien tu muc 2 cua {} {} da duoc dang ky theo de nghi cua ban tai co quan Cong an. / The Level 2 account you requested for your child was registered at the desk.",
                child.family_name, child.given_name
            ),
            kind: "guardian_enrolment",
            account_id: Some(guardian.id.as_str()),
            secret: false,
        }
        .plain_row(now),
    )
}

/// Where a desk enrolment stands with the guardian it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    Approved,
    /// Asked (now or before): the guardian was told on `notified` (masked; empty when the
    /// account has no contact to tell).
    Awaiting {
        notified: String,
    },
    Denied,
}

/// The guardian's approval of enrolling `person` with verification `v`: opened on the first
/// ask (one transaction: the request, the guardian's notice, the audit), then read.
pub async fn approval(
    state: &AppState,
    desk: &Desk,
    v: &VerificationRow,
    person: &RegistryPerson,
    (guardian, relation): (&Account, RelationKind),
) -> Result<Approval, AppError> {
    let to = crate::accounts::lifecycle::notice_to(guardian);
    let notified = to
        .clone()
        .map(|(channel, address)| Recipient { channel, address }.masked())
        .unwrap_or_default();
    if let Some(r) = state
        .store
        .desk_guardian_request(&v.id, guardian.id.as_str())
        .await?
    {
        return Ok(match r.status.as_str() {
            "approved" => Approval::Approved,
            "denied" => Approval::Denied,
            _ => Approval::Awaiting { notified },
        });
    }
    let now = state.now();
    let name = person.full_name();
    let row = DeskGuardianRow {
        id: crate::secret::new_id(),
        verification_id: v.id.clone(),
        guardian_account_id: guardian.id.as_str().to_string(),
        relation: relation.as_str().to_string(),
        child_id_number: person.id_number.clone(),
        child_name: name.clone(),
        child_birthdate: person.birthdate.clone(),
        station: desk.officer.station.clone(),
        status: "pending".into(),
        created_at: now,
        expires_at: v.expires_at,
        decided_at: None,
    };
    let notice = to.map(|(channel, recipient)| {
        Notification {
            channel,
            recipient: &recipient,
            subject: "VNeID",
            body: format!(
                "VNeID: co quan Cong an ({}) de nghi dang ky tai khoan dinh danh dien tu muc 2 cho {name}. Dang nhap VNeID, muc Tai khoan, de dong y hoac tu choi. / The desk asks your approval of a Level 2 account for {name}: sign in to your VNeID account to approve or deny.",
                desk.officer.station
            ),
            kind: "guardian_desk_request",
            account_id: Some(guardian.id.as_str()),
            secret: false,
        }
        .plain_row(now)
    });
    let event = desk.event(
        "desk_guardian_requested",
        Some(guardian.id.as_str()),
        json!({ "verification": v.id, "id_number": person.id_number, "relation": relation.as_str(),
                "request": row.id, "guardian_notified": notice.is_some() }),
    );
    state
        .store
        .open_desk_guardian_request(&row, notice.as_ref(), event, now)
        .await?;
    Ok(Approval::Awaiting { notified })
}

/// The desk's requests waiting for `guardian`'s decision.
pub async fn pending_for(
    state: &AppState,
    guardian: &Account,
) -> Result<Vec<DeskGuardianRow>, AppError> {
    Ok(state
        .store
        .desk_guardian_requests_for(guardian.id.as_str(), state.now())
        .await?)
}

/// The guardian, in their own session, approves or denies a desk request made to them. `false`
/// when no such request waits for this (active) guardian: another's, decided, or lapsed; the
/// attempt is audited.
pub async fn decide(
    state: &AppState,
    guardian: &Account,
    request_id: &str,
    approve: bool,
) -> Result<bool, AppError> {
    let now = state.now();
    if !guardian.is_active() {
        let event = AuditEvent {
            kind: "guardian_decision_refused",
            account_id: Some(guardian.id.as_str()),
            client_id: None,
            detail: json!({ "desk_request": request_id, "reason": "guardian_not_active" }),
        };
        state.store.audit(event, now).await?;
        return Ok(false);
    }
    Ok(state
        .store
        .decide_desk_guardian_request(request_id, guardian.id.as_str(), approve, now)
        .await?)
}
