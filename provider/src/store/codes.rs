//! Authorization codes: single use, short-lived, stored hashed.

use sqlx::AnyConnection;

use super::{Store, StoreError};

/// A code as stored; `grant_data` is the JSON of what was granted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRow {
    pub client_id: String,
    pub account_id: String,
    pub grant_data: String,
}

/// What presenting a code did.
#[derive(Debug)]
pub enum CodeUse {
    /// The code was fresh; it is now used.
    Redeemed(CodeRow),
    /// The code had been used before: what was issued from it has been revoked.
    Replayed,
    /// No such code, or it expired.
    Invalid,
}

/// A code to issue at the end of a login.
#[derive(Debug)]
pub struct NewCode<'a> {
    pub code_hash: &'a str,
    pub client_id: &'a str,
    pub account_id: &'a str,
    pub grant_data: &'a str,
    pub expires_at: i64,
}

impl Store {
    /// Ends an authorization request with a code, in one transaction: the code is written, the
    /// request deleted (so it cannot yield a second code), the consent (the items shown) remembered when given.
    pub async fn issue_code(
        &self,
        request_id: Option<&str>,
        code: &NewCode<'_>,
        consent: Option<&super::consents::ConsentGiven<'_>>,
        now: i64,
    ) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO auth_codes (code_hash, client_id, account_id, grant_data, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code.code_hash)
        .bind(code.client_id)
        .bind(code.account_id)
        .bind(code.grant_data)
        .bind(code.expires_at);
        if request_id.is_none() && consent.is_none() {
            // One statement (a single sign-on): atomic on its own, without the two more round
            // trips of BEGIN and COMMIT.
            insert.execute(&self.writer).await?;
            return Ok(());
        }
        let mut tx = self.begin().await?;
        if let Some(id) = request_id {
            let done = sqlx::query("DELETE FROM auth_requests WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            if done.rows_affected() == 0 {
                // Finished already (a double submit): issue nothing.
                return Err(StoreError::Duplicate("a code for this request"));
            }
        }
        insert.execute(&mut *tx).await?;
        if let Some(given) = consent {
            super::consents::remember_consent_in(
                &mut tx,
                code.account_id,
                code.client_id,
                given,
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Marks a code used, inside the caller's transaction, so the tokens issued from it are written
/// in the same commit. A second presentation finds it used and revokes those tokens.
pub async fn take_code(
    conn: &mut AnyConnection,
    code_hash: &str,
    now: i64,
) -> Result<CodeUse, StoreError> {
    let row: Option<CodeRow> = sqlx::query_as(
        "UPDATE auth_codes SET used_at = $1 \
         WHERE code_hash = $2 AND used_at IS NULL AND expires_at > $1 \
         RETURNING client_id, account_id, grant_data",
    )
    .bind(now)
    .bind(code_hash)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = row {
        return Ok(CodeUse::Redeemed(row));
    }
    let used: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT used_at FROM auth_codes WHERE code_hash = $1")
            .bind(code_hash)
            .fetch_optional(&mut *conn)
            .await?;
    match used {
        Some((Some(_),)) => {
            super::tokens::revoke_family(conn, code_hash, now).await?;
            Ok(CodeUse::Replayed)
        }
        _ => Ok(CodeUse::Invalid),
    }
}
