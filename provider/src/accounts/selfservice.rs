//! What a self-service session may see and do: documents only at Level 2, a new password that
//! meets the rules, a contact change (the reset channel) that tells the old contact.
//! Plain functions over typed values; the pages in `web/account.rs` only parse and render.

use vneid_contract::Level;

use super::account::Account;
use super::{contact, password};
use crate::notify::Channel;

/// What the account page may show of the documents integrated into the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentsView {
    /// The session is a Level 2 login of a Level 2 account: show them.
    Shown,
    /// A Level 2 account signed in with the password only: ask for the second factor first.
    NeedsStepUp,
    /// Nothing to show at this account's level (or no second factor to step up with).
    Hidden,
}

/// Whether a session logged in at `session_level` sees the documents of `account`.
pub fn documents_view(account: &Account, session_level: Level) -> DocumentsView {
    if !account.is_level2() {
        DocumentsView::Hidden
    } else if session_level == Level::Level2 {
        DocumentsView::Shown
    } else if account.has_second_factor {
        DocumentsView::NeedsStepUp
    } else {
        DocumentsView::Hidden
    }
}

/// Whether the session may be stepped up to Level 2 with the second factor.
pub fn may_step_up(account: &Account, session_level: Level) -> bool {
    documents_view(account, session_level) == DocumentsView::NeedsStepUp
}

/// Why a new password is refused (the current one is checked separately: argon2 is async).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NewPasswordError {
    /// The two entries differ.
    #[error("the two entries differ")]
    Mismatch,
    /// Too short, no letter or digit, or the identification number.
    #[error("the password is too weak")]
    TooWeak,
}

/// Checks a new password and its confirmation for the holder of `username`.
pub fn check_new_password(
    new: &str,
    confirm: &str,
    username: &str,
) -> Result<(), NewPasswordError> {
    if new != confirm {
        Err(NewPasswordError::Mismatch)
    } else if !password::acceptable(new, username) {
        Err(NewPasswordError::TooWeak)
    } else {
        Ok(())
    }
}

/// Which contact detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    /// The phone number: also the password-reset channel.
    Phone,
    /// The email address.
    Email,
}

impl ContactKind {
    /// Parses the form value.
    pub fn parse(s: &str) -> Option<ContactKind> {
        match s {
            "phone" => Some(ContactKind::Phone),
            "email" => Some(ContactKind::Email),
            _ => None,
        }
    }

    /// The purpose of the one-time code that confirms a change.
    pub fn code_purpose(self) -> &'static str {
        match self {
            ContactKind::Phone => "phone_change",
            ContactKind::Email => "email_change",
        }
    }

    /// The channel a message to this contact goes by.
    pub fn channel(self) -> Channel {
        match self {
            ContactKind::Phone => Channel::Sms,
            ContactKind::Email => Channel::Email,
        }
    }
}

/// Why a contact change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Neither phone nor email.
    #[error("unknown kind of contact")]
    UnknownKind,
    /// Not a +84 mobile number or not an email address.
    #[error("not a valid phone number or email address")]
    Invalid,
    /// The same as the one on record.
    #[error("the same as the one on record")]
    Unchanged,
}

/// A checked new contact detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub kind: ContactKind,
    pub value: String,
}

/// Checks a requested contact change of `account`.
pub fn new_contact(account: &Account, kind: &str, value: &str) -> Result<NewContact, ContactError> {
    let kind = ContactKind::parse(kind).ok_or(ContactError::UnknownKind)?;
    let value = value.trim();
    let (valid, current) = match kind {
        ContactKind::Phone => (contact::is_phone(value), account.phone_number.as_deref()),
        ContactKind::Email => (contact::is_email(value), account.email.as_deref()),
    };
    if !valid {
        return Err(ContactError::Invalid);
    }
    if current == Some(value) {
        return Err(ContactError::Unchanged);
    }
    Ok(NewContact {
        kind,
        value: value.to_string(),
    })
}

/// A notice about a contact change, to the contact it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactNotice {
    pub channel: Channel,
    pub recipient: String,
    pub body: String,
}

/// The notice of a changed contact: to the old contact of the same kind, or, when there was
/// none, to the other contact on record; `None` when the account had no contact at all.
pub fn old_contact_notice(
    kind: ContactKind,
    old_phone: Option<&str>,
    old_email: Option<&str>,
    new_value: &str,
) -> Option<ContactNotice> {
    let what = match kind {
        ContactKind::Phone => "so dien thoai",
        ContactKind::Email => "email",
    };
    let body = format!(
        "VNeID: {what} cua tai khoan vua duoc doi thanh {}. Neu khong phai ban, hay khoa tai khoan \
         ngay tai co quan Cong an. (The {} of your account was changed.)",
        mask(new_value),
        match kind {
            ContactKind::Phone => "phone number",
            ContactKind::Email => "email address",
        }
    );
    let (same, other) = match kind {
        ContactKind::Phone => (
            old_phone.map(|p| (Channel::Sms, p)),
            old_email.map(|e| (Channel::Email, e)),
        ),
        ContactKind::Email => (
            old_email.map(|e| (Channel::Email, e)),
            old_phone.map(|p| (Channel::Sms, p)),
        ),
    };
    same.or(other).map(|(channel, recipient)| ContactNotice {
        channel,
        recipient: recipient.to_string(),
        body,
    })
}

/// A contact detail with most of it hidden: the last 3 digits of a number, the first letter
/// and the domain of an address.
pub fn mask(value: &str) -> String {
    match value.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => {
            let tail: String = value
                .chars()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("***{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use vneid_contract::AccountKind;

    use super::*;
    use crate::accounts::account::{AccountId, AccountStatus};

    fn account(level: Level, second_factor: bool) -> Account {
        Account {
            id: AccountId::new("a1"),
            kind: AccountKind::Citizen,
            level: Some(level),
            status: AccountStatus::Active,
            username: "079198000002".into(),
            family_name: "Trần".into(),
            middle_name: None,
            given_name: "Bình".into(),
            birthdate: time::macros::date!(1998 - 07 - 25),
            phone_number: Some("+84938000002".into()),
            email: None,
            phone_verified: true,
            email_verified: true,
            has_second_factor: second_factor,
            failed_logins: 0,
            locked_until: None,
            must_change_password: false,
        }
    }

    #[test]
    fn documents_need_a_level2_session() {
        let l2 = account(Level::Level2, true);
        assert_eq!(documents_view(&l2, Level::Level2), DocumentsView::Shown);
        assert_eq!(
            documents_view(&l2, Level::Level1),
            DocumentsView::NeedsStepUp
        );
        assert!(may_step_up(&l2, Level::Level1) && !may_step_up(&l2, Level::Level2));
        let no_factor = account(Level::Level2, false);
        assert_eq!(
            documents_view(&no_factor, Level::Level1),
            DocumentsView::Hidden
        );
        let l1 = account(Level::Level1, false);
        assert_eq!(documents_view(&l1, Level::Level2), DocumentsView::Hidden);
        assert!(!may_step_up(&l1, Level::Level1));
    }

    #[test]
    fn new_passwords() {
        let user = "079198000002";
        assert_eq!(
            check_new_password("Binh-2026-x", "Binh-2026-x", user),
            Ok(())
        );
        assert_eq!(
            check_new_password("Binh-2026-x", "Binh-2026-y", user),
            Err(NewPasswordError::Mismatch)
        );
        assert_eq!(
            check_new_password("short1", "short1", user),
            Err(NewPasswordError::TooWeak)
        );
    }

    #[test]
    fn contact_changes_are_checked() {
        let a = account(Level::Level2, true);
        assert_eq!(
            new_contact(&a, "phone", " +84987654321 "),
            Ok(NewContact {
                kind: ContactKind::Phone,
                value: "+84987654321".into()
            })
        );
        assert_eq!(
            new_contact(&a, "fax", "+84987654321"),
            Err(ContactError::UnknownKind)
        );
        assert_eq!(
            new_contact(&a, "phone", "0987654321"),
            Err(ContactError::Invalid)
        );
        assert_eq!(
            new_contact(&a, "phone", "+84938000002"),
            Err(ContactError::Unchanged)
        );
        assert_eq!(
            new_contact(&a, "email", "b@example.vn").map(|c| c.kind),
            Ok(ContactKind::Email)
        );
        assert_eq!(
            ContactKind::Phone.code_purpose(),
            "phone_change",
            "the stored purpose of earlier codes"
        );
    }

    #[test]
    fn the_old_contact_is_told() {
        let n = old_contact_notice(
            ContactKind::Phone,
            Some("+84938000002"),
            Some("b@example.vn"),
            "+84987654321",
        )
        .unwrap();
        assert_eq!(
            (n.channel, n.recipient.as_str()),
            (Channel::Sms, "+84938000002")
        );
        assert!(n.body.contains("***321") && !n.body.contains("+84987654321"));
        // No old email: the phone on record is told of the new email.
        let n = old_contact_notice(
            ContactKind::Email,
            Some("+84938000002"),
            None,
            "new@example.vn",
        )
        .unwrap();
        assert_eq!(
            (n.channel, n.recipient.as_str()),
            (Channel::Sms, "+84938000002")
        );
        assert!(n.body.contains("n***@example.vn"));
        assert_eq!(
            old_contact_notice(ContactKind::Phone, None, None, "+84987654321"),
            None
        );
    }
}
