//! The account lifecycle's writes: a status change or a downgrade, its audit event and the
//! holder's notice, in one transaction each.

use super::audit::{AuditEvent, audit_in};
use super::outbox::{OutboxRow, enqueue};
use super::{Store, StoreError};

/// A status change to write.
pub struct StatusChange<'a> {
    pub account_id: &'a str,
    /// The status the rules saw: the change applies only if the account still has it (two
    /// officers at once, or a revocation in between, leave nothing half-done).
    pub from: &'a str,
    pub to: &'a str,
    /// The audit detail's extra members (`officer`, `station`, `actor`, ...).
    pub detail: serde_json::Value,
    /// The notice to the contact on record, if there is one.
    pub notice: Option<OutboxRow>,
}

/// A downgrade to write.
pub struct Downgrade<'a> {
    pub account_id: &'a str,
    pub to_level: i64,
    pub detail: serde_json::Value,
    pub notice: Option<OutboxRow>,
}

impl Store {
    /// Changes an account's status if it still is `from` (never from `revoked`), with its audit
    /// event (`account_status_changed`) and notice; leaving `active` ends its sessions and tokens
    /// at once. Returns whether the change was made.
    pub async fn change_account_status(
        &self,
        change: StatusChange<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE accounts SET status = $1, updated_at = $2 WHERE id = $3 AND status = $4 \
             AND status <> 'revoked'",
        )
        .bind(change.to)
        .bind(now)
        .bind(change.account_id)
        .bind(change.from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if change.to != "active" {
            // Its relying parties hear of each session's end (back-channel logout).
            super::sessions::logout_notices_for_account(&mut tx, change.account_id, None, now)
                .await?;
            sqlx::query("DELETE FROM browser_sessions WHERE account_id = $1")
                .bind(change.account_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE tokens SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(change.account_id)
            .execute(&mut *tx)
            .await?;
        }
        let mut detail = change.detail;
        if let Some(map) = detail.as_object_mut() {
            map.insert("status".into(), change.to.into());
            map.insert("previous".into(), change.from.into());
        }
        audit_in(
            &mut *tx,
            AuditEvent {
                kind: "account_status_changed",
                account_id: Some(change.account_id),
                client_id: None,
                detail,
            },
            now,
        )
        .await?;
        if let Some(mut notice) = change.notice {
            notice.account_id = Some(change.account_id.to_string());
            enqueue(&mut tx, &notice).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Lowers a Level 2 account to `to_level`, with its audit event (`account_downgraded`) and
    /// notice. Access tokens issued at the old level are revoked at once (their holder refreshes
    /// and gets the capped level); sessions and refresh grants are capped when next used.
    /// Returns whether the account was Level 2 and not revoked (else nothing is written).
    pub async fn downgrade_account(&self, d: Downgrade<'_>, now: i64) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE accounts SET level = $1, updated_at = $2 WHERE id = $3 AND level = 2 \
             AND kind <> 'organization' AND status <> 'revoked'",
        )
        .bind(d.to_level)
        .bind(now)
        .bind(d.account_id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE account_id = $2 AND kind = 'access' \
             AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(d.account_id)
        .execute(&mut *tx)
        .await?;
        let mut detail = d.detail;
        if let Some(map) = detail.as_object_mut() {
            map.insert("level".into(), d.to_level.into());
        }
        audit_in(
            &mut *tx,
            AuditEvent {
                kind: "account_downgraded",
                account_id: Some(d.account_id),
                client_id: None,
                detail,
            },
            now,
        )
        .await?;
        if let Some(mut notice) = d.notice {
            notice.account_id = Some(d.account_id.to_string());
            enqueue(&mut tx, &notice).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
