use super::*;

const ISS: &str = "https://id.example.vn";

#[test]
fn a_good_callback_yields_its_code() {
    let cb = Callback::parse("?code=c0de&state=s1&iss=https%3A%2F%2Fid.example.vn").unwrap();
    assert_eq!(
        cb.into_code("s1", ISS, Some(Level::Level1)).unwrap(),
        "c0de"
    );
}

#[test]
fn state_is_checked_first_and_exactly() {
    assert!(check_state("abc", Some("abc")).is_ok());
    for received in [None, Some(""), Some("abd"), Some("ab"), Some("abcd")] {
        assert!(
            matches!(check_state("abc", received), Err(SdkError::StateMismatch)),
            "{received:?}"
        );
    }
    // An empty expected state never matches, not even an empty one.
    assert!(check_state("", Some("")).is_err());
    // A foreign error response is a state mismatch, not an error of this login.
    let cb =
        Callback::parse("error=access_denied&state=other&iss=https%3A%2F%2Fid.example.vn").unwrap();
    assert!(matches!(
        cb.into_code("s1", ISS, None),
        Err(SdkError::StateMismatch)
    ));
}

#[test]
fn iss_must_be_present_and_identical() {
    assert!(check_issuer(ISS, Some(ISS)).is_ok());
    assert!(matches!(
        check_issuer(ISS, None),
        Err(SdkError::IssuerMismatch { found: None, .. })
    ));
    for other in [
        "https://id.example.vn/",
        "https://ID.example.vn",
        "https://evil.example",
    ] {
        assert!(
            matches!(
                check_issuer(ISS, Some(other)),
                Err(SdkError::IssuerMismatch { found: Some(_), .. })
            ),
            "{other}"
        );
    }
    // Checked on error responses too: a mix-up attacker could forge those as well.
    let cb = Callback::parse("error=access_denied&state=s1").unwrap();
    assert!(matches!(
        cb.into_code("s1", ISS, None),
        Err(SdkError::IssuerMismatch { .. })
    ));
}

#[test]
fn provider_errors_become_typed_variants() {
    assert!(matches!(
        provider_error(
            "unmet_authentication_requirements",
            None,
            Some(Level::Level2)
        ),
        SdkError::InsufficientLevel {
            required: Level::Level2
        }
    ));
    assert!(matches!(
        provider_error("access_denied", Some("no"), None),
        SdkError::Denied
    ));
    for (code, kind) in [
        ("login_required", Interaction::Login),
        ("consent_required", Interaction::Consent),
        ("interaction_required", Interaction::Other),
    ] {
        match provider_error(code, None, None) {
            SdkError::InteractionRequired(k) => {
                assert_eq!(k, kind);
                assert_eq!(k.code(), code);
            }
            other => panic!("{code}: {other:?}"),
        }
    }
    match provider_error("invalid_scope", Some("not allowed `documents`"), None) {
        SdkError::Provider { code, description } => {
            assert_eq!(code, "invalid_scope");
            assert_eq!(description, "not allowed `documents`");
        }
        other => panic!("{other:?}"),
    }
    let cb = Callback::parse(
        "error=unmet_authentication_requirements&error_description=x&state=s1&iss=https%3A%2F%2Fid.example.vn",
    )
    .unwrap();
    assert!(matches!(
        cb.into_code("s1", ISS, Some(Level::Level2)),
        Err(SdkError::InsufficientLevel { .. })
    ));
}

#[test]
fn malformed_callbacks_are_refused() {
    assert!(matches!(
        Callback::parse("code=a&code=b&state=s"),
        Err(SdkError::MalformedCallback(_))
    ));
    let long = format!("code={}", "a".repeat(MAX_PARAM_LEN + 1));
    assert!(matches!(
        Callback::parse(&long),
        Err(SdkError::MalformedCallback(_))
    ));
    let cb = Callback::parse("state=s1&iss=https%3A%2F%2Fid.example.vn&other=x").unwrap();
    assert!(matches!(
        cb.into_code("s1", ISS, None),
        Err(SdkError::MissingCode)
    ));
    assert_eq!(Callback::parse("").unwrap(), Callback::default());
}
