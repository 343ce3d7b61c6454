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
}

const COLUMNS: &str = "id, id_number, channel, status, reasons, submission, idempotency_key, account_id, \
    evidence, created_at, decided_at";

/// Writes a decided registration inside the caller's transaction.
pub async fn insert_registration(
    conn: &mut AnyConnection,
    r: &RegistrationRow,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registrations (id, id_number, channel, status, reasons, submission, idempotency_key, \
         account_id, evidence, created_at, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
