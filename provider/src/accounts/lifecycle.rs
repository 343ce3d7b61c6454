//! The account lifecycle (Decree 69 Art. 16–17): statuses and levels as a typed state machine,
//! who may make each transition, and the notice the holder gets on the contact on record.
//!
//! | from → to                 | holder | registrar | supervisor | system (registry sync) |
//! |---------------------------|--------|-----------|------------|------------------------|
//! | active → locked           | yes    | no        | yes        | no                     |
//! | locked → active           | no     | no        | yes        | no                     |
//! | active → suspended        | no     | no        | yes        | yes                    |
//! | suspended → active        | no     | no        | yes        | yes                    |
//! | locked ↔ suspended        | no     | no        | yes        | no                     |
//! | any (not revoked) → revoked | no   | no        | yes        | no                     |
//! | revoked → anything        | never (final)                                          |
//!
//! A holder may lock their own account (a lost phone) but not unlock it: unlocking needs the
//! identity checked again at the desk, or a stolen session could undo the lock.
//!
//! Levels: a Level 2 account goes down to Level 1 by an officer's decision (supervisor) or by
//! the system when the registry says the identity card (or a foreigner's residence card) has
//! expired or is no longer valid. Going up is only the desk's enrolment. An organisation's own
//! account has no level and is never downgraded. After a downgrade, sessions and refresh grants
//! are capped at the account's level at once (`web::session::load`, `oidc::token`).

use vneid_contract::{AccountKind, Level};

use super::account::{Account, AccountStatus};
use crate::notify::Channel;

/// Who asks for a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Actor {
    /// The account's holder, in their own session.
    Holder,
    /// A registration officer.
    Registrar,
    /// A supervising officer.
    Supervisor,
    /// The provider itself, on what the registry says at a sync.
    System,
}

impl Actor {
    /// The name written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Holder => "holder",
            Actor::Registrar => "registrar",
            Actor::Supervisor => "supervisor",
            Actor::System => "system",
        }
    }
}

impl From<super::desk::Role> for Actor {
    fn from(role: super::desk::Role) -> Actor {
        match role {
            super::desk::Role::Registrar => Actor::Registrar,
            super::desk::Role::Supervisor => Actor::Supervisor,
        }
    }
}

/// Why a status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// This actor may not make this transition.
    #[error("a {} may not move an account from {} to {}", actor.as_str(), from.as_str(), to.as_str())]
    NotAllowed {
        actor: Actor,
        from: AccountStatus,
        to: AccountStatus,
    },
    /// A revoked account stays revoked (Decree 69 Art. 17).
    #[error("a revoked account cannot change status")]
    Final,
    /// The account has that status already.
    #[error("the account has that status already")]
    Unchanged,
}

/// Whether `actor` may take an account from `from` to `to`.
pub fn transition(actor: Actor, from: AccountStatus, to: AccountStatus) -> Result<(), Refused> {
    use AccountStatus::*;
    if from == Revoked {
        return Err(Refused::Final);
    }
    if from == to {
        return Err(Refused::Unchanged);
    }
    let allowed = match (from, to) {
        (Active, Locked) => matches!(actor, Actor::Holder | Actor::Supervisor),
        (Locked, Active) => actor == Actor::Supervisor,
        (Active, Suspended) | (Suspended, Active) => {
            matches!(actor, Actor::Supervisor | Actor::System)
        }
        (Locked, Suspended) | (Suspended, Locked) => actor == Actor::Supervisor,
        (_, Revoked) => actor == Actor::Supervisor,
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(Refused::NotAllowed { actor, from, to })
    }
}

/// Why a Level 2 account goes down to Level 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DowngradeReason {
    /// An officer decided it (a supervisor, at the desk).
    OfficerDecision,
    /// The registry says the identity card has expired or is no longer valid.
    CardInvalid,
    /// The registry says a foreigner's residence card has expired.
    ResidenceCardExpired,
}

impl DowngradeReason {
    /// The name written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            DowngradeReason::OfficerDecision => "officer_decision",
            DowngradeReason::CardInvalid => "card_invalid",
            DowngradeReason::ResidenceCardExpired => "residence_card_expired",
        }
    }

    /// Who may decide a downgrade for this reason.
    fn decided_by(self, actor: Actor) -> bool {
        match self {
            DowngradeReason::OfficerDecision => actor == Actor::Supervisor,
            DowngradeReason::CardInvalid | DowngradeReason::ResidenceCardExpired => {
                matches!(actor, Actor::System | Actor::Supervisor)
            }
        }
    }
}

/// Why a downgrade is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DowngradeRefused {
    /// Only Level 2 accounts go down (an organisation has no level).
    #[error("only a Level 2 account can be downgraded")]
    NotLevel2,
    /// A revoked account does not change.
    #[error("a revoked account cannot change")]
    Revoked,
    /// This actor may not decide a downgrade for this reason.
    #[error("a {} may not downgrade for {}", actor.as_str(), reason.as_str())]
    NotAllowed {
        actor: Actor,
        reason: DowngradeReason,
    },
}

/// The level `account` goes down to, if `actor` may downgrade it for `reason`.
pub fn downgrade(
    account: &Account,
    actor: Actor,
    reason: DowngradeReason,
) -> Result<Level, DowngradeRefused> {
    if account.status == AccountStatus::Revoked {
        return Err(DowngradeRefused::Revoked);
    }
    if account.kind == AccountKind::Organization || !account.is_level2() {
        return Err(DowngradeRefused::NotLevel2);
    }
    if !reason.decided_by(actor) {
        return Err(DowngradeRefused::NotAllowed { actor, reason });
    }
    Ok(Level::Level1)
}

/// What the registry, at a sync on `today` (Vietnam's date), says about a Level 2 account's
/// level: a foreigner whose residence card has expired (or who has none on record any more) goes
/// down to Level 1, and so does a citizen whose identity card the registry reports lost,
/// revoked, replaced or expired.
pub fn registry_downgrade(
    account: &Account,
    person: &crate::registry::RegistryPerson,
    today: time::Date,
) -> Option<DowngradeReason> {
    if !account.is_level2() || account.status == AccountStatus::Revoked {
        return None;
    }
    // A citizen's card the registry reports lost, revoked, replaced or expired (a person
    // whose record carries no card yet is left as they are: nothing was reported).
    if account.kind == AccountKind::Citizen
        && let Some(card) = &person.identity_card
        && matches!(
            card.valid_on(today),
            Err(crate::registry::CardProblem::NotInUse(_) | crate::registry::CardProblem::Expired)
        )
    {
        return Some(DowngradeReason::CardInvalid);
    }
    if account.kind == AccountKind::Foreigner {
        let valid = person.residence_card.as_ref().is_some_and(|card| {
            time::Date::parse(
                &card.expires_on,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .is_ok_and(|expires| expires >= today)
        });
        if !valid {
            return Some(DowngradeReason::ResidenceCardExpired);
        }
    }
    None
}

/// The level a login or a grant made at `reached` is worth now that the account is at
/// `account_level`: never more than the account has.
pub fn capped(reached: Level, account_level: Level) -> Level {
    reached.min(account_level)
}

/// A change the holder is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Status(AccountStatus),
    Downgraded(DowngradeReason),
}

/// Where a notice goes: the last verified contact on record (the phone number, else the email
/// address), else the unverified one the account was created with.
/// `None` when the account has neither (an organisation's own account: its representatives
/// are told instead by the desk).
pub fn notice_to(account: &Account) -> Option<(Channel, String)> {
    let phone = account
        .phone_number
        .as_ref()
        .filter(|p| !p.is_empty())
        .map(|p| (Channel::Sms, p.clone(), account.phone_verified));
    let email = account
        .email
        .as_ref()
        .filter(|e| !e.is_empty())
        .map(|e| (Channel::Email, e.clone(), account.email_verified));
    // A verified contact first (the phone number, then the email address); only when neither
    // is verified, the contact the account was created with (unverified contacts never come
    // from self-service: a change is stored only once its code is entered).
    let verified = [&phone, &email]
        .into_iter()
        .flatten()
        .find(|(_, _, verified)| *verified);
    verified
        .or(phone.as_ref())
        .or(email.as_ref())
        .map(|(channel, address, _)| (*channel, address.clone()))
}

/// The notice's text (no secret, no reason that would help an attacker: what happened and
/// whom to ask). ASCII, as SMS gateways prefer.
pub fn notice_text(change: Change) -> &'static str {
    match change {
        Change::Status(AccountStatus::Locked) => {
            "VNeID: tai khoan dinh danh dien tu cua ban da bi khoa. / Your electronic identity account has been locked. Lien he co quan Cong an / Contact the police if you did not ask for this."
        }
        Change::Status(AccountStatus::Suspended) => {
            "VNeID: tai khoan dinh danh dien tu cua ban da bi tam dung. / Your electronic identity account has been suspended. Lien he co quan Cong an / Contact the police."
        }
        Change::Status(AccountStatus::Revoked) => {
            "VNeID: tai khoan dinh danh dien tu cua ban da bi thu hoi. / Your electronic identity account has been revoked. Lien he co quan Cong an / Contact the police."
        }
        Change::Status(AccountStatus::Active) => {
            "VNeID: tai khoan dinh danh dien tu cua ban da duoc mo lai. / Your electronic identity account is active again."
        }
        Change::Downgraded(_) => {
            "VNeID: tai khoan dinh danh dien tu cua ban da chuyen ve muc 1. / Your electronic identity account is now Level 1. Den co quan Cong an de nang lai muc 2 / Visit the police to return to Level 2."
        }
    }
}

/// The notice of `change` to the holder's contact on record, as an outbox row (`None` when
/// there is no contact).
pub fn notice(account: &Account, change: Change, now: i64) -> Option<crate::store::OutboxRow> {
    let (channel, recipient) = notice_to(account)?;
    Some(
        crate::notify::Notification {
            channel,
            recipient: &recipient,
            subject: "VNeID",
            body: notice_text(change).to_string(),
            kind: notice_kind(change),
            account_id: Some(account.id.as_str()),
            secret: false,
        }
        .plain_row(now),
    )
}

/// The outbox kind of a notice.
pub fn notice_kind(change: Change) -> &'static str {
    match change {
        Change::Status(AccountStatus::Locked) => "account_locked",
        Change::Status(AccountStatus::Suspended) => "account_suspended",
        Change::Status(AccountStatus::Revoked) => "account_revoked",
        Change::Status(AccountStatus::Active) => "account_reactivated",
        Change::Downgraded(_) => "account_downgraded",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::account::AccountId;
    use AccountStatus::*;

    fn account(level: Option<Level>, status: AccountStatus) -> Account {
        Account {
            id: AccountId::new("a1"),
            kind: if level.is_some() {
                AccountKind::Citizen
            } else {
                AccountKind::Organization
            },
            level,
            status,
            username: "079198000002".into(),
            family_name: "Trần".into(),
            middle_name: None,
            given_name: "Bình".into(),
            birthdate: time::macros::date!(1998 - 07 - 25),
            phone_number: Some("+84901234567".into()),
            email: Some("binh@example.vn".into()),
            phone_verified: true,
            email_verified: true,
            has_second_factor: true,
            failed_logins: 0,
            locked_until: None,
            must_change_password: false,
        }
    }

    #[test]
    fn revoked_is_final_for_everyone() {
        for actor in [
            Actor::Holder,
            Actor::Registrar,
            Actor::Supervisor,
            Actor::System,
        ] {
            for to in AccountStatus::ALL {
                assert_eq!(transition(actor, Revoked, to), Err(Refused::Final));
            }
        }
    }

    #[test]
    fn who_may_make_each_transition() {
        let all = [
            Actor::Holder,
            Actor::Registrar,
            Actor::Supervisor,
            Actor::System,
        ];
        let table: [(AccountStatus, AccountStatus, &[Actor]); 7] = [
            (Active, Locked, &[Actor::Holder, Actor::Supervisor]),
            (Locked, Active, &[Actor::Supervisor]),
            (Active, Suspended, &[Actor::Supervisor, Actor::System]),
            (Suspended, Active, &[Actor::Supervisor, Actor::System]),
            (Locked, Suspended, &[Actor::Supervisor]),
            (Active, Revoked, &[Actor::Supervisor]),
            (Suspended, Revoked, &[Actor::Supervisor]),
        ];
        for (from, to, allowed) in table {
            for actor in all {
                let got = transition(actor, from, to);
                if allowed.contains(&actor) {
                    assert_eq!(got, Ok(()), "{actor:?} {from:?}->{to:?}");
                } else {
                    assert_eq!(
                        got,
                        Err(Refused::NotAllowed { actor, from, to }),
                        "{actor:?} {from:?}->{to:?}"
                    );
                }
            }
        }
        assert_eq!(
            transition(Actor::Supervisor, Locked, Locked),
            Err(Refused::Unchanged)
        );
    }

    #[test]
    fn a_holder_locks_but_never_unlocks() {
        assert_eq!(transition(Actor::Holder, Active, Locked), Ok(()));
        assert!(transition(Actor::Holder, Locked, Active).is_err());
    }

    #[test]
    fn downgrades_go_from_level2_to_level1_by_whom_the_reason_allows() {
        let l2 = account(Some(Level::Level2), Active);
        assert_eq!(
            downgrade(&l2, Actor::Supervisor, DowngradeReason::OfficerDecision),
            Ok(Level::Level1)
        );
        assert_eq!(
            downgrade(&l2, Actor::System, DowngradeReason::ResidenceCardExpired),
            Ok(Level::Level1)
        );
        assert!(matches!(
            downgrade(&l2, Actor::Registrar, DowngradeReason::OfficerDecision),
            Err(DowngradeRefused::NotAllowed { .. })
        ));
        assert!(matches!(
            downgrade(&l2, Actor::System, DowngradeReason::OfficerDecision),
            Err(DowngradeRefused::NotAllowed { .. })
        ));
        assert_eq!(
            downgrade(
                &account(Some(Level::Level1), Active),
                Actor::Supervisor,
                DowngradeReason::OfficerDecision
            ),
            Err(DowngradeRefused::NotLevel2)
        );
        assert_eq!(
            downgrade(
                &account(None, Active),
                Actor::Supervisor,
                DowngradeReason::OfficerDecision
            ),
            Err(DowngradeRefused::NotLevel2)
        );
        assert_eq!(
            downgrade(
                &account(Some(Level::Level2), Revoked),
                Actor::Supervisor,
                DowngradeReason::OfficerDecision
            ),
            Err(DowngradeRefused::Revoked)
        );
    }

    #[test]
    fn an_expired_residence_card_downgrades_a_level2_foreigner_at_sync() {
        use crate::registry::{RegistryPerson, ResidenceCard};
        let mut jane = account(Some(Level::Level2), Active);
        jane.kind = AccountKind::Foreigner;
        let mut person = RegistryPerson {
            id_number: "AB12345678".into(),
            kind: AccountKind::Foreigner,
            family_name: "Smith".into(),
            middle_name: None,
            given_name: "Jane".into(),
            birthdate: "1990-02-03".into(),
            gender: vneid_contract::Gender::Female,
            nationality: Some("GB".into()),
            travel_document: None,
            residence_card: Some(ResidenceCard {
                number: "TRC-1".into(),
                card_type: "temporary".into(),
                expires_on: "2026-05-10".into(),
            }),
            documents: vec![],
            phone_number: None,
            email: None,
            identity_card: None,
            relations: vec![],
            permanent_residence: None,
        };
        let today = time::macros::date!(2026 - 05 - 10);
        assert_eq!(registry_downgrade(&jane, &person, today), None);
        assert_eq!(
            registry_downgrade(&jane, &person, today.next_day().unwrap()),
            Some(DowngradeReason::ResidenceCardExpired)
        );
        person.residence_card = None;
        assert_eq!(
            registry_downgrade(&jane, &person, today),
            Some(DowngradeReason::ResidenceCardExpired)
        );
        // Level 1 already, or a citizen: nothing to do.
        jane.level = Some(Level::Level1);
        assert_eq!(registry_downgrade(&jane, &person, today), None);
        let citizen = account(Some(Level::Level2), Active);
        assert_eq!(registry_downgrade(&citizen, &person, today), None);
    }

    #[test]
    fn a_login_is_never_worth_more_than_the_account() {
        assert_eq!(capped(Level::Level2, Level::Level1), Level::Level1);
        assert_eq!(capped(Level::Level1, Level::Level2), Level::Level1);
        assert_eq!(capped(Level::Level2, Level::Level2), Level::Level2);
    }

    #[test]
    fn notices_go_to_the_phone_on_record_else_the_email() {
        let mut a = account(Some(Level::Level2), Active);
        assert_eq!(
            notice_to(&a),
            Some((Channel::Sms, "+84901234567".to_string()))
        );
        a.phone_number = None;
        assert_eq!(
            notice_to(&a),
            Some((Channel::Email, "binh@example.vn".to_string()))
        );
        a.email = None;
        assert_eq!(notice_to(&a), None);
        for s in AccountStatus::ALL {
            assert!(notice_text(Change::Status(s)).starts_with("VNeID"));
        }
    }

    #[test]
    fn notices_go_to_a_verified_contact_first() {
        let mut a = account(Some(Level::Level2), Active);
        assert_eq!(notice_to(&a).map(|n| n.0), Some(Channel::Sms));
        a.phone_verified = false;
        assert_eq!(
            notice_to(&a),
            Some((Channel::Email, "binh@example.vn".to_string()))
        );
        a.email_verified = false;
        assert_eq!(
            notice_to(&a),
            Some((Channel::Sms, "+84901234567".to_string())),
            "no verified contact: the one the account was created with"
        );
    }

    #[test]
    fn a_card_reported_lost_or_expired_downgrades_a_citizen_and_no_card_on_record_does_not() {
        use crate::registry::{CardKind, CardStatus, IdentityCard, RegistryPerson};
        let a = account(Some(Level::Level2), Active);
        let card = |status, expires_on: &str| IdentityCard {
            number: "079198000002".into(),
            kind: CardKind::ChipCccd,
            issued_on: "2021-05-01".into(),
            expires_on: Some(expires_on.into()),
            status,
        };
        let person = |identity_card| RegistryPerson {
            id_number: "079198000002".into(),
            kind: AccountKind::Citizen,
            family_name: "Trần".into(),
            middle_name: None,
            given_name: "Bình".into(),
            birthdate: "1998-07-25".into(),
            gender: vneid_contract::Gender::Female,
            nationality: None,
            travel_document: None,
            residence_card: None,
            documents: vec![],
            phone_number: None,
            email: None,
            identity_card,
            relations: vec![],
            permanent_residence: None,
        };
        let today = time::macros::date!(2026 - 03 - 01);
        assert_eq!(registry_downgrade(&a, &person(None), today), None);
        let valid = Some(card(CardStatus::Valid, "2038-07-25"));
        assert_eq!(registry_downgrade(&a, &person(valid), today), None);
        for c in [
            card(CardStatus::Lost, "2038-07-25"),
            card(CardStatus::Revoked, "2038-07-25"),
            card(CardStatus::Valid, "2026-02-28"),
        ] {
            assert_eq!(
                registry_downgrade(&a, &person(Some(c)), today),
                Some(DowngradeReason::CardInvalid)
            );
        }
    }
}
