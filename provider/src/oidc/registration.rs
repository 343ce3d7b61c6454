//! Dynamic client registration (RFC 7591) and its management (RFC 7592). Registering needs the
//! initial access token of the configuration (`[clients] initial_access_token`; in demo mode
//! `demo-registration-token`) or a software statement signed by the operator
//! (`software_statement`: its metadata wins over the body's; an invalid one refuses the request
//! even with the token); the metadata is checked by the same code as `clients add`
//! (`cli::client_row`). The answer carries a `registration_access_token` (stored hashed) that
//! alone reads, replaces and deletes the client at its `registration_client_uri`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::client::Client;
use super::error::{BearerError, ErrorCode, OAuthError, TokenError};
use super::paths;
use super::software_statement;
use super::types::{ClientAuthMethod, ClientId, SigningAlg, SubjectType};
use crate::cli::{CliError, NewClient, client_row};
use crate::secret;
use crate::state::AppState;
use crate::store::CibaClientRow;

/// The demo's initial access token (CONTRACT.md).
pub const DEMO_INITIAL_ACCESS_TOKEN: &str = "demo-registration-token";

/// The initial access token in force, if registration is on.
pub fn initial_access_token(config: &crate::config::Config) -> Option<&str> {
    config
        .clients
        .initial_access_token
        .as_deref()
        .filter(|t| !t.is_empty())
        .or(config.demo.then_some(DEMO_INITIAL_ACCESS_TOKEN))
}

/// Client metadata as sent (RFC 7591 2); what we do not support is refused, not ignored.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    post_logout_redirect_uris: Vec<String>,
    client_name: Option<String>,
    token_endpoint_auth_method: Option<String>,
    grant_types: Option<Vec<String>>,
    response_types: Option<Vec<String>>,
    scope: Option<String>,
    jwks: Option<Value>,
    id_token_signed_response_alg: Option<String>,
    subject_type: Option<String>,
    #[serde(default)]
    require_pushed_authorization_requests: bool,
    backchannel_logout_uri: Option<String>,
    #[serde(default)]
    backchannel_logout_session_required: bool,
    id_token_encrypted_response_alg: Option<String>,
    id_token_encrypted_response_enc: Option<String>,
    userinfo_encrypted_response_alg: Option<String>,
    userinfo_encrypted_response_enc: Option<String>,
    userinfo_signed_response_alg: Option<String>,
    /// RFC 7591 2: identifiers of the software, as the operator's statement names them; kept
    /// in no column (the statement is the evidence).
    #[allow(dead_code)]
    software_id: Option<String>,
    #[allow(dead_code)]
    software_version: Option<String>,
    /// CIBA (Core 4): `poll` or `ping`.
    backchannel_token_delivery_mode: Option<String>,
    /// CIBA ping mode: where the notification goes.
    backchannel_client_notification_endpoint: Option<String>,
    /// CIBA: signed authentication requests are not supported; present is refused.
    backchannel_authentication_request_signing_alg: Option<String>,
    /// CIBA: user codes are not supported; `true` is refused.
    backchannel_user_code_parameter: Option<bool>,
    /// Only in a PUT (RFC 7592 2.2): must be the client's id.
    client_id: Option<String>,
    /// Sent back in a PUT by some clients; ignored (the secret does not change).
    #[allow(dead_code)]
    client_secret: Option<String>,
}

/// Why a registration request was refused.
#[derive(Debug)]
pub enum RegistrationError {
    /// No valid initial or registration access token: 401 `invalid_token` (RFC 6750).
    Unauthorized,
    /// Bad metadata or a failure: the RFC 7591 3.2.2 error as JSON.
    Refused(OAuthError),
}

impl IntoResponse for RegistrationError {
    fn into_response(self) -> Response {
        match self {
            RegistrationError::Unauthorized => BearerError(OAuthError::new(
                ErrorCode::InvalidToken,
                "a valid access token is required",
            ))
            .into_response(),
            RegistrationError::Refused(err) => TokenError(err).into_response(),
        }
    }
}

impl<E: Into<OAuthError>> From<E> for RegistrationError {
    fn from(err: E) -> Self {
        RegistrationError::Refused(err.into())
    }
}

type Answer = Result<Response, RegistrationError>;

fn metadata_error(description: impl Into<std::borrow::Cow<'static, str>>) -> RegistrationError {
    RegistrationError::Refused(OAuthError::new(
        ErrorCode::InvalidClientMetadata,
        description,
    ))
}

fn invalid_token() -> RegistrationError {
    RegistrationError::Unauthorized
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// Turns metadata into a registration for `id`: the defaults of `clients add`, then the checks
/// it shares with the command line.
fn registration(
    id: &str,
    meta: ClientMetadata,
) -> Result<(NewClient, Option<CibaClientRow>), RegistrationError> {
    let ciba = super::ciba::client_registration(
        meta.backchannel_token_delivery_mode.as_deref(),
        meta.backchannel_client_notification_endpoint.as_deref(),
    )
    .map_err(metadata_error)?;
    if meta
        .backchannel_authentication_request_signing_alg
        .is_some()
    {
        return Err(metadata_error(
            "signed backchannel authentication requests are not supported",
        ));
    }
    if meta.backchannel_user_code_parameter == Some(true) {
        return Err(metadata_error(
            "backchannel_user_code_parameter is not supported",
        ));
    }
    if let Some(grants) = &meta.grant_types {
        let allowed = |g: &String| {
            g == "authorization_code"
                || g == "refresh_token"
                || (ciba.is_some() && g == super::ciba::GRANT_TYPE)
        };
        if !grants.iter().all(allowed) {
            return Err(metadata_error(
                "grant_types: authorization_code, refresh_token, and the CIBA grant with a backchannel_token_delivery_mode",
            ));
        }
        if ciba.is_some() && !grants.iter().any(|g| g == super::ciba::GRANT_TYPE) {
            return Err(metadata_error(
                "a CIBA client lists urn:openid:params:grant-type:ciba in grant_types",
            ));
        }
    }
    if let Some(types) = &meta.response_types
        && types.iter().any(|t| t != "code")
    {
        return Err(metadata_error("response_types: only code"));
    }
    let auth_method = match meta.token_endpoint_auth_method.as_deref() {
        None => ClientAuthMethod::SecretBasic,
        Some(m) => ClientAuthMethod::parse(m)
            .ok_or_else(|| metadata_error("unsupported token_endpoint_auth_method"))?,
    };
    let signing_alg = match meta.id_token_signed_response_alg.as_deref() {
        None => SigningAlg::Es256,
        Some(a) => SigningAlg::parse(a)
            .ok_or_else(|| metadata_error("id_token_signed_response_alg: ES256 or RS256"))?,
    };
    let subject_type = match meta.subject_type.as_deref() {
        None => SubjectType::Pairwise,
        Some(t) => SubjectType::parse(t)
            .ok_or_else(|| metadata_error("subject_type: pairwise or public"))?,
    };
    let mut new = NewClient::new(
        id,
        meta.client_name.as_deref().unwrap_or(id),
        meta.redirect_uris,
        meta.scope.as_deref().unwrap_or("openid"),
        auth_method,
    );
    new.post_logout_redirect_uris = meta.post_logout_redirect_uris;
    new.signing_alg = signing_alg;
    new.subject_type = subject_type;
    new.jwks = meta.jwks.map(|j| j.to_string());
    new.require_par = meta.require_pushed_authorization_requests;
    // Checked with the jwks by `client_row`: the algorithms, a key for each encryption.
    new.responses = crate::store::ResponseOptions {
        backchannel_logout_uri: meta.backchannel_logout_uri,
        backchannel_logout_session_required: i64::from(meta.backchannel_logout_session_required),
        id_token_encrypted_response_alg: meta.id_token_encrypted_response_alg,
        id_token_encrypted_response_enc: meta.id_token_encrypted_response_enc,
        userinfo_encrypted_response_alg: meta.userinfo_encrypted_response_alg,
        userinfo_encrypted_response_enc: meta.userinfo_encrypted_response_enc,
        userinfo_signed_response_alg: meta.userinfo_signed_response_alg,
    };
    Ok((new, ciba))
}

fn validated(
    new: NewClient,
) -> Result<(crate::store::ClientRow, Option<String>), RegistrationError> {
    client_row(new).map_err(|e| match e {
        CliError::InvalidRedirectUri(why) => {
            RegistrationError::Refused(OAuthError::new(ErrorCode::InvalidRedirectUri, why))
        }
        CliError::Invalid(why) => metadata_error(why),
        other => {
            tracing::error!(error = %other, "client registration failed");
            RegistrationError::Refused(OAuthError::new(
                ErrorCode::ServerError,
                "registration failed",
            ))
        }
    })
}

/// The body as a JSON object, if it is one.
fn object(body: &str) -> Option<Map<String, Value>> {
    match serde_json::from_str(body) {
        Ok(Value::Object(fields)) => Some(fields),
        _ => None,
    }
}

/// Whether the body carries a software statement (whatever its form).
fn has_statement(fields: Option<&Map<String, Value>>) -> bool {
    fields.is_some_and(|f| f.contains_key("software_statement"))
}

/// The metadata of the request: the body, with its software statement (verified: the
/// operator's key, `iss`, times) over it.
fn parse(
    state: &AppState,
    fields: Option<Map<String, Value>>,
) -> Result<ClientMetadata, RegistrationError> {
    let mut fields = fields.ok_or_else(|| metadata_error("the metadata must be a JSON object"))?;
    match fields.get("software_statement") {
        None => {}
        Some(Value::String(jwt)) => {
            let keys = software_statement::operator_keys(&state.config)
                .map_err(|e| {
                    tracing::error!(error = %e, "the software statement key is unusable");
                    OAuthError::new(ErrorCode::ServerError, "registration failed")
                })?
                .ok_or_else(|| {
                    OAuthError::new(
                        ErrorCode::UnapprovedSoftwareStatement,
                        "software statements are not accepted here; use the initial access token",
                    )
                })?;
            let issuer = state
                .config
                .clients
                .software_statement_issuer
                .as_deref()
                .unwrap_or(&state.issuer);
            let statement = software_statement::verify(jwt, &keys, issuer, state.now())
                .inspect_err(|e| tracing::info!(error = %e, "software statement refused"))?;
            fields = software_statement::merge(fields, statement);
        }
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::InvalidSoftwareStatement,
                "software_statement must be a JWT",
            )
            .into());
        }
    }
    serde_json::from_value(Value::Object(fields))
        .map_err(|e| metadata_error(format!("the metadata is not valid: {e}")))
}

/// The client as RFC 7591 3.2.1 / RFC 7592 3 show it.
fn describe(state: &AppState, client: &Client, ciba: Option<&CibaClientRow>) -> Value {
    let mut body = json!({
        "client_id": client.id.as_str(),
        "client_name": client.name,
        "redirect_uris": client.redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "post_logout_redirect_uris": client.post_logout_redirect_uris.iter().map(|u| u.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_method": client.auth_method.as_str(),
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": client.allowed_scopes.to_string(),
        "id_token_signed_response_alg": client.signing_alg.as_str(),
        "subject_type": client.subject_type.as_str(),
        "require_pushed_authorization_requests": client.require_par,
        "registration_client_uri": state.url(&paths::registration_client(client.id.as_str())),
    });
    if let Some(jwks) = client
        .jwks
        .as_deref()
        .and_then(|j| serde_json::from_str::<Value>(j).ok())
    {
        body["jwks"] = jwks;
    }
    if client.secret_hash.is_some() {
        body["client_secret_expires_at"] = json!(0);
    }
    if let Some(uri) = &client.responses.backchannel_logout_uri {
        body["backchannel_logout_uri"] = json!(uri);
        body["backchannel_logout_session_required"] =
            json!(client.responses.backchannel_logout_session_required);
    }
    for (prefix, encryption) in [
        ("id_token", &client.responses.id_token_encryption),
        ("userinfo", &client.responses.userinfo_encryption),
    ] {
        if let Some(e) = encryption {
            body[format!("{prefix}_encrypted_response_alg")] = json!(e.alg.as_str());
            body[format!("{prefix}_encrypted_response_enc")] = json!(e.enc.as_str());
        }
    }
    if let Some(alg) = client.responses.userinfo_signing {
        body["userinfo_signed_response_alg"] = json!(alg.as_str());
    }
    if let Some(ciba) = ciba {
        body["grant_types"] = json!([
            "authorization_code",
            "refresh_token",
            super::ciba::GRANT_TYPE
        ]);
        body["backchannel_token_delivery_mode"] = json!(ciba.delivery_mode);
        if let Some(endpoint) = &ciba.notification_endpoint {
            body["backchannel_client_notification_endpoint"] = json!(endpoint);
        }
    }
    body
}

/// The client's CIBA registration.
async fn ciba_of(
    state: &AppState,
    client: &Client,
) -> Result<Option<CibaClientRow>, RegistrationError> {
    Ok(state
        .store
        .ciba_client(client.id.as_str())
        .await
        .map_err(OAuthError::from)?)
}

/// `POST /register`.
pub async fn register(State(state): State<AppState>, headers: HeaderMap, body: String) -> Answer {
    let expected = initial_access_token(&state.config);
    let presented = bearer(&headers);
    let allowed = matches!((expected, presented), (Some(e), Some(p)) if secret::equal(e, p));
    let fields = object(&body);
    // The second gate: a software statement, verified by `parse` before anything is stored.
    if !allowed && !has_statement(fields.as_ref()) {
        tracing::info!("client registration without a valid initial access token");
        return Err(invalid_token());
    }
    let meta = parse(&state, fields)?;
    if meta.client_id.is_some() {
        return Err(metadata_error("client_id is assigned by the provider"));
    }
    let id = format!("dyn-{}", secret::new_id());
    let (new, ciba) = registration(&id, meta)?;
    let (mut row, secret) = validated(new)?;
    let access_token = secret::new_bearer();
    row.options.registration_token_hash = Some(secret::hash(&access_token));
    let now = state.now();
    state
        .store
        .insert_client(&row, now)
        .await
        .map_err(OAuthError::from)?;
    state
        .store
        .set_ciba_client(&id, ciba.as_ref())
        .await
        .map_err(OAuthError::from)?;
    let client = Client::try_from(row).map_err(crate::error::AppError::from)?;
    tracing::info!(client = client.id.as_str(), "client registered dynamically");
    let mut answer = describe(&state, &client, ciba.as_ref());
    answer["client_id_issued_at"] = json!(now);
    answer["registration_access_token"] = json!(access_token);
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret);
    }
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// The dynamically registered client named in the path, if the registration access token is its.
async fn managed(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<Client, RegistrationError> {
    let presented = bearer(headers).ok_or_else(invalid_token)?;
    let client = match ClientId::parse(id) {
        Some(id) => state
            .client_from_database(&id)
            .await
            .map_err(OAuthError::from)?,
        None => None,
    };
    // Unknown client, a client registered by the operator, a wrong token: the same answer.
    client
        .filter(|c| {
            c.registration_token_hash
                .as_deref()
                .is_some_and(|h| secret::equal(h, &secret::hash(presented)))
        })
        .ok_or_else(invalid_token)
}

/// `GET /register/{client_id}`.
pub async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let client = managed(&state, &headers, &id).await?;
    let ciba = ciba_of(&state, &client).await?;
    Ok(Json(describe(&state, &client, ciba.as_ref())).into_response())
}

/// `PUT /register/{client_id}`: the metadata sent replaces the registered metadata.
pub async fn replace(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: String,
) -> Answer {
    let client = managed(&state, &headers, &id).await?;
    let meta = parse(&state, object(&body))?;
    if meta.client_id.as_deref() != Some(client.id.as_str()) {
        return Err(metadata_error("client_id must be the client's id"));
    }
    let (new, ciba) = registration(client.id.as_str(), meta)?;
    let (mut row, mut secret) = validated(new)?;
    if row.secret_hash.is_some() && client.secret_hash.is_some() {
        // Still a secret client: the secret stays.
        row.secret_hash.clone_from(&client.secret_hash);
        secret = None;
    }
    state
        .store
        .update_client(&row)
        .await
        .map_err(OAuthError::from)?;
    state
        .store
        .set_ciba_client(client.id.as_str(), ciba.as_ref())
        .await
        .map_err(OAuthError::from)?;
    state.clients.forget(client.id.as_str());
    let updated = Client::try_from(row).map_err(crate::error::AppError::from)?;
    tracing::info!(client = updated.id.as_str(), "dynamic client updated");
    let mut answer = describe(&state, &updated, ciba.as_ref());
    if let Some(secret) = secret {
        answer["client_secret"] = json!(secret);
    }
    Ok(Json(answer).into_response())
}

/// `DELETE /register/{client_id}`: the client goes, with its codes, tokens and consents.
pub async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let client = managed(&state, &headers, &id).await?;
    state
        .store
        .remove_client(client.id.as_str())
        .await
        .map_err(OAuthError::from)?;
    state.clients.forget(client.id.as_str());
    tracing::info!(client = client.id.as_str(), "dynamic client deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_is_on_only_with_a_token_or_in_demo_mode() {
        let mut config = crate::config::Config::new(
            "http://127.0.0.1:8080".parse().unwrap(),
            "sqlite::memory:".into(),
            crate::config::KeyEncryptionKey::generate(),
        );
        assert_eq!(initial_access_token(&config), None);
        config.clients.initial_access_token = Some(String::new());
        assert_eq!(
            initial_access_token(&config),
            None,
            "an empty token is no token"
        );
        config.demo = true;
        assert_eq!(
            initial_access_token(&config),
            Some(DEMO_INITIAL_ACCESS_TOKEN)
        );
        config.clients.initial_access_token = Some("configured".into());
        assert_eq!(initial_access_token(&config), Some("configured"));
    }
}
