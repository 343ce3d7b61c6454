//! What a login needs next: one pure decision shared by `/authorize` (for `prompt=none` and the
//! fast path of a returning citizen) and the interaction pages.

use std::collections::BTreeSet;

use vneid_contract::{AuthMethod, Level};

use super::authorize::AuthorizationRequest;
use super::types::Prompt;
use crate::accounts::consent::{self, ConsentItem, Granted};

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
    /// The password was sent by SMS and must be changed before anything else.
    pub must_change_password: bool,
    /// The session id of ID tokens (`sid`, OpenID Connect Back-Channel Logout 1.0).
    pub sid: Option<String>,
}

/// The next step of a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Ask for the identification number and password.
    Login,
    /// The first password came by SMS: choose a new one.
    ChangePassword,
    /// Ask for the second factor (first login at level 2, or step-up).
    SecondFactor,
    /// The account cannot reach the level asked for: explain how to get Level 2.
    Level2Needed,
    /// Ask the citizen to consent to the release.
    Consent,
    /// Nothing left to ask: issue the code.
    Issue,
}

/// What a grant of this request to this login releases (the items a consent page lists).
pub fn released_items(request: &AuthorizationRequest, auth: &SessionAuth) -> BTreeSet<ConsentItem> {
    consent::released_items(&request.scopes, &request.claims, auth.level, auth.kind)
}

/// What of this request the citizen has not agreed to yet (everything with `prompt=consent`).
pub fn consent_needed(
    request: &AuthorizationRequest,
    auth: &SessionAuth,
    granted: &Granted,
) -> BTreeSet<ConsentItem> {
    let released = released_items(request, auth);
    if request.prompts(Prompt::Consent) {
        return released;
    }
    consent::not_covered(&released, granted, auth.level)
}

/// Decides the next step. `granted` is what the citizen agreed to give this client so far.
pub fn next_step(
    request: &AuthorizationRequest,
    login_done: bool,
    auth: Option<&SessionAuth>,
    granted: &Granted,
    now: i64,
) -> Step {
    let Some(auth) = auth else { return Step::Login };
    if !login_done {
        let forced = request.prompts(Prompt::Login) || request.prompts(Prompt::SelectAccount);
        // `max_age=0` is `prompt=login` (Core 3.1.2.1), even within the second of the login.
        let too_old = request
            .max_age
            .is_some_and(|max| max == 0 || now - auth.auth_time > max);
        let other_person = request
            .login_hint
            .as_deref()
            .is_some_and(|hint| hint != auth.username);
        if forced || too_old || other_person {
            return Step::Login;
        }
    }
    if auth.must_change_password {
        return Step::ChangePassword;
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
    if !consent_needed(request, auth, granted).is_empty() {
        return Step::Consent;
    }
    Step::Issue
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oidc::claims_request::ClaimsRequest;
    use crate::oidc::types::{ClientId, CodeChallenge, RedirectUri};
    use vneid_contract::{AccountKind, ScopeSet};

    fn request(level: Level, prompts: Vec<Prompt>, max_age: Option<i64>) -> AuthorizationRequest {
        AuthorizationRequest {
            client_id: ClientId::parse("c").unwrap(),
            redirect_uri: RedirectUri::parse("https://rp.example/cb").unwrap(),
            scopes: ScopeSet::parse("openid profile").unwrap(),
            state: None,
            nonce: None,
            code_challenge: CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
                .unwrap(),
            required_level: level,
            claims: ClaimsRequest::default(),
            prompts,
            max_age,
            login_hint: None,
            ui_lang: None,
            dpop_jkt: None,
        }
    }

    fn auth(level: Level, account_level: Level, has_second_factor: bool) -> SessionAuth {
        SessionAuth {
            account_id: "a".into(),
            username: "079198000002".into(),
            level,
            amr: vec![AuthMethod::Pwd],
            auth_time: 1000,
            account_level,
            has_second_factor,
            kind: AccountKind::Citizen,
            must_change_password: false,
            sid: None,
        }
    }

    /// Everything a `openid profile email` request releases, agreed at `level`.
    fn agreed(level: Level) -> Granted {
        let scopes = ScopeSet::parse("openid profile email").unwrap();
        let mut g = Granted::none();
        for item in consent::released_items(
            &scopes,
            &ClaimsRequest::default(),
            level,
            AccountKind::Citizen,
        ) {
            g.add(item, level);
        }
        g
    }

    #[test]
    fn the_next_step_follows_the_contract() {
        let granted = agreed(Level::Level1);
        let none = Granted::none();
        let l1 = request(Level::Level1, vec![], None);
        let l2 = request(Level::Level2, vec![], None);
        let l1_of_l2 = auth(Level::Level1, Level::Level2, true);
        assert_eq!(next_step(&l1, false, None, &none, 2000), Step::Login);
        assert_eq!(
            next_step(&l1, false, Some(&l1_of_l2), &none, 2000),
            Step::Consent
        );
        assert_eq!(
            next_step(&l1, false, Some(&l1_of_l2), &granted, 2000),
            Step::Issue
        );
        assert_eq!(
            next_step(&l2, false, Some(&l1_of_l2), &granted, 2000),
            Step::SecondFactor
        );
        let level1_account = auth(Level::Level1, Level::Level1, false);
        assert_eq!(
            next_step(&l2, false, Some(&level1_account), &granted, 2000),
            Step::Level2Needed
        );
        let no_factor = auth(Level::Level1, Level::Level2, false);
        assert_eq!(
            next_step(&l2, false, Some(&no_factor), &granted, 2000),
            Step::Level2Needed
        );
        let at_l2 = auth(Level::Level2, Level::Level2, true);
        assert_eq!(
            next_step(&l1, false, Some(&at_l2), &granted, 2000),
            Step::Issue,
            "level 2 satisfies level 1, and the same claims need no new consent"
        );
    }

    #[test]
    fn consent_covers_what_was_shown_not_the_scope_names() {
        let at_l2 = auth(Level::Level2, Level::Level2, true);
        let mut documents = request(Level::Level2, vec![], None);
        documents.scopes = ScopeSet::parse("openid profile documents").unwrap();
        // Agreed at Level 1 to `openid profile documents`: the documents were not shown.
        let l1 = auth(Level::Level1, Level::Level2, true);
        let mut g = Granted::none();
        for item in released_items(&documents, &l1) {
            g.add(item, Level::Level1);
        }
        assert_eq!(
            next_step(&documents, false, Some(&at_l2), &g, 2000),
            Step::Consent
        );
        assert_eq!(
            consent_needed(&documents, &at_l2, &g),
            BTreeSet::from([ConsentItem::Claim(vneid_contract::Claim::Documents)])
        );
        let mut verified = request(Level::Level1, vec![], None);
        verified.claims.verified_claims = true;
        assert_eq!(
            next_step(&verified, false, Some(&at_l2), &agreed(Level::Level2), 2000),
            Step::Consent
        );
    }

    #[test]
    fn prompts_and_max_age_force_a_login_until_one_is_done() {
        let granted = agreed(Level::Level1);
        let a = auth(Level::Level1, Level::Level1, false);
        let forced = request(Level::Level1, vec![Prompt::Login], None);
        assert_eq!(
            next_step(&forced, false, Some(&a), &granted, 2000),
            Step::Login
        );
        assert_eq!(
            next_step(&forced, true, Some(&a), &granted, 2000),
            Step::Issue
        );
        let old = request(Level::Level1, vec![], Some(500));
        assert_eq!(
            next_step(&old, false, Some(&a), &granted, 2000),
            Step::Login
        );
        assert_eq!(
            next_step(&old, false, Some(&a), &granted, 1400),
            Step::Issue
        );
        let zero = request(Level::Level1, vec![], Some(0));
        assert_eq!(
            next_step(&zero, false, Some(&a), &granted, 1000),
            Step::Login,
            "max_age=0 forces a login even in the second of the last one"
        );
        assert_eq!(
            next_step(&zero, true, Some(&a), &granted, 1000),
            Step::Issue
        );
        let consent = request(Level::Level1, vec![Prompt::Consent], None);
        assert_eq!(
            next_step(&consent, false, Some(&a), &granted, 2000),
            Step::Consent
        );
    }
}
