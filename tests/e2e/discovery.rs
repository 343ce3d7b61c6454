//! "Discovery advertises exactly what works" (issue 9): every member of the discovery document is
//! in the inventory below with the tests that exercise its values, and each of those tests
//! exists. A member added to discovery without a test, or a test renamed away, fails here.
//! What is not advertised is refused (`protocol::authorization_errors_are_redirected_with_state_and_iss`:
//! other response types and modes, PKCE `plain`, `request_uri` from outside PAR).

use serde_json::Value;
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, TestProvider, login, on_both_backends, spawn_provider, spawn_provider_with,
};

/// Each discovery member, and the tests (`file::function` under `tests/e2e`) that use it.
const INVENTORY: &[(&str, &[&str])] = &[
    ("issuer", &["protocol::discovery_lists_the_contract"]),
    ("authorization_endpoint", &["flows::level1_login"]),
    ("token_endpoint", &["flows::level1_login"]),
    ("userinfo_endpoint", &["flows::level1_login"]),
    (
        "jwks_uri",
        &[
            "protocol::discovery_lists_the_contract",
            "tokens::keys_rotate_with_overlap",
        ],
    ),
    (
        "end_session_endpoint",
        &["logout::logout_with_only_an_id_token_hint_returns_to_the_rp"],
    ),
    (
        "pushed_authorization_request_endpoint",
        &["par::a_pushed_request_logs_in_once"],
    ),
    (
        "require_pushed_authorization_requests",
        &["par::the_server_can_require_par_for_everyone"],
    ),
    (
        "revocation_endpoint",
        &["revocation::revocation_takes_the_family_and_only_ones_own"],
    ),
    (
        "revocation_endpoint_auth_methods_supported",
        &[
            "revocation::revocation_takes_the_family_and_only_ones_own",
            "sdk/later::refresh_rotation_revocation_and_logout",
        ],
    ),
    (
        "revocation_endpoint_auth_signing_alg_values_supported",
        &["sdk/later::refresh_rotation_revocation_and_logout"],
    ),
    (
        "introspection_endpoint",
        &["revocation::introspection_is_for_resource_servers"],
    ),
    (
        "introspection_endpoint_auth_methods_supported",
        &["revocation::introspection_is_for_resource_servers"],
    ),
    (
        "introspection_endpoint_auth_signing_alg_values_supported",
        &["revocation::introspection_is_for_resource_servers"],
    ),
    (
        "scopes_supported",
        &[
            "protocol::discovery_lists_the_contract",
            "flows::level2_login_with_totp",
            "predicates::tokens_and_userinfo",
        ],
    ),
    (
        "claims_supported",
        &[
            "protocol::discovery_lists_the_contract",
            "flows::level2_login_with_totp",
        ],
    ),
    (
        "acr_values_supported",
        &[
            "levels::step_up_asks_only_the_second_factor",
            "levels::level1_account_asked_level2_gets_unmet_requirements",
        ],
    ),
    (
        "response_types_supported",
        &[
            "flows::level1_login",
            "protocol::authorization_errors_are_redirected_with_state_and_iss",
        ],
    ),
    (
        "response_modes_supported",
        &["protocol::authorization_errors_are_redirected_with_state_and_iss"],
    ),
    (
        "grant_types_supported",
        &[
            "flows::level1_login",
            "tokens::refresh_tokens_rotate_and_detect_reuse",
            "registration::malformed_requests_get_400_and_record_nothing",
        ],
    ),
    (
        "subject_types_supported",
        &[
            "tokens::subjects_are_pairwise_and_stable",
            "protocol::authorization_errors_are_redirected_with_state_and_iss",
        ],
    ),
    (
        "id_token_signing_alg_values_supported",
        &[
            "flows::level1_login",
            "protocol::authorization_errors_are_redirected_with_state_and_iss",
        ],
    ),
    (
        "token_endpoint_auth_methods_supported",
        &[
            "flows::level1_login",
            "oidc_differences::a_secret_client_may_use_client_secret_post",
            "private_key_jwt::clients_authenticate_with_a_signed_assertion",
        ],
    ),
    (
        "token_endpoint_auth_signing_alg_values_supported",
        &[
            "private_key_jwt::clients_authenticate_with_a_signed_assertion",
            "fapi2::a_fapi2_client_logs_in_only_the_fapi_way",
        ],
    ),
    (
        "code_challenge_methods_supported",
        &["protocol::pkce_and_redirect_uri_are_bound_to_the_code"],
    ),
    (
        "dpop_signing_alg_values_supported",
        &[
            "dpop::bad_proofs_at_the_token_endpoint_leave_the_code",
            "dpop::discovery_lists_dpop_algorithms",
        ],
    ),
    (
        "prompt_values_supported",
        &[
            "sessions::consent_is_remembered_and_prompts_are_honoured",
            "sessions::prompt_login_and_max_age_force_a_fresh_login",
            "discovery::select_account_forces_a_fresh_login",
        ],
    ),
    (
        "claims_parameter_supported",
        &[
            "levels::acr_through_the_claims_parameter",
            "oidc_differences::an_essential_userinfo_claim_is_released_after_consent",
        ],
    ),
    (
        "request_parameter_supported",
        &[
            "par::a_signed_request_object_wins",
            "request_object_replay::a_request_object_is_used_once",
        ],
    ),
    (
        "request_object_signing_alg_values_supported",
        &[
            "par::bad_request_objects_are_refused",
            "fapi2::a_fapi2_request_object_must_be_es256_or_ps256",
        ],
    ),
    (
        "request_uri_parameter_supported",
        &["protocol::authorization_errors_are_redirected_with_state_and_iss"],
    ),
    (
        "require_request_uri_registration",
        &["protocol::authorization_errors_are_redirected_with_state_and_iss"],
    ),
    (
        "authorization_response_iss_parameter_supported",
        &["protocol::authorization_errors_are_redirected_with_state_and_iss"],
    ),
    (
        "ui_locales_supported",
        &["sessions::pages_speak_vietnamese_and_english"],
    ),
    ("claim_types_supported", &["flows::level1_login"]),
    (
        "backchannel_authentication_endpoint",
        &[
            "ciba::ciba_poll_login_approved_in_the_app",
            "ciba::openid_client_completes_a_ciba_poll_login",
        ],
    ),
    (
        "backchannel_token_delivery_modes_supported",
        &[
            "ciba::ciba_poll_login_approved_in_the_app",
            "ciba::ciba_ping_login_and_a_locked_account",
        ],
    ),
    (
        "backchannel_user_code_parameter_supported",
        &["ciba::ciba_metadata_is_validated_at_registration"],
    ),
    (
        "verified_claims_supported",
        &[
            "levels::acr_through_the_claims_parameter",
            "sdk/later::a_claims_request_and_a_login_hint_reach_our_provider",
        ],
    ),
    (
        "trust_frameworks_supported",
        &["protocol::discovery_lists_the_contract"],
    ),
    (
        "evidence_supported",
        &["sdk/later::a_claims_request_and_a_login_hint_reach_our_provider"],
    ),
    (
        "claims_in_verified_claims_supported",
        &["sdk/later::a_claims_request_and_a_login_hint_reach_our_provider"],
    ),
    (
        vneid_contract::KEY_HISTORY_METADATA,
        &["receipt::receipt_verified_offline_after_two_key_rotations"],
    ),
    (
        "vneid_predicate_claims_supported",
        &[
            "predicates::a_portal_asking_only_age_over_18_never_sees_the_birth_date",
            "predicates::document_predicates_need_level2_and_follow_the_date",
        ],
    ),
    (
        vneid_contract::EVENTS_POLL_METADATA,
        &["events::a_client_without_receiver_polls_and_acknowledges"],
    ),
    (
        "vneid_security_events_supported",
        &["events::revoking_an_account_at_the_desk_ends_the_portal_session"],
    ),
    (
        "backchannel_logout_supported",
        &["backchannel::rp_initiated_logout_sends_a_logout_token"],
    ),
    (
        "backchannel_logout_session_supported",
        &["backchannel::rp_initiated_logout_sends_a_logout_token"],
    ),
    (
        "id_token_encryption_alg_values_supported",
        &[
            "encrypted_responses::rsa_encrypted_id_token_and_signed_encrypted_userinfo",
            "encrypted_responses::ecdh_encryption_and_signed_only_userinfo",
        ],
    ),
    (
        "id_token_encryption_enc_values_supported",
        &["encrypted_responses::rsa_encrypted_id_token_and_signed_encrypted_userinfo"],
    ),
    (
        "userinfo_encryption_alg_values_supported",
        &["encrypted_responses::rsa_encrypted_id_token_and_signed_encrypted_userinfo"],
    ),
    (
        "userinfo_encryption_enc_values_supported",
        &["encrypted_responses::rsa_encrypted_id_token_and_signed_encrypted_userinfo"],
    ),
    (
        "userinfo_signing_alg_values_supported",
        &["encrypted_responses::ecdh_encryption_and_signed_only_userinfo"],
    ),
    // Only when registration is on (an initial access token or a software statement key).
    (
        "registration_endpoint",
        &[
            "client_registration::a_client_registers_and_manages_itself",
            "software_statements::a_statement_from_the_operator_registers_a_client",
        ],
    ),
];

/// Members that are present only with some configuration.
const CONDITIONAL: &[&str] = &["registration_endpoint"];

/// Whether `tests/e2e/{file}.rs` defines `function`.
fn test_exists(reference: &str) -> bool {
    let Some((file, function)) = reference.split_once("::") else {
        return false;
    };
    let path = format!("{}/e2e/{file}.rs", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).is_ok_and(|source| source.contains(&format!("fn {function}(")))
}

async fn document(provider: &TestProvider) -> serde_json::Map<String, Value> {
    let doc: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    doc.as_object().unwrap().clone()
}

/// The document holds exactly the inventory, and every test the inventory names exists.
async fn discovery_advertises_exactly_what_is_tested(backend: Backend) {
    let provider = spawn_provider_with(backend, |c| {
        c.clients.initial_access_token = Some("inventory".into())
    })
    .await;
    let doc = document(&provider).await;
    let listed: Vec<&str> = INVENTORY.iter().map(|(k, _)| *k).collect();
    for key in doc.keys() {
        assert!(
            listed.contains(&key.as_str()),
            "discovery advertises `{key}`: add it to the inventory with the test that exercises it"
        );
    }
    for (key, tests) in INVENTORY {
        assert!(
            doc.contains_key(*key),
            "`{key}` is in the inventory, not in discovery"
        );
        assert!(!tests.is_empty(), "`{key}` names no test");
        for test in *tests {
            assert!(test_exists(test), "`{key}`: no test `{test}`");
        }
    }
    // Without any way to register, no registration endpoint is advertised.
    let plain = spawn_provider(backend).await;
    let doc = document(&plain).await;
    for key in CONDITIONAL {
        assert!(!doc.contains_key(*key), "{key}");
    }
}

/// `prompt=select_account` (advertised) makes a citizen with a live session log in again: the
/// one account of a session is "selected" by logging in.
async fn select_account_forces_a_fresh_login(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    assert!(vneid_tests::param(&back, "code").is_some());
    let url = provider.authorize_url(&[("prompt", "select_account")]);
    let (_, _, html) = browser.navigate(&url).await.page();
    assert!(
        html.contains("name=\"password\""),
        "the login form again: {html}"
    );
}

on_both_backends!(
    discovery_advertises_exactly_what_is_tested,
    select_account_forces_a_fresh_login,
);
