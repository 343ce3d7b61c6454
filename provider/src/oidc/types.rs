//! Protocol values as types, each checked when parsed, with one string mapping.

use serde::{Deserialize, Serialize};

/// Longest value accepted for any single request parameter (state, nonce, login_hint, ...).
pub const MAX_PARAM_LEN: usize = 2048;

/// Defines a closed enum with its one wire-string mapping.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }
        impl $name {
            /// Every value.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire string.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
            /// Parses the wire string.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($wire => Some($name::$variant),)+ _ => None }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// ID-token signing algorithms.
    SigningAlg { Es256 = "ES256", Rs256 = "RS256" }
);

wire_enum!(
    /// Token-endpoint client authentication methods.
    ClientAuthMethod {
        SecretBasic = "client_secret_basic",
        SecretPost = "client_secret_post",
        PrivateKeyJwt = "private_key_jwt",
    }
);

wire_enum!(
    /// How `sub` is computed for a client.
    SubjectType { Pairwise = "pairwise", Public = "public" }
);

wire_enum!(
    /// `prompt` values.
    Prompt { None = "none", Login = "login", Consent = "consent", SelectAccount = "select_account" }
);

wire_enum!(
    /// Grant types of the token endpoint.
    GrantType {
        AuthorizationCode = "authorization_code",
        RefreshToken = "refresh_token",
        /// A client acting for itself (the national app at the registration API).
        ClientCredentials = "client_credentials",
        /// CIBA (OpenID Connect Client-Initiated Backchannel Authentication Core 1.0).
        Ciba = "urn:openid:params:grant-type:ciba",
    }
);

impl SigningAlg {
    /// Both algorithms, ES256 (the default) first.
    pub const BOTH: [SigningAlg; 2] = [SigningAlg::Es256, SigningAlg::Rs256];
}

/// A registered client's id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClientId(String);

impl ClientId {
    /// Client ids are printable ASCII without spaces, 1 to 128 characters.
    pub fn parse(s: &str) -> Option<ClientId> {
        let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| ClientId(s.to_string()))
    }
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A redirect URI: absolute, no fragment. Compared with the registered ones byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri {
    raw: String,
    url: url::Url,
}

impl RedirectUri {
    /// Parses an absolute URI without a fragment.
    pub fn parse(s: &str) -> Option<RedirectUri> {
        let url = url::Url::parse(s).ok()?;
        let ok = url.fragment().is_none() && !url.cannot_be_a_base() && s.len() <= MAX_PARAM_LEN;
        ok.then(|| RedirectUri {
            raw: s.to_string(),
            url,
        })
    }
    /// The URI as registered.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
    /// The URI with the response parameters appended (its own query kept).
    pub fn with_params(&self, params: &[(&str, &str)]) -> url::Url {
        let mut url = self.url.clone();
        url.query_pairs_mut().extend_pairs(params);
        url
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        RedirectUri::parse(&s).ok_or(s)
    }
}

impl From<RedirectUri> for String {
    fn from(uri: RedirectUri) -> String {
        uri.raw
    }
}

/// A PKCE S256 code challenge: 43 base64url characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    /// Parses a challenge.
    pub fn parse(s: &str) -> Option<CodeChallenge> {
        let ok = s.len() == 43
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| CodeChallenge(s.to_string()))
    }

    /// Whether `verifier` (RFC 7636: 43 to 128 unreserved characters) matches.
    pub fn verify(&self, verifier: &str) -> bool {
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
        well_formed && crate::secret::equal(&crate::secret::hash(verifier), &self.0)
    }
}
