//! Consents: which scopes a citizen let a relying party have.

use super::{Store, StoreError};

impl Store {
    /// The scopes (space-separated) this account granted this client, if any.
    pub async fn consent(
        &self,
        account_id: &str,
        client_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT scopes FROM consents WHERE account_id = $1 AND client_id = $2")
                .bind(account_id)
                .bind(client_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(scopes,)| scopes))
    }
}
