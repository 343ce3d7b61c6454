//! A login in flight: what the app keeps (in its session) between the redirect to the provider
//! and the callback.

use serde::{Deserialize, Serialize};
use vneid_contract::{Level, Predicate, ScopeSet};

/// What to ask for.
#[derive(Debug, Clone)]
pub struct LoginRequest {
    /// The lowest level acceptable; `None` only for providers that know no VNeID levels.
    pub level: Option<Level>,
    /// The scopes (`openid` is always added).
    pub scopes: ScopeSet,
    /// Ask for a login no older than this.
    pub max_age: Option<std::time::Duration>,
    /// `login`, `consent` or `none`.
    pub prompt: Option<Prompt>,
    /// Preferred languages of the provider's pages (`vi`, `en`).
    pub ui_locales: Option<String>,
    /// Predicate claims to ask for (`age_over_18`: a yes or no instead of the birth date),
    /// through the `claims` parameter, in the ID token and at UserInfo. Read them with
    /// [`crate::VerifiedIdentity::age_over`].
    pub predicates: Vec<Predicate>,
}

impl LoginRequest {
    /// A login at `level` for these scopes.
    pub fn new(level: Level, scopes: ScopeSet) -> Self {
        LoginRequest {
            level: Some(level),
            scopes,
            max_age: None,
            prompt: None,
            ui_locales: None,
            predicates: Vec::new(),
        }
    }

    /// Adds a predicate claim (`Predicate::AgeOver(18)`).
    pub fn with_predicate(mut self, predicate: Predicate) -> Self {
        self.predicates.push(predicate);
        self
    }
}

/// `prompt` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Never show a page; fail if the citizen would have to act.
    None,
    /// Force a fresh login.
    Login,
    /// Ask for consent again.
    Consent,
}

/// The secrets and expectations of one login. Serializable, so the app can keep it in its
/// session; its `Debug` shows no secret.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub(crate) state: String,
    pub(crate) nonce: String,
    pub(crate) pkce_verifier: String,
    /// The level asked for.
    pub level: Option<Level>,
    /// The scopes asked for.
    pub scopes: ScopeSet,
    /// Predicate claims asked for (UserInfo is fetched for them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predicates: Vec<Predicate>,
    /// The `max_age` asked for, in seconds.
    pub max_age: Option<i64>,
    /// When the login started (Unix seconds).
    pub created_at: i64,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingLogin")
            .field("state", &"[redacted]")
            .field("nonce", &"[redacted]")
            .field("pkce_verifier", &"[redacted]")
            .field("level", &self.level)
            .field("scopes", &self.scopes.to_string())
            .field("predicates", &self.predicates)
            .field("max_age", &self.max_age)
            .field("created_at", &self.created_at)
            .finish()
    }
}
