//! The relying-party contract of the VNeID OpenID provider: levels of assurance, scopes, claims,
//! identification numbers and the wire shapes of documents and organisations. The provider and
//! the SDK both use these types, so the two cannot drift from CONTRACT.md or from each other.

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod claims;
mod events;
mod level;
mod person;
mod pin;
mod predicate;
mod province;
mod receipt;
mod scope;

pub use claims::{Claim, Lang, claim_description, scope_description};
pub use events::{AccountEvent, EVENTS_POLL_METADATA, EVENTS_POLL_PATH, SET_TYPE};
pub use level::{ACR_LEVEL1, ACR_LEVEL2, AuthMethod, Level, TRUST_FRAMEWORK};
pub use person::{
    AccountKind, Document, DocumentType, Gender, Organization, Representative, TravelDocument,
};
pub use pin::{BirthPlace, PersonalIdNumber, PinError, PinMismatch};
pub use predicate::{AGE_OVER_RANGE, Predicate, PredicateDocument};
pub use province::Province;
pub use receipt::{
    KEY_HISTORY_METADATA, KEY_HISTORY_PATH, RECEIPT_MEMBER, RECEIPT_TYPE, ReceiptClaims,
};
pub use scope::{Scope, ScopeSet, UnknownScope};

/// A string that is not one of the wire names of a closed enum (returned by its `FromStr`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{value}`")]
pub struct UnknownValue {
    /// What was being parsed (`scope`, `claim`, `acr value`, ...).
    pub kind: &'static str,
    /// The string that was given.
    pub value: String,
}

/// Implements `Display`, `FromStr` and serde as the wire string for a closed enum with `as_str`
/// and `parse`.
macro_rules! string_serde {
    ($t:ty, $what:literal) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl std::str::FromStr for $t {
            type Err = $crate::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t>::parse(s).ok_or_else(|| $crate::UnknownValue {
                    kind: $what,
                    value: s.to_string(),
                })
            }
        }
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                s.parse::<$t>().map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use string_serde;
