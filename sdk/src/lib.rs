//! Relying-party SDK for the VNeID OpenID provider (work in progress): for now it re-exports the
//! contract's vocabulary, so relying parties and the provider share one definition of levels,
//! scopes and claims.

#![warn(missing_docs)]

pub use vneid_contract::{ACR_LEVEL1, ACR_LEVEL2, Claim, Level, PersonalIdNumber, Scope, ScopeSet};
