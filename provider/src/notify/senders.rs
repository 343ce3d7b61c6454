//! Where messages go: an SMS gateway over HTTP, SMTP, or the console.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;

use crate::store::OutboxRow;

/// The senders' configuration (`[notify]` in the config file).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderConfig {
    /// The SMS gateway: `POST` JSON `{"to", "text", "idempotency_key"}`, 2xx means accepted.
    pub sms_gateway_url: Option<url::Url>,
    /// The SMTP server, e.g. `smtps://user:password@smtp.example.vn:465`.
    pub smtp_url: Option<String>,
    /// The sender of emails.
    pub email_from: Option<String>,
}

/// The configured senders.
#[derive(Clone)]
pub struct Sender {
    /// Print channels without a sender to the console (demo mode only: bodies hold secrets).
    console: bool,
    sms: Option<(url::Url, reqwest::Client)>,
    email: Option<(AsyncSmtpTransport<Tokio1Executor>, lettre::message::Mailbox)>,
    /// Logout tokens to relying parties: short timeout, no redirects.
    http: reqwest::Client,
}

fn backchannel_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

impl Sender {
    /// Senders from the configuration; a channel without one fails (and retries) until configured.
    pub fn new(config: &SenderConfig) -> Result<Sender, String> {
        let sms = match &config.sms_gateway_url {
            Some(url) => {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .map_err(|e| e.to_string())?;
                Some((url.clone(), client))
            }
            None => None,
        };
        let email = match &config.smtp_url {
            Some(smtp) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp)
                    .map_err(|e| format!("smtp_url: {e}"))?
                    .build();
                let from = config
                    .email_from
                    .as_deref()
                    .unwrap_or("VNeID <no-reply@localhost>")
                    .parse()
                    .map_err(|e| format!("email_from: {e}"))?;
                Some((transport, from))
            }
            None => None,
        };
        Ok(Sender {
            console: false,
            sms,
            email,
            http: backchannel_client(),
        })
    }

    /// The console for everything (demo mode).
    pub fn console() -> Sender {
        Sender {
            console: true,
            sms: None,
            email: None,
            http: backchannel_client(),
        }
    }

    /// Sends one message.
    pub async fn send(&self, m: &OutboxRow) -> Result<(), String> {
        match (m.channel.as_str(), &self.sms, &self.email) {
            // Back-Channel Logout 1.0 2.5/2.8: a form POST; 200 (or 204) means received.
            ("backchannel", _, _) => {
                let response = self
                    .http
                    .post(&m.recipient)
                    .header(reqwest::header::CACHE_CONTROL, "no-store")
                    .form(&[("logout_token", m.body.as_str())])
                    .send()
                    .await
                    .map_err(|e| format!("network: {e}"))?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!(
                        "the back-channel logout endpoint answered {}",
                        response.status()
                    ))
                }
            }
            // CIBA Core 10.2: the bearer token the client gave, the auth_req_id as JSON.
            ("ciba_ping", _, _) => {
                let body: serde_json::Value = serde_json::from_str(&m.body)
                    .map_err(|_| "the ping body does not parse".to_string())?;
                let (Some(token), Some(id)) =
                    (body["token"].as_str(), body["auth_req_id"].as_str())
                else {
                    return Err("the ping body is incomplete".into());
                };
                let response = self
                    .http
                    .post(&m.recipient)
                    .bearer_auth(token)
                    .json(&serde_json::json!({ "auth_req_id": id }))
                    .send()
                    .await
                    .map_err(|e| format!("network: {e}"))?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!(
                        "the CIBA notification endpoint answered {}",
                        response.status()
                    ))
                }
            }
            ("sms", Some((url, client)), _) => {
                let body = serde_json::json!({ "to": m.recipient, "text": m.body, "idempotency_key": m.id });
                let response = client
                    .post(url.clone())
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if response.status().is_success() {
                    Ok(())
                } else {
                    Err(format!("SMS gateway answered {}", response.status()))
                }
            }
            ("email", _, Some((transport, from))) => {
                let to = m
                    .recipient
                    .parse()
                    .map_err(|e| format!("bad address: {e}"))?;
                let email = lettre::Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&m.subject)
                    .message_id(Some(format!("<{}@vneid>", m.id)))
                    .header(ContentType::TEXT_PLAIN)
                    .body(m.body.clone())
                    .map_err(|e| e.to_string())?;
                transport
                    .send(email)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
            (channel, _, _) if self.console => {
                println!("[{channel} to {}] {}: {}", m.recipient, m.subject, m.body);
                Ok(())
            }
            (channel, _, _) => Err(format!(
                "no sender is configured for {channel} (see [notify] in the configuration)"
            )),
        }
    }
}
