//! The authorization request (OpenID Connect Core 3.1.2): parsed at the edge into a typed,
//! validated value before any logic runs.

use serde::{Deserialize, Serialize};
use vneid_contract::{Lang, Level, Scope, ScopeSet};

use super::claims_request::ClaimsRequest;
use super::error::{ErrorCode, OAuthError};
use super::types::{ClientId, CodeChallenge, MAX_PARAM_LEN, Prompt, RedirectUri};
use crate::oidc::client::Client;

/// The request as it arrives (query string or form body); every field optional and untrusted.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub acr_values: Option<String>,
    pub claims: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    pub registration: Option<String>,
}

/// A validated authorization request; stored as JSON while the citizen logs in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: ClientId,
    pub redirect_uri: RedirectUri,
    pub scopes: ScopeSet,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: CodeChallenge,
    /// The lowest level the relying party accepts (never issue less).
    pub required_level: Level,
    pub claims: ClaimsRequest,
    pub prompts: Vec<Prompt>,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    /// `vi` or `en`, from `ui_locales`; `None` when not asked.
    pub ui_lang: Option<String>,
}

impl AuthorizationRequest {
    /// Whether `prompt` holds this value.
    pub fn prompts(&self, prompt: Prompt) -> bool {
        self.prompts.contains(&prompt)
    }

    /// The language asked for with `ui_locales`.
    pub fn lang(&self) -> Option<Lang> {
        match self.ui_lang.as_deref() {
            Some("en") => Some(Lang::En),
            Some("vi") => Some(Lang::Vi),
            _ => None,
        }
    }
}

/// Why a request was refused: before the client and redirect URI are known to be good, a page
/// (never a redirect); after, a redirect back with the error.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Show an error page to the person.
    Page(BadClient),
    /// Send the error to the validated redirect URI.
    Redirect(Box<RedirectBack>),
}

/// An error to send back to a validated redirect URI.
#[derive(Debug)]
pub struct RedirectBack {
    pub error: OAuthError,
    pub redirect_uri: RedirectUri,
    pub state: Option<String>,
}

/// Why the relying party itself could not be trusted with a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadClient {
    /// `client_id` missing or malformed.
    MissingClientId,
    /// No such client.
    UnknownClient,
    /// `redirect_uri` missing.
    MissingRedirectUri,
    /// `redirect_uri` not registered for this client (exact match).
    UnregisteredRedirectUri,
    /// A `request_uri` that is unknown, used, expired or another client's, with no registered
    /// `redirect_uri` beside it to send the error to.
    BadRequestUri,
}

/// An error about a request whose redirect URI is only known from the outer parameters (a bad
/// `request` object or `request_uri`): sent there when it is registered, else a page.
pub fn refuse(params: &AuthorizeParams, client: &Client, error: OAuthError) -> AuthorizeError {
    match params
        .redirect_uri
        .as_deref()
        .and_then(|r| client.redirect_uri(r))
    {
        Some(redirect_uri) => AuthorizeError::Redirect(Box::new(RedirectBack {
            error,
            redirect_uri,
            state: params.state.clone().filter(|s| s.len() <= MAX_PARAM_LEN),
        })),
        None => AuthorizeError::Page(BadClient::BadRequestUri),
    }
}

/// The client id named by the request, if well formed (to look the client up).
pub fn client_id(params: &AuthorizeParams) -> Result<ClientId, AuthorizeError> {
    params
        .client_id
        .as_deref()
        .and_then(ClientId::parse)
        .ok_or(AuthorizeError::Page(BadClient::MissingClientId))
}

/// Validates everything but the client's existence (the caller looked it up) and the request
/// object (the caller merged it in). `must_push` refuses a request that was not pushed by a
/// client that must use PAR.
pub fn validate(
    params: AuthorizeParams,
    client: &Client,
    must_push: bool,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let raw_redirect = params
        .redirect_uri
        .as_deref()
        .ok_or(AuthorizeError::Page(BadClient::MissingRedirectUri))?;
    let redirect_uri = client
        .redirect_uri(raw_redirect)
        .ok_or(AuthorizeError::Page(BadClient::UnregisteredRedirectUri))?;

    // From here on, errors go back to the relying party.
    let state = params.state.clone();
    let fail = |error: OAuthError| {
        AuthorizeError::Redirect(Box::new(RedirectBack {
            error,
            redirect_uri: redirect_uri.clone(),
            state: state.clone().filter(|s| s.len() <= MAX_PARAM_LEN),
        }))
    };
    if must_push {
        return Err(fail(OAuthError::invalid_request(
            "this client must push its authorization requests (PAR) and send request_uri",
        )));
    }
    check(params, client, redirect_uri.clone()).map_err(fail)
}

fn check(
    params: AuthorizeParams,
    client: &Client,
    redirect_uri: RedirectUri,
) -> Result<AuthorizationRequest, OAuthError> {
    // The request object was verified and merged by the caller; `request_uri` is only the
    // reference to a pushed request, accepted at /authorize alone.
    if params.request.is_some() {
        return Err(OAuthError::new(
            ErrorCode::InvalidRequestObject,
            "a request object cannot be nested",
        ));
    }
    if params.request_uri.is_some() {
        return Err(OAuthError::invalid_request(
            "request_uri is accepted only at the authorization endpoint, from a pushed request",
        ));
    }
    if params.registration.is_some() {
        return Err(OAuthError::new(
            ErrorCode::RegistrationNotSupported,
            "registration is not supported",
        ));
    }
    for (name, value) in [
        ("state", &params.state),
        ("nonce", &params.nonce),
        ("login_hint", &params.login_hint),
        ("ui_locales", &params.ui_locales),
        ("acr_values", &params.acr_values),
        ("claims", &params.claims),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_PARAM_LEN) {
            return Err(OAuthError::invalid_request(format!("{name} is too long")));
        }
    }
    match params.response_type.as_deref() {
        Some("code") => {}
        None => return Err(OAuthError::invalid_request("response_type is required")),
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if let Some(mode) = params.response_mode.as_deref()
        && mode != "query"
    {
        return Err(OAuthError::invalid_request(
            "only response_mode=query is supported",
        ));
    }
    let scopes = ScopeSet::parse(params.scope.as_deref().unwrap_or(""))
        .map_err(|e| OAuthError::new(ErrorCode::InvalidScope, e.to_string()))?;
    if !scopes.contains(Scope::OpenId) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "the openid scope is required",
        ));
    }
    if let Some(refused) = scopes.iter().find(|s| !client.allowed_scopes.contains(*s)) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            format!(
                "this client is not allowed the scope `{}`",
                refused.as_str()
            ),
        ));
    }
    let code_challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (None, _) => {
            return Err(OAuthError::invalid_request(
                "code_challenge is required (PKCE with S256)",
            ));
        }
        (Some(_), Some("S256")) => params
            .code_challenge
            .as_deref()
            .and_then(CodeChallenge::parse),
        (Some(_), _) => {
            return Err(OAuthError::invalid_request(
                "code_challenge_method must be S256",
            ));
        }
    }
    .ok_or_else(|| OAuthError::invalid_request("code_challenge must be 43 base64url characters"))?;

    let prompts = parse_prompts(params.prompt.as_deref())?;
    let max_age = match params.max_age.as_deref() {
        None => None,
        Some(s) => Some(s.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            OAuthError::invalid_request("max_age must be a non-negative integer")
        })?),
    };
    let mut claims = match params.claims.as_deref() {
        Some(json) => ClaimsRequest::parse(json)?,
        None => ClaimsRequest::default(),
    };
    claims.keep_allowed(&client.allowed_scopes);
    // The lowest level among those asked for: the login may reach more, never less.
    let from_acr_values = params
        .acr_values
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter_map(Level::from_acr)
        .min();
    let required_level = [from_acr_values, claims.acr]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(Level::Level1);
    let ui_lang = params
        .ui_locales
        .as_deref()
        .and_then(Lang::from_ui_locales)
        .map(|l| l.as_str().to_string());

    Ok(AuthorizationRequest {
        client_id: client.id.clone(),
        redirect_uri,
        scopes,
        state: params.state,
        nonce: params.nonce,
        code_challenge,
        required_level,
        claims,
        prompts,
        max_age,
        login_hint: params.login_hint,
        ui_lang,
    })
}

fn parse_prompts(value: Option<&str>) -> Result<Vec<Prompt>, OAuthError> {
    let mut prompts = Vec::new();
    for piece in value.unwrap_or("").split(' ').filter(|p| !p.is_empty()) {
        let prompt = Prompt::parse(piece).ok_or_else(|| {
            OAuthError::invalid_request(format!("unknown prompt value `{piece}`"))
        })?;
        if !prompts.contains(&prompt) {
            prompts.push(prompt);
        }
    }
    if prompts.contains(&Prompt::None) && prompts.len() > 1 {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompts)
}
