//! One error type: each variant says what went wrong and what to do about it. Where a variant
//! covers several causes, it carries a typed reason (never a bare string) that keeps its source.

use vneid_contract::{Level, PinError, PinMismatch};

/// A boxed cause, so the public types do not pin the versions of the HTTP and JOSE crates.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a login could not be completed or trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The provider's discovery document or keys could not be fetched.
    #[error(
        "cannot reach the provider at {issuer}: {cause}; check the issuer URL and that the provider is up"
    )]
    Discovery {
        /// The issuer asked for.
        issuer: String,
        /// Why.
        cause: String,
    },
    /// A setting the SDK was given is unusable.
    #[error("invalid configuration: {0}; fix the relying party's settings")]
    Config(String),
    /// The SDK or the provider does not support what was asked for yet.
    #[error("{0} is not supported by this provider or this client's settings")]
    Unsupported(&'static str),
    /// The callback's query string is unreadable (a parameter repeated or far too long).
    #[error("the callback is malformed ({0}): start the login again")]
    MalformedCallback(&'static str),
    /// The callback's `state` is not the one this login sent: a forged or crossed callback.
    #[error("the callback does not belong to this login (state mismatch): start the login again")]
    StateMismatch,
    /// The callback's `iss` is missing or names another provider (a mix-up attack, RFC 9207).
    #[error(
        "the callback's issuer is {found:?}, expected {expected}: do not continue; start the login again"
    )]
    IssuerMismatch {
        /// The issuer this client trusts.
        expected: String,
        /// What the callback carried.
        found: Option<String>,
    },
    /// The account cannot reach the level asked for (`unmet_authentication_requirements`).
    #[error(
        "the citizen's account does not reach {required}: they can get a Level 2 account at a police station with their chip-based identity card"
    )]
    InsufficientLevel {
        /// The level asked for.
        required: Level,
    },
    /// The citizen refused or cancelled (`access_denied`).
    #[error("the citizen declined to share the information or cancelled the login")]
    Denied,
    /// `prompt=none` could not complete without the citizen.
    #[error("the provider needs the citizen to act ({0}): start an interactive login")]
    InteractionRequired(Interaction),
    /// Any other error the provider sent back (`invalid_scope`, `server_error`, ...).
    #[error(
        "the provider refused the request: {code}: {description}; check the client's registration and the request"
    )]
    Provider {
        /// The OAuth error code.
        code: String,
        /// Its description (empty when the provider sent none).
        description: String,
    },
    /// The callback carried neither a code nor an error.
    #[error("the callback carries no authorization code: start the login again")]
    MissingCode,
    /// The code could not be exchanged for tokens.
    #[error("the authorization code could not be exchanged ({0}): start the login again")]
    TokenExchange(TokenExchangeError),
    /// The ID token failed validation: do not trust this login.
    #[error("the ID token is not valid ({0}): do not trust this login")]
    InvalidIdToken(IdTokenError),
    /// The login reached a lower level than asked for, or carries no (or an unknown) `acr`: the
    /// SDK fails closed.
    #[error(
        "the login reached {reached:?}, below the required {required}: do not trust it for this purpose; ask for {required} again"
    )]
    LevelTooLow {
        /// Asked for.
        required: Level,
        /// Reached (`None`: no `acr`, or one that is not a VNeID level).
        reached: Option<Level>,
    },
    /// The login is older than the `max_age` asked for.
    #[error(
        "the citizen authenticated {age} s ago, more than the max_age of {max_age} s: start a fresh login"
    )]
    LoginTooOld {
        /// Seconds since authentication.
        age: i64,
        /// The limit.
        max_age: i64,
    },
    /// UserInfo failed or answered for another subject.
    #[error("UserInfo failed ({0}): start the login again")]
    UserInfo(UserInfoError),
    /// The eKYC receipt asked for is missing, forged or not for this login.
    #[error("the eKYC receipt cannot be relied on ({0}); do not keep this record")]
    Receipt(crate::receipt::ReceiptError),
    /// The provider refused to revoke a token, or could not be reached.
    #[error("the token could not be revoked ({0}); try again")]
    Revocation(TokenExchangeError),
    /// The released claims are malformed or contradict each other.
    #[error("the released identity cannot be relied on ({0}); report it to the provider")]
    Inconsistent(ClaimError),
}

impl SdkError {
    /// Whether a new interactive login is the right reaction (as opposed to a configuration
    /// problem, a refusal by the citizen, or an attack to log).
    pub fn should_restart_login(&self) -> bool {
        matches!(
            self,
            SdkError::MalformedCallback(_)
                | SdkError::StateMismatch
                | SdkError::InteractionRequired(_)
                | SdkError::MissingCode
                | SdkError::TokenExchange(TokenExchangeError::Refused { .. })
                | SdkError::LoginTooOld { .. }
        )
    }

    /// Whether the provider could not be reached or misbehaved (retry later).
    pub fn is_transient(&self) -> bool {
        match self {
            SdkError::Discovery { .. } => true,
            SdkError::TokenExchange(e) => !matches!(e, TokenExchangeError::Refused { .. }),
            SdkError::UserInfo(e) => matches!(
                e,
                UserInfoError::Network(_) | UserInfoError::InvalidResponse(_)
            ),
            SdkError::Provider { code, .. } => {
                code == "server_error" || code == "temporarily_unavailable"
            }
            _ => false,
        }
    }
}

/// Which `prompt=none` outcome the provider answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Interaction {
    /// `login_required`: nobody is logged in at the provider.
    Login,
    /// `consent_required`: the citizen has not consented to these scopes yet.
    Consent,
    /// `interaction_required`: some other page must be shown (a second factor, ...).
    Other,
}

impl Interaction {
    /// The OAuth error code.
    pub fn code(self) -> &'static str {
        match self {
            Interaction::Login => "login_required",
            Interaction::Consent => "consent_required",
            Interaction::Other => "interaction_required",
        }
    }
}

impl std::fmt::Display for Interaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Why the token endpoint did not give tokens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TokenExchangeError {
    /// The provider refused: `invalid_grant` means the code was used already (its tokens are
    /// then revoked), expired, or issued for another request; `invalid_client` means the
    /// client's id or secret is wrong.
    #[error("{code}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Refused {
        /// The OAuth error code.
        code: String,
        /// Its description.
        description: Option<String>,
    },
    /// The token endpoint could not be reached.
    #[error("the token endpoint could not be reached")]
    Network(#[source] BoxError),
    /// The token endpoint answered something that is not a token response.
    #[error("the token response is malformed")]
    InvalidResponse(#[source] BoxError),
}

impl TokenExchangeError {
    /// The OAuth error code, when the provider refused.
    pub fn code(&self) -> Option<&str> {
        match self {
            TokenExchangeError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Which check the ID token failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The token response has no ID token.
    #[error("the token response has no ID token")]
    Missing,
    /// Not a JWS the SDK accepts (encrypted, nested, `crit`, an unexpected `typ`, bad JSON).
    #[error("malformed or unsupported JOSE structure")]
    Malformed(#[source] BoxError),
    /// Unsigned (`alg: none`) or signed with an algorithm outside ES256 and RS256 (HS256 with
    /// the public key as the secret is the classic forgery).
    #[error("signed with `{alg}`, which is not accepted (only ES256 and RS256)")]
    DisallowedAlgorithm {
        /// The `alg` of the header.
        alg: String,
    },
    /// No published key has the token's `kid`, even after refreshing the provider's keys.
    #[error("no published key matches kid {kid:?}, even after refreshing the provider's keys")]
    UnknownKey {
        /// The `kid` of the header.
        kid: Option<String>,
    },
    /// The signature does not verify: forged or altered.
    #[error("the signature does not verify")]
    BadSignature(#[source] BoxError),
    /// `iss` is not the provider.
    #[error("issued by someone else (iss)")]
    Issuer(#[source] BoxError),
    /// `aud` does not name this client, or names others too.
    #[error("not issued to this client (aud)")]
    Audience(#[source] BoxError),
    /// `azp` names another client.
    #[error("authorized party (azp) is `{azp}`, not this client")]
    AuthorizedParty {
        /// The `azp` received.
        azp: String,
    },
    /// `exp` is past (beyond the allowed clock skew).
    #[error("expired")]
    Expired(#[source] BoxError),
    /// `iat` is in the future (beyond the allowed clock skew): check this server's clock.
    #[error("issued in the future (check this server's clock)")]
    IssuedInFuture,
    /// `nonce` is missing or not this login's: a replayed or injected token.
    #[error("nonce missing or not this login's")]
    Nonce(#[source] BoxError),
    /// `at_hash` is missing although the provider issues it.
    #[error("at_hash missing")]
    AccessTokenHashMissing,
    /// `at_hash` does not match the access token: a substituted access token.
    #[error("at_hash does not match the access token")]
    AccessTokenHashMismatch,
    /// `auth_time` is missing although the contract (or `max_age`) requires it.
    #[error("auth_time missing")]
    AuthTimeMissing,
    /// `auth_time` is in the future.
    #[error("auth_time in the future (check this server's clock)")]
    AuthTimeInFuture,
}

/// Why UserInfo could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserInfoError {
    /// The scopes need UserInfo but discovery lists no `userinfo_endpoint`.
    #[error("the provider has no UserInfo endpoint")]
    NoEndpoint,
    /// UserInfo could not be reached.
    #[error("UserInfo could not be reached")]
    Network(#[source] BoxError),
    /// UserInfo refused (usually `invalid_token`: expired or revoked, for instance after a
    /// replayed code).
    #[error("HTTP {status}{}", error.as_deref().map(|e| format!(" {e}")).unwrap_or_default())]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The `error` of the response, if any.
        error: Option<String>,
    },
    /// UserInfo answered something other than a JSON object.
    #[error("not a JSON object")]
    InvalidResponse(#[source] BoxError),
    /// UserInfo's `sub` is not the ID token's: a substituted access token.
    #[error("UserInfo answered for another subject")]
    SubjectMismatch,
}

/// What is wrong with the released claims.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClaimError {
    /// A claim does not have the contract's form.
    #[error("claim `{claim}` is malformed: {reason}")]
    Malformed {
        /// The claim's name.
        claim: String,
        /// What is wrong.
        reason: String,
    },
    /// The personal identification number is not well formed.
    #[error("the personal identification number is malformed")]
    IdNumber(#[source] PinError),
    /// The identification number's digits contradict the birth date or sex.
    #[error("the personal identification number contradicts the profile")]
    IdNumberMismatch(#[source] PinMismatch),
}
