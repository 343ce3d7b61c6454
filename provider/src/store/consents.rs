//! Consents: what a citizen agreed to give a relying party, item by item (a claim name,
//! `verified_claims`, `offline_access`), each with the level at which it was shown. The
//! `consents` row is the header the self-service page lists and withdraws (its `scopes` column
//! now holds the agreed item names); the items go with it.

use sqlx::AnyConnection;

use super::audit::{AuditEvent, audit_in};
use super::{Store, StoreError};

/// A consent just given: the items the page showed, at the level of this login.
#[derive(Debug, Clone)]
pub struct ConsentGiven<'a> {
    /// Item names.
    pub items: &'a [&'a str],
    /// The level (1 or 2) at which they were shown.
    pub level: i64,
    /// The organisation chosen on the page (its code), for a representative of several.
    pub organization: Option<&'a str>,
}

impl Store {
    /// The items this account agreed to give this client, with the level each was shown at.
    pub async fn consent_items(
        &self,
        account_id: &str,
        client_id: &str,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT item, level FROM consent_items WHERE account_id = $1 AND client_id = $2 \
             ORDER BY item",
        )
        .bind(account_id)
        .bind(client_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The organisation (its code) this account chose to give this client, if it chose one.
    pub async fn consent_organization(
        &self,
        account_id: &str,
        client_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "SELECT organization_code FROM consents WHERE account_id = $1 AND client_id = $2",
        )
        .bind(account_id)
        .bind(client_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.and_then(|(code,)| code))
    }
}

/// Remembers a consent inside the caller's transaction (the one that issues the code): the
/// header row, every item shown (an item keeps the highest level it was ever shown at), and the
/// audit event.
pub async fn remember_consent_in(
    conn: &mut AnyConnection,
    account_id: &str,
    client_id: &str,
    given: &ConsentGiven<'_>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO consents (account_id, client_id, scopes, granted_at) VALUES ($1, $2, '', $3) \
         ON CONFLICT (account_id, client_id) DO UPDATE SET granted_at = excluded.granted_at",
    )
    .bind(account_id)
    .bind(client_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    for item in given.items {
        sqlx::query(
            "INSERT INTO consent_items (account_id, client_id, item, level, granted_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, client_id, item) DO UPDATE SET \
             level = CASE WHEN excluded.level > consent_items.level THEN excluded.level \
             ELSE consent_items.level END, granted_at = excluded.granted_at",
        )
        .bind(account_id)
        .bind(client_id)
        .bind(*item)
        .bind(given.level)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
    // The header lists every item agreed so far, for the self-service page.
    let all: Vec<(String,)> = sqlx::query_as(
        "SELECT item FROM consent_items WHERE account_id = $1 AND client_id = $2 ORDER BY item",
    )
    .bind(account_id)
    .bind(client_id)
    .fetch_all(&mut *conn)
    .await?;
    let names: Vec<String> = all.into_iter().map(|(i,)| i).collect();
    sqlx::query("UPDATE consents SET scopes = $1 WHERE account_id = $2 AND client_id = $3")
        .bind(names.join(" "))
        .bind(account_id)
        .bind(client_id)
        .execute(&mut *conn)
        .await?;
    // A new choice replaces the one before; no choice keeps it.
    if let Some(code) = given.organization {
        sqlx::query(
            "UPDATE consents SET organization_code = $1 WHERE account_id = $2 AND client_id = $3",
        )
        .bind(code)
        .bind(account_id)
        .bind(client_id)
        .execute(&mut *conn)
        .await?;
    }
    let event = AuditEvent {
        kind: "consent_granted",
        account_id: Some(account_id),
        client_id: Some(client_id),
        detail: serde_json::json!({
            "items": given.items, "level": given.level, "organization": given.organization,
        }),
    };
    audit_in(&mut *conn, event, now).await?;
    Ok(())
}
