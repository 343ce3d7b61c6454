//! The ID token checks, on tokens signed here with an RSA test key (RS256).

use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreGenderClaim, CoreIdTokenClaims, CoreJsonWebKey, CoreRsaPrivateSigningKey,
};
use openidconnect::{
    Audience, AuthenticationContextClass, EmptyAdditionalClaims, JsonWebKeyId, PrivateSigningKey,
    StandardClaims, SubjectIdentifier,
};

use super::*;

/// A 1024-bit key: small so that unoptimised test builds sign quickly. Test use only.
const TEST_KEY: &str = "\
-----BEGIN RSA PRIVATE KEY-----\n\
MIICXgIBAAKBgQC3eFtcggG8K4xM8ndwZHa+xkCkkSlUeW8W0Ro4AFwV8Qh+Fp58\n\
sI60ZLt3YECn0RctMgfhAeVCF+N4zZBooHuNDpwyt3Tj3PMoiHPTxM/dh0zbUi+O\n\
XwEH/0U37PUFW+5iuj8HxgEW5Cza/4nfOfYqess+Kif7TuhY/068ptvOSQIDAQAB\n\
AoGAFLai4evPlFX6Tgml0GuXOGybibjVyLK5BwNuiVoJC3Ud91ZIaF1qjxU8UPrt\n\
8cRacIDQgOe84VxfExlqL1XG/PHgRCDSwWnh3jQ3f532qWMfTxSlNB0zeeYbwyJZ\n\
YVXBoiXWUzVv7EcHYdD8+5/W7PpHwvBUIMxvR6XKPYrMZQ0CQQDlfFVfAjDvN+bi\n\
IIPBmnVw4NBqx1BJDq2k5quOKjb32wgphdRDslpNSoMCUPrGpjmrq7Retk7Mnhir\n\
+oClAmTHAkEAzKr891T4UA2H0GiP752kXfMB4AcYmci5//BFpUDM97Y3Qf5l7aof\n\
i4NFMF3tUGHwSG/we3K99kx2eI/Nh8kEbwJBAKD5+pjO3Kyxtg/hZwsj4kXwLcL5\n\
VWQqG7yU4rqy+iQbTTpzWlaygY2+OvAhBgjbCZFWvQvDLrtyGzRoYF1ftHkCQQCm\n\
hKPGc8qID0olxTz+fmsByToIVJ2uWUMDujBf8GYTUJyKw/mYMWby8n2ziWgQk26U\n\
8QZe2g82OiXVl2JojKNfAkEAsBVXcItqPPyZaW/Jnsy7zkTKDufMVb/5XrII80US\n\
JlRWMs5PRO5cL83DD/8JmrLWAvHoDNvgXV5GC8SoNtkUSQ==\n\
-----END RSA PRIVATE KEY-----\n\
";

const ISSUER: &str = "https://id.example.vn";
const NOW: i64 = 1_790_000_000;

fn at(t: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(t, 0).unwrap()
}

fn key() -> CoreRsaPrivateSigningKey {
    CoreRsaPrivateSigningKey::from_pem(TEST_KEY, Some(JsonWebKeyId::new("k1".into()))).unwrap()
}

fn jwks() -> CoreJsonWebKeySet {
    let public: CoreJsonWebKey = key().as_verification_key();
    CoreJsonWebKeySet::new(vec![public])
}

fn claims() -> CoreIdTokenClaims {
    CoreIdTokenClaims::new(
        IssuerUrl::new(ISSUER.into()).unwrap(),
        vec![Audience::new("bank".into())],
        at(NOW + 300),
        at(NOW),
        StandardClaims::<CoreGenderClaim>::new(SubjectIdentifier::new("citizen".into())),
        EmptyAdditionalClaims {},
    )
    .set_nonce(Some(Nonce::new("n0nce".into())))
    .set_auth_time(Some(at(NOW - 10)))
    .set_auth_context_ref(Some(AuthenticationContextClass::new(
        Level::Level2.acr().into(),
    )))
    .set_authorized_party(Some(ClientId::new("bank".into())))
}

fn sign(claims: CoreIdTokenClaims, access_token: Option<&AccessToken>) -> CoreIdToken {
    CoreIdToken::new(
        claims,
        &key(),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        access_token,
        None,
    )
    .unwrap()
}

fn check(
    token: &CoreIdToken,
    level: Option<Level>,
    max_age: Option<i64>,
) -> Result<VerifiedIdToken, SdkError> {
    let issuer = IssuerUrl::new(ISSUER.into()).unwrap();
    let client_id = ClientId::new("bank".into());
    let nonce = Nonce::new("n0nce".into());
    let expected = Expected {
        issuer: &issuer,
        client_id: &client_id,
        nonce: &nonce,
        level,
        max_age,
        at_hash_required: true,
        now: NOW,
    };
    verify(token, &AccessToken::new("at".into()), &jwks(), &expected)
}

fn problem_of(result: Result<VerifiedIdToken, SdkError>) -> IdTokenError {
    match result {
        Err(SdkError::InvalidIdToken(problem)) => problem,
        other => panic!("expected an invalid ID token, got {other:?}"),
    }
}

#[test]
fn an_honest_token_passes_every_check() {
    let at = AccessToken::new("at".into());
    let verified = check(&sign(claims(), Some(&at)), Some(Level::Level1), Some(600)).unwrap();
    assert_eq!(verified.subject, "citizen");
    assert_eq!(
        verified.level,
        Some(Level::Level2),
        "level 2 satisfies level 1"
    );
    assert_eq!(verified.auth_time, Some(NOW - 10));
    assert_eq!(verified.payload["acr"], "urn:vneid:acr:level2");
    assert_eq!(verified.raw.split('.').count(), 3);
}

#[test]
fn claims_the_library_leaves_to_us_are_checked() {
    let at = AccessToken::new("at".into());
    let other_at = AccessToken::new("another".into());
    assert!(matches!(
        problem_of(check(&sign(claims(), Some(&other_at)), None, None)),
        IdTokenError::AccessTokenHashMismatch
    ));
    assert!(matches!(
        problem_of(check(&sign(claims(), None), None, None)),
        IdTokenError::AccessTokenHashMissing
    ));
    let azp = claims().set_authorized_party(Some(ClientId::new("portal".into())));
    assert!(matches!(
        problem_of(check(&sign(azp, Some(&at)), None, None)),
        IdTokenError::AuthorizedParty { .. }
    ));
    let future = claims().set_issue_time(at_time(NOW + LEEWAY + 5));
    assert!(matches!(
        problem_of(check(&sign(future, Some(&at)), None, None)),
        IdTokenError::IssuedInFuture
    ));
    let no_auth_time = claims().set_auth_time(None);
    assert!(matches!(
        problem_of(check(
            &sign(no_auth_time, Some(&at)),
            Some(Level::Level1),
            None
        )),
        IdTokenError::AuthTimeMissing
    ));
    let old = claims().set_auth_time(Some(at_time(NOW - 3600)));
    assert!(matches!(
        check(&sign(old, Some(&at)), Some(Level::Level1), Some(300)),
        Err(SdkError::LoginTooOld { max_age: 300, .. })
    ));
}

#[test]
fn the_library_checks_are_mapped_to_typed_problems() {
    let at = AccessToken::new("at".into());
    let expired = claims().set_expiration(at_time(NOW - LEEWAY - 1));
    assert!(matches!(
        problem_of(check(&sign(expired, Some(&at)), None, None)),
        IdTokenError::Expired(_)
    ));
    // Within the skew: still accepted.
    let just_expired = claims().set_expiration(at_time(NOW - 5));
    assert!(check(&sign(just_expired, Some(&at)), None, None).is_ok());
    let nonce = claims().set_nonce(Some(Nonce::new("other".into())));
    assert!(matches!(
        problem_of(check(&sign(nonce, Some(&at)), None, None)),
        IdTokenError::Nonce(_)
    ));
    let aud = claims().set_audiences(vec![Audience::new("portal".into())]);
    assert!(matches!(
        problem_of(check(&sign(aud, Some(&at)), None, None)),
        IdTokenError::Audience(_)
    ));
    let two = claims().set_audiences(vec![
        Audience::new("bank".into()),
        Audience::new("portal".into()),
    ]);
    assert!(matches!(
        problem_of(check(&sign(two, Some(&at)), None, None)),
        IdTokenError::Audience(_)
    ));
    let iss = claims().set_issuer(IssuerUrl::new("https://evil.example".into()).unwrap());
    assert!(matches!(
        problem_of(check(&sign(iss, Some(&at)), None, None)),
        IdTokenError::Issuer(_)
    ));
    let unknown_kid = CoreIdToken::new(
        claims(),
        &CoreRsaPrivateSigningKey::from_pem(TEST_KEY, Some(JsonWebKeyId::new("k2".into())))
            .unwrap(),
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        Some(&at),
        None,
    )
    .unwrap();
    let err = check(&unknown_kid, None, None).unwrap_err();
    assert!(is_unknown_key(&err), "{err:?}");
}

fn at_time(t: i64) -> DateTime<Utc> {
    at(t)
}

#[test]
fn the_level_check_fails_closed() {
    assert_eq!(
        check_level(Some(Level::Level2.acr()), Some(Level::Level2)).unwrap(),
        Some(Level::Level2)
    );
    assert_eq!(
        check_level(Some(Level::Level2.acr()), Some(Level::Level1)).unwrap(),
        Some(Level::Level2)
    );
    assert!(matches!(
        check_level(Some(Level::Level1.acr()), Some(Level::Level2)),
        Err(SdkError::LevelTooLow {
            required: Level::Level2,
            reached: Some(Level::Level1)
        })
    ));
    for acr in [None, Some("urn:vneid:acr:level3"), Some(""), Some("level2")] {
        assert!(
            matches!(
                check_level(acr, Some(Level::Level1)),
                Err(SdkError::LevelTooLow { reached: None, .. })
            ),
            "{acr:?}"
        );
    }
    // Without a level asked (a provider without VNeID levels) nothing is required.
    assert_eq!(check_level(Some("urn:other"), None).unwrap(), None);
}

#[test]
fn auth_time_is_required_recent_and_not_in_the_future() {
    assert_eq!(
        check_auth_time(Some(NOW - 5), true, None, NOW).unwrap(),
        Some(NOW - 5)
    );
    assert_eq!(check_auth_time(None, false, None, NOW).unwrap(), None);
    assert!(check_auth_time(None, true, None, NOW).is_err());
    assert!(check_auth_time(None, false, Some(60), NOW).is_err());
    assert!(check_auth_time(Some(NOW + LEEWAY + 1), false, None, NOW).is_err());
    assert!(
        check_auth_time(Some(NOW - 100), true, Some(60), NOW).is_ok(),
        "within the skew"
    );
    assert!(matches!(
        check_auth_time(Some(NOW - 200), true, Some(60), NOW),
        Err(SdkError::LoginTooOld {
            age: 200,
            max_age: 60
        })
    ));
}

#[test]
fn the_header_is_read_for_messages_only() {
    let h = Header::of("eyJhbGciOiJub25lIiwia2lkIjoiazEifQ.e30.");
    assert_eq!((h.alg.as_str(), h.kid.as_deref()), ("none", Some("k1")));
    let h = Header::of("garbage");
    assert_eq!((h.alg.as_str(), h.kid), ("", None));
    assert!(payload("a.bm90IGpzb24.c").is_err());
}
