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
    /// Options added later (PAR, introspection, dynamic registration).
    #[sqlx(flatten)]
    pub options: ClientOptions,
}

/// A client's protocol options; all off for a client registered without them.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ClientOptions {
    /// 1 when the client must push its authorization requests (RFC 9126).
    pub require_par: i64,
    /// 1 when the client is a resource server, allowed to introspect tokens (RFC 7662).
    pub resource_server: i64,
    /// The hash of the registration access token (RFC 7592), for dynamically registered clients.
    pub registration_token_hash: Option<String>,
    /// 1 when the client's tokens must be DPoP-bound (RFC 9449).
    pub require_dpop: i64,
    /// The security profile the client is held to: `fapi2`, or none.
    pub profile: Option<String>,
}

const CLIENT_COLUMNS: &str = "id, name, secret_hash, auth_method, redirect_uris, \
    post_logout_redirect_uris, allowed_scopes, signing_alg, subject_type, jwks, require_par, \
    resource_server, registration_token_hash, require_dpop, profile";

impl Store {
    /// Registers a client.
    pub async fn insert_client(&self, client: &ClientRow, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, auth_method, redirect_uris, \
             post_logout_redirect_uris, allowed_scopes, signing_alg, subject_type, jwks, created_at, \
             require_par, resource_server, registration_token_hash, require_dpop, profile) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
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
        .bind(client.options.require_par)
        .bind(client.options.resource_server)
        .bind(&client.options.registration_token_hash)
        .bind(client.options.require_dpop)
        .bind(&client.options.profile)
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

    /// Replaces a dynamically registered client's metadata (RFC 7592 2.2): everything but its
    /// id, secret and registration access token. Returns whether it existed.
    pub async fn update_client(&self, client: &ClientRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE clients SET name = $2, auth_method = $3, redirect_uris = $4, \
             post_logout_redirect_uris = $5, allowed_scopes = $6, signing_alg = $7, \
             subject_type = $8, jwks = $9, require_par = $10, secret_hash = $11 WHERE id = $1",
        )
        .bind(&client.id)
        .bind(&client.name)
        .bind(&client.auth_method)
        .bind(&client.redirect_uris)
        .bind(&client.post_logout_redirect_uris)
        .bind(&client.allowed_scopes)
        .bind(&client.signing_alg)
        .bind(&client.subject_type)
        .bind(&client.jwks)
        .bind(client.options.require_par)
        .bind(&client.secret_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
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
