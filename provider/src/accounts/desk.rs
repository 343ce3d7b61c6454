//! The rules of the Level 2 registration desk about officers: their roles and what each may do,
//! their login (a password and a TOTP code, each with its own failure counter and lock), the
//! binding of a biometric verification to the officer and desk session that made it, and which
//! account-status changes an officer may make.
//!
//! | action                         | registrar | supervisor |
//! |--------------------------------|-----------|------------|
//! | look a person up               | yes       | yes        |
//! | verify portrait and fingerprint| yes       | yes        |
//! | enrol / upgrade to Level 2     | yes       | yes        |
//! | lock, unlock an account        | no        | yes        |
//! | suspend an account             | no        | yes        |
//! | downgrade Level 2 to Level 1   | no        | yes        |
//! | revoke an account              | no        | yes        |
//! | re-sync documents from registry| yes       | yes        |
//! | change an organisation's representatives | no | yes  |
//! | register an organisation       | no        | yes        |

use std::fmt;

use crate::accounts::account::AccountStatus;
use crate::store::{OfficerRow, VerificationRow};

/// An officer's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OfficerId(String);

impl OfficerId {
    /// Wraps a stored id.
    pub fn new(id: impl Into<String>) -> Self {
        OfficerId(id.into())
    }

    /// The stored id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OfficerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an officer is allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Receives citizens: looks up, verifies, enrols.
    Registrar,
    /// A registrar who may also lock, unlock and revoke accounts and register organisations.
    Supervisor,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 2] = [Role::Registrar, Role::Supervisor];

    /// The stored (and command-line) name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Registrar => "registrar",
            Role::Supervisor => "supervisor",
        }
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may do `action`.
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::LookUp | Action::Verify | Action::Enrol | Action::SyncDocuments => true,
            Action::Lock
            | Action::Unlock
            | Action::Suspend
            | Action::Revoke
            | Action::Downgrade
            | Action::RegisterOrganization
            | Action::ChangeRepresentatives => self == Role::Supervisor,
        }
    }
}

/// Something an officer does at the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    LookUp,
    Verify,
    Enrol,
    Lock,
    Unlock,
    Suspend,
    Revoke,
    Downgrade,
    SyncDocuments,
    RegisterOrganization,
    ChangeRepresentatives,
}

impl Action {
    /// The name written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::LookUp => "look_up",
            Action::Verify => "verify",
            Action::Enrol => "enrol",
            Action::Lock => "lock",
            Action::Unlock => "unlock",
            Action::Suspend => "suspend",
            Action::Revoke => "revoke",
            Action::Downgrade => "downgrade",
            Action::SyncDocuments => "sync_documents",
            Action::RegisterOrganization => "register_organization",
            Action::ChangeRepresentatives => "change_representatives",
        }
    }
}

/// A stored officer row that does not make a valid officer.
#[derive(Debug, thiserror::Error)]
#[error("stored officer {id} is invalid: {what}")]
pub struct BadOfficer {
    /// The row id.
    pub id: String,
    /// What is wrong.
    pub what: &'static str,
}

/// A registration officer, typed.
#[derive(Debug, Clone)]
pub struct Officer {
    pub id: OfficerId,
    pub username: String,
    pub name: String,
    /// The police station the officer works for.
    pub station: String,
    pub role: Role,
    /// Wrong passwords since the last good login.
    pub failed_logins: i64,
    /// Password attempts locked until (Unix seconds).
    pub locked_until: Option<i64>,
    /// Wrong TOTP codes since the last good one.
    pub totp_failures: i64,
    /// The second factor locked until (Unix seconds).
    pub totp_locked_until: Option<i64>,
}

impl TryFrom<&OfficerRow> for Officer {
    type Error = BadOfficer;

    fn try_from(row: &OfficerRow) -> Result<Self, BadOfficer> {
        Ok(Officer {
            id: OfficerId::new(row.id.clone()),
            username: row.username.clone(),
            name: row.name.clone(),
            station: row.station.clone(),
            role: Role::parse(&row.role).ok_or_else(|| BadOfficer {
                id: row.id.clone(),
                what: "role",
            })?,
            failed_logins: row.failed_logins,
            locked_until: row.locked_until,
            totp_failures: row.totp_failures,
            totp_locked_until: row.totp_locked_until,
        })
    }
}

impl Officer {
    /// Whether password attempts are locked at `now`.
    pub fn password_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|t| t > now)
    }

    /// Whether the second factor is locked at `now`.
    pub fn second_factor_locked(&self, now: i64) -> bool {
        self.totp_locked_until.is_some_and(|t| t > now)
    }

    /// `Ok` when the officer may do `action`, else the refusal to audit.
    pub fn may(&self, action: Action) -> Result<(), Forbidden> {
        if self.role.may(action) {
            Ok(())
        } else {
            Err(Forbidden {
                role: self.role,
                action,
            })
        }
    }
}

/// An officer's role does not allow an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {} may not {}", role.as_str(), action.as_str())]
pub struct Forbidden {
    pub role: Role,
    pub action: Action,
}

/// What an officer's login attempt comes to, before any counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginStep {
    /// Password attempts are locked: refuse, count nothing.
    PasswordLocked,
    /// A wrong password: count it on the password's counter.
    WrongPassword,
    /// The password is right: the code decides (its attempt is counted on the second factor's
    /// own counter before it is checked; a correct password never resets that counter).
    CheckCode,
}

/// The first decision of an officer's login: the password's own lock and counter.
pub fn login_step(officer: &Officer, password_ok: bool, now: i64) -> LoginStep {
    if officer.password_locked(now) {
        LoginStep::PasswordLocked
    } else if !password_ok {
        LoginStep::WrongPassword
    } else {
        LoginStep::CheckCode
    }
}

/// Why a verification cannot be used for an enrolment (told to the officer as one message; the
/// reason goes to the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerificationRefused {
    #[error("no such verification")]
    Unknown,
    #[error("the verification was used already")]
    Used,
    #[error("the verification has expired")]
    Expired,
    #[error("the verification was made by another officer")]
    OtherOfficer,
    #[error("the verification was made at another station")]
    OtherStation,
    #[error("the verification was made in another desk session")]
    OtherSession,
}

impl VerificationRefused {
    /// The name written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationRefused::Unknown => "unknown",
            VerificationRefused::Used => "used",
            VerificationRefused::Expired => "expired",
            VerificationRefused::OtherOfficer => "other_officer",
            VerificationRefused::OtherStation => "other_station",
            VerificationRefused::OtherSession => "other_session",
        }
    }
}

/// Whether `officer`, in the desk session `session_hash`, may enrol with verification `v` at
/// `now`: only the officer who made it, at the same station, in the same desk session, before
/// it expires, once.
pub fn usable_verification(
    v: Option<&VerificationRow>,
    officer: &Officer,
    session_hash: &str,
    now: i64,
) -> Result<(), VerificationRefused> {
    let v = v.ok_or(VerificationRefused::Unknown)?;
    if v.officer_id != officer.id.as_str() {
        Err(VerificationRefused::OtherOfficer)
    } else if v.station != officer.station {
        Err(VerificationRefused::OtherStation)
    } else if v.session_hash != session_hash {
        Err(VerificationRefused::OtherSession)
    } else if v.used_at.is_some() {
        Err(VerificationRefused::Used)
    } else if v.expires_at <= now {
        Err(VerificationRefused::Expired)
    } else {
        Ok(())
    }
}

/// Why an account-status change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusRefused {
    /// The officer's role does not allow it.
    #[error(transparent)]
    Forbidden(#[from] Forbidden),
    /// A revoked account stays revoked (Decree 69 Art. 17).
    #[error("a revoked account cannot change status")]
    Final,
    /// The account has that status already.
    #[error("the account has that status already")]
    Unchanged,
}

/// The action that takes an account from `current` to `wanted`, if `role` may make it (the
/// transitions themselves are `lifecycle`'s state machine).
pub fn status_change(
    role: Role,
    current: AccountStatus,
    wanted: AccountStatus,
) -> Result<Action, StatusRefused> {
    use crate::accounts::lifecycle::{self, Refused};
    let action = match wanted {
        AccountStatus::Active => Action::Unlock,
        AccountStatus::Locked => Action::Lock,
        AccountStatus::Suspended => Action::Suspend,
        AccountStatus::Revoked => Action::Revoke,
    };
    if !role.may(action) {
        return Err(StatusRefused::Forbidden(Forbidden { role, action }));
    }
    match lifecycle::transition(role.into(), current, wanted) {
        Ok(()) => Ok(action),
        Err(Refused::Final) => Err(StatusRefused::Final),
        Err(Refused::Unchanged) => Err(StatusRefused::Unchanged),
        Err(Refused::NotAllowed { .. }) => {
            Err(StatusRefused::Forbidden(Forbidden { role, action }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn officer(role: Role) -> Officer {
        Officer {
            id: OfficerId::new("o1"),
            username: "canbo01".into(),
            name: "Cán bộ".into(),
            station: "Bến Nghé".into(),
            role,
            failed_logins: 0,
            locked_until: None,
            totp_failures: 0,
            totp_locked_until: None,
        }
    }

    fn verification() -> VerificationRow {
        VerificationRow {
            id: "v1".into(),
            officer_id: "o1".into(),
            id_number: "001301000123".into(),
            evidence: "{}".into(),
            station: "Bến Nghé".into(),
            session_hash: "s1".into(),
            expires_at: 1_000,
            used_at: None,
        }
    }

    #[test]
    fn registrars_enrol_and_supervisors_also_lock_revoke_and_register_organisations() {
        let r = Role::Registrar;
        let s = Role::Supervisor;
        for a in [
            Action::LookUp,
            Action::Verify,
            Action::Enrol,
            Action::SyncDocuments,
        ] {
            assert!(r.may(a) && s.may(a), "{a:?}");
        }
        for a in [
            Action::Lock,
            Action::Unlock,
            Action::Suspend,
            Action::Revoke,
            Action::Downgrade,
            Action::RegisterOrganization,
            Action::ChangeRepresentatives,
        ] {
            assert!(!r.may(a) && s.may(a), "{a:?}");
        }
        assert_eq!(
            officer(r).may(Action::Revoke),
            Err(Forbidden {
                role: r,
                action: Action::Revoke
            })
        );
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("registration_officer"), None);
    }

    #[test]
    fn a_verification_serves_only_its_officer_station_and_session_once_before_it_expires() {
        let v = verification();
        let me = officer(Role::Registrar);
        assert_eq!(usable_verification(Some(&v), &me, "s1", 999), Ok(()));
        assert_eq!(
            usable_verification(None, &me, "s1", 999),
            Err(VerificationRefused::Unknown)
        );
        let mut other = officer(Role::Supervisor);
        other.id = OfficerId::new("o2");
        assert_eq!(
            usable_verification(Some(&v), &other, "s1", 999),
            Err(VerificationRefused::OtherOfficer)
        );
        let mut moved = me.clone();
        moved.station = "Đa Kao".into();
        assert_eq!(
            usable_verification(Some(&v), &moved, "s1", 999),
            Err(VerificationRefused::OtherStation)
        );
        assert_eq!(
            usable_verification(Some(&v), &me, "s2", 999),
            Err(VerificationRefused::OtherSession)
        );
        assert_eq!(
            usable_verification(Some(&v), &me, "s1", 1_000),
            Err(VerificationRefused::Expired)
        );
        let used = VerificationRow {
            used_at: Some(5),
            ..v
        };
        assert_eq!(
            usable_verification(Some(&used), &me, "s1", 999),
            Err(VerificationRefused::Used)
        );
    }

    #[test]
    fn status_changes_follow_the_role_and_revocation_is_final() {
        use AccountStatus::*;
        assert_eq!(
            status_change(Role::Supervisor, Active, Locked),
            Ok(Action::Lock)
        );
        assert_eq!(
            status_change(Role::Supervisor, Locked, Active),
            Ok(Action::Unlock)
        );
        assert_eq!(
            status_change(Role::Supervisor, Locked, Revoked),
            Ok(Action::Revoke)
        );
        assert_eq!(
            status_change(Role::Supervisor, Revoked, Active),
            Err(StatusRefused::Final)
        );
        assert_eq!(
            status_change(Role::Supervisor, Active, Active),
            Err(StatusRefused::Unchanged)
        );
        for wanted in AccountStatus::ALL {
            assert!(matches!(
                status_change(Role::Registrar, Active, wanted),
                Err(StatusRefused::Forbidden(_))
            ));
        }
    }

    #[test]
    fn the_password_lock_and_counter_come_first_and_a_right_password_goes_to_the_code() {
        let mut o = officer(Role::Registrar);
        assert_eq!(login_step(&o, true, 10), LoginStep::CheckCode);
        assert_eq!(login_step(&o, false, 10), LoginStep::WrongPassword);
        o.locked_until = Some(20);
        assert_eq!(login_step(&o, true, 10), LoginStep::PasswordLocked);
        assert_eq!(login_step(&o, true, 20), LoginStep::CheckCode);
        // A locked second factor is decided by the store's atomic attempt count, not here,
        // but the typed officer says so.
        o.totp_locked_until = Some(30);
        assert!(o.second_factor_locked(29) && !o.second_factor_locked(30));
    }

    #[test]
    fn a_row_with_an_unknown_role_is_refused() {
        let row = OfficerRow {
            id: "o1".into(),
            username: "u".into(),
            name: "n".into(),
            station: "s".into(),
            role: "admin".into(),
            password_hash: "h".into(),
            totp_secret: "t".into(),
            failed_logins: 0,
            locked_until: None,
            totp_failures: 0,
            totp_locked_until: None,
        };
        assert_eq!(Officer::try_from(&row).unwrap_err().what, "role");
    }
}
