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
    /// Authorization requests must be pushed (RFC 9126); always so under FAPI 2.0.
    pub require_par: bool,
    /// Tokens must be DPoP-bound (RFC 9449): a token request without a proof is refused;
    /// always so under FAPI 2.0.
    pub require_dpop: bool,
    /// The security profile the client is held to.
    pub profile: Profile,
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

/// A security profile a client can be held to, beyond what every client must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    /// The provider's rules for every client (PKCE S256, `iss` in the response, ...).
    #[default]
    Baseline,
    /// The FAPI 2.0 Security Profile: pushed requests only, `private_key_jwt` only, DPoP-bound
    /// tokens, ES256/PS256 only for request objects and client assertions, codes living at
    /// most [`FAPI2_MAX_CODE_LIFETIME`] seconds.
    Fapi2,
}

/// The longest an authorization code of a FAPI 2.0 client lives, in seconds (FAPI 2.0
/// Security Profile 5.3.2.1).
pub const FAPI2_MAX_CODE_LIFETIME: i64 = 60;

impl Profile {
    /// The stored name; `None` for the baseline.
    pub fn as_stored(self) -> Option<&'static str> {
        match self {
            Profile::Baseline => None,
            Profile::Fapi2 => Some("fapi2"),
        }
    }

    /// Parses a stored or command-line name (`fapi2`; nothing for the baseline).
    pub fn parse(name: Option<&str>) -> Option<Profile> {
        match name {
            None | Some("") => Some(Profile::Baseline),
            Some("fapi2") => Some(Profile::Fapi2),
            Some(_) => None,
        }
    }

    /// The JWS algorithms this profile allows for request objects and client assertions, among
    /// those the provider accepts (ES256, PS256, RS256).
    pub fn allows_alg(self, alg: &str) -> bool {
        match self {
            Profile::Baseline => matches!(alg, "ES256" | "PS256" | "RS256"),
            Profile::Fapi2 => matches!(alg, "ES256" | "PS256"),
        }
    }

    /// How long this client's codes live, given the configured lifetime.
    pub fn code_lifetime(self, configured: i64) -> i64 {
        match self {
            Profile::Baseline => configured,
            Profile::Fapi2 => configured.min(FAPI2_MAX_CODE_LIFETIME),
        }
    }
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
        let profile =
            Profile::parse(row.options.profile.as_deref()).ok_or_else(|| bad("profile"))?;
        let fapi2 = profile == Profile::Fapi2;
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
            require_par: row.options.require_par != 0 || fapi2,
            require_dpop: row.options.require_dpop != 0 || fapi2,
            profile,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fapi2_narrows_algorithms_and_code_lifetime() {
        for alg in ["ES256", "PS256"] {
            assert!(Profile::Fapi2.allows_alg(alg));
            assert!(Profile::Baseline.allows_alg(alg));
        }
        assert!(!Profile::Fapi2.allows_alg("RS256"));
        assert!(Profile::Baseline.allows_alg("RS256"));
        for alg in ["none", "HS256", ""] {
            assert!(!Profile::Fapi2.allows_alg(alg));
            assert!(!Profile::Baseline.allows_alg(alg));
        }
        assert_eq!(Profile::Fapi2.code_lifetime(600), 60);
        assert_eq!(Profile::Fapi2.code_lifetime(30), 30);
        assert_eq!(Profile::Baseline.code_lifetime(600), 600);
    }

    #[test]
    fn a_fapi2_row_requires_par_and_dpop_whatever_its_flags() {
        let row = ClientRow {
            id: "bank".into(),
            name: "Bank".into(),
            secret_hash: None,
            auth_method: "private_key_jwt".into(),
            redirect_uris: r#"["https://bank.example/cb"]"#.into(),
            post_logout_redirect_uris: "[]".into(),
            allowed_scopes: "openid".into(),
            signing_alg: "ES256".into(),
            subject_type: "pairwise".into(),
            jwks: None,
            options: crate::store::ClientOptions {
                profile: Some("fapi2".into()),
                ..Default::default()
            },
            responses: Default::default(),
        };
        let client = Client::try_from(row.clone()).unwrap();
        assert!(client.require_par && client.require_dpop);
        assert_eq!(client.profile, Profile::Fapi2);
        let mut plain = row.clone();
        plain.options.profile = None;
        let client = Client::try_from(plain).unwrap();
        assert!(!client.require_par && !client.require_dpop);
        let mut unknown = row;
        unknown.options.profile = Some("fapi3".into());
        assert!(Client::try_from(unknown).is_err());
    }
}
