//! Provider-wide values made once at first start (the pairwise-subject salt).

use super::{Store, StoreError};

impl Store {
    /// The setting's value, creating it with `make` if absent. Two processes starting at once
    /// agree: the first insert wins and both read it back.
    pub async fn setting_or_insert(
        &self,
        name: &str,
        make: impl FnOnce() -> String,
    ) -> Result<String, StoreError> {
        sqlx::query(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(make())
        .execute(&self.writer)
        .await?;
        let (value,): (String,) = sqlx::query_as("SELECT value FROM settings WHERE name = $1")
            .bind(name)
            .fetch_one(&self.writer)
            .await?;
        Ok(value)
    }
}
