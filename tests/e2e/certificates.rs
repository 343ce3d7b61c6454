//! `x5c`: an operator CA certifies the signing keys; the chains are published in the JWKS and
//! the key history, and a bank checks an archived receipt up to the CA it trusts. A chain to
//! another CA, a chain of the right CA for another key (swapped in the history), a history
//! without chains, and a chain for another key given to `keys certify` are all refused.

use serde_json::Value;
use vneid_provider::keys::certificates::{CertificateError, DemoCa, certify};
use vneid_sdk::{KeyHistory, ReceiptError, verify_receipt_with_ca};
use vneid_tests::{Backend, on_both_backends, spawn_provider};

use crate::receipt::{bank, bank_login};

async fn json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

async fn a_receipt_is_verified_up_to_the_operator_ca(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (store, sealer, now) = (
        &provider.state.store,
        &provider.state.sealer,
        provider.state.now(),
    );
    let operator = DemoCa::generate("Operator CA", now).unwrap();
    let other = DemoCa::generate("Another CA", now).unwrap();
    assert!(
        operator
            .certify_uncertified(store, sealer, now)
            .await
            .unwrap()
            >= 2
    );
    assert_eq!(
        operator
            .certify_uncertified(store, sealer, now)
            .await
            .unwrap(),
        0
    );
    provider.state.keys.reload(now).await.unwrap();
    let jwks = json(&format!("{}/jwks", provider.base)).await;
    for key in jwks["keys"].as_array().unwrap() {
        assert!(key["x5c"].as_array().is_some_and(|c| c.len() == 2), "{key}");
        assert!(key.get("d").is_none());
    }

    let identity = bank_login(&provider, &bank(&provider).await).await.unwrap();
    let signed = identity.receipt.expect("a receipt");
    let history = &signed.key_history;
    let ca = operator.pem().unwrap();
    let checked = verify_receipt_with_ca(&signed.jws, history, ca.as_bytes()).unwrap();
    assert_eq!(checked.kid, signed.receipt.kid);

    // Another CA: refused.
    let err = verify_receipt_with_ca(&signed.jws, history, other.pem().unwrap().as_bytes());
    assert!(matches!(err, Err(ReceiptError::Untrusted(_))), "{err:?}");
    // Both CAs given: the operator's is among them, accepted.
    let both = format!("{}{}", other.pem().unwrap(), ca);
    assert!(verify_receipt_with_ca(&signed.jws, history, both.as_bytes()).is_ok());

    // The history with the receipt key's chain swapped for the other key's (a genuine chain
    // of the right CA, for the RS256 key): refused, the certificate holds another key.
    let mut doc: Value = serde_json::from_str(history.json()).unwrap();
    let keys = doc["keys"].as_array_mut().unwrap();
    let foreign = keys
        .iter()
        .find(|k| k["kid"] != checked.kid.as_str())
        .unwrap()["jwk"]["x5c"]
        .clone();
    let mine = keys
        .iter_mut()
        .find(|k| k["kid"] == checked.kid.as_str())
        .unwrap();
    mine["jwk"]["x5c"] = foreign;
    let swapped = KeyHistory::from_json(&doc.to_string()).unwrap();
    let err = verify_receipt_with_ca(&signed.jws, &swapped, ca.as_bytes());
    assert!(matches!(err, Err(ReceiptError::Untrusted(_))), "{err:?}");
    // No chain at all: refused as such (the plain check still passes).
    let mine = doc["keys"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|k| k["kid"] == checked.kid.as_str())
        .unwrap();
    mine["jwk"].as_object_mut().unwrap().remove("x5c");
    let bare = KeyHistory::from_json(&doc.to_string()).unwrap();
    assert!(vneid_sdk::verify_receipt(&signed.jws, &bare).is_ok());
    let err = verify_receipt_with_ca(&signed.jws, &bare, ca.as_bytes());
    assert!(
        matches!(err, Err(ReceiptError::NoCertificateChain(_))),
        "{err:?}"
    );

    // `keys certify` with a certificate for another key (here the other CA's own): refused,
    // and the published chain is unchanged.
    let err = certify(
        store,
        sealer,
        &checked.kid,
        other.pem().unwrap().as_bytes(),
        now,
    )
    .await;
    assert!(
        matches!(err, Err(CertificateError::NotThisKey(_))),
        "{err:?}"
    );
    let err = certify(store, sealer, "no-such-kid", ca.as_bytes(), now).await;
    assert!(matches!(err, Err(CertificateError::NoKey(_))), "{err:?}");
    let history = json(&format!("{}/.well-known/vneid-key-history", provider.base)).await;
    let published = history["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == checked.kid.as_str())
        .unwrap()["jwk"]["x5c"]
        .clone();
    let archived: Value = serde_json::from_str(signed.key_history.json()).unwrap();
    let archived = archived["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == checked.kid.as_str())
        .unwrap()["jwk"]["x5c"]
        .clone();
    assert_eq!(published, archived);
}

on_both_backends!(a_receipt_is_verified_up_to_the_operator_ca);
