//! Registered relying parties.

use super::{Store, StoreError, unique};

/// A client as stored; `redirect_uris`, `post_logout_redirect_uris` are JSON arrays and
/// `allowed_scopes` a space-separated list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub id: String,
    pub name: String,
    pub secret_hash: Option<String>,
    pub auth_method: String,
    pub redirect_uris: String,
    pub post_logout_redirect_uris: String,
    pub allowed_scopes: String,
    pub signing_alg: String,
    pub subject_type: String,
    pub jwks: Option<String>,
}

const CLIENT_COLUMNS: &str = "id, name, secret_hash, auth_method, redirect_uris, \
    post_logout_redirect_uris, allowed_scopes, signing_alg, subject_type, jwks";

impl Store {
    /// Registers a client.
    pub async fn insert_client(&self, client: &ClientRow, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, auth_method, redirect_uris, \
             post_logout_redirect_uris, allowed_scopes, signing_alg, subject_type, jwks, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(&client.secret_hash)
        .bind(&client.auth_method)
        .bind(&client.redirect_uris)
        .bind(&client.post_logout_redirect_uris)
        .bind(&client.allowed_scopes)
        .bind(&client.signing_alg)
        .bind(&client.subject_type)
        .bind(&client.jwks)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(unique("a client with this id"))?;
        Ok(())
    }

    /// The client with this id.
    pub async fn client(&self, id: &str) -> Result<Option<ClientRow>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Every client, by id.
    pub async fn clients(&self) -> Result<Vec<ClientRow>, StoreError> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Removes a client and, through the foreign keys, its codes, tokens and consents. Returns
    /// whether it existed.
    pub async fn remove_client(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// Records a client assertion's `jti`; false when it was seen before (a replay).
    pub async fn use_assertion_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO client_assertions (client_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}
