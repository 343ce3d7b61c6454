//! Levels of assurance and authentication methods.

/// The acr value of a Level 1 login (password).
pub const ACR_LEVEL1: &str = "urn:vneid:acr:level1";
/// The acr value of a Level 2 login (password and a possession factor, Level 2 account).
pub const ACR_LEVEL2: &str = "urn:vneid:acr:level2";
/// `verification.trust_framework` of `verified_claims`.
pub const TRUST_FRAMEWORK: &str = "vn_eid";

/// A level of assurance; Level 2 satisfies a Level 1 request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Password login, Level 1 or Level 2 account.
    Level1,
    /// Password plus a second factor, Level 2 account.
    Level2,
}

impl Level {
    /// Both levels, lowest first.
    pub const ALL: [Level; 2] = [Level::Level1, Level::Level2];

    /// The acr value.
    pub fn acr(self) -> &'static str {
        match self {
            Level::Level1 => ACR_LEVEL1,
            Level::Level2 => ACR_LEVEL2,
        }
    }

    /// The level an acr value names.
    pub fn from_acr(s: &str) -> Option<Level> {
        match s {
            ACR_LEVEL1 => Some(Level::Level1),
            ACR_LEVEL2 => Some(Level::Level2),
            _ => None,
        }
    }

    /// Parses the acr value (for the serde mapping).
    pub fn parse(s: &str) -> Option<Level> {
        Level::from_acr(s)
    }

    /// The acr value (for the serde mapping).
    pub fn as_str(self) -> &'static str {
        self.acr()
    }

    /// 1 or 2.
    pub fn as_number(self) -> u8 {
        match self {
            Level::Level1 => 1,
            Level::Level2 => 2,
        }
    }

    /// The level numbered 1 or 2.
    pub fn from_number(n: i64) -> Option<Level> {
        match n {
            1 => Some(Level::Level1),
            2 => Some(Level::Level2),
            _ => None,
        }
    }

    /// `verification.assurance_level` of `verified_claims`.
    pub fn assurance_level(self) -> &'static str {
        match self {
            Level::Level1 => "level1",
            Level::Level2 => "level2",
        }
    }

    /// Whether this level meets `required`.
    pub fn satisfies(self, required: Level) -> bool {
        self >= required
    }
}

crate::string_serde!(Level, "acr value");

/// Authentication method references (RFC 8176).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// Password.
    Pwd,
    /// One-time password.
    Otp,
    /// Proof of possession of a hardware-secured key (passkey).
    Hwk,
    /// Multiple factors.
    Mfa,
    /// Facial recognition.
    Face,
    /// Fingerprint.
    Fpt,
    /// Confirmation by SMS.
    Sms,
}

impl AuthMethod {
    /// The RFC 8176 value.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Pwd => "pwd",
            AuthMethod::Otp => "otp",
            AuthMethod::Hwk => "hwk",
            AuthMethod::Mfa => "mfa",
            AuthMethod::Face => "face",
            AuthMethod::Fpt => "fpt",
            AuthMethod::Sms => "sms",
        }
    }

    /// Parses an RFC 8176 value.
    pub fn parse(s: &str) -> Option<AuthMethod> {
        Some(match s {
            "pwd" => AuthMethod::Pwd,
            "otp" => AuthMethod::Otp,
            "hwk" => AuthMethod::Hwk,
            "mfa" => AuthMethod::Mfa,
            "face" => AuthMethod::Face,
            "fpt" => AuthMethod::Fpt,
            "sms" => AuthMethod::Sms,
            _ => return None,
        })
    }
}

crate::string_serde!(AuthMethod, "authentication method");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_map_to_acr() {
        assert!(Level::Level2 > Level::Level1);
        assert!(Level::Level2.satisfies(Level::Level1));
        assert!(Level::Level2.satisfies(Level::Level2));
        assert!(!Level::Level1.satisfies(Level::Level2));
        for l in Level::ALL {
            assert_eq!(Level::from_acr(l.acr()), Some(l));
            assert_eq!(Level::from_number(i64::from(l.as_number())), Some(l));
            assert_eq!(l.to_string(), l.acr());
        }
        assert_eq!(Level::Level1.acr(), "urn:vneid:acr:level1");
        assert_eq!(Level::Level2.as_number(), 2);
        assert_eq!(Level::Level2.assurance_level(), "level2");
        assert_eq!(Level::from_acr("urn:vneid:acr:level3"), None);
        assert_eq!(Level::from_number(0), None);
        assert_eq!(Level::from_number(3), None);
    }

    #[test]
    fn levels_serialize_as_acr_values() {
        assert_eq!(
            serde_json::to_string(&Level::Level2).unwrap(),
            "\"urn:vneid:acr:level2\""
        );
        let l: Level = serde_json::from_str("\"urn:vneid:acr:level1\"").unwrap();
        assert_eq!(l, Level::Level1);
        let err = serde_json::from_str::<Level>("\"level1\"").unwrap_err();
        assert!(
            err.to_string().contains("unknown acr value `level1`"),
            "{err}"
        );
    }

    #[test]
    fn auth_methods_are_rfc_8176_values() {
        let all = [
            (AuthMethod::Pwd, "pwd"),
            (AuthMethod::Otp, "otp"),
            (AuthMethod::Hwk, "hwk"),
            (AuthMethod::Mfa, "mfa"),
            (AuthMethod::Face, "face"),
            (AuthMethod::Fpt, "fpt"),
            (AuthMethod::Sms, "sms"),
        ];
        for (m, name) in all {
            assert_eq!(m.as_str(), name);
            assert_eq!(AuthMethod::parse(name), Some(m));
            assert_eq!(name.parse::<AuthMethod>(), Ok(m));
        }
        assert_eq!(AuthMethod::parse("PWD"), None);
        assert!("kba".parse::<AuthMethod>().is_err());
        let amr: Vec<AuthMethod> = serde_json::from_str(r#"["pwd","otp","mfa"]"#).unwrap();
        assert_eq!(amr, [AuthMethod::Pwd, AuthMethod::Otp, AuthMethod::Mfa]);
        assert_eq!(
            serde_json::to_string(&amr).unwrap(),
            r#"["pwd","otp","mfa"]"#
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{AuthMethod, Level};

        proptest! {
            /// An acr value names a level exactly when it is one of the two, by every route.
            #[test]
            fn any_acr_text_is_a_level_exactly_when_it_is_one_of_the_two(
                s in prop_oneof![
                    any::<String>(),
                    prop::sample::select(Level::ALL.to_vec()).prop_map(|l| l.acr().to_string()),
                    prop::sample::select(Level::ALL.to_vec()).prop_map(|l| format!("{} ", l.acr())),
                    "urn:vneid:acr:level[0-9]{1,2}",
                ],
            ) {
                let known = Level::ALL.iter().find(|l| l.acr() == s).copied();
                prop_assert_eq!(Level::from_acr(&s), known);
                prop_assert_eq!(s.parse::<Level>().ok(), known);
                let json = serde_json::to_string(&s).unwrap();
                prop_assert_eq!(serde_json::from_str::<Level>(&json).ok(), known);
                if let Some(level) = known {
                    prop_assert_eq!(level.to_string(), s);
                }
            }

            #[test]
            fn any_number_is_a_level_only_when_1_or_2(n in any::<i64>()) {
                let level = Level::from_number(n);
                prop_assert_eq!(level.is_some(), n == 1 || n == 2);
                if let Some(level) = level {
                    prop_assert_eq!(i64::from(level.as_number()), n);
                }
            }

            /// Levels are ordered as numbers, and `satisfies` is that order.
            #[test]
            fn satisfies_follows_the_numbers(
                a in prop::sample::select(Level::ALL.to_vec()),
                b in prop::sample::select(Level::ALL.to_vec()),
            ) {
                prop_assert_eq!(a.satisfies(b), a.as_number() >= b.as_number());
            }

            #[test]
            fn any_amr_text_is_a_method_or_none(s in any::<String>()) {
                if let Some(m) = AuthMethod::parse(&s) {
                    prop_assert_eq!(m.as_str(), s.as_str());
                }
                prop_assert_eq!(s.parse::<AuthMethod>().ok(), AuthMethod::parse(&s));
            }
        }
    }
}
