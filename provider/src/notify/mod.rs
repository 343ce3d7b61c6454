//! Notifications: messages go into the outbox with the change they report (one transaction),
//! and this worker delivers them to a sender (SMS gateway over HTTP, email over SMTP, or the
//! console in demo mode), with retries and exponential backoff.
//!
//! Delivery is at least once: a worker that dies between sending and recording leaves the lease
//! to expire and the message is sent again, with the same message id as the SMS gateway's
//! idempotency key and as the email's Message-ID, so the receiving side can drop the duplicate.

mod senders;

pub use senders::{Sender, SenderConfig};

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::store::{OutboxRow, Store};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// A text message to a phone number.
    Sms,
    /// An email.
    Email,
}

impl Channel {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
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
    /// Whether the body is a secret to scrub once delivered.
    pub secret: bool,
}

impl Notification<'_> {
    /// The outbox row.
    pub fn row(&self, now: i64) -> OutboxRow {
        OutboxRow {
            id: crate::secret::new_id(),
            channel: self.channel.as_str().into(),
            recipient: self.recipient.into(),
            subject: self.subject.into(),
            body: self.body.clone(),
            kind: if self.secret {
                format!("secret:{}", self.kind)
            } else {
                self.kind.into()
            },
            account_id: self.account_id.map(Into::into),
            attempts: 0,
            sent_at: None,
            last_error: None,
            created_at: now,
        }
    }
}

/// Attempts before a message is given up (kept, with its last error, for an operator).
const MAX_ATTEMPTS: i64 = 12;

/// Seconds to wait after `attempts` failures: 10 s doubling, at most an hour.
pub fn backoff(attempts: i64) -> i64 {
    (10i64 << attempts.clamp(0, 9)).min(3600)
}

/// Delivers what is due once; returns how many were sent. `keep_secrets` keeps delivered
/// secret bodies (demo mode shows them on its outbox page).
pub async fn deliver_due(
    store: &Store,
    sender: &Sender,
    now: i64,
    keep_secrets: bool,
) -> Result<usize, crate::store::StoreError> {
    let leased = store.lease_outbox(now, now + 60, 16).await?;
    let mut sent = 0;
    for message in leased {
        if message.attempts >= MAX_ATTEMPTS {
            continue;
        }
        match sender.send(&message).await {
            Ok(()) => {
                let keep = keep_secrets || !message.kind.starts_with("secret:");
                store.outbox_sent(&message.id, now, keep).await?;
                tracing::info!(id = %message.id, channel = %message.channel, kind = %message.kind, "notification sent");
                sent += 1;
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
    sender: Sender,
    clock: crate::clock::Clock,
    every: Duration,
    keep_secrets: bool,
) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(err) = deliver_due(&store, &sender, clock.now(), keep_secrets).await {
            tracing::error!(error = %err, "outbox delivery failed");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(super::backoff(1), 20);
        assert_eq!(super::backoff(2), 40);
        assert_eq!(super::backoff(30), 3600);
    }
}
