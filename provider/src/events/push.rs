//! Push delivery of SETs (RFC 8935): `POST` with `application/secevent+jwt`; `202 Accepted`
//! delivers, `400` (the receiver refused that SET) gives up, anything else is retried with
//! exponential backoff. A lease keeps two processes from pushing the same SET at once; a
//! process that dies mid-push leaves the lease to expire, and the SET goes again with the same
//! `jti`.

use std::time::Duration;

use crate::error::AppError;
use crate::state::AppState;
use crate::store::PushRow;

/// Attempts before a SET is given up (it stays available at the poll endpoint).
pub const MAX_ATTEMPTS: i64 = 12;

/// Seconds a push may take before another process may try it.
const LEASE: i64 = 60;

/// The HTTP client of the pusher: short timeouts, no redirects.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

enum Failure {
    /// Try again later.
    Retry(String),
    /// The receiver refused this SET (400): do not send it again.
    Refused(String),
}

async fn push(http: &reqwest::Client, row: &PushRow) -> Result<(), Failure> {
    let response = http
        .post(&row.endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/secevent+jwt")
        .header(reqwest::header::ACCEPT, "application/json")
        .body(row.set_jws.clone())
        .send()
        .await
        .map_err(|e| Failure::Retry(format!("network: {e}")))?;
    match response.status().as_u16() {
        202 => Ok(()),
        400 => {
            let body = response.text().await.unwrap_or_default();
            Err(Failure::Refused(format!(
                "refused: {}",
                body.chars().take(200).collect::<String>()
            )))
        }
        status => Err(Failure::Retry(format!("HTTP {status}"))),
    }
}

/// Pushes the SETs that are due; returns how many were delivered.
pub async fn deliver_due(state: &AppState, http: &reqwest::Client) -> Result<usize, AppError> {
    let now = state.now();
    let rows = state
        .store
        .lease_pushes(now, LEASE, MAX_ATTEMPTS, 50)
        .await?;
    let mut delivered = 0;
    for row in rows {
        match push(http, &row).await {
            Ok(()) => {
                state.store.set_delivered(&row.jti, state.now()).await?;
                delivered += 1;
            }
            Err(Failure::Refused(error)) => {
                tracing::warn!(client = %row.client_id, jti = %row.jti, %error, "security event refused by the receiver");
                state
                    .store
                    .set_push_failed(&row.jti, &error, now, true, MAX_ATTEMPTS)
                    .await?;
            }
            Err(Failure::Retry(error)) => {
                let next = now + crate::notify::backoff(row.attempts + 1);
                tracing::info!(client = %row.client_id, jti = %row.jti, %error, "security event push failed; will retry");
                state
                    .store
                    .set_push_failed(&row.jti, &error, next, false, MAX_ATTEMPTS)
                    .await?;
            }
        }
    }
    Ok(delivered)
}
