//! What citizens do to their own account: consents, contact details, one-time codes.

use sqlx::AnyConnection;

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

    /// Confirms a contact change with its code, in one transaction: the code is used, the new
    /// phone number or email is set (verified), the old contact gets the notice `notice` builds
    /// from the old phone number and email, and the change is audited. A wrong code counts an
    /// attempt (5 per code). Returns the new value when the code was right.
    pub async fn confirm_contact_change(
        &self,
        account_id: &str,
        purpose: &str,
        phone: bool,
        code_hash: &str,
        now: i64,
        notice: impl FnOnce(Option<&str>, Option<&str>, &str) -> Option<OutboxRow>,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin().await?;
        let used: Option<(Option<String>,)> = sqlx::query_as(
            "UPDATE one_time_codes SET used_at = $1 WHERE account_id = $2 AND purpose = $3 \
             AND code_hash = $4 AND used_at IS NULL AND expires_at > $1 AND attempts < 5 \
             RETURNING target",
        )
        .bind(now)
        .bind(account_id)
        .bind(purpose)
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((Some(value),)) = used else {
            sqlx::query(
                "UPDATE one_time_codes SET attempts = attempts + 1 WHERE account_id = $1 \
                 AND purpose = $2 AND used_at IS NULL",
            )
            .bind(account_id)
            .bind(purpose)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(None);
        };
        let (old_phone, old_email): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT phone_number, email FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_one(&mut *tx)
                .await?;
        let sql = if phone {
            "UPDATE accounts SET phone_number = $1, phone_verified = 1, updated_at = $2 WHERE id = $3"
        } else {
            "UPDATE accounts SET email = $1, email_verified = 1, updated_at = $2 WHERE id = $3"
        };
        sqlx::query(sql)
            .bind(&value)
            .bind(now)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        let told = notice(old_phone.as_deref(), old_email.as_deref(), &value);
        if let Some(message) = &told {
            enqueue(&mut tx, message).await?;
        }
        let verified_only = if phone {
            old_phone.as_deref() == Some(value.as_str())
        } else {
            old_email.as_deref() == Some(value.as_str())
        };
        let event = AuditEvent {
            kind: match (phone, verified_only) {
                (true, false) => "phone_changed",
                (false, false) => "email_changed",
                (true, true) => "phone_verified",
                (false, true) => "email_verified",
            },
            account_id: Some(account_id),
            client_id: None,
            detail: serde_json::json!({ "old_contact_notified": told.is_some() }),
        };
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(Some(value))
    }

    /// The password-reset budget of a subject (created empty, windows at `now`, when new).
    pub async fn reset_budget(
        &self,
        subject_hash: &str,
        now: i64,
    ) -> Result<ResetBudgetRow, StoreError> {
        const SELECT: &str = "SELECT version, hour_start, hour_codes, hour_attempts, day_start, \
             day_codes, day_attempts FROM reset_budgets WHERE subject_hash = $1";
        if let Some(row) = sqlx::query_as(SELECT)
            .bind(subject_hash)
            .fetch_optional(&self.writer)
            .await?
        {
            return Ok(row);
        }
        sqlx::query(
            "INSERT INTO reset_budgets (subject_hash, version, hour_start, hour_codes, \
             hour_attempts, day_start, day_codes, day_attempts) VALUES ($1, 0, $2, 0, 0, $2, 0, 0) \
             ON CONFLICT (subject_hash) DO NOTHING",
        )
        .bind(subject_hash)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(sqlx::query_as(SELECT)
            .bind(subject_hash)
            .fetch_one(&self.writer)
            .await?)
    }

    /// Replaces a reset budget if it is still at `version` (compare-and-swap); `next` carries
    /// the new version. Returns whether it was replaced.
    pub async fn swap_reset_budget(
        &self,
        subject_hash: &str,
        version: i64,
        next: &ResetBudgetRow,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE reset_budgets SET version = $1, hour_start = $2, hour_codes = $3, \
             hour_attempts = $4, day_start = $5, day_codes = $6, day_attempts = $7 \
             WHERE subject_hash = $8 AND version = $9",
        )
        .bind(next.version)
        .bind(next.hour_start)
        .bind(next.hour_codes)
        .bind(next.hour_attempts)
        .bind(next.day_start)
        .bind(next.day_codes)
        .bind(next.day_attempts)
        .bind(subject_hash)
        .bind(version)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Looks a live code up without using it (the new password is hashed only once the code is
    /// known to be right). A wrong code counts an attempt on the live code (5 per code).
    pub async fn live_code(
        &self,
        account_id: &str,
        purpose: &str,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM one_time_codes WHERE account_id = $1 AND purpose = $2 \
             AND code_hash = $3 AND used_at IS NULL AND expires_at > $4 AND attempts < 5",
        )
        .bind(account_id)
        .bind(purpose)
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        if found.is_none() {
            sqlx::query(
                "UPDATE one_time_codes SET attempts = attempts + 1 WHERE account_id = $1 \
                 AND purpose = $2 AND used_at IS NULL",
            )
            .bind(account_id)
            .bind(purpose)
            .execute(&self.writer)
            .await?;
        }
        Ok(found.map(|(id,)| id))
    }

    /// A password reset, in one transaction: the code is used (still live and unused, else
    /// nothing happens and `None` comes back), the new hash is set, every browser session of
    /// the account ends and every token is revoked.
    pub async fn reset_password(
        &self,
        account_id: &str,
        code_id: &str,
        hash: &str,
        now: i64,
    ) -> Result<Option<Ended>, StoreError> {
        let mut tx = self.begin().await?;
        let used = sqlx::query(
            "UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND account_id = $3 \
             AND used_at IS NULL AND expires_at > $1",
        )
        .bind(now)
        .bind(code_id)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(None);
        }
        let ended = new_password_in(&mut tx, account_id, hash, None, "reset", now).await?;
        tx.commit().await?;
        Ok(Some(ended))
    }

    /// A password change by the signed-in holder, in one transaction: the new hash, every
    /// OTHER browser session of the account ended (the one making the change, `keep_session`,
    /// stays), every token revoked.
    pub async fn change_password(
        &self,
        account_id: &str,
        hash: &str,
        keep_session: &str,
        now: i64,
    ) -> Result<Ended, StoreError> {
        let mut tx = self.begin().await?;
        let ended = new_password_in(
            &mut tx,
            account_id,
            hash,
            Some(keep_session),
            "self_service",
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(ended)
    }
}

/// What a new password ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// Browser sessions ended.
    pub sessions: u64,
    /// Access and refresh tokens revoked.
    pub tokens: u64,
}

/// A password-reset budget as stored (see `accounts::reset`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ResetBudgetRow {
    pub version: i64,
    pub hour_start: i64,
    pub hour_codes: i64,
    pub hour_attempts: i64,
    pub day_start: i64,
    pub day_codes: i64,
    pub day_attempts: i64,
}

/// Sets a new password hash inside the caller's transaction and ends what the old password
/// opened: browser sessions (but `keep_session`), access and refresh tokens, unredeemed
/// authorization codes, and unused reset codes. Audited as `password_changed`.
async fn new_password_in(
    conn: &mut AnyConnection,
    account_id: &str,
    hash: &str,
    keep_session: Option<&str>,
    via: &str,
    now: i64,
) -> Result<Ended, StoreError> {
    sqlx::query(
        "UPDATE accounts SET password_hash = $1, must_change_password = 0, failed_logins = 0, \
         locked_until = NULL, updated_at = $2 WHERE id = $3",
    )
    .bind(hash)
    .bind(now)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    super::sessions::logout_notices_for_account(conn, account_id, keep_session, now).await?;
    let sessions =
        sqlx::query("DELETE FROM browser_sessions WHERE account_id = $1 AND id_hash <> $2")
            .bind(account_id)
            .bind(keep_session.unwrap_or(""))
            .execute(&mut *conn)
            .await?
            .rows_affected();
    let tokens = sqlx::query(
        "UPDATE tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM auth_codes WHERE account_id = $1 AND used_at IS NULL")
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE one_time_codes SET used_at = $1 WHERE account_id = $2 AND purpose = 'password_reset' \
         AND used_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    let event = AuditEvent {
        kind: "password_changed",
        account_id: Some(account_id),
        client_id: None,
        detail: serde_json::json!({ "via": via, "sessions_ended": sessions, "tokens_revoked": tokens }),
    };
    audit_in(&mut *conn, event, now).await?;
    Ok(Ended { sessions, tokens })
}
