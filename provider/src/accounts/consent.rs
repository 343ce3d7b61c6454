//! Consent keyed by what the citizen saw: the items released (claim names, `verified_claims`,
//! `offline_access`), each with the level at which it was shown, never the requested scope
//! string. A request covered by scope names can still release more than was shown (documents
//! asked at Level 1 and released at a later Level 2 login, `verified_claims`, a new claim through
//! `claims`); a request is covered only when every item it would release was agreed.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use vneid_contract::{
    AccountKind, Claim, Lang, Level, Predicate, Scope, ScopeSet, claim_description,
};

use super::claims::{Target, released, released_predicates};
use crate::oidc::claims_request::ClaimsRequest;

/// One thing a consent page lists and a consent covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConsentItem {
    /// A claim (`sub` and `verified_claims` included).
    Claim(Claim),
    /// A refresh token: access while the citizen is away.
    OfflineAccess,
    /// A predicate claim (`age_over_18`): a yes or no instead of the data.
    Predicate(Predicate),
    /// A signed eKYC receipt of the release (`ekyc_receipt`).
    Receipt,
}

impl ConsentItem {
    /// The stored name: the claim's wire name, or `offline_access`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentItem::Claim(c) => c.as_str(),
            ConsentItem::OfflineAccess => Scope::OfflineAccess.as_str(),
            ConsentItem::Predicate(p) => p.as_str(),
            ConsentItem::Receipt => Scope::EkycReceipt.as_str(),
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<ConsentItem> {
        if s == Scope::OfflineAccess.as_str() {
            return Some(ConsentItem::OfflineAccess);
        }
        if s == Scope::EkycReceipt.as_str() {
            return Some(ConsentItem::Receipt);
        }
        Claim::parse(s)
            .map(ConsentItem::Claim)
            .or_else(|| Predicate::parse(s).map(ConsentItem::Predicate))
    }

    /// Whether what is released under this item depends on the level of the login, so that an
    /// agreement at a lower level does not cover it: `verified_claims` says how the identity was
    /// verified (Level 2: fingerprints at a desk), and Level 2 claims exist only at Level 2.
    fn depends_on_level(self) -> bool {
        match self {
            ConsentItem::Claim(Claim::VerifiedClaims) => true,
            ConsentItem::Claim(c) => c
                .required_level()
                .is_some_and(|needed| !Level::Level1.satisfies(needed)),
            ConsentItem::OfflineAccess => false,
            ConsentItem::Predicate(p) => !Level::Level1.satisfies(p.required_level()),
            // The receipt says how the identity was verified, which the level changes.
            ConsentItem::Receipt => true,
        }
    }

    /// How the consent page names it.
    pub fn description(self, lang: Lang) -> Cow<'static, str> {
        match self {
            ConsentItem::Claim(c) => Cow::Borrowed(claim_description(c, lang)),
            ConsentItem::OfflineAccess => Cow::Borrowed(vneid_contract::scope_description(
                Scope::OfflineAccess,
                lang,
            )),
            ConsentItem::Predicate(p) => Cow::Owned(p.description(lang, None)),
            ConsentItem::Receipt => {
                Cow::Borrowed(vneid_contract::scope_description(Scope::EkycReceipt, lang))
            }
        }
    }

    /// How the consent page names it with the value that will be released, for a predicate
    /// ("Aged 18 or over: yes"); other items as [`ConsentItem::description`].
    pub fn describe(self, lang: Lang, values: &BTreeMap<Predicate, bool>) -> String {
        match self {
            ConsentItem::Predicate(p) => p.description(lang, values.get(&p).copied()),
            other => other.description(lang).into_owned(),
        }
    }
}

impl fmt::Display for ConsentItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a citizen agreed to give one client: each item with the highest level it was shown at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Granted(BTreeMap<ConsentItem, Level>);

impl Granted {
    /// Nothing agreed yet.
    pub fn none() -> Granted {
        Granted::default()
    }

    /// From stored `(item, level)` pairs; unknown names and levels are skipped (they cover
    /// nothing, so the page is shown again).
    pub fn from_stored<'a>(rows: impl IntoIterator<Item = (&'a str, i64)>) -> Granted {
        let mut granted = Granted::default();
        for (name, level) in rows {
            if let (Some(item), Some(level)) = (ConsentItem::parse(name), Level::from_number(level))
            {
                granted.add(item, level);
            }
        }
        granted
    }

    /// Records an item agreed at `level` (a lower level never replaces a higher one).
    pub fn add(&mut self, item: ConsentItem, level: Level) {
        let entry = self.0.entry(item).or_insert(level);
        if level.satisfies(*entry) {
            *entry = level;
        }
    }

    /// Takes an item back out (the organisation when the choice of which one must be asked
    /// again).
    pub fn forget(&mut self, item: ConsentItem) {
        self.0.remove(&item);
    }

    /// Whether this item, released at `level`, was agreed.
    pub fn covers(&self, item: ConsentItem, level: Level) -> bool {
        self.0
            .get(&item)
            .is_some_and(|shown| !item.depends_on_level() || shown.satisfies(level))
    }
}

/// Everything a grant of this request releases at `level` to this kind of account: the same
/// rule the token and UserInfo endpoints apply, so the page lists exactly what leaves.
pub fn released_items(
    scopes: &ScopeSet,
    claims: &ClaimsRequest,
    level: Level,
    kind: AccountKind,
) -> BTreeSet<ConsentItem> {
    let mut items = BTreeSet::from([ConsentItem::Claim(Claim::Sub)]);
    let userinfo = released(scopes, claims.claims(true), level, kind, Target::UserInfo);
    let id_token = released(scopes, claims.claims(false), level, kind, Target::IdToken);
    items.extend(userinfo.into_iter().chain(id_token).map(ConsentItem::Claim));
    if claims.verified_claims {
        items.insert(ConsentItem::Claim(Claim::VerifiedClaims));
    }
    if scopes.contains(Scope::OfflineAccess) {
        items.insert(ConsentItem::OfflineAccess);
    }
    let predicates = claims.predicates(true).chain(claims.predicates(false));
    items.extend(
        released_predicates(predicates, level)
            .into_iter()
            .map(ConsentItem::Predicate),
    );
    if scopes.contains(Scope::EkycReceipt) {
        items.insert(ConsentItem::Receipt);
    }
    items
}

/// What of `released` (at `level`) the citizen has not agreed to yet.
pub fn not_covered(
    released: &BTreeSet<ConsentItem>,
    granted: &Granted,
    level: Level,
) -> BTreeSet<ConsentItem> {
    released
        .iter()
        .copied()
        .filter(|item| !granted.covers(*item, level))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(s: &str) -> ScopeSet {
        ScopeSet::parse(s).unwrap()
    }

    fn agreed(items: &BTreeSet<ConsentItem>, level: Level) -> Granted {
        let mut g = Granted::none();
        for i in items {
            g.add(*i, level);
        }
        g
    }

    const CITIZEN: AccountKind = AccountKind::Citizen;

    #[test]
    fn documents_agreed_at_level1_are_not_covered_at_level2() {
        let asked = scopes("openid profile documents");
        let none = ClaimsRequest::default();
        // At Level 1 the documents are not released, so not shown, so not agreed.
        let at_l1 = released_items(&asked, &none, Level::Level1, CITIZEN);
        assert!(!at_l1.contains(&ConsentItem::Claim(Claim::Documents)));
        let granted = agreed(&at_l1, Level::Level1);
        assert!(not_covered(&at_l1, &granted, Level::Level1).is_empty());
        // The same scopes at Level 2 release the documents: just they are new.
        let at_l2 = released_items(&asked, &none, Level::Level2, CITIZEN);
        assert_eq!(
            not_covered(&at_l2, &granted, Level::Level2),
            BTreeSet::from([ConsentItem::Claim(Claim::Documents)])
        );
    }

    #[test]
    fn verified_claims_and_new_claims_through_claims_are_new() {
        let asked = scopes("openid profile email");
        let none = ClaimsRequest::default();
        let first = released_items(&asked, &none, Level::Level1, CITIZEN);
        let granted = agreed(&first, Level::Level1);
        let verified = ClaimsRequest {
            verified_claims: true,
            ..ClaimsRequest::default()
        };
        let items = released_items(&asked, &verified, Level::Level1, CITIZEN);
        assert_eq!(
            not_covered(&items, &granted, Level::Level1),
            BTreeSet::from([ConsentItem::Claim(Claim::VerifiedClaims)])
        );
        // verified_claims agreed at Level 1 does not cover the Level 2 evidence.
        let with_vc = agreed(&items, Level::Level1);
        let at_l2 = released_items(&asked, &verified, Level::Level2, CITIZEN);
        assert_eq!(
            not_covered(&at_l2, &with_vc, Level::Level2),
            BTreeSet::from([ConsentItem::Claim(Claim::VerifiedClaims)])
        );
        // A claim asked individually through `claims` within the scopes, never shown before.
        let narrow = scopes("openid email");
        let g = agreed(
            &released_items(&narrow, &none, Level::Level1, CITIZEN),
            Level::Level1,
        );
        let phone = ClaimsRequest {
            id_token: BTreeSet::from(["email".to_string()]),
            ..ClaimsRequest::default()
        };
        assert!(
            not_covered(
                &released_items(&narrow, &phone, Level::Level1, CITIZEN),
                &g,
                Level::Level1
            )
            .is_empty()
        );
        let wider = scopes("openid email phone");
        assert_eq!(
            not_covered(
                &released_items(&wider, &none, Level::Level1, CITIZEN),
                &g,
                Level::Level1
            ),
            BTreeSet::from([
                ConsentItem::Claim(Claim::PhoneNumber),
                ConsentItem::Claim(Claim::PhoneNumberVerified)
            ])
        );
    }

    #[test]
    fn plain_claims_agreed_at_level1_cover_a_level2_login() {
        let asked = scopes("openid profile offline_access");
        let none = ClaimsRequest::default();
        let l1 = released_items(&asked, &none, Level::Level1, CITIZEN);
        assert!(l1.contains(&ConsentItem::OfflineAccess));
        let g = agreed(&l1, Level::Level1);
        let l2 = released_items(&asked, &none, Level::Level2, CITIZEN);
        assert!(not_covered(&l2, &g, Level::Level2).is_empty());
        // Nothing agreed: everything is new, `sub` first.
        let all = not_covered(&l2, &Granted::none(), Level::Level2);
        assert_eq!(all, l2);
        assert_eq!(all.first(), Some(&ConsentItem::Claim(Claim::Sub)));
    }

    #[test]
    fn stored_items_round_trip_and_keep_the_highest_level() {
        let g = Granted::from_stored([
            ("documents", 2),
            ("offline_access", 1),
            ("shoe_size", 1),
            ("name", 7),
        ]);
        assert!(g.covers(ConsentItem::Claim(Claim::Documents), Level::Level2));
        assert!(g.covers(ConsentItem::OfflineAccess, Level::Level2));
        assert!(!g.covers(ConsentItem::Claim(Claim::Name), Level::Level1));
        let mut g = Granted::none();
        g.add(ConsentItem::Claim(Claim::VerifiedClaims), Level::Level2);
        g.add(ConsentItem::Claim(Claim::VerifiedClaims), Level::Level1);
        assert!(g.covers(ConsentItem::Claim(Claim::VerifiedClaims), Level::Level2));
        for item in [
            ConsentItem::OfflineAccess,
            ConsentItem::Claim(Claim::Sub),
            ConsentItem::Receipt,
            ConsentItem::Predicate(Predicate::AgeOver(18)),
        ] {
            assert_eq!(ConsentItem::parse(item.as_str()), Some(item));
        }
    }

    #[test]
    fn a_predicate_is_an_item_of_its_own_and_the_birth_date_is_not() {
        let openid = scopes("openid");
        let asked = ClaimsRequest::parse(
            r#"{"userinfo":{"age_over_18":null,"document_valid:passport":null}}"#,
        )
        .unwrap();
        let l1 = released_items(&openid, &asked, Level::Level1, CITIZEN);
        assert_eq!(
            l1,
            BTreeSet::from([
                ConsentItem::Claim(Claim::Sub),
                ConsentItem::Predicate(Predicate::AgeOver(18)),
            ])
        );
        let l2 = released_items(&openid, &asked, Level::Level2, CITIZEN);
        assert!(
            l2.contains(&ConsentItem::Predicate(Predicate::DocumentValid(
                vneid_contract::PredicateDocument::Passport
            )))
        );
        // Agreed at Level 1, the age still covers a Level 2 login; the document does not.
        assert_eq!(
            not_covered(&l2, &agreed(&l1, Level::Level1), Level::Level2).len(),
            1
        );
        let values = BTreeMap::from([(Predicate::AgeOver(18), true)]);
        assert_eq!(
            ConsentItem::Predicate(Predicate::AgeOver(18)).describe(Lang::En, &values),
            "Aged 18 or over: yes"
        );
    }

    #[test]
    fn the_receipt_is_an_item() {
        let items = released_items(
            &scopes("openid profile ekyc_receipt"),
            &ClaimsRequest::default(),
            Level::Level1,
            CITIZEN,
        );
        assert!(items.contains(&ConsentItem::Receipt));
    }
}
