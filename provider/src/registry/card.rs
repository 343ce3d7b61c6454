//! The identity card the registry holds for a citizen (Law on Identification 2023, Decree
//! 69/2024): the chip-based citizen identity card (CCCD gắn chip) or the identity card (thẻ căn
//! cước) that replaced it from 1 July 2024. Level 1 in the app is for holders of a chip-based
//! card, Level 2 starts by presenting it, and from 14 years a valid card is required for either.

use serde::{Deserialize, Serialize};
use time::Date;

/// The kind of card.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CardKind {
    /// `chip_cccd`: the chip-based citizen identity card (căn cước công dân gắn chip).
    ChipCccd,
    /// `can_cuoc`: the identity card (thẻ căn cước, chip-based) issued from 1 July 2024.
    CanCuoc,
    /// Any other card on record (`cccd_barcode`, `cmnd`, ...): kept, but holds no chip.
    Other(String),
}

impl CardKind {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            CardKind::ChipCccd => "chip_cccd",
            CardKind::CanCuoc => "can_cuoc",
            CardKind::Other(s) => s,
        }
    }

    /// Parses the wire string (unknown kinds are kept).
    pub fn parse(s: &str) -> CardKind {
        match s {
            "chip_cccd" => CardKind::ChipCccd,
            "can_cuoc" => CardKind::CanCuoc,
            other => CardKind::Other(other.to_string()),
        }
    }

    /// Whether the card holds a chip (what the app's Level 1 and the desk's Level 2 rely on).
    pub fn has_chip(&self) -> bool {
        matches!(self, CardKind::ChipCccd | CardKind::CanCuoc)
    }

    /// The card's name in words.
    pub fn description(&self, lang: vneid_contract::Lang) -> &str {
        use vneid_contract::Lang;
        match (self, lang) {
            (CardKind::ChipCccd, Lang::Vi) => "Căn cước công dân gắn chip",
            (CardKind::ChipCccd, Lang::En) => "Chip-based citizen identity card",
            (CardKind::CanCuoc, Lang::Vi) => "Thẻ căn cước",
            (CardKind::CanCuoc, Lang::En) => "Identity card",
            (CardKind::Other(s), _) => s,
        }
    }
}

impl Serialize for CardKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CardKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(CardKind::parse(&String::deserialize(d)?))
    }
}

/// What the registry says of the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStatus {
    /// In use.
    Valid,
    /// Reported lost or stolen.
    Lost,
    /// Withdrawn or cancelled by the issuing authority.
    Revoked,
    /// Replaced by a newer card.
    Replaced,
}

/// The card on record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityCard {
    /// The card number (for a chip card, the personal identification number).
    pub number: String,
    /// Chip CCCD, căn cước, or another kind.
    pub kind: CardKind,
    /// YYYY-MM-DD.
    pub issued_on: String,
    /// YYYY-MM-DD; none for a card valid for life (issued from the age of 60).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_on: Option<String>,
    /// Valid, lost, revoked or replaced.
    pub status: CardStatus,
}

/// Why a card does not count on a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CardProblem {
    /// The registry holds no card for the person.
    #[error("the registry holds no identity card")]
    Missing,
    /// The card holds no chip.
    #[error("the identity card on record holds no chip")]
    NoChip,
    /// The card is reported lost, revoked or replaced.
    #[error("the identity card on record is {0:?}")]
    NotInUse(CardStatus),
    /// Issued after the date.
    #[error("the identity card on record is not yet issued")]
    NotYetIssued,
    /// Expired before the date.
    #[error("the identity card on record has expired")]
    Expired,
    /// A date on record cannot be read.
    #[error("the identity card on record has an unreadable date")]
    UnreadableDate,
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

impl IdentityCard {
    /// Whether the card is a chip card in use on `date`: status valid, issued on or before it,
    /// and expiring (if it expires) on or after it.
    pub fn valid_on(&self, date: Date) -> Result<(), CardProblem> {
        if !self.kind.has_chip() {
            return Err(CardProblem::NoChip);
        }
        if self.status != CardStatus::Valid {
            return Err(CardProblem::NotInUse(self.status));
        }
        let issued = parse_date(&self.issued_on).ok_or(CardProblem::UnreadableDate)?;
        if issued > date {
            return Err(CardProblem::NotYetIssued);
        }
        if let Some(expires) = &self.expires_on {
            let expires = parse_date(expires).ok_or(CardProblem::UnreadableDate)?;
            if expires < date {
                return Err(CardProblem::Expired);
            }
        }
        Ok(())
    }
}

/// Whether `card` (the one on record, if any) is a valid chip card on `date`.
pub fn card_valid_on(card: Option<&IdentityCard>, date: Date) -> Result<(), CardProblem> {
    card.ok_or(CardProblem::Missing)?.valid_on(date)
}

/// The age from which Decree 69/2024 requires a valid identity card for Level 1 and Level 2.
pub const CARD_REQUIRED_FROM_AGE: i32 = 14;

/// Checks the form of a card in an export or a registry answer.
pub fn check_card(card: &IdentityCard) -> Result<(), String> {
    let ok =
        (9..=12).contains(&card.number.len()) && card.number.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err("card number must be 9 to 12 digits".into());
    }
    let issued = parse_date(&card.issued_on).ok_or("issued_on must be a date YYYY-MM-DD")?;
    if let Some(expires) = &card.expires_on {
        let expires = parse_date(expires).ok_or("expires_on must be a date YYYY-MM-DD")?;
        if expires < issued {
            return Err("expires_on is before issued_on".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    use super::*;

    fn card() -> IdentityCard {
        IdentityCard {
            number: "001301000123".into(),
            kind: CardKind::ChipCccd,
            issued_on: "2021-05-01".into(),
            expires_on: Some("2026-04-02".into()),
            status: CardStatus::Valid,
        }
    }

    #[test]
    fn a_chip_card_in_use_is_valid_from_issue_to_expiry_inclusive() {
        let c = card();
        assert_eq!(c.valid_on(date!(2021 - 05 - 01)), Ok(()));
        assert_eq!(c.valid_on(date!(2026 - 04 - 02)), Ok(()));
        assert_eq!(
            c.valid_on(date!(2021 - 04 - 30)),
            Err(CardProblem::NotYetIssued)
        );
        assert_eq!(c.valid_on(date!(2026 - 04 - 03)), Err(CardProblem::Expired));
        let for_life = IdentityCard {
            expires_on: None,
            kind: CardKind::CanCuoc,
            ..card()
        };
        assert_eq!(for_life.valid_on(date!(2090 - 01 - 01)), Ok(()));
    }

    #[test]
    fn lost_cards_cards_without_chip_and_no_card_do_not_count() {
        for status in [CardStatus::Lost, CardStatus::Revoked, CardStatus::Replaced] {
            let c = IdentityCard { status, ..card() };
            assert_eq!(
                c.valid_on(date!(2024 - 01 - 01)),
                Err(CardProblem::NotInUse(status))
            );
        }
        let barcode = IdentityCard {
            kind: CardKind::parse("cccd_barcode"),
            ..card()
        };
        assert_eq!(
            barcode.valid_on(date!(2024 - 01 - 01)),
            Err(CardProblem::NoChip)
        );
        assert_eq!(
            card_valid_on(None, date!(2024 - 01 - 01)),
            Err(CardProblem::Missing)
        );
        let unreadable = IdentityCard {
            expires_on: Some("2026-13-01".into()),
            ..card()
        };
        assert_eq!(
            unreadable.valid_on(date!(2024 - 01 - 01)),
            Err(CardProblem::UnreadableDate)
        );
    }

    #[test]
    fn cards_use_their_wire_names_and_forms_are_checked() {
        let json = serde_json::to_string(&card()).unwrap();
        assert_eq!(
            json,
            r#"{"number":"001301000123","kind":"chip_cccd","issued_on":"2021-05-01","expires_on":"2026-04-02","status":"valid"}"#
        );
        assert_eq!(serde_json::from_str::<IdentityCard>(&json).unwrap(), card());
        assert!(check_card(&card()).is_ok());
        let bad = IdentityCard {
            expires_on: Some("2020-01-01".into()),
            ..card()
        };
        assert!(check_card(&bad).is_err());
        let bad = IdentityCard {
            number: "12AB".into(),
            ..card()
        };
        assert!(check_card(&bad).is_err());
    }
}
