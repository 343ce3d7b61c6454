//! Account-status Security Event Tokens (RFC 8417, OpenID Shared Signals shape).
//!
//! The audit log is the outbox: every change that matters (an account locked, revoked or
//! unlocked at the desk, a new password, Level 2 enrolled, a consent withdrawn) writes its audit
//! event in the transaction of the change. The dispatcher turns each such event, once, into one
//! signed SET per relying party that received claims about the account (a withdrawn consent:
//! that relying party only), stored with it in one transaction; the pusher delivers them
//! (RFC 8935) to the clients that registered a receiver, at least once, with retries and backoff
//! under a lease, always with the same `jti` so the receiver drops duplicates; every client can
//! also poll for them (RFC 8936) at `/events/poll`.

mod poll;
mod push;

pub use poll::poll;
pub use push::deliver_due;

use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value, json};
use vneid_contract::{ACR_LEVEL1, ACR_LEVEL2, AccountEvent, SET_TYPE};

use crate::error::AppError;
use crate::oidc::subject::subject;
use crate::oidc::types::ClientId;
use crate::state::AppState;
use crate::store::{EventSourceRow, NewSecurityEvent};

/// The audit events that become SETs.
pub const SOURCE_KINDS: [&str; 5] = [
    "account_status_changed",
    "password_changed",
    "level2_enrolled",
    "account_downgraded",
    "consent_revoked",
];

/// Audit events older than this when the dispatcher first sees them are not sent (a day).
const LOOK_BACK: i64 = 24 * 3600;

/// Who hears of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every client that received claims about the account.
    Informed,
    /// One client (a withdrawn consent).
    Client(String),
}

/// The event an audit record reports, its members, and who hears of it; `None` for records
/// that report nothing a relying party acts on.
pub fn event_of(source: &EventSourceRow) -> Option<(AccountEvent, Value, Audience)> {
    let detail: Value = serde_json::from_str(&source.detail).unwrap_or(Value::Null);
    let at = json!(source.at);
    match source.kind.as_str() {
        "account_status_changed" => match detail["status"].as_str()? {
            "active" => Some((
                AccountEvent::AccountEnabled,
                json!({ "event_timestamp": at }),
                Audience::Informed,
            )),
            status @ ("locked" | "suspended" | "revoked") => Some((
                AccountEvent::AccountDisabled,
                json!({ "event_timestamp": at, "vneid_status": status }),
                Audience::Informed,
            )),
            _ => None,
        },
        "password_changed" => Some((
            AccountEvent::CredentialChange,
            json!({ "event_timestamp": at, "credential_type": "password", "change_type": "update" }),
            Audience::Informed,
        )),
        "level2_enrolled" => Some((
            AccountEvent::AssuranceLevelChange,
            json!({
                "event_timestamp": at,
                "namespace": "urn:vneid:acr",
                "previous_level": ACR_LEVEL1,
                "current_level": ACR_LEVEL2,
                "change_direction": "increase",
            }),
            Audience::Informed,
        )),
        // A supervisor's decision at the desk, or the registry at a re-sync (an expired
        // residence card): the relying parties holding a Level 2 login hear it is worth less.
        "account_downgraded" => Some((
            AccountEvent::AssuranceLevelChange,
            json!({
                "event_timestamp": at,
                "namespace": "urn:vneid:acr",
                "previous_level": ACR_LEVEL2,
                "current_level": ACR_LEVEL1,
                "change_direction": "decrease",
                "reason_admin": { "en": detail["reason"].as_str().unwrap_or("unspecified") },
            }),
            Audience::Informed,
        )),
        "consent_revoked" => Some((
            AccountEvent::ConsentWithdrawn,
            json!({ "event_timestamp": at }),
            Audience::Client(source.client_id.clone()?),
        )),
        _ => None,
    }
}

/// A SET's payload (RFC 8417 2.2, subject as `iss_sub`, the subject the client knows).
#[derive(Debug, Serialize)]
pub struct SetClaims {
    pub iss: String,
    pub iat: i64,
    pub jti: String,
    pub aud: String,
    /// The audit event it reports (for the operator's and the receiver's records).
    pub txn: String,
    pub sub_id: Value,
    pub events: Map<String, Value>,
}

/// Turns the pending audit events into SETs (each event once, whichever process does it).
/// Returns how many SETs were made.
pub async fn dispatch_due(state: &AppState) -> Result<usize, AppError> {
    let now = state.now();
    let sources = state
        .store
        .undispatched_events(&SOURCE_KINDS, now - LOOK_BACK, 100)
        .await?;
    let mut made = 0;
    for source in sources {
        let sets = sets_for(state, &source, now).await?;
        if state.store.dispatch_event(&source.id, &sets, now).await? {
            made += sets.len();
            if !sets.is_empty() {
                tracing::info!(kind = %source.kind, sets = sets.len(), "security events made");
            }
        }
    }
    Ok(made)
}

async fn sets_for(
    state: &AppState,
    source: &EventSourceRow,
    now: i64,
) -> Result<Vec<NewSecurityEvent>, AppError> {
    let (Some(account_id), Some((event, members, audience))) =
        (source.account_id.as_deref(), event_of(source))
    else {
        return Ok(Vec::new());
    };
    let clients = match audience {
        Audience::Informed => state.store.clients_informed_about(account_id).await?,
        Audience::Client(id) => vec![id],
    };
    let mut sets = Vec::new();
    for client_id in clients {
        let Some(client) = ClientId::parse(&client_id) else {
            continue;
        };
        let Some(client) = state.client(&client).await? else {
            continue;
        };
        let mut events = Map::new();
        events.insert(event.uri().to_string(), members.clone());
        let claims = SetClaims {
            iss: state.issuer.clone(),
            iat: now,
            jti: crate::secret::new_id(),
            aud: client_id.clone(),
            txn: source.id.clone(),
            sub_id: json!({
                "format": "iss_sub",
                "iss": state.issuer,
                "sub": subject(&state.pairwise_salt, &client, account_id),
            }),
            events,
        };
        let set_jws = state
            .keys
            .sign_typed(client.signing_alg, SET_TYPE, &claims)?;
        let push = state.store.event_receiver(&client_id).await?.is_some();
        sets.push(NewSecurityEvent {
            jti: claims.jti,
            client_id,
            set_jws,
            push,
        });
    }
    Ok(sets)
}

/// The background worker: dispatch, then push, every `every`.
pub async fn run(state: AppState, every: Duration) {
    let http = push::http_client();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if let Err(err) = dispatch_due(&state).await {
            tracing::error!(error = %err, "security event dispatch failed");
        }
        if let Err(err) = deliver_due(&state, &http).await {
            tracing::error!(error = %err, "security event push failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(kind: &str, detail: Value, client: Option<&str>) -> EventSourceRow {
        EventSourceRow {
            id: "a1".into(),
            at: 5,
            kind: kind.into(),
            account_id: Some("acc".into()),
            client_id: client.map(str::to_string),
            detail: detail.to_string(),
        }
    }

    #[test]
    fn audit_records_map_to_events_and_audiences() {
        let revoked = event_of(&source(
            "account_status_changed",
            json!({"status": "revoked"}),
            None,
        ))
        .unwrap();
        assert_eq!(revoked.0, AccountEvent::AccountDisabled);
        assert_eq!(revoked.1["vneid_status"], "revoked");
        assert_eq!(revoked.2, Audience::Informed);
        assert_eq!(
            event_of(&source(
                "account_status_changed",
                json!({"status": "active"}),
                None
            ))
            .unwrap()
            .0,
            AccountEvent::AccountEnabled
        );
        let withdrawn = event_of(&source("consent_revoked", json!({}), Some("demo-bank"))).unwrap();
        assert_eq!(withdrawn.2, Audience::Client("demo-bank".into()));
        assert!(event_of(&source("consent_revoked", json!({}), None)).is_none());
        assert!(event_of(&source("login_succeeded", json!({}), None)).is_none());
        assert_eq!(
            event_of(&source("password_changed", json!({}), None))
                .unwrap()
                .1["credential_type"],
            "password"
        );
    }
}
