//! The holder of an account and the wire shapes of what an account carries.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::claims::Lang;

/// Sex, as the `gender` claim carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    /// `male`.
    Male,
    /// `female`.
    Female,
}

impl Gender {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<Gender> {
        match s {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            _ => None,
        }
    }
}

crate::string_serde!(Gender, "gender");

/// Who holds an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    /// A Vietnamese citizen.
    Citizen,
    /// A foreigner.
    Foreigner,
    /// An agency or organisation.
    Organization,
}

impl AccountKind {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Citizen => "citizen",
            AccountKind::Foreigner => "foreigner",
            AccountKind::Organization => "organization",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<AccountKind> {
        match s {
            "citizen" => Some(AccountKind::Citizen),
            "foreigner" => Some(AccountKind::Foreigner),
            "organization" => Some(AccountKind::Organization),
            _ => None,
        }
    }
}

crate::string_serde!(AccountKind, "account kind");

/// The type of an integrated document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DocumentType {
    /// `driving_licence`.
    DrivingLicence,
    /// `health_insurance_card`.
    HealthInsuranceCard,
    /// `passport`.
    Passport,
    /// A type added after this version.
    Other(String),
}

impl DocumentType {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            DocumentType::DrivingLicence => "driving_licence",
            DocumentType::HealthInsuranceCard => "health_insurance_card",
            DocumentType::Passport => "passport",
            DocumentType::Other(s) => s,
        }
    }

    /// Parses the wire string (unknown types are kept).
    pub fn parse(s: &str) -> DocumentType {
        match s {
            "driving_licence" => DocumentType::DrivingLicence,
            "health_insurance_card" => DocumentType::HealthInsuranceCard,
            "passport" => DocumentType::Passport,
            other => DocumentType::Other(other.to_string()),
        }
    }

    /// The name of the document in words.
    pub fn description(&self, lang: Lang) -> &str {
        match (self, lang) {
            (DocumentType::DrivingLicence, Lang::Vi) => "Giấy phép lái xe",
            (DocumentType::DrivingLicence, Lang::En) => "Driving licence",
            (DocumentType::HealthInsuranceCard, Lang::Vi) => "Thẻ bảo hiểm y tế",
            (DocumentType::HealthInsuranceCard, Lang::En) => "Health-insurance card",
            (DocumentType::Passport, Lang::Vi) => "Hộ chiếu",
            (DocumentType::Passport, Lang::En) => "Passport",
            (DocumentType::Other(s), _) => s,
        }
    }
}

impl Serialize for DocumentType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DocumentType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(DocumentType::parse(&String::deserialize(d)?))
    }
}

/// A document integrated into a Level 2 account (the `documents` claim's items).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// What kind of document.
    #[serde(rename = "type")]
    pub doc_type: DocumentType,
    /// Its number.
    pub number: String,
    /// Issued on (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_on: Option<String>,
    /// Expires on (YYYY-MM-DD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    /// Who issued it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Type-specific details (licence class, registered hospital, ...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub details: BTreeMap<String, String>,
}

/// A foreigner's passport or international travel document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TravelDocument {
    /// Number (and symbol).
    pub number: String,
    /// Type.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// Issued on (YYYY-MM-DD).
    pub issued_on: String,
    /// Place of issue.
    pub place_of_issue: String,
}

/// An organisation's legal representative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    /// Personal (or foreigner's) identification number.
    pub id_number: String,
    /// Full name.
    pub name: String,
}

/// The `organization` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Electronic identification code.
    pub code: String,
    /// Vietnamese name.
    pub name: String,
    /// Abbreviation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_name: Option<String>,
    /// Foreign-language name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foreign_name: Option<String>,
    /// Date of establishment (YYYY-MM-DD).
    pub established_on: String,
    /// Head-office address.
    pub head_office_address: String,
    /// The legal representative.
    pub representative: Representative,
}
