//! Random tokens and their hashes: the one source of randomness for codes, tokens, session ids,
//! CSRF tokens and row ids. Bearer values are stored only as SHA-256 hashes, so a database dump
//! does not hand out working codes or tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A URL-safe random string carrying `bytes` bytes of entropy.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A fresh 256-bit bearer value (code, token, session id).
pub fn new_bearer() -> String {
    random_token(32)
}

/// A fresh row id (128 bits).
pub fn new_id() -> String {
    random_token(16)
}

/// base64url SHA-256: the stored form of a bearer value, and the PKCE S256 transform.
pub fn hash(value: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(value.as_bytes()))
}

/// Compares two secrets in constant time.
pub fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// `at_hash` (OpenID Connect Core 3.1.3.6) for SHA-256 based algorithms.
pub fn left_half_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}
