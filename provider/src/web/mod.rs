//! The pages a person sees: login, second factor, consent, "Level 2 needed", errors.

pub mod account;
pub mod desk;
pub mod interaction;
pub mod lang;
pub mod logout;
pub mod pages;
pub mod passkey;
pub mod qr_login;
pub mod session;
pub mod texts;
