//! Discovery advertises each feature of issue 10: the eKYC receipt (scope, claim, key
//! history), the predicate claims (in `claims_supported` and their own list), the
//! account-status events (poll endpoint and event types).

use serde_json::Value;
use vneid_tests::{Backend, on_both_backends, spawn_provider};

fn strings(doc: &Value, member: &str) -> Vec<String> {
    doc[member]
        .as_array()
        .unwrap_or_else(|| panic!("{member} missing: {doc}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

async fn discovery_advertises_receipts_predicates_and_events(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let doc: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let scopes = strings(&doc, "scopes_supported");
    assert!(scopes.contains(&"ekyc_receipt".to_string()), "{scopes:?}");
    let claims = strings(&doc, "claims_supported");
    for claim in [
        "ekyc_receipt",
        "document_valid:driving_licence",
        "document_valid:health_insurance_card",
        "document_valid:passport",
        "resident_of:01",
        "resident_of:79",
        "resident_of:96",
    ] {
        assert!(claims.contains(&claim.to_string()), "{claim}: {claims:?}");
    }
    // 34 current provinces; none of the codes that disappeared on 1 July 2025.
    assert_eq!(
        claims
            .iter()
            .filter(|c| c.starts_with("resident_of:"))
            .count(),
        34
    );
    assert!(!claims.contains(&"resident_of:02".to_string()));
    let predicates = strings(&doc, "vneid_predicate_claims_supported");
    assert!(predicates.contains(&"age_over_N".to_string()));
    assert!(predicates.contains(&"resident_of:01".to_string()));
    assert_eq!(
        doc["vneid_key_history_uri"],
        format!("{}/.well-known/vneid-key-history", provider.issuer)
    );
    assert_eq!(
        doc["vneid_security_events_poll_endpoint"],
        format!("{}/events/poll", provider.issuer)
    );
    let events = strings(&doc, "vneid_security_events_supported");
    assert_eq!(events.len(), 5, "{events:?}");
    assert!(
        events.iter().any(|e| e.ends_with("assurance-level-change")),
        "{events:?}"
    );
    // Each advertised endpoint answers.
    let history = reqwest::get(doc["vneid_key_history_uri"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(history.status(), 200);
}

on_both_backends!(discovery_advertises_receipts_predicates_and_events);
