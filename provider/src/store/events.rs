//! Security Event Tokens: the receivers clients registered, the audit events already turned
//! into SETs, and the SETs waiting to be pushed or polled.

use super::{Store, StoreError};

/// An audit event that may become SETs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventSourceRow {
    pub id: String,
    pub at: i64,
    pub kind: String,
    pub account_id: Option<String>,
    pub client_id: Option<String>,
    pub detail: String,
}

/// A SET to store.
#[derive(Debug, Clone)]
pub struct NewSecurityEvent {
    pub jti: String,
    pub client_id: String,
    pub set_jws: String,
    pub push: bool,
}

/// A SET due for a push.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushRow {
    pub jti: String,
    pub client_id: String,
    pub set_jws: String,
    pub attempts: i64,
    pub endpoint: String,
}

impl Store {
    /// Sets (or, with `None`, removes) where `client_id` wants its SETs pushed.
    pub async fn set_event_receiver(
        &self,
        client_id: &str,
        endpoint: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM event_receivers WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        if let Some(endpoint) = endpoint {
            sqlx::query("INSERT INTO event_receivers (client_id, endpoint) VALUES ($1, $2)")
                .bind(client_id)
                .bind(endpoint)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Audit events of `kinds` since `since` not yet turned into SETs, oldest first.
    pub async fn undispatched_events(
        &self,
        kinds: &[&str],
        since: i64,
        limit: i64,
    ) -> Result<Vec<EventSourceRow>, StoreError> {
        // The kinds are our own constants, never input: bound one by one all the same.
        let placeholders: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT a.id, a.at, a.kind, a.account_id, a.client_id, a.detail FROM audit_events a \
             LEFT JOIN security_event_sources s ON s.audit_id = a.id \
             WHERE s.audit_id IS NULL AND a.at >= $1 AND a.kind IN ({}) \
             ORDER BY a.at, a.id LIMIT $2",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(since)
            .bind(limit);
        for kind in kinds {
            query = query.bind(*kind);
        }
        Ok(query.fetch_all(&self.pool).await?)
    }

    /// The clients that received claims about an account (and so hear about it).
    pub async fn clients_informed_about(
        &self,
        account_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT a.client_id FROM audit_events a JOIN clients c ON c.id = a.client_id \
             WHERE a.account_id = $1 AND a.kind = 'claims_released' ORDER BY a.client_id",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }

    /// The clients among `clients` with a push receiver.
    pub async fn event_receiver(&self, client_id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT endpoint FROM event_receivers WHERE client_id = $1")
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(e,)| e))
    }

    /// Records that an audit event was dispatched, with its SETs, in one transaction. Returns
    /// `false` (and stores nothing) when another process dispatched it first.
    pub async fn dispatch_event(
        &self,
        audit_id: &str,
        sets: &[NewSecurityEvent],
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO security_event_sources (audit_id, dispatched_at) VALUES ($1, $2) \
             ON CONFLICT (audit_id) DO NOTHING",
        )
        .bind(audit_id)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed == 0 {
            return Ok(false);
        }
        for set in sets {
            sqlx::query(
                "INSERT INTO security_events (jti, audit_id, client_id, set_jws, push, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6)",
            )
            .bind(&set.jti)
            .bind(audit_id)
            .bind(&set.client_id)
            .bind(&set.set_jws)
            .bind(i64::from(set.push))
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Takes the lease of up to `limit` SETs due for a push (each taken by one process only).
    pub async fn lease_pushes(
        &self,
        now: i64,
        lease: i64,
        max_attempts: i64,
        limit: i64,
    ) -> Result<Vec<PushRow>, StoreError> {
        let due: Vec<PushRow> = sqlx::query_as(
            "SELECT s.jti, s.client_id, s.set_jws, s.attempts, r.endpoint FROM security_events s \
             JOIN event_receivers r ON r.client_id = s.client_id \
             WHERE s.push = 1 AND s.delivered_at IS NULL AND s.next_attempt_at <= $1 \
             AND s.attempts < $2 AND (s.leased_until IS NULL OR s.leased_until < $1) \
             ORDER BY s.next_attempt_at LIMIT $3",
        )
        .bind(now)
        .bind(max_attempts)
        .bind(limit)
        .fetch_all(&self.writer)
        .await?;
        let mut taken = Vec::new();
        for row in due {
            let won = sqlx::query(
                "UPDATE security_events SET leased_until = $1 WHERE jti = $2 \
                 AND delivered_at IS NULL AND (leased_until IS NULL OR leased_until < $3)",
            )
            .bind(now + lease)
            .bind(&row.jti)
            .bind(now)
            .execute(&self.writer)
            .await?
            .rows_affected();
            if won == 1 {
                taken.push(row);
            }
        }
        Ok(taken)
    }

    /// A push succeeded (or the receiver acknowledged it at the poll endpoint).
    pub async fn set_delivered(&self, jti: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE security_events SET delivered_at = $1, leased_until = NULL \
             WHERE jti = $2 AND delivered_at IS NULL",
        )
        .bind(now)
        .bind(jti)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// A push failed: retry at `next_attempt_at` (or never, with `give_up`).
    pub async fn set_push_failed(
        &self,
        jti: &str,
        error: &str,
        next_attempt_at: i64,
        give_up: bool,
        max_attempts: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE security_events SET attempts = CASE WHEN $1 = 1 THEN $2 ELSE attempts + 1 END, \
             last_error = $3, next_attempt_at = $4, leased_until = NULL WHERE jti = $5",
        )
        .bind(i64::from(give_up))
        .bind(max_attempts)
        .bind(error)
        .bind(next_attempt_at)
        .bind(jti)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// RFC 8936 poll: acknowledges `acks` (of this client only), then returns up to `max` SETs
    /// not yet delivered, oldest first, and whether more are waiting.
    pub async fn poll_events(
        &self,
        client_id: &str,
        acks: &[String],
        max: i64,
        now: i64,
    ) -> Result<(Vec<(String, String)>, bool), StoreError> {
        let mut tx = self.begin().await?;
        for jti in acks {
            sqlx::query(
                "UPDATE security_events SET delivered_at = $1 \
                 WHERE jti = $2 AND client_id = $3 AND delivered_at IS NULL",
            )
            .bind(now)
            .bind(jti)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT jti, set_jws FROM security_events WHERE client_id = $1 AND delivered_at IS NULL \
             ORDER BY created_at, jti LIMIT $2",
        )
        .bind(client_id)
        .bind(max + 1)
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let more = rows.len() as i64 > max;
        Ok((rows.into_iter().take(max as usize).collect(), more))
    }
}
