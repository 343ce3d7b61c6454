//! Registration officers, their sessions, and the desk's verifications and enrolments.

use super::accounts::{insert_account, insert_document};
use super::audit::{AuditEvent, audit_in};
use super::outbox::{OutboxRow, enqueue};
use super::{AccountRow, NewAccount, NewDocument, Store, StoreError, unique};

/// An officer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OfficerRow {
    pub id: String,
    pub username: String,
    pub name: String,
    pub station: String,
    pub role: String,
    pub password_hash: String,
    pub totp_secret: String,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
    /// Wrong TOTP codes since the last good one (the second factor's own counter).
    pub totp_failures: i64,
    /// The second factor is locked until this time.
    pub totp_locked_until: Option<i64>,
}

const OFFICER_COLUMNS: &str = "id, username, name, station, role, password_hash, totp_secret, \
    failed_logins, locked_until, totp_failures, totp_locked_until";

/// A matched verification done at the desk (evidence JSON, scores included: never shown on a
/// page nor released), bound to the officer, station and desk session that made it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerificationRow {
    pub id: String,
    pub officer_id: String,
    pub id_number: String,
    pub evidence: String,
    pub station: String,
    /// The desk session (its cookie's hash) it was made in.
    pub session_hash: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// What an enrolment writes.
pub struct Enrolment<'a> {
    pub verification_id: &'a str,
    pub officer_id: &'a str,
    pub station: &'a str,
    /// The desk session the verification must have been made in.
    pub session_hash: &'a str,
    /// A new account, or the id of the account to upgrade.
    pub account: Result<NewAccount, String>,
    pub documents: &'a [NewDocument],
    pub totp_secret_sealed: &'a str,
    pub evidence: &'a str,
    pub notification: OutboxRow,
    /// The fingerprint templates captured, each sealed: (modality, sealed template).
    pub fingerprints: &'a [(String, String)],
    /// The capture device.
    pub device: &'a str,
    /// The portrait photo captured at the desk, sealed (it replaces the account's).
    pub portrait_sealed: Option<&'a str>,
    /// Under 14: the parent or guardian who requested it, and their notice.
    pub guardian: Option<GuardianLink>,
}

/// The recorded parent or guardian who requested a child's enrolment at the desk.
pub struct GuardianLink {
    pub guardian_account_id: String,
    /// `father`, `mother` or `guardian`.
    pub relation: &'static str,
    pub notice: Option<OutboxRow>,
}

impl Store {
    /// Registers an officer.
    pub async fn insert_officer(&self, o: &OfficerRow, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO officers (id, username, name, station, role, password_hash, totp_secret, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&o.id)
        .bind(&o.username)
        .bind(&o.name)
        .bind(&o.station)
        .bind(&o.role)
        .bind(&o.password_hash)
        .bind(&o.totp_secret)
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(unique("an officer with this username"))?;
        Ok(())
    }

    /// The officer with this username.
    pub async fn officer_by_username(
        &self,
        username: &str,
    ) -> Result<Option<OfficerRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFICER_COLUMNS} FROM officers WHERE username = $1"
        )))
        .bind(username)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Counts an officer's wrong password; locks password attempts at `threshold`. Returns the
    /// failures counted so far.
    pub async fn officer_failed_login(
        &self,
        id: &str,
        threshold: i64,
        lock_until: i64,
    ) -> Result<i64, StoreError> {
        let (count,): (i64,) = sqlx::query_as(
            "UPDATE officers SET failed_logins = failed_logins + 1, \
             locked_until = CASE WHEN failed_logins + 1 >= $1 THEN $2 ELSE locked_until END WHERE id = $3 \
             RETURNING failed_logins",
        )
        .bind(threshold)
        .bind(lock_until)
        .bind(id)
        .fetch_one(&self.writer)
        .await?;
        Ok(count)
    }

    /// Counts one second-factor attempt before its code is checked, unless the second factor is
    /// locked at `now` (then `None`: refuse without checking). The count reaching `threshold`
    /// locks the second factor until `lock_until`; only [`Store::officer_totp_step`] (a correct
    /// code) resets it. Counting first means concurrent guesses never exceed the budget.
    /// Returns the failures counted so far, this attempt included.
    pub async fn officer_code_attempt(
        &self,
        id: &str,
        threshold: i64,
        lock_until: i64,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let count: Option<(i64,)> = sqlx::query_as(
            "UPDATE officers SET totp_failures = totp_failures + 1, \
             totp_locked_until = CASE WHEN totp_failures + 1 >= $1 THEN $2 ELSE totp_locked_until END \
             WHERE id = $3 AND (totp_locked_until IS NULL OR totp_locked_until <= $4) RETURNING totp_failures",
        )
        .bind(threshold)
        .bind(lock_until)
        .bind(id)
        .bind(now)
        .fetch_optional(&self.writer)
        .await?;
        Ok(count.map(|(n,)| n))
    }

    /// Accepts an officer's TOTP step once; clears both failure counters and locks.
    pub async fn officer_totp_step(&self, id: &str, step: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE officers SET totp_last_step = $1, failed_logins = 0, locked_until = NULL, \
             totp_failures = 0, totp_locked_until = NULL WHERE id = $2 AND totp_last_step < $1",
        )
        .bind(step)
        .bind(id)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Opens an officer's session.
    pub async fn create_desk_session(
        &self,
        id_hash: &str,
        csrf: &str,
        officer_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO desk_sessions (id_hash, csrf, officer_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(id_hash)
            .bind(csrf)
            .bind(officer_id)
            .bind(now)
            .bind(expires_at)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The officer and CSRF token of a live desk session.
    pub async fn desk_session(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<(OfficerRow, String)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT officer_id, csrf FROM desk_sessions WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some((officer_id, csrf)) = row else {
            return Ok(None);
        };
        let officer: Option<OfficerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {OFFICER_COLUMNS} FROM officers WHERE id = $1"
        )))
        .bind(officer_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(officer.map(|o| (o, csrf)))
    }

    /// Ends a desk session.
    pub async fn delete_desk_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM desk_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Records a verification, matched or not, with its audit event (`desk_verification`, whose
    /// detail the caller gives): only a matched one is kept for an enrolment.
    pub async fn record_verification(
        &self,
        matched: Option<&VerificationRow>,
        capture_sealed: Option<&str>,
        event: AuditEvent<'_>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        if let Some(v) = matched {
            sqlx::query(
                "INSERT INTO desk_verifications (id, officer_id, id_number, evidence, station, session_hash, \
                 created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(&v.id)
            .bind(&v.officer_id)
            .bind(&v.id_number)
            .bind(&v.evidence)
            .bind(&v.station)
            .bind(&v.session_hash)
            .bind(now)
            .bind(v.expires_at)
            .execute(&mut *tx)
            .await?;
            if let Some(sealed) = capture_sealed {
                sqlx::query(
                    "INSERT INTO desk_captures (verification_id, capture_sealed) VALUES ($1, $2)",
                )
                .bind(&v.id)
                .bind(sealed)
                .execute(&mut *tx)
                .await?;
            }
        }
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The sealed capture kept with a matched verification.
    pub async fn verification_capture(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT capture_sealed FROM desk_captures WHERE verification_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|r| r.0))
    }

    /// The fingers whose templates an account keeps (modality names; the templates stay
    /// sealed in the store).
    pub async fn fingerprint_modalities(
        &self,
        account_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT modality FROM fingerprint_templates WHERE account_id = $1 ORDER BY modality",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// A verification by id, whatever its state (the rules decide whether it may be used).
    pub async fn verification(&self, id: &str) -> Result<Option<VerificationRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, officer_id, id_number, evidence, station, session_hash, expires_at, used_at \
             FROM desk_verifications WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The audit events that name `officer_id` (`"officer": id` in their detail), oldest first.
    pub async fn officer_audit(
        &self,
        officer_id: &str,
    ) -> Result<Vec<(i64, String, Option<String>, String)>, StoreError> {
        let pattern = format!(
            "%{}%",
            serde_json::json!({ "officer": officer_id })
                .to_string()
                .trim_matches(['{', '}'])
        );
        Ok(sqlx::query_as(
            "SELECT at, kind, account_id, detail FROM audit_events WHERE detail LIKE $1 ORDER BY at, id",
        )
        .bind(pattern)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Creates the Level 2 account or upgrades the Level 1 one, integrates the documents, binds
    /// the second factor, uses up the verification, audits and notifies: one transaction.
    /// Returns the account id.
    pub async fn enrol_level2(&self, e: Enrolment<'_>, now: i64) -> Result<String, StoreError> {
        let mut tx = self.begin().await?;
        let used = sqlx::query(
            "UPDATE desk_verifications SET used_at = $1 WHERE id = $2 AND used_at IS NULL \
             AND expires_at > $1 AND officer_id = $3 AND station = $4 AND session_hash = $5",
        )
        .bind(now)
        .bind(e.verification_id)
        .bind(e.officer_id)
        .bind(e.station)
        .bind(e.session_hash)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(StoreError::Duplicate("an enrolment for this verification"));
        }
        let account_id = match &e.account {
            Ok(new) => {
                insert_account(&mut tx, new, &[], now).await?;
                super::accounts::mark_contacts_unverified(&mut tx, &new.id).await?;
                new.id.clone()
            }
            Err(existing) => existing.clone(),
        };
        sqlx::query(
            "UPDATE accounts SET level = 2, totp_secret = $1, totp_last_step = 0, verification_evidence = $2, \
             verified_at = $3, updated_at = $3 WHERE id = $4",
        )
        .bind(e.totp_secret_sealed)
        .bind(e.evidence)
        .bind(now)
        .bind(&account_id)
        .execute(&mut *tx)
        .await?;
        // A binding at the desk replaces every possession factor bound before it (a lost
        // phone's passkey must not outlive the new code).
        sqlx::query("DELETE FROM passkeys WHERE account_id = $1")
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
        for doc in e.documents {
            sqlx::query(
                "DELETE FROM documents WHERE account_id = $1 AND doc_type = $2 AND number = $3",
            )
            .bind(&account_id)
            .bind(&doc.doc_type)
            .bind(&doc.number)
            .execute(&mut *tx)
            .await?;
            insert_document(&mut tx, &account_id, doc, now).await?;
        }
        // The fingers captured replace the ones kept before; the capture is used up.
        if !e.fingerprints.is_empty() {
            sqlx::query("DELETE FROM fingerprint_templates WHERE account_id = $1")
                .bind(&account_id)
                .execute(&mut *tx)
                .await?;
        }
        for (modality, sealed) in e.fingerprints {
            sqlx::query(
                "INSERT INTO fingerprint_templates (account_id, modality, template_sealed, device, \
                 captured_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&account_id)
            .bind(modality)
            .bind(sealed)
            .bind(e.device)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(portrait) = e.portrait_sealed {
            sqlx::query("UPDATE accounts SET portrait_jpeg = $1 WHERE id = $2")
                .bind(portrait)
                .bind(&account_id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query("DELETE FROM desk_captures WHERE verification_id = $1")
            .bind(e.verification_id)
            .execute(&mut *tx)
            .await?;
        if let Some(g) = &e.guardian {
            super::insert_guardianship(
                &mut tx,
                &account_id,
                &g.guardian_account_id,
                g.relation,
                e.verification_id,
                now,
            )
            .await?;
            if let Some(notice) = &g.notice {
                enqueue(&mut tx, notice).await?;
            }
        }
        let mut notification = e.notification;
        notification.account_id = Some(account_id.clone());
        enqueue(&mut tx, &notification).await?;
        let event = AuditEvent {
            kind: "level2_enrolled",
            account_id: Some(&account_id),
            client_id: None,
            detail: serde_json::json!({ "officer": e.officer_id, "station": e.station, "verification": e.verification_id, "documents": e.documents.len(),
                "fingers": e.fingerprints.len(), "portrait": e.portrait_sealed.is_some(),
                "guardian": e.guardian.as_ref().map(|g| g.guardian_account_id.clone()) }),
        };
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(account_id)
    }

    /// Sets an account's status as an officer, with its audit event and no notice (see
    /// [`Store::change_account_status`]); locking or revoking ends its sessions and tokens.
    pub async fn set_account_status(
        &self,
        account: &AccountRow,
        status: &str,
        officer_id: &str,
        station: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.change_account_status(
            super::lifecycle::StatusChange {
                account_id: &account.id,
                from: &account.status,
                to: status,
                detail: serde_json::json!({ "officer": officer_id, "station": station }),
                notice: None,
            },
            now,
        )
        .await?;
        Ok(())
    }
}
