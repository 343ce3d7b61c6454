//! Removal of what has expired, so the tables stay the size of what is live.

use super::{Store, StoreError};

impl Store {
    /// Deletes expired requests, codes, sessions and tokens (a code is kept a day past its
    /// expiry so a late replay is still recognised and revokes its tokens). Returns how many
    /// rows went.
    pub async fn purge_expired(&self, now: i64) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (sql, cutoff) in [
            ("DELETE FROM auth_requests WHERE expires_at < $1", now),
            ("DELETE FROM browser_sessions WHERE expires_at < $1", now),
            ("DELETE FROM session_clients WHERE expires_at < $1", now),
            ("DELETE FROM tokens WHERE expires_at < $1", now),
            ("DELETE FROM client_tokens WHERE expires_at < $1", now),
            ("DELETE FROM client_assertions WHERE expires_at < $1", now),
            ("DELETE FROM pushed_requests WHERE expires_at < $1", now),
            ("DELETE FROM dpop_proofs WHERE expires_at < $1", now),
            ("DELETE FROM request_objects WHERE expires_at < $1", now),
            // The sealed capture (fingerprints, photo) of a verification that lapsed unused.
            (
                "DELETE FROM desk_captures WHERE verification_id IN \
                 (SELECT id FROM desk_verifications WHERE expires_at < $1)",
                now,
            ),
            ("DELETE FROM passkey_ceremonies WHERE expires_at < $1", now),
            (
                "DELETE FROM reset_budgets WHERE day_start < $1 AND hour_start < $1",
                now - 24 * 3600,
            ),
            (
                "DELETE FROM auth_codes WHERE expires_at < $1",
                now - 24 * 3600,
            ),
        ] {
            removed += sqlx::query(sql)
                .bind(cutoff)
                .execute(&self.writer)
                .await?
                .rows_affected();
        }
        Ok(removed)
    }
}
