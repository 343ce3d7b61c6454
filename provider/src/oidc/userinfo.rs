//! UserInfo (OpenID Connect Core 5.3): GET or POST with a bearer or DPoP-bound access token. Every release is
//! recorded, so the citizen can see who received which claims and when.

use axum::Json;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use vneid_contract::{AccountKind, Claim};

use super::dpop;
use super::error::{BearerError, ErrorCode, OAuthError};
use super::grant::Grant;
use super::paths;
use super::subject::subject;
use super::types::ClientId;
use crate::accounts::claims::{Holder, Target, released};
use crate::state::AppState;
use crate::store::{AuditEvent, TokenRow};

/// `GET` or `POST /userinfo`. The access token is checked first: a bearer token, or a
/// DPoP-bound one with its proof (RFC 9449 7); every answer carries a fresh `DPoP-Nonce`.
pub async fn userinfo(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    body: String,
) -> Response {
    let response =
        match dpop::resource_token(&state, method.as_str(), &headers, &body, paths::USERINFO).await
        {
            Ok(row) => {
                let dpop = row.dpop_jkt.is_some();
                match release(state.clone(), row).await {
                    Ok(response) => response,
                    Err(BearerError(error)) => dpop::Challenge::new(error, dpop).into_response(),
                }
            }
            Err(challenge) => challenge.into_response(),
        };
    dpop::with_nonce(&state, response)
}

/// The claims for a checked access token.
async fn release(state: AppState, row: TokenRow) -> Result<Response, BearerError> {
    let now = state.now();
    let invalid = || {
        BearerError(OAuthError::new(
            ErrorCode::InvalidToken,
            "the access token is invalid, expired or revoked",
        ))
    };
    let grant: Grant = serde_json::from_str(&row.grant_data).map_err(|e| BearerError(e.into()))?;
    let client_id = ClientId::parse(&row.client_id).ok_or_else(invalid)?;
    let client = state
        .client(&client_id)
        .await
        .map_err(|e| BearerError(e.into()))?
        .ok_or_else(invalid)?;
    let mut account = state
        .store
        .account(&row.account_id)
        .await
        .map_err(|e| BearerError(e.into()))?
        .ok_or_else(invalid)?;
    // The portrait is sealed at rest: opened here, for the claim only.
    account.portrait_jpeg =
        crate::accounts::portrait::reveal(&state.sealer, account.portrait_jpeg.as_deref());

    let kind = AccountKind::parse(&account.kind).unwrap_or(AccountKind::Citizen);
    let claims = released(
        &grant.scopes,
        grant.claims.claims(true),
        grant.level,
        kind,
        Target::UserInfo,
    );
    let documents = if claims.contains(&Claim::Documents) {
        state
            .store
            .documents(&account.id)
            .await
            .map_err(|e| BearerError(e.into()))?
    } else {
        Vec::new()
    };
    let organization = if claims.contains(&Claim::Organization) {
        state
            .store
            .organization_of(&account.id, grant.organization.as_deref())
            .await
            .map_err(|e| BearerError(e.into()))?
    } else {
        None
    };
    let holder = Holder {
        account: &account,
        documents: &documents,
        organization: organization.as_ref(),
        today: crate::accounts::claims::vietnam_date(state.now()),
    };
    let mut body = Map::new();
    body.insert(
        "sub".into(),
        Value::String(subject(&state.pairwise_salt, &client, &account.id)),
    );
    holder.fill(&claims, &mut body);
    super::predicates::fill(&state, &grant, &account, true, &mut body)
        .await
        .map_err(|e| BearerError(e.into()))?;
    if grant.claims.verified_claims {
        let mut verified = body.clone();
        verified.remove("sub");
        body.insert(
            "verified_claims".into(),
            holder.verified_claims(grant.level, &verified),
        );
    }
    let receipt = super::receipt::issue(&state, &client, &grant, &holder, &body)
        .map_err(|e| BearerError(e.into()))?;
    // The predicates released are listed with the claims, for the citizen's history.
    let predicates = grant.claims.predicates(true).map(|p| p.as_str());
    let names: Vec<&str> = claims
        .iter()
        .map(|c| c.as_str())
        .chain(predicates.filter(|p| body.contains_key(*p)))
        .collect();
    let event = AuditEvent {
        kind: "claims_released",
        account_id: Some(&account.id),
        client_id: Some(client.id.as_str()),
        detail: json!({ "claims": names, "acr": grant.level.acr(), "txn": receipt.as_ref().map(|r| &r.txn) }),
    };
    state
        .store
        .audit(event, now)
        .await
        .map_err(|e| BearerError(e.into()))?;
    if let Some(receipt) = receipt {
        body.insert(
            vneid_contract::RECEIPT_MEMBER.into(),
            Value::String(receipt.jws),
        );
    }
    respond(&state, &client, body).map_err(|e| BearerError(e.into()))
}

/// The response as the client registered it (Core 5.3.2): plain JSON; or a JWT signed with
/// our key (with `iss` and `aud`), `application/jwt`; or encrypted to the client's key, nested
/// when also signed.
fn respond(
    state: &AppState,
    client: &super::client::Client,
    mut body: Map<String, Value>,
) -> Result<Response, crate::error::AppError> {
    if client.responses.userinfo_signing.is_none() && client.responses.userinfo_encryption.is_none()
    {
        return Ok(Json(Value::Object(body)).into_response());
    }
    let jwt = |body: String| ([(CONTENT_TYPE, "application/jwt")], body).into_response();
    let signed = match client.responses.userinfo_signing {
        Some(alg) => {
            body.insert("iss".into(), Value::String(state.issuer.clone()));
            body.insert("aud".into(), Value::String(client.id.as_str().into()));
            Some(state.keys.sign(alg, &body)?)
        }
        None => None,
    };
    Ok(match (&client.responses.userinfo_encryption, signed) {
        (Some(e), Some(jws)) => jwt(super::encryption::encrypt_jwt(client, e, &jws)?),
        (Some(e), None) => {
            let json = serde_json::to_vec(&body)?;
            jwt(super::encryption::encrypt(client, e, &json, false)?)
        }
        (None, Some(jws)) => jwt(jws),
        (None, None) => Json(Value::Object(body)).into_response(),
    })
}
