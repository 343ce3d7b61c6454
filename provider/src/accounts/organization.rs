//! Organisations' own accounts (Decree 69: an agency or organisation has an account of its own,
//! with no level), created from the business registry, represented by one or more people who
//! hold active Level 2 accounts, and released through the `organization` scope by one of them.
//!
//! **The code.** What is validated is the enterprise code's form (Decree 01/2021/ND-CP Art. 8):
//! exactly 10 ASCII digits for an enterprise, or 10 digits, `-`, 3 digits for a branch or
//! representative office (`0101234567-001`). No checksum is computed (the registry is the
//! authority: a code it does not know is refused), and the code must name an organisation the
//! business registry has, in status `active`.
//!
//! **Representatives.** Each must hold an active Level 2 account (citizen or foreigner). The
//! registry's legal representative need not be the only one (an organisation may authorise
//! others), but at least one representative is needed at all times: the last cannot be removed.
//!
//! **Release.** A representative releases the organisation while both their account and the
//! organisation's are active and they have not been removed. With several organisations, only
//! the one chosen on the consent page is released (`released`), never "the first"; the choice
//! is part of the consent (remembered with it, withdrawn with it, offered again whenever the
//! consent page is shown) and is carried in the grant, so tokens keep the organisation chosen
//! when they were issued, while a removed representative releases nothing at once.

use vneid_contract::AccountKind;

use super::account::{Account, AccountStatus};
use crate::registry::RegistryOrganization;

/// Why an organisation code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an organisation code is 10 digits, or 10 digits, '-' and 3 digits for a branch")]
pub struct BadCode;

/// A well-formed organisation code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrganizationCode(String);

impl OrganizationCode {
    /// Checks the form (see the module's documentation).
    pub fn parse(s: &str) -> Result<OrganizationCode, BadCode> {
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        let ok = match s.split_once('-') {
            None => digits(s, 10),
            Some((main, branch)) => digits(main, 10) && digits(branch, 3),
        };
        if ok {
            Ok(OrganizationCode(s.to_string()))
        } else {
            Err(BadCode)
        }
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Why an organisation cannot be registered or a representative added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrganizationRefused {
    #[error(transparent)]
    BadCode(#[from] BadCode),
    #[error("the business registry has no organisation with this code")]
    NotInRegistry,
    #[error("the business registry says the organisation is {0}")]
    NotActive(String),
    #[error("at least one representative is needed")]
    NoRepresentative,
    #[error("representative {0} needs an active Level 2 account")]
    NotLevel2(String),
    #[error("the last representative cannot be removed")]
    LastRepresentative,
    #[error("{0} does not represent this organisation")]
    NotARepresentative(String),
}

/// Whether `person` may represent an organisation: an active Level 2 person account.
pub fn may_represent(person: &Account) -> Result<(), OrganizationRefused> {
    let is_person = matches!(person.kind, AccountKind::Citizen | AccountKind::Foreigner);
    if is_person && person.is_level2() && person.status == AccountStatus::Active {
        Ok(())
    } else {
        Err(OrganizationRefused::NotLevel2(person.username.clone()))
    }
}

/// Checks a registration: the code's form, the registry's record (present, active), and each
/// representative (`None`: a number with no account).
pub fn check_registration(
    code: &str,
    registry: Option<&RegistryOrganization>,
    representatives: &[(String, Option<Account>)],
) -> Result<OrganizationCode, OrganizationRefused> {
    let code = OrganizationCode::parse(code)?;
    let record = registry.ok_or(OrganizationRefused::NotInRegistry)?;
    if record.status != "active" {
        return Err(OrganizationRefused::NotActive(record.status.clone()));
    }
    if representatives.is_empty() {
        return Err(OrganizationRefused::NoRepresentative);
    }
    for (number, account) in representatives {
        match account {
            Some(a) => may_represent(a)?,
            None => return Err(OrganizationRefused::NotLevel2(number.clone())),
        }
    }
    Ok(code)
}

/// Whether `current` representatives (account ids) may lose `removed`.
pub fn check_removal(current: &[String], removed: &str) -> Result<(), OrganizationRefused> {
    if !current.iter().any(|c| c == removed) {
        return Err(OrganizationRefused::NotARepresentative(removed.to_string()));
    }
    if current.len() <= 1 {
        return Err(OrganizationRefused::LastRepresentative);
    }
    Ok(())
}

/// The representatives typed at the desk: numbers separated by commas or spaces, each once.
pub fn parse_representatives(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in s.split([',', ' ', ';', '\n']).map(str::trim) {
        if !n.is_empty() && !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    }
    out
}

/// Which of `codes` (the organisations a representative may release now) is released, given
/// the `chosen` code (on the consent page, remembered with the consent): the chosen one while
/// it is still represented, else the only one, never a guess among several.
pub fn released<'a>(codes: &'a [String], chosen: Option<&str>) -> Option<&'a String> {
    match (codes, chosen) {
        (_, Some(c)) if codes.iter().any(|o| o == c) => codes.iter().find(|o| *o == c),
        ([only], _) => Some(only),
        _ => None,
    }
}

/// Whether the consent page must ask which organisation to release: several are represented
/// and no valid choice is on record.
pub fn choice_needed(codes: &[String], chosen: Option<&str>) -> bool {
    codes.len() > 1 && released(codes, chosen).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::account::AccountId;
    use vneid_contract::Level;

    fn person(level: Level, status: AccountStatus) -> Account {
        Account {
            id: AccountId::new("a1"),
            kind: AccountKind::Citizen,
            level: Some(level),
            status,
            username: "079198000002".into(),
            family_name: "Trần".into(),
            middle_name: None,
            given_name: "Bình".into(),
            birthdate: time::macros::date!(1998 - 07 - 25),
            phone_number: None,
            email: None,
            phone_verified: true,
            email_verified: true,
            has_second_factor: true,
            failed_logins: 0,
            locked_until: None,
            must_change_password: false,
        }
    }

    fn record(status: &str) -> RegistryOrganization {
        RegistryOrganization {
            code: "0101234567".into(),
            name: "Công ty TNHH Bình An".into(),
            short_name: None,
            foreign_name: None,
            established_on: "2019-06-01".into(),
            head_office_address: "1 Lê Lợi".into(),
            status: status.into(),
            representatives: vec!["079198000002".into()],
        }
    }

    #[test]
    fn codes_are_ten_digits_or_a_branch() {
        for ok in ["0101234567", "0101234567-001"] {
            assert_eq!(OrganizationCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in [
            "",
            "010123456",
            "01012345678",
            "010123456a",
            "0101234567-01",
            "0101234567-0011",
            "0101234567-",
            "-001",
            "0101234567 001",
            "０１０１２３４５６７",
        ] {
            assert_eq!(OrganizationCode::parse(bad), Err(BadCode), "{bad}");
        }
    }

    #[test]
    fn a_registration_needs_the_registry_and_level2_representatives() {
        let rep = |l, s| vec![("079198000002".to_string(), Some(person(l, s)))];
        let active = record("active");
        assert!(
            check_registration(
                "0101234567",
                Some(&active),
                &rep(Level::Level2, AccountStatus::Active)
            )
            .is_ok()
        );
        assert_eq!(
            check_registration(
                "0101234567",
                None,
                &rep(Level::Level2, AccountStatus::Active)
            ),
            Err(OrganizationRefused::NotInRegistry)
        );
        assert_eq!(
            check_registration(
                "0101234567",
                Some(&record("dissolved")),
                &rep(Level::Level2, AccountStatus::Active)
            ),
            Err(OrganizationRefused::NotActive("dissolved".into()))
        );
        assert_eq!(
            check_registration("0101234567", Some(&active), &[]),
            Err(OrganizationRefused::NoRepresentative)
        );
        for (l, s) in [
            (Level::Level1, AccountStatus::Active),
            (Level::Level2, AccountStatus::Locked),
        ] {
            assert!(matches!(
                check_registration("0101234567", Some(&active), &rep(l, s)),
                Err(OrganizationRefused::NotLevel2(_))
            ));
        }
        assert!(matches!(
            check_registration("0101234567", Some(&active), &[("1".into(), None)]),
            Err(OrganizationRefused::NotLevel2(_))
        ));
        assert_eq!(
            check_registration("01-01", Some(&active), &[]),
            Err(OrganizationRefused::BadCode(BadCode))
        );
    }

    #[test]
    fn the_last_representative_stays() {
        let two = ["a".to_string(), "b".to_string()];
        assert_eq!(check_removal(&two, "a"), Ok(()));
        assert_eq!(
            check_removal(&two[..1], "a"),
            Err(OrganizationRefused::LastRepresentative)
        );
        assert!(matches!(
            check_removal(&two, "c"),
            Err(OrganizationRefused::NotARepresentative(_))
        ));
    }

    #[test]
    fn several_organisations_release_only_the_chosen_one() {
        let one = ["0101234567".to_string()];
        let two = ["0101234567".to_string(), "0309876543".to_string()];
        assert_eq!(released(&one, None), Some(&one[0]));
        assert_eq!(released(&two, None), None);
        assert_eq!(released(&two, Some("0309876543")), Some(&two[1]));
        assert_eq!(released(&two, Some("9999999999")), None);
        // A choice no longer represented: the only one left, or none among several.
        assert_eq!(released(&one, Some("0309876543")), Some(&one[0]));
        assert!(choice_needed(&two, None));
        assert!(choice_needed(&two, Some("9999999999")));
        assert!(!choice_needed(&two, Some("0101234567")));
        assert!(!choice_needed(&one, None));
        assert_eq!(
            parse_representatives("079198000002, 001301000123 079198000002"),
            ["079198000002", "001301000123"]
        );
    }
}
