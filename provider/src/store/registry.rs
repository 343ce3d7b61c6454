//! The embedded population registry.

use super::{Store, StoreError};

/// A person row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistryPersonRow {
    pub id_number: String,
    pub kind: String,
    pub family_name: String,
    pub middle_name: Option<String>,
    pub given_name: String,
    pub birthdate: String,
    pub gender: String,
    pub nationality: Option<String>,
    pub travel_document: Option<String>,
    pub residence_card: Option<String>,
    /// The contact on record (E.164 phone number), where first passwords and notices go.
    pub phone_number: Option<String>,
    /// The contact on record (email), used when there is no phone number.
    pub email: Option<String>,
    /// The identity card on record (JSON).
    pub identity_card: Option<String>,
    /// Parents and guardians on record (JSON array).
    pub relations: Option<String>,
    /// The permanent residence on record (JSON: address, province).
    pub permanent_residence: Option<String>,
}

/// A document on record.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistryDocumentRow {
    pub doc_type: String,
    pub number: String,
    pub issued_on: Option<String>,
    pub expires_on: Option<String>,
    pub issuer: Option<String>,
    pub details: Option<String>,
}

/// One person to import, with documents and enrolled templates (modality, JSON array).
#[derive(Debug, Clone)]
pub struct RegistryImport {
    pub person: RegistryPersonRow,
    pub documents: Vec<RegistryDocumentRow>,
    pub templates: Vec<(String, String)>,
}

impl Store {
    /// The organisation with this code in the embedded business registry.
    pub async fn registry_organization(
        &self,
        code: &str,
    ) -> Result<Option<crate::registry::RegistryOrganization>, StoreError> {
        type Row = (
            String,
            String,
            Option<String>,
            Option<String>,
            String,
            String,
            String,
            String,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT code, name, short_name, foreign_name, established_on, head_office_address, status, \
             representatives FROM registry_organizations WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| crate::registry::RegistryOrganization {
            code: r.0,
            name: r.1,
            short_name: r.2,
            foreign_name: r.3,
            established_on: r.4,
            head_office_address: r.5,
            status: r.6,
            representatives: serde_json::from_str(&r.7).unwrap_or_default(),
        }))
    }

    /// Replaces these organisations in the embedded business registry, in one transaction.
    pub async fn registry_import_organizations(
        &self,
        organizations: &[crate::registry::RegistryOrganization],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for o in organizations {
            sqlx::query("DELETE FROM registry_organizations WHERE code = $1")
                .bind(&o.code)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO registry_organizations (code, name, short_name, foreign_name, established_on, \
                 head_office_address, status, representatives, imported_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&o.code)
            .bind(&o.name)
            .bind(&o.short_name)
            .bind(&o.foreign_name)
            .bind(&o.established_on)
            .bind(&o.head_office_address)
            .bind(&o.status)
            .bind(serde_json::json!(o.representatives).to_string())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The person with this number.
    pub async fn registry_person(
        &self,
        id_number: &str,
    ) -> Result<Option<RegistryPersonRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id_number, kind, family_name, middle_name, given_name, birthdate, gender, \
             nationality, travel_document, residence_card, phone_number, email, identity_card, relations, \
             permanent_residence FROM registry_people \
             WHERE id_number = $1",
        )
        .bind(id_number)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The documents on record for a person.
    pub async fn registry_documents(
        &self,
        id_number: &str,
    ) -> Result<Vec<RegistryDocumentRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT doc_type, number, issued_on, expires_on, issuer, details FROM registry_documents \
             WHERE id_number = $1 ORDER BY doc_type, number",
        )
        .bind(id_number)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The enrolled template (JSON) of a modality.
    pub async fn registry_template(
        &self,
        id_number: &str,
        modality: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT template FROM registry_biometrics WHERE id_number = $1 AND modality = $2",
        )
        .bind(id_number)
        .bind(modality)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(t,)| t))
    }

    /// Replaces these people in the registry, all in one transaction: either every row is in, or
    /// none is. `progress` is called after each person.
    pub async fn registry_import(
        &self,
        people: &[RegistryImport],
        now: i64,
        mut progress: impl FnMut(),
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        for p in people {
            let r = &p.person;
            sqlx::query("DELETE FROM registry_people WHERE id_number = $1")
                .bind(&r.id_number)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO registry_people (id_number, kind, family_name, middle_name, given_name, \
                 birthdate, gender, nationality, travel_document, residence_card, phone_number, email, \
                 imported_at, identity_card, relations, permanent_residence) VALUES ($1, $2, $3, $4, $5, \
                 $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(&r.id_number)
            .bind(&r.kind)
            .bind(&r.family_name)
            .bind(&r.middle_name)
            .bind(&r.given_name)
            .bind(&r.birthdate)
            .bind(&r.gender)
            .bind(&r.nationality)
            .bind(&r.travel_document)
            .bind(&r.residence_card)
            .bind(&r.phone_number)
            .bind(&r.email)
            .bind(now)
            .bind(&r.identity_card)
            .bind(&r.relations)
            .bind(&r.permanent_residence)
            .execute(&mut *tx)
            .await?;
            for d in &p.documents {
                sqlx::query(
                    "INSERT INTO registry_documents (id, id_number, doc_type, number, issued_on, \
                     expires_on, issuer, details) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(crate::secret::new_id())
                .bind(&r.id_number)
                .bind(&d.doc_type)
                .bind(&d.number)
                .bind(&d.issued_on)
                .bind(&d.expires_on)
                .bind(&d.issuer)
                .bind(&d.details)
                .execute(&mut *tx)
                .await?;
            }
            for (modality, template) in &p.templates {
                sqlx::query("INSERT INTO registry_biometrics (id_number, modality, template) VALUES ($1, $2, $3)")
                    .bind(&r.id_number)
                    .bind(modality)
                    .bind(template)
                    .execute(&mut *tx)
                    .await?;
            }
            progress();
        }
        tx.commit().await?;
        Ok(())
    }
}
