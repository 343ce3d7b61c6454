//! Notifications: messages go into the outbox with the change they report (one transaction),
//! and this worker delivers them to a sender (SMS gateway over HTTP, email over SMTP, or the
//! console in demo mode), with retries and exponential backoff.
//!
//! Delivery is at least once: a worker that dies between sending and recording leaves the lease
//! to expire and the message is sent again, with the same message id as the SMS gateway's
//! idempotency key and as the email's Message-ID, so the receiving side can drop the duplicate.
//!
//! A body that carries a secret (a first password, a one-time code) is sealed under the
//! key-encryption key before it is written, opened only to be sent, and erased once delivered or
//! given up: a database dump holds no working password or code.

mod senders;

pub use senders::{Sender, SenderConfig};

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::keys::{SealError, Sealer};
use crate::store::{OutboxRow, Store};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A text message to a phone number.
    Sms,
    /// An email.
    Email,
    /// A logout token POSTed to a relying party's `backchannel_logout_uri` (OpenID Connect
    /// Back-Channel Logout 1.0); the row holds the claims, the token is signed when sent.
    Backchannel,
    /// A CIBA ping (CIBA Core 10.2): `{"auth_req_id"}` POSTed to the client's notification
    /// endpoint with its `client_notification_token` as bearer; the row's sealed body holds both.
    CibaPing,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Backchannel => "backchannel",
            Channel::CibaPing => "ciba_ping",
        }
    }
}

/// A message to put in the outbox.
pub struct Notification<'a> {
    pub channel: Channel,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub body: String,
    /// What it is about (`first_password`, `registration_refused`, `reset_code`, ...).
    pub kind: &'a str,
    pub account_id: Option<&'a str>,
    /// Whether the body is a secret: sealed at rest, erased once delivered or given up.
    pub secret: bool,
}

/// The kind prefix of a message whose body is sealed.
const SECRET: &str = "secret:";

impl Notification<'_> {
    /// The outbox row; a secret body is sealed with `sealer`.
    pub fn row(&self, now: i64, sealer: &Sealer) -> Result<OutboxRow, SealError> {
        let (kind, body) = if self.secret {
            (
                format!("{SECRET}{}", self.kind),
                sealer.seal(self.body.as_bytes())?,
            )
        } else {
            (self.kind.to_string(), self.body.clone())
        };
        Ok(OutboxRow {
            id: crate::secret::new_id(),
            channel: self.channel.as_str().into(),
            recipient: self.recipient.into(),
            subject: self.subject.into(),
            body,
            kind,
            account_id: self.account_id.map(Into::into),
            attempts: 0,
            sent_at: None,
            last_error: None,
            created_at: now,
            given_up_at: None,
        })
    }
}

impl Notification<'_> {
    /// The outbox row of a notice that carries no secret (a lock notice, a change notice), for
    /// rules that have no sealer at hand. A secret body is never stored this way: it is withheld.
    pub fn plain_row(&self, now: i64) -> OutboxRow {
        let body = if self.secret {
            tracing::error!(
                kind = self.kind,
                "a secret notification was not sealed: withheld"
            );
            "[withheld]".to_string()
        } else {
            self.body.clone()
        };
        OutboxRow {
            id: crate::secret::new_id(),
            channel: self.channel.as_str().into(),
            recipient: self.recipient.into(),
            subject: self.subject.into(),
            body,
            kind: self.kind.to_string(),
            account_id: self.account_id.map(Into::into),
            attempts: 0,
            sent_at: None,
            last_error: None,
            created_at: now,
            given_up_at: None,
        }
    }
}

/// Whether a stored message's body is sealed (until erased).
pub fn is_secret(row: &OutboxRow) -> bool {
    row.kind.starts_with(SECRET)
}

/// The body as it is sent: a sealed one opened. An erased body stays the erasure note.
pub fn open_body(row: &OutboxRow, sealer: &Sealer) -> Result<String, SealError> {
    if is_secret(row) && !row.body.starts_with('[') {
        sealer.open_string(&row.body)
    } else {
        Ok(row.body.clone())
    }
}

/// The newest messages with their bodies opened: the demo outbox page and the tests. Never for
/// a production page (the bodies hold passwords and codes).
pub async fn recent_opened(
    store: &Store,
    sealer: &Sealer,
    limit: i64,
) -> Result<Vec<OutboxRow>, crate::store::StoreError> {
    let mut rows = store.outbox_recent(limit).await?;
    for row in &mut rows {
        row.body = open_body(row, sealer).unwrap_or_else(|_| "[sealed]".into());
    }
    Ok(rows)
}

/// Attempts before a message is given up (kept, with its last error, for an operator; a
/// secret body is erased).
pub const MAX_ATTEMPTS: i64 = 12;

/// Seconds to wait after `attempts` failures: 10 s doubling, at most an hour.
pub fn backoff(attempts: i64) -> i64 {
    (10i64 << attempts.clamp(0, 9)).min(3600)
}

/// Turns a stored back-channel message into the logout token to send, at the time of sending
/// (so that a retried token is fresh): given the row and the time.
pub type Minter = std::sync::Arc<dyn Fn(&OutboxRow, i64) -> Result<String, String> + Send + Sync>;

/// Delivers what is due once; returns how many were sent. A secret body is opened only to be
/// sent and erased once delivered, unless `keep_secrets` (demo mode, whose outbox page shows
/// them; still sealed at rest). After [`MAX_ATTEMPTS`] failures a message is given up and a
/// secret body erased, whatever `keep_secrets` says.
pub async fn deliver_due(
    store: &Store,
    sealer: &Sealer,
    sender: &Sender,
    now: i64,
    keep_secrets: bool,
) -> Result<usize, crate::store::StoreError> {
    deliver_due_with(store, sealer, sender, now, keep_secrets, None).await
}

/// As [`deliver_due`], signing logout tokens with `minter` (without one, a back-channel
/// message fails and is retried, as by a process that cannot sign).
pub async fn deliver_due_with(
    store: &Store,
    sealer: &Sealer,
    sender: &Sender,
    now: i64,
    keep_secrets: bool,
    minter: Option<&Minter>,
) -> Result<usize, crate::store::StoreError> {
    let leased = store.lease_outbox(now, now + 60, 16).await?;
    let mut sent = 0;
    for mut message in leased {
        let secret = is_secret(&message);
        if message.attempts >= MAX_ATTEMPTS {
            store.outbox_give_up(&message.id, now, secret).await?;
            continue;
        }
        let result = match open_body(&message, sealer) {
            Ok(_) if message.channel == Channel::Backchannel.as_str() => {
                match minter.map(|mint| mint(&message, now)) {
                    Some(Ok(token)) => {
                        // The token is sent, never stored: the row keeps the claims.
                        message.body = token;
                        sender.send(&message).await
                    }
                    Some(Err(err)) => Err(err),
                    None => Err("no logout token signer in this process".into()),
                }
            }
            Ok(body) => {
                message.body = body;
                sender.send(&message).await
            }
            Err(_) => Err("the sealed body cannot be opened with this key-encryption key".into()),
        };
        match result {
            Ok(()) => {
                store
                    .outbox_sent(&message.id, now, keep_secrets || !secret)
                    .await?;
                tracing::info!(id = %message.id, channel = %message.channel, kind = %message.kind, "notification sent");
                sent += 1;
            }
            Err(err) if message.attempts + 1 >= MAX_ATTEMPTS => {
                store.outbox_failed(&message.id, &err, now).await?;
                store.outbox_give_up(&message.id, now, secret).await?;
                tracing::error!(id = %message.id, channel = %message.channel, attempts = message.attempts + 1, error = %err, "notification given up");
            }
            Err(err) => {
                let next = now + backoff(message.attempts + 1);
                store.outbox_failed(&message.id, &err, next).await?;
                tracing::warn!(id = %message.id, channel = %message.channel, attempts = message.attempts + 1, error = %err, "notification failed; will retry");
            }
        }
    }
    Ok(sent)
}

/// The worker: delivers due messages every `every`, until the task is dropped.
pub async fn run(
    store: Store,
    sealer: Sealer,
    sender: Sender,
    clock: crate::clock::Clock,
    every: Duration,
    keep_secrets: bool,
    minter: Option<Minter>,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(err) = deliver_due_with(
            &store,
            &sealer,
            &sender,
            clock.now(),
            keep_secrets,
            minter.as_ref(),
        )
        .await
        {
            tracing::error!(error = %err, "outbox delivery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_bodies_are_sealed_and_open_again() {
        let sealer = Sealer::new(crate::config::KeyEncryptionKey::generate());
        let message = |secret| Notification {
            channel: Channel::Sms,
            recipient: "+84912345678",
            subject: "VNeID",
            body: "ma 123456".into(),
            kind: "reset_code",
            account_id: None,
            secret,
        };
        let sealed = message(true).row(0, &sealer).unwrap();
        assert!(!sealed.body.contains("123456") && is_secret(&sealed));
        assert_eq!(open_body(&sealed, &sealer).unwrap(), "ma 123456");
        let other = Sealer::new(crate::config::KeyEncryptionKey::generate());
        assert!(open_body(&sealed, &other).is_err());
        let plain = message(false).row(0, &sealer).unwrap();
        assert_eq!(
            (plain.body.as_str(), is_secret(&plain)),
            ("ma 123456", false)
        );
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(super::backoff(1), 20);
        assert_eq!(super::backoff(2), 40);
        assert_eq!(super::backoff(30), 3600);
    }
}
