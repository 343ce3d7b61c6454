//! Signing keys: the private key encrypted under the key-encryption key, the public JWK beside it.

use super::{Store, StoreError};

/// A signing key as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub kid: String,
    pub alg: String,
    pub private_jwe: String,
    pub public_jwk: String,
    pub created_at: i64,
    pub activate_at: i64,
    pub remove_at: Option<i64>,
}

impl Store {
    /// Stores a new key.
    pub async fn insert_key(&self, key: &KeyRow) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        insert_key(&mut conn, key).await
    }

    /// Every key still published (not past its removal time), oldest first.
    pub async fn published_keys(&self, now: i64) -> Result<Vec<KeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kid, alg, private_jwe, public_jwk, created_at, activate_at, remove_at \
             FROM signing_keys WHERE remove_at IS NULL OR remove_at > $1 \
             ORDER BY activate_at, created_at",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Rotation, in one transaction: every current key of the new key's algorithm is scheduled
    /// for removal at `remove_at` (it stays published until then), and the new key is stored.
    pub async fn rotate_key(&self, key: &KeyRow, remove_at: i64) -> Result<u64, StoreError> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE signing_keys SET remove_at = $1 WHERE alg = $2 AND remove_at IS NULL",
        )
        .bind(remove_at)
        .bind(&key.alg)
        .execute(&mut *tx)
        .await?;
        insert_key(&mut tx, key).await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }
}

async fn insert_key(conn: &mut sqlx::AnyConnection, key: &KeyRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, alg, private_jwe, public_jwk, created_at, activate_at, \
         remove_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.kid)
    .bind(&key.alg)
    .bind(&key.private_jwe)
    .bind(&key.public_jwk)
    .bind(key.created_at)
    .bind(key.activate_at)
    .bind(key.remove_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Every signing key ever stored, oldest first: the key history. Keys are never deleted
    /// (a rotated-out key only leaves the JWKS), so this is every key that ever signed.
    pub async fn all_keys(&self) -> Result<Vec<KeyRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT kid, alg, private_jwe, public_jwk, created_at, activate_at, remove_at \
             FROM signing_keys ORDER BY activate_at, created_at, kid",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// The certificate chains (`x5c`, leaf first) of the keys that have one, by key id.
    pub async fn key_certificate_chains(
        &self,
    ) -> Result<std::collections::BTreeMap<String, Vec<String>>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT kid, chain FROM signing_key_certificates")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(kid, chain)| serde_json::from_str(&chain).ok().map(|c| (kid, c)))
            .collect())
    }

    /// Sets the certificate chain of a key (replacing any), in one transaction.
    pub async fn set_key_certificate_chain(
        &self,
        kid: &str,
        chain: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM signing_key_certificates WHERE kid = $1")
            .bind(kid)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signing_key_certificates (kid, chain, added_at) VALUES ($1, $2, $3)",
        )
        .bind(kid)
        .bind(serde_json::json!(chain).to_string())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
