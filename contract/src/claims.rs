//! Claims, the scopes that release them, and how the consent page names them.

use crate::level::Level;
use crate::scope::Scope;

/// A claim of CONTRACT.md, or a protocol claim the provider issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Claim {
    /// `sub`: the subject identifier, pairwise per client by default.
    Sub,
    /// `name`: full name.
    Name,
    /// `family_name`: family name (họ).
    FamilyName,
    /// `middle_name`: middle name(s) (chữ đệm).
    MiddleName,
    /// `given_name`: given name (tên).
    GivenName,
    /// `birthdate`: date of birth, YYYY-MM-DD.
    Birthdate,
    /// `gender`: `male` or `female`.
    Gender,
    /// `personal_id_number`: a citizen's 12-digit personal identification number.
    PersonalIdNumber,
    /// `foreigner_id_number`: a foreigner's identification number.
    ForeignerIdNumber,
    /// `nationality`: ISO 3166-1 alpha-2.
    Nationality,
    /// `travel_document`: a foreigner's passport or travel document.
    TravelDocument,
    /// `portrait`: the portrait photo as a `data:` URI (UserInfo only).
    Portrait,
    /// `phone_number`: E.164.
    PhoneNumber,
    /// `phone_number_verified`.
    PhoneNumberVerified,
    /// `email`.
    Email,
    /// `email_verified`.
    EmailVerified,
    /// `documents`: the documents integrated into a Level 2 account.
    Documents,
    /// `organization`: the organisation the holder represents.
    Organization,
    /// `acr`: the level of assurance this login reached.
    Acr,
    /// `amr`: the authentication methods used (RFC 8176).
    Amr,
    /// `auth_time`: when the holder authenticated.
    AuthTime,
    /// `verified_claims` (OpenID Connect for Identity Assurance).
    VerifiedClaims,
}

const NAMES: [(Claim, &str); 22] = [
    (Claim::Sub, "sub"),
    (Claim::Name, "name"),
    (Claim::FamilyName, "family_name"),
    (Claim::MiddleName, "middle_name"),
    (Claim::GivenName, "given_name"),
    (Claim::Birthdate, "birthdate"),
    (Claim::Gender, "gender"),
    (Claim::PersonalIdNumber, "personal_id_number"),
    (Claim::ForeignerIdNumber, "foreigner_id_number"),
    (Claim::Nationality, "nationality"),
    (Claim::TravelDocument, "travel_document"),
    (Claim::Portrait, "portrait"),
    (Claim::PhoneNumber, "phone_number"),
    (Claim::PhoneNumberVerified, "phone_number_verified"),
    (Claim::Email, "email"),
    (Claim::EmailVerified, "email_verified"),
    (Claim::Documents, "documents"),
    (Claim::Organization, "organization"),
    (Claim::Acr, "acr"),
    (Claim::Amr, "amr"),
    (Claim::AuthTime, "auth_time"),
    (Claim::VerifiedClaims, "verified_claims"),
];

// `Claim::as_str` indexes `NAMES` by discriminant: keep the table in declaration order.
const _: () = {
    let mut i = 0;
    while i < NAMES.len() {
        assert!(NAMES[i].0 as usize == i, "NAMES is out of order");
        i += 1;
    }
};

impl Claim {
    /// Every claim.
    pub const ALL: [Claim; 22] = {
        let mut all = [Claim::Sub; 22];
        let mut i = 0;
        while i < 22 {
            all[i] = NAMES[i].0;
            i += 1;
        }
        all
    };

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        NAMES[self as usize].1
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Claim> {
        NAMES.iter().find(|(_, name)| *name == s).map(|(c, _)| *c)
    }

    /// The scope that releases this claim (none for protocol claims).
    pub fn scope(self) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.claims().contains(&self))
    }

    /// The level a login must reach for this claim to be released.
    pub fn required_level(self) -> Option<Level> {
        self.scope().and_then(Scope::required_level)
    }

    /// Whether the claim may appear in an ID token (the portrait is UserInfo only).
    pub fn id_token_allowed(self) -> bool {
        self != Claim::Portrait
    }
}

crate::string_serde!(Claim, "claim");

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// Vietnamese, the default.
    #[default]
    Vi,
    /// English.
    En,
}

impl Lang {
    /// `vi` or `en`.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    /// The first language of a `ui_locales` list (BCP 47 tags) that we speak.
    pub fn from_ui_locales(s: &str) -> Option<Lang> {
        s.split(' ').find_map(|tag| {
            let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
            match primary.as_str() {
                "vi" => Some(Lang::Vi),
                "en" => Some(Lang::En),
                _ => None,
            }
        })
    }
}

/// How the consent page names a claim, in words a citizen understands.
pub fn claim_description(claim: Claim, lang: Lang) -> &'static str {
    let (vi, en) = match claim {
        Claim::Sub => (
            "Mã định danh riêng cho dịch vụ này (không phải số định danh cá nhân)",
            "An identifier unique to this service (not your identification number)",
        ),
        Claim::Name => ("Họ và tên", "Full name"),
        Claim::FamilyName => ("Họ", "Family name"),
        Claim::MiddleName => ("Chữ đệm", "Middle name"),
        Claim::GivenName => ("Tên", "Given name"),
        Claim::Birthdate => ("Ngày sinh", "Date of birth"),
        Claim::Gender => ("Giới tính", "Sex"),
        Claim::PersonalIdNumber => ("Số định danh cá nhân", "Personal identification number"),
        Claim::ForeignerIdNumber => (
            "Số định danh của người nước ngoài",
            "Foreigner's identification number",
        ),
        Claim::Nationality => ("Quốc tịch", "Nationality"),
        Claim::TravelDocument => (
            "Hộ chiếu hoặc giấy tờ đi lại quốc tế (số, loại, ngày và nơi cấp)",
            "Passport or international travel document (number, type, date and place of issue)",
        ),
        Claim::Portrait => ("Ảnh chân dung", "Portrait photo"),
        Claim::PhoneNumber => ("Số điện thoại", "Phone number"),
        Claim::PhoneNumberVerified => (
            "Số điện thoại đã được xác minh hay chưa",
            "Whether the phone number is verified",
        ),
        Claim::Email => ("Địa chỉ email", "Email address"),
        Claim::EmailVerified => (
            "Email đã được xác minh hay chưa",
            "Whether the email address is verified",
        ),
        Claim::Documents => (
            "Giấy tờ đã tích hợp (giấy phép lái xe, thẻ bảo hiểm y tế, hộ chiếu)",
            "Integrated documents (driving licence, health-insurance card, passport)",
        ),
        Claim::Organization => (
            "Thông tin tổ chức mà bạn là người đại diện theo pháp luật",
            "The organisation you legally represent",
        ),
        Claim::Acr => (
            "Mức độ xác thực của lần đăng nhập",
            "The assurance level of this login",
        ),
        Claim::Amr => (
            "Phương thức xác thực đã dùng",
            "The authentication methods used",
        ),
        Claim::AuthTime => ("Thời điểm đăng nhập", "When you logged in"),
        Claim::VerifiedClaims => (
            "Thông tin về việc xác minh danh tính của bạn",
            "How your identity was verified",
        ),
    };
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// How the consent page names a scope.
pub fn scope_description(scope: Scope, lang: Lang) -> &'static str {
    let (vi, en) = match scope {
        Scope::OpenId => (
            "Đăng nhập bằng tài khoản định danh điện tử",
            "Log in with your electronic identity",
        ),
        Scope::Profile => ("Họ tên, ngày sinh, giới tính", "Name, date of birth, sex"),
        Scope::IdentityNumber => (
            "Số định danh cá nhân (người nước ngoài: số định danh, quốc tịch, hộ chiếu)",
            "Your identification number (foreigners: also nationality and passport)",
        ),
        Scope::Portrait => ("Ảnh chân dung", "Portrait photo"),
        Scope::Phone => ("Số điện thoại", "Phone number"),
        Scope::Email => ("Địa chỉ email", "Email address"),
        Scope::Documents => (
            "Giấy tờ đã tích hợp (giấy phép lái xe, thẻ bảo hiểm y tế, hộ chiếu)",
            "Integrated documents (driving licence, health-insurance card, passport)",
        ),
        Scope::Organization => (
            "Thông tin tổ chức mà bạn là người đại diện theo pháp luật",
            "The organisation you legally represent",
        ),
        Scope::OfflineAccess => (
            "Giữ đăng nhập khi bạn không sử dụng dịch vụ",
            "Stay signed in to this service when you are not using it",
        ),
        Scope::EkycReceipt => (
            "Biên nhận điện tử có chữ ký về thông tin được cung cấp và cách danh tính của bạn đã được xác minh, để dịch vụ lưu làm bằng chứng",
            "A signed receipt of the information released and of how your identity was verified, which the service keeps as proof",
        ),
    };
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_names_round_trip_and_know_their_scope() {
        for c in Claim::ALL {
            assert_eq!(Claim::parse(c.as_str()), Some(c));
            assert_eq!(c.as_str().parse::<Claim>(), Ok(c));
            assert_eq!(c.to_string(), c.as_str());
        }
        assert_eq!(Claim::parse("address"), None);
        assert_eq!(Claim::Sub.scope(), Some(Scope::OpenId));
        assert_eq!(Claim::Sub.required_level(), None);
        assert_eq!(Claim::Name.scope(), Some(Scope::Profile));
        assert_eq!(Claim::Name.required_level(), Some(Level::Level1));
        assert_eq!(Claim::TravelDocument.scope(), Some(Scope::IdentityNumber));
        assert_eq!(Claim::Documents.required_level(), Some(Level::Level2));
        assert_eq!(Claim::Organization.required_level(), Some(Level::Level2));
        for c in [
            Claim::Acr,
            Claim::Amr,
            Claim::AuthTime,
            Claim::VerifiedClaims,
        ] {
            assert_eq!(c.scope(), None);
            assert_eq!(c.required_level(), None);
        }
        assert!(!Claim::Portrait.id_token_allowed());
        assert!(Claim::PersonalIdNumber.id_token_allowed());
    }

    #[test]
    fn every_claim_of_a_scope_names_that_scope_back() {
        for s in Scope::ALL {
            for c in s.claims() {
                assert_eq!(c.scope(), Some(s), "{c}");
            }
        }
    }

    #[test]
    fn claims_serialize_as_their_names() {
        assert_eq!(
            serde_json::to_string(&Claim::PersonalIdNumber).unwrap(),
            "\"personal_id_number\""
        );
        let c: Claim = serde_json::from_str("\"auth_time\"").unwrap();
        assert_eq!(c, Claim::AuthTime);
        assert!(serde_json::from_str::<Claim>("\"address\"").is_err());
    }

    #[test]
    fn every_claim_and_scope_is_described_in_both_languages() {
        for c in Claim::ALL {
            let (vi, en) = (
                claim_description(c, Lang::Vi),
                claim_description(c, Lang::En),
            );
            assert!(!vi.is_empty() && !en.is_empty() && vi != en, "{c}");
        }
        for s in Scope::ALL {
            let (vi, en) = (
                scope_description(s, Lang::Vi),
                scope_description(s, Lang::En),
            );
            assert!(!vi.is_empty() && !en.is_empty() && vi != en, "{s}");
        }
        assert_eq!(claim_description(Claim::Name, Lang::Vi), "Họ và tên");
        assert_eq!(
            claim_description(Claim::PersonalIdNumber, Lang::En),
            "Personal identification number"
        );
        assert_eq!(
            scope_description(Scope::OfflineAccess, Lang::Vi),
            "Giữ đăng nhập khi bạn không sử dụng dịch vụ"
        );
    }

    #[test]
    fn ui_locales_pick_the_first_language_we_speak() {
        assert_eq!(Lang::from_ui_locales("fr en-US vi"), Some(Lang::En));
        assert_eq!(Lang::from_ui_locales("en-US vi"), Some(Lang::En));
        assert_eq!(Lang::from_ui_locales("VI-vn"), Some(Lang::Vi));
        assert_eq!(Lang::from_ui_locales(" vi"), Some(Lang::Vi));
        assert_eq!(Lang::from_ui_locales("fr"), None);
        assert_eq!(Lang::from_ui_locales(""), None);
        assert_eq!(Lang::default(), Lang::Vi);
        assert_eq!(Lang::En.as_str(), "en");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::{Claim, Lang};

        proptest! {
            /// A claim name parses exactly when it is one of the contract's, by every route.
            #[test]
            fn any_text_is_a_claim_exactly_when_it_is_a_contract_name(
                s in prop_oneof![
                    any::<String>(),
                    prop::sample::select(Claim::ALL.to_vec()).prop_map(|c| c.as_str().to_string()),
                    prop::sample::select(Claim::ALL.to_vec()).prop_map(|c| c.as_str().to_uppercase()),
                ],
            ) {
                let known = Claim::ALL.iter().find(|c| c.as_str() == s).copied();
                prop_assert_eq!(Claim::parse(&s), known);
                match s.parse::<Claim>() {
                    Ok(c) => prop_assert_eq!(Some(c), known),
                    Err(e) => {
                        prop_assert!(known.is_none());
                        prop_assert_eq!(e.kind, "claim");
                        prop_assert_eq!(&e.value, &s);
                    }
                }
                let json = serde_json::to_string(&s).unwrap();
                prop_assert_eq!(serde_json::from_str::<Claim>(&json).ok(), known);
            }

            /// Any JSON where a claim name is expected: a claim or an error, never a panic.
            #[test]
            fn any_json_value_deserializes_to_a_claim_or_an_error(
                json in prop_oneof![
                    any::<i64>().prop_map(|n| n.to_string()),
                    any::<bool>().prop_map(|b| b.to_string()),
                    Just("null".to_string()),
                    Just("[\"sub\"]".to_string()),
                    prop::sample::select(Claim::ALL.to_vec()).prop_map(|c| format!("\"{}\"", c.as_str())),
                    ".{0,12}",
                ],
            ) {
                let as_text = serde_json::from_str::<String>(&json).ok();
                prop_assert_eq!(
                    serde_json::from_str::<Claim>(&json).ok(),
                    as_text.and_then(|s| Claim::parse(&s))
                );
            }

            /// `ui_locales`: anything gives a language we speak or none, never a panic.
            #[test]
            fn any_ui_locales_give_a_language_or_none(s in any::<String>()) {
                if let Some(lang) = Lang::from_ui_locales(&s) {
                    let tag = lang.as_str();
                    prop_assert!(s.to_ascii_lowercase().contains(tag), "{s:?} gave {tag}");
                }
            }
        }
    }
}
