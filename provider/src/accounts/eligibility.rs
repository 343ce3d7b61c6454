//! Who may be given a Level 2 account at the desk (Decree 69/2024/ND-CP): the person as the
//! registry knows them, their age on the day, a foreigner's residence card, and the account they
//! may already hold.

use vneid_contract::AccountKind;

use crate::accounts::account::{Account, AccountStatus};
use crate::registry::RegistryPerson;
use crate::registry::card::{CARD_REQUIRED_FROM_AGE, CardProblem, card_valid_on};

/// The youngest age for a Level 2 account.
pub const LEVEL2_MIN_AGE: i32 = 6;

/// Why a person cannot be enrolled at Level 2 today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ineligible {
    /// The registry's birth date is not a date.
    #[error("the registry's birth date is unreadable")]
    BirthdateUnknown,
    /// Under [`LEVEL2_MIN_AGE`].
    #[error("no Level 2 account under 6")]
    TooYoung,
    /// A foreigner without a residence card valid today.
    #[error("a foreigner needs a residence card valid today")]
    NoValidResidenceCard,
    /// Organisations get their accounts through their representative, not at the desk's
    /// enrolment.
    #[error("an organisation is not enrolled at Level 2")]
    Organization,
    /// A citizen from 14 without a valid chip identity card on record (Decree 69/2024): none,
    /// reported lost, revoked, replaced or expired.
    #[error("from 14 a valid chip identity card is required: {0}")]
    NoValidCard(CardProblem),
    /// The existing account is locked: a supervisor unlocks it first.
    #[error("the account is locked")]
    AccountLocked,
    /// The existing account is revoked, for good.
    #[error("the account is revoked")]
    AccountRevoked,
    /// The existing account is not of the registry person's kind.
    #[error("the account does not match the registry record")]
    AccountMismatch,
}

/// Full years between two dates.
pub fn age_on(birthdate: time::Date, today: time::Date) -> i32 {
    let mut age = today.year() - birthdate.year();
    if (today.month() as u8, today.day()) < (birthdate.month() as u8, birthdate.day()) {
        age -= 1;
    }
    age
}

fn date(s: &str) -> Option<time::Date> {
    time::Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// Whether the request at the desk must be a parent's or guardian's: under 14 on `today`
/// (Decree 69/2024; the app's rule, so the two paths agree). An unreadable birth date is
/// refused by [`level2`] before this matters.
pub fn needs_guardian(person: &RegistryPerson, today: time::Date) -> bool {
    date(&person.birthdate).is_some_and(|born| age_on(born, today) < CARD_REQUIRED_FROM_AGE)
}

/// Whether `person` (with `existing`, the account they hold, if any) may be enrolled or upgraded
/// to Level 2 on `today`.
pub fn level2(
    person: &RegistryPerson,
    existing: Option<&Account>,
    today: time::Date,
) -> Result<(), Ineligible> {
    if person.kind == AccountKind::Organization {
        return Err(Ineligible::Organization);
    }
    let born = date(&person.birthdate).ok_or(Ineligible::BirthdateUnknown)?;
    if age_on(born, today) < LEVEL2_MIN_AGE {
        return Err(Ineligible::TooYoung);
    }
    if person.kind == AccountKind::Citizen && age_on(born, today) >= CARD_REQUIRED_FROM_AGE {
        card_valid_on(person.identity_card.as_ref(), today).map_err(Ineligible::NoValidCard)?;
    }
    if person.kind == AccountKind::Foreigner {
        let valid = person
            .residence_card
            .as_ref()
            .and_then(|card| date(&card.expires_on))
            .is_some_and(|expires| expires > today);
        if !valid {
            return Err(Ineligible::NoValidResidenceCard);
        }
    }
    if let Some(account) = existing {
        match account.status {
            AccountStatus::Active => {}
            AccountStatus::Locked | AccountStatus::Suspended => {
                return Err(Ineligible::AccountLocked);
            }
            AccountStatus::Revoked => return Err(Ineligible::AccountRevoked),
        }
        if account.kind != person.kind || account.username != person.id_number {
            return Err(Ineligible::AccountMismatch);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::account::AccountId;
    use crate::registry::ResidenceCard;
    use time::macros::date;
    use vneid_contract::Gender;

    fn person(kind: AccountKind, birthdate: &str) -> RegistryPerson {
        RegistryPerson {
            phone_number: None,
            email: None,
            identity_card: Some(crate::registry::IdentityCard {
                number: "001301000123".into(),
                kind: crate::registry::CardKind::ChipCccd,
                issued_on: "2021-05-01".into(),
                expires_on: Some("2041-04-02".into()),
                status: crate::registry::CardStatus::Valid,
            }),
            relations: vec![],
            permanent_residence: None,
            id_number: "001301000123".into(),
            kind,
            family_name: "Lê".into(),
            middle_name: None,
            given_name: "Châu".into(),
            birthdate: birthdate.into(),
            gender: Gender::Female,
            nationality: None,
            travel_document: None,
            residence_card: None,
            documents: Vec::new(),
        }
    }

    fn account(status: AccountStatus) -> Account {
        Account {
            id: AccountId::new("a1"),
            kind: AccountKind::Citizen,
            level: Some(vneid_contract::Level::Level1),
            status,
            username: "001301000123".into(),
            family_name: "Lê".into(),
            middle_name: None,
            given_name: "Châu".into(),
            birthdate: date!(2001 - 04 - 02),
            phone_number: Some("+84912345678".into()),
            email: None,
            phone_verified: true,
            email_verified: true,
            has_second_factor: false,
            failed_logins: 0,
            locked_until: None,
            must_change_password: false,
        }
    }

    const TODAY: time::Date = date!(2026 - 03 - 01);

    #[test]
    fn six_is_the_youngest_age_counted_to_the_day() {
        let p = person(AccountKind::Citizen, "2020-03-01");
        assert_eq!(level2(&p, None, TODAY), Ok(()));
        let p = person(AccountKind::Citizen, "2020-03-02");
        assert_eq!(level2(&p, None, TODAY), Err(Ineligible::TooYoung));
        let p = person(AccountKind::Citizen, "01/03/2000");
        assert_eq!(level2(&p, None, TODAY), Err(Ineligible::BirthdateUnknown));
    }

    #[test]
    fn a_foreigner_needs_a_residence_card_valid_after_today() {
        let mut p = person(AccountKind::Foreigner, "1990-02-03");
        assert_eq!(
            level2(&p, None, TODAY),
            Err(Ineligible::NoValidResidenceCard)
        );
        let card = |expires_on: &str| ResidenceCard {
            number: "TRC-1".into(),
            card_type: "temporary".into(),
            expires_on: expires_on.into(),
        };
        p.residence_card = Some(card("2026-03-01"));
        assert_eq!(
            level2(&p, None, TODAY),
            Err(Ineligible::NoValidResidenceCard)
        );
        p.residence_card = Some(card("2026-3-2x"));
        assert_eq!(
            level2(&p, None, TODAY),
            Err(Ineligible::NoValidResidenceCard)
        );
        p.residence_card = Some(card("2026-03-02"));
        assert_eq!(level2(&p, None, TODAY), Ok(()));
    }

    #[test]
    fn from_fourteen_a_citizen_needs_a_valid_chip_card_and_under_fourteen_a_guardian() {
        use crate::registry::{CardProblem, CardStatus};
        let mut p = person(AccountKind::Citizen, "2001-04-02");
        assert_eq!(level2(&p, None, TODAY), Ok(()));
        assert!(!needs_guardian(&p, TODAY));
        if let Some(card) = p.identity_card.as_mut() {
            card.status = CardStatus::Lost;
        }
        assert_eq!(
            level2(&p, None, TODAY),
            Err(Ineligible::NoValidCard(CardProblem::NotInUse(
                CardStatus::Lost
            )))
        );
        p.identity_card = None;
        assert_eq!(
            level2(&p, None, TODAY),
            Err(Ineligible::NoValidCard(CardProblem::Missing))
        );
        // At 13 no card is asked for, but the request is a guardian's.
        let mut child = person(AccountKind::Citizen, "2012-03-02");
        child.identity_card = None;
        assert_eq!(level2(&child, None, TODAY), Ok(()));
        assert!(needs_guardian(&child, TODAY));
    }

    #[test]
    fn only_an_active_account_of_the_same_person_is_upgraded() {
        let p = person(AccountKind::Citizen, "2001-04-02");
        assert_eq!(
            level2(&p, Some(&account(AccountStatus::Active)), TODAY),
            Ok(())
        );
        assert_eq!(
            level2(&p, Some(&account(AccountStatus::Locked)), TODAY),
            Err(Ineligible::AccountLocked)
        );
        assert_eq!(
            level2(&p, Some(&account(AccountStatus::Revoked)), TODAY),
            Err(Ineligible::AccountRevoked)
        );
        let mut other = account(AccountStatus::Active);
        other.kind = AccountKind::Foreigner;
        assert_eq!(
            level2(&p, Some(&other), TODAY),
            Err(Ineligible::AccountMismatch)
        );
        let org = person(AccountKind::Organization, "2001-04-02");
        assert_eq!(level2(&org, None, TODAY), Err(Ineligible::Organization));
    }
}
