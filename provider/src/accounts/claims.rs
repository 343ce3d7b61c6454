//! Which claims a grant releases, and their values for an account.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};
use vneid_contract::{AccountKind, Claim, Level, ScopeSet};

use crate::store::{AccountRow, DocumentRow, OrganizationRow};

/// Where claims go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The ID token: only claims asked for individually (scope claims come from UserInfo).
    IdToken,
    /// UserInfo: scope claims plus those asked for individually.
    UserInfo,
}

/// The claims a grant releases to `target`: those of the granted scopes (UserInfo) and those
/// asked for individually through `claims` (OpenID Connect Core 5.5: released even outside the
/// scopes; the authorization endpoint keeps only claims of scopes the client may ask for), at
/// most the level reached, and only those that apply to the kind of account.
pub fn released(
    scopes: &ScopeSet,
    individually: impl Iterator<Item = Claim>,
    level: Level,
    kind: AccountKind,
    target: Target,
) -> BTreeSet<Claim> {
    let asked: BTreeSet<Claim> = individually.collect();
    let mut claims = asked.clone();
    if target == Target::UserInfo {
        claims.extend(scopes.claims());
    }
    claims.retain(|c| {
        let scope_granted = c
            .scope()
            .is_some_and(|s| scopes.contains(s) || asked.contains(c));
        let level_ok = c
            .required_level()
            .is_none_or(|required| level.satisfies(required));
        let id_token_ok = target == Target::UserInfo || c.id_token_allowed();
        scope_granted && level_ok && id_token_ok && applies_to(*c, kind) && *c != Claim::Sub
    });
    claims
}

/// Whether a claim can exist for this kind of account.
fn applies_to(claim: Claim, kind: AccountKind) -> bool {
    match claim {
        Claim::PersonalIdNumber => kind == AccountKind::Citizen,
        Claim::ForeignerIdNumber | Claim::Nationality | Claim::TravelDocument => {
            kind == AccountKind::Foreigner
        }
        _ => true,
    }
}

/// An account with what hangs off it, for building claim values.
pub struct Holder<'a> {
    pub account: &'a AccountRow,
    pub documents: &'a [DocumentRow],
    pub organization: Option<&'a OrganizationRow>,
}

impl Holder<'_> {
    /// Adds the values of `claims` to `out` (a claim without a value is left out).
    pub fn fill(&self, claims: &BTreeSet<Claim>, out: &mut Map<String, Value>) {
        for claim in claims {
            if let Some(value) = self.value(*claim) {
                out.insert(claim.as_str().to_string(), value);
            }
        }
    }

    /// The full name in Vietnamese order: family, middle, given.
    pub fn full_name(&self) -> String {
        let a = self.account;
        [
            Some(a.family_name.as_str()),
            a.middle_name.as_deref(),
            Some(a.given_name.as_str()),
        ]
        .into_iter()
        .flatten()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
    }

    fn value(&self, claim: Claim) -> Option<Value> {
        let a = self.account;
        let text = |s: &str| Some(Value::String(s.to_string()));
        match claim {
            Claim::Name => text(&self.full_name()),
            Claim::FamilyName => text(&a.family_name),
            Claim::MiddleName => a.middle_name.as_deref().and_then(text),
            Claim::GivenName => text(&a.given_name),
            Claim::Birthdate => text(&a.birthdate),
            Claim::Gender => text(&a.gender),
            Claim::PersonalIdNumber => text(&a.username),
            Claim::ForeignerIdNumber => text(&a.username),
            Claim::Nationality => a.nationality.as_deref().and_then(text),
            Claim::TravelDocument => a
                .travel_document
                .as_deref()
                .and_then(|j| serde_json::from_str(j).ok()),
            Claim::Portrait => a
                .portrait_jpeg
                .as_deref()
                .map(|b64| Value::String(format!("data:image/jpeg;base64,{b64}"))),
            Claim::PhoneNumber => a.phone_number.as_deref().and_then(text),
            Claim::PhoneNumberVerified => a
                .phone_number
                .as_ref()
                .map(|_| Value::Bool(a.phone_verified != 0)),
            Claim::Email => a.email.as_deref().and_then(text),
            Claim::EmailVerified => a.email.as_ref().map(|_| Value::Bool(a.email_verified != 0)),
            Claim::Documents => Some(Value::Array(self.documents.iter().map(document).collect())),
            Claim::Organization => self.organization.map(|o| self.organization_value(o)),
            _ => None,
        }
    }

    fn organization_value(&self, o: &OrganizationRow) -> Value {
        let mut v = json!({
            "code": o.code,
            "name": o.name,
            "established_on": o.established_on,
            "head_office_address": o.head_office_address,
            "representative": { "id_number": self.account.username, "name": self.full_name() },
        });
        if let Some(map) = v.as_object_mut() {
            if let Some(s) = &o.short_name {
                map.insert("short_name".into(), json!(s));
            }
            if let Some(s) = &o.foreign_name {
                map.insert("foreign_name".into(), json!(s));
            }
        }
        v
    }

    /// `verified_claims` (OpenID Connect for Identity Assurance 1.0) for the released claims.
    pub fn verified_claims(&self, level: Level, released: &Map<String, Value>) -> Value {
        let evidence = self
            .account
            .verification_evidence
            .as_deref()
            .map(crate::accounts::evidence::released)
            .unwrap_or_else(|| json!([]));
        let time = time::OffsetDateTime::from_unix_timestamp(self.account.verified_at)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            });
        let mut claims = released.clone();
        claims.remove("portrait");
        json!({
            "verification": {
                "trust_framework": vneid_contract::TRUST_FRAMEWORK,
                "assurance_level": level.assurance_level(),
                "time": time,
                "evidence": evidence,
            },
            "claims": claims,
        })
    }
}

fn document(d: &DocumentRow) -> Value {
    let mut v = json!({ "type": d.doc_type, "number": d.number });
    if let Some(map) = v.as_object_mut() {
        for (key, value) in [
            ("issued_on", &d.issued_on),
            ("expires_on", &d.expires_on),
            ("issuer", &d.issuer),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), json!(value));
            }
        }
        let details = d
            .details
            .as_deref()
            .and_then(|j| serde_json::from_str::<Value>(j).ok());
        map.insert("details".into(), details.unwrap_or_else(|| json!({})));
    }
    v
}
