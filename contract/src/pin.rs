//! The 12-digit personal identification number, `PPP C YY NNNNNN` (Decree 59/2022, Circular
//! 07/2016/TT-BCA): birth-registration province, century and sex, year of birth, sequence.

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
    /// The first three digits are not a province code.
    #[error("`{code}` is not the code of a province or city (the first three digits)")]
    UnknownProvince {
        /// The three digits.
        code: String,
    },
}

/// Which part of a number contradicts the holder's declared birth date or sex.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PinMismatch {
    /// The century digit says another century.
    #[error("the 4th digit ({digit}) means a birth in {century}–{end}, but the declared birth year is {birth_year}", century = century_of(*digit), end = century_of(*digit) + 99)]
    Century {
        /// The 4th digit.
        digit: u8,
        /// The declared birth year.
        birth_year: i32,
    },
    /// The century digit says the other sex.
    #[error("the 4th digit ({digit}) means {}, but the declared sex is {gender}", if digit.is_multiple_of(2) { "male" } else { "female" })]
    Sex {
        /// The 4th digit.
        digit: u8,
        /// The declared sex.
        gender: Gender,
    },
    /// Digits 5 and 6 are not the last two digits of the birth year.
    #[error(
        "the 5th and 6th digits ({digits}) should be the last two digits of the birth year {birth_year}"
    )]
    Year {
        /// Digits 5 and 6.
        digits: String,
        /// The declared birth year.
        birth_year: i32,
    },
}

fn century_of(digit: u8) -> i32 {
    1900 + 100 * i32::from(digit / 2)
}

impl PersonalIdNumber {
    /// Parses and checks the form of a number (not whether it exists).
    pub fn parse(s: &str) -> Result<Self, PinError> {
        let found = s.chars().count();
        if found != 12 {
            return Err(PinError::WrongLength { found });
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(PinError::NotDigits);
        }
        let code = &s[..3];
        let known = code.starts_with('0')
            && code[1..]
                .parse::<u8>()
                .is_ok_and(|c| PROVINCES.iter().any(|(p, _)| *p == c));
        if !known {
            return Err(PinError::UnknownProvince {
                code: code.to_string(),
            });
        }
        Ok(PersonalIdNumber(s.to_string()))
    }

    /// The 12 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn digit(&self, i: usize) -> u8 {
        self.0.as_bytes()[i] - b'0'
    }

    /// The province code (1 to 96).
    pub fn province_code(&self) -> u8 {
        self.digit(1) * 10 + self.digit(2)
    }

    /// The province or city where the birth was registered.
    pub fn province_name(&self) -> &'static str {
        let code = self.province_code();
        PROVINCES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("", |(_, name)| name)
    }

    /// The sex the number encodes.
    pub fn gender(&self) -> Gender {
        if self.digit(3).is_multiple_of(2) {
            Gender::Male
        } else {
            Gender::Female
        }
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
        assert_eq!(an.province_name(), "Hà Nội");
        assert_eq!(an.gender(), Gender::Male);
        assert_eq!(an.birth_year(), 1995);
        an.check_against(date!(1995 - 03 - 12), Gender::Male)
            .unwrap();
        let binh = PersonalIdNumber::parse("079198000002").unwrap();
        assert_eq!(binh.province_name(), "Hồ Chí Minh");
        binh.check_against(date!(1998 - 07 - 25), Gender::Female)
            .unwrap();
    }

    #[test]
    fn malformed_numbers_say_what_is_wrong() {
        assert_eq!(
            PersonalIdNumber::parse("00109500000"),
            Err(PinError::WrongLength { found: 11 })
        );
        assert_eq!(
            PersonalIdNumber::parse("00109500000a"),
            Err(PinError::NotDigits)
        );
        assert_eq!(
            PersonalIdNumber::parse("003095000001"),
            Err(PinError::UnknownProvince { code: "003".into() })
        );
        assert_eq!(
            PersonalIdNumber::parse("101095000001"),
            Err(PinError::UnknownProvince { code: "101".into() })
        );
    }

    #[test]
    fn mismatches_name_the_digit() {
        let an = PersonalIdNumber::parse("001095000001").unwrap();
        assert!(matches!(
            an.check_against(date!(2001 - 01 - 01), Gender::Male),
            Err(PinMismatch::Century { digit: 0, .. })
        ));
        assert!(matches!(
            an.check_against(date!(1995 - 01 - 01), Gender::Female),
            Err(PinMismatch::Sex { .. })
        ));
        let err = an
            .check_against(date!(1996 - 01 - 01), Gender::Male)
            .unwrap_err();
        assert!(err.to_string().contains("5th and 6th digits (95)"), "{err}");
        let born_2005 = PersonalIdNumber::parse("001205000001").unwrap();
        born_2005
            .check_against(date!(2005 - 06 - 01), Gender::Male)
            .unwrap();
    }
}
