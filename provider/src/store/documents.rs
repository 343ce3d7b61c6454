//! Documents re-synced from the sector databases, with their history.

use super::accounts::insert_document;
use super::audit::{AuditEvent, audit_in};
use super::{DocumentRow, Store, StoreError};

/// One change to write: `change` is `added`, `changed` or `removed`; the values are JSON text.
pub struct DocumentSyncChange<'a> {
    pub change: &'a str,
    pub old: Option<&'a DocumentRow>,
    pub new: Option<&'a DocumentRow>,
    pub old_json: Option<String>,
    pub new_json: Option<String>,
}

/// A history row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentHistoryRow {
    pub at: i64,
    pub change: String,
    pub doc_type: String,
    pub number: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub source: String,
}

impl Store {
    /// Applies a re-sync's changes to an account's documents, writes one history row per change
    /// and an audit event (`documents_synced`, when anything changed), and marks the account
    /// synced: one transaction.
    pub async fn apply_document_sync(
        &self,
        account_id: &str,
        changes: &[DocumentSyncChange<'_>],
        source: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for c in changes {
            if let Some(old) = c.old {
                sqlx::query(
                    "DELETE FROM documents WHERE account_id = $1 AND doc_type = $2 AND number = $3",
                )
                .bind(account_id)
                .bind(&old.doc_type)
                .bind(&old.number)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(new) = c.new {
                insert_document(&mut tx, account_id, new, now).await?;
            }
            let key = c.new.or(c.old);
            sqlx::query(
                "INSERT INTO document_history (id, account_id, at, change, doc_type, number, old_value, \
                 new_value, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(crate::secret::new_id())
            .bind(account_id)
            .bind(now)
            .bind(c.change)
            .bind(key.map(|d| d.doc_type.clone()).unwrap_or_default())
            .bind(key.map(|d| d.number.clone()).unwrap_or_default())
            .bind(&c.old_json)
            .bind(&c.new_json)
            .bind(source)
            .execute(&mut *tx)
            .await?;
        }
        if !changes.is_empty() {
            let detail = serde_json::json!({ "source": source, "changes": changes.len() });
            audit_in(
                &mut *tx,
                AuditEvent {
                    kind: "documents_synced",
                    account_id: Some(account_id),
                    client_id: None,
                    detail,
                },
                now,
            )
            .await?;
        }
        sqlx::query("UPDATE accounts SET synced_at = $1 WHERE id = $2")
            .bind(now)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An account's document history, oldest first.
    pub async fn document_history(
        &self,
        account_id: &str,
    ) -> Result<Vec<DocumentHistoryRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT at, change, doc_type, number, old_value, new_value, source FROM document_history \
             WHERE account_id = $1 ORDER BY at, id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Up to `limit` person accounts (not revoked) not synced since `before`, least recently
    /// synced first (the periodic re-sync's batch): their ids.
    pub async fn accounts_to_sync(
        &self,
        before: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM accounts WHERE kind <> 'organization' AND status <> 'revoked' \
             AND (synced_at IS NULL OR synced_at < $1) ORDER BY COALESCE(synced_at, 0), id LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
