//! argon2id password hashing, always on the blocking pool: a hash takes tens of milliseconds of
//! CPU and must never stall the async workers.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::error::AppError;

/// Hashes a password (PHC string with a fresh salt).
pub async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password))
        .await
        .map_err(|e| AppError::Password(e.to_string()))?
}

/// Hashes a password on the current thread (command-line tools, seeding).
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Password(e.to_string()))
}

/// Whether a new password is acceptable: 8 to 256 characters, letters and digits, not the
/// identification number.
pub fn acceptable(new: &str, username: &str) -> bool {
    let len = new.chars().count();
    (8..=256).contains(&len)
        && new.chars().any(char::is_alphabetic)
        && new.chars().any(|c| c.is_ascii_digit())
        && !new.contains(username)
}

/// Checks a password against a stored hash.
pub async fn verify(password: String, stored: String) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored).map_err(|e| AppError::Password(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| AppError::Password(e.to_string()))?
}
