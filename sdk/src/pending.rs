//! A login in flight: what the app keeps (in its session) between the redirect to the provider
//! and the callback.

use serde::{Deserialize, Serialize};
use vneid_contract::{Level, Predicate, ScopeSet};

/// What to ask for. Build it with [`LoginRequest::new`] and set the fields you need (more
/// fields may come: it is `#[non_exhaustive]`).
#[derive(Debug, Clone)]
#[non_exhaustive]
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
    /// Individual claims, an essential `acr` and `verified_claims`, through the `claims`
    /// parameter (OpenID Connect Core 5.5, OpenID Connect for Identity Assurance).
    pub claims: ClaimsRequest,
    /// Who is expected to log in (`login_hint`): the provider pre-fills the identifier.
    pub login_hint: Option<String>,
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
            claims: ClaimsRequest::default(),
            login_hint: None,
        }
    }

    /// A login without a VNeID level (for standards-only providers).
    pub fn without_level(scopes: ScopeSet) -> Self {
        LoginRequest {
            level: None,
            ..LoginRequest::new(Level::Level1, scopes)
        }
    }

    /// Adds a predicate claim (`Predicate::AgeOver(18)`).
    pub fn with_predicate(mut self, predicate: Predicate) -> Self {
        self.predicates.push(predicate);
        self
    }

    /// Sets `login_hint`.
    pub fn with_login_hint(mut self, hint: impl Into<String>) -> Self {
        self.login_hint = Some(hint.into());
        self
    }

    /// Sets the `claims` request.
    pub fn with_claims(mut self, claims: ClaimsRequest) -> Self {
        self.claims = claims;
        self
    }

    /// The JSON of the `claims` parameter, if anything is asked through it.
    pub(crate) fn claims_parameter(&self) -> Option<serde_json::Value> {
        use serde_json::{Map, Value, json};
        let mut id_token = Map::new();
        let mut userinfo = Map::new();
        for p in &self.predicates {
            id_token.insert(p.as_str().to_string(), Value::Null);
            userinfo.insert(p.as_str().to_string(), Value::Null);
        }
        let spec = |essential: bool| {
            if essential {
                json!({ "essential": true })
            } else {
                Value::Null
            }
        };
        for (name, essential) in &self.claims.id_token {
            id_token.insert(name.clone(), spec(*essential));
        }
        for (name, essential) in &self.claims.userinfo {
            userinfo.insert(name.clone(), spec(*essential));
        }
        if self.claims.essential_acr
            && let Some(level) = self.level
        {
            id_token.insert(
                "acr".into(),
                json!({ "essential": true, "values": [level.acr()] }),
            );
        }
        if !self.claims.verified_claims.is_empty() {
            let inner: Map<String, Value> = self
                .claims
                .verified_claims
                .iter()
                .map(|c| (c.clone(), Value::Null))
                .collect();
            userinfo.insert(
                "verified_claims".into(),
                json!({ "verification": { "trust_framework": null }, "claims": inner }),
            );
        }
        if id_token.is_empty() && userinfo.is_empty() {
            return None;
        }
        let mut top = Map::new();
        if !id_token.is_empty() {
            top.insert("id_token".into(), Value::Object(id_token));
        }
        if !userinfo.is_empty() {
            top.insert("userinfo".into(), Value::Object(userinfo));
        }
        Some(Value::Object(top))
    }
}

/// What to ask for through the `claims` parameter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClaimsRequest {
    /// Ask for the level as an essential `acr` in the ID token (the provider must reach it or
    /// fail, rather than answer with a lower level).
    pub essential_acr: bool,
    /// Claims in the ID token, with whether each is essential.
    pub id_token: Vec<(String, bool)>,
    /// Claims at UserInfo, with whether each is essential.
    pub userinfo: Vec<(String, bool)>,
    /// Claims to receive inside `verified_claims` at UserInfo, with their verification.
    pub verified_claims: Vec<String>,
}

impl ClaimsRequest {
    /// Nothing asked.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks for the level as an essential `acr`.
    pub fn essential_acr(mut self) -> Self {
        self.essential_acr = true;
        self
    }

    /// Asks for `claim` in the ID token.
    pub fn in_id_token(mut self, claim: &str, essential: bool) -> Self {
        self.id_token.push((claim.to_string(), essential));
        self
    }

    /// Asks for `claim` at UserInfo.
    pub fn at_userinfo(mut self, claim: &str, essential: bool) -> Self {
        self.userinfo.push((claim.to_string(), essential));
        self
    }

    /// Asks for `claims` inside `verified_claims` at UserInfo.
    pub fn verified(mut self, claims: &[&str]) -> Self {
        self.verified_claims
            .extend(claims.iter().map(|c| c.to_string()));
        self
    }

    pub(crate) fn asks_userinfo(&self) -> bool {
        !self.userinfo.is_empty() || !self.verified_claims.is_empty()
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
#[non_exhaustive]
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
    /// Whether claims were asked for at UserInfo through `claims`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub userinfo_claims: bool,
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_claims_parameter_merges_predicates_claims_acr_and_verified_claims() {
        let scopes = ScopeSet::parse("openid profile").unwrap();
        assert!(
            LoginRequest::new(Level::Level2, scopes.clone())
                .claims_parameter()
                .is_none()
        );
        let request = LoginRequest::new(Level::Level2, scopes.clone())
            .with_predicate(Predicate::AgeOver(18))
            .with_claims(
                ClaimsRequest::new()
                    .essential_acr()
                    .in_id_token("name", false)
                    .at_userinfo("email", true)
                    .verified(&["birthdate"]),
            );
        assert_eq!(
            request.claims_parameter().unwrap(),
            json!({
                "id_token": {
                    "age_over_18": null, "name": null,
                    "acr": { "essential": true, "values": ["urn:vneid:acr:level2"] }
                },
                "userinfo": {
                    "age_over_18": null, "email": { "essential": true },
                    "verified_claims": { "verification": { "trust_framework": null }, "claims": { "birthdate": null } }
                }
            })
        );
        assert!(request.claims.asks_userinfo());
        // Without a level there is no acr to insist on.
        let request =
            LoginRequest::without_level(scopes).with_claims(ClaimsRequest::new().essential_acr());
        assert!(request.claims_parameter().is_none());
    }
}
