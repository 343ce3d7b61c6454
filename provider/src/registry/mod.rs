//! The population registry: one interface over the National Population Database, the CCCD
//! database and the immigration database. Two implementations: an embedded copy in our own
//! database, loaded from an operator's export (`vneid-provider registry import`), and an HTTP
//! adapter for a real registry service. Biometrics are feature vectors (templates) made by the
//! capture device; the registry compares them with the enrolled ones.

pub mod card;
mod embedded;
mod http;
pub mod import;
pub mod sync;
mod template;

pub use card::{CardKind, CardProblem, CardStatus, IdentityCard, card_valid_on};
pub use embedded::EmbeddedRegistry;
pub use http::HttpRegistry;
pub use template::{Modality, Template, TemplateError};

use serde::{Deserialize, Serialize};
use vneid_contract::{AccountKind, Document, Gender};

/// A person as the registry knows them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryPerson {
    /// Personal (or foreigner's) identification number.
    pub id_number: String,
    /// Citizen or foreigner.
    pub kind: AccountKind,
    pub family_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    pub given_name: String,
    /// YYYY-MM-DD.
    pub birthdate: String,
    pub gender: Gender,
    /// Foreigners: ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nationality: Option<String>,
    /// Foreigners: the passport or travel document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub travel_document: Option<vneid_contract::TravelDocument>,
    /// Foreigners: the permanent or temporary residence card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence_card: Option<ResidenceCard>,
    /// Documents on record (driving licence, health-insurance card, passport, ...).
    #[serde(default)]
    pub documents: Vec<Document>,
    /// The phone number on record (E.164): where a first password or a notice goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    /// The email address on record, used when there is no phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Citizens: the identity card on record (chip CCCD or căn cước).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_card: Option<IdentityCard>,
    /// Parents and guardians on record (the population database's relations).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
    /// The permanent residence on record (nơi thường trú).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permanent_residence: Option<PermanentResidence>,
}

/// A permanent residence as the population database records it. Only the province it lies in
/// is kept with an account (for `resident_of:<code>`); the address never leaves the registry.
/// Members beyond these two (a ward, a postcode) are ignored: an HTTP registry may send more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermanentResidence {
    /// The address.
    pub address: String,
    /// The province: its code or name, current or from before 1 July 2025 (`01`, `Hà Giang`).
    pub province: String,
}

/// A parent or guardian the registry records for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    /// The parent's or guardian's identification number.
    pub id_number: String,
    /// `father`, `mother` or `guardian`.
    pub relation: RelationKind,
}

/// How a recorded relation stands to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    Father,
    Mother,
    /// A legal guardian (người giám hộ).
    Guardian,
}

impl RelationKind {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::Father => "father",
            RelationKind::Mother => "mother",
            RelationKind::Guardian => "guardian",
        }
    }
}

/// An organisation as the business registry knows it (National Business Registration Database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryOrganization {
    /// The enterprise code (10 digits; a branch: 10 digits, `-`, 3 digits).
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_name: Option<String>,
    /// YYYY-MM-DD.
    pub established_on: String,
    pub head_office_address: String,
    /// `active`, or what the registry says otherwise (`dissolved`, `suspended`, ...).
    pub status: String,
    /// The legal representatives' identification numbers.
    #[serde(default)]
    pub representatives: Vec<String>,
}

/// Where the registry says a person can be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryContact {
    /// A phone number (SMS).
    Phone(String),
    /// An email address.
    Email(String),
}

impl RegistryPerson {
    /// The full name, family name first, as Vietnamese names are written.
    pub fn full_name(&self) -> String {
        [
            Some(self.family_name.as_str()),
            self.middle_name.as_deref(),
            Some(self.given_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
    }

    /// The parent or guardian recorded with this identification number, if any.
    pub fn recorded_guardian(&self, id_number: &str) -> Option<RelationKind> {
        self.relations
            .iter()
            .find(|r| r.id_number == id_number)
            .map(|r| r.relation)
    }

    /// The current province of the permanent residence on record, if the registry names one
    /// it can read.
    pub fn residence_province(&self) -> Option<vneid_contract::Province> {
        self.permanent_residence
            .as_ref()
            .and_then(|r| vneid_contract::Province::of_record(&r.province))
    }

    /// The contact on record: the phone number, else the email address, if it is well formed.
    /// A contact the caller of an API typed is never one of these.
    pub fn contact(&self) -> Option<RegistryContact> {
        use crate::accounts::contact::{is_email, is_phone};
        match (&self.phone_number, &self.email) {
            (Some(p), _) if is_phone(p) => Some(RegistryContact::Phone(p.clone())),
            (_, Some(e)) if is_email(e) => Some(RegistryContact::Email(e.clone())),
            _ => None,
        }
    }
}

/// A foreigner's residence card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidenceCard {
    pub number: String,
    /// `permanent` or `temporary`.
    #[serde(rename = "type")]
    pub card_type: String,
    pub expires_on: String,
}

/// The result of comparing a captured template with the enrolled one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchOutcome {
    /// What was compared.
    pub modality: String,
    /// Similarity, from -1 to 1 (cosine).
    pub score: f64,
    /// The threshold the score had to reach.
    pub threshold: f64,
    /// Whether it did.
    pub matched: bool,
}

/// Why the registry could not answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The embedded registry's database failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The registry service failed or answered nonsense.
    #[error("the registry service failed: {0}")]
    Service(String),
    /// No template of this modality is enrolled for the person.
    #[error("no enrolled {0} template")]
    NotEnrolled(String),
    /// The enrolled template and the probe have different sizes: they cannot be compared.
    #[error("the enrolled {0} template has {1} numbers, the probe {2}")]
    SizeMismatch(String, usize, usize),
}

/// The size of the templates the capture devices make (`[registry.dimensions]`): a probe of any
/// other size is malformed and refused before any comparison, so sizes teach nothing.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Dimensions {
    pub portrait: usize,
}

impl Default for Dimensions {
    fn default() -> Self {
        Dimensions { portrait: 64 }
    }
}

/// Similarity thresholds (cosine) for a match.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Thresholds {
    pub portrait: f64,
    pub fingerprint: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            portrait: 0.80,
            fingerprint: 0.85,
        }
    }
}

/// The configured registry.
#[derive(Clone)]
pub enum Registry {
    /// Our own database.
    Embedded(EmbeddedRegistry),
    /// A registry service over HTTP.
    Http(HttpRegistry),
}

impl Registry {
    /// The person with this number.
    pub async fn person(&self, id_number: &str) -> Result<Option<RegistryPerson>, RegistryError> {
        match self {
            Registry::Embedded(r) => r.person(id_number).await,
            Registry::Http(r) => r.person(id_number).await,
        }
    }

    /// The organisation with this code in the business registry.
    pub async fn organization(
        &self,
        code: &str,
    ) -> Result<Option<RegistryOrganization>, RegistryError> {
        match self {
            Registry::Embedded(r) => r.organization(code).await,
            Registry::Http(r) => r.organization(code).await,
        }
    }

    /// Compares a captured template with the person's enrolled one.
    pub async fn match_template(
        &self,
        id_number: &str,
        modality: &Modality,
        probe: &Template,
    ) -> Result<MatchOutcome, RegistryError> {
        match self {
            Registry::Embedded(r) => r.match_template(id_number, modality, probe).await,
            Registry::Http(r) => r.match_template(id_number, modality, probe).await,
        }
    }
}
