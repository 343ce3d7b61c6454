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
//! | token | the code with the PKCE verifier (S256); `client_secret_basic` (or `_post`), or `private_key_jwt` with a fresh assertion (audience: the issuer); a DPoP proof when the client has a key, retried once on `use_dpop_nonce`; a bearer token where DPoP was asked is refused |
//! | ID token | signature with ES256 or RS256 only (never `none`, never HS*), `iss`, `aud` (this client only), `azp`, `exp` and `iat` with 60 s of skew, `nonce`, `at_hash`, `acr` at least the level asked (missing or unknown fails), `auth_time` present and within `max_age` |
//! | keys | fetched at discovery; an unknown `kid` refetches once (at most every 30 s); the last good keys stay while the provider is unreachable |
//! | UserInfo | fetched when the scopes go beyond `openid` (or claims are asked there); `DPoP` authorization with `ath` for bound tokens; `application/jwt` answers verified (provider's key, `iss`, `aud`) and decrypted first when encrypted; its `sub` must be the ID token's |
//! | encryption | ID tokens and UserInfo encrypted to the client: RSA-OAEP-256, ECDH-ES, ECDH-ES+A256KW, with A256GCM only |
//! | logout token | ES256/RS256/PS256 with the provider's keys, `iss`, `aud`, `iat` (10 minutes back, 60 s ahead), `jti` (repeats dropped), the back-channel `events` member, `sid` or `sub`, and no `nonce` |
//! | claims | each claim's form; the identification number against the birth date and sex |
//!
//! # FAPI 2.0 for banks
//!
//! A bank registers `private_key_jwt` (its public key), DPoP-bound tokens, pushed requests and,
//! if it wants them, encrypted ID tokens; then:
//!
//! ```no_run
//! use vneid_sdk::{ClaimsRequest, ClientCredentials, DpopKey, Level, LoginRequest, ScopeSet, VneidClient};
//! # async fn run(signing_pem: String, decryption_pem: String, dpop_pem: String) -> Result<(), vneid_sdk::SdkError> {
//! let client = VneidClient::discover(
//!     "https://id.example.vn",
//!     "bank",
//!     ClientCredentials::PrivateKeyJwt { key_id: "bank-2026".into(), private_key_pem: signing_pem.into() },
//!     "https://bank.example.vn/callback",
//! )
//! .await?
//! // Keep the DPoP key (to_pem) to refresh bound tokens after a restart.
//! .with_dpop(DpopKey::from_pem(&dpop_pem)?)
//! .with_decryption_key(&decryption_pem)?;
//! let request = LoginRequest::new(Level::Level2, ScopeSet::parse("openid profile identity_number offline_access").expect("known"))
//!     .with_claims(ClaimsRequest::new().essential_acr().verified(&["name", "birthdate"]))
//!     .with_login_hint("079198000002");
//! // PAR: the parameters go to the provider directly; the browser gets a request_uri.
//! let (url, pending) = client.begin_pushed(&request).await?;
//! # let query = ""; let _ = url;
//! let identity = client.complete(pending, query).await?;
//! let session = identity.session(); // keep it server-side (a SessionStore)
//! let tokens = client.refresh(&session.tokens).await?; // rotated, still DPoP-bound
//! let headers = client.authorization_headers(&tokens, "GET", "https://api.example.vn/x")?;
//! # let _ = headers;
//! client.revoke(&tokens).await?;
//! let logout = client.logout_url(&session, Some("https://bank.example.vn/"), Some("s"))?;
//! # let _ = logout;
//! # Ok(())
//! # }
//! ```
//!
//! With the `axum` feature, the `axum` module adds login, callback and logout handlers, a
//! private (encrypted) session cookie, and extractors that demand a level and send the browser
//! to step-up when the session's level is too low; with a [`SessionStore`]
//! ([`MemorySessionStore`], or `SqlSessionStore` with the `sqlx-sqlite` feature) it keeps
//! each login, ends sessions on back-channel logout (`axum::backchannel_logout`), and chains
//! logout to the provider.

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
pub use receipt::{
    KeyHistory, Receipt, ReceiptError, SignedReceipt, verify_receipt, verify_receipt_with_ca,
};
#[cfg(feature = "sqlx-sqlite")]
pub use store::SqlSessionStore;
pub use store::{MemorySessionStore, SessionStore, StoreFuture};
pub use tokens::{Session, Tokens};
pub use vneid_contract::{
    ACR_LEVEL1, ACR_LEVEL2, AccountEvent, AccountKind, Claim, Document, DocumentType, Gender, Lang,
    Level, Organization, PersonalIdNumber, Predicate, PredicateDocument, Province, ReceiptClaims,
    Scope, ScopeSet, TravelDocument,
};
