//! End-to-end tests: the real provider on an ephemeral port, on SQLite and on PostgreSQL,
//! driven over HTTP by a scripted browser and by a relying party built on `openidconnect`.

#![allow(clippy::unwrap_used)]

mod account_attacks;
mod app_approval;
mod backchannel;
mod browser;
mod ciba;
mod client_registration;
mod consent;
mod desk;
mod dpop;
mod encrypted_responses;
mod events;
mod fapi2;
mod flows;
mod forged;
mod interop;
mod journey;
mod law;
mod levels;
mod limits;
mod logout;
mod metrics;
mod notify;
mod oidc_differences;
mod par;
mod parsers;
mod predicates;
mod private_key_jwt;
mod protocol;
mod receipt;
mod registration;
mod registration_attacks;
mod registration_law;
mod registry_http;
mod revocation;
mod sdk;
mod second_factor;
mod selfservice;
mod sessions;
mod tokens;
