//! Passkeys (WebAuthn credentials) and the ceremonies between their two requests.

use super::audit::audit_in;
use super::{AuditEvent, Store, StoreError, unique};

/// A passkey bound to an account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: String,
    pub account_id: String,
    /// The credential id, base64url.
    pub credential_id: String,
    /// webauthn-rs's serialised `Passkey` (JSON).
    pub credential: String,
    /// The authenticator's signature counter last seen.
    pub counter: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A passkey to bind.
#[derive(Debug, Clone)]
pub struct NewPasskey<'a> {
    pub account_id: &'a str,
    pub credential_id: &'a str,
    pub credential: &'a str,
    pub counter: i64,
    pub name: &'a str,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Binding a new passkey.
    Register,
    /// Proving possession of a bound passkey.
    Authenticate,
}

impl CeremonyKind {
    fn as_str(self) -> &'static str {
        match self {
            CeremonyKind::Register => "register",
            CeremonyKind::Authenticate => "authenticate",
        }
    }
}

/// A ceremony taken out of the database (it is gone from there).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CeremonyRow {
    pub account_id: String,
    pub session_hash: String,
    /// webauthn-rs's serialised ceremony state (JSON).
    pub state: String,
}

/// A successful assertion, to record.
#[derive(Debug, Clone)]
pub struct PasskeyUse<'a> {
    pub account_id: &'a str,
    pub credential_id: &'a str,
    /// The credential with the library's updates (counter, backup state).
    pub credential: &'a str,
    /// The counter before the assertion (compare-and-set) and after.
    pub counter_before: i64,
    pub counter_after: i64,
}

const PASSKEY_COLUMNS: &str =
    "id, account_id, credential_id, credential, counter, name, created_at, last_used_at";

impl Store {
    /// The passkeys of an account, oldest first.
    pub async fn passkeys(&self, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE account_id = $1 \
             ORDER BY created_at, id"
        )))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many passkeys an account has.
    pub async fn passkey_count(&self, account_id: &str) -> Result<i64, StoreError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM passkeys WHERE account_id = $1")
            .bind(account_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Binds a passkey, with its audit event, in one transaction. A credential id bound
    /// already (to this account or another) is refused.
    pub async fn insert_passkey(
        &self,
        passkey: &NewPasskey<'_>,
        event: AuditEvent<'_>,
        now: i64,
    ) -> Result<String, StoreError> {
        let id = crate::secret::new_id();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO passkeys (id, account_id, credential_id, credential, counter, name, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(passkey.account_id)
        .bind(passkey.credential_id)
        .bind(passkey.credential)
        .bind(passkey.counter)
        .bind(passkey.name)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(unique("passkey"))?;
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Removes one passkey of an account, with its audit event; `false` if there was none.
    pub async fn remove_passkey(
        &self,
        account_id: &str,
        id: &str,
        event: AuditEvent<'_>,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        audit_in(&mut *tx, event, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records an assertion: the new credential state and counter, only if the counter is
    /// still the one the assertion was checked against (a concurrent use, or a cloned
    /// authenticator, makes it fail).
    pub async fn use_passkey(&self, used: &PasskeyUse<'_>, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE passkeys SET credential = $1, counter = $2, last_used_at = $3 \
             WHERE account_id = $4 AND credential_id = $5 AND counter = $6",
        )
        .bind(used.credential)
        .bind(used.counter_after)
        .bind(now)
        .bind(used.account_id)
        .bind(used.credential_id)
        .bind(used.counter_before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Keeps a ceremony's state until `expires_at`, under the hash of its id.
    pub async fn insert_ceremony(
        &self,
        id_hash: &str,
        kind: CeremonyKind,
        account_id: &str,
        session_hash: &str,
        state: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO passkey_ceremonies (id_hash, kind, account_id, session_hash, state, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id_hash)
        .bind(kind.as_str())
        .bind(account_id)
        .bind(session_hash)
        .bind(state)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Takes a live ceremony of this kind: it is deleted whatever comes next, so its challenge
    /// answers once. `None`: unknown, used, expired, or of the other kind.
    pub async fn take_ceremony(
        &self,
        id_hash: &str,
        kind: CeremonyKind,
        now: i64,
    ) -> Result<Option<CeremonyRow>, StoreError> {
        Ok(sqlx::query_as(
            "DELETE FROM passkey_ceremonies WHERE id_hash = $1 AND kind = $2 AND expires_at > $3 \
             RETURNING account_id, session_hash, state",
        )
        .bind(id_hash)
        .bind(kind.as_str())
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }
}
