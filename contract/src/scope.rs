//! Scopes and sets of scopes.

use std::collections::BTreeSet;

use crate::claims::Claim;
use crate::level::Level;

/// A scope of CONTRACT.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `openid`: `sub`.
    OpenId,
    /// `profile`: names, birthdate, gender.
    Profile,
    /// `identity_number`: the personal (or foreigner's) identification number.
    IdentityNumber,
    /// `portrait`: the portrait photo (UserInfo only).
    Portrait,
    /// `phone`.
    Phone,
    /// `email`.
    Email,
    /// `documents`: integrated documents (Level 2).
    Documents,
    /// `organization`: the organisation the holder represents (Level 2).
    Organization,
    /// `offline_access`: a refresh token.
    OfflineAccess,
    /// `ekyc_receipt`: a signed eKYC receipt of what UserInfo released (an addition to the
    /// contract; no claim of its own).
    EkycReceipt,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 10] = [
        Scope::OpenId,
        Scope::Profile,
        Scope::IdentityNumber,
        Scope::Portrait,
        Scope::Phone,
        Scope::Email,
        Scope::Documents,
        Scope::Organization,
        Scope::OfflineAccess,
        Scope::EkycReceipt,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::IdentityNumber => "identity_number",
            Scope::Portrait => "portrait",
            Scope::Phone => "phone",
            Scope::Email => "email",
            Scope::Documents => "documents",
            Scope::Organization => "organization",
            Scope::OfflineAccess => "offline_access",
            Scope::EkycReceipt => "ekyc_receipt",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s)
    }

    /// The level a login must reach for this scope's claims to be released.
    pub fn required_level(self) -> Option<Level> {
        match self {
            Scope::OpenId | Scope::OfflineAccess | Scope::EkycReceipt => None,
            Scope::Documents | Scope::Organization => Some(Level::Level2),
            _ => Some(Level::Level1),
        }
    }

    /// The claims this scope releases.
    pub fn claims(self) -> &'static [Claim] {
        match self {
            Scope::OpenId => &[Claim::Sub],
            Scope::Profile => &[
                Claim::Name,
                Claim::FamilyName,
                Claim::MiddleName,
                Claim::GivenName,
                Claim::Birthdate,
                Claim::Gender,
            ],
            Scope::IdentityNumber => &[
                Claim::PersonalIdNumber,
                Claim::ForeignerIdNumber,
                Claim::Nationality,
                Claim::TravelDocument,
            ],
            Scope::Portrait => &[Claim::Portrait],
            Scope::Phone => &[Claim::PhoneNumber, Claim::PhoneNumberVerified],
            Scope::Email => &[Claim::Email, Claim::EmailVerified],
            Scope::Documents => &[Claim::Documents],
            Scope::Organization => &[Claim::Organization],
            Scope::OfflineAccess | Scope::EkycReceipt => &[],
        }
    }
}

crate::string_serde!(Scope, "scope");

/// A scope that is not in the contract.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}`")]
pub struct UnknownScope(pub String);

/// A set of scopes; displayed in a canonical order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    /// Parses a space-separated list; duplicates and extra spaces are ignored.
    pub fn parse(space_separated: &str) -> Result<ScopeSet, UnknownScope> {
        space_separated
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(|s| Scope::parse(s).ok_or_else(|| UnknownScope(s.to_string())))
            .collect()
    }

    /// Whether the set holds `scope`.
    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    /// Adds a scope.
    pub fn insert(&mut self, scope: Scope) {
        self.0.insert(scope);
    }

    /// The scopes, in order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    /// Whether every scope here is also in `other`.
    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    /// The scopes in both.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(self.0.intersection(&other.0).copied().collect())
    }

    /// The highest level any scope needs.
    pub fn required_level(&self) -> Option<Level> {
        self.iter().filter_map(Scope::required_level).max()
    }

    /// Every claim the scopes release, without duplicates, in claim order.
    pub fn claims(&self) -> Vec<Claim> {
        let set: BTreeSet<Claim> = self
            .iter()
            .flat_map(|s| s.claims().iter().copied())
            .collect();
        set.into_iter().collect()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().collect())
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.iter().map(Scope::as_str).collect();
        f.write_str(&names.join(" "))
    }
}

impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ScopeSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ScopeSet::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_levels_and_claims_follow_the_contract() {
        for s in Scope::ALL {
            assert_eq!(Scope::parse(s.as_str()), Some(s));
            assert_eq!(s.as_str().parse::<Scope>(), Ok(s));
        }
        assert_eq!(Scope::IdentityNumber.as_str(), "identity_number");
        assert_eq!(Scope::OfflineAccess.as_str(), "offline_access");
        assert_eq!(Scope::parse("OpenID"), None);
        assert_eq!(Scope::OpenId.required_level(), None);
        assert_eq!(Scope::OfflineAccess.required_level(), None);
        assert_eq!(Scope::Email.required_level(), Some(Level::Level1));
        assert_eq!(Scope::Documents.required_level(), Some(Level::Level2));
        assert_eq!(Scope::Organization.required_level(), Some(Level::Level2));
        assert_eq!(Scope::OpenId.claims(), [Claim::Sub]);
        assert!(Scope::OfflineAccess.claims().is_empty());
        assert_eq!(Scope::EkycReceipt.as_str(), "ekyc_receipt");
        assert_eq!(Scope::EkycReceipt.required_level(), None);
        assert!(Scope::EkycReceipt.claims().is_empty());
        assert_eq!(Scope::Portrait.claims(), [Claim::Portrait]);
    }

    #[test]
    fn parses_canonicalises_and_refuses_unknown_scopes() {
        let set = ScopeSet::parse(" profile  openid profile documents ").unwrap();
        assert_eq!(set.to_string(), "openid profile documents");
        assert_eq!(set.required_level(), Some(Level::Level2));
        assert_eq!(
            ScopeSet::parse("openid address phone2"),
            Err(UnknownScope("address".into()))
        );
        assert_eq!(
            UnknownScope("address".into()).to_string(),
            "unknown scope `address`"
        );
        assert!(ScopeSet::parse("").unwrap().is_empty());
        assert_eq!(
            ScopeSet::parse("openid offline_access")
                .unwrap()
                .required_level(),
            None
        );
    }

    #[test]
    fn set_operations() {
        let asked = ScopeSet::parse("openid profile documents").unwrap();
        let allowed = ScopeSet::parse("openid profile email").unwrap();
        assert!(ScopeSet::parse("openid").unwrap().is_subset(&asked));
        assert!(!asked.is_subset(&allowed));
        let both = asked.intersection(&allowed);
        assert_eq!(both.to_string(), "openid profile");
        assert!(both.contains(Scope::Profile) && !both.contains(Scope::Documents));
        let mut built: ScopeSet = [Scope::Email, Scope::OpenId].into_iter().collect();
        built.insert(Scope::Email);
        assert_eq!(
            built.iter().collect::<Vec<_>>(),
            [Scope::OpenId, Scope::Email]
        );
    }

    #[test]
    fn claims_are_deduplicated_in_claim_order() {
        let set = ScopeSet::parse("email openid phone").unwrap();
        assert_eq!(
            set.claims(),
            [
                Claim::Sub,
                Claim::PhoneNumber,
                Claim::PhoneNumberVerified,
                Claim::Email,
                Claim::EmailVerified,
            ]
        );
    }

    #[test]
    fn serializes_as_the_canonical_string() {
        let set = ScopeSet::parse("profile openid").unwrap();
        assert_eq!(serde_json::to_string(&set).unwrap(), "\"openid profile\"");
        let back: ScopeSet = serde_json::from_str("\"profile openid\"").unwrap();
        assert_eq!(back, set);
        let err = serde_json::from_str::<ScopeSet>("\"openid address\"").unwrap_err();
        assert!(err.to_string().contains("unknown scope `address`"), "{err}");
        assert_eq!(serde_json::to_string(&Scope::OpenId).unwrap(), "\"openid\"");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{Scope, ScopeSet, UnknownScope};

        fn scope_list() -> impl Strategy<Value = String> {
            let word = prop_oneof![
                prop::sample::select(Scope::ALL.to_vec()).prop_map(|s| s.as_str().to_string()),
                prop::sample::select(vec!["", " ", "OpenID", "address", "openid\t", "é"])
                    .prop_map(str::to_string),
                ".{0,6}",
            ];
            prop::collection::vec(word, 0..8).prop_map(|w| w.join(" "))
        }

        fn check(input: &str) -> Result<(), TestCaseError> {
            let words: Vec<&str> = input.split(' ').filter(|w| !w.is_empty()).collect();
            match ScopeSet::parse(input) {
                Ok(set) => {
                    prop_assert!(words.iter().all(|w| Scope::parse(w).is_some()));
                    prop_assert!(set.iter().all(|s| words.contains(&s.as_str())));
                    // Canonical: displayed, it parses back to itself, and is stable.
                    let shown = set.to_string();
                    prop_assert_eq!(ScopeSet::parse(&shown).unwrap(), set.clone());
                    prop_assert_eq!(ScopeSet::parse(&shown).unwrap().to_string(), shown);
                    prop_assert_eq!(
                        set.required_level(),
                        set.iter().filter_map(Scope::required_level).max()
                    );
                    let json = serde_json::to_string(&set).unwrap();
                    prop_assert_eq!(serde_json::from_str::<ScopeSet>(&json).unwrap(), set);
                }
                Err(UnknownScope(word)) => {
                    prop_assert!(words.contains(&word.as_str()));
                    prop_assert!(Scope::parse(&word).is_none());
                    // The first unknown word is the one named.
                    let first = words.iter().find(|w| Scope::parse(w).is_none());
                    prop_assert_eq!(first.copied(), Some(word.as_str()));
                }
            }
            Ok(())
        }

        proptest! {
            #[test]
            fn any_text_is_a_scope_set_or_names_the_unknown_scope(s in any::<String>()) {
                check(&s)?;
                prop_assert_eq!(Scope::parse(&s).is_some(), Scope::ALL.iter().any(|x| x.as_str() == s));
                prop_assert_eq!(s.parse::<Scope>().is_ok(), Scope::parse(&s).is_some());
            }

            #[test]
            fn scope_lists_are_parsed_or_name_the_unknown_scope(s in scope_list()) {
                check(&s)?;
            }
        }
    }
}
