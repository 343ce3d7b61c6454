//! Clients acting for themselves: the API permissions a client holds (`registration` for the
//! national app) and the access tokens of the client-credentials grant, stored hashed.

use super::{Store, StoreError};

/// A live client-credentials token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientTokenRow {
    pub client_id: String,
    /// Space-separated API scopes granted when the token was issued.
    pub scopes: String,
    pub expires_at: i64,
}

impl Store {
    /// The API scopes this client holds, sorted.
    pub async fn client_api_scopes(&self, client_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT scope FROM client_api_scopes WHERE client_id = $1 ORDER BY scope",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s,)| s).collect())
    }

    /// Gives a client these API scopes (those it holds already stay), in one transaction.
    pub async fn grant_client_api_scopes(
        &self,
        client_id: &str,
        scopes: &[&str],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for scope in scopes {
            sqlx::query(
                "INSERT INTO client_api_scopes (client_id, scope) VALUES ($1, $2) \
                 ON CONFLICT (client_id, scope) DO NOTHING",
            )
            .bind(client_id)
            .bind(*scope)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Takes an API scope away from a client; its tokens stop carrying it at once (each use
    /// checks the client's current scopes). Returns whether the client held it.
    pub async fn revoke_client_api_scope(
        &self,
        client_id: &str,
        scope: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM client_api_scopes WHERE client_id = $1 AND scope = $2")
            .bind(client_id)
            .bind(scope)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Stores a client-credentials access token by its hash.
    pub async fn insert_client_token(
        &self,
        token_hash: &str,
        client_id: &str,
        scopes: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO client_tokens (token_hash, client_id, scopes, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash)
        .bind(client_id)
        .bind(scopes)
        .bind(expires_at)
        .bind(now)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The live client-credentials token with this hash.
    pub async fn client_token(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<Option<ClientTokenRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT client_id, scopes, expires_at FROM client_tokens \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }
}
