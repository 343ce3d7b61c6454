//! Registrations held for a later decision (the registry unreachable, or a guardian to approve),
//! and the guardianships of children's accounts.

use sqlx::AnyConnection;

use super::{RegistrationRow, Store, StoreError};

/// A held registration.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldRow {
    pub registration_id: String,
    /// `registry_unreachable` or `guardian`.
    pub reason: String,
    /// The capture (template, device, photo), sealed.
    pub capture_sealed: String,
    pub guardian_account_id: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

const HOLD_COLUMNS: &str = "registration_id, reason, capture_sealed, guardian_account_id, attempts, \
    next_attempt_at, created_at";

/// Holds a registration inside the caller's transaction.
pub async fn insert_hold(conn: &mut AnyConnection, h: &HoldRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO registration_holds (registration_id, reason, capture_sealed, guardian_account_id, \
         attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&h.registration_id)
    .bind(&h.reason)
    .bind(&h.capture_sealed)
    .bind(&h.guardian_account_id)
    .bind(h.attempts)
    .bind(h.next_attempt_at)
    .bind(h.created_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the decision of a pending registration and deletes its hold, inside the caller's
/// transaction. Only a hold of `reason` is decided, and a guardian's hold only with that
/// guardian's account. `false` when there is no such hold (decided meanwhile by another worker
/// or an earlier approval, or not this guardian's): nothing is written.
pub async fn decide_held(
    conn: &mut AnyConnection,
    r: &RegistrationRow,
    reason: &str,
    guardian_account_id: Option<&str>,
) -> Result<bool, StoreError> {
    let deleted = sqlx::query(
        "DELETE FROM registration_holds WHERE registration_id = $1 AND reason = $2 \
         AND ($3 IS NULL OR guardian_account_id = $3)",
    )
    .bind(&r.id)
    .bind(reason)
    .bind(guardian_account_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if deleted != 1 {
        return Ok(false);
    }
    let updated = sqlx::query(
        "UPDATE registrations SET status = $1, reasons = $2, account_id = $3, evidence = $4, \
         decided_at = $5 WHERE id = $6 AND status = 'pending'",
    )
    .bind(&r.status)
    .bind(&r.reasons)
    .bind(&r.account_id)
    .bind(&r.evidence)
    .bind(r.decided_at)
    .bind(&r.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Turns a registration held for the registry into one held for its guardian's approval
/// (until `expires_at`), with the evidence of the checks, inside the caller's transaction.
/// `false` when it was decided meanwhile.
pub async fn hold_for_guardian(
    conn: &mut AnyConnection,
    r: &RegistrationRow,
    guardian_account_id: &str,
    expires_at: i64,
) -> Result<bool, StoreError> {
    let moved = sqlx::query(
        "UPDATE registration_holds SET reason = 'guardian', guardian_account_id = $1, \
         next_attempt_at = $2 WHERE registration_id = $3 AND reason = 'registry_unreachable'",
    )
    .bind(guardian_account_id)
    .bind(expires_at)
    .bind(&r.id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if moved != 1 {
        return Ok(false);
    }
    sqlx::query("UPDATE registrations SET evidence = $1 WHERE id = $2")
        .bind(&r.evidence)
        .bind(&r.id)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// Records that a child's account was requested and approved by a recorded parent or guardian.
pub async fn insert_guardianship(
    conn: &mut AnyConnection,
    child_account_id: &str,
    guardian_account_id: &str,
    relation: &str,
    registration_id: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO guardianships (child_account_id, guardian_account_id, relation, registration_id, \
         created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (child_account_id, guardian_account_id) DO NOTHING",
    )
    .bind(child_account_id)
    .bind(guardian_account_id)
    .bind(relation)
    .bind(registration_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Held registrations of this reason due for another attempt, oldest first.
    pub async fn due_holds(
        &self,
        reason: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<HoldRow>, StoreError> {
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM registration_holds WHERE reason = $1 AND next_attempt_at <= $2 \
             ORDER BY next_attempt_at LIMIT $3"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(reason)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The hold of a registration.
    pub async fn hold(&self, registration_id: &str) -> Result<Option<HoldRow>, StoreError> {
        let sql =
            format!("SELECT {HOLD_COLUMNS} FROM registration_holds WHERE registration_id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(registration_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Registrations waiting for this guardian's approval, not expired at `now`.
    pub async fn holds_for_guardian(
        &self,
        guardian_account_id: &str,
        now: i64,
    ) -> Result<Vec<HoldRow>, StoreError> {
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM registration_holds WHERE reason = 'guardian' \
             AND guardian_account_id = $1 AND next_attempt_at > $2 ORDER BY created_at"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(guardian_account_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Another attempt later.
    pub async fn reschedule_hold(
        &self,
        registration_id: &str,
        next_attempt_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE registration_holds SET attempts = attempts + 1, next_attempt_at = $1 \
             WHERE registration_id = $2",
        )
        .bind(next_attempt_at)
        .bind(registration_id)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The guardians of a child's account: (guardian account id, relation).
    pub async fn guardians_of(
        &self,
        child_account_id: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT guardian_account_id, relation FROM guardianships WHERE child_account_id = $1 \
             ORDER BY created_at",
        )
        .bind(child_account_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
