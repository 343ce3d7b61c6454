//! ID tokens (OpenID Connect Core 2): the protocol claims, plus claims asked for individually.

use serde::Serialize;
use serde_json::{Map, Value};
use vneid_contract::{AccountKind, AuthMethod};

use super::client::Client;
use super::grant::Grant;
use crate::accounts::claims::{Holder, Target, released};
use crate::error::AppError;
use crate::state::AppState;

#[derive(Serialize)]
struct IdTokenClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    acr: &'static str,
    amr: &'a [AuthMethod],
    #[serde(skip_serializing_if = "Option::is_none")]
    at_hash: Option<String>,
    /// The browser session (Back-Channel Logout 1.0 2.1), stable while it lasts.
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(flatten)]
    extra: Map<String, Value>,
}

/// Signs the ID token for a grant.
pub async fn id_token(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    account_id: &str,
    sub: &str,
    access_token: &str,
    include_nonce: bool,
) -> Result<String, AppError> {
    let now = state.now();
    let mut extra = Map::new();
    if !grant.claims.id_token.is_empty()
        && let Some(account) = state.store.account(account_id).await?
    {
        {
            let kind = AccountKind::parse(&account.kind).unwrap_or(AccountKind::Citizen);
            let claims = released(
                &grant.scopes,
                grant.claims.claims(false),
                grant.level,
                kind,
                Target::IdToken,
            );
            let documents = if claims.contains(&vneid_contract::Claim::Documents) {
                state.store.documents(account_id).await?
            } else {
                Vec::new()
            };
            let organization = if claims.contains(&vneid_contract::Claim::Organization) {
                state
                    .store
                    .organization_of(account_id, grant.organization.as_deref())
                    .await?
            } else {
                None
            };
            Holder {
                account: &account,
                documents: &documents,
                organization: organization.as_ref(),
                today: crate::accounts::claims::vietnam_date(state.now()),
            }
            .fill(&claims, &mut extra);
            super::predicates::fill(state, grant, &account, false, &mut extra).await?;
        }
    }
    let claims = IdTokenClaims {
        iss: &state.issuer,
        sub,
        aud: client.id.as_str(),
        azp: client.id.as_str(),
        exp: now + state.config.lifetimes.id_token,
        iat: now,
        auth_time: grant.auth_time,
        nonce: grant.nonce.as_deref().filter(|_| include_nonce),
        acr: grant.level.acr(),
        amr: &grant.amr,
        at_hash: Some(crate::secret::left_half_hash(access_token)),
        sid: grant.sid.as_deref(),
        extra,
    };
    let signed = state.keys.sign(client.signing_alg, &claims)?;
    match &client.responses.id_token_encryption {
        Some(encryption) => Ok(super::encryption::encrypt_jwt(client, encryption, &signed)?),
        None => Ok(signed),
    }
}
