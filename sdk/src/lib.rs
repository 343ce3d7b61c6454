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
//! use vneid_sdk::{
//!     ClientCredentials, Interaction, Level, LoginRequest, PendingLogin, ScopeSet, SdkError,
//!     VneidClient,
//! };
//!
//! # async fn run() -> Result<(), SdkError> {
//! // Once, at start: discovery and the provider's keys. Share the client.
//! let client = VneidClient::discover(
//!     "http://127.0.0.1:8080",
//!     "demo-bank",
//!     ClientCredentials::Secret("demo-bank-secret".into()),
//!     "http://127.0.0.1:3002/callback",
//! )
//! .await?;
//!
//! // 1. Send the browser to the provider; keep `pending` in the session (it is serde, and
//! //    its Debug shows no secret).
//! let scopes = ScopeSet::parse("openid profile identity_number documents").expect("known scopes");
//! let mut request = LoginRequest::new(Level::Level2, scopes);
//! request.max_age = Some(std::time::Duration::from_secs(600));
//! let (url, pending) = client.begin(&request);
//! let kept: String = serde_json::to_string(&pending).expect("serializable");
//! println!("303 See Other, Location: {url}");
//!
//! // 2. At the callback, hand over the query string with the pending login.
//! let pending: PendingLogin = serde_json::from_str(&kept).expect("our own JSON");
//! let query = "code=...&state=...&iss=...";
//! match client.complete(pending, query).await {
//!     Ok(identity) => {
//!         // Every check passed: the level is at least Level 2, the number matches the
//!         // birth date and sex, the documents come from the Level 2 login.
//!         println!("{:?} verified at {:?}", identity.full_name(), identity.level);
//!         if let Some(pin) = &identity.person.personal_id_number {
//!             println!("identification number {pin}, born in {}", pin.province_name());
//!         }
//!         if let Some(licence) = identity.driving_licence() {
//!             println!("driving licence {}", licence.number);
//!         }
//!         // Keep the signed ID token as evidence of the eKYC.
//!         let _evidence: &str = &identity.id_token;
//!     }
//!     Err(SdkError::InsufficientLevel { .. }) => {
//!         println!("explain how to activate a Level 2 account at the police of the ward")
//!     }
//!     Err(SdkError::Denied) => println!("the citizen declined: offer to try again"),
//!     Err(SdkError::InteractionRequired(Interaction::Login)) => println!("log in interactively"),
//!     Err(e) if e.should_restart_login() => println!("start again: {e}"),
//!     Err(e) => println!("refused, and logged: {e}"),
//! }
//! # Ok(())
//! # }
//! ```
//!
//! # What is checked
//!
//! | step | checks |
//! |---|---|
//! | callback | `state` (constant time), `iss` present and equal to the issuer (RFC 9207), no repeated parameter, `error` mapped to a variant |
//! | token | the code with the PKCE verifier (S256), `client_secret_basic` |
//! | ID token | signature with ES256 or RS256 only (never `none`, never HS*), `iss`, `aud` (this client only), `azp`, `exp` and `iat` with 60 s of skew, `nonce`, `at_hash`, `acr` at least the level asked (missing or unknown fails), `auth_time` present and within `max_age` |
//! | keys | fetched at discovery; an unknown `kid` refetches once (at most every 30 s); the last good keys stay while the provider is unreachable |
//! | UserInfo | fetched when the scopes go beyond `openid`; its `sub` must be the ID token's |
//! | claims | each claim's form; the identification number against the birth date and sex |
//!
//! With the `axum` feature, the `axum` module adds login, callback and logout handlers, a
//! private (encrypted) session cookie, and extractors that demand a level and send the browser
//! to step-up when the session's level is too low.

#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

#[cfg(feature = "axum")]
pub mod axum;
mod callback;
mod client;
mod dpop;
mod error;
mod events;
mod identity;
mod keys;
mod logout;
mod pending;
mod receipt;
mod store;
mod tokens;
mod verify;

pub use client::{ClientCredentials, ClientSecret, VneidClient};
pub use dpop::DpopKey;
pub use error::{
    BoxError, ClaimError, IdTokenError, Interaction, SdkError, TokenExchangeError, UserInfoError,
};
pub use events::{SecurityEvent, SetError};
pub use identity::{Person, VerifiedClaims, VerifiedIdentity};
pub use logout::{BACKCHANNEL_LOGOUT_EVENT, LogoutToken, LogoutTokenError};
pub use pending::{ClaimsRequest, LoginRequest, PendingLogin, Prompt};
pub use receipt::{KeyHistory, Receipt, ReceiptError, SignedReceipt, verify_receipt};
#[cfg(feature = "sqlx-sqlite")]
pub use store::SqlSessionStore;
pub use store::{MemorySessionStore, SessionStore, StoreFuture};
pub use tokens::{Session, Tokens};
pub use vneid_contract::{
    ACR_LEVEL1, ACR_LEVEL2, AccountEvent, AccountKind, Claim, Document, DocumentType, Gender, Lang,
    Level, Organization, PersonalIdNumber, Predicate, PredicateDocument, ReceiptClaims, Scope,
    ScopeSet, TravelDocument,
};
