#![allow(clippy::unwrap_used)]

use base64::Engine;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use serde_json::{Value, json};

use super::*;

const ISS: &str = "https://id.example.vn";

struct Key {
    kid: String,
    private: Jwk,
    public: Jwk,
}

fn key(kid: &str) -> Key {
    let mut private = ES256.generate_key_pair().unwrap().to_jwk_key_pair();
    private.set_key_id(kid);
    let mut public = private.to_public_key().unwrap();
    public.set_key_id(kid);
    Key {
        kid: kid.into(),
        private,
        public,
    }
}

fn history(keys: &[(&Key, i64, Option<i64>)]) -> KeyHistory {
    let keys: Vec<Value> = keys
        .iter()
        .map(|(k, nbf, exp)| {
            let mut v = json!({"kid": k.kid, "alg": "ES256", "nbf": nbf, "jwk": k.public.as_ref()});
            if let Some(exp) = exp {
                v["exp"] = json!(exp);
            }
            v
        })
        .collect();
    KeyHistory::from_json(&json!({"issuer": ISS, "keys": keys}).to_string()).unwrap()
}

fn payload(iat: i64) -> Value {
    json!({
        "iss": ISS, "sub": "pairwise-sub", "aud": "demo-bank", "txn": "t1", "iat": iat,
        "acr": "urn:vneid:acr:level2", "amr": ["pwd", "otp", "mfa"], "auth_time": iat - 5,
        "claims": {"name": "Trần Thị Bình", "age_over_18": true},
        "verification": {"trust_framework": "vn_eid", "assurance_level": "level2"},
    })
}

fn sign_with(k: &Key, typ: &str, payload: &Value) -> String {
    let mut header = JwsHeader::new();
    header.set_token_type(typ);
    header.set_key_id(&k.kid);
    let signer = ES256.signer_from_jwk(&k.private).unwrap();
    josekit::jws::serialize_compact(payload.to_string().as_bytes(), &header, &signer).unwrap()
}

fn sign(k: &Key, payload: &Value) -> String {
    sign_with(k, RECEIPT_TYPE, payload)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn a_receipt_verifies_after_two_rotations_with_its_own_key() {
    let (k1, k2, k3) = (key("k1"), key("k2"), key("k3"));
    let h = history(&[
        (&k1, 100, Some(200)),
        (&k2, 200, Some(300)),
        (&k3, 300, None),
    ]);
    let old = sign(&k1, &payload(150));
    let r = verify_receipt(&old, &h).unwrap();
    assert_eq!(r.kid, "k1");
    assert_eq!(r.level, Level::Level2);
    assert_eq!(r.claim("age_over_18"), Some(&json!(true)));
    assert_eq!(r.claims.sub, "pairwise-sub");
    // The current key has no end: a receipt of today (years later) verifies.
    assert!(verify_receipt(&sign(&k3, &payload(9_999_999_999)), &h).is_ok());
}

#[test]
fn an_altered_claim_breaks_the_signature() {
    let k1 = key("k1");
    let h = history(&[(&k1, 100, None)]);
    let genuine = sign(&k1, &payload(150));
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut altered = payload(150);
    altered["claims"]["name"] = json!("Nguyễn Văn Giả");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(altered.to_string().as_bytes()),
        parts[2]
    );
    assert!(matches!(
        verify_receipt(&forged, &h),
        Err(ReceiptError::Signature)
    ));
}

#[test]
fn a_receipt_signed_by_another_key_under_a_known_kid_is_refused() {
    let (k1, attacker) = (key("k1"), key("k1"));
    let h = history(&[(&k1, 100, None)]);
    assert!(matches!(
        verify_receipt(&sign(&attacker, &payload(150)), &h),
        Err(ReceiptError::Signature)
    ));
    let stranger = key("unknown");
    assert!(matches!(
        verify_receipt(&sign(&stranger, &payload(150)), &h),
        Err(ReceiptError::UnknownKey(Some(_)))
    ));
}

#[test]
fn a_key_used_outside_its_validity_period_is_refused() {
    let (k1, k2) = (key("k1"), key("k2"));
    let h = history(&[(&k1, 100, Some(200)), (&k2, 200, None)]);
    // A leaked retired key signing a receipt dated after its retirement.
    assert!(matches!(
        verify_receipt(&sign(&k1, &payload(201)), &h),
        Err(ReceiptError::KeyNotValidAt { iat: 201, .. })
    ));
    // A new key signing a receipt backdated to before it existed.
    assert!(matches!(
        verify_receipt(&sign(&k2, &payload(199)), &h),
        Err(ReceiptError::KeyNotValidAt { iat: 199, .. })
    ));
    assert!(verify_receipt(&sign(&k1, &payload(200)), &h).is_ok());
}

#[test]
fn alg_none_hs256_and_other_types_are_refused() {
    let k1 = key("k1");
    let h = history(&[(&k1, 100, None)]);
    let body = b64(payload(150).to_string().as_bytes());
    let none = format!(
        "{}.{body}.",
        b64(json!({"alg": "none", "typ": RECEIPT_TYPE, "kid": "k1"})
            .to_string()
            .as_bytes())
    );
    assert!(matches!(
        verify_receipt(&none, &h),
        Err(ReceiptError::Algorithm(a)) if a == "none"
    ));
    let hs = format!(
        "{}.{body}.c2ln",
        b64(json!({"alg": "HS256", "typ": RECEIPT_TYPE, "kid": "k1"})
            .to_string()
            .as_bytes())
    );
    assert!(matches!(
        verify_receipt(&hs, &h),
        Err(ReceiptError::Algorithm(_))
    ));
    // An ID token (typ JWT) signed by the same key is not a receipt.
    assert!(matches!(
        verify_receipt(&sign_with(&k1, "JWT", &payload(150)), &h),
        Err(ReceiptError::WrongType(Some(t))) if t == "JWT"
    ));
    for junk in ["", "a.b", "a.b.c.d", "!!.b.c"] {
        assert!(verify_receipt(junk, &h).is_err(), "{junk}");
    }
}

#[test]
fn another_issuer_or_level_is_refused() {
    let k1 = key("k1");
    let h = history(&[(&k1, 100, None)]);
    let mut other = payload(150);
    other["iss"] = json!("https://evil.example");
    assert!(matches!(
        verify_receipt(&sign(&k1, &other), &h),
        Err(ReceiptError::Issuer { .. })
    ));
    let mut level = payload(150);
    level["acr"] = json!("urn:vneid:acr:level3");
    assert!(matches!(
        verify_receipt(&sign(&k1, &level), &h),
        Err(ReceiptError::Level(_))
    ));
    assert!(KeyHistory::from_json("{\"keys\":[]}").is_err());
}
