//! Access and refresh tokens: opaque, stored hashed, revocable at once.

use sqlx::AnyConnection;

use super::{Store, StoreError};

/// Which kind of token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A bearer token for UserInfo.
    Access,
    /// A refresh token (`offline_access`), rotated at every use.
    Refresh,
}

impl TokenKind {
    fn as_str(self) -> &'static str {
        match self {
            TokenKind::Access => "access",
            TokenKind::Refresh => "refresh",
        }
    }
}

/// A token to store. `family` is the hash of the code it descends from: replaying that code, or
/// reusing a rotated refresh token, revokes the whole family.
#[derive(Debug)]
pub struct NewToken<'a> {
    pub token_hash: &'a str,
    pub kind: TokenKind,
    pub client_id: &'a str,
    pub account_id: &'a str,
    pub grant_data: &'a str,
    pub family: &'a str,
    pub expires_at: i64,
    /// The JWK thumbprint of the DPoP key the token is bound to (RFC 9449), if any.
    pub dpop_jkt: Option<&'a str>,
}

/// A live token as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub client_id: String,
    pub account_id: String,
    pub grant_data: String,
    pub code_hash: Option<String>,
    pub expires_at: i64,
    /// The DPoP key thumbprint the token is bound to; `None` for a bearer token.
    pub dpop_jkt: Option<String>,
}

/// Writes a token inside the caller's transaction.
pub async fn insert_token(
    conn: &mut AnyConnection,
    token: &NewToken<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tokens (token_hash, kind, client_id, account_id, grant_data, code_hash, \
         expires_at, created_at, dpop_jkt) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token.token_hash)
    .bind(token.kind.as_str())
    .bind(token.client_id)
    .bind(token.account_id)
    .bind(token.grant_data)
    .bind(token.family)
    .bind(token.expires_at)
    .bind(now)
    .bind(token.dpop_jkt)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Revokes every token descending from one code.
pub async fn revoke_family(
    conn: &mut AnyConnection,
    family: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE code_hash = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(family)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// What presenting a refresh token did.
#[derive(Debug)]
pub enum RefreshUse {
    /// Fresh: now used, to be replaced.
    Rotated(TokenRow),
    /// Used before: its family is revoked.
    Replayed,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Uses a refresh token once, inside the caller's transaction.
pub async fn take_refresh_token(
    conn: &mut AnyConnection,
    token_hash: &str,
    now: i64,
) -> Result<RefreshUse, StoreError> {
    let row: Option<TokenRow> = sqlx::query_as(
        "UPDATE tokens SET used_at = $1 WHERE token_hash = $2 AND kind = 'refresh' \
         AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
         AND account_id IN (SELECT id FROM accounts WHERE status = 'active') \
         RETURNING client_id, account_id, grant_data, code_hash, expires_at, dpop_jkt",
    )
    .bind(now)
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = row {
        return Ok(RefreshUse::Rotated(row));
    }
    let used: Option<(Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT used_at, code_hash FROM tokens WHERE token_hash = $1 AND kind = 'refresh'",
    )
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await?;
    match used {
        Some((Some(_), Some(family))) => {
            revoke_family(conn, &family, now).await?;
            Ok(RefreshUse::Replayed)
        }
        _ => Ok(RefreshUse::Invalid),
    }
}

impl Store {
    /// The live access token with this hash, if its account is still active.
    pub async fn access_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<TokenRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT t.client_id, t.account_id, t.grant_data, t.code_hash, t.expires_at, \
             t.dpop_jkt FROM tokens t JOIN accounts a ON a.id = t.account_id \
             WHERE t.token_hash = $1 AND t.kind = 'access' AND t.revoked_at IS NULL \
             AND t.expires_at > $2 AND a.status = 'active'",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }
}

impl Store {
    /// Records a DPoP proof's `jti` for its key until `expires_at`; false when it was seen
    /// before (a replay).
    pub async fn use_dpop_jti(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO dpop_proofs (jkt, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (jkt, jti) DO NOTHING",
        )
        .bind(jkt)
        .bind(jti)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
