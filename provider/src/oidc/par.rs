//! Pushed authorization requests (RFC 9126): the client posts its authorization request,
//! authenticated as at the token endpoint, and gets a `request_uri` for `/authorize`: single
//! use, 60 seconds, bound to the client. The request is validated (request object included)
//! when pushed, so errors reach the client directly and never the browser.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::authorize::{self, AuthorizationRequest, AuthorizeError, AuthorizeParams, BadClient};
use super::client::Client;
use super::client_auth::authenticate;
use super::dpop::{self, DpopError};
use super::error::{ErrorCode, OAuthError, TokenError};
use super::paths;
use super::request_object;
use crate::secret;
use crate::state::AppState;

/// The prefix of every `request_uri` we hand out.
pub const URN_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long a pushed request lives, in seconds.
pub const LIFETIME: i64 = 60;

/// The form fields that authenticate the client, apart from the authorization parameters.
const AUTH_FIELDS: [&str; 3] = ["client_secret", "client_assertion_type", "client_assertion"];

/// `POST /par`. With a DPoP proof (RFC 9449 10.1), the code will be bound to its key; every
/// answer carries a fresh `DPoP-Nonce`.
pub async fn par(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Response {
    let response = match push(&state, &headers, form).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    };
    dpop::with_nonce(&state, response)
}

async fn push(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<axum::Form<Vec<(String, String)>>, axum::extract::rejection::FormRejection>,
) -> Result<Response, TokenError> {
    let axum::Form(pairs) = form.map_err(|_| {
        OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")
    })?;
    let mut fields = Map::new();
    let mut auth = std::collections::BTreeMap::new();
    for (name, value) in pairs {
        let repeated = if AUTH_FIELDS.contains(&name.as_str()) {
            auth.insert(name.clone(), value).is_some()
        } else {
            fields.insert(name.clone(), Value::String(value)).is_some()
        };
        if repeated {
            return Err(OAuthError::invalid_request(format!("{name} is repeated")).into());
        }
    }
    let params: AuthorizeParams = serde_json::from_value(Value::Object(fields))
        .map_err(|_| OAuthError::invalid_request("malformed parameters"))?;
    let proof = dpop::proof(state, headers, "POST", paths::PAR, None).map_err(OAuthError::from)?;
    let client = authenticate(
        state,
        headers,
        params.client_id.as_deref(),
        auth.get("client_secret").map(String::as_str),
        auth.get("client_assertion_type")
            .map(String::as_str)
            .zip(auth.get("client_assertion").map(String::as_str)),
    )
    .await?;
    let mut request = push_validate(state, &client, params).await?;
    if let Some(proof) = proof {
        if request
            .dpop_jkt
            .as_ref()
            .is_some_and(|jkt| *jkt != proof.jkt)
        {
            return Err(OAuthError::from(DpopError::Invalid(
                "dpop_jkt is not the thumbprint of the DPoP proof's key",
            ))
            .into());
        }
        dpop::spend(state, &proof).await?;
        request.dpop_jkt = Some(proof.jkt);
    }
    let request_uri = format!("{URN_PREFIX}{}", secret::new_bearer());
    state
        .store
        .insert_pushed_request(
            &secret::hash(&request_uri),
            client.id.as_str(),
            &serde_json::to_string(&request).map_err(OAuthError::from)?,
            state.now() + LIFETIME,
        )
        .await
        .map_err(OAuthError::from)?;
    tracing::info!(client = client.id.as_str(), "authorization request pushed");
    Ok((
        StatusCode::CREATED,
        Json(json!({ "request_uri": request_uri, "expires_in": LIFETIME })),
    )
        .into_response())
}

/// Validates a pushed request as `/authorize` would, its errors answered to the client.
async fn push_validate(
    state: &AppState,
    client: &Client,
    mut params: AuthorizeParams,
) -> Result<AuthorizationRequest, OAuthError> {
    if params.request_uri.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri cannot be pushed (RFC 9126 2.1)",
        ));
    }
    // Authenticated as this client: the parameter may only repeat it.
    params.client_id = Some(client.id.as_str().to_string());
    let params = request_object::apply_once(state, params, client).await?;
    authorize::validate(params, client, false).map_err(|e| match e {
        AuthorizeError::Redirect(back) => back.error,
        AuthorizeError::Page(BadClient::UnregisteredRedirectUri) => OAuthError::new(
            ErrorCode::InvalidRequest,
            "redirect_uri is not registered for this client",
        ),
        AuthorizeError::Page(_) => OAuthError::invalid_request("redirect_uri is required"),
    })
}

/// Takes the pushed request named by `request_uri` for `client` at `/authorize`: once, before
/// it expires, only for the client that pushed it.
pub async fn take(
    state: &AppState,
    client: &Client,
    request_uri: &str,
) -> Result<Option<AuthorizationRequest>, crate::error::AppError> {
    if !request_uri.starts_with(URN_PREFIX) || request_uri.len() > 200 {
        return Ok(None);
    }
    let stored = state
        .store
        .take_pushed_request(&secret::hash(request_uri), client.id.as_str(), state.now())
        .await?;
    Ok(match stored {
        Some(json) => Some(serde_json::from_str(&json)?),
        None => None,
    })
}
