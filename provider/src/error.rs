//! The one application error: internal failures become a generic page or JSON body, with the
//! detail in the log (never in the response).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::keys::{KeyError, SealError};
use crate::oidc::client::BadRegistration;
use crate::store::StoreError;
use crate::web::pages::ErrorPage;

/// Failures that are ours, not the caller's.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Signing failed.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// A sealed secret could not be opened.
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A stored client registration is broken.
    #[error(transparent)]
    Client(#[from] BadRegistration),
    /// A response could not be encrypted to the client's key.
    #[error(transparent)]
    Encryption(#[from] crate::oidc::encryption::EncryptionError),
    /// Stored JSON could not be read.
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
    /// The population registry failed.
    #[error("the population registry failed: {0}")]
    Registry(String),
    /// A stored account row is invalid.
    #[error(transparent)]
    Account(#[from] crate::accounts::account::BadAccount),
    /// Password hashing failed or its task died.
    #[error("password hashing failed: {0}")]
    Password(String),
    /// Too much work waiting (the password hashing pool's queue is full or the wait timed
    /// out): 503 with `Retry-After`, nothing changed.
    #[error("busy: try again in {retry_after} s")]
    Busy {
        /// Seconds.
        retry_after: u64,
    },
    /// The caller went past a rate limit: 429 with `Retry-After`, nothing done.
    #[error("rate limited: try again in {retry_after} s")]
    TooMany {
        /// Seconds.
        retry_after: u64,
    },
}

impl From<crate::limits::TooMany> for AppError {
    fn from(limited: crate::limits::TooMany) -> Self {
        AppError::TooMany {
            retry_after: limited.retry_after,
        }
    }
}

/// Seconds a client is asked to wait when the database is unreachable or the pool exhausted.
pub const DATABASE_RETRY_AFTER: u64 = 2;

impl AppError {
    /// Whether this is the database being unreachable or too busy (503, may be retried).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, AppError::Store(err) if err.is_unavailable())
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            err if err.is_unavailable() => {
                tracing::error!(error = %err, "database unavailable: answered 503");
                with_retry_after(
                    ErrorPage::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Hệ thống tạm thời gián đoạn. Vui lòng thử lại sau ít phút.",
                        "The service is temporarily unavailable. Please try again in a few moments.",
                    )
                    .into_response(),
                    DATABASE_RETRY_AFTER,
                )
            }
            AppError::Busy { retry_after } => {
                tracing::warn!("busy: answered 503");
                with_retry_after(
                    ErrorPage::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "Hệ thống đang bận. Vui lòng thử lại sau ít phút.",
                        "The service is busy. Please try again in a few moments.",
                    )
                    .into_response(),
                    retry_after,
                )
            }
            AppError::TooMany { retry_after } => with_retry_after(
                ErrorPage::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Quá nhiều yêu cầu. Vui lòng chờ một lát rồi thử lại.",
                    "Too many requests. Please wait a moment and try again.",
                )
                .into_response(),
                retry_after,
            ),
            other => {
                tracing::error!(error = %other, "request failed");
                ErrorPage::internal().into_response()
            }
        }
    }
}

/// `response` with `Retry-After: seconds` (at least 1).
pub fn with_retry_after(mut response: Response, seconds: u64) -> Response {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    response
}

impl From<AppError> for crate::oidc::error::OAuthError {
    fn from(err: AppError) -> Self {
        use crate::oidc::error::{ErrorCode, OAuthError};
        match err {
            err if err.is_unavailable() => {
                tracing::error!(error = %err, "database unavailable: answered 503");
                OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the provider is temporarily unavailable; try again later",
                )
            }
            // 503 (429 for a rate limit) with `Retry-After`, added by the router for every such
            // response that has none.
            AppError::Busy { .. } | AppError::TooMany { .. } => OAuthError::new(
                ErrorCode::TemporarilyUnavailable,
                "the provider is busy; try again later",
            ),
            err => {
                tracing::error!(error = %err, "request failed");
                OAuthError::new(ErrorCode::ServerError, "the provider failed; try again")
            }
        }
    }
}

/// Internal failures seen from a protocol endpoint: `server_error`, detail logged.
macro_rules! server_error_from {
    ($($t:ty),+) => {$(
        impl From<$t> for crate::oidc::error::OAuthError {
            fn from(err: $t) -> Self {
                AppError::from(err).into()
            }
        }
    )+};
}
server_error_from!(StoreError, KeyError, serde_json::Error);

impl From<sqlx::Error> for crate::oidc::error::OAuthError {
    fn from(err: sqlx::Error) -> Self {
        AppError::from(StoreError::from(err)).into()
    }
}
