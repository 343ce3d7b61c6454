//! The typed account: what the rules of `accounts/` reason about, built once from the store row
//! so no rule compares a status or a level as a string or a number.

use std::fmt;

use vneid_contract::{AccountKind, Level};

use crate::store::AccountRow;

/// An account's id (the row id, never shown to relying parties: they see a pairwise `sub`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

impl AccountId {
    /// Wraps a stored id.
    pub fn new(id: impl Into<String>) -> Self {
        AccountId(id.into())
    }

    /// The stored id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an account stands (Decree 69 Art. 16–17: lock, unlock, revoke). Who may move an
/// account between these is `accounts::lifecycle`'s state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountStatus {
    /// Usable.
    Active,
    /// Locked by an officer or at the holder's request; can be unlocked.
    Locked,
    /// Suspended while a question is settled (the registry reports the card lost, a check is
    /// pending): not usable, lifted by a supervisor or by the system when the cause is gone.
    Suspended,
    /// Revoked: final.
    Revoked,
}

impl AccountStatus {
    /// Every status.
    pub const ALL: [AccountStatus; 4] = [
        AccountStatus::Active,
        AccountStatus::Locked,
        AccountStatus::Suspended,
        AccountStatus::Revoked,
    ];

    /// The stored string.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Locked => "locked",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Revoked => "revoked",
        }
    }

    /// Parses the stored string.
    pub fn parse(s: &str) -> Option<AccountStatus> {
        AccountStatus::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A stored account row that does not make a valid account.
#[derive(Debug, thiserror::Error)]
#[error("stored account {id} is invalid: {what}")]
pub struct BadAccount {
    /// The row id.
    pub id: String,
    /// What is wrong.
    pub what: &'static str,
}

/// An electronic identity account, typed.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub kind: AccountKind,
    /// The account's level; `None` for an organisation's own account (no level, Decree 69).
    pub level: Option<Level>,
    pub status: AccountStatus,
    /// The identification number the holder logs in with.
    pub username: String,
    pub family_name: String,
    pub middle_name: Option<String>,
    pub given_name: String,
    pub birthdate: time::Date,
    pub phone_number: Option<String>,
    pub email: Option<String>,
    /// Whether a code sent to the phone number was entered (issue 11: contacts are unverified
    /// until then).
    pub phone_verified: bool,
    /// Whether a code sent to the email address was entered.
    pub email_verified: bool,
    /// Whether a possession factor (TOTP) is bound to the account.
    pub has_second_factor: bool,
    /// Wrong passwords since the last good one.
    pub failed_logins: i64,
    /// Locked against password attempts until this time (Unix seconds).
    pub locked_until: Option<i64>,
    pub must_change_password: bool,
}

impl Account {
    /// Whether the account may log in at all.
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }

    /// Whether this is a Level 2 account.
    pub fn is_level2(&self) -> bool {
        self.level == Some(Level::Level2)
    }

    /// Whether password attempts are locked at `now`.
    pub fn password_locked(&self, now: i64) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// The full name, family name first, as Vietnamese names are written.
    pub fn full_name(&self) -> String {
        [
            Some(self.family_name.as_str()),
            self.middle_name.as_deref(),
            Some(self.given_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
    }
}

impl TryFrom<&AccountRow> for Account {
    type Error = BadAccount;

    fn try_from(row: &AccountRow) -> Result<Self, BadAccount> {
        let bad = |what| BadAccount {
            id: row.id.clone(),
            what,
        };
        let kind = AccountKind::parse(&row.kind).ok_or_else(|| bad("kind"))?;
        let level = match (kind, row.level) {
            (AccountKind::Organization, _) => None,
            (_, n) => Some(Level::from_number(n).ok_or_else(|| bad("level"))?),
        };
        let birthdate = time::Date::parse(
            &row.birthdate,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| bad("birthdate"))?;
        Ok(Account {
            id: AccountId::new(row.id.clone()),
            kind,
            level,
            status: AccountStatus::parse(&row.status).ok_or_else(|| bad("status"))?,
            username: row.username.clone(),
            family_name: row.family_name.clone(),
            middle_name: row.middle_name.clone(),
            given_name: row.given_name.clone(),
            birthdate,
            phone_number: row.phone_number.clone(),
            email: row.email.clone(),
            phone_verified: row.phone_verified != 0,
            email_verified: row.email_verified != 0,
            has_second_factor: row.totp_secret.is_some(),
            failed_logins: row.failed_logins,
            locked_until: row.locked_until,
            must_change_password: row.must_change_password != 0,
        })
    }
}

impl TryFrom<AccountRow> for Account {
    type Error = BadAccount;

    fn try_from(row: AccountRow) -> Result<Self, BadAccount> {
        Account::try_from(&row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> AccountRow {
        AccountRow {
            id: "a1".into(),
            kind: "citizen".into(),
            level: 2,
            username: "079198000002".into(),
            password_hash: "x".into(),
            totp_secret: Some("sealed".into()),
            totp_last_step: 0,
            family_name: "Trần".into(),
            middle_name: Some("Thị".into()),
            given_name: "Bình".into(),
            birthdate: "1998-07-25".into(),
            gender: "female".into(),
            nationality: None,
            travel_document: None,
            portrait_jpeg: None,
            phone_number: Some("+84901234567".into()),
            phone_verified: 1,
            email: None,
            email_verified: 0,
            verified_at: 0,
            verification_evidence: None,
            status: "active".into(),
            failed_logins: 0,
            locked_until: Some(100),
            must_change_password: 0,
            second_factor_failures: 0,
            second_factor_locked_until: None,
        }
    }

    #[test]
    fn a_row_becomes_a_typed_account() {
        let a = Account::try_from(row()).unwrap();
        assert_eq!(a.kind, AccountKind::Citizen);
        assert!(a.is_level2() && a.is_active() && a.has_second_factor);
        assert_eq!(a.birthdate.to_string(), "1998-07-25");
        assert_eq!(a.full_name(), "Trần Thị Bình");
        assert!(a.password_locked(99) && !a.password_locked(100));
    }

    #[test]
    fn a_broken_row_is_refused_with_what_is_wrong() {
        for (mutate, what) in [
            (
                Box::new(|r: &mut AccountRow| r.status = "paused".into())
                    as Box<dyn Fn(&mut AccountRow)>,
                "status",
            ),
            (Box::new(|r: &mut AccountRow| r.level = 3), "level"),
            (
                Box::new(|r: &mut AccountRow| r.kind = "robot".into()),
                "kind",
            ),
            (
                Box::new(|r: &mut AccountRow| r.birthdate = "25/07/1998".into()),
                "birthdate",
            ),
        ] {
            let mut r = row();
            mutate(&mut r);
            assert_eq!(Account::try_from(r).unwrap_err().what, what);
        }
    }

    #[test]
    fn an_organisation_has_no_level() {
        let mut r = row();
        r.kind = "organization".into();
        r.level = 0;
        assert_eq!(Account::try_from(r).unwrap().level, None);
    }

    #[test]
    fn statuses_round_trip() {
        for s in AccountStatus::ALL {
            assert_eq!(AccountStatus::parse(s.as_str()), Some(s));
        }
    }
}
