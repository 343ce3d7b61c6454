//! A child's Level 2 at the desk (Decree 69/2024): from 6 to under 14 the request is made by a
//! parent or guardian the registry records, who holds an active account and is present; the
//! guardianship is recorded with the enrolment and the guardian is told on their contact on
//! record. The same rule as the app's registration, so the two paths agree.

use crate::accounts::account::Account;
use crate::accounts::enrolment::EnrolRequest;
use crate::error::AppError;
use crate::notify::Notification;
use crate::registry::RegistryPerson;
use crate::state::AppState;

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
