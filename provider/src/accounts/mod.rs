//! Accounts: the typed account, passwords, second factors, and the claims an account releases.
//! The rules live here; `web/` only parses forms and renders the outcome.

pub mod account;
pub mod approval;
pub mod capture;
pub mod claims;
pub mod consent;
pub mod contact;
pub mod desk;
pub mod desk_guardian;
pub mod desk_login;
pub mod device;
pub mod documents;
pub mod eligibility;
pub mod enrolment;
pub mod evidence;
pub mod lifecycle;
pub mod login;
pub mod organization;
pub mod passkey;
pub mod password;
pub mod portrait;
pub mod registration;
pub mod reset;
pub mod second_factor;
pub mod selfservice;
pub mod totp;
