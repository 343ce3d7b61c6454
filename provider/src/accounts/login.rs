//! Password login with lockout, and the second factor: the logic under the login pages,
//! testable without HTTP.
//!
//! Unknown numbers, wrong passwords and locked accounts come to the same answer after the same
//! work (an argon2 verification each): the login page cannot tell which numbers exist or which
//! are locked. The lock is told to the citizen on the contact on record instead.

use serde_json::json;

use super::second_factor::{self, FactorState, Policy, Verdict};
use super::{password, totp};
use crate::error::AppError;
use crate::metrics::Factor;
use crate::notify::{Channel, Notification};
use crate::state::AppState;
use crate::store::{AccountRow, AuditEvent, OutboxRow};

/// What a password attempt came to.
#[derive(Debug)]
pub enum PasswordOutcome {
    /// Right password, usable account.
    Success(Box<AccountRow>),
    /// Unknown number or wrong password (the page does not say which).
    WrongCredentials,
    /// Locked after too many wrong passwords, until this time. Pages show it exactly like
    /// [`PasswordOutcome::WrongCredentials`]; the citizen was told on the contact on record.
    Locked { until: i64 },
    /// Revoked or otherwise not usable (said only after the right password).
    Disabled,
}

impl PasswordOutcome {
    /// Whether a page must show the one generic refusal (unknown, wrong or locked alike).
    pub fn is_generic_refusal(&self) -> bool {
        matches!(
            self,
            PasswordOutcome::WrongCredentials | PasswordOutcome::Locked { .. }
        )
    }
}

/// Checks a username and password.
pub async fn check_password(
    state: &AppState,
    username: &str,
    pw: &str,
) -> Result<PasswordOutcome, AppError> {
    let now = state.now();
    // Per typed number, before any work: spraying one account from many addresses is slowed
    // even where each address stays under its own limit.
    state
        .limits
        .check(crate::limits::LimitKey::Username(username))?;
    let Some(account) = state.store.account_by_username(username).await? else {
        // Same work as for a real account, so timing does not tell which numbers exist.
        password::verify(pw.to_string(), state.dummy_hash.clone()).await?;
        let event = AuditEvent {
            kind: "login_failed",
            account_id: None,
            client_id: None,
            detail: json!({ "reason": "unknown_account" }),
        };
        state.store.audit(event, now).await?;
        state
            .metrics
            .login(None, Factor::Password, "wrong_credentials");
        return Ok(PasswordOutcome::WrongCredentials);
    };
    let level = Some(account.level);
    if let Some(until) = account.locked_until.filter(|until| *until > now) {
        // The same work as a wrong password (argon2, one write), so timing does not tell the
        // lock either; the password is not even compared while locked.
        password::verify(pw.to_string(), state.dummy_hash.clone()).await?;
        let event = AuditEvent {
            kind: "login_refused_locked",
            account_id: Some(&account.id),
            client_id: None,
            detail: json!({ "until": until }),
        };
        state.store.audit(event, now).await?;
        state.metrics.login(level, Factor::Password, "locked");
        return Ok(PasswordOutcome::Locked { until });
    }
    if !password::verify(pw.to_string(), account.password_hash.clone()).await? {
        let lock_until = now + state.config.lockout_seconds;
        let notice = lock_notice(&account, "password", lock_until, now);
        let locked = state
            .store
            .record_failed_login(
                &account.id,
                state.config.lockout_threshold,
                now,
                lock_until,
                notice.as_ref(),
            )
            .await?;
        if let Some(until) = locked {
            tracing::warn!(account = %account.id, until, "account locked after repeated wrong passwords");
            state.metrics.login(level, Factor::Password, "locked_now");
            return Ok(PasswordOutcome::Locked { until });
        }
        state
            .metrics
            .login(level, Factor::Password, "wrong_credentials");
        return Ok(PasswordOutcome::WrongCredentials);
    }
    if account.status != "active" {
        state.metrics.login(level, Factor::Password, "disabled");
        return Ok(PasswordOutcome::Disabled);
    }
    if account.failed_logins != 0 || account.locked_until.is_some() {
        state.store.record_good_login(&account.id).await?;
    }
    state.metrics.login(level, Factor::Password, "success");
    Ok(PasswordOutcome::Success(Box::new(account)))
}

/// Whether the account has a second factor bound to it.
pub fn has_second_factor(account: &AccountRow) -> bool {
    account.totp_secret.is_some()
}

/// Checks a TOTP code under the second factor's own counter and lock: a code's time step is
/// accepted once only, a locked second factor refuses even the right code, and only a right
/// code resets the counter. (The self-service step-up calls this too.)
pub async fn check_second_factor(
    state: &AppState,
    account: &AccountRow,
    code: &str,
) -> Result<bool, AppError> {
    Ok(second_factor_attempt(state, account, code)
        .await?
        .is_some_and(Verdict::accepted))
}

/// One second-factor attempt, with what it came to (`None`: no second factor is bound).
pub async fn second_factor_attempt(
    state: &AppState,
    account: &AccountRow,
    code: &str,
) -> Result<Option<Verdict>, AppError> {
    let Some(sealed) = account.totp_secret.as_deref() else {
        return Ok(None);
    };
    let secret = state.sealer.open_string(sealed)?;
    let policy = Policy::of(&state.config);
    let verdict = second_factor_apply(state, account, "wrong_code", |before, now| {
        second_factor::attempt(before, totp::check(&secret, code, now), policy, now)
    })
    .await?;
    Ok(Some(verdict))
}

/// Applies one second-factor attempt (a TOTP code, a passkey assertion) decided by `decide`
/// from the stored state and `now`: counter, lock, audit event and lock notice together.
/// `reason` names a wrong answer in the audit trail.
pub async fn second_factor_apply(
    state: &AppState,
    account: &AccountRow,
    reason: &str,
    decide: impl Fn(FactorState, i64) -> Verdict,
) -> Result<Verdict, AppError> {
    // Compare-and-set: if another attempt changed the state meanwhile, decide again from the
    // new state (a handful of rounds is plenty; giving up refuses).
    for _ in 0..8 {
        let now = state.now();
        let Some(row) = state.store.second_factor_state(&account.id).await? else {
            return Ok(Verdict::Refused { failures: 0 });
        };
        let before = FactorState::from(row);
        let verdict = decide(before, now);
        let Some(after) = verdict.next(before) else {
            let event = AuditEvent {
                kind: "second_factor_refused_locked",
                account_id: Some(&account.id),
                client_id: None,
                detail: json!({}),
            };
            state.store.audit(event, now).await?;
            state.metrics.second_factor_failure("locked");
            state
                .metrics
                .login(Some(account.level), Factor::SecondFactor, "locked");
            return Ok(verdict);
        };
        let (event, notice) = match verdict {
            Verdict::Refused { failures } => (
                Some(AuditEvent {
                    kind: "second_factor_failed",
                    account_id: Some(&account.id),
                    client_id: None,
                    detail: json!({ "reason": reason, "failures": failures }),
                }),
                None,
            ),
            Verdict::LockedNow { until } => (
                Some(AuditEvent {
                    kind: "second_factor_locked",
                    account_id: Some(&account.id),
                    client_id: None,
                    detail: json!({ "reason": reason, "until": until }),
                }),
                lock_notice(account, "second_factor", until, now),
            ),
            Verdict::Accepted { .. } | Verdict::StillLocked { .. } => (None, None),
        };
        if state
            .store
            .apply_second_factor(
                &account.id,
                before.into(),
                after.into(),
                event,
                notice.as_ref(),
                now,
            )
            .await?
        {
            if let Verdict::LockedNow { until } = verdict {
                tracing::warn!(account = %account.id, until, "second factor locked after repeated wrong codes");
            }
            let outcome = match verdict {
                Verdict::Accepted { .. } => "success",
                Verdict::Refused { .. } => "wrong_code",
                Verdict::LockedNow { .. } => "locked_now",
                Verdict::StillLocked { .. } => "locked",
            };
            if !verdict.accepted() {
                state.metrics.second_factor_failure("wrong_code");
            }
            state
                .metrics
                .login(Some(account.level), Factor::SecondFactor, outcome);
            return Ok(verdict);
        }
    }
    Ok(Verdict::Refused { failures: 0 })
}

/// The notice of a lock, to the contact on record (the phone first, else the email); none when
/// the account has no contact.
fn lock_notice(account: &AccountRow, what: &str, until: i64, now: i64) -> Option<OutboxRow> {
    let (channel, recipient) = match (&account.phone_number, &account.email) {
        (Some(phone), _) => (Channel::Sms, phone.as_str()),
        (None, Some(email)) => (Channel::Email, email.as_str()),
        (None, None) => return None,
    };
    let (body, kind) = if what == "password" {
        (
            format!(
                "VNeID: tai khoan dinh danh dien tu cua ban tam khoa den {} do nhap sai mat khau nhieu lan. Neu khong phai ban, hay doi mat khau. / Your account is locked until {} after repeated wrong passwords.",
                local_time(until),
                local_time(until)
            ),
            "account_locked",
        )
    } else {
        (
            format!(
                "VNeID: xac thuc muc 2 cua ban tam khoa den {} do nhap sai ma nhieu lan. Neu khong phai ban, hay doi mat khau ngay. / Your second factor is locked until {} after repeated wrong codes; if this was not you, change your password now.",
                local_time(until),
                local_time(until)
            ),
            "second_factor_locked",
        )
    };
    Some(
        Notification {
            channel,
            recipient,
            subject: "VNeID",
            body,
            kind,
            account_id: Some(&account.id),
            secret: false,
        }
        .plain_row(now),
    )
}

/// Vietnam time (UTC+7), as a citizen reads it.
pub fn local_time(unix: i64) -> String {
    let offset = time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(|t| t.to_offset(offset))
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[hour]:[minute] [day]/[month]/[year]"
            ))
            .ok()
        })
        .unwrap_or_default()
}
