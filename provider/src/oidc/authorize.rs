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
    /// The thumbprint of the DPoP key the code is to be bound to (RFC 9449 10).
    pub dpop_jkt: Option<String>,
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
    /// The DPoP key the code is bound to (RFC 9449 10): from `dpop_jkt`, or from the proof sent
    /// with the pushed request. The token request must then be proven with that key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpop_jkt: Option<String>,
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
    // A SHA-256 thumbprint: 43 base64url characters.
    let dpop_jkt = match params.dpop_jkt {
        None => None,
        Some(jkt)
            if jkt.len() == 43
                && jkt
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Some(jkt)
        }
        Some(_) => {
            return Err(OAuthError::invalid_request(
                "dpop_jkt must be a base64url SHA-256 JWK thumbprint",
            ));
        }
    };
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
        dpop_jkt,
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use vneid_contract::{Level, Scope, ScopeSet};

    use super::{AuthorizeError, AuthorizeParams, BadClient, validate};
    use crate::oidc::client::Client;
    use crate::oidc::error::ErrorCode;
    use crate::oidc::types::{
        ClientAuthMethod, ClientId, MAX_PARAM_LEN, Prompt, RedirectUri, SigningAlg, SubjectType,
    };

    const REDIRECT: &str = "https://rp.example/cb?tenant=1";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn client() -> Client {
        Client {
            id: ClientId::parse("rp").unwrap(),
            name: "RP".into(),
            secret_hash: None,
            auth_method: ClientAuthMethod::SecretBasic,
            redirect_uris: vec![RedirectUri::parse(REDIRECT).unwrap()],
            post_logout_redirect_uris: vec![],
            allowed_scopes: ScopeSet::parse("openid profile email documents").unwrap(),
            signing_alg: SigningAlg::Es256,
            subject_type: SubjectType::Pairwise,
            jwks: None,
            require_par: false,
            require_dpop: false,
            profile: crate::oidc::client::Profile::Baseline,
            resource_server: false,
            registration_token_hash: None,
            responses: Default::default(),
        }
    }

    /// A parameter: absent, the first of `values` (a good one, so that whole requests pass
    /// often enough), the others, near misses, or anything (now and then far too long).
    fn param(values: &'static [&'static str]) -> BoxedStrategy<Option<String>> {
        prop_oneof![
            2 => Just(None),
            8 => Just(Some(values[0].to_string())),
            3 => prop::sample::select(values).prop_map(|s| Some(s.to_string())),
            2 => any::<String>().prop_map(Some),
            1 => (prop::sample::select(values), ".{0,3}").prop_map(|(g, x)| Some(format!("{g}{x}"))),
            1 => (0..3usize, any::<char>()).prop_map(|(n, c)| Some(c.to_string().repeat(MAX_PARAM_LEN + n))),
        ]
        .boxed()
    }

    fn params() -> impl Strategy<Value = AuthorizeParams> {
        let core = (
            param(&["code", "token", "code id_token"]),
            param(&["rp", "other"]),
            param(&[REDIRECT, "https://rp.example/cb", "https://evil.example/cb"]),
            param(&[
                "openid",
                "openid profile",
                "openid documents email",
                "profile",
                "openid phone",
                "openid  profile openid",
            ]),
            param(&["xyz", "", "a b"]),
            param(&["n-0S6_WzA2Mj"]),
            param(&[
                CHALLENGE,
                "short",
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c+",
            ]),
            param(&["S256", "plain", "s256"]),
        );
        let extra = (
            param(&[
                "urn:vneid:acr:level1",
                "urn:vneid:acr:level2",
                "urn:vneid:acr:level2 urn:vneid:acr:level1",
                "level2",
            ]),
            param(&[
                r#"{"id_token":{"acr":{"essential":true,"value":"urn:vneid:acr:level2"}}}"#,
                r#"{"userinfo":{"documents":null}}"#,
                "[]",
                "{",
            ]),
            param(&[
                "none",
                "login",
                "consent",
                "none login",
                "select_account consent",
                "bogus",
            ]),
            param(&[
                "0",
                "300",
                "-1",
                "9223372036854775807",
                "9223372036854775808",
                "1e3",
            ]),
            param(&["079198000002"]),
            param(&["vi", "en-US vi", "fr", ""]),
            param(&["query", "fragment", "form_post"]),
            prop::option::weighted(0.05, ".{0,8}"),
            prop::option::weighted(0.05, ".{0,8}"),
            prop::option::weighted(0.05, ".{0,8}"),
        );
        (core, extra).prop_map(
            |(
                (
                    response_type,
                    client_id,
                    redirect_uri,
                    scope,
                    state,
                    nonce,
                    code_challenge,
                    code_challenge_method,
                ),
                (
                    acr_values,
                    claims,
                    prompt,
                    max_age,
                    login_hint,
                    ui_locales,
                    response_mode,
                    request,
                    request_uri,
                    registration,
                ),
            )| AuthorizeParams {
                response_type,
                client_id,
                redirect_uri,
                scope,
                state,
                nonce,
                code_challenge,
                code_challenge_method,
                acr_values,
                claims,
                prompt,
                max_age,
                login_hint,
                ui_locales,
                response_mode,
                request,
                request_uri,
                registration,
                dpop_jkt: None,
            },
        )
    }

    /// What a validated request may look like, whatever came in.
    fn accepted(input: &Inputs, r: &super::AuthorizationRequest) -> Result<(), TestCaseError> {
        let client = client();
        prop_assert_eq!(input.response_type.as_deref(), Some("code"));
        prop_assert_eq!(r.redirect_uri.as_str(), REDIRECT);
        prop_assert!(r.scopes.contains(Scope::OpenId));
        prop_assert!(r.scopes.is_subset(&client.allowed_scopes));
        prop_assert_eq!(input.code_challenge.as_deref(), Some(CHALLENGE));
        prop_assert_eq!(input.code_challenge_method.as_deref(), Some("S256"));
        prop_assert_eq!(&r.state, &input.state);
        prop_assert!(r.max_age.is_none_or(|m| m >= 0));
        prop_assert!(!(r.prompts.contains(&Prompt::None) && r.prompts.len() > 1));
        prop_assert!(
            input.request.is_none() && input.request_uri.is_none() && input.registration.is_none()
        );
        for value in [&r.state, &r.nonce, &r.login_hint] {
            prop_assert!(value.as_ref().is_none_or(|v| v.len() <= MAX_PARAM_LEN));
        }
        if r.required_level == Level::Level2 {
            prop_assert!(
                input
                    .acr_values
                    .as_deref()
                    .is_some_and(|a| a.contains("urn:vneid:acr:level2"))
                    || input
                        .claims
                        .as_deref()
                        .is_some_and(|c| c.contains("urn:vneid:acr:level2"))
            );
        }
        Ok(())
    }

    /// The fields the checks look at, kept before `validate` consumes the parameters.
    struct Inputs {
        response_type: Option<String>,
        redirect_uri: Option<String>,
        state: Option<String>,
        code_challenge: Option<String>,
        code_challenge_method: Option<String>,
        acr_values: Option<String>,
        claims: Option<String>,
        request: Option<String>,
        request_uri: Option<String>,
        registration: Option<String>,
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Any parameters: a validated request, an error page when the redirect URI cannot be
        /// trusted, or an OAuth error sent back to the registered redirect URI, never a panic.
        #[test]
        fn any_parameters_are_validated_or_refused_with_a_clear_error(params in params()) {
            let input = Inputs {
                response_type: params.response_type.clone(),
                redirect_uri: params.redirect_uri.clone(),
                state: params.state.clone(),
                code_challenge: params.code_challenge.clone(),
                code_challenge_method: params.code_challenge_method.clone(),
                acr_values: params.acr_values.clone(),
                claims: params.claims.clone(),
                request: params.request.clone(),
                request_uri: params.request_uri.clone(),
                registration: params.registration.clone(),
            };
            match validate(params, &client(), false) {
                Ok(request) => accepted(&input, &request)?,
                Err(AuthorizeError::Page(bad)) => {
                    prop_assert_ne!(input.redirect_uri.as_deref(), Some(REDIRECT));
                    prop_assert!(matches!(
                        bad,
                        BadClient::MissingRedirectUri | BadClient::UnregisteredRedirectUri
                    ));
                }
                Err(AuthorizeError::Redirect(back)) => {
                    prop_assert_eq!(input.redirect_uri.as_deref(), Some(REDIRECT));
                    prop_assert_eq!(back.redirect_uri.as_str(), REDIRECT);
                    prop_assert_ne!(back.error.code, ErrorCode::ServerError);
                    prop_assert!(!back.error.description.is_empty());
                    let kept = input.state.clone().filter(|s| s.len() <= MAX_PARAM_LEN);
                    prop_assert_eq!(&back.state, &kept);
                    // It renders: a redirect to the registered URI with the error and the state.
                    let response = back.error.redirect(&back.redirect_uri, back.state.as_deref(), "https://id.example");
                    prop_assert_eq!(response.status(), axum::http::StatusCode::SEE_OTHER);
                    let location = response.headers()[axum::http::header::LOCATION].to_str().unwrap().to_string();
                    let url = url::Url::parse(&location).unwrap();
                    prop_assert!(location.starts_with("https://rp.example/cb?tenant=1&error="), "{location}");
                    let got = |n: &str| url.query_pairs().find(|(k, _)| k == n).map(|(_, v)| v.into_owned());
                    prop_assert_eq!(got("error"), Some(back.error.code.as_str().to_string()));
                    prop_assert_eq!(got("state"), kept);
                }
            }
        }
    }

    #[test]
    fn a_complete_request_is_validated() {
        let params = AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some("rp".into()),
            redirect_uri: Some(REDIRECT.into()),
            scope: Some("openid documents".into()),
            state: Some("xyz".into()),
            code_challenge: Some(CHALLENGE.into()),
            code_challenge_method: Some("S256".into()),
            acr_values: Some("urn:vneid:acr:level2".into()),
            max_age: Some("300".into()),
            prompt: Some("login consent".into()),
            ..AuthorizeParams::default()
        };
        let r = validate(params, &client(), false).unwrap();
        assert_eq!(r.required_level, Level::Level2);
        assert_eq!(r.max_age, Some(300));
        assert_eq!(r.prompts, [Prompt::Login, Prompt::Consent]);
        assert_eq!(r.scopes.to_string(), "openid documents");
    }
}
