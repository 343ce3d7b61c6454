//! One error type: each variant says what went wrong and what to do about it.

use vneid_contract::Level;

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
    #[error("invalid configuration: {0}")]
    Config(String),
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
    /// `prompt=none` could not complete without the citizen (`login_required`,
    /// `consent_required`, `interaction_required`).
    #[error("the provider needs the citizen to act ({0}): start an interactive login")]
    InteractionRequired(String),
    /// Any other error the provider sent back.
    #[error("the provider refused the request: {code}: {description}")]
    Provider {
        /// The OAuth error code.
        code: String,
        /// Its description.
        description: String,
    },
    /// The callback carried neither a code nor an error.
    #[error("the callback carries no authorization code: start the login again")]
    MissingCode,
    /// The code could not be exchanged (used already, expired, or the client is misconfigured).
    #[error("the authorization code could not be exchanged ({0}): start the login again")]
    TokenExchange(String),
    /// The ID token failed validation: do not trust this login.
    #[error("the ID token is not valid ({0}): do not trust this login")]
    InvalidIdToken(String),
    /// The login reached a lower level than asked for (or carries no `acr`).
    #[error(
        "the login reached {reached:?}, below the required {required}: do not trust it for this purpose"
    )]
    LevelTooLow {
        /// Asked for.
        required: Level,
        /// Reached (`None`: no or unknown `acr`).
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
    UserInfo(String),
    /// The released claims contradict each other (an identification number whose digits
    /// disagree with the birth date or sex).
    #[error("the released identity is inconsistent: {0}")]
    Inconsistent(String),
}
