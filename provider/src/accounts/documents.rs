//! Documents that live: integrated documents expire, and are re-synced from the sector
//! databases through the registry interface.
//!
//! **Expiry.** A document is released in the `documents` claim only while it is valid on the
//! Asia/Ho_Chi_Minh date: issued (when the issue date is known) on or before today and expiring
//! (when it expires) on or after today. An expired (or not yet valid, or unreadable) document is
//! **withheld**, not released with a status: a relying party reads an item of `documents` as
//! proof, the contract's `Document` carries no status, and an older SDK would ignore one. The
//! `document_valid_*` predicates say the same (`claims::document_valid`). The citizen still sees
//! the document in `/account`, and the next re-sync may bring the renewed one.
//!
//! **Re-sync.** The registry is asked for the person; for each type of document the citizen
//! integrated (chose at the desk), the account's documents of that type become the registry's:
//! a new number is *added*, the same number with other dates or details is *changed*, a number
//! the registry no longer has is *removed*. Types the citizen did not integrate are never added
//! (that needs their consent at the desk). Every change is one history row; the whole re-sync is
//! one transaction (`Store::apply_document_sync`).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use time::Date;
use vneid_contract::Document;

use crate::store::DocumentRow;

/// Where a document stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentStatus {
    Valid,
    Expired,
    NotYetValid,
    /// A date on it cannot be read: not presented as valid.
    Unreadable,
}

fn parse_date(s: &str) -> Option<Date> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}

/// The status of `d` on `today` (the Vietnam date, `claims::vietnam_date`).
pub fn status(d: &DocumentRow, today: Date) -> DocumentStatus {
    let issued = d.issued_on.as_deref().map(parse_date);
    let expires = d.expires_on.as_deref().map(parse_date);
    match (issued, expires) {
        (Some(None), _) | (_, Some(None)) => DocumentStatus::Unreadable,
        (Some(Some(i)), _) if i > today => DocumentStatus::NotYetValid,
        (_, Some(Some(e))) if e < today => DocumentStatus::Expired,
        _ => DocumentStatus::Valid,
    }
}

/// The documents released on `today`: the valid ones only.
pub fn releasable(documents: &[DocumentRow], today: Date) -> Vec<&DocumentRow> {
    documents
        .iter()
        .filter(|d| status(d, today) == DocumentStatus::Valid)
        .collect()
}

/// What a re-sync did to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Changed,
    Removed,
}

impl ChangeKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Changed => "changed",
            ChangeKind::Removed => "removed",
        }
    }
}

/// One change of a re-sync.
#[derive(Debug, Clone)]
pub struct DocumentChange {
    pub kind: ChangeKind,
    /// The document as it was (changed, removed).
    pub old: Option<DocumentRow>,
    /// The document as it is now (added, changed).
    pub new: Option<DocumentRow>,
}

impl DocumentChange {
    /// The document's type and number.
    pub fn key(&self) -> (&str, &str) {
        let d = self.new.as_ref().or(self.old.as_ref());
        d.map(|d| (d.doc_type.as_str(), d.number.as_str()))
            .unwrap_or(("", ""))
    }
}

/// A registry document as a stored row (details as JSON text, none when empty).
pub fn row_of(d: &Document) -> DocumentRow {
    DocumentRow {
        doc_type: d.doc_type.as_str().into(),
        number: d.number.clone(),
        issued_on: d.issued_on.clone(),
        expires_on: d.expires_on.clone(),
        issuer: d.issuer.clone(),
        details: (!d.details.is_empty()).then(|| json!(d.details).to_string()),
    }
}

/// A stored row as JSON (the history's values).
pub fn json_of(d: &DocumentRow) -> Value {
    let details = d
        .details
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
        .unwrap_or_else(|| json!({}));
    json!({
        "type": d.doc_type, "number": d.number, "issued_on": d.issued_on,
        "expires_on": d.expires_on, "issuer": d.issuer, "details": details,
    })
}

fn same(a: &DocumentRow, b: &DocumentRow) -> bool {
    json_of(a) == json_of(b)
}

/// The changes that make the account's `current` documents the registry's, for the types the
/// citizen integrated.
pub fn resync_changes(current: &[DocumentRow], registry: &[Document]) -> Vec<DocumentChange> {
    let integrated: BTreeSet<&str> = current.iter().map(|d| d.doc_type.as_str()).collect();
    let now: BTreeMap<(String, String), DocumentRow> = registry
        .iter()
        .map(row_of)
        .filter(|d| integrated.contains(d.doc_type.as_str()))
        .map(|d| ((d.doc_type.clone(), d.number.clone()), d))
        .collect();
    let before: BTreeMap<(String, String), &DocumentRow> = current
        .iter()
        .map(|d| ((d.doc_type.clone(), d.number.clone()), d))
        .collect();
    let mut changes = Vec::new();
    for (key, old) in &before {
        match now.get(key) {
            None => changes.push(DocumentChange {
                kind: ChangeKind::Removed,
                old: Some((*old).clone()),
                new: None,
            }),
            Some(new) if !same(old, new) => changes.push(DocumentChange {
                kind: ChangeKind::Changed,
                old: Some((*old).clone()),
                new: Some(new.clone()),
            }),
            Some(_) => {}
        }
    }
    for (key, new) in &now {
        if !before.contains_key(key) {
            changes.push(DocumentChange {
                kind: ChangeKind::Added,
                old: None,
                new: Some(new.clone()),
            });
        }
    }
    changes
}

/// Where a re-sync was started from (the history's `source`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncSource {
    /// The periodic job (`vneid-provider accounts sync`, or the server's background task).
    Periodic,
    /// An officer at the desk.
    Desk,
}

impl SyncSource {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            SyncSource::Periodic => "periodic",
            SyncSource::Desk => "desk",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;
    use vneid_contract::DocumentType;

    fn row(t: &str, n: &str, expires: Option<&str>) -> DocumentRow {
        DocumentRow {
            doc_type: t.into(),
            number: n.into(),
            issued_on: Some("2020-01-01".into()),
            expires_on: expires.map(Into::into),
            issuer: None,
            details: None,
        }
    }

    fn doc(t: &str, n: &str, expires: Option<&str>) -> Document {
        Document {
            doc_type: DocumentType::parse(t),
            number: n.into(),
            issued_on: Some("2020-01-01".into()),
            expires_on: expires.map(Into::into),
            issuer: None,
            details: Default::default(),
        }
    }

    #[test]
    fn an_expired_document_is_withheld_on_the_vietnam_date() {
        let card = row("health_insurance_card", "DN1", Some("2026-05-10"));
        assert_eq!(status(&card, date!(2026 - 05 - 10)), DocumentStatus::Valid);
        assert_eq!(
            status(&card, date!(2026 - 05 - 11)),
            DocumentStatus::Expired
        );
        assert_eq!(
            releasable(std::slice::from_ref(&card), date!(2026 - 05 - 11)).len(),
            0
        );
        assert_eq!(releasable(&[card], date!(2026 - 05 - 10)).len(), 1);
        let mut garbled = row("passport", "P1", Some("soon"));
        assert_eq!(
            status(&garbled, date!(2026 - 05 - 10)),
            DocumentStatus::Unreadable
        );
        garbled.expires_on = None;
        garbled.issued_on = Some("2027-01-01".into());
        assert_eq!(
            status(&garbled, date!(2026 - 05 - 10)),
            DocumentStatus::NotYetValid
        );
    }

    #[test]
    fn a_resync_renews_changes_and_removes_only_integrated_types() {
        let current = [
            row("health_insurance_card", "DN1", Some("2025-12-31")),
            row("driving_licence", "L1", None),
        ];
        let registry = [
            doc("health_insurance_card", "DN1", Some("2026-12-31")),
            doc("passport", "P9", Some("2030-01-01")),
        ];
        let changes = resync_changes(&current, &registry);
        let got: Vec<_> = changes
            .iter()
            .map(|c| (c.kind, c.key().0.to_string(), c.key().1.to_string()))
            .collect();
        assert_eq!(
            got,
            [
                (ChangeKind::Removed, "driving_licence".into(), "L1".into()),
                (
                    ChangeKind::Changed,
                    "health_insurance_card".into(),
                    "DN1".into()
                ),
            ]
        );
        let renewed = &changes[1];
        assert_eq!(
            renewed.new.as_ref().unwrap().expires_on.as_deref(),
            Some("2026-12-31")
        );
        // The same registry again: nothing to do.
        let after = [
            row("health_insurance_card", "DN1", Some("2026-12-31")),
            row("driving_licence", "L1", None),
        ];
        let again = resync_changes(
            &after,
            &[
                doc("health_insurance_card", "DN1", Some("2026-12-31")),
                doc("driving_licence", "L1", None),
            ],
        );
        assert!(again.is_empty());
        // A renewal under a new number: the new one added, the old one removed.
        let new_number = resync_changes(
            &[row("driving_licence", "L1", Some("2024-01-01"))],
            &[doc("driving_licence", "L2", Some("2034-01-01"))],
        );
        let kinds: Vec<_> = new_number.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, [ChangeKind::Removed, ChangeKind::Added]);
    }
}
