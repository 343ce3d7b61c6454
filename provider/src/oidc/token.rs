//! The token endpoint (RFC 6749 3.2): the authorization-code and refresh-token grants, and the
//! client-credentials grant for clients acting for themselves (see `client_credentials`). A
//! code's use and the tokens issued from it are one transaction.
//!
//! With a DPoP proof (RFC 9449), the access and refresh tokens are bound to its key
//! (`token_type: DPoP`); a refresh token so bound is refreshed only with a proof by that key.
//! A client registered with `require_dpop` (or the FAPI 2.0 profile) must send a proof. The
//! proof is checked, nonce included, before anything is used up: a refused proof leaves the code
//! or refresh token as it was.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use vneid_contract::{Scope, ScopeSet};

use super::client::Client;
use super::client_auth::authenticate;
use super::dpop::{self, DpopError, Proof};
use super::error::{ErrorCode, OAuthError, TokenError};
use super::grant::Grant;
use super::id_token::id_token;
use super::paths;
use super::subject::subject;
use super::types::GrantType;
use crate::secret;
use crate::state::AppState;
use crate::store::{self, CodeUse, NewToken, RefreshUse, TokenKind};

/// The token request as it arrives.
#[derive(Debug, Default, Deserialize)]
pub struct TokenParams {
    grant_type: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
    /// CIBA: the request being redeemed.
    auth_req_id: Option<String>,
}

#[derive(Serialize)]
pub(super) struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    id_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    scope: String,
}

/// `POST /token`. Every answer carries a fresh `DPoP-Nonce`.
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<TokenParams>, axum::extract::rejection::FormRejection>,
) -> Response {
    let response = match exchange(&state, &headers, form).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    dpop::with_nonce(&state, response)
}

async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<axum::Form<TokenParams>, axum::extract::rejection::FormRejection>,
) -> Result<Response, TokenError> {
    let axum::Form(params) = form.map_err(|_| {
        OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")
    })?;
    // The proof first (no state is touched), so a nonce round trip spends no client assertion.
    let proof =
        dpop::proof(state, headers, "POST", paths::TOKEN, None).map_err(OAuthError::from)?;
    let client = authenticate(
        state,
        headers,
        params.client_id.as_deref(),
        params.client_secret.as_deref(),
        params
            .client_assertion_type
            .as_deref()
            .zip(params.client_assertion.as_deref()),
    )
    .await?;
    if let Some(proof) = &proof {
        dpop::spend(state, proof).await?;
    } else if client.require_dpop {
        return Err(OAuthError::from(DpopError::Invalid(
            "this client must send a DPoP proof with its token requests",
        ))
        .into());
    }
    let grant_type = match params.grant_type.as_deref() {
        None => return Err(OAuthError::invalid_request("grant_type is required").into()),
        Some(g) => GrantType::parse(g).ok_or_else(|| {
            OAuthError::new(
                ErrorCode::UnsupportedGrantType,
                "supported: authorization_code, refresh_token, client_credentials, urn:openid:params:grant-type:ciba",
            )
        })?,
    };
    Ok(match grant_type {
        GrantType::AuthorizationCode => {
            Json(authorization_code(state, &client, &params, proof.as_ref()).await?).into_response()
        }
        GrantType::RefreshToken => {
            Json(refresh(state, &client, &params, proof.as_ref()).await?).into_response()
        }
        GrantType::ClientCredentials => {
            Json(super::client_credentials::grant(state, &client, params.scope.as_deref()).await?)
                .into_response()
        }
        GrantType::Ciba => {
            Json(super::ciba::token(state, &client, params.auth_req_id.as_deref()).await?)
                .into_response()
        }
    })
}

async fn authorization_code(
    state: &AppState,
    client: &Client,
    params: &TokenParams,
    proof: Option<&Proof>,
) -> Result<TokenResponse, OAuthError> {
    let code = params
        .code
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
    let redirect_uri = params
        .redirect_uri
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("redirect_uri is required"))?;
    // A missing verifier is a failed PKCE check for the code (RFC 7636 4.6): invalid_grant.
    let verifier = params.code_verifier.as_deref();
    let now = state.now();
    let code_hash = secret::hash(code);
    let mut tx = state.store.begin().await?;
    let row = match store::take_code(&mut tx, &code_hash, now).await? {
        CodeUse::Redeemed(row) => row,
        CodeUse::Replayed => {
            tx.commit().await?;
            tracing::warn!(
                client = client.id.as_str(),
                "authorization code replayed; its tokens are revoked"
            );
            return Err(OAuthError::invalid_grant(
                "the code was used already; tokens issued from it are revoked",
            ));
        }
        CodeUse::Invalid => {
            return Err(OAuthError::invalid_grant("the code is unknown or expired"));
        }
    };
    let mut grant: Grant = serde_json::from_str(&row.grant_data)?;
    // Any mismatch burns the code: the transaction commits its use either way.
    let mismatch = if row.client_id != client.id.as_str() {
        Some("the code was issued to another client")
    } else if grant.redirect_uri.as_str() != redirect_uri {
        Some("redirect_uri differs from the authorization request")
    } else if verifier.is_none() {
        Some("code_verifier is required: the code was issued with a code_challenge")
    } else if !grant
        .code_challenge
        .as_ref()
        .zip(verifier)
        .is_some_and(|(c, v)| c.verify(v))
    {
        Some("code_verifier does not match the code_challenge")
    } else {
        None
    };
    if let Some(reason) = mismatch {
        tx.commit().await?;
        return Err(OAuthError::invalid_grant(reason));
    }
    // A code bound to a DPoP key (RFC 9449 10) is redeemed only with a proof by that key;
    // returning before the commit leaves it unused, for its rightful client.
    if let Some(bound) = grant.dpop_jkt.as_deref()
        && proof.is_none_or(|p| p.jkt != bound)
    {
        return Err(DpopError::Invalid(
            "the code is bound to a DPoP key: send a proof signed by that key",
        )
        .into());
    }
    grant.code_challenge = None;
    grant.dpop_jkt = None;
    let issued = issue_tokens(
        state,
        &mut tx,
        client,
        &grant,
        &row.account_id,
        Lineage {
            family: &code_hash,
            dpop_jkt: proof.map(|p| p.jkt.as_str()),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    finish(state, client, &grant, &row.account_id, issued, true).await
}

async fn refresh(
    state: &AppState,
    client: &Client,
    params: &TokenParams,
    proof: Option<&Proof>,
) -> Result<TokenResponse, OAuthError> {
    let presented = params
        .refresh_token
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let row = match store::take_refresh_token(&mut tx, &secret::hash(presented), now).await? {
        RefreshUse::Rotated(row) => row,
        RefreshUse::Replayed => {
            tx.commit().await?;
            tracing::warn!(
                client = client.id.as_str(),
                "refresh token reused; its family is revoked"
            );
            return Err(OAuthError::invalid_grant(
                "the refresh token was used already; its tokens are revoked",
            ));
        }
        RefreshUse::Invalid => {
            return Err(OAuthError::invalid_grant(
                "the refresh token is unknown, expired or revoked",
            ));
        }
    };
    if row.client_id != client.id.as_str() {
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    // A bound refresh token needs a proof by its key (RFC 9449 5); returning before the commit
    // leaves it unused.
    if let Some(bound) = row.dpop_jkt.as_deref() {
        match proof {
            None => {
                return Err(DpopError::Invalid(
                    "the refresh token is DPoP-bound: send a proof signed by its key",
                )
                .into());
            }
            Some(p) if p.jkt != bound => {
                return Err(DpopError::Invalid(
                    "the DPoP proof is signed by another key than the refresh token's",
                )
                .into());
            }
            Some(_) => {}
        }
    }
    let mut grant: Grant = serde_json::from_str(&row.grant_data)?;
    // A refresh is never worth more than the account has now (a downgrade caps it at once).
    let account_level = state.store.account(&row.account_id).await?.map(|a| a.level);
    grant.level = crate::accounts::lifecycle::capped(
        grant.level,
        account_level
            .and_then(vneid_contract::Level::from_number)
            .unwrap_or(vneid_contract::Level::Level1),
    );
    if let Some(scope) = params.scope.as_deref() {
        let asked = ScopeSet::parse(scope)
            .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?;
        if !asked.is_subset(&grant.scopes) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "a refresh cannot widen the scopes granted",
            ));
        }
        grant.scopes = asked;
    }
    let family = row.code_hash.clone().unwrap_or_default();
    let issued = issue_tokens(
        state,
        &mut tx,
        client,
        &grant,
        &row.account_id,
        Lineage {
            family: &family,
            dpop_jkt: proof.map(|p| p.jkt.as_str()),
        },
        now,
    )
    .await?;
    tx.commit().await?;
    finish(state, client, &grant, &row.account_id, issued, false).await
}

/// Where new tokens come from: the family (the code's hash) and the DPoP key they are bound to.
pub(super) struct Lineage<'a> {
    pub(super) family: &'a str,
    pub(super) dpop_jkt: Option<&'a str>,
}

pub(super) struct Issued {
    access_token: String,
    refresh_token: Option<String>,
    /// Bound to a DPoP key.
    bound: bool,
}

pub(super) async fn issue_tokens(
    state: &AppState,
    tx: &mut sqlx::AnyConnection,
    client: &Client,
    grant: &Grant,
    account_id: &str,
    lineage: Lineage<'_>,
    now: i64,
) -> Result<Issued, OAuthError> {
    let Lineage { family, dpop_jkt } = lineage;
    let grant_data = serde_json::to_string(grant)?;
    let access_token = secret::new_bearer();
    let access_hash = secret::hash(&access_token);
    let lifetimes = &state.config.lifetimes;
    let mut new = NewToken {
        token_hash: &access_hash,
        kind: TokenKind::Access,
        client_id: client.id.as_str(),
        account_id,
        grant_data: &grant_data,
        family,
        expires_at: now + lifetimes.access_token,
        dpop_jkt,
    };
    store::insert_token(tx, &new, now).await?;
    if let Some(sid) = grant.sid.as_deref() {
        // The session now has this client: its end will be told to it (back-channel logout).
        let sub = subject(&state.pairwise_salt, client, account_id);
        store::add_session_client(tx, sid, client.id.as_str(), &sub, now).await?;
    }
    let refresh_token = if grant.scopes.contains(Scope::OfflineAccess) {
        let token = secret::new_bearer();
        let hash = secret::hash(&token);
        new.token_hash = &hash;
        new.kind = TokenKind::Refresh;
        new.expires_at = now + lifetimes.refresh_token;
        store::insert_token(tx, &new, now).await?;
        Some(token)
    } else {
        None
    };
    Ok(Issued {
        access_token,
        refresh_token,
        bound: dpop_jkt.is_some(),
    })
}

pub(super) async fn finish(
    state: &AppState,
    client: &Client,
    grant: &Grant,
    account_id: &str,
    issued: Issued,
    include_nonce: bool,
) -> Result<TokenResponse, OAuthError> {
    let sub = subject(&state.pairwise_salt, client, account_id);
    let id_token = id_token(
        state,
        client,
        grant,
        account_id,
        &sub,
        &issued.access_token,
        include_nonce,
    )
    .await?;
    tracing::info!(client = client.id.as_str(), account = %account_id, "tokens issued");
    Ok(TokenResponse {
        access_token: issued.access_token,
        token_type: if issued.bound { "DPoP" } else { "Bearer" },
        expires_in: state.config.lifetimes.access_token,
        id_token,
        refresh_token: issued.refresh_token,
        scope: grant.scopes.to_string(),
    })
}
