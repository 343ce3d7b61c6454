//! Approval in the app: what the app is shown (a summary of the relying party, the scopes and
//! claims, the level and the binding message) and its decision. The app approves by signing
//! over the approval id and the SHA-256 of the summary it showed, with its own user
//! verification (`uv`): together the device key (possession) and the phone's PIN or biometric
//! make the login Level 2 (`amr` `hwk` and `mfa`).

use serde::{Deserialize, Serialize};
use vneid_contract::{Level, ScopeSet};

use super::device::{DeviceRequest, summary_hash};
use crate::error::AppError;
use crate::oidc::client::Client;
use crate::state::AppState;
use crate::store::{ApprovalRow, AuditEvent};

/// A QR login approval.
pub const KIND_QR: &str = "qr";
/// A CIBA request.
pub const KIND_CIBA: &str = "ciba";

/// What the app shows before the citizen approves (stored as JSON; the app signs its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// `qr` or `ciba`.
    pub kind: String,
    pub client_id: String,
    /// The relying party's name, as on the consent page.
    pub client_name: String,
    pub scopes: Vec<String>,
    /// The claims the scopes cover (those of the account's level are released).
    pub claims: Vec<String>,
    /// The `acr` the login reaches.
    pub acr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_message: Option<String>,
}

impl Summary {
    /// The summary of a request by `client` for `scopes`.
    pub fn new(
        kind: &str,
        client: &Client,
        scopes: &ScopeSet,
        binding_message: Option<&str>,
    ) -> Summary {
        let mut claims: Vec<String> = scopes
            .iter()
            .flat_map(|s| s.claims().iter().map(|c| c.as_str().to_string()))
            .collect();
        claims.dedup();
        Summary {
            kind: kind.to_string(),
            client_id: client.id.as_str().to_string(),
            client_name: client.name.clone(),
            scopes: scopes.iter().map(|s| s.as_str().to_string()).collect(),
            claims,
            acr: Level::Level2.acr().to_string(),
            binding_message: binding_message.map(str::to_string),
        }
    }

    /// The stored (and signed-over) JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The app's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    fn status(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Deny => "denied",
        }
    }
}

/// Why a decision did not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecideError {
    /// Unknown, expired, decided already, or another account's (one answer: no oracle).
    #[error("no such pending approval for this device")]
    NotFound,
    /// The signed summary hash is not the summary's: the app showed something else.
    #[error("summary_hash does not match the approval's summary")]
    SummaryMismatch,
    /// The app did not verify its user (PIN, biometric): no Level 2 without it.
    #[error("the app must verify its user (uv: true) to approve")]
    UserVerificationMissing,
}

/// Whether this device's account may see and decide `approval` now.
fn decidable(approval: &ApprovalRow, request: &DeviceRequest, now: i64) -> bool {
    let owner_ok = match approval.kind.as_str() {
        KIND_QR => approval.account_id.is_none(),
        KIND_CIBA => approval.account_id.as_deref() == Some(request.account.id.as_str()),
        _ => false,
    };
    owner_ok && approval.status == "pending" && approval.expires_at > now
}

/// The approval a scanned QR code names, if this device may decide it.
pub async fn scanned(
    state: &AppState,
    request: &DeviceRequest,
    id: &str,
) -> Result<Option<ApprovalRow>, AppError> {
    Ok(state
        .store
        .approval(id)
        .await?
        .filter(|a| a.kind == KIND_QR && decidable(a, request, state.now())))
}

/// Records the app's decision on `approval_id`. Approving needs the hash of the summary shown
/// and the app's user verification. A CIBA request in ping mode notifies its client (through
/// the outbox, in the same transaction).
pub async fn decide(
    state: &AppState,
    request: &DeviceRequest,
    approval_id: &str,
    decision: Decision,
    signed_summary_hash: Option<&str>,
    user_verified: bool,
) -> Result<Result<(), DecideError>, AppError> {
    let now = state.now();
    let Some(approval) = state
        .store
        .approval(approval_id)
        .await?
        .filter(|a| decidable(a, request, now))
    else {
        tracing::info!(device = %request.device.id, "decision on an unknown, expired or foreign approval refused");
        return Ok(Err(DecideError::NotFound));
    };
    if decision == Decision::Approve {
        let expected = summary_hash(&approval.summary);
        if !signed_summary_hash.is_some_and(|h| crate::secret::equal(h, &expected)) {
            return Ok(Err(DecideError::SummaryMismatch));
        }
        if !user_verified {
            return Ok(Err(DecideError::UserVerificationMissing));
        }
    }
    let ping = crate::oidc::ciba::ping_notice(state, &approval, now)?;
    let counted = state
        .store
        .decide_approval(
            &approval.id,
            decision.status(),
            &request.account.id,
            &request.device.id,
            now,
            ping.as_ref(),
        )
        .await?;
    if !counted {
        return Ok(Err(DecideError::NotFound));
    }
    let event = AuditEvent {
        kind: "app_approval_decided",
        account_id: Some(&request.account.id),
        client_id: Some(&approval.client_id),
        detail: serde_json::json!({
            "approval_kind": approval.kind,
            "decision": decision.status(),
            "device": request.device.id,
        }),
    };
    state.store.audit(event, now).await?;
    tracing::info!(account = %request.account.id, device = %request.device.id, kind = %approval.kind, decision = decision.status(), "app decision");
    Ok(Ok(()))
}
