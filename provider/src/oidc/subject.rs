//! Subject identifiers: pairwise per client by default (OpenID Connect Core 8.1), public when the
//! client is registered so. Neither reveals the identification number.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::client::Client;
use super::types::SubjectType;

/// The `sub` a client sees for an account: stable across logins.
pub fn subject(salt: &[u8], client: &Client, account_id: &str) -> String {
    match client.subject_type {
        SubjectType::Public => account_id.to_string(),
        // The client id is the sector: two clients never share a pairwise sub.
        SubjectType::Pairwise => pairwise(salt, client.id.as_str(), account_id),
    }
}

fn pairwise(salt: &[u8], sector: &str, account_id: &str) -> String {
    // HMAC accepts keys of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(salt) else {
        unreachable!("HMAC takes any key length")
    };
    mac.update(sector.as_bytes());
    mac.update(b"\0");
    mac.update(account_id.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}
