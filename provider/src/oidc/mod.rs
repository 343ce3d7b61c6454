//! OpenID Connect: the protocol endpoints and the logic beneath them.

pub mod authorize;
pub mod backchannel;
pub mod claims_request;
pub mod client;
pub mod client_assertion;
pub mod client_auth;
pub mod client_credentials;
pub mod discovery;
pub mod encryption;
pub mod error;
pub mod flow;
pub mod grant;
pub mod id_token;
pub mod introspection;
pub mod logout;
pub mod par;
pub mod paths;
pub mod predicates;
pub mod receipt;
pub mod registration;
pub mod request_object;
pub mod revocation;
pub mod subject;
pub mod token;
pub mod types;
pub mod userinfo;
