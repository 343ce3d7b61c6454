//! An officer's login at the desk: the password and the TOTP code, each with its own failure
//! counter and lock. A wrong password counts on the password's counter; with the right password
//! the code's attempt is counted on the second factor's own counter before it is checked, and
//! only a correct code resets it. Every refusal looks the same to the person at the keyboard
//! (unknown officer, wrong password, wrong code, either lock) and costs the same password hash;
//! the audit log has the reason.

use serde_json::json;

use crate::accounts::desk::{LoginStep, Officer, login_step};
use crate::accounts::{password, totp};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::AuditEvent;

/// What the login form carried.
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: String,
    pub otp: &'a str,
    /// The terminal's user agent, for the audit log.
    pub user_agent: &'a str,
}

fn event(kind: &'static str, detail: serde_json::Value) -> AuditEvent<'static> {
    AuditEvent {
        kind,
        account_id: None,
        client_id: None,
        detail,
    }
}

/// The officer, when the password and the code are both right and nothing is locked.
pub async fn login(state: &AppState, c: Credentials<'_>) -> Result<Option<Officer>, AppError> {
    let now = state.now();
    let threshold = state.config.lockout_threshold;
    let lock_until = now + state.config.lockout_seconds;
    let row = state.store.officer_by_username(c.username.trim()).await?;
    let hash = row
        .as_ref()
        .map(|r| r.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let password_ok = password::verify(c.password, hash).await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let officer = match Officer::try_from(&row) {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "officer refused");
            return Ok(None);
        }
    };
    let who = json!({ "officer": officer.id.as_str(), "station": officer.station, "user_agent": c.user_agent });
    let with = |extra: serde_json::Value| {
        let mut all = who.clone();
        if let (Some(all), serde_json::Value::Object(extra)) = (all.as_object_mut(), extra) {
            all.extend(extra);
        }
        all
    };
    match login_step(&officer, password_ok, now) {
        LoginStep::PasswordLocked => {
            let detail = with(json!({ "reason": "password_locked" }));
            state
                .store
                .audit(event("desk_login_refused", detail), now)
                .await?;
            Ok(None)
        }
        LoginStep::WrongPassword => {
            let failures = state
                .store
                .officer_failed_login(officer.id.as_str(), threshold, lock_until)
                .await?;
            let detail = with(json!({ "reason": "password", "failures": failures }));
            state
                .store
                .audit(event("desk_login_failed", detail), now)
                .await?;
            if failures >= threshold {
                let detail = with(json!({ "until": lock_until }));
                state
                    .store
                    .audit(event("desk_password_locked", detail), now)
                    .await?;
            }
            Ok(None)
        }
        LoginStep::CheckCode => {
            let Some(failures) = state
                .store
                .officer_code_attempt(officer.id.as_str(), threshold, lock_until, now)
                .await?
            else {
                let detail = with(json!({ "reason": "second_factor_locked" }));
                state
                    .store
                    .audit(event("desk_login_refused", detail), now)
                    .await?;
                return Ok(None);
            };
            let secret = state.sealer.open_string(&row.totp_secret)?;
            let accepted = match totp::check(&secret, c.otp, now) {
                Some(step) => {
                    state
                        .store
                        .officer_totp_step(officer.id.as_str(), step)
                        .await?
                }
                None => false,
            };
            if accepted {
                state
                    .store
                    .audit(event("desk_login", with(json!({}))), now)
                    .await?;
                tracing::info!(officer = %officer.id, "officer logged in at the desk");
                return Ok(Some(officer));
            }
            let detail = with(json!({ "reason": "code", "failures": failures }));
            state
                .store
                .audit(event("desk_login_failed", detail), now)
                .await?;
            if failures >= threshold {
                let detail = with(json!({ "failures": failures, "until": lock_until }));
                state
                    .store
                    .audit(event("desk_second_factor_locked", detail), now)
                    .await?;
                tracing::warn!(officer = %officer.id, "an officer's second factor is locked");
            }
            Ok(None)
        }
    }
}
