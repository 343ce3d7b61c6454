//! Revocation (RFC 7009) and introspection (RFC 7662): a token looked up by its hash, whatever
//! its kind, and revoked with its family.

use super::{Store, StoreError};

/// A token as the introspection and revocation endpoints see it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IssuedToken {
    /// `access` or `refresh`.
    pub kind: String,
    pub client_id: String,
    pub account_id: String,
    pub grant_data: String,
    /// The family: the hash of the code the token descends from.
    pub code_hash: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
    /// The DPoP key thumbprint it is bound to (RFC 9449), if any.
    pub dpop_jkt: Option<String>,
    /// Whether it is live: not revoked, not expired, not a rotated-out refresh token, and its
    /// account active (1 or 0).
    pub live: i64,
}

impl Store {
    /// The token with this hash, live or not.
    pub async fn issued_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<IssuedToken>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT t.kind, t.client_id, t.account_id, t.grant_data, t.code_hash, t.expires_at, \
             t.created_at, t.dpop_jkt, CASE WHEN t.revoked_at IS NULL AND t.used_at IS NULL \
             AND t.expires_at > $2 AND a.status = 'active' THEN 1 ELSE 0 END AS live \
             FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.token_hash = $1",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Revokes one token of `client_id`; a refresh token takes its whole family (the tokens
    /// descending from the same code) with it, in one transaction. Returns how many tokens went.
    pub async fn revoke_token(
        &self,
        token_hash: &str,
        client_id: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let found: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT kind, code_hash FROM tokens WHERE token_hash = $1 AND client_id = $2",
        )
        .bind(token_hash)
        .bind(client_id)
        .fetch_optional(&mut *tx)
        .await?;
        let done = match found {
            None => 0,
            Some((kind, Some(family))) if kind == "refresh" => sqlx::query(
                "UPDATE tokens SET revoked_at = $1 \
                 WHERE code_hash = $2 AND client_id = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(family)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
            Some(_) => sqlx::query(
                "UPDATE tokens SET revoked_at = $1 \
                 WHERE token_hash = $2 AND client_id = $3 AND revoked_at IS NULL",
            )
            .bind(now)
            .bind(token_hash)
            .bind(client_id)
            .execute(&mut *tx)
            .await?
            .rows_affected(),
        };
        tx.commit().await?;
        Ok(done)
    }
}
