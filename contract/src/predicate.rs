//! Predicate claims: a yes/no answer released instead of the data it is computed from
//! (an addition to the contract). `age_over_18` says whether the holder is 18 or older without
//! the birth date; `document_valid:driving_licence` whether a valid driving licence is
//! integrated without its number or dates. Asked for through the `claims` parameter, like any
//! claim (`{"userinfo":{"age_over_18":null}}`); the value is a JSON boolean.

use std::sync::LazyLock;

use crate::claims::Lang;
use crate::level::Level;
use crate::person::DocumentType;
use crate::province::Province;

/// The documents a `document_valid:<type>` predicate may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PredicateDocument {
    /// `driving_licence`.
    DrivingLicence,
    /// `health_insurance_card`.
    HealthInsuranceCard,
    /// `passport`.
    Passport,
}

impl PredicateDocument {
    /// Every document a predicate may name.
    pub const ALL: [PredicateDocument; 3] = [
        PredicateDocument::DrivingLicence,
        PredicateDocument::HealthInsuranceCard,
        PredicateDocument::Passport,
    ];

    /// The document type of the `documents` claim it stands for.
    pub fn document_type(self) -> DocumentType {
        match self {
            PredicateDocument::DrivingLicence => DocumentType::DrivingLicence,
            PredicateDocument::HealthInsuranceCard => DocumentType::HealthInsuranceCard,
            PredicateDocument::Passport => DocumentType::Passport,
        }
    }

    fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            PredicateDocument::DrivingLicence => (
                "document_valid:driving_licence",
                "giấy phép lái xe",
                "driving licence",
            ),
            PredicateDocument::HealthInsuranceCard => (
                "document_valid:health_insurance_card",
                "thẻ bảo hiểm y tế",
                "health-insurance card",
            ),
            PredicateDocument::Passport => ("document_valid:passport", "hộ chiếu", "passport"),
        }
    }
}

/// A predicate claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Predicate {
    /// `age_over_N`: the holder is N years old or older on today's date in Vietnam
    /// (Asia/Ho_Chi_Minh). Released for the N a relying party registered.
    AgeOver(u8),
    /// `document_valid:<type>`: a document of this type is integrated into the account and is
    /// not expired today (Level 2 logins only, like the documents).
    DocumentValid(PredicateDocument),
    /// `resident_of:<code>`: the holder's permanent residence, as the population registry
    /// records it, is in this (current) province. Released for the provinces a relying party
    /// registered, never with the address.
    ResidentOf(Province),
}

/// The youngest and oldest `age_over_N` thresholds.
pub const AGE_OVER_RANGE: std::ops::RangeInclusive<u8> = 1..=150;

const AGE_OVER_PREFIX: &str = "age_over_";
const DOCUMENT_VALID_PREFIX: &str = "document_valid:";
const RESIDENT_OF_PREFIX: &str = "resident_of:";

/// `age_over_0` ... `age_over_255`, made once so that names are `&'static str`.
static AGE_OVER_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    (0..=u8::MAX)
        .map(|n| format!("{AGE_OVER_PREFIX}{n}"))
        .collect()
});

impl Predicate {
    /// The wire name: `age_over_18`, `document_valid:passport`.
    pub fn as_str(self) -> &'static str {
        match self {
            Predicate::AgeOver(n) => AGE_OVER_NAMES
                .get(usize::from(n))
                .map_or("age_over", String::as_str),
            Predicate::DocumentValid(d) => d.names().0,
            Predicate::ResidentOf(p) => p.predicate_name(),
        }
    }

    /// Parses a wire name: `age_over_` and a threshold in [`AGE_OVER_RANGE`] written without
    /// sign or leading zero, `document_valid:` and one of [`PredicateDocument::ALL`], or
    /// `resident_of:` and the code of a current province ([`Province::parse`]).
    pub fn parse(s: &str) -> Option<Predicate> {
        if let Some(code) = s.strip_prefix(RESIDENT_OF_PREFIX) {
            return Province::parse(code).map(Predicate::ResidentOf);
        }
        if let Some(n) = s.strip_prefix(AGE_OVER_PREFIX) {
            let canonical = !n.is_empty()
                && n.len() <= 3
                && n.bytes().all(|b| b.is_ascii_digit())
                && !n.starts_with('0');
            let years: u8 = n.parse().ok().filter(|_| canonical)?;
            return AGE_OVER_RANGE
                .contains(&years)
                .then_some(Predicate::AgeOver(years));
        }
        if s.starts_with(DOCUMENT_VALID_PREFIX) {
            return PredicateDocument::ALL
                .into_iter()
                .find(|d| d.names().0 == s)
                .map(Predicate::DocumentValid);
        }
        None
    }

    /// The level a login must reach for this predicate to be released: that of the claims it
    /// is computed from (the birth date: Level 1; the documents: Level 2).
    pub fn required_level(self) -> Level {
        match self {
            Predicate::AgeOver(_) | Predicate::ResidentOf(_) => Level::Level1,
            Predicate::DocumentValid(_) => Level::Level2,
        }
    }

    /// How the consent page names it: with its value ("Aged 18 or over: yes"), or, without
    /// one, what is asked (and what is not released).
    pub fn description(self, lang: Lang, value: Option<bool>) -> String {
        let answer = |v: bool| match (lang, v) {
            (Lang::Vi, true) => "có",
            (Lang::Vi, false) => "không",
            (Lang::En, true) => "yes",
            (Lang::En, false) => "no",
        };
        match (self, value, lang) {
            (Predicate::AgeOver(n), Some(v), Lang::Vi) => {
                format!("Từ đủ {n} tuổi trở lên: {}", answer(v))
            }
            (Predicate::AgeOver(n), Some(v), Lang::En) => {
                format!("Aged {n} or over: {}", answer(v))
            }
            (Predicate::AgeOver(n), None, Lang::Vi) => {
                format!("Bạn có từ đủ {n} tuổi trở lên hay không (không gửi ngày sinh)")
            }
            (Predicate::AgeOver(n), None, Lang::En) => {
                format!("Whether you are aged {n} or over (not your date of birth)")
            }
            (Predicate::DocumentValid(d), Some(v), Lang::Vi) => {
                format!("Có {} còn hiệu lực: {}", d.names().1, answer(v))
            }
            (Predicate::DocumentValid(d), Some(v), Lang::En) => {
                format!("Holds a valid {}: {}", d.names().2, answer(v))
            }
            (Predicate::DocumentValid(d), None, Lang::Vi) => format!(
                "Bạn có {} còn hiệu lực hay không (không gửi số và ngày của giấy tờ)",
                d.names().1
            ),
            (Predicate::DocumentValid(d), None, Lang::En) => format!(
                "Whether you hold a valid {} (not its number or dates)",
                d.names().2
            ),
            (Predicate::ResidentOf(p), Some(v), Lang::Vi) => {
                format!("Thường trú tại {}: {}", p.name(lang), answer(v))
            }
            (Predicate::ResidentOf(p), Some(v), Lang::En) => {
                format!("Resident of {}: {}", p.name(lang), answer(v))
            }
            (Predicate::ResidentOf(p), None, Lang::Vi) => format!(
                "Bạn có thường trú tại {} hay không (không gửi địa chỉ)",
                p.name(lang)
            ),
            (Predicate::ResidentOf(p), None, Lang::En) => format!(
                "Whether your permanent residence is in {} (not your address)",
                p.name(lang)
            ),
        }
    }
}

crate::string_serde!(Predicate, "predicate claim");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for n in AGE_OVER_RANGE {
            let p = Predicate::AgeOver(n);
            assert_eq!(Predicate::parse(p.as_str()), Some(p));
        }
        for d in PredicateDocument::ALL {
            let p = Predicate::DocumentValid(d);
            assert_eq!(Predicate::parse(p.as_str()), Some(p));
            assert_eq!(
                p.as_str().strip_prefix(DOCUMENT_VALID_PREFIX),
                Some(d.document_type().as_str())
            );
        }
        for p in Province::all() {
            let r = Predicate::ResidentOf(p);
            assert_eq!(Predicate::parse(r.as_str()), Some(r));
            assert_eq!(r.as_str(), format!("resident_of:{}", p.code()));
        }
        assert_eq!(Predicate::AgeOver(18).as_str(), "age_over_18");
        assert_eq!(
            serde_json::to_string(&Predicate::AgeOver(21)).unwrap(),
            "\"age_over_21\""
        );
    }

    #[test]
    fn malformed_names_are_not_predicates() {
        for bad in [
            "age_over_",
            "age_over_018",
            "age_over_0",
            "age_over_151",
            "age_over_256",
            "age_over_+18",
            "age_over_18 ",
            "age_over_1e1",
            "Age_over_18",
            "document_valid:",
            "document_valid:library_card",
            "document_valid:Passport",
            "resident_of:",
            "resident_of:1",
            "resident_of:02",
            "resident_of:Hà Nội",
            "resident_of:01 ",
            "birthdate",
        ] {
            assert_eq!(Predicate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn levels_and_words() {
        assert_eq!(Predicate::AgeOver(18).required_level(), Level::Level1);
        assert_eq!(
            Predicate::DocumentValid(PredicateDocument::Passport).required_level(),
            Level::Level2
        );
        assert_eq!(
            Predicate::AgeOver(18).description(Lang::En, Some(true)),
            "Aged 18 or over: yes"
        );
        assert_eq!(
            Predicate::AgeOver(21).description(Lang::Vi, Some(false)),
            "Từ đủ 21 tuổi trở lên: không"
        );
        let hanoi = Predicate::ResidentOf(Province::parse("01").unwrap());
        assert_eq!(hanoi.required_level(), Level::Level1);
        assert_eq!(
            hanoi.description(Lang::En, Some(true)),
            "Resident of Hà Nội: yes"
        );
        assert!(
            hanoi
                .description(Lang::Vi, None)
                .contains("không gửi địa chỉ")
        );
        assert!(
            Predicate::DocumentValid(PredicateDocument::DrivingLicence)
                .description(Lang::En, None)
                .contains("not its number")
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::Predicate;

        proptest! {
            /// Any text: a predicate whose name is exactly that text, or none.
            #[test]
            fn any_text_parses_only_to_its_own_name(s in prop_oneof![any::<String>(), "age_over_[0-9]{0,4}"]) {
                if let Some(p) = Predicate::parse(&s) {
                    prop_assert_eq!(p.as_str(), s.as_str());
                }
            }
        }
    }
}
