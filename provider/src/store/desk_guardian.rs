//! A child's desk enrolment waiting for its guardian's approval (issue 11): opened by the desk,
//! decided once by the guardian in their own session.

use serde_json::json;

use super::{AuditEvent, OutboxRow, Store, StoreError, audit_in, enqueue};

/// A request to a guardian from the desk.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeskGuardianRow {
    pub id: String,
    pub verification_id: String,
    pub guardian_account_id: String,
    pub relation: String,
    pub child_id_number: String,
    pub child_name: String,
    pub child_birthdate: String,
    pub station: String,
    /// `pending`, `approved` or `denied`.
    pub status: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
}

const COLUMNS: &str = "id, verification_id, guardian_account_id, relation, child_id_number, \
    child_name, child_birthdate, station, status, created_at, expires_at, decided_at";

impl Store {
    /// The request of this verification to this guardian, whatever its state.
    pub async fn desk_guardian_request(
        &self,
        verification_id: &str,
        guardian_account_id: &str,
    ) -> Result<Option<DeskGuardianRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM desk_guardian_requests \
             WHERE verification_id = $1 AND guardian_account_id = $2"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(verification_id)
            .bind(guardian_account_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Opens a request, tells the guardian and audits it: one transaction. A second opening
    /// for the same verification and guardian (the officer pressed twice) writes nothing and
    /// sends nothing; `false` then.
    pub async fn open_desk_guardian_request(
        &self,
        r: &DeskGuardianRow,
        notice: Option<&OutboxRow>,
        event: AuditEvent<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO desk_guardian_requests (id, verification_id, guardian_account_id, relation, \
             child_id_number, child_name, child_birthdate, station, status, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10) \
             ON CONFLICT (verification_id, guardian_account_id) DO NOTHING",
        )
        .bind(&r.id)
        .bind(&r.verification_id)
        .bind(&r.guardian_account_id)
        .bind(&r.relation)
        .bind(&r.child_id_number)
        .bind(&r.child_name)
        .bind(&r.child_birthdate)
        .bind(&r.station)
        .bind(r.created_at)
        .bind(r.expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !inserted {
            tx.rollback().await?;
            return Ok(false);
        }
        if let Some(notice) = notice {
            enqueue(&mut tx, notice).await?;
        }
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The desk's requests waiting for this guardian, unexpired at `now`.
    pub async fn desk_guardian_requests_for(
        &self,
        guardian_account_id: &str,
        now: i64,
    ) -> Result<Vec<DeskGuardianRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM desk_guardian_requests WHERE guardian_account_id = $1 \
             AND status = 'pending' AND expires_at > $2 ORDER BY created_at"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(guardian_account_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The guardian's decision, once: only a pending, unexpired request of this guardian's is
    /// decided (in SQL, so a replay or a second tab finds nothing). Audited either way, in the
    /// same transaction. `false` when nothing was decided.
    pub async fn decide_desk_guardian_request(
        &self,
        id: &str,
        guardian_account_id: &str,
        approve: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let decided = sqlx::query(
            "UPDATE desk_guardian_requests SET status = $1, decided_at = $2 \
             WHERE id = $3 AND guardian_account_id = $4 AND status = 'pending' AND expires_at > $2",
        )
        .bind(if approve { "approved" } else { "denied" })
        .bind(now)
        .bind(id)
        .bind(guardian_account_id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let event = AuditEvent {
            kind: match (decided, approve) {
                (true, true) => "desk_guardian_approved",
                (true, false) => "desk_guardian_denied",
                (false, _) => "guardian_decision_refused",
            },
            account_id: Some(guardian_account_id),
            client_id: None,
            detail: json!({ "desk_request": id }),
        };
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(decided)
    }
}
