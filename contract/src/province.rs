//! Vietnam's provinces and centrally run cities, for the `resident_of:<code>` predicate.
//!
//! Since 1 July 2025 (Resolution 202/2025/QH15) there are 34, each with the two-digit code of
//! Decision 19/2025/QĐ-TTg. Records made before then name one of the 63 earlier provinces
//! (Decision 124/2004/QĐ-TTg codes). Every new province kept the code of one of the provinces it
//! was made of, so an earlier code leads to exactly one current province, and a current code read
//! as an earlier one leads to itself: [`Province::of_record`] reads either. A predicate names only
//! a current province: asking whether someone lives in a province that no longer exists would
//! answer for a larger area than the one named.

use std::sync::LazyLock;

use crate::claims::Lang;

/// The 34 current provinces: code, Vietnamese name, English name.
const CURRENT: [(&str, &str, &str); 34] = [
    ("01", "Hà Nội", "Hà Nội"),
    ("04", "Cao Bằng", "Cao Bằng"),
    ("08", "Tuyên Quang", "Tuyên Quang"),
    ("11", "Điện Biên", "Điện Biên"),
    ("12", "Lai Châu", "Lai Châu"),
    ("14", "Sơn La", "Sơn La"),
    ("15", "Lào Cai", "Lào Cai"),
    ("19", "Thái Nguyên", "Thái Nguyên"),
    ("20", "Lạng Sơn", "Lạng Sơn"),
    ("22", "Quảng Ninh", "Quảng Ninh"),
    ("24", "Bắc Ninh", "Bắc Ninh"),
    ("25", "Phú Thọ", "Phú Thọ"),
    ("31", "Hải Phòng", "Hải Phòng"),
    ("33", "Hưng Yên", "Hưng Yên"),
    ("37", "Ninh Bình", "Ninh Bình"),
    ("38", "Thanh Hóa", "Thanh Hóa"),
    ("40", "Nghệ An", "Nghệ An"),
    ("42", "Hà Tĩnh", "Hà Tĩnh"),
    ("44", "Quảng Trị", "Quảng Trị"),
    ("46", "Huế", "Huế"),
    ("48", "Đà Nẵng", "Đà Nẵng"),
    ("51", "Quảng Ngãi", "Quảng Ngãi"),
    ("52", "Gia Lai", "Gia Lai"),
    ("56", "Khánh Hòa", "Khánh Hòa"),
    ("66", "Đắk Lắk", "Đắk Lắk"),
    ("68", "Lâm Đồng", "Lâm Đồng"),
    ("75", "Đồng Nai", "Đồng Nai"),
    ("79", "Thành phố Hồ Chí Minh", "Hồ Chí Minh City"),
    ("80", "Tây Ninh", "Tây Ninh"),
    ("82", "Đồng Tháp", "Đồng Tháp"),
    ("86", "Vĩnh Long", "Vĩnh Long"),
    ("91", "An Giang", "An Giang"),
    ("92", "Cần Thơ", "Cần Thơ"),
    ("96", "Cà Mau", "Cà Mau"),
];

/// The 63 provinces before 1 July 2025: code, name, code of the current province it is part of.
const BEFORE_2025: [(&str, &str, &str); 63] = [
    ("01", "Hà Nội", "01"),
    ("02", "Hà Giang", "08"),
    ("04", "Cao Bằng", "04"),
    ("06", "Bắc Kạn", "19"),
    ("08", "Tuyên Quang", "08"),
    ("10", "Lào Cai", "15"),
    ("11", "Điện Biên", "11"),
    ("12", "Lai Châu", "12"),
    ("14", "Sơn La", "14"),
    ("15", "Yên Bái", "15"),
    ("17", "Hòa Bình", "25"),
    ("19", "Thái Nguyên", "19"),
    ("20", "Lạng Sơn", "20"),
    ("22", "Quảng Ninh", "22"),
    ("24", "Bắc Giang", "24"),
    ("25", "Phú Thọ", "25"),
    ("26", "Vĩnh Phúc", "25"),
    ("27", "Bắc Ninh", "24"),
    ("30", "Hải Dương", "31"),
    ("31", "Hải Phòng", "31"),
    ("33", "Hưng Yên", "33"),
    ("34", "Thái Bình", "33"),
    ("35", "Hà Nam", "37"),
    ("36", "Nam Định", "37"),
    ("37", "Ninh Bình", "37"),
    ("38", "Thanh Hóa", "38"),
    ("40", "Nghệ An", "40"),
    ("42", "Hà Tĩnh", "42"),
    ("44", "Quảng Bình", "44"),
    ("45", "Quảng Trị", "44"),
    ("46", "Thừa Thiên Huế", "46"),
    ("48", "Đà Nẵng", "48"),
    ("49", "Quảng Nam", "48"),
    ("51", "Quảng Ngãi", "51"),
    ("52", "Bình Định", "52"),
    ("54", "Phú Yên", "66"),
    ("56", "Khánh Hòa", "56"),
    ("58", "Ninh Thuận", "56"),
    ("60", "Bình Thuận", "68"),
    ("62", "Kon Tum", "51"),
    ("64", "Gia Lai", "52"),
    ("66", "Đắk Lắk", "66"),
    ("67", "Đắk Nông", "68"),
    ("68", "Lâm Đồng", "68"),
    ("70", "Bình Phước", "75"),
    ("72", "Tây Ninh", "80"),
    ("74", "Bình Dương", "79"),
    ("75", "Đồng Nai", "75"),
    ("77", "Bà Rịa - Vũng Tàu", "79"),
    ("79", "Thành phố Hồ Chí Minh", "79"),
    ("80", "Long An", "80"),
    ("82", "Tiền Giang", "82"),
    ("83", "Bến Tre", "86"),
    ("84", "Trà Vinh", "86"),
    ("86", "Vĩnh Long", "86"),
    ("87", "Đồng Tháp", "82"),
    ("89", "An Giang", "91"),
    ("91", "Kiên Giang", "91"),
    ("92", "Cần Thơ", "92"),
    ("93", "Hậu Giang", "92"),
    ("94", "Sóc Trăng", "92"),
    ("95", "Bạc Liêu", "96"),
    ("96", "Cà Mau", "96"),
];

/// A current province (one of the 34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Province(u8);

/// `resident_of:01` ... for every current province, made once so that names are `&'static str`.
static PREDICATE_NAMES: LazyLock<Vec<String>> = LazyLock::new(|| {
    CURRENT
        .iter()
        .map(|(code, _, _)| format!("resident_of:{code}"))
        .collect()
});

impl Province {
    /// Every current province, in code order.
    pub fn all() -> impl Iterator<Item = Province> {
        (0..CURRENT.len()).filter_map(|i| u8::try_from(i).ok().map(Province))
    }

    fn row(self) -> (&'static str, &'static str, &'static str) {
        CURRENT
            .get(usize::from(self.0))
            .copied()
            .unwrap_or(("", "", ""))
    }

    /// The current province with this code (`01`), or `None` for any other text, an earlier
    /// province's code among them.
    pub fn parse(code: &str) -> Option<Province> {
        CURRENT
            .iter()
            .position(|(c, _, _)| *c == code)
            .and_then(|i| u8::try_from(i).ok())
            .map(Province)
    }

    /// The current province a registry record names, by code or by exact name, current or
    /// from before 1 July 2025 (`02` and `Hà Giang` both lead to Tuyên Quang).
    pub fn of_record(code_or_name: &str) -> Option<Province> {
        let s = code_or_name.trim();
        if let Some(p) = CURRENT
            .iter()
            .find(|(code, vi, _)| *code == s || *vi == s)
            .and_then(|(code, _, _)| Province::parse(code))
        {
            return Some(p);
        }
        BEFORE_2025
            .iter()
            .find(|(code, name, _)| *code == s || *name == s)
            .and_then(|(_, _, now)| Province::parse(now))
    }

    /// If `code` is an earlier province's code that is not a current one: its name and the
    /// current province it is part of (to explain a refusal).
    pub fn merged(code: &str) -> Option<(&'static str, Province)> {
        if Province::parse(code).is_some() {
            return None;
        }
        BEFORE_2025
            .iter()
            .find(|(c, _, _)| *c == code)
            .and_then(|(_, name, now)| Province::parse(now).map(|p| (*name, p)))
    }

    /// The two-digit code.
    pub fn code(self) -> &'static str {
        self.row().0
    }

    /// The name, in Vietnamese or English.
    pub fn name(self, lang: Lang) -> &'static str {
        match lang {
            Lang::Vi => self.row().1,
            Lang::En => self.row().2,
        }
    }

    /// The name of its `resident_of` predicate.
    pub(crate) fn predicate_name(self) -> &'static str {
        PREDICATE_NAMES
            .get(usize::from(self.0))
            .map_or("resident_of", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_earlier_code_leads_to_one_current_province_and_current_codes_to_themselves() {
        assert_eq!(Province::all().count(), 34);
        let codes: std::collections::BTreeSet<&str> = BEFORE_2025.iter().map(|r| r.0).collect();
        assert_eq!(codes.len(), 63);
        for (code, _, now) in BEFORE_2025 {
            assert!(Province::parse(now).is_some(), "{code} -> {now}");
        }
        for p in Province::all() {
            assert_eq!(Province::of_record(p.code()), Some(p));
            assert_eq!(Province::of_record(p.name(Lang::Vi)), Some(p));
            // Every current province is made of at least one earlier province with its code.
            assert!(
                BEFORE_2025
                    .iter()
                    .any(|r| r.0 == p.code() && r.2 == p.code())
            );
        }
    }

    #[test]
    fn earlier_provinces_are_read_but_not_asked_for() {
        let tuyen_quang = Province::parse("08").unwrap();
        assert_eq!(Province::of_record("02"), Some(tuyen_quang));
        assert_eq!(Province::of_record("Hà Giang"), Some(tuyen_quang));
        assert_eq!(Province::parse("02"), None);
        assert_eq!(Province::merged("02"), Some(("Hà Giang", tuyen_quang)));
        assert_eq!(Province::merged("08"), None);
        assert_eq!(Province::merged("03"), None);
        assert_eq!(Province::of_record("Yên Bái"), Province::parse("15"));
        assert_eq!(
            Province::of_record("Bình Dương").map(|p| p.name(Lang::En)),
            Some("Hồ Chí Minh City")
        );
        for bad in ["", "1", "001", "99", "ha noi"] {
            assert_eq!(Province::of_record(bad), None, "{bad}");
        }
    }
}
