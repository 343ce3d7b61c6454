//! Relying-party SDK for the VNeID OpenID provider.
//!
//! A bank's eKYC or a public-service portal states the level and the claims it needs and gets
//! back a typed, completely verified identity that replaces presenting the ID card, or a typed
//! error that says what to do. Built on the `openidconnect` crate; every check is done for you:
//! `state`, `iss` in the callback (RFC 9207), PKCE, the ID token's signature (ES256/RS256 only),
//! `iss`, `aud`, `azp`, `exp`, `iat`, `nonce`, `at_hash`, the `acr` against the level you asked
//! for (fail closed), `auth_time` against `max_age`, UserInfo's `sub`, and the identification
//! number's digits against the birth date and sex.
//!
//! # Integrate in a few lines
//!
//! ```no_run
//! use vneid_sdk::{ClientCredentials, Level, LoginRequest, ScopeSet, VneidClient};
//!
//! # async fn run() -> Result<(), vneid_sdk::SdkError> {
//! let client = VneidClient::discover(
//!     "http://127.0.0.1:8080",
//!     "demo-bank",
//!     ClientCredentials::Secret("demo-bank-secret".into()),
//!     "http://127.0.0.1:3002/callback",
//! )
//! .await?;
//!
//! // 1. Send the browser to the provider; keep `pending` in the session (it is serde).
//! let scopes = ScopeSet::parse("openid profile identity_number documents").expect("known scopes");
//! let (url, pending) = client.begin(&LoginRequest::new(Level::Level2, scopes));
//! println!("redirect to {url}");
//!
//! // 2. At the callback, hand over the query string.
//! let query = "code=...&state=...&iss=...";
//! match client.complete(pending, query).await {
//!     Ok(identity) => {
//!         println!("{:?} verified at {:?}", identity.full_name(), identity.level);
//!         if let Some(licence) = identity.driving_licence() {
//!             println!("driving licence {}", licence.number);
//!         }
//!     }
//!     Err(vneid_sdk::SdkError::InsufficientLevel { .. }) => println!("ask for a Level 2 account"),
//!     Err(other) => println!("login failed: {other}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! With the `axum` feature, [`axum`](crate::axum) adds login and callback handlers, a private
//! session cookie, and extractors that demand a level.

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(feature = "axum")]
pub mod axum;
mod client;
mod error;
mod identity;
mod pending;

pub use client::{ClientCredentials, VneidClient};
pub use error::SdkError;
pub use identity::{Person, VerifiedIdentity};
pub use pending::{LoginRequest, PendingLogin, Prompt};
pub use vneid_contract::{
    ACR_LEVEL1, ACR_LEVEL2, AccountKind, Claim, Document, DocumentType, Gender, Lang, Level,
    Organization, PersonalIdNumber, Scope, ScopeSet, TravelDocument,
};
