//! A grant: what a finished login gave a client. It is bound to the code and then to the tokens
//! issued from it, stored as JSON.

use std::collections::BTreeSet;

use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use vneid_contract::{AuthMethod, Level, ScopeSet};

use super::authorize::AuthorizationRequest;
use super::claims_request::ClaimsRequest;
use super::flow::SessionAuth;
use super::types::{ClientId, CodeChallenge, RedirectUri};
use crate::accounts::consent::ConsentItem;
use crate::error::AppError;
use crate::secret;
use crate::state::AppState;
use crate::store::{ConsentGiven, NewCode};

/// What was granted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub client_id: ClientId,
    pub scopes: ScopeSet,
    pub claims: ClaimsRequest,
    pub nonce: Option<String>,
    pub redirect_uri: RedirectUri,
    /// Present on codes; dropped once the code is redeemed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<CodeChallenge>,
    /// The level this login reached (the ID token's `acr`).
    pub level: Level,
    pub amr: Vec<AuthMethod>,
    pub auth_time: i64,
    /// The DPoP key the code is bound to (RFC 9449 10), from the authorization request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
    /// The browser session's `sid` (ID tokens carry it; back-channel logout names it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The organisation (its code) chosen on the consent page or remembered with the consent,
    /// for the `organization` claim (`accounts::organization::released`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

/// Ends a login: stores a code (with the consent, if just given: the items the page showed, at
/// the level of this login, and the organisation chosen, already checked) and redirects to the
/// client.
pub async fn issue_code(
    state: &AppState,
    request_id: Option<&str>,
    request: &AuthorizationRequest,
    auth: &SessionAuth,
    consent_given: Option<&BTreeSet<ConsentItem>>,
    organization: Option<&str>,
) -> Result<Response, AppError> {
    // The remembered organisation matters only to a grant that can release the organisation
    // claim: a single sign-on without it skips the read.
    let releases_organization = request.scopes.contains(vneid_contract::Scope::Organization)
        || request
            .claims
            .claims(true)
            .chain(request.claims.claims(false))
            .any(|c| c == vneid_contract::Claim::Organization);
    let remembered = match organization {
        Some(_) => None,
        None if !releases_organization => None,
        None => {
            state
                .store
                .consent_organization(&auth.account_id, request.client_id.as_str())
                .await?
        }
    };
    let mut amr = auth.amr.clone();
    if amr.is_empty() {
        amr.push(AuthMethod::Pwd);
    }
    let grant = Grant {
        client_id: request.client_id.clone(),
        scopes: request.scopes.clone(),
        claims: request.claims.clone(),
        nonce: request.nonce.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: Some(request.code_challenge.clone()),
        level: auth.level,
        amr,
        auth_time: auth.auth_time,
        dpop_jkt: request.dpop_jkt.clone(),
        sid: auth.sid.clone(),
        organization: organization.map(str::to_string).or(remembered),
    };
    let code = secret::new_bearer();
    let code_hash = secret::hash(&code);
    let grant_data = serde_json::to_string(&grant)?;
    let now = state.now();
    // A FAPI 2.0 client's codes live at most 60 seconds, whatever the configuration says.
    let code_lifetime = match state.client(&request.client_id).await? {
        Some(client) => client.profile.code_lifetime(state.config.lifetimes.code),
        None => state.config.lifetimes.code,
    };
    let new = NewCode {
        code_hash: &code_hash,
        client_id: request.client_id.as_str(),
        account_id: &auth.account_id,
        grant_data: &grant_data,
        expires_at: now + code_lifetime,
    };
    let items: Vec<&str> = consent_given
        .into_iter()
        .flatten()
        .map(|i| i.as_str())
        .collect();
    let consent = consent_given.map(|_| ConsentGiven {
        items: &items,
        level: i64::from(auth.level.as_number()),
        organization,
    });
    state
        .store
        .issue_code(request_id, &new, consent.as_ref(), now)
        .await?;
    tracing::info!(client = request.client_id.as_str(), account = %auth.account_id, acr = %auth.level, "authorization code issued");
    let mut params = vec![("code", code.as_str())];
    if let Some(s) = request.state.as_deref() {
        params.push(("state", s));
    }
    params.push(("iss", &state.issuer));
    Ok(Redirect::to(request.redirect_uri.with_params(&params).as_str()).into_response())
}
