//! What a login needs next: one pure decision shared by `/authorize` (for `prompt=none` and the
//! fast path of a returning citizen) and the interaction pages.

use vneid_contract::{AuthMethod, Level, ScopeSet};

use super::authorize::AuthorizationRequest;
use super::types::Prompt;

/// The login state a browser session carries.
#[derive(Debug, Clone)]
pub struct SessionAuth {
    pub account_id: String,
    pub username: String,
    pub level: Level,
    pub amr: Vec<AuthMethod>,
    pub auth_time: i64,
    /// The account's own level (what it could reach), and whether a second factor is bound.
    pub account_level: Level,
    pub has_second_factor: bool,
    /// Citizen, foreigner or organisation.
    pub kind: vneid_contract::AccountKind,
}

/// The next step of a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ask for the identification number and password.
    Login,
    /// Ask for the second factor (first login at level 2, or step-up).
    SecondFactor,
    /// The account cannot reach the level asked for: explain how to get Level 2.
    Level2Needed,
    /// Ask the citizen to consent to the release.
    Consent,
    /// Nothing left to ask: issue the code.
    Issue,
}

/// Decides the next step.
pub fn next_step(
    request: &AuthorizationRequest,
    login_done: bool,
    auth: Option<&SessionAuth>,
    consent: Option<&ScopeSet>,
    now: i64,
) -> Step {
    let Some(auth) = auth else { return Step::Login };
    if !login_done {
        let forced = request.prompts(Prompt::Login) || request.prompts(Prompt::SelectAccount);
        let too_old = request
            .max_age
            .is_some_and(|max| now - auth.auth_time > max);
        let other_person = request
            .login_hint
            .as_deref()
            .is_some_and(|hint| hint != auth.username);
        if forced || too_old || other_person {
            return Step::Login;
        }
    }
    if !auth.level.satisfies(request.required_level) {
        let can_step_up =
            auth.account_level.satisfies(request.required_level) && auth.has_second_factor;
        return if can_step_up {
            Step::SecondFactor
        } else {
            Step::Level2Needed
        };
    }
    let covered = consent.is_some_and(|granted| request.scopes.is_subset(granted));
    if request.prompts(Prompt::Consent) || !covered {
        return Step::Consent;
    }
    Step::Issue
}
