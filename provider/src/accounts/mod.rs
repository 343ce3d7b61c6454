//! Accounts: passwords, second factors, and the claims an account releases.

pub mod claims;
pub mod contact;
pub mod login;
pub mod password;
pub mod registration;
pub mod totp;
