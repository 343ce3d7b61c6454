//! Account-status Security Event Tokens (RFC 8417, in the OpenID Shared Signals Framework's
//! shape; an addition to the contract): the events a relying party hears about an account it
//! received claims for, pushed (RFC 8935) or polled (RFC 8936).

/// The JWS `typ` of a SET (RFC 8417 2.3).
pub const SET_TYPE: &str = "secevent+jwt";

/// The poll endpoint (RFC 8936), listed in discovery as [`EVENTS_POLL_METADATA`].
pub const EVENTS_POLL_PATH: &str = "/events/poll";

/// The discovery member naming the poll endpoint.
pub const EVENTS_POLL_METADATA: &str = "vneid_security_events_poll_endpoint";

/// An event about an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccountEvent {
    /// RISC `account-disabled`: locked or revoked at the desk (its sessions and tokens ended).
    AccountDisabled,
    /// RISC `account-enabled`: unlocked.
    AccountEnabled,
    /// CAEP `credential-change`: the password changed.
    CredentialChange,
    /// CAEP `assurance-level-change`: the account's level changed.
    AssuranceLevelChange,
    /// The citizen withdrew their consent to this relying party (its tokens are revoked).
    ConsentWithdrawn,
}

impl AccountEvent {
    /// Every event.
    pub const ALL: [AccountEvent; 5] = [
        AccountEvent::AccountDisabled,
        AccountEvent::AccountEnabled,
        AccountEvent::CredentialChange,
        AccountEvent::AssuranceLevelChange,
        AccountEvent::ConsentWithdrawn,
    ];

    /// The event type URI.
    pub fn uri(self) -> &'static str {
        match self {
            AccountEvent::AccountDisabled => {
                "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
            }
            AccountEvent::AccountEnabled => {
                "https://schemas.openid.net/secevent/risc/event-type/account-enabled"
            }
            AccountEvent::CredentialChange => {
                "https://schemas.openid.net/secevent/caep/event-type/credential-change"
            }
            AccountEvent::AssuranceLevelChange => {
                "https://schemas.openid.net/secevent/caep/event-type/assurance-level-change"
            }
            AccountEvent::ConsentWithdrawn => "urn:vneid:secevent:consent-withdrawn",
        }
    }

    /// The event of a URI.
    pub fn from_uri(uri: &str) -> Option<AccountEvent> {
        AccountEvent::ALL.into_iter().find(|e| e.uri() == uri)
    }

    /// Whether the relying party should end the account's sessions with it.
    pub fn ends_sessions(self) -> bool {
        !matches!(
            self,
            AccountEvent::AccountEnabled | AccountEvent::AssuranceLevelChange
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip() {
        for e in AccountEvent::ALL {
            assert_eq!(AccountEvent::from_uri(e.uri()), Some(e));
        }
        assert_eq!(AccountEvent::from_uri("urn:other"), None);
        assert!(AccountEvent::AccountDisabled.ends_sessions());
        assert!(!AccountEvent::AccountEnabled.ends_sessions());
    }
}
