//! Back-Channel Logout (OpenID Connect Back-Channel Logout 1.0): when a browser session ends,
//! each client it logged in to that registered a `backchannel_logout_uri` is sent a logout token
//! through the outbox (at least once, retried with backoff), in the same transaction as the end
//! of the session.
//!
//! The outbox row holds the claims that identify the session (`aud`, `sub`, `sid`, and the
//! client's signing algorithm) and its id, which becomes the token's `jti`: a retried token has
//! the same `jti` (the receiver drops a duplicate) and fresh `iat`/`exp`, signed when sent.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::types::SigningAlg;
use crate::error::AppError;
use crate::notify::{Channel, Minter, Notification};
use crate::state::AppState;
use crate::store::{OutboxRow, SessionClient};

/// The event member of a logout token (Back-Channel Logout 1.0 2.4).
pub const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The media type of a logout token (`typ: logout+jwt`, 2.4 and RFC 8725 3.11).
pub const LOGOUT_TYP: &str = "logout+jwt";

/// Seconds a logout token is valid: the receiver is called at once, a retry gets a fresh one.
pub const LOGOUT_TOKEN_LIFETIME: i64 = 120;

/// The outbox kind of logout tokens.
pub const KIND: &str = "logout_token";

/// What the outbox row keeps to make the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub aud: String,
    pub sub: String,
    pub sid: String,
    pub alg: SigningAlg,
}

/// The claims of a logout token. There is no `nonce`, by the specification (2.4): a logout
/// token cannot be mistaken for an ID token.
#[derive(Debug, Clone, Serialize)]
pub struct LogoutClaims {
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: String,
    pub sub: String,
    pub sid: String,
    pub events: Value,
}

/// The outbox message telling `client` that its session ended; `None` when it registered no
/// back-channel endpoint (or a stored algorithm no longer parses).
pub fn notice(client: &SessionClient, now: i64) -> Option<OutboxRow> {
    let uri = client.backchannel_logout_uri.as_deref()?;
    let pending = Pending {
        aud: client.client_id.clone(),
        sub: client.sub.clone(),
        sid: client.sid.clone(),
        alg: SigningAlg::parse(&client.signing_alg)?,
    };
    let body = serde_json::to_string(&pending).ok()?;
    Some(
        Notification {
            channel: Channel::Backchannel,
            recipient: uri,
            subject: &client.client_id,
            body,
            kind: KIND,
            account_id: None,
            secret: false,
        }
        .plain_row(now),
    )
}

/// The claims of the token for a stored message, at `now`.
pub fn claims(
    issuer: &str,
    row: &OutboxRow,
    now: i64,
) -> Result<(SigningAlg, LogoutClaims), String> {
    let pending: Pending = serde_json::from_str(&row.body)
        .map_err(|_| "the stored logout claims do not parse".to_string())?;
    Ok((
        pending.alg,
        LogoutClaims {
            iss: issuer.to_string(),
            aud: pending.aud,
            iat: now,
            exp: now + LOGOUT_TOKEN_LIFETIME,
            jti: row.id.clone(),
            sub: pending.sub,
            sid: pending.sid,
            events: json!({ LOGOUT_EVENT: {} }),
        },
    ))
}

/// The outbox's signer of logout tokens, with this process's keys.
pub fn minter(state: AppState) -> Minter {
    std::sync::Arc::new(move |row: &OutboxRow, now: i64| {
        let (alg, claims) = claims(&state.issuer, row, now)?;
        state
            .keys
            .sign_typed(alg, LOGOUT_TYP, &claims)
            .map_err(|e| e.to_string())
    })
}

/// Ends the browser session `id_hash` and queues a logout token for each client it logged in
/// to, in one transaction. Returns the clients told.
pub async fn end_session(state: &AppState, id_hash: &str) -> Result<Vec<String>, AppError> {
    let now = state.now();
    let told = state.store.end_session(id_hash, now).await?;
    if !told.is_empty() {
        tracing::info!(clients = ?told, "back-channel logout queued");
    }
    Ok(told)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(uri: Option<&str>) -> SessionClient {
        SessionClient {
            sid: "s1".into(),
            client_id: "demo-portal".into(),
            sub: "pairwise".into(),
            backchannel_logout_uri: uri.map(Into::into),
            signing_alg: "ES256".into(),
        }
    }

    #[test]
    fn only_a_client_with_an_endpoint_is_told() {
        assert!(notice(&client(None), 10).is_none());
        let row = notice(&client(Some("https://rp.example/bcl")), 10).unwrap();
        assert_eq!(row.channel, "backchannel");
        assert_eq!(row.recipient, "https://rp.example/bcl");
        assert_eq!(row.kind, KIND);
        assert!(!crate::notify::is_secret(&row));
    }

    #[test]
    fn the_token_names_the_session_has_the_event_and_no_nonce() {
        let row = notice(&client(Some("https://rp.example/bcl")), 10).unwrap();
        let (alg, c) = claims("https://id.example.vn", &row, 100).unwrap();
        assert_eq!(alg, SigningAlg::Es256);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["iss"], "https://id.example.vn");
        assert_eq!(v["aud"], "demo-portal");
        assert_eq!(
            (v["sub"].as_str(), v["sid"].as_str()),
            (Some("pairwise"), Some("s1"))
        );
        assert_eq!(v["jti"], row.id.as_str());
        assert_eq!(v["events"], json!({ LOGOUT_EVENT: {} }));
        assert!(v.get("nonce").is_none());
        assert_eq!(c.exp - c.iat, LOGOUT_TOKEN_LIFETIME);
        // A retry: the same jti, a fresh time.
        let (_, again) = claims("https://id.example.vn", &row, 5000).unwrap();
        assert_eq!((again.jti, again.iat), (c.jti, 5000));
    }
}
