//! Client-Initiated Backchannel Authentication (OpenID Connect CIBA Core 1.0): a bank's branch
//! or call centre starts a login for a `login_hint` (the citizen's 12-digit number), the
//! citizen approves in the app, and the client gets the tokens at the token endpoint with the
//! grant type `urn:openid:params:grant-type:ciba`, polling (`poll` mode) or when told (`ping`
//! mode: a POST to its `backchannel_client_notification_endpoint` through the outbox).
//!
//! A `login_hint` that names no account able to approve (unknown, locked, Level 1, no app) is
//! answered like any other: the request then simply expires. The endpoint is no oracle of who
//! holds an account.

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use vneid_contract::{AuthMethod, Level, Scope, ScopeSet};

use super::client::Client;
use super::client_auth::authenticate;
use super::error::{ErrorCode, OAuthError, TokenError};
use super::grant::Grant;
use super::token::{Issued, Lineage, TokenResponse, finish, issue_tokens};
use crate::accounts::approval::{KIND_CIBA, Summary};
use crate::accounts::device::may_use_app;
use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::secret;
use crate::state::AppState;
use crate::store::{ApprovalRow, CibaClientRow, OutboxRow};

/// The grant type at the token endpoint.
pub const GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";
/// Seconds a client waits between polls; faster gets `slow_down`.
pub const INTERVAL: i64 = 5;
/// How long a request lives unless the client asks otherwise (`requested_expiry`, clamped).
pub const DEFAULT_EXPIRY: i64 = 300;
const MIN_EXPIRY: i64 = 10;
const MAX_EXPIRY: i64 = 600;
const MAX_BINDING_MESSAGE: usize = 64;
const MAX_NOTIFICATION_TOKEN: usize = 1024;
/// The outbox kind of ping notifications.
pub const PING_KIND: &str = "ciba_ping";

/// How a client receives the result (CIBA Core 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    Poll,
    Ping,
}

impl DeliveryMode {
    /// The modes offered (`push` is not: tokens travel only from the token endpoint).
    pub const ALL: [DeliveryMode; 2] = [DeliveryMode::Poll, DeliveryMode::Ping];

    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Poll => "poll",
            DeliveryMode::Ping => "ping",
        }
    }

    /// Parses the wire string.
    pub fn parse(s: &str) -> Option<DeliveryMode> {
        DeliveryMode::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// Validates a client's CIBA metadata (CIBA Core 4), for `clients add` and `/register`: a ping
/// client needs a notification endpoint (https, or http on loopback, no fragment), a poll client
/// has none. `None` for a client without CIBA.
pub fn client_registration(
    mode: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Option<CibaClientRow>, String> {
    let Some(mode) = mode else {
        return match endpoint {
            Some(_) => Err("backchannel_client_notification_endpoint needs backchannel_token_delivery_mode ping".into()),
            None => Ok(None),
        };
    };
    let mode = DeliveryMode::parse(mode)
        .ok_or_else(|| "backchannel_token_delivery_mode: poll or ping".to_string())?;
    let endpoint = match (mode, endpoint) {
        (DeliveryMode::Ping, None) => {
            return Err("ping mode needs backchannel_client_notification_endpoint".into());
        }
        (DeliveryMode::Poll, Some(_)) => {
            return Err("a notification endpoint is only for ping mode".into());
        }
        (_, None) => None,
        (_, Some(url)) => {
            let parsed = url::Url::parse(url)
                .map_err(|e| format!("backchannel_client_notification_endpoint: {e}"))?;
            let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
            if parsed.fragment().is_some()
                || !(parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback))
            {
                return Err("the notification endpoint must be https (http only on loopback), without fragment".into());
            }
            Some(url.to_string())
        }
    };
    Ok(Some(CibaClientRow {
        delivery_mode: mode.as_str().into(),
        notification_endpoint: endpoint,
    }))
}

/// The backchannel authentication request as it arrives (CIBA Core 7.1).
#[derive(Debug, Default, Deserialize)]
pub struct BackchannelParams {
    scope: Option<String>,
    login_hint: Option<String>,
    login_hint_token: Option<String>,
    id_token_hint: Option<String>,
    binding_message: Option<String>,
    acr_values: Option<String>,
    client_notification_token: Option<String>,
    requested_expiry: Option<String>,
    request: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion_type: Option<String>,
    client_assertion: Option<String>,
}

/// What a CIBA request keeps for the token endpoint and the ping.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CibaRequest {
    pub scopes: ScopeSet,
    pub mode: DeliveryMode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

#[derive(Serialize)]
struct BackchannelResponse {
    auth_req_id: String,
    expires_in: i64,
    interval: i64,
}

/// `POST /backchannel-authentication`.
pub async fn backchannel_authentication(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<BackchannelParams>, axum::extract::rejection::FormRejection>,
) -> Response {
    match start(&state, &headers, form).await {
        Ok(response) => Json(response).into_response(),
        Err(error) => error.into_response(),
    }
}

fn internal(err: impl Into<AppError>) -> TokenError {
    OAuthError::from(err.into()).into()
}

fn bad(code: ErrorCode, description: &'static str) -> TokenError {
    OAuthError::new(code, description).into()
}

async fn start(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<axum::Form<BackchannelParams>, axum::extract::rejection::FormRejection>,
) -> Result<BackchannelResponse, TokenError> {
    let axum::Form(params) = form.map_err(|_| {
        OAuthError::invalid_request("the body must be application/x-www-form-urlencoded")
    })?;
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
    let Some(registration) = state
        .store
        .ciba_client(client.id.as_str())
        .await
        .map_err(internal)?
    else {
        return Err(bad(
            ErrorCode::UnauthorizedClient,
            "the client is not registered for CIBA (backchannel_token_delivery_mode)",
        ));
    };
    let mode = DeliveryMode::parse(&registration.delivery_mode).ok_or_else(|| {
        bad(
            ErrorCode::UnauthorizedClient,
            "the client's CIBA registration is invalid",
        )
    })?;
    if client.redirect_uris.is_empty() {
        return Err(bad(
            ErrorCode::UnauthorizedClient,
            "a CIBA client needs a registered redirect URI",
        ));
    }
    if params.request.is_some() {
        return Err(bad(
            ErrorCode::InvalidRequest,
            "signed authentication requests are not supported",
        ));
    }
    if params.login_hint_token.is_some() || params.id_token_hint.is_some() {
        return Err(bad(
            ErrorCode::InvalidRequest,
            "only login_hint (the citizen's identification number) is supported",
        ));
    }
    let hint = params
        .login_hint
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty() && h.len() <= 64)
        .ok_or_else(|| bad(ErrorCode::InvalidRequest, "login_hint is required"))?;
    let scopes = ScopeSet::parse(params.scope.as_deref().unwrap_or(""))
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?;
    if !scopes.contains(Scope::OpenId) {
        return Err(bad(ErrorCode::InvalidScope, "scope must include openid"));
    }
    if !scopes.is_subset(&client.allowed_scopes) {
        return Err(bad(
            ErrorCode::InvalidScope,
            "a scope the client is not registered for was asked",
        ));
    }
    if let Some(acr_values) = params.acr_values.as_deref()
        && acr_values
            .split(' ')
            .filter(|v| !v.is_empty())
            .any(|v| !Level::ALL.iter().any(|l| l.acr() == v))
    {
        return Err(bad(ErrorCode::InvalidRequest, "unknown acr value"));
    }
    let binding_message = params.binding_message.as_deref().map(str::trim);
    if binding_message.is_some_and(|m| {
        m.is_empty() || m.chars().count() > MAX_BINDING_MESSAGE || m.chars().any(char::is_control)
    }) {
        return Err(bad(
            ErrorCode::InvalidBindingMessage,
            "binding_message: 1 to 64 printable characters",
        ));
    }
    let notification_token = match mode {
        DeliveryMode::Ping => Some(
            params
                .client_notification_token
                .as_deref()
                .filter(|t| !t.is_empty() && t.len() <= MAX_NOTIFICATION_TOKEN)
                .ok_or_else(|| {
                    bad(
                        ErrorCode::InvalidRequest,
                        "client_notification_token is required in ping mode",
                    )
                })?,
        ),
        DeliveryMode::Poll => None,
    };
    let expires_in = match params.requested_expiry.as_deref() {
        None => DEFAULT_EXPIRY,
        Some(raw) => raw
            .trim()
            .parse::<i64>()
            .map_err(|_| {
                bad(
                    ErrorCode::InvalidRequest,
                    "requested_expiry must be a number",
                )
            })?
            .clamp(MIN_EXPIRY, MAX_EXPIRY),
    };
    let account_id = approving_account(state, hint)
        .await
        .map_err(OAuthError::from)?;
    let auth_req_id = secret::new_bearer();
    let now = state.now();
    let notification_sealed = match notification_token {
        Some(token) => Some(
            state
                .sealer
                .seal(
                    json!({ "token": token, "auth_req_id": auth_req_id })
                        .to_string()
                        .as_bytes(),
                )
                .map_err(internal)?,
        ),
        None => None,
    };
    let request = CibaRequest {
        scopes: scopes.clone(),
        mode,
        endpoint: registration.notification_endpoint.clone(),
    };
    let approval = ApprovalRow {
        id: secret::new_id(),
        kind: KIND_CIBA.into(),
        account_id,
        client_id: client.id.as_str().to_string(),
        summary: Summary::new(KIND_CIBA, &client, &scopes, binding_message).to_json(),
        binding_message: binding_message.map(str::to_string),
        status: "pending".into(),
        device_id: None,
        created_at: now,
        expires_at: now + expires_in,
        decided_at: None,
        interaction_id: None,
        session_hash: None,
        auth_req_hash: Some(secret::hash(&auth_req_id)),
        request: Some(serde_json::to_string(&request).map_err(internal)?),
        notification_sealed,
        last_poll_at: None,
        interval_seconds: INTERVAL,
    };
    state
        .store
        .insert_approval(&approval)
        .await
        .map_err(internal)?;
    tracing::info!(
        client = client.id.as_str(),
        mode = mode.as_str(),
        "backchannel authentication started"
    );
    Ok(BackchannelResponse {
        auth_req_id,
        expires_in,
        interval: INTERVAL,
    })
}

/// The account a hint names if it can approve in the app now (active, Level 2, with a device);
/// `None` otherwise, answered alike.
async fn approving_account(state: &AppState, hint: &str) -> Result<Option<String>, AppError> {
    let Some(account) = state.store.account_by_username(hint).await? else {
        return Ok(None);
    };
    if !may_use_app(&account) || state.store.devices_of(&account.id).await?.is_empty() {
        return Ok(None);
    }
    Ok(Some(account.id))
}

/// The token request with `grant_type=urn:openid:params:grant-type:ciba` (CIBA Core 10-11).
pub(super) async fn token(
    state: &AppState,
    client: &Client,
    auth_req_id: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let auth_req_id = auth_req_id
        .filter(|id| !id.is_empty() && id.len() <= 128)
        .ok_or_else(|| OAuthError::invalid_request("auth_req_id is required"))?;
    let Some(approval) = state.store.ciba_request(&secret::hash(auth_req_id)).await? else {
        return Err(OAuthError::invalid_grant("unknown auth_req_id"));
    };
    if approval.client_id != client.id.as_str() {
        return Err(OAuthError::invalid_grant("unknown auth_req_id"));
    }
    let now = state.now();
    match approval.status.as_str() {
        "used" => {
            return Err(OAuthError::invalid_grant(
                "the auth_req_id was used already",
            ));
        }
        _ if approval.expires_at <= now => {
            return Err(OAuthError::new(
                ErrorCode::ExpiredToken,
                "the request expired",
            ));
        }
        "denied" => {
            return Err(OAuthError::new(
                ErrorCode::AccessDenied,
                "the citizen refused in the app",
            ));
        }
        "approved" => {}
        _ => {
            state.store.note_ciba_poll(&approval.id, now).await?;
            let too_soon = approval
                .last_poll_at
                .is_some_and(|last| now - last < approval.interval_seconds);
            return Err(if too_soon {
                OAuthError::new(ErrorCode::SlowDown, "poll at most every `interval` seconds")
            } else {
                OAuthError::new(
                    ErrorCode::AuthorizationPending,
                    "the citizen has not approved yet",
                )
            });
        }
    }
    let account = match approval.account_id.as_deref() {
        Some(id) => state.store.account(id).await?,
        None => None,
    };
    let Some(account) = account.filter(may_use_app) else {
        return Err(OAuthError::new(
            ErrorCode::AccessDenied,
            "the account can no longer log in at this level",
        ));
    };
    let request: CibaRequest = serde_json::from_str(approval.request.as_deref().unwrap_or("{}"))?;
    let Some(redirect_uri) = client.redirect_uris.first().cloned() else {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "no redirect URI registered",
        ));
    };
    let grant = Grant {
        client_id: client.id.clone(),
        scopes: request.scopes,
        claims: Default::default(),
        nonce: None,
        redirect_uri,
        code_challenge: None,
        level: Level::Level2,
        amr: vec![AuthMethod::Hwk, AuthMethod::Mfa],
        auth_time: approval.decided_at.unwrap_or(now),
        dpop_jkt: None,
        sid: None,
        organization: None,
    };
    let family = approval.auth_req_hash.clone().unwrap_or_default();
    let mut tx = state.store.begin().await?;
    if !crate::store::use_approval(&mut tx, &approval.id).await? {
        return Err(OAuthError::invalid_grant(
            "the auth_req_id was used already",
        ));
    }
    let issued: Issued = issue_tokens(
        state,
        &mut tx,
        client,
        &grant,
        &account.id,
        Lineage {
            family: &family,
            dpop_jkt: None,
        },
        now,
    )
    .await?;
    tx.commit().await?;
    finish(state, client, &grant, &account.id, issued, false).await
}

/// The ping notification of a decided CIBA request in ping mode (CIBA Core 10.2), sealed for
/// the outbox (it carries the client's bearer `client_notification_token`); `None` otherwise.
pub fn ping_notice(
    state: &AppState,
    approval: &ApprovalRow,
    now: i64,
) -> Result<Option<OutboxRow>, AppError> {
    if approval.kind != KIND_CIBA {
        return Ok(None);
    }
    let request: CibaRequest = serde_json::from_str(approval.request.as_deref().unwrap_or("{}"))?;
    let (DeliveryMode::Ping, Some(endpoint), Some(sealed)) = (
        request.mode,
        request.endpoint.as_deref(),
        approval.notification_sealed.as_deref(),
    ) else {
        return Ok(None);
    };
    let body = state.sealer.open_string(sealed)?;
    Ok(Some(
        Notification {
            channel: Channel::CibaPing,
            recipient: endpoint,
            subject: &approval.client_id,
            body,
            kind: PING_KIND,
            account_id: None,
            secret: true,
        }
        .row(now, &state.sealer)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_modes_parse_and_push_is_not_offered() {
        for mode in DeliveryMode::ALL {
            assert_eq!(DeliveryMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(DeliveryMode::parse("push"), None);
        assert_eq!(DeliveryMode::parse("POLL"), None);
    }

    #[test]
    fn ping_needs_an_https_endpoint_and_poll_none() {
        use crate::cli::check_ciba;
        assert!(check_ciba(None, None).unwrap().is_none());
        assert!(check_ciba(Some("poll"), None).unwrap().is_some());
        assert!(
            check_ciba(Some("ping"), Some("https://bank.example/ciba"))
                .unwrap()
                .is_some()
        );
        assert!(
            check_ciba(Some("ping"), Some("http://127.0.0.1:9/ciba"))
                .unwrap()
                .is_some()
        );
        for (mode, endpoint) in [
            (Some("ping"), None),
            (Some("ping"), Some("http://bank.example/ciba")),
            (Some("ping"), Some("https://bank.example/ciba#x")),
            (Some("poll"), Some("https://bank.example/ciba")),
            (None, Some("https://bank.example/ciba")),
            (Some("push"), None),
        ] {
            assert!(check_ciba(mode, endpoint).is_err(), "{mode:?} {endpoint:?}");
        }
    }
}
