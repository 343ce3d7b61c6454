//! The `age_over_N` thresholds each client registered.

use super::{Store, StoreError};

impl Store {
    /// The ages N for which `client_id` may ask `age_over_N`, ascending.
    pub async fn client_age_thresholds(&self, client_id: &str) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT years FROM client_age_thresholds WHERE client_id = $1 ORDER BY years",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(y,)| y).collect())
    }

    /// Replaces the thresholds of `client_id`, in one transaction.
    pub async fn set_client_age_thresholds(
        &self,
        client_id: &str,
        years: &[u8],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM client_age_thresholds WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        let mut unique = years.to_vec();
        unique.sort_unstable();
        unique.dedup();
        for n in unique {
            sqlx::query("INSERT INTO client_age_thresholds (client_id, years) VALUES ($1, $2)")
                .bind(client_id)
                .bind(i64::from(n))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
