//! The outbox: notifications written in the same transaction as the change they report, and
//! delivered by a background worker that leases them, so two workers never hold the same one.

use sqlx::AnyConnection;

use super::{Store, StoreError};

/// A message to send.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub channel: String,
    pub recipient: String,
    pub subject: String,
    pub body: String,
    pub kind: String,
    pub account_id: Option<String>,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    /// When the last attempt failed and the message was given up.
    pub given_up_at: Option<i64>,
}

const OUTBOX_COLUMNS: &str = "id, channel, recipient, subject, body, kind, account_id, attempts, sent_at, last_error, created_at, given_up_at";

/// Writes a message inside the caller's transaction.
pub async fn enqueue(conn: &mut AnyConnection, m: &OutboxRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (id, channel, recipient, subject, body, kind, account_id, next_attempt_at, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&m.id)
    .bind(&m.channel)
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(&m.kind)
    .bind(&m.account_id)
    .bind(m.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Leases up to `limit` due messages until `lease_until`. The conditions are repeated in the
    /// outer statement so that PostgreSQL rechecks them on the row it locks: a message leased by
    /// another worker meanwhile is skipped.
    pub async fn lease_outbox(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let sql = format!(
            "UPDATE outbox SET leased_until = $1 WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL \
             AND given_up_at IS NULL AND next_attempt_at <= $2 AND (leased_until IS NULL OR leased_until < $2) \
             ORDER BY created_at LIMIT $3) \
             AND sent_at IS NULL AND given_up_at IS NULL AND (leased_until IS NULL OR leased_until < $2) \
             RETURNING {OUTBOX_COLUMNS}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.writer)
            .await?)
    }

    /// Marks a message sent. A first password or one-time code is erased from the table once
    /// delivered (`keep_body` false).
    pub async fn outbox_sent(&self, id: &str, now: i64, keep_body: bool) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET sent_at = $1, leased_until = NULL, attempts = attempts + 1, last_error = NULL, \
             body = CASE WHEN $2 = 1 THEN body ELSE '[delivered; removed]' END WHERE id = $3",
        )
        .bind(now)
        .bind(i64::from(keep_body))
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Gives a message up after its last attempt; a secret body is erased (`erase_body`).
    pub async fn outbox_give_up(
        &self,
        id: &str,
        now: i64,
        erase_body: bool,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET given_up_at = $1, leased_until = NULL, \
             body = CASE WHEN $2 = 1 THEN '[given up; removed]' ELSE body END WHERE id = $3",
        )
        .bind(now)
        .bind(i64::from(erase_body))
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Records a failed attempt and when to try again.
    pub async fn outbox_failed(
        &self,
        id: &str,
        error: &str,
        next_attempt_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2, leased_until = NULL \
             WHERE id = $3",
        )
        .bind(error)
        .bind(next_attempt_at)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The newest messages (the demo page, tests).
    pub async fn outbox_recent(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        let sql =
            format!("SELECT {OUTBOX_COLUMNS} FROM outbox ORDER BY created_at DESC, id LIMIT $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }
}
