//! Organisations' own accounts and their representatives.

use super::audit::{AuditEvent, audit_in};
use super::{OrganizationRow, Store, StoreError, unique};

/// A well-formed Argon2 hash of nothing anyone knows: nobody logs in to an organisation's own
/// account (its representatives act for it).
const NO_PASSWORD: &str = "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/// An organisation with its own account's id and status.
#[derive(Debug, Clone)]
pub struct OrganizationAccount {
    /// The organisation's own account (and `organizations` row) id.
    pub id: String,
    pub status: String,
    pub organization: OrganizationRow,
}

const ORG_COLUMNS: &str = "o.id, a.status, o.code, o.name, o.short_name, o.foreign_name, \
    o.established_on, o.head_office_address, o.representative_account_id";

type OrgTuple = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
);

fn org(t: OrgTuple) -> OrganizationAccount {
    OrganizationAccount {
        id: t.0,
        status: t.1,
        organization: OrganizationRow {
            code: t.2,
            name: t.3,
            short_name: t.4,
            foreign_name: t.5,
            established_on: t.6,
            head_office_address: t.7,
            representative_account_id: t.8,
        },
    }
}

impl Store {
    /// Creates an organisation's own account (no level) with its representatives (account ids,
    /// the first is recorded as the legal representative), audited: one transaction. Returns
    /// the organisation's account id.
    pub async fn create_organization(
        &self,
        o: &OrganizationRow,
        representatives: &[String],
        detail: serde_json::Value,
        now: i64,
    ) -> Result<String, StoreError> {
        let id = crate::secret::new_id();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO accounts (id, kind, level, username, password_hash, family_name, given_name, \
             birthdate, gender, verified_at, status, created_at, updated_at) \
             VALUES ($1, 'organization', 0, $2, $3, $4, '', $5, 'none', $6, 'active', $6, $6)",
        )
        .bind(&id)
        .bind(format!("org:{}", o.code))
        .bind(NO_PASSWORD)
        .bind(&o.name)
        .bind(&o.established_on)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(unique("an organisation with this code"))?;
        sqlx::query(
            "INSERT INTO organizations (id, code, name, short_name, foreign_name, established_on, head_office_address, \
             representative_account_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&id)
        .bind(&o.code)
        .bind(&o.name)
        .bind(&o.short_name)
        .bind(&o.foreign_name)
        .bind(&o.established_on)
        .bind(&o.head_office_address)
        .bind(&o.representative_account_id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(unique("an organisation with this code"))?;
        for rep in representatives {
            sqlx::query(
                "INSERT INTO organization_representatives (id, organization_id, account_id, added_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(crate::secret::new_id())
            .bind(&id)
            .bind(rep)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        let mut detail = detail;
        if let Some(map) = detail.as_object_mut() {
            map.insert("code".into(), o.code.clone().into());
            map.insert("representatives".into(), representatives.into());
        }
        audit_in(
            &mut *tx,
            AuditEvent {
                kind: "organization_registered",
                account_id: Some(&id),
                client_id: None,
                detail,
            },
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The organisation with this code.
    pub async fn organization_by_code(
        &self,
        code: &str,
    ) -> Result<Option<OrganizationAccount>, StoreError> {
        let row: Option<OrgTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations o JOIN accounts a ON a.id = o.id WHERE o.code = $1"
        )))
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(org))
    }

    /// The account ids of an organisation's current representatives.
    pub async fn representatives(&self, organization_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT account_id FROM organization_representatives WHERE organization_id = $1 \
             AND removed_at IS NULL ORDER BY added_at, id",
        )
        .bind(organization_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// Adds (`add`) or removes a representative, audited (`organization_representative_added`
    /// or `_removed`): one transaction. Removing never leaves the organisation without one (the
    /// statement checks it too). Returns whether anything changed.
    pub async fn change_representative(
        &self,
        organization_id: &str,
        account_id: &str,
        add: bool,
        detail: serde_json::Value,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let changed = if add {
            let present: Option<(String,)> = sqlx::query_as(
                "SELECT id FROM organization_representatives WHERE organization_id = $1 \
                 AND account_id = $2 AND removed_at IS NULL",
            )
            .bind(organization_id)
            .bind(account_id)
            .fetch_optional(&mut *tx)
            .await?;
            if present.is_some() {
                false
            } else {
                sqlx::query(
                    "INSERT INTO organization_representatives (id, organization_id, account_id, added_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(crate::secret::new_id())
                .bind(organization_id)
                .bind(account_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                true
            }
        } else {
            sqlx::query(
                "UPDATE organization_representatives SET removed_at = $1 WHERE organization_id = $2 \
                 AND account_id = $3 AND removed_at IS NULL AND (SELECT COUNT(*) FROM \
                 organization_representatives r WHERE r.organization_id = $2 AND r.removed_at IS NULL) > 1",
            )
            .bind(now)
            .bind(organization_id)
            .bind(account_id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        };
        if changed {
            let mut detail = detail;
            if let Some(map) = detail.as_object_mut() {
                map.insert("representative".into(), account_id.into());
            }
            audit_in(
                &mut *tx,
                AuditEvent {
                    kind: if add {
                        "organization_representative_added"
                    } else {
                        "organization_representative_removed"
                    },
                    account_id: Some(organization_id),
                    client_id: None,
                    detail,
                },
                now,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// The organisations this account may release now: it represents them (not removed) and
    /// the organisation's own account is active. By code.
    pub async fn organizations_of(
        &self,
        account_id: &str,
    ) -> Result<Vec<OrganizationRow>, StoreError> {
        let rows: Vec<OrgTuple> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM organizations o JOIN accounts a ON a.id = o.id \
             JOIN organization_representatives r ON r.organization_id = o.id \
             WHERE r.account_id = $1 AND r.removed_at IS NULL AND a.status = 'active' ORDER BY o.code"
        )))
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|t| org(t).organization).collect())
    }
}
