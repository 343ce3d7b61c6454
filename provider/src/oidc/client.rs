//! A registered relying party, as the protocol logic sees it.

use vneid_contract::ScopeSet;

use super::encryption::{self, Encryption};
use super::types::{ClientAuthMethod, ClientId, RedirectUri, SigningAlg, SubjectType};
use crate::store::ClientRow;

/// A client with its registration parsed into types.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientId,
    pub name: String,
    pub secret_hash: Option<String>,
    pub auth_method: ClientAuthMethod,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub allowed_scopes: ScopeSet,
    pub signing_alg: SigningAlg,
    pub subject_type: SubjectType,
    /// Public keys for `private_key_jwt` (a JWKS document).
    pub jwks: Option<String>,
    /// Authorization requests must be pushed (RFC 9126).
    pub require_par: bool,
    /// May introspect tokens (RFC 7662).
    pub resource_server: bool,
    /// The hash of the registration access token (RFC 7592), for clients registered through
    /// the registration endpoint.
    pub registration_token_hash: Option<String>,
    /// Back-channel logout, encrypted and signed responses.
    pub responses: Responses,
}

/// Where a client hears of logouts, and how it wants its responses; all off by default.
#[derive(Debug, Clone, Default)]
pub struct Responses {
    /// Where logout tokens go (Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<String>,
    /// The client needs `sid` in its logout tokens (always sent).
    pub backchannel_logout_session_required: bool,
    /// ID tokens encrypted to the client's key.
    pub id_token_encryption: Option<Encryption>,
    /// UserInfo encrypted to the client's key.
    pub userinfo_encryption: Option<Encryption>,
    /// UserInfo signed (`application/jwt`).
    pub userinfo_signing: Option<SigningAlg>,
}

/// A stored registration that no longer parses (edited by hand?).
#[derive(Debug, thiserror::Error)]
#[error("client {0} has an invalid stored registration: {1}")]
pub struct BadRegistration(pub String, pub &'static str);

impl TryFrom<ClientRow> for Client {
    type Error = BadRegistration;
    fn try_from(row: ClientRow) -> Result<Self, BadRegistration> {
        let bad = |what| BadRegistration(row.id.clone(), what);
        let uris = |json: &str| -> Option<Vec<RedirectUri>> {
            let list: Vec<String> = serde_json::from_str(json).ok()?;
            list.iter().map(|u| RedirectUri::parse(u)).collect()
        };
        Ok(Client {
            id: ClientId::parse(&row.id).ok_or_else(|| bad("id"))?,
            name: row.name.clone(),
            secret_hash: row.secret_hash.clone(),
            auth_method: ClientAuthMethod::parse(&row.auth_method)
                .ok_or_else(|| bad("auth_method"))?,
            redirect_uris: uris(&row.redirect_uris).ok_or_else(|| bad("redirect_uris"))?,
            post_logout_redirect_uris: uris(&row.post_logout_redirect_uris)
                .ok_or_else(|| bad("post_logout_redirect_uris"))?,
            allowed_scopes: ScopeSet::parse(&row.allowed_scopes)
                .map_err(|_| bad("allowed_scopes"))?,
            signing_alg: SigningAlg::parse(&row.signing_alg).ok_or_else(|| bad("signing_alg"))?,
            subject_type: SubjectType::parse(&row.subject_type)
                .ok_or_else(|| bad("subject_type"))?,
            jwks: row.jwks.clone(),
            require_par: row.options.require_par != 0,
            resource_server: row.options.resource_server != 0,
            registration_token_hash: row.options.registration_token_hash.clone(),
            responses: Responses {
                backchannel_logout_uri: row.responses.backchannel_logout_uri.clone(),
                backchannel_logout_session_required: row
                    .responses
                    .backchannel_logout_session_required
                    != 0,
                id_token_encryption: encryption::parse(
                    "id_token",
                    row.responses.id_token_encrypted_response_alg.as_deref(),
                    row.responses.id_token_encrypted_response_enc.as_deref(),
                )
                .map_err(|_| bad("id_token_encrypted_response_alg"))?,
                userinfo_encryption: encryption::parse(
                    "userinfo",
                    row.responses.userinfo_encrypted_response_alg.as_deref(),
                    row.responses.userinfo_encrypted_response_enc.as_deref(),
                )
                .map_err(|_| bad("userinfo_encrypted_response_alg"))?,
                userinfo_signing: match row.responses.userinfo_signed_response_alg.as_deref() {
                    None => None,
                    Some(a) => Some(
                        SigningAlg::parse(a).ok_or_else(|| bad("userinfo_signed_response_alg"))?,
                    ),
                },
            },
        })
    }
}

impl Client {
    /// The registered redirect URI equal to `raw`, byte for byte.
    pub fn redirect_uri(&self, raw: &str) -> Option<RedirectUri> {
        self.redirect_uris
            .iter()
            .find(|u| u.as_str() == raw)
            .cloned()
    }

    /// The registered post-logout redirect URI equal to `raw`.
    pub fn post_logout_redirect_uri(&self, raw: &str) -> Option<RedirectUri> {
        self.post_logout_redirect_uris
            .iter()
            .find(|u| u.as_str() == raw)
            .cloned()
    }

    /// Whether `secret` is this client's secret.
    pub fn secret_matches(&self, secret: &str) -> bool {
        self.secret_hash
            .as_deref()
            .is_some_and(|stored| crate::secret::equal(stored, &crate::secret::hash(secret)))
    }
}
