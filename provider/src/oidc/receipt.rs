//! The signed eKYC receipt (an addition to the contract): asked for with the `ekyc_receipt`
//! scope, returned by UserInfo in its `ekyc_receipt` member. A JWS (`typ`
//! `ekyc-receipt+jwt`, no `exp`) signed with the current key over what UserInfo released, the
//! level and how it was reached, how the identity was verified, the client, the pairwise
//! `sub`, a transaction id (also in the audit record of the release) and the issue time. The
//! key history at `/.well-known/vneid-key-history` lets a relying party check it offline
//! years later, after the key has left the JWKS.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use vneid_contract::{Claim, RECEIPT_TYPE, ReceiptClaims, Scope};

use super::client::Client;
use super::grant::Grant;
use crate::accounts::claims::Holder;
use crate::error::AppError;
use crate::state::AppState;

/// A receipt just signed.
pub struct Receipt {
    /// The transaction id, for the audit record.
    pub txn: String,
    /// The compact JWS.
    pub jws: String,
}

/// What goes into a receipt from a UserInfo body (`sub` first, then the claims released):
/// every claim but `sub` (it has its own member), `verified_claims` (its verification has its
/// own member, its claims are these) and the portrait (a photo is not evidence kept in a log).
pub fn receipt_claims(
    issuer: &str,
    client_id: &str,
    grant: &Grant,
    verification: Value,
    userinfo: &Map<String, Value>,
    txn: String,
    now: i64,
) -> ReceiptClaims {
    let mut claims = userinfo.clone();
    let sub = match claims.remove(Claim::Sub.as_str()) {
        Some(Value::String(s)) => s,
        _ => String::new(),
    };
    claims.remove(Claim::VerifiedClaims.as_str());
    claims.remove(Claim::Portrait.as_str());
    ReceiptClaims {
        iss: issuer.to_string(),
        sub,
        aud: client_id.to_string(),
        txn,
        iat: now,
        acr: grant.level.acr().to_string(),
        amr: grant.amr.iter().map(|m| m.as_str().to_string()).collect(),
        auth_time: grant.auth_time,
        claims,
        verification,
    }
}

/// Signs a receipt over `userinfo` when the grant asked for one (`ekyc_receipt` scope).
pub fn issue(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    holder: &Holder<'_>,
    userinfo: &Map<String, Value>,
) -> Result<Option<Receipt>, AppError> {
    if !grant.scopes.contains(Scope::EkycReceipt) {
        return Ok(None);
    }
    let verification = holder
        .verified_claims(grant.level, &Map::new())
        .get("verification")
        .cloned()
        .unwrap_or(Value::Null);
    let txn = crate::secret::random_token(16);
    let claims = receipt_claims(
        &state.issuer,
        client.id.as_str(),
        grant,
        verification,
        userinfo,
        txn.clone(),
        state.now(),
    );
    let jws = state
        .keys
        .sign_typed(client.signing_alg, RECEIPT_TYPE, &claims)?;
    Ok(Some(Receipt { txn, jws }))
}

/// `GET /.well-known/vneid-key-history`: every signing key ever used, with its validity
/// period, for relying parties to archive beside their receipts.
pub async fn key_history(State(state): State<AppState>) -> Result<Response, AppError> {
    let history = state.keys.history(&state.issuer).await?;
    let body = serde_json::to_string(&history)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use vneid_contract::{AuthMethod, Level, ScopeSet};

    use super::*;
    use crate::oidc::claims_request::ClaimsRequest;
    use crate::oidc::types::{ClientId, RedirectUri};

    #[test]
    fn a_receipt_covers_the_release_without_the_portrait() {
        let grant = Grant {
            sid: None,
            client_id: ClientId::parse("demo-bank").unwrap(),
            scopes: ScopeSet::parse("openid profile portrait ekyc_receipt").unwrap(),
            claims: ClaimsRequest::default(),
            nonce: None,
            redirect_uri: RedirectUri::parse("https://bank.example/cb").unwrap(),
            code_challenge: None,
            level: Level::Level2,
            amr: vec![AuthMethod::Pwd, AuthMethod::Otp],
            auth_time: 90,
            dpop_jkt: None,
            organization: None,
        };
        let userinfo = json!({
            "sub": "pairwise", "name": "Trần Thị Bình", "age_over_18": true,
            "portrait": "data:image/jpeg;base64,AAAA",
            "verified_claims": {"claims": {"name": "Trần Thị Bình"}},
        });
        let r = receipt_claims(
            "https://id.example.vn",
            "demo-bank",
            &grant,
            json!({"trust_framework": "vn_eid"}),
            userinfo.as_object().unwrap(),
            "txn1".into(),
            100,
        );
        assert_eq!(r.sub, "pairwise");
        assert_eq!(r.aud, "demo-bank");
        assert_eq!(r.acr, "urn:vneid:acr:level2");
        assert_eq!(r.amr, ["pwd", "otp"]);
        assert_eq!((r.iat, r.auth_time), (100, 90));
        assert_eq!(
            r.claims.keys().collect::<Vec<_>>(),
            ["age_over_18", "name"],
            "no sub, portrait or verified_claims among the claims"
        );
        let json = serde_json::to_value(&r).unwrap();
        assert!(json.get("exp").is_none());
    }
}
