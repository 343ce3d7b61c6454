//! Re-sync of an account from the sector databases through the registry interface (embedded or
//! HTTP): its integrated documents (`accounts::documents`) and what the registry says about its
//! level (`accounts::lifecycle::registry_downgrade`). Started by an officer at the desk, by
//! `vneid-provider accounts sync`, or by the server's periodic task.

use crate::accounts::account::Account;
use crate::accounts::claims::vietnam_date;
use crate::accounts::documents::{self, SyncSource};
use crate::accounts::lifecycle::{self, Actor, Change};
use crate::store::{DocumentSyncChange, Downgrade, Store};

use super::{Registry, RegistryError};

/// What a re-sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Documents added, changed or removed.
    pub changes: usize,
    /// Whether the account went down to Level 1.
    pub downgraded: bool,
    /// Whether the registry knew the person.
    pub found: bool,
}

/// Why a re-sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    BadAccount(#[from] crate::accounts::account::BadAccount),
    #[error("no such account")]
    NoAccount,
}

/// Re-syncs one account at `now`.
pub async fn sync_account(
    store: &Store,
    registry: &Registry,
    account_id: &str,
    source: SyncSource,
    now: i64,
) -> Result<SyncReport, SyncError> {
    let row = store
        .account(account_id)
        .await?
        .ok_or(SyncError::NoAccount)?;
    let account = Account::try_from(&row)?;
    let mut report = SyncReport::default();
    if account.kind == vneid_contract::AccountKind::Organization {
        return Ok(report);
    }
    let Some(person) = registry.person(&account.username).await? else {
        store
            .apply_document_sync(account.id.as_str(), &[], source.as_str(), now)
            .await?;
        return Ok(report);
    };
    report.found = true;
    // Only the province is kept, never the address (for `resident_of:<code>`).
    let province = person.residence_province();
    store
        .set_account_residence_province(account.id.as_str(), province.map(|p| p.code()))
        .await?;
    let current = store.documents(account.id.as_str()).await?;
    let changes = documents::resync_changes(&current, &person.documents);
    let rows: Vec<DocumentSyncChange<'_>> = changes
        .iter()
        .map(|c| DocumentSyncChange {
            change: c.kind.as_str(),
            old: c.old.as_ref(),
            new: c.new.as_ref(),
            old_json: c.old.as_ref().map(|d| documents::json_of(d).to_string()),
            new_json: c.new.as_ref().map(|d| documents::json_of(d).to_string()),
        })
        .collect();
    store
        .apply_document_sync(account.id.as_str(), &rows, source.as_str(), now)
        .await?;
    report.changes = rows.len();
    if let Some(today) = vietnam_date(now)
        && let Some(reason) = lifecycle::registry_downgrade(&account, &person, today)
        && let Ok(level) = lifecycle::downgrade(&account, Actor::System, reason)
    {
        report.downgraded = store
            .downgrade_account(
                Downgrade {
                    account_id: account.id.as_str(),
                    to_level: i64::from(level.as_number()),
                    detail: serde_json::json!({ "actor": Actor::System.as_str(), "reason": reason.as_str(), "source": source.as_str() }),
                    notice: lifecycle::notice(&account, Change::Downgraded(reason), now),
                },
                now,
            )
            .await?;
    }
    Ok(report)
}

/// The periodic re-sync: up to `limit` accounts not synced for `every` seconds. Returns how
/// many were synced; one that fails is logged and left for the next round.
pub async fn sync_due(
    store: &Store,
    registry: &Registry,
    every: i64,
    limit: i64,
    now: i64,
) -> Result<usize, SyncError> {
    let due = store.accounts_to_sync(now - every, limit).await?;
    let mut done = 0;
    for id in due {
        match sync_account(store, registry, &id, SyncSource::Periodic, now).await {
            Ok(_) => done += 1,
            Err(err) => tracing::warn!(account = %id, error = %err, "re-sync failed"),
        }
    }
    Ok(done)
}
