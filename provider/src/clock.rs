//! The one place that reads the system clock. Everything else takes `now` from here, so tests can
//! move time forward (an expired code, a locked account that unlocks) without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix time in seconds, shifted by an offset that only tests change.
#[derive(Clone, Default)]
pub struct Clock {
    offset: Arc<AtomicI64>,
}

impl Clock {
    /// Seconds since the Unix epoch.
    pub fn now(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        system + self.offset.load(Ordering::Relaxed)
    }

    /// Moves this clock (and every clone of it) forward; for tests.
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, Ordering::Relaxed);
    }
}
