//! Authorization requests in progress: everything a login needs between the relying party's
//! redirect and ours lives here, so any provider process can finish what another started.

use super::{Store, StoreError};

impl Store {
    /// Saves a validated request (its parameters as JSON).
    pub async fn insert_request(
        &self,
        id: &str,
        client_id: &str,
        params: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO auth_requests (id, client_id, params, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(client_id)
        .bind(params)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The live request: its parameters and whether a login was completed for it.
    pub async fn request(&self, id: &str, now: i64) -> Result<Option<(String, bool)>, StoreError> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "SELECT params, login_done FROM auth_requests WHERE id = $1 AND expires_at > $2",
        )
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(params, done)| (params, done != 0)))
    }

    /// Notes that the citizen logged in for this request (so `prompt=login` is satisfied).
    pub async fn mark_login_done(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE auth_requests SET login_done = 1 WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Ends a request that was answered with an error.
    pub async fn delete_request(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM auth_requests WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// Saves a pushed authorization request (RFC 9126), validated, under the hash of its
    /// `request_uri`.
    pub async fn insert_pushed_request(
        &self,
        request_uri_hash: &str,
        client_id: &str,
        params: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pushed_requests (request_uri_hash, client_id, params, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(request_uri_hash)
        .bind(client_id)
        .bind(params)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Takes a pushed request once: it is deleted whatever the outcome, and returned only when
    /// it belongs to `client_id` and has not expired.
    pub async fn take_pushed_request(
        &self,
        request_uri_hash: &str,
        client_id: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "DELETE FROM pushed_requests WHERE request_uri_hash = $1 \
             RETURNING client_id, params, expires_at",
        )
        .bind(request_uri_hash)
        .fetch_optional(&self.writer)
        .await?;
        Ok(row
            .filter(|(owner, _, expires_at)| owner == client_id && *expires_at > now)
            .map(|(_, params, _)| params))
    }
}
