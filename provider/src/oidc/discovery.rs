//! Discovery (OpenID Connect Discovery 1.0) and the JWKS. Only what works is listed.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use vneid_contract::{Claim, Level, Scope};

use super::paths;
use super::types::{ClientAuthMethod, GrantType, SigningAlg};
use crate::state::AppState;

/// Builds the discovery document (once, at start).
pub fn document(issuer: &str, config: &crate::config::Config) -> String {
    let url = |p: &str| format!("{issuer}{p}");
    let auth_methods = ClientAuthMethod::ALL
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>();
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": url(paths::AUTHORIZE),
        "token_endpoint": url(paths::TOKEN),
        "userinfo_endpoint": url(paths::USERINFO),
        "jwks_uri": url(paths::JWKS),
        "end_session_endpoint": url(paths::END_SESSION),
        "pushed_authorization_request_endpoint": url(paths::PAR),
        "require_pushed_authorization_requests": config.clients.require_pushed_authorization_requests,
        "revocation_endpoint": url(paths::REVOCATION),
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "introspection_endpoint": url(paths::INTROSPECTION),
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "scopes_supported": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "claims_supported": claims_supported(),
        "acr_values_supported": Level::ALL.iter().map(|l| l.acr()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": SigningAlg::BOTH.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256", "PS256"],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": super::dpop::ALGS,
        "backchannel_authentication_endpoint": url(paths::BACKCHANNEL_AUTHENTICATION),
        "backchannel_token_delivery_modes_supported": super::ciba::DeliveryMode::ALL.iter().map(|m| m.as_str()).collect::<Vec<_>>(),
        "backchannel_user_code_parameter_supported": false,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": true,
        "request_parameter_supported": true,
        "request_object_signing_alg_values_supported": ["ES256", "PS256", "RS256"],
        // request_uri only as the reference to a pushed request: nothing is fetched.
        "request_uri_parameter_supported": false,
        "require_request_uri_registration": false,
        "authorization_response_iss_parameter_supported": true,
        "ui_locales_supported": ["vi", "en"],
        "claim_types_supported": ["normal"],
        "verified_claims_supported": true,
        "trust_frameworks_supported": [vneid_contract::TRUST_FRAMEWORK],
        "evidence_supported": ["electronic_record"],
        vneid_contract::KEY_HISTORY_METADATA: url(paths::KEY_HISTORY),
        "vneid_predicate_claims_supported": super::predicates::supported(),
        vneid_contract::EVENTS_POLL_METADATA: url(paths::EVENTS_POLL),
        "vneid_security_events_supported": vneid_contract::AccountEvent::ALL.iter().map(|e| e.uri()).collect::<Vec<_>>(),
        "claims_in_verified_claims_supported": Claim::ALL.iter().filter(|c| c.scope().is_some() && **c != Claim::Sub && **c != Claim::Portrait).map(|c| c.as_str()).collect::<Vec<_>>(),
    });
    // Back-channel logout (with `sid`), encrypted ID tokens and UserInfo, signed UserInfo.
    let key_algs: Vec<&str> = super::encryption::KeyAlg::ALL
        .iter()
        .map(|a| a.as_str())
        .collect();
    let encs: Vec<&str> = super::encryption::ContentEnc::ALL
        .iter()
        .map(|e| e.as_str())
        .collect();
    let signing: Vec<&str> = SigningAlg::BOTH.iter().map(|a| a.as_str()).collect();
    doc["backchannel_logout_supported"] = json!(true);
    doc["backchannel_logout_session_supported"] = json!(true);
    doc["id_token_encryption_alg_values_supported"] = json!(key_algs);
    doc["id_token_encryption_enc_values_supported"] = json!(encs);
    doc["userinfo_encryption_alg_values_supported"] = json!(key_algs);
    doc["userinfo_encryption_enc_values_supported"] = json!(encs);
    doc["userinfo_signing_alg_values_supported"] = json!(signing);
    if crate::oidc::registration::initial_access_token(config).is_some()
        || super::software_statement::enabled(config)
    {
        doc["registration_endpoint"] = json!(url(paths::REGISTRATION));
    }
    doc.to_string()
}

/// The claims discovery lists: the contract's, the protocol's, the eKYC receipt, and every
/// predicate claim with a fixed name (`age_over_N` is listed with the predicates, as its N is
/// the one each client registered).
fn claims_supported() -> Vec<String> {
    Claim::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(["iss", "aud", "exp", "iat", "nonce", "azp", "at_hash", "sid"])
        .chain([vneid_contract::RECEIPT_MEMBER])
        .map(str::to_string)
        .chain(
            super::predicates::supported()
                .into_iter()
                .filter(|p| vneid_contract::Predicate::parse(p).is_some()),
        )
        .collect()
}

/// `GET /.well-known/openid-configuration`.
pub async fn discovery(State(state): State<AppState>) -> Response {
    let doc = state.discovery.clone();
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        doc,
    )
        .into_response()
}

/// `GET /jwks`.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let body = state.keys.jwks().to_string();
    (
        [
            (header::CONTENT_TYPE, "application/jwk-set+json"),
            (header::CACHE_CONTROL, "public, max-age=60"),
        ],
        body,
    )
        .into_response()
}
