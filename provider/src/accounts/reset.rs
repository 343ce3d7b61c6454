//! Password reset by a code sent to the phone number on record: how many codes an
//! identification number may be sent, and how many codes may be tried, per hour and per day.
//!
//! The budget is counted per identification number asked for, across codes: a new code does not
//! start a new count, so asking for more codes buys no more guesses. A number without an
//! account has a budget too, so the answers and the work are the same whether it exists or not.
//! The budget is spent by compare-and-swap on a versioned row ([`spend`]): concurrent requests
//! never spend more than it holds.

use serde::Deserialize;

use super::account::Account;
use crate::store::{ResetBudgetRow, Store, StoreError};

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;

/// How long a reset code lives, in seconds.
pub const CODE_LIFETIME: i64 = 600;

/// The stored purpose of a reset code.
pub const PURPOSE: &str = "password_reset";

/// How often a compare-and-swap is retried before the request is refused (fail closed: under
/// heavy contention an attempt is refused, never counted twice or let through uncounted).
const MAX_SWAPS: usize = 64;

/// `[reset]` in the configuration: the per-number budget.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ResetLimits {
    /// Codes sent per hour.
    pub codes_per_hour: i64,
    /// Codes sent per day.
    pub codes_per_day: i64,
    /// Codes tried per hour, across codes.
    pub attempts_per_hour: i64,
    /// Codes tried per day, across codes.
    pub attempts_per_day: i64,
}

impl Default for ResetLimits {
    fn default() -> Self {
        ResetLimits {
            codes_per_hour: 3,
            codes_per_day: 6,
            attempts_per_hour: 5,
            attempts_per_day: 10,
        }
    }
}

/// What a request spends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Sending a code.
    Code,
    /// Trying a code.
    Attempt,
}

/// The budget is spent for this window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the password-reset budget is spent until {until}")]
pub struct BudgetSpent {
    /// When the first exhausted window ends (Unix seconds).
    pub until: i64,
}

/// What has been spent in the current hour and day windows. A window starts at the first
/// spending after the previous one ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResetBudget {
    pub hour_start: i64,
    pub hour_codes: i64,
    pub hour_attempts: i64,
    pub day_start: i64,
    pub day_codes: i64,
    pub day_attempts: i64,
}

impl ResetBudget {
    /// Nothing spent, windows starting at `now`.
    pub fn fresh(now: i64) -> Self {
        ResetBudget {
            hour_start: now,
            hour_codes: 0,
            hour_attempts: 0,
            day_start: now,
            day_codes: 0,
            day_attempts: 0,
        }
    }

    /// The budget after spending one `what` at `now`, or why not.
    pub fn spend(self, what: Spend, limits: &ResetLimits, now: i64) -> Result<Self, BudgetSpent> {
        let mut next = self;
        if now >= next.hour_start + HOUR {
            next.hour_start = now;
            next.hour_codes = 0;
            next.hour_attempts = 0;
        }
        if now >= next.day_start + DAY {
            next.day_start = now;
            next.day_codes = 0;
            next.day_attempts = 0;
        }
        let (hour, hour_cap, day, day_cap) = match what {
            Spend::Code => (
                &mut next.hour_codes,
                limits.codes_per_hour,
                &mut next.day_codes,
                limits.codes_per_day,
            ),
            Spend::Attempt => (
                &mut next.hour_attempts,
                limits.attempts_per_hour,
                &mut next.day_attempts,
                limits.attempts_per_day,
            ),
        };
        if *day >= day_cap {
            return Err(BudgetSpent {
                until: next.day_start + DAY,
            });
        }
        if *hour >= hour_cap {
            return Err(BudgetSpent {
                until: next.hour_start + HOUR,
            });
        }
        *hour += 1;
        *day += 1;
        Ok(next)
    }
}

impl From<&ResetBudgetRow> for ResetBudget {
    fn from(row: &ResetBudgetRow) -> Self {
        ResetBudget {
            hour_start: row.hour_start,
            hour_codes: row.hour_codes,
            hour_attempts: row.hour_attempts,
            day_start: row.day_start,
            day_codes: row.day_codes,
            day_attempts: row.day_attempts,
        }
    }
}

impl ResetBudget {
    fn row(self, version: i64) -> ResetBudgetRow {
        ResetBudgetRow {
            version,
            hour_start: self.hour_start,
            hour_codes: self.hour_codes,
            hour_attempts: self.hour_attempts,
            day_start: self.day_start,
            day_codes: self.day_codes,
            day_attempts: self.day_attempts,
        }
    }
}

/// The identification number as typed, cut to a sane length: the key of its budget.
pub fn normalise_number(typed: &str) -> String {
    typed.trim().chars().take(20).collect()
}

/// Spends one `what` from the budget of identification number `number`, atomically.
/// `Ok(false)` when the budget is spent (or too contended to spend safely).
pub async fn spend(
    store: &Store,
    limits: &ResetLimits,
    number: &str,
    what: Spend,
    now: i64,
) -> Result<bool, StoreError> {
    let key = crate::secret::hash(number);
    for _ in 0..MAX_SWAPS {
        let current = store.reset_budget(&key, now).await?;
        let Ok(next) = ResetBudget::from(&current).spend(what, limits, now) else {
            return Ok(false);
        };
        if store
            .swap_reset_budget(&key, current.version, &next.row(current.version + 1))
            .await?
        {
            return Ok(true);
        }
    }
    tracing::warn!("password-reset budget too contended; request refused");
    Ok(false)
}

/// Where a reset code goes: the phone number on record of an active account; nowhere else.
pub fn code_recipient(account: Option<&Account>) -> Option<&str> {
    account
        .filter(|a| a.is_active())
        .and_then(|a| a.phone_number.as_deref())
}

/// The SMS carrying a reset code.
pub fn code_message(code: &str) -> String {
    format!("VNeID: ma dat lai mat khau {code} (10 phut). Khong chia se ma nay.")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ResetLimits {
        ResetLimits::default()
    }

    fn spend_n(
        mut b: ResetBudget,
        what: Spend,
        n: usize,
        now: i64,
    ) -> Result<ResetBudget, BudgetSpent> {
        for _ in 0..n {
            b = b.spend(what, &limits(), now)?;
        }
        Ok(b)
    }

    #[test]
    fn three_codes_an_hour_then_none() {
        let b = spend_n(ResetBudget::fresh(1000), Spend::Code, 3, 1000).unwrap();
        assert_eq!(
            b.spend(Spend::Code, &limits(), 1000 + HOUR - 1),
            Err(BudgetSpent { until: 1000 + HOUR })
        );
        // The next hour gives three more, and the day's cap of six stops the seventh.
        let b = spend_n(b, Spend::Code, 3, 1000 + HOUR).unwrap();
        assert_eq!(b.day_codes, 6);
        assert_eq!(
            b.spend(Spend::Code, &limits(), 1000 + 3 * HOUR),
            Err(BudgetSpent { until: 1000 + DAY })
        );
        // A day later the windows start again.
        assert!(b.spend(Spend::Code, &limits(), 1000 + DAY).is_ok());
    }

    #[test]
    fn attempts_are_counted_across_codes() {
        // Five wrong tries, then a new code: the tries are still spent.
        let b = spend_n(ResetBudget::fresh(0), Spend::Attempt, 5, 10).unwrap();
        let b = b.spend(Spend::Code, &limits(), 20).unwrap();
        assert!(b.spend(Spend::Attempt, &limits(), 30).is_err());
        // Codes and attempts are separate budgets.
        assert_eq!(b.hour_codes, 1);
        assert_eq!(b.hour_attempts, 5);
    }

    #[test]
    fn the_daily_attempt_cap_holds_across_hours() {
        let b = spend_n(ResetBudget::fresh(0), Spend::Attempt, 5, 0).unwrap();
        let b = spend_n(b, Spend::Attempt, 5, HOUR).unwrap();
        assert_eq!(
            b.spend(Spend::Attempt, &limits(), 2 * HOUR),
            Err(BudgetSpent { until: DAY })
        );
    }

    #[test]
    fn a_refusal_spends_nothing() {
        let b = spend_n(ResetBudget::fresh(0), Spend::Code, 3, 0).unwrap();
        assert!(b.spend(Spend::Code, &limits(), 1).is_err());
        assert_eq!(b.hour_codes, 3);
    }

    #[test]
    fn limits_come_from_the_configuration_with_defaults() {
        let limits: ResetLimits = toml::from_str("codes_per_hour = 2").unwrap();
        assert_eq!((limits.codes_per_hour, limits.codes_per_day), (2, 6));
        assert!(toml::from_str::<ResetLimits>("codes_per_week = 2").is_err());
    }

    #[test]
    fn the_number_is_trimmed_and_cut() {
        assert_eq!(normalise_number("  079198000002 "), "079198000002");
        assert_eq!(normalise_number(&"9".repeat(50)).len(), 20);
    }
}
