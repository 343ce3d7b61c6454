//! The pages a person sees: login, second factor, consent, "Level 2 needed", errors.

pub mod account;
pub mod desk;
pub mod interaction;
pub mod logout;
pub mod pages;
pub mod qr_login;
pub mod session;
pub mod texts;
