//! Browser sessions at the provider. The cookie holds a random id; the table holds its hash.

use super::{Store, StoreError};

/// A browser session; `account_id` is set once somebody has logged in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub csrf: String,
    pub account_id: Option<String>,
    pub level: Option<i64>,
    pub amr: Option<String>,
    pub auth_time: Option<i64>,
}

/// Who logged in, how, and when: what a login writes into a fresh session.
#[derive(Debug, Clone)]
pub struct SessionLogin<'a> {
    pub account_id: &'a str,
    pub level: i64,
    pub amr: &'a str,
    pub auth_time: i64,
}

impl Store {
    /// Starts an anonymous session (it carries the CSRF token of the login form).
    pub async fn create_session(
        &self,
        id_hash: &str,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO browser_sessions (id_hash, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this id hash.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id_hash, csrf, account_id, level, amr, auth_time FROM browser_sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Replaces a session with a new one holding a login: the session id changes at every login
    /// (no fixation), in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn renew_session(
        &self,
        old_id_hash: &str,
        new_id_hash: &str,
        csrf: &str,
        login: &SessionLogin<'_>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
            .bind(old_id_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO browser_sessions (id_hash, csrf, account_id, level, amr, auth_time, \
             created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id_hash)
        .bind(csrf)
        .bind(login.account_id)
        .bind(login.level)
        .bind(login.amr)
        .bind(login.auth_time)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a session (logout).
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
