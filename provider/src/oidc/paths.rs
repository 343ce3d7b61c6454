//! Route paths, defined once for the router and the discovery document.

pub const DISCOVERY: &str = "/.well-known/openid-configuration";
pub const JWKS: &str = "/jwks";
pub const AUTHORIZE: &str = "/authorize";
pub const TOKEN: &str = "/token";
pub const USERINFO: &str = "/userinfo";
pub const END_SESSION: &str = "/logout";
/// Pushed authorization requests (RFC 9126).
pub const PAR: &str = "/par";
/// Token revocation (RFC 7009).
pub const REVOCATION: &str = "/revoke";
/// Token introspection (RFC 7662).
pub const INTROSPECTION: &str = "/introspect";
/// Dynamic client registration (RFC 7591).
pub const REGISTRATION: &str = "/register";
/// A dynamically registered client (RFC 7592).
pub const REGISTRATION_CLIENT: &str = "/register/{client_id}";
pub const HEALTH: &str = "/health";
/// CIBA's backchannel authentication endpoint.
pub const BACKCHANNEL_AUTHENTICATION: &str = "/backchannel-authentication";
/// The phone app's API (requests signed with the device key).
pub const APP_ENROL: &str = "/app/enrol";
pub const APP_PENDING: &str = "/app/pending";
pub const APP_QR: &str = "/app/qr";
pub const APP_APPROVE: &str = "/app/approve";
pub const APP_DENY: &str = "/app/deny";
/// The QR login of one login page: the page (refreshing itself), its state for the script,
/// and the form that continues once the app approved.
pub const INTERACTION_QR: &str = "/interaction/{id}/qr";
pub const INTERACTION_QR_STATUS: &str = "/interaction/{id}/qr/status";
pub const INTERACTION_QR_CONTINUE: &str = "/interaction/{id}/qr/continue";
/// The self-hosted script of the QR login (polls and continues by itself).
pub const QR_SCRIPT: &str = "/static/qr-login.js";
/// Every signing key ever used, with its validity period (for offline receipt checks).
pub const KEY_HISTORY: &str = vneid_contract::KEY_HISTORY_PATH;
/// Security Event Tokens for a client to collect (RFC 8936).
pub const EVENTS_POLL: &str = vneid_contract::EVENTS_POLL_PATH;
/// Demo mode only: the messages the demo sent.
pub const DEMO_OUTBOX: &str = "/demo/outbox";
pub const STYLE: &str = "/static/style.css";
/// The interaction pages of one login: `GET` shows the next step.
pub const INTERACTION: &str = "/interaction/{id}";
pub const INTERACTION_LOGIN: &str = "/interaction/{id}/login";
pub const INTERACTION_OTP: &str = "/interaction/{id}/otp";
pub const INTERACTION_PASSWORD: &str = "/interaction/{id}/password";
pub const INTERACTION_CONSENT: &str = "/interaction/{id}/consent";
pub const INTERACTION_ABORT: &str = "/interaction/{id}/abort";

/// A concrete interaction path.
pub fn interaction(id: &str, template: &str) -> String {
    template.replace("{id}", id)
}

/// The registration client URI of one client.
pub fn registration_client(client_id: &str) -> String {
    let encoded: String = url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect();
    REGISTRATION_CLIENT.replace("{client_id}", &encoded)
}
