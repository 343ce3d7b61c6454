//! The verified identity a completed login yields: what replaces the ID card.

use serde_json::{Map, Value};
use vneid_contract::{
    AccountKind, AuthMethod, Document, DocumentType, Gender, Level, Organization, PersonalIdNumber,
    TravelDocument,
};

use crate::error::{ClaimError, SdkError};

/// Who logged in, at which level, with the claims released: every check done. Its `Debug`
/// leaves out the ID token, the portrait and the raw claims (personal data in logs).
#[derive(Clone)]
pub struct VerifiedIdentity {
    /// The subject: pairwise for this relying party, stable across logins.
    pub subject: String,
    /// The level this login reached (`None` only at providers without VNeID levels).
    pub level: Option<Level>,
    /// When the citizen authenticated (Unix seconds).
    pub auth_time: Option<i64>,
    /// How (RFC 8176: `pwd`, `otp`, `mfa`, ...).
    pub methods: Vec<String>,
    /// The person.
    pub person: Person,
    /// Phone number (E.164) and whether it is verified.
    pub phone: Option<(String, bool)>,
    /// Email address and whether it is verified.
    pub email: Option<(String, bool)>,
    /// The portrait, as the `data:image/jpeg;base64,...` URI the provider released.
    pub portrait: Option<String>,
    /// Integrated documents (Level 2 logins only).
    pub documents: Vec<Document>,
    /// The organisation the citizen represents (Level 2 logins only).
    pub organization: Option<Organization>,
    /// The signed ID token, as evidence to keep (an eKYC record).
    pub id_token: String,
    /// Every claim received (ID token and UserInfo), for anything not modelled here.
    pub claims: Map<String, Value>,
}

impl std::fmt::Debug for VerifiedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedIdentity")
            .field("subject", &self.subject)
            .field("level", &self.level)
            .field("auth_time", &self.auth_time)
            .field("methods", &self.methods)
            .field("person", &self.person)
            .field("phone", &self.phone)
            .field("email", &self.email)
            .field(
                "portrait",
                &self
                    .portrait
                    .as_ref()
                    .map(|p| format!("[{} bytes]", p.len())),
            )
            .field("documents", &self.documents)
            .field("organization", &self.organization)
            .field("id_token", &format_args!("[{} bytes]", self.id_token.len()))
            .field("claims", &format_args!("[{} claims]", self.claims.len()))
            .finish()
    }
}

/// The JPEG bytes of a `data:image/jpeg;base64,...` portrait.
fn decode_portrait(uri: &str) -> Result<Vec<u8>, SdkError> {
    use base64::Engine;
    let b64 = uri
        .strip_prefix("data:image/jpeg;base64,")
        .ok_or_else(|| malformed("portrait", "not a data:image/jpeg;base64 URI"))?;
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|e| malformed("portrait", e))
}

/// The holder's identity.
#[derive(Debug, Clone, Default)]
pub struct Person {
    /// Citizen or foreigner (organisations log in through their representative).
    pub kind: Option<AccountKind>,
    /// Full name in Vietnamese order.
    pub name: Option<String>,
    /// Family name (họ).
    pub family_name: Option<String>,
    /// Middle name(s) (chữ đệm).
    pub middle_name: Option<String>,
    /// Given name (tên).
    pub given_name: Option<String>,
    /// Date of birth.
    pub birthdate: Option<time::Date>,
    /// Sex.
    pub gender: Option<Gender>,
    /// Citizens: the 12-digit number, checked against birthdate and sex.
    pub personal_id_number: Option<PersonalIdNumber>,
    /// Foreigners.
    pub foreigner_id_number: Option<String>,
    /// Foreigners: ISO 3166-1 alpha-2.
    pub nationality: Option<String>,
    /// Foreigners: the passport or travel document.
    pub travel_document: Option<TravelDocument>,
}

/// A claim's name and what is wrong with its value.
fn malformed(claim: &str, reason: impl std::fmt::Display) -> SdkError {
    SdkError::Inconsistent(ClaimError::Malformed {
        claim: claim.to_string(),
        reason: reason.to_string(),
    })
}

/// A string claim: absent (or null) is `None`, any other type is an error.
fn text(claims: &Map<String, Value>, name: &str) -> Result<Option<String>, SdkError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(name, "not a string")),
    }
}

/// A boolean claim (the `*_verified` flags); absent means not verified.
fn flag(claims: &Map<String, Value>, name: &str) -> Result<bool, SdkError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(malformed(name, "not a boolean")),
    }
}

fn typed<T: serde::de::DeserializeOwned>(
    claims: &Map<String, Value>,
    name: &str,
) -> Result<Option<T>, SdkError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|e| malformed(name, e)),
    }
}

impl Person {
    /// Reads the person from the claims, checking what can be cross-checked: the
    /// identification number's century, sex and year digits against the birth date and sex.
    pub(crate) fn from_claims(claims: &Map<String, Value>) -> Result<Person, SdkError> {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let birthdate = match text(claims, "birthdate")? {
            Some(s) => Some(
                time::Date::parse(&s, format)
                    .map_err(|_| malformed("birthdate", format!("`{s}` is not YYYY-MM-DD")))?,
            ),
            None => None,
        };
        let gender = match text(claims, "gender")? {
            Some(g) => Some(
                Gender::parse(&g)
                    .ok_or_else(|| malformed("gender", format!("`{g}` is not male or female")))?,
            ),
            None => None,
        };
        let personal_id_number = match text(claims, "personal_id_number")? {
            Some(s) => {
                let pin = PersonalIdNumber::parse(&s)
                    .map_err(|e| SdkError::Inconsistent(ClaimError::IdNumber(e)))?;
                if let (Some(date), Some(gender)) = (birthdate, gender) {
                    pin.check_against(date, gender)
                        .map_err(|e| SdkError::Inconsistent(ClaimError::IdNumberMismatch(e)))?;
                }
                Some(pin)
            }
            None => None,
        };
        let foreigner_id_number = text(claims, "foreigner_id_number")?;
        let kind = match (&personal_id_number, &foreigner_id_number) {
            (Some(_), _) => Some(AccountKind::Citizen),
            (None, Some(_)) => Some(AccountKind::Foreigner),
            _ => None,
        };
        Ok(Person {
            kind,
            name: text(claims, "name")?,
            family_name: text(claims, "family_name")?,
            middle_name: text(claims, "middle_name")?,
            given_name: text(claims, "given_name")?,
            birthdate,
            gender,
            personal_id_number,
            foreigner_id_number,
            nationality: text(claims, "nationality")?,
            travel_document: typed(claims, "travel_document")?,
        })
    }
}

impl VerifiedIdentity {
    pub(crate) fn from_claims(
        subject: String,
        level: Option<Level>,
        auth_time: Option<i64>,
        methods: Vec<String>,
        id_token: String,
        claims: Map<String, Value>,
    ) -> Result<VerifiedIdentity, SdkError> {
        let person = Person::from_claims(&claims)?;
        let phone = match text(&claims, "phone_number")? {
            Some(p) => Some((p, flag(&claims, "phone_number_verified")?)),
            None => None,
        };
        let email = match text(&claims, "email")? {
            Some(e) => Some((e, flag(&claims, "email_verified")?)),
            None => None,
        };
        let portrait = text(&claims, "portrait")?;
        if let Some(uri) = &portrait {
            decode_portrait(uri)?;
        }
        Ok(VerifiedIdentity {
            subject,
            level,
            auth_time,
            methods,
            person,
            phone,
            email,
            portrait,
            documents: typed(&claims, "documents")?.unwrap_or_default(),
            organization: typed(&claims, "organization")?,
            id_token,
            claims,
        })
    }

    /// The full name (`name`, or the parts joined).
    pub fn full_name(&self) -> Option<String> {
        self.person.name.clone().or_else(|| {
            let parts: Vec<&str> = [
                &self.person.family_name,
                &self.person.middle_name,
                &self.person.given_name,
            ]
            .into_iter()
            .filter_map(|p| p.as_deref())
            .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        })
    }

    /// The integrated document of a type.
    pub fn document(&self, doc_type: &DocumentType) -> Option<&Document> {
        self.documents.iter().find(|d| &d.doc_type == doc_type)
    }

    /// The driving licence, if integrated and released.
    pub fn driving_licence(&self) -> Option<&Document> {
        self.document(&DocumentType::DrivingLicence)
    }

    /// The health-insurance card, if integrated and released.
    pub fn health_insurance_card(&self) -> Option<&Document> {
        self.document(&DocumentType::HealthInsuranceCard)
    }

    /// The passport, if integrated and released.
    pub fn passport(&self) -> Option<&Document> {
        self.document(&DocumentType::Passport)
    }

    /// Age in full years on `date` (needs the `profile` scope).
    pub fn age_on(&self, date: time::Date) -> Option<i32> {
        let born = self.person.birthdate?;
        let mut age = date.year() - born.year();
        if (date.month() as u8, date.day()) < (born.month() as u8, born.day()) {
            age -= 1;
        }
        Some(age)
    }

    /// The portrait's JPEG bytes (checked to decode when the login completed).
    pub fn portrait_jpeg(&self) -> Option<Vec<u8>> {
        self.portrait
            .as_deref()
            .and_then(|uri| decode_portrait(uri).ok())
    }

    /// The authentication methods the SDK knows (RFC 8176); others are left out.
    pub fn auth_methods(&self) -> Vec<AuthMethod> {
        self.methods
            .iter()
            .filter_map(|m| AuthMethod::parse(m))
            .collect()
    }

    /// When the citizen authenticated.
    pub fn authenticated_at(&self) -> Option<time::OffsetDateTime> {
        self.auth_time
            .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
    }

    /// Whether this login may stand in for presenting the chip-based identity card
    /// (Decree 59 Art. 13: a Level 2 login of a citizen).
    pub fn replaces_identity_card(&self) -> bool {
        self.level == Some(Level::Level2) && self.person.kind == Some(AccountKind::Citizen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_citizen_is_read_and_cross_checked() {
        let c = claims(serde_json::json!({
            "name": "Trần Thị Bình", "birthdate": "1998-07-25", "gender": "female",
            "personal_id_number": "079198000002",
            "documents": [{ "type": "driving_licence", "number": "790123456789" }]
        }));
        let id = VerifiedIdentity::from_claims(
            "s".into(),
            Some(Level::Level2),
            None,
            vec![],
            "t".into(),
            c,
        )
        .unwrap();
        assert_eq!(id.person.kind, Some(AccountKind::Citizen));
        assert_eq!(id.driving_licence().unwrap().number, "790123456789");
        assert!(id.replaces_identity_card());
        let on = time::Date::from_calendar_date(2026, time::Month::July, 24).unwrap();
        assert_eq!(id.age_on(on), Some(27));
    }

    #[test]
    fn a_number_that_contradicts_the_birthdate_is_refused() {
        let c = claims(
            serde_json::json!({ "birthdate": "1999-07-25", "gender": "female", "personal_id_number": "079198000002" }),
        );
        let err = VerifiedIdentity::from_claims("s".into(), None, None, vec![], "t".into(), c)
            .unwrap_err();
        assert!(
            matches!(err, SdkError::Inconsistent(ClaimError::IdNumberMismatch(_))),
            "{err}"
        );
    }
}
