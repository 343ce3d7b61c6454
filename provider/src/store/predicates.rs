//! What predicate claims each client registered (`age_over_N`, `resident_of:<code>`), and the
//! province an account's `resident_of` is computed from.

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

    /// The province codes for which `client_id` may ask `resident_of:<code>`, ascending.
    pub async fn client_resident_provinces(
        &self,
        client_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT province FROM client_resident_provinces WHERE client_id = $1 ORDER BY province",
        )
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Replaces the provinces of `client_id`, in one transaction.
    pub async fn set_client_resident_provinces(
        &self,
        client_id: &str,
        codes: &[&str],
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM client_resident_provinces WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        let mut unique = codes.to_vec();
        unique.sort_unstable();
        unique.dedup();
        for code in unique {
            sqlx::query(
                "INSERT INTO client_resident_provinces (client_id, province) VALUES ($1, $2)",
            )
            .bind(client_id)
            .bind(code)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The province code of an account's permanent residence, if known.
    pub async fn account_residence_province(
        &self,
        account_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> =
            sqlx::query_as("SELECT residence_province FROM accounts WHERE id = $1")
                .bind(account_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(p,)| p))
    }

    /// Records the province of an account's permanent residence as the registry now says it
    /// (`None`: the registry names none).
    pub async fn set_account_residence_province(
        &self,
        account_id: &str,
        code: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE accounts SET residence_province = $1 WHERE id = $2")
            .bind(code)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
