//! The one application error: internal failures become a generic page or JSON body, with the
//! detail in the log (never in the response).

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
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        tracing::error!(error = %self, "request failed");
        ErrorPage::internal().into_response()
    }
}

impl From<AppError> for crate::oidc::error::OAuthError {
    fn from(err: AppError) -> Self {
        tracing::error!(error = %err, "request failed");
        crate::oidc::error::OAuthError::new(
            crate::oidc::error::ErrorCode::ServerError,
            "the provider failed; try again",
        )
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
