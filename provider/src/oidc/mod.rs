//! OpenID Connect: the protocol endpoints and the logic beneath them.

pub mod authorize;
pub mod claims_request;
pub mod client;
pub mod client_assertion;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod flow;
pub mod grant;
pub mod id_token;
pub mod logout;
pub mod paths;
pub mod predicates;
pub mod receipt;
pub mod subject;
pub mod token;
pub mod types;
pub mod userinfo;
