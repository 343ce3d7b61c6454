//! The relying-party contract of the VNeID OpenID provider: levels of assurance, scopes, claims,
//! identification numbers and the wire shapes of documents and organisations. The provider and
//! the SDK both use these types, so the two cannot drift from CONTRACT.md or from each other.

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod claims;
mod level;
mod person;
mod pin;
mod scope;

pub use claims::{Claim, Lang, claim_description, scope_description};
pub use level::{ACR_LEVEL1, ACR_LEVEL2, AuthMethod, Level, TRUST_FRAMEWORK};
pub use person::{
    AccountKind, Document, DocumentType, Gender, Organization, Representative, TravelDocument,
};
pub use pin::{PersonalIdNumber, PinError, PinMismatch};
pub use scope::{Scope, ScopeSet, UnknownScope};

/// Implements `Display`, `FromStr`-like parsing and serde as the wire string for a closed enum
/// with `as_str` and `parse`.
macro_rules! string_serde {
    ($t:ty, $what:literal) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
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
                <$t>::parse(&s).ok_or_else(|| {
                    serde::de::Error::custom(format!(concat!("unknown ", $what, " `{}`"), s))
                })
            }
        }
    };
}
pub(crate) use string_serde;
