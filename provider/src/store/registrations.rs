//! Registration requests and their decisions.

use sqlx::AnyConnection;

use super::{Store, StoreError, unique};

/// A registration as stored; `reasons` and `submission` are JSON.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationRow {
    pub id: String,
    pub id_number: String,
    pub channel: String,
    pub status: String,
    pub reasons: Option<String>,
    pub submission: String,
    pub idempotency_key: Option<String>,
    pub account_id: Option<String>,
    pub evidence: Option<String>,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// The client (the national app) that submitted it.
    pub client_id: Option<String>,
}

const COLUMNS: &str = "id, id_number, channel, status, reasons, submission, idempotency_key, account_id, \
    evidence, created_at, decided_at, client_id";

/// Writes a decided registration inside the caller's transaction.
pub async fn insert_registration(
    conn: &mut AnyConnection,
    r: &RegistrationRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registrations (id, id_number, channel, status, reasons, submission, idempotency_key, \
         account_id, evidence, created_at, decided_at, client_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&r.id)
    .bind(&r.id_number)
    .bind(&r.channel)
    .bind(&r.status)
    .bind(&r.reasons)
    .bind(&r.submission)
    .bind(&r.idempotency_key)
    .bind(&r.account_id)
    .bind(&r.evidence)
    .bind(r.created_at)
    .bind(r.decided_at)
    .bind(&r.client_id)
    .execute(&mut *conn)
    .await
    .map_err(unique("a registration with this idempotency key"))?;
    Ok(())
}

impl Store {
    /// The registration with this id.
    pub async fn registration(&self, id: &str) -> Result<Option<RegistrationRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM registrations WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The registration submitted with this idempotency key.
    pub async fn registration_by_key(
        &self,
        key: &str,
    ) -> Result<Option<RegistrationRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM registrations WHERE idempotency_key = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }
}

/// Ensures the guard row of a number exists (inside a statement of its own: harmless twice).
async fn ensure_guard(store: &Store, id_number: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registration_guards (id_number, submissions, submissions_since, \
         portrait_failures, portrait_failures_since) VALUES ($1, 0, $2, 0, $2) \
         ON CONFLICT (id_number) DO NOTHING",
    )
    .bind(id_number)
    .bind(now)
    .execute(&store.pool)
    .await?;
    Ok(())
}

/// Gives back a portrait attempt that did not fail (a match, or a registry that could not
/// answer), inside the caller's transaction.
pub async fn release_portrait_attempt(
    conn: &mut AnyConnection,
    id_number: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE registration_guards SET portrait_failures = portrait_failures - 1 \
         WHERE id_number = $1 AND portrait_failures > 0",
    )
    .bind(id_number)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Counts a submission for this number in a fixed window of `window` seconds; false when
    /// `max` were counted in the current window already. One conditional UPDATE: concurrent
    /// submissions cannot pass together.
    pub async fn reserve_registration_submission(
        &self,
        id_number: &str,
        now: i64,
        window: i64,
        max: i64,
    ) -> Result<bool, StoreError> {
        ensure_guard(self, id_number, now).await?;
        let done = sqlx::query(
            "UPDATE registration_guards SET \
             submissions = CASE WHEN submissions_since <= $2 THEN 1 ELSE submissions + 1 END, \
             submissions_since = CASE WHEN submissions_since <= $2 THEN $3 ELSE submissions_since END \
             WHERE id_number = $1 AND (submissions_since <= $2 OR submissions < $4)",
        )
        .bind(id_number)
        .bind(now - window)
        .bind(now)
        .bind(max)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Whether `max` portrait failures were counted for this number in the current window.
    pub async fn registration_portrait_locked(
        &self,
        id_number: &str,
        now: i64,
        window: i64,
        max: i64,
    ) -> Result<bool, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT portrait_failures, portrait_failures_since FROM registration_guards \
             WHERE id_number = $1",
        )
        .bind(id_number)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some_and(|(failures, since)| since > now - window && failures >= max))
    }

    /// Counts a portrait attempt as a failure before it is made (given back by
    /// [`release_portrait_attempt`] when it matches); false when the budget of `max` failures
    /// in the window is spent. Concurrent attempts cannot overrun it.
    pub async fn reserve_portrait_attempt(
        &self,
        id_number: &str,
        now: i64,
        window: i64,
        max: i64,
    ) -> Result<bool, StoreError> {
        ensure_guard(self, id_number, now).await?;
        let done = sqlx::query(
            "UPDATE registration_guards SET \
             portrait_failures = CASE WHEN portrait_failures_since <= $2 THEN 1 ELSE portrait_failures + 1 END, \
             portrait_failures_since = CASE WHEN portrait_failures_since <= $2 THEN $3 ELSE portrait_failures_since END \
             WHERE id_number = $1 AND (portrait_failures_since <= $2 OR portrait_failures < $4)",
        )
        .bind(id_number)
        .bind(now - window)
        .bind(now)
        .bind(max)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives back a portrait attempt outside a transaction (the registry failed).
    pub async fn release_portrait_attempt(&self, id_number: &str) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        release_portrait_attempt(&mut conn, id_number).await
    }
}
