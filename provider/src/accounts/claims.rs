//! Which claims a grant releases, and their values for an account.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use time::Date;
use vneid_contract::{AccountKind, Claim, Level, Predicate, PredicateDocument, Province, ScopeSet};

use crate::store::{AccountRow, DocumentRow, OrganizationRow};

/// Where claims go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The ID token: only claims asked for individually (scope claims come from UserInfo).
    IdToken,
    /// UserInfo: scope claims plus those asked for individually.
    UserInfo,
}

/// The claims a grant releases to `target`: those of the granted scopes (UserInfo) and those
/// asked for individually through `claims` (OpenID Connect Core 5.5: released even outside the
/// scopes; the authorization endpoint keeps only claims of scopes the client may ask for), at
/// most the level reached, and only those that apply to the kind of account.
pub fn released(
    scopes: &ScopeSet,
    individually: impl Iterator<Item = Claim>,
    level: Level,
    kind: AccountKind,
    target: Target,
) -> BTreeSet<Claim> {
    let asked: BTreeSet<Claim> = individually.collect();
    let mut claims = asked.clone();
    if target == Target::UserInfo {
        claims.extend(scopes.claims());
    }
    claims.retain(|c| {
        let scope_granted = c
            .scope()
            .is_some_and(|s| scopes.contains(s) || asked.contains(c));
        let level_ok = c
            .required_level()
            .is_none_or(|required| level.satisfies(required));
        let id_token_ok = target == Target::UserInfo || c.id_token_allowed();
        scope_granted && level_ok && id_token_ok && applies_to(*c, kind) && *c != Claim::Sub
    });
    claims
}

/// The predicates released of those asked: at most the level reached (the level of the data
/// each is computed from).
pub fn released_predicates(
    asked: impl Iterator<Item = Predicate>,
    level: Level,
) -> BTreeSet<Predicate> {
    asked
        .filter(|p| level.satisfies(p.required_level()))
        .collect()
}

/// Vietnam's offset from UTC: Asia/Ho_Chi_Minh is UTC+7 all year (no daylight saving).
const VIETNAM: time::UtcOffset = time::macros::offset!(+7);

/// Today's date in Vietnam at `now` (Unix seconds): predicates are computed on it, so that
/// at 06:00 on a birthday in Hà Nội (23:00 UTC the day before) the citizen is already a year
/// older.
pub fn vietnam_date(now: i64) -> Option<Date> {
    time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .map(|t| t.to_offset(VIETNAM).date())
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// Whether someone born on `birth` is `years` old or older on `today`. Born on 29 February,
/// one comes of age on 1 March in a common year.
pub fn age_at_least(birth: Date, years: u8, today: Date) -> bool {
    let mut age = today.year() - birth.year();
    if (u8::from(today.month()), today.day()) < (u8::from(birth.month()), birth.day()) {
        age -= 1;
    }
    age >= i32::from(years)
}

/// Whether one of `documents` is of this type and valid on `today`: issued (if the issue date
/// is known) on or before today and expiring (if it expires) on or after today. A date that
/// cannot be read counts as not valid.
pub fn document_valid(documents: &[DocumentRow], kind: PredicateDocument, today: Date) -> bool {
    let wanted = kind.document_type();
    documents
        .iter()
        .filter(|d| d.doc_type == wanted.as_str())
        .any(|d| {
            let issued = d
                .issued_on
                .as_deref()
                .is_none_or(|s| parse_date(s).is_some_and(|issued| issued <= today));
            let unexpired = d
                .expires_on
                .as_deref()
                .is_none_or(|s| parse_date(s).is_some_and(|expires| expires >= today));
            issued && unexpired
        })
}

/// Whether a claim can exist for this kind of account.
fn applies_to(claim: Claim, kind: AccountKind) -> bool {
    match claim {
        Claim::PersonalIdNumber => kind == AccountKind::Citizen,
        Claim::ForeignerIdNumber | Claim::Nationality | Claim::TravelDocument => {
            kind == AccountKind::Foreigner
        }
        _ => true,
    }
}

/// An account with what hangs off it, for building claim values.
pub struct Holder<'a> {
    pub account: &'a AccountRow,
    pub documents: &'a [DocumentRow],
    pub organization: Option<&'a OrganizationRow>,
    /// Today in Vietnam: documents are released only while valid on it (`accounts::documents`);
    /// `None` (a clock out of range) releases none.
    pub today: Option<Date>,
}

impl Holder<'_> {
    /// Adds the values of `claims` to `out` (a claim without a value is left out).
    pub fn fill(&self, claims: &BTreeSet<Claim>, out: &mut Map<String, Value>) {
        for claim in claims {
            if let Some(value) = self.value(*claim) {
                out.insert(claim.as_str().to_string(), value);
            }
        }
    }

    /// A predicate's value on `today`, with `residence` the current province of the permanent
    /// residence on record (`None` when the data it needs is unknown or unreadable: a
    /// residence the registry does not name is not a "no").
    pub fn predicate(
        &self,
        predicate: Predicate,
        today: Date,
        residence: Option<Province>,
    ) -> Option<bool> {
        match predicate {
            Predicate::ResidentOf(asked) => residence.map(|r| r == asked),
            Predicate::AgeOver(years) => {
                parse_date(&self.account.birthdate).map(|birth| age_at_least(birth, years, today))
            }
            Predicate::DocumentValid(kind) => Some(document_valid(self.documents, kind, today)),
        }
    }

    /// The full name in Vietnamese order: family, middle, given.
    pub fn full_name(&self) -> String {
        let a = self.account;
        [
            Some(a.family_name.as_str()),
            a.middle_name.as_deref(),
            Some(a.given_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
    }

    fn value(&self, claim: Claim) -> Option<Value> {
        let a = self.account;
        let text = |s: &str| Some(Value::String(s.to_string()));
        match claim {
            Claim::Name => text(&self.full_name()),
            Claim::FamilyName => text(&a.family_name),
            Claim::MiddleName => a.middle_name.as_deref().and_then(text),
            Claim::GivenName => text(&a.given_name),
            Claim::Birthdate => text(&a.birthdate),
            Claim::Gender => text(&a.gender),
            Claim::PersonalIdNumber => text(&a.username),
            Claim::ForeignerIdNumber => text(&a.username),
            Claim::Nationality => a.nationality.as_deref().and_then(text),
            Claim::TravelDocument => a
                .travel_document
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
            Claim::Portrait => a
                .portrait_jpeg
                .as_deref()
                .map(|b64| Value::String(format!("data:image/jpeg;base64,{b64}"))),
            Claim::PhoneNumber => a.phone_number.as_deref().and_then(text),
            Claim::PhoneNumberVerified => a
                .phone_number
                .as_ref()
                .map(|_| Value::Bool(a.phone_verified != 0)),
            Claim::Email => a.email.as_deref().and_then(text),
            Claim::EmailVerified => a.email.as_ref().map(|_| Value::Bool(a.email_verified != 0)),
            Claim::Documents => Some(Value::Array(
                self.today
                    .map(|today| crate::accounts::documents::releasable(self.documents, today))
                    .unwrap_or_default()
                    .into_iter()
                    .map(document)
                    .collect(),
            )),
            Claim::Organization => self.organization.map(|o| self.organization_value(o)),
            _ => None,
        }
    }

    fn organization_value(&self, o: &OrganizationRow) -> Value {
        let mut v = json!({
            "code": o.code,
            "name": o.name,
            "established_on": o.established_on,
            "head_office_address": o.head_office_address,
            "representative": { "id_number": self.account.username, "name": self.full_name() },
        });
        if let Some(map) = v.as_object_mut() {
            if let Some(s) = &o.short_name {
                map.insert("short_name".into(), json!(s));
            }
            if let Some(s) = &o.foreign_name {
                map.insert("foreign_name".into(), json!(s));
            }
        }
        v
    }

    /// `verified_claims` (OpenID Connect for Identity Assurance 1.0) for the released claims.
    pub fn verified_claims(&self, level: Level, released: &Map<String, Value>) -> Value {
        let evidence = self
            .account
            .verification_evidence
            .as_deref()
            .map(crate::accounts::evidence::released)
            .unwrap_or_else(|| json!([]));
        let time = time::OffsetDateTime::from_unix_timestamp(self.account.verified_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            });
        let mut claims = released.clone();
        claims.remove("portrait");
        json!({
            "verification": {
                "trust_framework": vneid_contract::TRUST_FRAMEWORK,
                "assurance_level": level.assurance_level(),
                "time": time,
                "evidence": evidence,
            },
            "claims": claims,
        })
    }
}

fn document(d: &DocumentRow) -> Value {
    let mut v = json!({ "type": d.doc_type, "number": d.number });
    if let Some(map) = v.as_object_mut() {
        for (key, value) in [
            ("issued_on", &d.issued_on),
            ("expires_on", &d.expires_on),
            ("issuer", &d.issuer),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), json!(value));
            }
        }
        let details = d
            .details
            .as_deref()
            .and_then(|j| serde_json::from_str::<Value>(j).ok());
        map.insert("details".into(), details.unwrap_or_else(|| json!({})));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn age_is_reached_on_the_birthday_and_on_1_march_for_29_february() {
        let birth = date!(2008 - 07 - 25);
        assert!(!age_at_least(birth, 18, date!(2026 - 07 - 24)));
        assert!(age_at_least(birth, 18, date!(2026 - 07 - 25)));
        assert!(age_at_least(birth, 17, date!(2026 - 01 - 01)));
        assert!(!age_at_least(birth, 21, date!(2026 - 07 - 25)));
        let leap = date!(2008 - 02 - 29);
        assert!(!age_at_least(leap, 18, date!(2026 - 02 - 28)));
        assert!(age_at_least(leap, 18, date!(2026 - 03 - 01)));
        assert!(age_at_least(leap, 16, date!(2024 - 02 - 29)));
    }

    #[test]
    fn the_date_is_vietnam_s() {
        // 2026-07-24 17:00 UTC is 2026-07-25 00:00 in Hà Nội.
        let midnight_in_hanoi = 1_784_912_400;
        assert_eq!(vietnam_date(midnight_in_hanoi), Some(date!(2026 - 07 - 25)));
        assert_eq!(
            vietnam_date(midnight_in_hanoi - 1),
            Some(date!(2026 - 07 - 24))
        );
    }

    fn doc(t: &str, issued: Option<&str>, expires: Option<&str>) -> DocumentRow {
        DocumentRow {
            doc_type: t.into(),
            number: "X1".into(),
            issued_on: issued.map(str::to_string),
            expires_on: expires.map(str::to_string),
            issuer: None,
            details: None,
        }
    }

    #[test]
    fn a_document_is_valid_from_issue_through_its_expiry_day() {
        let today = date!(2026 - 05 - 10);
        let licence = PredicateDocument::DrivingLicence;
        let docs = [doc(
            "driving_licence",
            Some("2020-01-01"),
            Some("2026-05-10"),
        )];
        assert!(document_valid(&docs, licence, today));
        assert!(!document_valid(&docs, licence, date!(2026 - 05 - 11)));
        assert!(!document_valid(&docs, PredicateDocument::Passport, today));
        let not_yet = [doc("driving_licence", Some("2026-05-11"), None)];
        assert!(!document_valid(&not_yet, licence, today));
        let open_ended = [doc("driving_licence", None, None)];
        assert!(document_valid(&open_ended, licence, today));
        let garbled = [doc("driving_licence", None, Some("soon"))];
        assert!(!document_valid(&garbled, licence, today));
        // One expired and one valid of the same type: valid.
        let two = [
            doc("passport", None, Some("2020-01-01")),
            doc("passport", None, Some("2030-01-01")),
        ];
        assert!(document_valid(&two, PredicateDocument::Passport, today));
    }

    #[test]
    fn document_predicates_need_level2() {
        let asked = [
            Predicate::AgeOver(18),
            Predicate::DocumentValid(PredicateDocument::Passport),
        ];
        assert_eq!(
            released_predicates(asked.into_iter(), Level::Level1),
            BTreeSet::from([Predicate::AgeOver(18)])
        );
        assert_eq!(
            released_predicates(asked.into_iter(), Level::Level2).len(),
            2
        );
    }
}
