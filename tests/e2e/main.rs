//! End-to-end tests: the real provider on an ephemeral port, on SQLite and on PostgreSQL,
//! driven over HTTP by a scripted browser and by a relying party built on `openidconnect`.

#![allow(clippy::unwrap_used)]

mod account_attacks;
mod account_words;
mod app_approval;
mod backchannel;
mod browser;
mod certificates;
mod ciba;
mod client_registration;
mod consent;
mod contacts;
mod desk;
mod desk_law;
mod discovery;
mod discovery_features;
mod dpop;
mod encrypted_responses;
mod events;
mod fapi2;
mod flows;
mod forged;
mod guardians;
mod interop;
mod journey;
mod law;
mod levels;
mod limits;
mod logout;
mod metrics;
mod notify;
mod oidc_differences;
mod organization_choice;
mod par;
mod parsers;
mod passkeys;
mod predicates;
mod private_key_jwt;
mod protocol;
mod receipt;
mod registration;
mod registration_attacks;
mod registration_law;
mod registry_http;
mod request_object_replay;
mod residence;
mod revocation;
mod sdk;
mod second_factor;
mod selfservice;
mod sessions;
mod software_statements;
mod tokens;
