//! The reasons to refuse a registration, and the rules that need only the registry's record.
//! The reasons are for the operator (the row, the audit log), never for the caller.

use serde::{Deserialize, Serialize};
use vneid_contract::AccountKind;

use super::Submission;
use crate::registry::card::CARD_REQUIRED_FROM_AGE;
use crate::registry::{CardProblem, RegistryPerson, card_valid_on};

/// Why a well-formed request was refused, for the operator (row and audit log), never the caller.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reason {
    /// A stable code (`not_in_registry`, `data_mismatch`, `portrait_mismatch`, `under_age`, ...).
    pub code: String,
    /// The field concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For the operator.
    pub message: String,
}

/// One reason to refuse.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Too many submissions for this number in the window.
    RateLimited,
    /// Too many portrait failures for this number: registration for it is locked a while.
    PortraitLocked,
    /// The number has an account already.
    AccountExists,
    /// The registry does not know the number.
    NotInRegistry,
    /// A declared field differs from the registry.
    DataMismatch(&'static str),
    /// Under 14 and no guardian named.
    UnderAge(i32),
    /// Under 14 and the guardian named is not a parent or guardian the registry records, or
    /// holds no active account.
    GuardianNotRecorded(i32),
    /// The recorded guardian denied the request in their own session.
    GuardianDenied,
    /// 14 or older without a valid chip-based identity card on record (Decree 69/2024).
    NoValidCard(CardProblem),
    /// A foreigner without a valid residence card on record.
    NoResidenceCard,
    /// The registry holds no phone number or email for the person: nowhere to send the password.
    NoRegistryContact,
    /// The portrait does not match the enrolled one.
    PortraitMismatch { score: f64, threshold: f64 },
    /// No portrait is enrolled.
    NoEnrolledPortrait,
    /// The enrolled portrait cannot be compared (another size than the devices make).
    EnrolledTemplateUnusable,
}

impl Refusal {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::RateLimited => "rate_limited",
            Refusal::PortraitLocked => "portrait_locked",
            Refusal::AccountExists => "account_exists",
            Refusal::NotInRegistry => "not_in_registry",
            Refusal::DataMismatch(_) => "data_mismatch",
            Refusal::UnderAge(_) => "under_age",
            Refusal::GuardianNotRecorded(_) => "guardian_not_recorded",
            Refusal::GuardianDenied => "guardian_denied",
            Refusal::NoValidCard(_) => "no_valid_card",
            Refusal::NoResidenceCard => "no_residence_card",
            Refusal::NoRegistryContact => "no_registry_contact",
            Refusal::PortraitMismatch { .. } => "portrait_mismatch",
            Refusal::NoEnrolledPortrait => "no_enrolled_portrait",
            Refusal::EnrolledTemplateUnusable => "enrolled_template_unusable",
        }
    }

    /// The full reason, for the operator.
    pub fn reason(&self) -> Reason {
        let (field, message) = match self {
            Refusal::RateLimited => (None, "too many submissions for this identification number; try later".to_string()),
            Refusal::PortraitLocked => (None, "registration for this identification number is locked after repeated portrait failures".into()),
            Refusal::AccountExists => (Some("id_number"), "an account with this identification number exists already".into()),
            Refusal::NotInRegistry => (Some("id_number"), "this identification number is not in the population registry".into()),
            Refusal::DataMismatch(field) => (Some(*field), format!("the declared {field} differs from the population registry")),
            Refusal::UnderAge(age) => (Some("birthdate"), format!("applicants under 14 (this one is {age}) are registered at the request of a parent or guardian who holds an account")),
            Refusal::GuardianNotRecorded(age) => (Some("guardian_id_number"), format!("the applicant is {age}; the guardian named is not a parent or guardian recorded in the registry with an active account")),
            Refusal::GuardianDenied => (None, "the recorded parent or guardian denied the request".into()),
            Refusal::NoValidCard(problem) => (None, format!("from 14 a valid chip-based identity card is required: {problem}")),
            Refusal::NoResidenceCard => (None, "a foreigner needs a valid permanent or temporary residence card on record".into()),
            Refusal::NoRegistryContact => (None, "the registry holds no phone number or email for this person".into()),
            Refusal::PortraitMismatch { score, threshold } => (Some("portrait.template"), format!("the portrait does not match the enrolled one (score {score:.2}, needed {threshold:.2})")),
            Refusal::NoEnrolledPortrait => (None, "the registry holds no portrait to compare with".into()),
            Refusal::EnrolledTemplateUnusable => (None, "the enrolled portrait has another size than the capture devices make".into()),
        };
        Reason {
            code: self.code().into(),
            field: field.map(Into::into),
            message,
        }
    }
}

/// Full years between two dates.
pub fn age_on(birthdate: time::Date, today: time::Date) -> i32 {
    let mut age = today.year() - birthdate.year();
    if (today.month() as u8, today.day()) < (birthdate.month() as u8, birthdate.day()) {
        age -= 1;
    }
    age
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// What the guardian named in a request is, as far as the rules need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardianCheck {
    /// No guardian named.
    None,
    /// Named, but not recorded in the registry as the applicant's parent or guardian, or
    /// without an active account.
    NotRecorded,
    /// A recorded parent or guardian with an active account.
    Recorded,
}

/// What the registry record says against the declared data, the age rules, the card and the
/// contact: every reason to refuse that needs no biometric comparison. Ages are on `today`,
/// the date in Vietnam.
pub fn record_refusals(
    s: &Submission,
    p: &RegistryPerson,
    today: time::Date,
    guardian: GuardianCheck,
) -> Vec<Refusal> {
    let r = &s.request;
    let mut out = Vec::new();
    let mut check = |field: &'static str, ok: bool| {
        if !ok {
            out.push(Refusal::DataMismatch(field));
        }
    };
    check("kind", p.kind == s.kind);
    check("family_name", same(&r.family_name, &p.family_name));
    check(
        "middle_name",
        same(
            r.middle_name.as_deref().unwrap_or(""),
            p.middle_name.as_deref().unwrap_or(""),
        ),
    );
    check("given_name", same(&r.given_name, &p.given_name));
    check("birthdate", r.birthdate == p.birthdate);
    check("gender", r.gender == p.gender.as_str());
    if s.kind == AccountKind::Foreigner {
        check("nationality", r.nationality == p.nationality);
    }
    let age = age_on(s.birthdate, today);
    if age < CARD_REQUIRED_FROM_AGE {
        match guardian {
            GuardianCheck::Recorded => {}
            GuardianCheck::None => out.push(Refusal::UnderAge(age)),
            GuardianCheck::NotRecorded => out.push(Refusal::GuardianNotRecorded(age)),
        }
    }
    if s.kind == AccountKind::Citizen
        && age >= CARD_REQUIRED_FROM_AGE
        && let Err(problem) = card_valid_on(p.identity_card.as_ref(), today)
    {
        out.push(Refusal::NoValidCard(problem));
    }
    if s.kind == AccountKind::Foreigner {
        let valid_card = p
            .residence_card
            .as_ref()
            .is_some_and(|c| c.expires_on.as_str() > today.to_string().as_str());
        if !valid_card && age >= 6 {
            out.push(Refusal::NoResidenceCard);
        }
    }
    if p.contact().is_none() {
        out.push(Refusal::NoRegistryContact);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{CardKind, CardStatus, Dimensions, IdentityCard};
    use serde_json::json;

    fn chip_card() -> IdentityCard {
        IdentityCard {
            number: "001301000123".into(),
            kind: CardKind::ChipCccd,
            issued_on: "2021-05-01".into(),
            expires_on: Some("2026-04-02".into()),
            status: CardStatus::Valid,
        }
    }

    fn submission() -> Submission {
        let body = json!({
            "id_number": "001301000123", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
            "birthdate": "2001-04-02", "gender": "female",
            "portrait": { "template": (0..64).map(|i| (i % 7) as f32 - 3.0).collect::<Vec<_>>(), "device_id": "phone-1" }
        });
        super::super::parse(body.to_string().as_bytes(), Dimensions { portrait: 64 }).unwrap()
    }

    #[test]
    fn the_registry_record_decides_without_biometrics() {
        let s = submission();
        let person = RegistryPerson {
            id_number: "001301000123".into(),
            kind: AccountKind::Citizen,
            family_name: "Lê".into(),
            middle_name: Some("Minh".into()),
            given_name: "Châu".into(),
            birthdate: "2001-04-02".into(),
            gender: vneid_contract::Gender::Female,
            nationality: None,
            travel_document: None,
            residence_card: None,
            documents: vec![],
            phone_number: Some("+84912345678".into()),
            email: None,
            identity_card: Some(chip_card()),
            relations: vec![],
            permanent_residence: None,
        };
        let today = time::macros::date!(2026 - 01 - 01);
        assert_eq!(
            record_refusals(&s, &person, today, GuardianCheck::None),
            vec![]
        );
        let other = RegistryPerson {
            given_name: "Chi".into(),
            phone_number: None,
            ..person.clone()
        };
        assert_eq!(
            record_refusals(&s, &other, today, GuardianCheck::None),
            vec![
                Refusal::DataMismatch("given_name"),
                Refusal::NoRegistryContact
            ]
        );
        // Ten years before her 14th birthday she needs a guardian.
        let early = time::macros::date!(2011 - 01 - 01);
        assert_eq!(
            record_refusals(&s, &person, early, GuardianCheck::None),
            vec![Refusal::UnderAge(9)]
        );
        assert_eq!(
            record_refusals(&s, &person, early, GuardianCheck::NotRecorded),
            vec![Refusal::GuardianNotRecorded(9)]
        );
        assert_eq!(
            record_refusals(&s, &person, early, GuardianCheck::Recorded),
            vec![]
        );
    }

    #[test]
    fn from_fourteen_a_valid_chip_card_is_required() {
        let s = submission();
        let person = |card: Option<IdentityCard>| RegistryPerson {
            id_number: "001301000123".into(),
            kind: AccountKind::Citizen,
            family_name: "Lê".into(),
            middle_name: Some("Minh".into()),
            given_name: "Châu".into(),
            birthdate: "2001-04-02".into(),
            gender: vneid_contract::Gender::Female,
            nationality: None,
            travel_document: None,
            residence_card: None,
            documents: vec![],
            phone_number: Some("+84912345678".into()),
            email: None,
            identity_card: card,
            relations: vec![],
            permanent_residence: None,
        };
        let today = time::macros::date!(2026 - 01 - 01);
        assert_eq!(
            record_refusals(&s, &person(None), today, GuardianCheck::None),
            vec![Refusal::NoValidCard(CardProblem::Missing)]
        );
        let lost = IdentityCard {
            status: CardStatus::Lost,
            ..chip_card()
        };
        assert_eq!(
            record_refusals(&s, &person(Some(lost)), today, GuardianCheck::None),
            vec![Refusal::NoValidCard(CardProblem::NotInUse(
                CardStatus::Lost
            ))]
        );
        let after_expiry = time::macros::date!(2026 - 04 - 03);
        assert_eq!(
            record_refusals(
                &s,
                &person(Some(chip_card())),
                after_expiry,
                GuardianCheck::None
            ),
            vec![Refusal::NoValidCard(CardProblem::Expired)]
        );
        // Under 14 no card is needed (the request is a guardian's).
        let at_thirteen = time::macros::date!(2014 - 06 - 01);
        assert_eq!(
            record_refusals(&s, &person(None), at_thirteen, GuardianCheck::Recorded),
            vec![]
        );
    }

    #[test]
    fn refusal_reasons_carry_the_detail_for_the_operator() {
        let r = Refusal::PortraitMismatch {
            score: 0.41,
            threshold: 0.8,
        }
        .reason();
        assert_eq!(r.code, "portrait_mismatch");
        assert!(r.message.contains("0.41"));
        assert_eq!(Refusal::AccountExists.code(), "account_exists");
    }

    #[test]
    fn ages_count_full_years() {
        let d = |y, m, day| {
            time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap()
        };
        assert_eq!(age_on(d(2012, 5, 10), d(2026, 5, 9)), 13);
        assert_eq!(age_on(d(2012, 5, 10), d(2026, 5, 10)), 14);
    }
}
