//! What citizens do to their own account: consents, contact details, one-time codes.

use super::audit::{AuditEvent, audit_in};
use super::outbox::{OutboxRow, enqueue};
use super::{Store, StoreError};

/// A consent with the client's name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConsentRow {
    pub client_id: String,
    pub client_name: String,
    pub scopes: String,
    pub granted_at: i64,
}

impl Store {
    /// The consents an account gave.
    pub async fn consents_of(&self, account_id: &str) -> Result<Vec<ConsentRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT c.client_id, k.name AS client_name, c.scopes, c.granted_at FROM consents c \
             JOIN clients k ON k.id = c.client_id WHERE c.account_id = $1 ORDER BY c.granted_at DESC",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Withdraws a consent: the consent goes and the client's tokens for this account are revoked,
    /// in one transaction. Returns whether there was one.
    pub async fn revoke_consent(
        &self,
        account_id: &str,
        client_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(account_id)
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent {
            kind: "consent_revoked",
            account_id: Some(account_id),
            client_id: Some(client_id),
            detail: serde_json::json!({}),
        };
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a one-time code (hashed) and the message that carries it, in one transaction; an
    /// earlier unused code for the same purpose is dropped.
    pub async fn issue_one_time_code(
        &self,
        account_id: &str,
        purpose: &str,
        target: Option<&str>,
        code_hash: &str,
        expires_at: i64,
        message: &OutboxRow,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM one_time_codes WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL",
        )
        .bind(account_id)
        .bind(purpose)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO one_time_codes (id, account_id, purpose, target, code_hash, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crate::secret::new_id())
        .bind(account_id)
        .bind(purpose)
        .bind(target)
        .bind(code_hash)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        enqueue(&mut tx, message).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses a one-time code: right code, live, fewer than 5 attempts. Returns its target when
    /// accepted; a wrong code counts an attempt.
    pub async fn use_one_time_code(
        &self,
        account_id: &str,
        purpose: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<Option<String>>, StoreError> {
        let row: Option<(String, Option<String>)> = sqlx::query_as(
            "UPDATE one_time_codes SET used_at = $1 WHERE account_id = $2 AND purpose = $3 AND code_hash = $4 \
             AND used_at IS NULL AND expires_at > $1 AND attempts < 5 RETURNING id, target",
        )
        .bind(now)
        .bind(account_id)
        .bind(purpose)
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some((_, target)) = row {
            return Ok(Some(target));
        }
        sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE account_id = $1 AND purpose = $2 AND used_at IS NULL")
            .bind(account_id)
            .bind(purpose)
            .execute(&self.pool)
            .await?;
        Ok(None)
    }

    /// Sets a verified phone number or email address, with its audit event.
    pub async fn set_contact(
        &self,
        account_id: &str,
        phone: bool,
        value: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let sql = if phone {
            "UPDATE accounts SET phone_number = $1, phone_verified = 1, updated_at = $2 WHERE id = $3"
        } else {
            "UPDATE accounts SET email = $1, email_verified = 1, updated_at = $2 WHERE id = $3"
        };
        sqlx::query(sql)
            .bind(value)
            .bind(now)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent {
            kind: if phone {
                "phone_changed"
            } else {
                "email_changed"
            },
            account_id: Some(account_id),
            client_id: None,
            detail: serde_json::json!({}),
        };
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
