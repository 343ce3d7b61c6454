//! What operators watch: the pool's use, readiness, the outbox backlog.

use std::time::Duration;

use super::{Store, StoreError};

/// The pool's use now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Connections open (idle or in use).
    pub size: u32,
    /// Connections open and idle.
    pub idle: u32,
    /// Connections at most.
    pub max: u32,
}

/// Messages not delivered yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// How many.
    pub pending: i64,
    /// When the oldest was written (Unix seconds), if any.
    pub oldest_created_at: Option<i64>,
}

/// Why the readiness check failed.
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    /// The database did not answer in time.
    #[error("the database did not answer within {0:?}")]
    TimedOut(Duration),
    /// The database answered with an error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// The pool's use now (no database work).
    pub fn pool_stats(&self) -> PoolStats {
        let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
        PoolStats {
            size: self.pool.size(),
            idle,
            max: self.max_connections,
        }
    }

    /// Whether the database answers a query within `timeout` (a connection acquired and a
    /// `SELECT 1` run): the readiness check.
    pub async fn ready(&self, timeout: Duration) -> Result<(), NotReady> {
        match tokio::time::timeout(timeout, self.ping()).await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(NotReady::TimedOut(timeout)),
        }
    }

    /// The undelivered messages: how many, and the oldest one's age.
    pub async fn outbox_backlog(&self) -> Result<OutboxBacklog, StoreError> {
        let (pending, oldest_created_at): (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MIN(created_at) FROM outbox WHERE sent_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(OutboxBacklog {
            pending,
            oldest_created_at,
        })
    }
}
