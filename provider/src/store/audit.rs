//! The audit trail: who did what, when. Never holds secrets.

use sqlx::{Any, Executor};

use super::{Store, StoreError};

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditEvent<'a> {
    pub kind: &'a str,
    pub account_id: Option<&'a str>,
    pub client_id: Option<&'a str>,
    pub detail: serde_json::Value,
}

impl Store {
    /// Records an event on its own.
    pub async fn audit(&self, event: AuditEvent<'_>, now: i64) -> Result<(), StoreError> {
        audit_in(&self.writer, event, now).await
    }

    /// The events about an account, newest first.
    pub async fn audit_events(
        &self,
        account_id: &str,
        limit: i64,
    ) -> Result<Vec<(i64, String, Option<String>, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT at, kind, client_id, detail FROM audit_events WHERE account_id = $1 \
             ORDER BY at DESC LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Records an event inside a transaction, so it stands or falls with the change it reports.
pub async fn audit_in<'e, E: Executor<'e, Database = Any>>(
    exec: E,
    event: AuditEvent<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, at, kind, account_id, client_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(crate::secret::new_id())
    .bind(now)
    .bind(event.kind)
    .bind(event.account_id)
    .bind(event.client_id)
    .bind(event.detail.to_string())
    .execute(exec)
    .await?;
    Ok(())
}
