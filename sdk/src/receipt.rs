//! Signed eKYC receipts, checked offline.
//!
//! A relying party that asks for the `ekyc_receipt` scope gets, with UserInfo, a JWS the
//! provider signed over what it released: the claims, the level and how it was reached, how
//! the identity was verified, the client, the pairwise `sub`, a transaction id and the issue
//! time. Keep it with the provider's [`KeyHistory`] (every signing key it ever used, with the
//! period each was valid in): years later, after the key has left the JWKS and with no network,
//! [`verify_receipt`] says whether the record is genuine. Where the operator's CA certified the
//! signing keys (`x5c` in the key history), [`verify_receipt_with_ca`] also ties the key to
//! that CA.
//!
//! ```no_run
//! # fn archived() -> (String, String) { unimplemented!() }
//! let (receipt, key_history_json) = archived();
//! let history = vneid_sdk::KeyHistory::from_json(&key_history_json)?;
//! let checked = vneid_sdk::verify_receipt(&receipt, &history)?;
//! println!("{} released to {} at {:?}", checked.claims.txn, checked.claims.aud, checked.level);
//! # Ok::<(), vneid_sdk::ReceiptError>(())
//! ```

use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsVerifier, RS256};
use serde::Deserialize;
use serde_json::{Map, Value};
use vneid_contract::{Level, RECEIPT_TYPE, ReceiptClaims};

/// Why a receipt is not to be trusted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiptError {
    /// Not a compact JWS with a JSON header and payload of the receipt's shape.
    #[error("the receipt is malformed: {0}")]
    Malformed(&'static str),
    /// The key history document is not one.
    #[error("the key history is malformed: {0}")]
    MalformedHistory(String),
    /// `alg` is not ES256 or RS256 (`none`, HS256 and the rest are refused).
    #[error("the receipt's algorithm `{0}` is not allowed (ES256 or RS256 only)")]
    Algorithm(String),
    /// `typ` is not `ekyc-receipt+jwt` (an ID token is not a receipt).
    #[error("the JWS is not an eKYC receipt (typ {0:?})")]
    WrongType(Option<String>),
    /// The `kid` is not in the key history (or its algorithm differs).
    #[error("the receipt's key {0:?} is not in the provider's key history")]
    UnknownKey(Option<String>),
    /// The signature does not verify: the receipt was altered or signed by another key.
    #[error("the receipt's signature does not verify: it was altered or forged")]
    Signature,
    /// The key was not valid when the receipt says it was issued.
    #[error("key {kid} was not valid at the receipt's issue time {iat}")]
    KeyNotValidAt {
        /// The key.
        kid: String,
        /// The receipt's `iat`.
        iat: i64,
    },
    /// The receipt names another issuer than the key history's.
    #[error("the receipt's issuer {found} is not the key history's {expected}")]
    Issuer {
        /// The key history's issuer.
        expected: String,
        /// The receipt's.
        found: String,
    },
    /// The `acr` is not a VNeID level.
    #[error("the receipt's acr {0} is not a VNeID level")]
    Level(String),
    /// The receipt is genuine but not for this login (another client or subject).
    #[error("the receipt is for another {0}")]
    NotThisLogin(&'static str),
    /// The key history carries no certificate chain (`x5c`) for the receipt's key.
    #[error("key {0} has no certificate chain in the key history")]
    NoCertificateChain(String),
    /// The key's certificate chain does not lead to the CA trusted, was not valid at the
    /// receipt's issue time, or does not certify the key that signed it.
    #[error("the signing key's certificate chain is not trusted: {0}")]
    Untrusted(String),
}

/// One key of the history.
#[derive(Debug, Clone, Deserialize)]
struct HistoricKey {
    kid: String,
    alg: String,
    nbf: i64,
    #[serde(default)]
    exp: Option<i64>,
    jwk: Map<String, Value>,
}

#[derive(Deserialize)]
struct HistoryDocument {
    issuer: String,
    keys: Vec<HistoricKey>,
}

/// The provider's key history (`/.well-known/vneid-key-history`): every signing key it ever
/// used, with its validity period. Archive [`KeyHistory::json`] beside the receipts.
#[derive(Debug, Clone)]
pub struct KeyHistory {
    issuer: String,
    keys: Vec<HistoricKey>,
    json: String,
}

impl KeyHistory {
    /// Reads a key history document.
    pub fn from_json(json: &str) -> Result<KeyHistory, ReceiptError> {
        let doc: HistoryDocument = serde_json::from_str(json)
            .map_err(|e| ReceiptError::MalformedHistory(e.to_string()))?;
        Ok(KeyHistory {
            issuer: doc.issuer,
            keys: doc.keys,
            json: json.to_string(),
        })
    }

    /// The document as received, to archive.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The issuer whose keys these are.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key ids, oldest first.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }
}

/// A receipt that verified.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Receipt {
    /// What it says.
    pub claims: ReceiptClaims,
    /// The level reached (from `acr`).
    pub level: Level,
    /// The key that signed it.
    pub kid: String,
}

impl Receipt {
    /// A claim released, by name (`name`, `personal_id_number`, `age_over_18`, ...).
    pub fn claim(&self, name: &str) -> Option<&Value> {
        self.claims.claims.get(name)
    }
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
    #[serde(default)]
    crit: Option<Value>,
}

fn b64(part: &str) -> Result<Vec<u8>, ReceiptError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| ReceiptError::Malformed("not base64url"))
}

/// Checks a receipt against an archived key history, with no network and whatever the date:
/// the algorithm (ES256 or RS256), the `typ`, the key (by `kid`, of the same algorithm), the
/// signature, the issuer, and that the key was valid at the receipt's `iat`. Receipts have no
/// `exp`: they are evidence, not credentials.
pub fn verify_receipt(receipt: &str, key_history: &KeyHistory) -> Result<Receipt, ReceiptError> {
    let mut parts = receipt.split('.');
    let (Some(header_b64), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReceiptError::Malformed("not a compact JWS"));
    };
    let header: Header = serde_json::from_slice(&b64(header_b64)?)
        .map_err(|_| ReceiptError::Malformed("the header is not JSON"))?;
    let alg = header.alg.unwrap_or_default();
    if alg != "ES256" && alg != "RS256" {
        return Err(ReceiptError::Algorithm(alg));
    }
    if header.typ.as_deref() != Some(RECEIPT_TYPE) {
        return Err(ReceiptError::WrongType(header.typ));
    }
    if header.crit.is_some() {
        return Err(ReceiptError::Malformed("crit is not understood"));
    }
    let key = key_history
        .keys
        .iter()
        .find(|k| Some(k.kid.as_str()) == header.kid.as_deref() && k.alg == alg)
        .ok_or_else(|| ReceiptError::UnknownKey(header.kid.clone()))?;
    let jwk = Jwk::from_map(key.jwk.clone()).map_err(|_| ReceiptError::UnknownKey(header.kid))?;
    let verifier: Box<dyn JwsVerifier> = match alg.as_str() {
        "ES256" => Box::new(
            ES256
                .verifier_from_jwk(&jwk)
                .map_err(|_| ReceiptError::MalformedHistory(format!("key {}", key.kid)))?,
        ),
        _ => Box::new(
            RS256
                .verifier_from_jwk(&jwk)
                .map_err(|_| ReceiptError::MalformedHistory(format!("key {}", key.kid)))?,
        ),
    };
    let (payload, _) = josekit::jws::deserialize_compact(receipt, verifier.as_ref())
        .map_err(|_| ReceiptError::Signature)?;
    let claims: ReceiptClaims = serde_json::from_slice(&payload)
        .map_err(|_| ReceiptError::Malformed("the payload is not a receipt"))?;
    if claims.iss != key_history.issuer {
        return Err(ReceiptError::Issuer {
            expected: key_history.issuer.clone(),
            found: claims.iss,
        });
    }
    let valid = key.nbf <= claims.iat && key.exp.is_none_or(|exp| claims.iat <= exp);
    if !valid {
        return Err(ReceiptError::KeyNotValidAt {
            kid: key.kid.clone(),
            iat: claims.iat,
        });
    }
    let level =
        Level::from_acr(&claims.acr).ok_or_else(|| ReceiptError::Level(claims.acr.clone()))?;
    Ok(Receipt {
        claims,
        level,
        kid: key.kid.clone(),
    })
}

/// A receipt as received with a login: the JWS and the key history to archive together, and
/// what they say (checked at the login).
#[derive(Clone)]
#[non_exhaustive]
pub struct SignedReceipt {
    /// The compact JWS, to archive.
    pub jws: String,
    /// The provider's key history fetched at the login, to archive beside it.
    pub key_history: KeyHistory,
    /// What the receipt says.
    pub receipt: Receipt,
}

impl std::fmt::Debug for SignedReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedReceipt")
            .field("txn", &self.receipt.claims.txn)
            .field("kid", &self.receipt.kid)
            .field("level", &self.receipt.level)
            .finish_non_exhaustive()
    }
}

mod chain;
pub use chain::verify_receipt_with_ca;

#[cfg(test)]
mod tests;
