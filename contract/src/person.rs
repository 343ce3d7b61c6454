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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn genders_and_account_kinds_use_their_wire_names() {
        for (g, name) in [(Gender::Male, "male"), (Gender::Female, "female")] {
            assert_eq!(g.as_str(), name);
            assert_eq!(Gender::parse(name), Some(g));
            assert_eq!(serde_json::to_string(&g).unwrap(), format!("\"{name}\""));
        }
        assert_eq!(Gender::parse("Male"), None);
        assert!(serde_json::from_str::<Gender>("\"other\"").is_err());
        for k in [
            AccountKind::Citizen,
            AccountKind::Foreigner,
            AccountKind::Organization,
        ] {
            assert_eq!(AccountKind::parse(k.as_str()), Some(k));
            let back: AccountKind = serde_json::from_str(&format!("\"{k}\"")).unwrap();
            assert_eq!(back, k);
        }
        assert_eq!(AccountKind::Foreigner.as_str(), "foreigner");
    }

    #[test]
    fn document_types_keep_unknown_names() {
        for (t, name) in [
            (DocumentType::DrivingLicence, "driving_licence"),
            (DocumentType::HealthInsuranceCard, "health_insurance_card"),
            (DocumentType::Passport, "passport"),
        ] {
            assert_eq!(t.as_str(), name);
            assert_eq!(DocumentType::parse(name), t);
        }
        let other = DocumentType::parse("vehicle_registration");
        assert_eq!(
            other,
            DocumentType::Other("vehicle_registration".to_string())
        );
        assert_eq!(other.as_str(), "vehicle_registration");
        assert_eq!(
            DocumentType::HealthInsuranceCard.description(Lang::Vi),
            "Thẻ bảo hiểm y tế"
        );
        assert_eq!(DocumentType::Passport.description(Lang::En), "Passport");
    }

    #[test]
    fn documents_use_the_contract_field_names() {
        let mut details = BTreeMap::new();
        details.insert("class".to_string(), "B2".to_string());
        let doc = Document {
            doc_type: DocumentType::DrivingLicence,
            number: "790123456789".into(),
            issued_on: Some("2020-01-02".into()),
            expires_on: None,
            issuer: Some("Sở GTVT TP. Hồ Chí Minh".into()),
            details,
        };
        let json = serde_json::to_string(&doc).unwrap();
        assert_eq!(
            json,
            r#"{"type":"driving_licence","number":"790123456789","issued_on":"2020-01-02","issuer":"Sở GTVT TP. Hồ Chí Minh","details":{"class":"B2"}}"#
        );
        assert_eq!(serde_json::from_str::<Document>(&json).unwrap(), doc);
        let bare: Document =
            serde_json::from_str(r#"{"type":"residence_card","number":"1"}"#).unwrap();
        assert_eq!(bare.doc_type, DocumentType::Other("residence_card".into()));
        assert!(bare.details.is_empty() && bare.issued_on.is_none());
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"type":"residence_card","number":"1"}"#
        );
    }

    #[test]
    fn travel_documents_and_organizations_use_the_contract_field_names() {
        let travel = TravelDocument {
            number: "C1234567".into(),
            doc_type: "P".into(),
            issued_on: "2019-05-06".into(),
            place_of_issue: "Seoul".into(),
        };
        assert_eq!(
            serde_json::to_string(&travel).unwrap(),
            r#"{"number":"C1234567","type":"P","issued_on":"2019-05-06","place_of_issue":"Seoul"}"#
        );
        let org = Organization {
            code: "0100100100".into(),
            name: "Công ty TNHH Ví dụ".into(),
            short_name: Some("VIDU".into()),
            foreign_name: None,
            established_on: "2010-10-10".into(),
            head_office_address: "1 Tràng Tiền, Hà Nội".into(),
            representative: Representative {
                id_number: "001095000001".into(),
                name: "Nguyễn Văn An".into(),
            },
        };
        let json = serde_json::to_string(&org).unwrap();
        assert_eq!(
            json,
            r#"{"code":"0100100100","name":"Công ty TNHH Ví dụ","short_name":"VIDU","established_on":"2010-10-10","head_office_address":"1 Tràng Tiền, Hà Nội","representative":{"id_number":"001095000001","name":"Nguyễn Văn An"}}"#
        );
        assert_eq!(serde_json::from_str::<Organization>(&json).unwrap(), org);
    }
}
