//! Accounts, their integrated documents and the organisations they represent.

use super::audit::{AuditEvent, audit_in};
use super::outbox::{OutboxRow, enqueue};
use super::{Store, StoreError, unique};

/// The second factor's counter, lock and last used time step, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorRow {
    pub failures: i64,
    pub locked_until: Option<i64>,
    pub last_step: i64,
}

/// An electronic identity account as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountRow {
    pub id: String,
    pub kind: String,
    pub level: i64,
    pub username: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub totp_last_step: i64,
    pub family_name: String,
    pub middle_name: Option<String>,
    pub given_name: String,
    pub birthdate: String,
    pub gender: String,
    pub nationality: Option<String>,
    pub travel_document: Option<String>,
    pub portrait_jpeg: Option<String>,
    pub phone_number: Option<String>,
    pub phone_verified: i64,
    pub email: Option<String>,
    pub email_verified: i64,
    pub verified_at: i64,
    pub verification_evidence: Option<String>,
    pub status: String,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    pub must_change_password: i64,
    /// Wrong second-factor codes in a row (its own counter, never reset by a password).
    pub second_factor_failures: i64,
    /// The second factor is locked until this time.
    pub second_factor_locked_until: Option<i64>,
}

const ACCOUNT_COLUMNS: &str = "id, kind, level, username, password_hash, totp_secret, \
    totp_last_step, family_name, middle_name, given_name, birthdate, gender, nationality, \
    travel_document, portrait_jpeg, phone_number, phone_verified, email, email_verified, \
    verified_at, verification_evidence, status, failed_logins, locked_until, must_change_password, \
    second_factor_failures, second_factor_locked_until";

/// What it takes to create an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub id: String,
    pub kind: String,
    pub level: i64,
    pub username: String,
    pub password_hash: String,
    pub totp_secret: Option<String>,
    pub family_name: String,
    pub middle_name: Option<String>,
    pub given_name: String,
    pub birthdate: String,
    pub gender: String,
    pub nationality: Option<String>,
    pub travel_document: Option<String>,
    pub portrait_jpeg: Option<String>,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    pub verification_evidence: Option<String>,
    /// The password was sent by SMS: the first login must change it.
    pub must_change_password: bool,
    /// The current province code of the permanent residence on record (never the address).
    pub residence_province: Option<String>,
}

/// A document integrated into an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DocumentRow {
    pub doc_type: String,
    pub number: String,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    pub issuer: Option<String>,
    pub details: Option<String>,
}

/// A document to integrate.
pub type NewDocument = DocumentRow;

/// An organisation, with the account of its legal representative.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrganizationRow {
    pub code: String,
    pub name: String,
    pub short_name: Option<String>,
    pub foreign_name: Option<String>,
    pub established_on: String,
    pub head_office_address: String,
    pub representative_account_id: String,
}

impl Store {
    /// Creates an account with its documents, in one transaction.
    pub async fn create_account(
        &self,
        account: &NewAccount,
        documents: &[NewDocument],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        insert_account(&mut tx, account, documents, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account a username (identification number) names.
    pub async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE username = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The account with this id.
    pub async fn account(&self, id: &str) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Records a wrong password; locks the account when `threshold` failures in a row are
    /// reached (a lock that ran out starts the count again). The audit event, and the notice
    /// to the contact on record when this failure locks, are written in the same transaction.
    /// Returns the lock's end when this failure locked the account.
    pub async fn record_failed_login(
        &self,
        account_id: &str,
        threshold: i64,
        now: i64,
        lock_until: i64,
        lock_notice: Option<&OutboxRow>,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin().await?;
        // One statement (right-hand sides see the old row), so concurrent failures cannot both
        // slip under the threshold.
        let row: Option<(i64,)> = sqlx::query_as(
            "UPDATE accounts SET \
             failed_logins = CASE WHEN locked_until IS NOT NULL AND locked_until <= $1 THEN 1 \
                 ELSE failed_logins + 1 END, \
             locked_until = CASE WHEN (CASE WHEN locked_until IS NOT NULL AND locked_until <= $1 \
                 THEN 1 ELSE failed_logins + 1 END) >= $2 THEN $3 ELSE NULL END \
             WHERE id = $4 RETURNING failed_logins",
        )
        .bind(now)
        .bind(threshold)
        .bind(lock_until)
        .bind(account_id)
        .fetch_optional(&mut *tx)
        .await?;
        let locked = match row {
            Some((count,)) if count >= threshold => Some(lock_until),
            _ => None,
        };
        let event = AuditEvent {
            kind: if locked.is_some() {
                "account_locked"
            } else {
                "login_failed"
            },
            account_id: Some(account_id),
            client_id: None,
            detail: serde_json::json!({ "reason": "wrong_password" }),
        };
        audit_in(&mut *tx, event, now).await?;
        if let (Some(_), Some(notice)) = (locked, lock_notice) {
            enqueue(&mut tx, notice).await?;
        }
        tx.commit().await?;
        Ok(locked)
    }

    /// Applies the outcome of a second-factor attempt, if the account's second factor still
    /// stands where the outcome was decided from (compare-and-set: two attempts at once cannot
    /// both count from the same state). With the audit event, and the notice when this attempt
    /// locks, in the same transaction. Returns whether it was applied (if not, decide again).
    pub async fn apply_second_factor(
        &self,
        account_id: &str,
        before: SecondFactorRow,
        after: SecondFactorRow,
        event: Option<AuditEvent<'_>>,
        notice: Option<&OutboxRow>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE accounts SET second_factor_failures = $1, second_factor_locked_until = $2, \
             totp_last_step = $3 WHERE id = $4 AND second_factor_failures = $5 \
             AND COALESCE(second_factor_locked_until, -1) = $6 AND totp_last_step = $7",
        )
        .bind(after.failures)
        .bind(after.locked_until)
        .bind(after.last_step)
        .bind(account_id)
        .bind(before.failures)
        .bind(before.locked_until.unwrap_or(-1))
        .bind(before.last_step)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(event) = event {
            audit_in(&mut *tx, event, now).await?;
        }
        if let Some(notice) = notice {
            enqueue(&mut tx, notice).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Where an account's second factor stands now.
    pub async fn second_factor_state(
        &self,
        account_id: &str,
    ) -> Result<Option<SecondFactorRow>, StoreError> {
        let row: Option<(i64, Option<i64>, i64)> = sqlx::query_as(
            "SELECT second_factor_failures, second_factor_locked_until, totp_last_step \
             FROM accounts WHERE id = $1",
        )
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(
            row.map(|(failures, locked_until, last_step)| SecondFactorRow {
                failures,
                locked_until,
                last_step,
            }),
        )
    }

    /// Clears the failure counter after a good password; a lock that has run out ends with it.
    pub async fn record_good_login(&self, account_id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET failed_logins = 0, locked_until = NULL WHERE id = $1")
            .bind(account_id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Sets a new password (clearing the must-change flag), with its audit event, in one
    /// transaction.
    pub async fn set_password(
        &self,
        account_id: &str,
        hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE accounts SET password_hash = $1, must_change_password = 0, failed_logins = 0, \
             locked_until = NULL, updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        let event = super::AuditEvent {
            kind: "password_changed",
            account_id: Some(account_id),
            client_id: None,
            detail: serde_json::json!({}),
        };
        super::audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The documents integrated into an account.
    pub async fn documents(&self, account_id: &str) -> Result<Vec<DocumentRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT doc_type, number, issued_on, expires_on, issuer, details FROM documents \
             WHERE account_id = $1 ORDER BY doc_type, number",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The organisation this account releases through the `organization` scope: the one
    /// `chosen` on the consent page if it still represents it (not removed, the organisation's
    /// account active), or the only one it represents; with several and no valid choice, none,
    /// never the first by code (`accounts::organization::released`).
    pub async fn organization_of(
        &self,
        account_id: &str,
        chosen: Option<&str>,
    ) -> Result<Option<OrganizationRow>, StoreError> {
        let all = self.organizations_of(account_id).await?;
        let codes: Vec<String> = all.iter().map(|o| o.code.clone()).collect();
        let chosen = crate::accounts::organization::released(&codes, chosen).cloned();
        Ok(chosen.and_then(|c| all.into_iter().find(|o| o.code == c)))
    }
}

pub(super) async fn insert_document(
    exec: &mut sqlx::AnyConnection,
    account_id: &str,
    doc: &NewDocument,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO documents (id, account_id, doc_type, number, issued_on, expires_on, issuer, \
         details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(crate::secret::new_id())
    .bind(account_id)
    .bind(&doc.doc_type)
    .bind(&doc.number)
    .bind(&doc.issued_on)
    .bind(&doc.expires_on)
    .bind(&doc.issuer)
    .bind(&doc.details)
    .bind(now)
    .execute(exec)
    .await?;
    Ok(())
}

/// Creates an account with its documents inside the caller's transaction. A must-change
/// password flag marks a first password sent by SMS.
/// Marks the phone number and email of a new account unverified, inside the caller's
/// transaction: a contact taken from the registry or typed at the desk is verified only when a
/// code sent to it is entered at `/account` (issue 11).
pub async fn mark_contacts_unverified(
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE accounts SET phone_verified = 0, email_verified = 0 WHERE id = $1")
        .bind(account_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn insert_account(
    conn: &mut sqlx::AnyConnection,
    account: &NewAccount,
    documents: &[NewDocument],
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO accounts (id, kind, level, username, password_hash, totp_secret, \
         family_name, middle_name, given_name, birthdate, gender, nationality, travel_document, \
         portrait_jpeg, phone_number, phone_verified, email, email_verified, verified_at, \
         verification_evidence, must_change_password, created_at, updated_at, residence_province) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19, $20, $21, $22, $22, $23)",
    )
    .bind(&account.id)
    .bind(&account.kind)
    .bind(account.level)
    .bind(&account.username)
    .bind(&account.password_hash)
    .bind(&account.totp_secret)
    .bind(&account.family_name)
    .bind(&account.middle_name)
    .bind(&account.given_name)
    .bind(&account.birthdate)
    .bind(&account.gender)
    .bind(&account.nationality)
    .bind(&account.travel_document)
    .bind(&account.portrait_jpeg)
    .bind(&account.phone_number)
    .bind(i64::from(account.phone_number.is_some()))
    .bind(&account.email)
    .bind(i64::from(account.email.is_some()))
    .bind(now)
    .bind(&account.verification_evidence)
    .bind(i64::from(account.must_change_password))
    .bind(now)
    .bind(&account.residence_province)
    .execute(&mut *conn)
    .await
    .map_err(unique("an account with this identification number"))?;
    for doc in documents {
        insert_document(&mut *conn, &account.id, doc, now).await?;
    }
    Ok(())
}
