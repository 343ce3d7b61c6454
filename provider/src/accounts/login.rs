//! Password login with lockout, and the second factor: the logic under the login pages,
//! testable without HTTP.

use serde_json::json;

use super::{password, totp};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::{AccountRow, AuditEvent};

/// What a password attempt came to.
#[derive(Debug)]
pub enum PasswordOutcome {
    /// Right password, usable account.
    Success(Box<AccountRow>),
    /// Unknown number or wrong password (the page does not say which).
    WrongCredentials,
    /// Locked after too many wrong passwords, until this time.
    Locked { until: i64 },
    /// Revoked or otherwise not usable.
    Disabled,
}

/// Checks a username and password.
pub async fn check_password(
    state: &AppState,
    username: &str,
    pw: &str,
) -> Result<PasswordOutcome, AppError> {
    let now = state.now();
    let Some(account) = state.store.account_by_username(username).await? else {
        // Same work as for a real account, so timing does not tell which numbers exist.
        password::verify(pw.to_string(), state.dummy_hash.clone()).await?;
        return Ok(PasswordOutcome::WrongCredentials);
    };
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        return Ok(PasswordOutcome::Locked { until });
    }
    if !password::verify(pw.to_string(), account.password_hash.clone()).await? {
        let lock_until = now + state.config.lockout_seconds;
        let locked = state
            .store
            .record_failed_login(&account.id, state.config.lockout_threshold, now, lock_until)
            .await?;
        let kind = if locked.is_some() {
            "account_locked"
        } else {
            "login_failed"
        };
        let event = AuditEvent {
            kind,
            account_id: Some(&account.id),
            client_id: None,
            detail: json!({ "reason": "wrong_password" }),
        };
        state.store.audit(event, now).await?;
        if let Some(until) = locked {
            tracing::warn!(account = %account.id, until, "account locked after repeated wrong passwords");
            return Ok(PasswordOutcome::Locked { until });
        }
        return Ok(PasswordOutcome::WrongCredentials);
    }
    if account.status != "active" {
        return Ok(PasswordOutcome::Disabled);
    }
    if account.failed_logins != 0 || account.locked_until.is_some() {
        state.store.record_good_login(&account.id).await?;
    }
    Ok(PasswordOutcome::Success(Box::new(account)))
}

/// Whether the account has a second factor bound to it.
pub fn has_second_factor(account: &AccountRow) -> bool {
    account.totp_secret.is_some()
}

/// Checks a TOTP code; a code's time step is accepted once only.
pub async fn check_second_factor(
    state: &AppState,
    account: &AccountRow,
    code: &str,
) -> Result<bool, AppError> {
    let Some(sealed) = account.totp_secret.as_deref() else {
        return Ok(false);
    };
    let secret = state.sealer.open_string(sealed)?;
    let now = state.now();
    if let Some(step) = totp::check(&secret, code, now)
        && state.store.use_totp_step(&account.id, step).await?
    {
        return Ok(true);
    }
    // Wrong codes count towards the lock like wrong passwords: six digits are guessable.
    let locked = state
        .store
        .record_failed_login(
            &account.id,
            state.config.lockout_threshold,
            now,
            now + state.config.lockout_seconds,
        )
        .await?;
    let kind = if locked.is_some() {
        "account_locked"
    } else {
        "second_factor_failed"
    };
    let event = AuditEvent {
        kind,
        account_id: Some(&account.id),
        client_id: None,
        detail: json!({ "reason": "wrong_code" }),
    };
    state.store.audit(event, now).await?;
    Ok(false)
}
