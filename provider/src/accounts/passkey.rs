//! Passkeys (WebAuthn, through `webauthn-rs`) as the Level 2 possession factor: enrolled from a
//! Level 2 session, used instead of the TOTP code at the second-factor step.
//!
//! Every ceremony has two requests; its state waits in the database between them (several
//! processes share one database), under the hash of an id the page carries, bound to the
//! account and the browser session that started it, and is taken once. A failed assertion
//! counts on the second factor's own counter and lock ([`super::second_factor`]).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;
use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PasskeyAuthentication, PasskeyRegistration,
    PublicKeyCredential, RegisterPublicKeyCredential, RequestChallengeResponse, Uuid, Webauthn,
    WebauthnBuilder,
};

use super::login::second_factor_apply;
use super::second_factor::{self, FactorState, Verdict};
use crate::config::Config;
use crate::error::AppError;
use crate::secret;
use crate::state::AppState;
use crate::store::{AccountRow, AuditEvent, CeremonyKind, NewPasskey, PasskeyUse, StoreError};

/// How long a ceremony waits for the authenticator (the page's two requests), in seconds.
pub const CEREMONY_SECONDS: i64 = 300;
/// Passkeys one account may hold.
pub const MAX_PER_ACCOUNT: i64 = 10;
/// The longest name a citizen may give a passkey.
pub const MAX_NAME_CHARS: usize = 60;

/// `[passkeys]`: the WebAuthn relying party. Both default from the issuer; on a loopback issuer
/// given as an IP address the host becomes `localhost` (WebAuthn refuses IP addresses).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PasskeyConfig {
    /// The relying party id: a registrable domain suffix of the origin.
    pub rp_id: Option<String>,
    /// The origin the browser reports (scheme, host, port).
    pub origin: Option<Url>,
}

/// The relying party: the origin and id passkeys are bound to.
pub fn relying_party(config: &Config) -> Result<(String, Url), PasskeyError> {
    let mut origin = match &config.passkeys.origin {
        Some(origin) => origin.clone(),
        None => {
            let mut origin = config.issuer.clone();
            origin.set_path("");
            origin
        }
    };
    if origin.domain().is_none() {
        origin
            .set_host(Some("localhost"))
            .map_err(|_| PasskeyError::Configuration)?;
    }
    let rp_id = match &config.passkeys.rp_id {
        Some(id) => id.clone(),
        None => origin
            .domain()
            .ok_or(PasskeyError::Configuration)?
            .to_string(),
    };
    Ok((rp_id, origin))
}

/// The `webauthn-rs` handle for this configuration.
pub fn webauthn(config: &Config) -> Result<Webauthn, PasskeyError> {
    let (rp_id, origin) = relying_party(config)?;
    WebauthnBuilder::new(&rp_id, &origin)
        .and_then(|b| b.rp_name("VNeID").build())
        .map_err(|_| PasskeyError::Configuration)
}

/// Why a passkey ceremony did not go through.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// `[passkeys]` (or the issuer) does not make a WebAuthn relying party.
    #[error("the passkey relying party is misconfigured")]
    Configuration,
    /// Only a Level 2 account, in a Level 2 session, may enrol or use a passkey.
    #[error("passkeys need a Level 2 account")]
    NotLevel2,
    /// The account holds as many passkeys as allowed.
    #[error("too many passkeys")]
    TooMany,
    /// The account has no passkey to prove.
    #[error("no passkey is bound")]
    NoPasskey,
    /// The ceremony is unknown, used, expired, or belongs to another account or browser.
    #[error("unknown, used or foreign ceremony")]
    NoCeremony,
    /// The authenticator's answer is malformed or does not verify.
    #[error("the authenticator's answer was refused")]
    Refused,
    /// The passkey is bound already.
    #[error("this passkey is bound already")]
    Duplicate,
    /// The database or stored state failed.
    #[error(transparent)]
    App(#[from] AppError),
}

impl From<StoreError> for PasskeyError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate(_) => PasskeyError::Duplicate,
            other => PasskeyError::App(other.into()),
        }
    }
}

impl From<serde_json::Error> for PasskeyError {
    fn from(err: serde_json::Error) -> Self {
        PasskeyError::App(err.into())
    }
}

/// A ceremony begun: the id the page sends back, and the options for
/// `navigator.credentials.create()` or `.get()` (JSON, binary fields in base64url).
#[derive(Debug, Clone)]
pub struct Started {
    pub ceremony: String,
    pub options: String,
}

/// The user handle: stable per account, and not the account id itself.
fn user_handle(account_id: &str) -> Uuid {
    let digest = Sha256::digest(format!("vneid-passkey-user:{account_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn credential_id(passkey: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice())
}

/// The passkeys bound to an account, with their stored counters.
async fn bound(state: &AppState, account_id: &str) -> Result<Vec<(Passkey, i64)>, PasskeyError> {
    let mut out = Vec::new();
    for row in state.store.passkeys(account_id).await? {
        out.push((serde_json::from_str(&row.credential)?, row.counter));
    }
    Ok(out)
}

/// Begins binding a new passkey to a Level 2 account, from a Level 2 session.
pub async fn start_registration(
    state: &AppState,
    account: &AccountRow,
    session_hash: &str,
    session_level2: bool,
) -> Result<Started, PasskeyError> {
    if account.level < 2 || !session_level2 {
        return Err(PasskeyError::NotLevel2);
    }
    let existing = bound(state, &account.id).await?;
    if existing.len() as i64 >= MAX_PER_ACCOUNT {
        return Err(PasskeyError::TooMany);
    }
    let exclude = existing.iter().map(|(p, _)| p.cred_id().clone()).collect();
    let (options, registration): (CreationChallengeResponse, PasskeyRegistration) =
        webauthn(&state.config)?
            .start_passkey_registration(
                user_handle(&account.id),
                &account.username,
                &account.username,
                Some(exclude),
            )
            .map_err(|_| PasskeyError::Refused)?;
    let ceremony = keep(
        state,
        CeremonyKind::Register,
        &account.id,
        session_hash,
        &serde_json::to_string(&registration)?,
    )
    .await?;
    Ok(Started {
        ceremony,
        options: serde_json::to_string(&options)?,
    })
}

/// Finishes binding: the ceremony must be this account's and this session's, the answer must
/// verify. Audited (`passkey_enrolled`) in the same transaction as the binding.
pub async fn finish_registration(
    state: &AppState,
    account: &AccountRow,
    session_hash: &str,
    ceremony: &str,
    credential: &str,
    name: &str,
) -> Result<(), PasskeyError> {
    let registration: PasskeyRegistration = take(
        state,
        CeremonyKind::Register,
        &account.id,
        session_hash,
        ceremony,
    )
    .await?;
    if account.level < 2 {
        return Err(PasskeyError::NotLevel2);
    }
    let answer: RegisterPublicKeyCredential =
        serde_json::from_str(credential).map_err(|_| PasskeyError::Refused)?;
    let passkey = webauthn(&state.config)?
        .finish_passkey_registration(&answer, &registration)
        .map_err(|err| {
            tracing::info!(account = %account.id, error = %err, "passkey registration refused");
            PasskeyError::Refused
        })?;
    if state.store.passkey_count(&account.id).await? >= MAX_PER_ACCOUNT {
        return Err(PasskeyError::TooMany);
    }
    let name = clean_name(name);
    let credential_id = credential_id(&passkey);
    let event = AuditEvent {
        kind: "passkey_enrolled",
        account_id: Some(&account.id),
        client_id: None,
        detail: json!({ "name": name, "credential_id": credential_id, "by": "self_service" }),
    };
    state
        .store
        .insert_passkey(
            &NewPasskey {
                account_id: &account.id,
                credential_id: &credential_id,
                credential: &serde_json::to_string(&passkey)?,
                counter: 0,
                name: &name,
            },
            event,
            state.now(),
        )
        .await?;
    tracing::info!(account = %account.id, "passkey enrolled");
    Ok(())
}

/// The name a citizen gave, trimmed and bounded; a default when empty.
fn clean_name(name: &str) -> String {
    let name: String = name
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    if name.is_empty() {
        "Passkey".into()
    } else {
        name
    }
}

/// Removes a passkey of the account (audited as `passkey_removed`); `false` if it had none.
pub async fn remove(state: &AppState, account_id: &str, id: &str) -> Result<bool, PasskeyError> {
    let event = AuditEvent {
        kind: "passkey_removed",
        account_id: Some(account_id),
        client_id: None,
        detail: json!({ "passkey": id }),
    };
    Ok(state
        .store
        .remove_passkey(account_id, id, event, state.now())
        .await?)
}

/// Begins a second-factor proof with one of the account's passkeys. A locked second factor
/// refuses before any challenge is made.
pub async fn start_authentication(
    state: &AppState,
    account: &AccountRow,
    session_hash: &str,
) -> Result<Result<Started, Verdict>, PasskeyError> {
    if account.level < 2 {
        return Err(PasskeyError::NotLevel2);
    }
    if let Some(row) = state.store.second_factor_state(&account.id).await? {
        let now = state.now();
        if let Some(until) = FactorState::from(row).locked_at(now) {
            return Ok(Err(Verdict::StillLocked { until }));
        }
    }
    let passkeys: Vec<Passkey> = bound(state, &account.id)
        .await?
        .into_iter()
        .map(|(p, _)| p)
        .collect();
    if passkeys.is_empty() {
        return Err(PasskeyError::NoPasskey);
    }
    let (options, authentication): (RequestChallengeResponse, PasskeyAuthentication) =
        webauthn(&state.config)?
            .start_passkey_authentication(&passkeys)
            .map_err(|_| PasskeyError::Refused)?;
    let ceremony = keep(
        state,
        CeremonyKind::Authenticate,
        &account.id,
        session_hash,
        &serde_json::to_string(&authentication)?,
    )
    .await?;
    Ok(Ok(Started {
        ceremony,
        options: serde_json::to_string(&options)?,
    }))
}

/// Whether a signature counter may follow the stored one: it must grow, unless the
/// authenticator keeps none (both 0, as synced passkeys do). A counter that stands still or
/// goes back means a cloned authenticator or a replayed assertion.
pub fn counter_ok(stored: i64, presented: i64) -> bool {
    (stored == 0 && presented == 0) || presented > stored
}

/// The verdict of a passkey attempt on the second factor's state: a right assertion is
/// accepted (the TOTP step is left as it is) unless the factor is locked; a wrong one counts
/// like a wrong code.
pub fn verdict(
    state: FactorState,
    verified: bool,
    policy: second_factor::Policy,
    now: i64,
) -> Verdict {
    if verified && state.locked_at(now).is_none() {
        Verdict::Accepted {
            step: state.last_step,
        }
    } else {
        second_factor::attempt(state, None, policy, now)
    }
}

/// Finishes a second-factor proof. The ceremony must be this account's and this session's;
/// then the assertion is checked, the counter compared-and-set, and the outcome applied to the
/// second factor's counter and lock. `Ok(verdict)` for every answer that reached the check.
pub async fn finish_authentication(
    state: &AppState,
    account: &AccountRow,
    session_hash: &str,
    ceremony: &str,
    credential: &str,
) -> Result<Verdict, PasskeyError> {
    let authentication: PasskeyAuthentication = take(
        state,
        CeremonyKind::Authenticate,
        &account.id,
        session_hash,
        ceremony,
    )
    .await?;
    if account.level < 2 {
        return Err(PasskeyError::NotLevel2);
    }
    let verified = match serde_json::from_str::<PublicKeyCredential>(credential) {
        Ok(answer) => {
            match webauthn(&state.config)?.finish_passkey_authentication(&answer, &authentication) {
                Ok(result) => record_use(state, &account.id, &result).await?,
                Err(err) => {
                    tracing::info!(account = %account.id, error = %err, "passkey assertion refused");
                    false
                }
            }
        }
        Err(_) => false,
    };
    let verdict = second_factor_apply(state, account, "wrong_passkey", |before, now| {
        verdict(
            before,
            verified,
            second_factor::Policy::of(&state.config),
            now,
        )
    })
    .await?;
    if verdict.accepted() {
        let event = AuditEvent {
            kind: "passkey_used",
            account_id: Some(&account.id),
            client_id: None,
            detail: json!({}),
        };
        state.store.audit(event, state.now()).await?;
    }
    Ok(verdict)
}

/// Stores the credential's new state; `false` when the counter did not grow past the stored
/// one or the passkey went meanwhile.
async fn record_use(
    state: &AppState,
    account_id: &str,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<bool, PasskeyError> {
    let id = URL_SAFE_NO_PAD.encode(result.cred_id().as_slice());
    let Some(row) = state
        .store
        .passkeys(account_id)
        .await?
        .into_iter()
        .find(|p| p.credential_id == id)
    else {
        return Ok(false);
    };
    let presented = i64::from(result.counter());
    if !counter_ok(row.counter, presented) {
        tracing::warn!(account = %account_id, stored = row.counter, presented, "passkey counter did not grow: refused");
        return Ok(false);
    }
    let mut passkey: Passkey = serde_json::from_str(&row.credential)?;
    passkey.update_credential(result);
    let used = PasskeyUse {
        account_id,
        credential_id: &id,
        credential: &serde_json::to_string(&passkey)?,
        counter_before: row.counter,
        counter_after: presented,
    };
    Ok(state.store.use_passkey(&used, state.now()).await?)
}

async fn keep(
    state: &AppState,
    kind: CeremonyKind,
    account_id: &str,
    session_hash: &str,
    ceremony_state: &str,
) -> Result<String, PasskeyError> {
    let id = secret::new_bearer();
    let now = state.now();
    state
        .store
        .insert_ceremony(
            &secret::hash(&id),
            kind,
            account_id,
            session_hash,
            ceremony_state,
            now + CEREMONY_SECONDS,
        )
        .await?;
    Ok(id)
}

/// Takes the ceremony (it is gone whatever follows) and checks whose it is.
async fn take<T: serde::de::DeserializeOwned>(
    state: &AppState,
    kind: CeremonyKind,
    account_id: &str,
    session_hash: &str,
    ceremony: &str,
) -> Result<T, PasskeyError> {
    if ceremony.is_empty() || ceremony.len() > 64 {
        return Err(PasskeyError::NoCeremony);
    }
    let Some(row) = state
        .store
        .take_ceremony(&secret::hash(ceremony), kind, state.now())
        .await?
    else {
        return Err(PasskeyError::NoCeremony);
    };
    if !secret::equal(&row.account_id, account_id)
        || !secret::equal(&row.session_hash, session_hash)
    {
        tracing::warn!(account = %account_id, "a passkey ceremony of another account or browser was presented");
        return Err(PasskeyError::NoCeremony);
    }
    Ok(serde_json::from_str(&row.state)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: second_factor::Policy = second_factor::Policy {
        threshold: 3,
        lock_seconds: 600,
    };

    fn fresh() -> FactorState {
        FactorState {
            failures: 0,
            locked_until: None,
            last_step: 42,
        }
    }

    #[test]
    fn the_counter_must_grow_unless_the_authenticator_keeps_none() {
        assert!(counter_ok(0, 0));
        assert!(counter_ok(0, 1));
        assert!(counter_ok(5, 6));
        assert!(
            !counter_ok(5, 5),
            "a counter that stands still is a clone or a replay"
        );
        assert!(!counter_ok(5, 4));
        assert!(
            !counter_ok(5, 0),
            "a counter that falls back to 0 is refused too"
        );
    }

    #[test]
    fn a_good_assertion_keeps_the_totp_step_and_a_bad_one_counts() {
        assert_eq!(
            verdict(fresh(), true, POLICY, 1000),
            Verdict::Accepted { step: 42 }
        );
        assert_eq!(
            verdict(fresh(), false, POLICY, 1000),
            Verdict::Refused { failures: 1 }
        );
        let two = FactorState {
            failures: 2,
            ..fresh()
        };
        assert_eq!(
            verdict(two, false, POLICY, 1000),
            Verdict::LockedNow { until: 1600 }
        );
    }

    #[test]
    fn a_locked_second_factor_refuses_even_a_good_assertion() {
        let locked = FactorState {
            locked_until: Some(2000),
            ..fresh()
        };
        assert_eq!(
            verdict(locked, true, POLICY, 1000),
            Verdict::StillLocked { until: 2000 }
        );
    }

    #[test]
    fn names_are_trimmed_bounded_and_defaulted() {
        assert_eq!(clean_name("  my phone \n"), "my phone");
        assert_eq!(clean_name(""), "Passkey");
        assert_eq!(clean_name(&"x".repeat(200)).chars().count(), MAX_NAME_CHARS);
    }
}
