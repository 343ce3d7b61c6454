//! The signed eKYC receipt and the key history (additions to the contract): the wire shapes
//! the provider signs and the SDK checks offline.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The JWS `typ` of a receipt: never `JWT`, so a receipt cannot pass for an ID token, nor an
/// ID token for a receipt (RFC 8725 3.11).
pub const RECEIPT_TYPE: &str = "ekyc-receipt+jwt";

/// Where the provider publishes its key history (also listed in discovery as
/// [`KEY_HISTORY_METADATA`]).
pub const KEY_HISTORY_PATH: &str = "/.well-known/vneid-key-history";

/// The discovery member that names the key history's URL.
pub const KEY_HISTORY_METADATA: &str = "vneid_key_history_uri";

/// The UserInfo member that carries the receipt.
pub const RECEIPT_MEMBER: &str = "ekyc_receipt";

/// The payload of a receipt: what was released to whom, at which level, how, and when. No
/// `exp`: a receipt is evidence, checked years later against the archived key history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptClaims {
    /// The issuer.
    pub iss: String,
    /// The subject as this client knows it (pairwise).
    pub sub: String,
    /// The client the claims were released to.
    pub aud: String,
    /// The transaction id, also in the provider's audit record of the release.
    pub txn: String,
    /// When the receipt was issued (Unix seconds).
    pub iat: i64,
    /// The level this login reached.
    pub acr: String,
    /// How (RFC 8176).
    pub amr: Vec<String>,
    /// When the holder authenticated (Unix seconds).
    pub auth_time: i64,
    /// The claims released (as UserInfo released them; the portrait is left out).
    pub claims: Map<String, Value>,
    /// How the identity was verified (`verified_claims.verification`, OpenID Connect for
    /// Identity Assurance 1.0).
    pub verification: Value,
}
