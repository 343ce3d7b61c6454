//! Predicate claims at the protocol's edge (an addition to the contract): `age_over_N` for the
//! N the client registered, `document_valid:<type>`, `resident_of:<code>` for the provinces the
//! client registered, asked through the `claims` parameter and released, instead of the data
//! they are computed from, in the ID token or UserInfo as asked.
//! The rules are in `accounts::claims`; this loads what they need.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use vneid_contract::{Predicate, PredicateDocument, Province};

use super::claims_request::ClaimsRequest;
use super::client::Client;
use super::grant::Grant;
use crate::accounts::claims::{Holder, released_predicates, vietnam_date};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::AccountRow;

/// The predicate claims discovery lists (`N`: an age the client registered; every current
/// province, of which a client asks those it registered).
pub fn supported() -> Vec<String> {
    std::iter::once("age_over_N".to_string())
        .chain(
            PredicateDocument::ALL
                .iter()
                .map(|d| Predicate::DocumentValid(*d).as_str().to_string()),
        )
        .chain(Province::all().map(|p| Predicate::ResidentOf(p).as_str().to_string()))
        .collect()
}

/// Drops from a request the `age_over_N` and `resident_of:<code>` the client did not register:
/// like an unknown claim, it is ignored (Core 5.5), never shown on the consent page nor
/// released (asking every province would reveal the residence).
pub async fn restrict(
    state: &AppState,
    client: &Client,
    claims: &mut ClaimsRequest,
) -> Result<(), AppError> {
    if claims
        .predicates(true)
        .chain(claims.predicates(false))
        .next()
        .is_none()
    {
        return Ok(());
    }
    let registered = state
        .store
        .client_age_thresholds(client.id.as_str())
        .await?;
    let provinces = state
        .store
        .client_resident_provinces(client.id.as_str())
        .await?;
    claims.retain_predicates(|p| match p {
        Predicate::AgeOver(n) => registered.contains(&i64::from(n)),
        Predicate::DocumentValid(_) => true,
        Predicate::ResidentOf(province) => provinces.iter().any(|c| c == province.code()),
    });
    Ok(())
}

/// The values of `predicates` for an account today (Vietnam's date).
pub async fn values(
    state: &AppState,
    account: &AccountRow,
    predicates: &BTreeSet<Predicate>,
) -> Result<BTreeMap<Predicate, bool>, AppError> {
    let needs_documents = predicates
        .iter()
        .any(|p| matches!(p, Predicate::DocumentValid(_)));
    let documents = if needs_documents {
        state.store.documents(&account.id).await?
    } else {
        Vec::new()
    };
    let needs_residence = predicates
        .iter()
        .any(|p| matches!(p, Predicate::ResidentOf(_)));
    let residence = if needs_residence {
        state
            .store
            .account_residence_province(&account.id)
            .await?
            .and_then(|code| Province::parse(&code))
    } else {
        None
    };
    let Some(today) = vietnam_date(state.now()) else {
        return Ok(BTreeMap::new());
    };
    let holder = Holder {
        account,
        documents: &documents,
        organization: None,
        today: Some(today),
    };
    Ok(predicates
        .iter()
        .filter_map(|p| holder.predicate(*p, today, residence).map(|v| (*p, v)))
        .collect())
}

/// Adds the predicates the grant asked for `userinfo` (or the ID token) at the level reached.
pub async fn fill(
    state: &AppState,
    grant: &Grant,
    account: &AccountRow,
    userinfo: bool,
    out: &mut Map<String, Value>,
) -> Result<(), AppError> {
    let released = released_predicates(grant.claims.predicates(userinfo), grant.level);
    if released.is_empty() {
        return Ok(());
    }
    for (p, value) in values(state, account, &released).await? {
        out.insert(p.as_str().to_string(), Value::Bool(value));
    }
    Ok(())
}
