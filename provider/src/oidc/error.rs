//! OAuth 2.0 / OpenID Connect errors: the RFC codes, and how each endpoint renders them.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use super::types::RedirectUri;

/// Error codes of RFC 6749, OpenID Connect Core and RFC 6750.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidRequest,
    UnauthorizedClient,
    AccessDenied,
    UnsupportedResponseType,
    InvalidScope,
    ServerError,
    LoginRequired,
    ConsentRequired,
    InteractionRequired,
    UnmetAuthenticationRequirements,
    RequestNotSupported,
    RequestUriNotSupported,
    RegistrationNotSupported,
    InvalidClient,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidToken,
    /// The provider is overloaded or rate-limited the caller (RFC 6749 4.1.2.1); at the token
    /// endpoint answered with 503 and `Retry-After`.
    TemporarilyUnavailable,
    InvalidRequestObject,
    InvalidRequestUri,
    InvalidClientMetadata,
    InvalidRedirectUri,
    UnapprovedSoftwareStatement,
    InvalidSoftwareStatement,
    /// A DPoP proof is missing, malformed, replayed or for another request (RFC 9449).
    InvalidDpopProof,
    /// The DPoP proof must carry the server nonce given in `DPoP-Nonce` (RFC 9449 8, 9).
    UseDpopNonce,
    /// CIBA (Core 11): the citizen has not decided yet; poll again after `interval`.
    AuthorizationPending,
    /// CIBA: polled faster than `interval`.
    SlowDown,
    /// CIBA: the `auth_req_id` expired.
    ExpiredToken,
    /// CIBA (Core 13): the binding message is too long or not printable.
    InvalidBindingMessage,
}

impl ErrorCode {
    /// The wire string.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::ServerError => "server_error",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            ErrorCode::RequestNotSupported => "request_not_supported",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::InvalidRequestUri => "invalid_request_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::UnapprovedSoftwareStatement => "unapproved_software_statement",
            ErrorCode::InvalidSoftwareStatement => "invalid_software_statement",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::InvalidBindingMessage => "invalid_binding_message",
        }
    }
}

/// A protocol error with a description for the developer on the other side.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    /// The code.
    pub code: ErrorCode,
    /// What was wrong, for a developer (never secrets).
    pub description: Cow<'static, str>,
}

impl OAuthError {
    /// An error with a description.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError {
            code,
            description: description.into(),
        }
    }

    /// Shorthand for `invalid_request`.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError::new(ErrorCode::InvalidRequest, description)
    }

    /// Shorthand for `invalid_grant`.
    pub fn invalid_grant(description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError::new(ErrorCode::InvalidGrant, description)
    }

    /// Shorthand for `invalid_client`.
    pub fn invalid_client(description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError::new(ErrorCode::InvalidClient, description)
    }

    /// The authorization error response (RFC 6749 4.1.2.1, RFC 9207): a redirect to the
    /// client's validated redirect URI carrying `error`, `state` and `iss`.
    pub fn redirect(
        &self,
        redirect_uri: &RedirectUri,
        state: Option<&str>,
        issuer: &str,
    ) -> Response {
        let mut params = vec![
            ("error", self.code.as_str()),
            ("error_description", self.description.as_ref()),
        ];
        if let Some(state) = state {
            params.push(("state", state));
        }
        params.push(("iss", issuer));
        Redirect::to(redirect_uri.with_params(&params).as_str()).into_response()
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'static str,
    error_description: &'a str,
}

/// A token-endpoint error (RFC 6749 5.2): JSON, 401 with `WWW-Authenticate` for a client that
/// failed to authenticate, 400 otherwise.
pub struct TokenError(pub OAuthError);

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: self.0.code.as_str(),
            error_description: &self.0.description,
        };
        let mut response = Json(body).into_response();
        if self.0.code == ErrorCode::InvalidClient {
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"vneid\""),
            );
        } else if self.0.code == ErrorCode::ServerError {
            *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        } else if self.0.code == ErrorCode::TemporarilyUnavailable {
            *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        } else {
            *response.status_mut() = StatusCode::BAD_REQUEST;
        }
        response
    }
}

impl From<OAuthError> for TokenError {
    fn from(err: OAuthError) -> Self {
        TokenError(err)
    }
}

/// A protected-resource error (RFC 6750 3): 401 with a Bearer challenge.
pub struct BearerError(pub OAuthError);

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let status = match self.0.code {
            ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::UNAUTHORIZED,
        };
        // Descriptions are our own fixed strings: no quotes to escape.
        let challenge = format!(
            "Bearer realm=\"vneid\", error=\"{}\", error_description=\"{}\"",
            self.0.code.as_str(),
            self.0.description.replace('"', "'")
        );
        let mut response = (
            status,
            Json(ErrorBody {
                error: self.0.code.as_str(),
                error_description: &self.0.description,
            }),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
