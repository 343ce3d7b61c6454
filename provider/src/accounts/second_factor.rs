//! The second factor's own defence: a failure counter of its own (a correct password never resets
//! it, only a correct code does), and a lock after too many wrong codes. Six digits are guessable:
//! without this, four wrong codes, the password again, four more, and so on for ever.
//!
//! [`attempt`] is the whole rule, over typed values and `now`; the store applies its outcome
//! atomically (compare-and-set on the state it was computed from).

/// How many wrong codes lock the second factor, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Wrong codes in a row that lock the second factor.
    pub threshold: i64,
    /// How long the lock lasts, in seconds.
    pub lock_seconds: i64,
}

impl Policy {
    /// The policy of the configuration.
    pub fn of(config: &crate::config::Config) -> Policy {
        Policy {
            threshold: config.second_factor_threshold.max(1),
            lock_seconds: config.second_factor_lock_seconds.max(1),
        }
    }
}

/// Where an account's second factor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FactorState {
    /// Wrong codes since the last correct one (or since the last lock ran out).
    pub failures: i64,
    /// Locked until this time (Unix seconds).
    pub locked_until: Option<i64>,
    /// The last TOTP time step accepted: a code is good once.
    pub last_step: i64,
}

impl FactorState {
    /// Whether the second factor is locked at `now`.
    pub fn locked_at(&self, now: i64) -> Option<i64> {
        self.locked_until.filter(|until| *until > now)
    }
}

impl From<crate::store::SecondFactorRow> for FactorState {
    fn from(row: crate::store::SecondFactorRow) -> Self {
        FactorState {
            failures: row.failures,
            locked_until: row.locked_until,
            last_step: row.last_step,
        }
    }
}

impl From<FactorState> for crate::store::SecondFactorRow {
    fn from(state: FactorState) -> Self {
        crate::store::SecondFactorRow {
            failures: state.failures,
            locked_until: state.locked_until,
            last_step: state.last_step,
        }
    }
}

/// What one code attempt comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The code is right and fresh: the counter starts again at 0.
    Accepted {
        /// The time step now used.
        step: i64,
    },
    /// Wrong (or replayed) code; `failures` wrong codes in a row now.
    Refused {
        /// The counter after this attempt.
        failures: i64,
    },
    /// This wrong code reached the threshold: the second factor is locked.
    LockedNow {
        /// Until when.
        until: i64,
    },
    /// Locked already: the code is not even looked at, right or wrong.
    StillLocked {
        /// Until when.
        until: i64,
    },
}

impl Verdict {
    /// Whether the attempt passes.
    pub fn accepted(self) -> bool {
        matches!(self, Verdict::Accepted { .. })
    }

    /// The state to store after this attempt (`None`: nothing changes).
    pub fn next(self, before: FactorState) -> Option<FactorState> {
        match self {
            Verdict::Accepted { step } => Some(FactorState {
                failures: 0,
                locked_until: None,
                last_step: step,
            }),
            Verdict::Refused { failures } => Some(FactorState {
                failures,
                locked_until: None,
                ..before
            }),
            Verdict::LockedNow { until } => Some(FactorState {
                failures: 0,
                locked_until: Some(until),
                ..before
            }),
            Verdict::StillLocked { .. } => None,
        }
    }
}

/// Decides an attempt. `code_step` is the time step the submitted code is valid for (`None`:
/// the code is wrong); a step at or before the last one used is a replay and counts as wrong.
pub fn attempt(state: FactorState, code_step: Option<i64>, policy: Policy, now: i64) -> Verdict {
    if let Some(until) = state.locked_at(now) {
        return Verdict::StillLocked { until };
    }
    match code_step {
        Some(step) if step > state.last_step => Verdict::Accepted { step },
        _ => {
            // A lock that ran out leaves the counter at 0: the count starts again.
            let failures = state.failures.max(0) + 1;
            if failures >= policy.threshold {
                Verdict::LockedNow {
                    until: now + policy.lock_seconds,
                }
            } else {
                Verdict::Refused { failures }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        threshold: 5,
        lock_seconds: 1800,
    };

    fn fresh() -> FactorState {
        FactorState {
            failures: 0,
            locked_until: None,
            last_step: 100,
        }
    }

    /// Applies a run of attempts; `Some(step)` is a right code.
    fn run(mut state: FactorState, codes: &[Option<i64>], now: i64) -> (FactorState, Verdict) {
        let mut last = Verdict::Refused { failures: 0 };
        for code in codes {
            last = attempt(state, *code, POLICY, now);
            if let Some(next) = last.next(state) {
                state = next;
            }
        }
        (state, last)
    }

    #[test]
    fn five_wrong_codes_lock_and_a_right_code_is_then_refused() {
        let (state, verdict) = run(fresh(), &[None; 5], 1000);
        assert_eq!(verdict, Verdict::LockedNow { until: 2800 });
        assert_eq!(
            attempt(state, Some(200), POLICY, 1001),
            Verdict::StillLocked { until: 2800 },
            "a right code while locked is refused"
        );
    }

    #[test]
    fn only_a_right_code_resets_the_counter() {
        // Four wrong codes, then (elsewhere) a right password: the counter is untouched by it,
        // so two more wrong codes lock.
        let (state, _) = run(fresh(), &[None; 4], 1000);
        assert_eq!(state.failures, 4);
        let (state, verdict) = run(state, &[None, None], 1000);
        assert_eq!(state.locked_at(1000), Some(2800));
        assert_eq!(verdict, Verdict::StillLocked { until: 2800 });
        // A right code does reset it.
        let (state, verdict) = run(fresh(), &[None, None, None, None, Some(101)], 1000);
        assert!(verdict.accepted());
        assert_eq!(state.failures, 0);
        assert_eq!(state.last_step, 101);
    }

    #[test]
    fn a_replayed_step_counts_as_wrong() {
        let verdict = attempt(fresh(), Some(100), POLICY, 1000);
        assert_eq!(verdict, Verdict::Refused { failures: 1 });
        assert!(attempt(fresh(), Some(99), POLICY, 1000) == Verdict::Refused { failures: 1 });
    }

    #[test]
    fn the_lock_ends_and_the_count_starts_again() {
        let (state, _) = run(fresh(), &[None; 5], 1000);
        assert_eq!(state.locked_at(2799), Some(2800));
        assert_eq!(state.locked_at(2800), None);
        assert_eq!(
            attempt(state, None, POLICY, 2800),
            Verdict::Refused { failures: 1 }
        );
        assert!(attempt(state, Some(300), POLICY, 2800).accepted());
    }
}
