//! What the phone app is asked to approve (QR logins and CIBA requests), and the clients
//! registered for CIBA.

use sqlx::AnyConnection;

use super::outbox::{OutboxRow, enqueue};
use super::{Store, StoreError};

/// An approval as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApprovalRow {
    pub id: String,
    /// `qr` or `ciba`.
    pub kind: String,
    /// The account that may approve (CIBA), or that approved (QR).
    pub account_id: Option<String>,
    pub client_id: String,
    /// The JSON the app shows and signs over.
    pub summary: String,
    pub binding_message: Option<String>,
    /// `pending`, `approved`, `denied` or `used`.
    pub status: String,
    pub device_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub decided_at: Option<i64>,
    pub interaction_id: Option<String>,
    pub session_hash: Option<String>,
    pub auth_req_hash: Option<String>,
    /// CIBA: the request as JSON (scopes, level, delivery mode).
    pub request: Option<String>,
    /// CIBA ping: the notification token and `auth_req_id`, sealed.
    pub notification_sealed: Option<String>,
    pub last_poll_at: Option<i64>,
    pub interval_seconds: i64,
}

const APPROVAL_COLUMNS: &str = "id, kind, account_id, client_id, summary, binding_message, \
    status, device_id, created_at, expires_at, decided_at, interaction_id, session_hash, \
    auth_req_hash, request, notification_sealed, last_poll_at, interval_seconds";

/// A client's CIBA registration: `poll` or `ping`, and the ping endpoint.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CibaClientRow {
    pub delivery_mode: String,
    pub notification_endpoint: Option<String>,
}

impl Store {
    /// Saves a new approval.
    pub async fn insert_approval(&self, a: &ApprovalRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO app_approvals (id, kind, account_id, client_id, summary, \
             binding_message, status, created_at, expires_at, interaction_id, session_hash, \
             auth_req_hash, request, notification_sealed, interval_seconds) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(&a.id)
        .bind(&a.kind)
        .bind(&a.account_id)
        .bind(&a.client_id)
        .bind(&a.summary)
        .bind(&a.binding_message)
        .bind(&a.status)
        .bind(a.created_at)
        .bind(a.expires_at)
        .bind(&a.interaction_id)
        .bind(&a.session_hash)
        .bind(&a.auth_req_hash)
        .bind(&a.request)
        .bind(&a.notification_sealed)
        .bind(a.interval_seconds)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The approval with this id.
    pub async fn approval(&self, id: &str) -> Result<Option<ApprovalRow>, StoreError> {
        let sql = format!("SELECT {APPROVAL_COLUMNS} FROM app_approvals WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The CIBA request with this `auth_req_id` hash.
    pub async fn ciba_request(
        &self,
        auth_req_hash: &str,
    ) -> Result<Option<ApprovalRow>, StoreError> {
        let sql = format!("SELECT {APPROVAL_COLUMNS} FROM app_approvals WHERE auth_req_hash = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(auth_req_hash)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The QR approvals of one login page in one browser session, newest first.
    pub async fn qr_approvals(
        &self,
        interaction_id: &str,
        session_hash: &str,
    ) -> Result<Vec<ApprovalRow>, StoreError> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM app_approvals WHERE kind = 'qr' \
             AND interaction_id = $1 AND session_hash = $2 ORDER BY created_at DESC, id LIMIT 20"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(interaction_id)
            .bind(session_hash)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The CIBA requests an account's app may still decide.
    pub async fn pending_approvals(
        &self,
        account_id: &str,
        now: i64,
    ) -> Result<Vec<ApprovalRow>, StoreError> {
        let sql = format!(
            "SELECT {APPROVAL_COLUMNS} FROM app_approvals WHERE account_id = $1 \
             AND kind = 'ciba' AND status = 'pending' AND expires_at > $2 \
             ORDER BY created_at, id LIMIT 50"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .bind(now)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Records the app's decision, if the approval is still pending and live and this account
    /// may decide it (a CIBA request names its account; a QR approval takes the deciding
    /// account). With `ping`, the relying party's notification is queued in the same
    /// transaction. Returns whether the decision counted.
    pub async fn decide_approval(
        &self,
        id: &str,
        decision: &str,
        account_id: &str,
        device_id: &str,
        now: i64,
        ping: Option<&OutboxRow>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = sqlx::query(
            "UPDATE app_approvals SET status = $1, account_id = $2, device_id = $3, \
             decided_at = $4 WHERE id = $5 AND status = 'pending' AND expires_at > $4 \
             AND ((kind = 'qr' AND account_id IS NULL) OR (kind = 'ciba' AND account_id = $2))",
        )
        .bind(decision)
        .bind(account_id)
        .bind(device_id)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Ok(false);
        }
        if let Some(ping) = ping {
            enqueue(&mut tx, ping).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Notes a token-endpoint poll of a CIBA request.
    pub async fn note_ciba_poll(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE app_approvals SET last_poll_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A client's CIBA registration, if any.
    pub async fn ciba_client(&self, client_id: &str) -> Result<Option<CibaClientRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT delivery_mode, notification_endpoint FROM ciba_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Registers (or with `None` unregisters) a client for CIBA.
    pub async fn set_ciba_client(
        &self,
        client_id: &str,
        registration: Option<&CibaClientRow>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM ciba_clients WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        if let Some(r) = registration {
            sqlx::query(
                "INSERT INTO ciba_clients (client_id, delivery_mode, notification_endpoint) \
                 VALUES ($1, $2, $3)",
            )
            .bind(client_id)
            .bind(&r.delivery_mode)
            .bind(&r.notification_endpoint)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Uses up an approved approval (once), inside the caller's transaction: true when this call did.
pub async fn use_approval(conn: &mut AnyConnection, id: &str) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "UPDATE app_approvals SET status = 'used' WHERE id = $1 AND status = 'approved'",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1)
}
