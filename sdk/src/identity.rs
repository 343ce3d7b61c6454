//! The verified identity a completed login yields: what replaces the ID card.

use serde_json::{Map, Value};
use vneid_contract::{
    AccountKind, AuthMethod, Claim, Document, DocumentType, Gender, Level, Organization,
    PersonalIdNumber, Predicate, PredicateDocument, Province, TravelDocument,
};

use crate::error::{ClaimError, SdkError};

/// Who logged in, at which level, with the claims released: every check done. Its `Debug`
/// leaves out the ID token, the portrait and the raw claims (personal data in logs).
#[derive(Clone)]
#[non_exhaustive]
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
    /// Integrated documents (Level 2 logins only: dropped from any other login).
    pub documents: Vec<Document>,
    /// The organisation the citizen represents (Level 2 logins only: dropped from any other
    /// login).
    pub organization: Option<Organization>,
    /// The signed ID token, as evidence to keep (an eKYC record).
    pub id_token: String,
    /// Every claim received (ID token and UserInfo) that the level reached allows, for
    /// anything not modelled here.
    pub claims: Map<String, Value>,
    /// The signed eKYC receipt (scope `ekyc_receipt`), already checked against the key
    /// history fetched at this login; archive its `jws` and `key_history.json()` together and
    /// check them later with [`crate::verify_receipt`].
    pub receipt: Option<crate::receipt::SignedReceipt>,
    /// The `verified_claims` released (OpenID Connect for Identity Assurance), typed.
    pub verified_claims: Vec<VerifiedClaims>,
    /// The provider's session id (`sid` of the ID token), for back-channel logout.
    pub sid: Option<String>,
    /// The tokens, for later calls (refresh, revocation, APIs).
    pub tokens: crate::tokens::Tokens,
}

/// One `verified_claims` element: the claims and how they were verified.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedClaims {
    /// The trust framework (`vn_eid`).
    pub trust_framework: String,
    /// When the verification took place, as sent (ISO 8601), if it was.
    pub time: Option<String>,
    /// The whole `verification` element (evidence, ...).
    pub verification: Value,
    /// The verified claims.
    pub claims: Map<String, Value>,
}

impl VerifiedClaims {
    /// Reads the `verified_claims` member (an object or an array of them).
    pub(crate) fn from_claims(
        claims: &Map<String, Value>,
    ) -> Result<Vec<VerifiedClaims>, SdkError> {
        let list: Vec<&Value> = match claims.get("verified_claims") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(list)) => list.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(_) => return Err(malformed("verified_claims", "not an object or array")),
        };
        list.into_iter()
            .map(|v| {
                let verification = v
                    .get("verification")
                    .filter(|v| v.is_object())
                    .ok_or_else(|| malformed("verified_claims", "no verification element"))?;
                let trust_framework = verification
                    .get("trust_framework")
                    .and_then(Value::as_str)
                    .ok_or_else(|| malformed("verified_claims", "no trust_framework"))?
                    .to_string();
                let inner = match v.get("claims") {
                    Some(Value::Object(m)) => m.clone(),
                    _ => return Err(malformed("verified_claims", "no claims element")),
                };
                Ok(VerifiedClaims {
                    trust_framework,
                    time: verification
                        .get("time")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    verification: verification.clone(),
                    claims: inner,
                })
            })
            .collect()
    }
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
            .field("receipt", &self.receipt)
            .field("verified_claims", &self.verified_claims.len())
            .field("sid", &self.sid)
            .field("tokens", &self.tokens)
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
#[non_exhaustive]
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

/// Whether a login that reached `reached` may carry `claim` (the contract's
/// [`Claim::required_level`]). A login without a VNeID level counts as Level 1, the lowest.
fn allowed_at(claim: Claim, reached: Option<Level>) -> bool {
    let reached = reached.unwrap_or(Level::Level1);
    claim.required_level().is_none_or(|r| reached.satisfies(r))
}

/// Removes from `claims` (and from the `claims` of any `verified_claims` in it) every claim the
/// level reached does not allow: a provider that releases documents to a Level 1 login is
/// wrong or forged, and an app must not act on them. Returns the names removed, once each.
fn drop_above_level(claims: &mut Map<String, Value>, reached: Option<Level>) -> Vec<&'static str> {
    let mut dropped: Vec<&'static str> = Vec::new();
    let mut strip = |map: &mut Map<String, Value>| {
        for claim in Claim::ALL {
            if !allowed_at(claim, reached)
                && map.remove(claim.as_str()).is_some()
                && !dropped.contains(&claim.as_str())
            {
                dropped.push(claim.as_str());
            }
        }
    };
    strip(claims);
    let nested: Vec<&mut Value> = match claims.get_mut("verified_claims") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(v @ Value::Object(_)) => vec![v],
        _ => Vec::new(),
    };
    for verified in nested {
        if let Some(Value::Object(inner)) = verified.get_mut("claims") {
            strip(inner);
        }
    }
    dropped
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
        mut claims: Map<String, Value>,
    ) -> Result<VerifiedIdentity, SdkError> {
        let dropped = drop_above_level(&mut claims, level);
        if !dropped.is_empty() {
            // The names only: the values are personal data.
            tracing::warn!(
                claims = ?dropped,
                level = ?level,
                "VNeID claims that need a higher level than the login reached were dropped"
            );
        }
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
            verified_claims: VerifiedClaims::from_claims(&claims)?,
            sid: text(&claims, "sid")?,
            id_token,
            claims,
            receipt: None,
            tokens: crate::tokens::Tokens::default(),
        })
    }

    /// The [`crate::Session`] to keep for later calls and logout (a fresh random id).
    pub fn session(&self) -> crate::tokens::Session {
        let mut session = crate::tokens::Session::new(
            self.subject.clone(),
            self.id_token.clone(),
            self.tokens.clone(),
        );
        session.sid = self.sid.clone();
        session.level = self.level;
        session.auth_time = self.auth_time;
        session
    }

    /// A predicate claim's answer: `Some(true)` or `Some(false)` when the provider released
    /// it, `None` when it did not (not asked, not registered, or the login's level too low).
    pub fn predicate(&self, predicate: Predicate) -> Option<bool> {
        let reached = self.level.unwrap_or(Level::Level1);
        if !reached.satisfies(predicate.required_level()) {
            return None;
        }
        self.claims.get(predicate.as_str()).and_then(Value::as_bool)
    }

    /// `age_over_N`: whether the citizen is `years` old or older today in Vietnam, without
    /// their birth date (ask with [`crate::LoginRequest::with_predicate`]).
    pub fn age_over(&self, years: u8) -> Option<bool> {
        self.predicate(Predicate::AgeOver(years))
    }

    /// `document_valid:<type>`: whether a valid document of this type is integrated (Level 2
    /// logins only), without its details.
    pub fn document_valid(&self, document: PredicateDocument) -> Option<bool> {
        self.predicate(Predicate::DocumentValid(document))
    }

    /// `resident_of:<code>`: whether the citizen's permanent residence is in this province
    /// (`Province::parse("01")`: Hà Nội), without their address. `None` also when the
    /// registry names no residence.
    pub fn resident_of(&self, province: Province) -> Option<bool> {
        self.predicate(Predicate::ResidentOf(province))
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

    /// A Level 1 login (or one without a level) never yields documents or an organisation,
    /// even malformed ones, at the top level or inside `verified_claims`; Level 2 keeps them.
    #[test]
    fn claims_that_need_level_2_are_dropped_from_a_level_1_login() {
        let released = || {
            claims(serde_json::json!({
                "name": "Trần Thị Bình",
                "documents": [{ "type": "driving_licence", "number": "790123456789" }],
                "organization": {
                    "code": "0312345678", "name": "Công ty TNHH Bình An",
                    "established_on": "2015-04-01", "head_office_address": "Quận 1, TP. Hồ Chí Minh",
                    "representative": { "id_number": "079198000002", "name": "Trần Thị Bình" }
                },
                "verified_claims": {
                    "verification": { "trust_framework": "vn_eid" },
                    "claims": { "name": "Trần Thị Bình", "documents": [], "organization": {} }
                }
            }))
        };
        for level in [Some(Level::Level1), None] {
            let id = VerifiedIdentity::from_claims(
                "s".into(),
                level,
                None,
                vec![],
                "t".into(),
                released(),
            )
            .unwrap();
            assert!(id.documents.is_empty(), "{level:?}");
            assert!(id.organization.is_none(), "{level:?}");
            assert!(!id.claims.contains_key("documents"));
            assert!(!id.claims.contains_key("organization"));
            let inner = &id.claims["verified_claims"]["claims"];
            assert_eq!(inner, &serde_json::json!({ "name": "Trần Thị Bình" }));
            assert_eq!(id.full_name().as_deref(), Some("Trần Thị Bình"));
        }
        let id = VerifiedIdentity::from_claims(
            "s".into(),
            Some(Level::Level2),
            None,
            vec![],
            "t".into(),
            released(),
        )
        .unwrap();
        assert_eq!(id.documents.len(), 1);
        assert_eq!(id.organization.unwrap().code, "0312345678");
        assert!(id.claims["verified_claims"]["claims"]["documents"].is_array());
        // Malformed Level 2 claims in a Level 1 login are dropped, not an error.
        let mut c = released();
        c.insert("documents".into(), serde_json::json!("not a list"));
        let id = VerifiedIdentity::from_claims(
            "s".into(),
            Some(Level::Level1),
            None,
            vec![],
            "t".into(),
            c,
        )
        .unwrap();
        assert!(id.documents.is_empty());
    }

    #[test]
    fn drop_above_level_names_what_it_dropped_once() {
        let mut c = claims(serde_json::json!({
            "documents": [], "organization": null, "email": "a@b.vn",
            "verified_claims": [ { "claims": { "documents": [] } }, { "claims": { "phone_number": "+84" } } ]
        }));
        assert_eq!(
            drop_above_level(&mut c, Some(Level::Level1)),
            ["documents", "organization"]
        );
        assert!(c.contains_key("email"));
        assert_eq!(
            c["verified_claims"],
            serde_json::json!([ { "claims": {} }, { "claims": { "phone_number": "+84" } } ])
        );
        let mut c = claims(serde_json::json!({ "documents": [] }));
        assert!(drop_above_level(&mut c, Some(Level::Level2)).is_empty());
        assert!(c.contains_key("documents"));
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
