//! The 12-digit personal identification number, `PPP C YY NNNNNN` (Decree 137/2015 Art. 13,
//! Circular 07/2016/TT-BCA): where the birth was registered, century and sex, year of birth,
//! sequence.
//!
//! `PPP` is the province or city where the birth was registered or, for a birth registered
//! abroad, a country code. A number never changes, so the 63 province codes stay valid on
//! existing numbers after the 2025 reorganisation into 34 provinces. A well-formed number is
//! never refused for its place code: the place is named when the code is one of the 63, and
//! reported as not listed otherwise (a birth registered abroad, or a code added later).

use crate::person::Gender;

/// The 63 province and city codes (without the leading 0), with their names.
const PROVINCES: [(u8, &str); 63] = [
    (1, "Hà Nội"),
    (2, "Hà Giang"),
    (4, "Cao Bằng"),
    (6, "Bắc Kạn"),
    (8, "Tuyên Quang"),
    (10, "Lào Cai"),
    (11, "Điện Biên"),
    (12, "Lai Châu"),
    (14, "Sơn La"),
    (15, "Yên Bái"),
    (17, "Hòa Bình"),
    (19, "Thái Nguyên"),
    (20, "Lạng Sơn"),
    (22, "Quảng Ninh"),
    (24, "Bắc Giang"),
    (25, "Phú Thọ"),
    (26, "Vĩnh Phúc"),
    (27, "Bắc Ninh"),
    (30, "Hải Dương"),
    (31, "Hải Phòng"),
    (33, "Hưng Yên"),
    (34, "Thái Bình"),
    (35, "Hà Nam"),
    (36, "Nam Định"),
    (37, "Ninh Bình"),
    (38, "Thanh Hóa"),
    (40, "Nghệ An"),
    (42, "Hà Tĩnh"),
    (44, "Quảng Bình"),
    (45, "Quảng Trị"),
    (46, "Thừa Thiên Huế"),
    (48, "Đà Nẵng"),
    (49, "Quảng Nam"),
    (51, "Quảng Ngãi"),
    (52, "Bình Định"),
    (54, "Phú Yên"),
    (56, "Khánh Hòa"),
    (58, "Ninh Thuận"),
    (60, "Bình Thuận"),
    (62, "Kon Tum"),
    (64, "Gia Lai"),
    (66, "Đắk Lắk"),
    (67, "Đắk Nông"),
    (68, "Lâm Đồng"),
    (70, "Bình Phước"),
    (72, "Tây Ninh"),
    (74, "Bình Dương"),
    (75, "Đồng Nai"),
    (77, "Bà Rịa–Vũng Tàu"),
    (79, "Hồ Chí Minh"),
    (80, "Long An"),
    (82, "Tiền Giang"),
    (83, "Bến Tre"),
    (84, "Trà Vinh"),
    (86, "Vĩnh Long"),
    (87, "Đồng Tháp"),
    (89, "An Giang"),
    (91, "Kiên Giang"),
    (92, "Cần Thơ"),
    (93, "Hậu Giang"),
    (94, "Sóc Trăng"),
    (95, "Bạc Liêu"),
    (96, "Cà Mau"),
];

/// A well-formed personal identification number.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonalIdNumber(String);

/// Why a string is not a personal identification number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// Not 12 characters.
    #[error("a personal identification number has 12 digits, this one has {found}")]
    WrongLength {
        /// How many characters there were.
        found: usize,
    },
    /// Something other than digits.
    #[error("a personal identification number must contain only digits")]
    NotDigits,
}

/// Where the birth of the holder of a number was registered, as its first three digits say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BirthPlace {
    /// One of the 63 province and city codes (`0` + the two-digit province code).
    Province {
        /// The province code (1 to 96).
        code: u8,
        /// Its name.
        name: &'static str,
    },
    /// A code not in the list of provinces: a birth registered abroad (a country code), or a
    /// code this version does not know. The number is valid all the same.
    NotListed {
        /// The three digits, as a number (0 to 999).
        code: u16,
    },
}

impl BirthPlace {
    /// The name of the place, when the code is listed.
    pub fn name(self) -> Option<&'static str> {
        match self {
            BirthPlace::Province { name, .. } => Some(name),
            BirthPlace::NotListed { .. } => None,
        }
    }
}

/// Which part of a number contradicts the holder's declared birth date or sex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinMismatch {
    /// The 4th digit says another century.
    #[error(
        "the 4th digit ({digit}) means {} born in {}–{}, but the declared birth year is {birth_year}",
        person_of(*digit),
        century_of(*digit),
        century_of(*digit) + 99
    )]
    Century {
        /// The 4th digit.
        digit: u8,
        /// The declared birth year.
        birth_year: i32,
    },
    /// The 4th digit says the other sex.
    #[error(
        "the 4th digit ({digit}) means {} born in {}–{}, but the declared sex is {gender}",
        person_of(*digit),
        century_of(*digit),
        century_of(*digit) + 99
    )]
    Sex {
        /// The 4th digit.
        digit: u8,
        /// The declared sex.
        gender: Gender,
    },
    /// The 5th and 6th digits are not the last two digits of the birth year.
    #[error(
        "the 5th and 6th digits ({digits}) are the last two digits of the year of birth, but the declared birth year is {birth_year}"
    )]
    Year {
        /// The 5th and 6th digits.
        digits: String,
        /// The declared birth year.
        birth_year: i32,
    },
}

/// The first year of the century the 4th digit encodes.
fn century_of(digit: u8) -> i32 {
    1900 + 100 * i32::from(digit / 2)
}

/// The sex the 4th digit encodes: even for men, odd for women.
fn gender_of(digit: u8) -> Gender {
    if digit.is_multiple_of(2) {
        Gender::Male
    } else {
        Gender::Female
    }
}

fn person_of(digit: u8) -> &'static str {
    match gender_of(digit) {
        Gender::Male => "a man",
        Gender::Female => "a woman",
    }
}

impl PersonalIdNumber {
    /// Parses and checks the form of a number (not whether it exists): 12 ASCII digits. The
    /// place code is never a reason to refuse (see [`PersonalIdNumber::birth_place`]).
    pub fn parse(s: &str) -> Result<Self, PinError> {
        let found = s.chars().count();
        if found != 12 {
            return Err(PinError::WrongLength { found });
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        Ok(PersonalIdNumber(s.to_string()))
    }

    /// Where the birth was registered: a province when the code is one of the 63, else not
    /// listed (a birth registered abroad).
    pub fn birth_place(&self) -> BirthPlace {
        let code = self.place_code();
        if code < 100
            && let Some((p, name)) = PROVINCES.iter().find(|(p, _)| u16::from(*p) == code)
        {
            return BirthPlace::Province { code: *p, name };
        }
        BirthPlace::NotListed { code }
    }

    /// The first three digits as a number (0 to 999).
    pub fn place_code(&self) -> u16 {
        u16::from(self.digit(0)) * 100 + u16::from(self.digit(1)) * 10 + u16::from(self.digit(2))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digit(&self, i: usize) -> u8 {
        self.0.as_bytes()[i] - b'0'
    }

    /// The province code (1 to 96) when the birth was registered in one of the 63 provinces.
    pub fn province_code(&self) -> Option<u8> {
        match self.birth_place() {
            BirthPlace::Province { code, .. } => Some(code),
            BirthPlace::NotListed { .. } => None,
        }
    }

    /// The province or city where the birth was registered, or `""` when the code is not one of
    /// the 63 (a birth registered abroad): see [`PersonalIdNumber::birth_place`].
    pub fn province_name(&self) -> &'static str {
        self.birth_place().name().unwrap_or("")
    }

    /// The sex the number encodes.
    pub fn gender(&self) -> Gender {
        gender_of(self.digit(3))
    }

    /// The first year of the century of birth.
    pub fn century_start(&self) -> i32 {
        century_of(self.digit(3))
    }

    /// The year of birth the number encodes.
    pub fn birth_year(&self) -> i32 {
        self.century_start() + i32::from(self.digit(4)) * 10 + i32::from(self.digit(5))
    }

    /// Checks the number against a declared birth date and sex.
    pub fn check_against(&self, birthdate: time::Date, gender: Gender) -> Result<(), PinMismatch> {
        let digit = self.digit(3);
        let birth_year = birthdate.year();
        if !(self.century_start()..self.century_start() + 100).contains(&birth_year) {
            return Err(PinMismatch::Century { digit, birth_year });
        }
        if self.gender() != gender {
            return Err(PinMismatch::Sex { digit, gender });
        }
        if self.birth_year() != birth_year {
            return Err(PinMismatch::Year {
                digits: self.0[4..6].to_string(),
                birth_year,
            });
        }
        Ok(())
    }
}

impl std::fmt::Display for PersonalIdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for PersonalIdNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for PersonalIdNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        PersonalIdNumber::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    #[test]
    fn the_demo_numbers_parse_and_agree_with_their_holders() {
        let an = PersonalIdNumber::parse("001095000001").unwrap();
        assert_eq!(an.as_str(), "001095000001");
        assert_eq!(an.province_code(), Some(1));
        assert_eq!(an.province_name(), "Hà Nội");
        assert_eq!(an.gender(), Gender::Male);
        assert_eq!(an.century_start(), 1900);
        assert_eq!(an.birth_year(), 1995);
        an.check_against(date!(1995 - 03 - 12), Gender::Male)
            .unwrap();
        let binh = PersonalIdNumber::parse("079198000002").unwrap();
        assert_eq!(binh.province_code(), Some(79));
        assert_eq!(binh.province_name(), "Hồ Chí Minh");
        assert_eq!(binh.gender(), Gender::Female);
        assert_eq!(binh.birth_year(), 1998);
        binh.check_against(date!(1998 - 07 - 25), Gender::Female)
            .unwrap();
    }

    #[test]
    fn every_province_code_is_accepted() {
        assert_eq!(PROVINCES.len(), 63);
        for (code, name) in PROVINCES {
            let pin = PersonalIdNumber::parse(&format!("0{code:02}095000001")).unwrap();
            assert_eq!(pin.province_code(), Some(code));
            assert_eq!(pin.province_name(), name);
        }
    }

    #[test]
    fn the_century_digit_gives_century_and_sex() {
        let cases = [
            (1, 1900, Gender::Female),
            (2, 2000, Gender::Male),
            (3, 2000, Gender::Female),
            (4, 2100, Gender::Male),
            (7, 2200, Gender::Female),
            (8, 2300, Gender::Male),
            (9, 2300, Gender::Female),
        ];
        for (c, century, gender) in cases {
            let pin = PersonalIdNumber::parse(&format!("001{c}05000001")).unwrap();
            assert_eq!(pin.century_start(), century, "{c}");
            assert_eq!(pin.birth_year(), century + 5);
            assert_eq!(pin.gender(), gender);
        }
    }

    #[test]
    fn malformed_numbers_say_what_is_wrong() {
        assert_eq!(
            PersonalIdNumber::parse("00109500000"),
            Err(PinError::WrongLength { found: 11 })
        );
        assert_eq!(
            PersonalIdNumber::parse("0010950000011"),
            Err(PinError::WrongLength { found: 13 })
        );
        assert_eq!(
            PersonalIdNumber::parse(" 01095000001"),
            Err(PinError::NotDigits)
        );
        assert_eq!(
            PersonalIdNumber::parse("00109500000a"),
            Err(PinError::NotDigits)
        );
        assert_eq!(
            PersonalIdNumber::parse("00109500000٣"),
            Err(PinError::NotDigits)
        );
        assert_eq!(
            PinError::WrongLength { found: 11 }.to_string(),
            "a personal identification number has 12 digits, this one has 11"
        );
    }

    /// Decree 137/2015 Art. 13: a birth registered abroad gets a country code, not a province
    /// one; such a number is as valid as any other and is checked the same way.
    #[test]
    fn a_code_that_is_not_a_province_is_accepted_and_checked() {
        for s in [
            "003095000001",
            "101095000001",
            "900301000123",
            "999199000042",
        ] {
            let pin = PersonalIdNumber::parse(s).unwrap();
            assert_eq!(pin.province_code(), None, "{s}");
            assert_eq!(pin.province_name(), "");
            assert_eq!(
                pin.birth_place(),
                BirthPlace::NotListed {
                    code: s[..3].parse().unwrap()
                }
            );
            assert_eq!(pin.birth_place().name(), None);
        }
        let abroad = PersonalIdNumber::parse("900301000123").unwrap();
        abroad
            .check_against(date!(2001 - 04 - 02), Gender::Female)
            .unwrap();
        assert!(matches!(
            abroad.check_against(date!(2001 - 04 - 02), Gender::Male),
            Err(PinMismatch::Sex { .. })
        ));
        assert!(matches!(
            abroad.check_against(date!(2002 - 04 - 02), Gender::Female),
            Err(PinMismatch::Year { .. })
        ));
        assert!(matches!(
            abroad.check_against(date!(1901 - 04 - 02), Gender::Female),
            Err(PinMismatch::Century { .. })
        ));
        assert_eq!(
            PersonalIdNumber::parse("079198000002")
                .unwrap()
                .birth_place(),
            BirthPlace::Province {
                code: 79,
                name: "Hồ Chí Minh"
            }
        );
    }

    #[test]
    fn mismatches_name_the_digit() {
        let an = PersonalIdNumber::parse("001095000001").unwrap();
        let err = an
            .check_against(date!(2001 - 01 - 01), Gender::Male)
            .unwrap_err();
        assert_eq!(
            err,
            PinMismatch::Century {
                digit: 0,
                birth_year: 2001
            }
        );
        assert_eq!(
            err.to_string(),
            "the 4th digit (0) means a man born in 1900–1999, but the declared birth year is 2001"
        );
        let err = an
            .check_against(date!(1995 - 01 - 01), Gender::Female)
            .unwrap_err();
        assert_eq!(
            err,
            PinMismatch::Sex {
                digit: 0,
                gender: Gender::Female
            }
        );
        assert_eq!(
            err.to_string(),
            "the 4th digit (0) means a man born in 1900–1999, but the declared sex is female"
        );
        let err = an
            .check_against(date!(1996 - 01 - 01), Gender::Male)
            .unwrap_err();
        assert_eq!(
            err,
            PinMismatch::Year {
                digits: "95".into(),
                birth_year: 1996
            }
        );
        assert!(err.to_string().contains("5th and 6th digits (95)"), "{err}");
        let born_2005 = PersonalIdNumber::parse("001305000001").unwrap();
        born_2005
            .check_against(date!(2005 - 06 - 01), Gender::Female)
            .unwrap();
        let err = born_2005
            .check_against(date!(1905 - 06 - 01), Gender::Female)
            .unwrap_err();
        assert!(
            err.to_string().contains("a woman born in 2000–2099"),
            "{err}"
        );
    }

    #[test]
    fn displays_and_serializes_as_the_digits() {
        let pin = PersonalIdNumber::parse("079198000002").unwrap();
        assert_eq!(pin.to_string(), "079198000002");
        assert_eq!(serde_json::to_string(&pin).unwrap(), "\"079198000002\"");
        let back: PersonalIdNumber = serde_json::from_str("\"079198000002\"").unwrap();
        assert_eq!(back, pin);
        let abroad: PersonalIdNumber = serde_json::from_str("\"900301000123\"").unwrap();
        assert_eq!(abroad.as_str(), "900301000123");
        let err = serde_json::from_str::<PersonalIdNumber>("\"90030100012\"").unwrap_err();
        assert!(err.to_string().contains("12 digits"), "{err}");
    }

    mod properties {
        use proptest::prelude::*;
        use time::macros::date;

        use super::super::{PersonalIdNumber, PinError};
        use crate::person::Gender;

        /// Checks what a parse said about `s`, and that a number's accessors hold together.
        fn consistent(s: &str) -> Result<(), TestCaseError> {
            match PersonalIdNumber::parse(s) {
                Ok(pin) => {
                    prop_assert_eq!(pin.as_str(), s);
                    prop_assert!(s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()));
                    prop_assert_eq!(u32::from(pin.place_code()), s[..3].parse::<u32>().unwrap());
                    match pin.birth_place() {
                        super::super::BirthPlace::Province { code, name } => {
                            prop_assert!(s.starts_with('0'));
                            prop_assert_eq!(code, s[1..3].parse::<u8>().unwrap());
                            prop_assert_eq!(pin.province_name(), name);
                        }
                        super::super::BirthPlace::NotListed { .. } => {
                            prop_assert_eq!(pin.province_name(), "");
                            prop_assert_eq!(pin.province_code(), None);
                        }
                    }
                    let year = pin.birth_year();
                    prop_assert!((pin.century_start()..pin.century_start() + 100).contains(&year));
                    // The birth year and sex it encodes agree with it; the other sex does not.
                    let born = time::Date::from_calendar_date(year, time::Month::June, 1).unwrap();
                    prop_assert_eq!(pin.check_against(born, pin.gender()), Ok(()));
                    let other = match pin.gender() {
                        Gender::Male => Gender::Female,
                        Gender::Female => Gender::Male,
                    };
                    prop_assert!(pin.check_against(born, other).is_err());
                    prop_assert!(
                        pin.check_against(date!(1800 - 01 - 01), pin.gender())
                            .is_err()
                    );
                    let json = serde_json::to_string(&pin).unwrap();
                    prop_assert_eq!(
                        serde_json::from_str::<PersonalIdNumber>(&json).unwrap(),
                        pin
                    );
                }
                Err(PinError::WrongLength { found }) => {
                    prop_assert_eq!(found, s.chars().count());
                    prop_assert_ne!(found, 12);
                }
                Err(PinError::NotDigits) => {
                    prop_assert_eq!(s.chars().count(), 12);
                    prop_assert!(!s.bytes().all(|b| b.is_ascii_digit()));
                }
            }
            // serde says the same as parse.
            let json = serde_json::to_string(s).unwrap();
            prop_assert_eq!(
                serde_json::from_str::<PersonalIdNumber>(&json).is_ok(),
                PersonalIdNumber::parse(s).is_ok()
            );
            Ok(())
        }

        proptest! {
            #[test]
            fn any_text_is_a_number_or_says_what_is_wrong(s in any::<String>()) {
                consistent(&s)?;
            }

            #[test]
            fn any_twelve_characters_are_a_number_or_say_what_is_wrong(
                s in "[0-9]{12}|0[0-9]{11}|[0-9٠-٩０-９a ]{10,13}",
            ) {
                consistent(&s)?;
            }

            /// Every twelve ASCII digits parse, whatever the place code.
            #[test]
            fn every_twelve_digits_parse(s in "[0-9]{12}") {
                prop_assert!(PersonalIdNumber::parse(&s).is_ok());
            }

            /// Every number with a province code parses, whatever the other nine digits.
            #[test]
            fn every_province_with_any_digits_parses(
                province in prop::sample::select(super::super::PROVINCES.to_vec()),
                rest in "[0-9]{9}",
            ) {
                let s = format!("0{:02}{rest}", province.0);
                let pin = PersonalIdNumber::parse(&s).unwrap();
                prop_assert_eq!(pin.province_name(), province.1);
                consistent(&s)?;
            }
        }
    }
}
