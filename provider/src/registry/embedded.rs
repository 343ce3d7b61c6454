//! The registry kept in our own database.

use std::collections::BTreeMap;

use vneid_contract::{AccountKind, Document, DocumentType, Gender};

use super::{MatchOutcome, Modality, RegistryError, RegistryPerson, Template, Thresholds};
use crate::store::{RegistryDocumentRow, RegistryPersonRow, Store};

/// The embedded registry.
#[derive(Clone)]
pub struct EmbeddedRegistry {
    store: Store,
    thresholds: Thresholds,
}

impl EmbeddedRegistry {
    /// A registry over our database.
    pub fn new(store: Store, thresholds: Thresholds) -> Self {
        EmbeddedRegistry { store, thresholds }
    }

    pub(super) async fn person(
        &self,
        id_number: &str,
    ) -> Result<Option<RegistryPerson>, RegistryError> {
        let Some(row) = self.store.registry_person(id_number).await? else {
            return Ok(None);
        };
        let documents = self.store.registry_documents(id_number).await?;
        Ok(Some(person(row, documents)))
    }

    pub(super) async fn organization(
        &self,
        code: &str,
    ) -> Result<Option<super::RegistryOrganization>, RegistryError> {
        Ok(self.store.registry_organization(code).await?)
    }

    pub(super) async fn match_template(
        &self,
        id_number: &str,
        modality: &Modality,
        probe: &Template,
    ) -> Result<MatchOutcome, RegistryError> {
        let name = modality.as_string();
        let enrolled = self
            .store
            .registry_template(id_number, &name)
            .await?
            .and_then(|json| serde_json::from_str::<Template>(&json).ok())
            .ok_or_else(|| RegistryError::NotEnrolled(name.clone()))?;
        let threshold = match modality {
            Modality::Portrait => self.thresholds.portrait,
            Modality::Fingerprint(_) => self.thresholds.fingerprint,
        };
        let score = probe.similarity(&enrolled).ok_or_else(|| {
            RegistryError::SizeMismatch(name.clone(), enrolled.values().len(), probe.values().len())
        })?;
        Ok(MatchOutcome {
            modality: name,
            score,
            threshold,
            matched: score >= threshold,
        })
    }
}

fn person(row: RegistryPersonRow, documents: Vec<RegistryDocumentRow>) -> RegistryPerson {
    RegistryPerson {
        id_number: row.id_number,
        kind: AccountKind::parse(&row.kind).unwrap_or(AccountKind::Citizen),
        family_name: row.family_name,
        middle_name: row.middle_name,
        given_name: row.given_name,
        birthdate: row.birthdate,
        gender: Gender::parse(&row.gender).unwrap_or(Gender::Male),
        nationality: row.nationality,
        travel_document: row
            .travel_document
            .and_then(|j| serde_json::from_str(&j).ok()),
        residence_card: row
            .residence_card
            .and_then(|j| serde_json::from_str(&j).ok()),
        documents: documents
            .into_iter()
            .map(|d| Document {
                doc_type: DocumentType::parse(&d.doc_type),
                number: d.number,
                issued_on: d.issued_on,
                expires_on: d.expires_on,
                issuer: d.issuer,
                details: d
                    .details
                    .and_then(|j| serde_json::from_str::<BTreeMap<String, String>>(&j).ok())
                    .unwrap_or_default(),
            })
            .collect(),
        phone_number: row.phone_number,
        email: row.email,
        identity_card: row
            .identity_card
            .and_then(|j| serde_json::from_str(&j).ok()),
        relations: row
            .relations
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default(),
        permanent_residence: row
            .permanent_residence
            .and_then(|j| serde_json::from_str(&j).ok()),
    }
}
