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
    /// Back-channel logout, encrypted and signed responses.
    #[sqlx(flatten)]
    pub responses: ResponseOptions,
}

/// Where a client hears of logouts, and how it wants its ID tokens and UserInfo; all `None`
/// (plain signed ID tokens, plain JSON UserInfo, no logout tokens) unless registered.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ResponseOptions {
    pub backchannel_logout_uri: Option<String>,
    /// 1 when the client needs `sid` in logout tokens (we always send it).
    pub backchannel_logout_session_required: i64,
    pub id_token_encrypted_response_alg: Option<String>,
    pub id_token_encrypted_response_enc: Option<String>,
    pub userinfo_encrypted_response_alg: Option<String>,
    pub userinfo_encrypted_response_enc: Option<String>,
    pub userinfo_signed_response_alg: Option<String>,
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
    resource_server, registration_token_hash, require_dpop, profile, backchannel_logout_uri, \
    backchannel_logout_session_required, id_token_encrypted_response_alg, \
    id_token_encrypted_response_enc, userinfo_encrypted_response_alg, \
    userinfo_encrypted_response_enc, userinfo_signed_response_alg";

impl Store {
    /// Registers a client.
    pub async fn insert_client(&self, client: &ClientRow, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO clients (id, name, secret_hash, auth_method, redirect_uris, \
             post_logout_redirect_uris, allowed_scopes, signing_alg, subject_type, jwks, created_at, \
             require_par, resource_server, registration_token_hash, require_dpop, profile, \
             backchannel_logout_uri, backchannel_logout_session_required, \
             id_token_encrypted_response_alg, id_token_encrypted_response_enc, \
             userinfo_encrypted_response_alg, userinfo_encrypted_response_enc, \
             userinfo_signed_response_alg) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23)",
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
        .bind(&client.responses.backchannel_logout_uri)
        .bind(client.responses.backchannel_logout_session_required)
        .bind(&client.responses.id_token_encrypted_response_alg)
        .bind(&client.responses.id_token_encrypted_response_enc)
        .bind(&client.responses.userinfo_encrypted_response_alg)
        .bind(&client.responses.userinfo_encrypted_response_enc)
        .bind(&client.responses.userinfo_signed_response_alg)
        .execute(&self.writer)
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
             subject_type = $8, jwks = $9, require_par = $10, secret_hash = $11, \
             backchannel_logout_uri = $12, backchannel_logout_session_required = $13, \
             id_token_encrypted_response_alg = $14, id_token_encrypted_response_enc = $15, \
             userinfo_encrypted_response_alg = $16, userinfo_encrypted_response_enc = $17, \
             userinfo_signed_response_alg = $18 WHERE id = $1",
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
        .bind(&client.responses.backchannel_logout_uri)
        .bind(client.responses.backchannel_logout_session_required)
        .bind(&client.responses.id_token_encrypted_response_alg)
        .bind(&client.responses.id_token_encrypted_response_enc)
        .bind(&client.responses.userinfo_encrypted_response_alg)
        .bind(&client.responses.userinfo_encrypted_response_enc)
        .bind(&client.responses.userinfo_signed_response_alg)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a client and, through the foreign keys, its codes, tokens and consents. Returns
    /// whether it existed.
    pub async fn remove_client(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
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
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a request object's `jti`; false when it was seen before (a replay).
    pub async fn use_request_object_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO request_objects (client_id, jti, expires_at) VALUES ($1, $2, $3) \
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
