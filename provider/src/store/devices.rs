//! Phone-app devices: their keys, the one-time enrolment codes, and the `jti`s of the signed
//! requests they sent (each accepted once).

use super::{Store, StoreError, unique};

/// A device as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub id: String,
    pub account_id: String,
    /// The device's public key, an ES256 JWK (JSON).
    pub public_jwk: String,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

const DEVICE_COLUMNS: &str =
    "id, account_id, public_jwk, name, created_at, last_used_at, revoked_at";

impl Store {
    /// Saves a one-time enrolment code (its hash) for an account, replacing any earlier one.
    pub async fn insert_enrolment_code(
        &self,
        code_hash: &str,
        account_id: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM app_enrolment_codes WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO app_enrolment_codes (code_hash, account_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(code_hash)
        .bind(account_id)
        .bind(now)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account a live enrolment code is for.
    pub async fn enrolment_code_account(
        &self,
        code_hash: &str,
        now: i64,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT account_id FROM app_enrolment_codes WHERE code_hash = $1 AND expires_at > $2",
        )
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(id,)| id))
    }

    /// Uses up a live enrolment code and binds the device to its account, in one transaction;
    /// `check` sees the account id first and may refuse (returning false rolls back, code kept).
    /// Returns the account id, or `None` for an unknown, used or expired code.
    pub async fn redeem_enrolment_code(
        &self,
        code_hash: &str,
        device: &DeviceRow,
        now: i64,
        check: impl FnOnce(&str) -> bool,
    ) -> Result<Option<String>, StoreError> {
        let mut tx = self.begin().await?;
        let account: Option<(String,)> = sqlx::query_as(
            "SELECT account_id FROM app_enrolment_codes WHERE code_hash = $1 AND expires_at > $2",
        )
        .bind(code_hash)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((account_id,)) = account else {
            return Ok(None);
        };
        if !check(&account_id) {
            return Ok(None);
        }
        let used = sqlx::query("DELETE FROM app_enrolment_codes WHERE code_hash = $1")
            .bind(code_hash)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if used != 1 {
            return Ok(None);
        }
        sqlx::query(
            "INSERT INTO app_devices (id, account_id, public_jwk, name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&device.id)
        .bind(&account_id)
        .bind(&device.public_jwk)
        .bind(&device.name)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(unique("a device with this id"))?;
        tx.commit().await?;
        Ok(Some(account_id))
    }

    /// The device with this id (revoked or not).
    pub async fn device(&self, id: &str) -> Result<Option<DeviceRow>, StoreError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM app_devices WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// An account's devices that are not removed, newest first.
    pub async fn devices_of(&self, account_id: &str) -> Result<Vec<DeviceRow>, StoreError> {
        let sql = format!(
            "SELECT {DEVICE_COLUMNS} FROM app_devices WHERE account_id = $1 \
             AND revoked_at IS NULL ORDER BY created_at DESC, id"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Removes (revokes) one of the account's devices; false when it was not the account's or
    /// is removed already.
    pub async fn revoke_device(
        &self,
        account_id: &str,
        device_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE app_devices SET revoked_at = $1 WHERE id = $2 AND account_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(device_id)
        .bind(account_id)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1)
    }

    /// Records a signed request's `jti` for the device; false when it was seen already (a
    /// replay). Also notes the device's last use.
    pub async fn use_device_jti(
        &self,
        device_id: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO app_request_jtis (device_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (device_id, jti) DO NOTHING",
        )
        .bind(device_id)
        .bind(jti)
        .bind(expires_at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted != 1 {
            return Ok(false);
        }
        sqlx::query("UPDATE app_devices SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(device_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Deletes expired enrolment codes, request `jti`s and approvals; returns how many rows went.
    pub async fn purge_expired_app_rows(&self, now: i64) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (sql, cutoff) in [
            ("DELETE FROM app_enrolment_codes WHERE expires_at < $1", now),
            ("DELETE FROM app_request_jtis WHERE expires_at < $1", now),
            // An approval is kept an hour past its expiry: a late poll still gets expired_token.
            (
                "DELETE FROM app_approvals WHERE expires_at < $1",
                now - 3600,
            ),
        ] {
            removed += sqlx::query(sql)
                .bind(cutoff)
                .execute(&self.pool)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }
}
