//! Issue 4's journey on both backends: a person who exists only in an imported registry file
//! registers Level 1 through the API, receives the SMS password, logs in at Level 1 (changing
//! it), is upgraded to Level 2 at the desk by an officer, and logs in at Level 2 with the
//! enrolled second factor. The desk's lock and revoke end sessions and tokens.

use vneid_sdk::{ClientCredentials, Level, LoginRequest, ScopeSet, VneidClient};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{Backend, TestProvider, on_both_backends, spawn_provider};

use super::registration::{chau, import, sms_password, submit, template};

async fn client(provider: &TestProvider, id: &str) -> VneidClient {
    let (secret, port) = if id == "demo-portal" {
        ("demo-portal-secret", 3001)
    } else {
        ("demo-bank-secret", 3002)
    };
    VneidClient::discover(
        &provider.issuer,
        id,
        ClientCredentials::Secret(secret.into()),
        &format!("http://127.0.0.1:{port}/callback"),
    )
    .await
    .unwrap()
}

/// The demo registrar's desk session in `browser`.
pub async fn officer_login(provider: &TestProvider, browser: &Browser) {
    officer_login_as(provider, browser, "canbo01").await;
}

/// A demo officer's desk session in `browser` (`canbo01` registrar, `giamsat01` supervisor).
pub async fn officer_login_as(provider: &TestProvider, browser: &Browser, username: &str) {
    officer_login_with(provider, browser, username, "Demo@2026", "JBSWY3DPEHPK3PXP").await;
}

/// An officer's desk session in `browser`, with the officer's password and TOTP secret.
pub async fn officer_login_with(
    provider: &TestProvider,
    browser: &Browser,
    username: &str,
    password: &str,
    totp_secret: &str,
) {
    let (url, _, html) = browser
        .navigate(&format!("{}/desk", provider.base))
        .await
        .page();
    let code = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(totp_secret).unwrap())
        .build_noncompliant()
        .generate(provider.state.now() as u64)
        .to_string();
    let (_, _, html) = browser
        .submit(
            &url,
            &html,
            "/desk/login",
            &[
                ("username", username),
                ("password", password),
                ("otp", &code),
            ],
        )
        .await
        .page();
    assert!(html.contains("/desk/people"), "the officer is in: {html}");
}

fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap() + start.len();
    &html[from..from + html[from..].find(end).unwrap()]
}

async fn from_registry_to_level2(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let (_, body) = submit(&provider, &chau(), None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let sms = sms_password(&provider, "+84912345678").await;

    // Level 1 at the portal, changing the SMS password first.
    let portal = client(&provider, "demo-portal").await;
    let citizen = Browser::new(&provider.base);
    let (url, pending) = portal.begin(&LoginRequest::new(
        Level::Level1,
        ScopeSet::parse("openid profile").unwrap(),
    ));
    let (url, _, html) = citizen.navigate(url.as_str()).await.page();
    let (url, _, html) = citizen
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001301000123"), ("password", &sms)],
        )
        .await
        .page();
    let (url, _, html) = citizen
        .submit(
            &url,
            &html,
            "/password",
            &[
                ("new_password", "Chau-2026-moi"),
                ("confirm_password", "Chau-2026-moi"),
            ],
        )
        .await
        .page();
    let back = citizen
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let id = portal
        .complete(pending, back.query().unwrap())
        .await
        .unwrap();
    assert_eq!(
        (id.level, id.full_name().as_deref()),
        (Some(Level::Level1), Some("Lê Minh Châu"))
    );

    // The desk: find, verify portrait and fingerprint, choose documents, consent, enrol.
    let officer = Browser::new(&provider.base);
    officer_login(&provider, &officer).await;
    let (url, _, html) = officer
        .navigate(&format!(
            "{}/desk/people?id_number=001301000123",
            provider.base
        ))
        .await
        .page();
    assert!(
        html.contains("Lê Minh Châu") && html.contains("Mức độ 1"),
        "{html}"
    );
    let probe = |seed, shift| serde_json::to_string(&template(seed, shift)).unwrap();
    // A wrong finger first: no enrolment offered.
    let (_, _, html) = officer
        .submit(
            &url,
            &html,
            "/desk/verify",
            &[
                ("portrait_template", &probe(1, 0.02)),
                ("finger", "right_index"),
                ("fingerprint_template", &probe(7, 0.0)),
                ("finger_2", "left_index"),
                ("fingerprint_template_2", &probe(8, 0.01)),
                ("device_id", "desk-1"),
            ],
        )
        .await
        .page();
    assert!(
        !has_form(&html, "/desk/enrol"),
        "no enrolment without a fingerprint match"
    );
    let (url, _, html) = officer
        .navigate(&format!(
            "{}/desk/people?id_number=001301000123",
            provider.base
        ))
        .await
        .page();
    let (url, _, html) = officer
        .submit(
            &url,
            &html,
            "/desk/verify",
            &[
                ("portrait_template", &probe(1, 0.02)),
                ("finger", "right_index"),
                ("fingerprint_template", &probe(2, 0.01)),
                ("finger_2", "left_index"),
                ("fingerprint_template_2", &probe(8, 0.01)),
                ("device_id", "desk-1"),
            ],
        )
        .await
        .page();
    assert!(has_form(&html, "/desk/enrol"), "{html}");
    let (_, _, html) = officer
        .submit(
            &url,
            &html,
            "/desk/enrol",
            &[("consent", "yes"), ("doc_0", "on")],
        )
        .await
        .page();
    assert!(html.contains("<svg"), "a QR code for the authenticator app");
    let secret = between(&html, "<code id=\"totp-secret\">", "</code>").to_string();
    let account = provider
        .state
        .store
        .account_by_username("001301000123")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.level, 2);
    assert_eq!(
        provider
            .state
            .store
            .documents(&account.id)
            .await
            .unwrap()
            .len(),
        1,
        "the driving licence was integrated"
    );

    // Level 2 at the bank, with the enrolled factor.
    let bank = client(&provider, "demo-bank").await;
    let (url, pending) = bank.begin(&LoginRequest::new(
        Level::Level2,
        ScopeSet::parse("openid profile identity_number documents").unwrap(),
    ));
    let (url, _, html) = citizen.navigate(url.as_str()).await.page();
    assert!(
        has_form(&html, "/otp"),
        "step-up from the Level 1 session: {html}"
    );
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(&secret).unwrap())
        .build_noncompliant();
    let code = totp.generate(provider.state.now() as u64).to_string();
    let (url, _, html) = citizen
        .submit(&url, &html, "/otp", &[("otp", &code)])
        .await
        .page();
    let back = citizen
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let id = bank.complete(pending, back.query().unwrap()).await.unwrap();
    assert_eq!(id.level, Some(Level::Level2));
    assert_eq!(id.driving_licence().unwrap().number, "010203040506");

    // A supervisor revokes the account: its sessions end at once.
    let officer = Browser::new(&provider.base);
    officer_login_as(&provider, &officer, "giamsat01").await;
    let (url, _, html) = officer
        .navigate(&format!(
            "{}/desk/people?id_number=001301000123",
            provider.base
        ))
        .await
        .page();
    let (_, _, html) = officer
        .submit(&url, &html, "/status", &[("status", "revoked")])
        .await
        .page();
    assert!(html.contains("revoked"), "{html}");
    let (url, pending) = portal.begin(&LoginRequest::new(
        Level::Level1,
        ScopeSet::parse("openid").unwrap(),
    ));
    let (_, _, html) = citizen.navigate(url.as_str()).await.page();
    assert!(html.contains("name=\"password\""), "the session ended");
    drop(pending);
    let events = provider
        .state
        .store
        .audit_events(&account.id, 50)
        .await
        .unwrap();
    for kind in [
        "registration_approved",
        "password_changed",
        "level2_enrolled",
        "account_status_changed",
    ] {
        assert!(
            events.iter().any(|(_, k, _, _)| k == kind),
            "audited: {kind}"
        );
    }
}

on_both_backends!(from_registry_to_level2);

async fn organisations_and_foreigners_release_their_claims(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let sample = include_str!("../../examples/registry/organizations.json");
    vneid_provider::cli::import_organizations(
        &vneid_provider::config::Config::new(
            provider.issuer.parse().unwrap(),
            provider.database_url.clone(),
            provider.kek.clone(),
        ),
        sample,
    )
    .await
    .unwrap();
    // A supervisor registers an organisation of the business registry represented by the
    // Level 2 demo citizen (name, dates and address come from the registry).
    let officer = Browser::new(&provider.base);
    officer_login_as(&provider, &officer, "giamsat01").await;
    let (url, _, html) = officer
        .navigate(&format!("{}/desk", provider.base))
        .await
        .page();
    let org = [
        ("code", "0101234567"),
        ("name", "Công ty TNHH Bình An"),
        ("short_name", "BINH AN CO"),
        ("foreign_name", "Binh An Company Limited"),
        ("established_on", "2019-06-01"),
        ("head_office_address", "1 Lê Lợi, Quận 1, TP. Hồ Chí Minh"),
        ("representative", "001095000001"),
    ];
    let (url, _, html) = officer
        .submit(&url, &html, "/desk/organizations", &org)
        .await
        .page();
    assert!(
        html.contains("tài khoản mức độ 2"),
        "a Level 1 representative is refused: {html}"
    );
    let mut org = org.to_vec();
    org[6] = ("representative", "079198000002");
    let (_, _, html) = officer
        .submit(&url, &html, "/desk/organizations", &org)
        .await
        .page();
    assert!(html.contains("Đã đăng ký tổ chức"), "{html}");

    let bank = client(&provider, "demo-bank").await;
    let citizen = Browser::new(&provider.base);
    let (url, pending) = bank.begin(&LoginRequest::new(
        Level::Level2,
        ScopeSet::parse("openid profile organization").unwrap(),
    ));
    let back = vneid_tests::login(&provider, &citizen, url.as_str(), "079198000002").await;
    let id = bank.complete(pending, back.query().unwrap()).await.unwrap();
    let organization = id.organization.expect("the organization claim");
    assert_eq!(organization.code, "0101234567");
    assert_eq!(organization.short_name.as_deref(), Some("BINH AN CO"));
    assert_eq!(organization.representative.id_number, "079198000002");

    // A foreigner registers Level 1 (the password comes by email) and releases the foreigner's claims.
    let jane = serde_json::json!({
        "kind": "foreigner", "id_number": "AB12345678", "email": "jane@example.com", "family_name": "Smith", "given_name": "Jane",
        "birthdate": "1990-02-03", "gender": "female", "nationality": "GB", "portrait": { "template": template(4, 0.02), "device_id": "p" }
    });
    let (_, body) = submit(&provider, &jane, None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let mail = provider
        .outbox()
        .await
        .into_iter()
        .find(|m| m.recipient == "jane@example.com")
        .unwrap();
    let password = mail
        .body
        .split("Mat khau lan dau: ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_string();
    let portal = client(&provider, "demo-portal").await;
    let foreigner = Browser::new(&provider.base);
    let (url, pending) = portal.begin(&LoginRequest::new(
        Level::Level1,
        ScopeSet::parse("openid profile identity_number").unwrap(),
    ));
    let (url, _, html) = foreigner.navigate(url.as_str()).await.page();
    let (url, _, html) = foreigner
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "AB12345678"), ("password", &password)],
        )
        .await
        .page();
    let (url, _, html) = foreigner
        .submit(
            &url,
            &html,
            "/password",
            &[
                ("new_password", "Jane-2026-new"),
                ("confirm_password", "Jane-2026-new"),
            ],
        )
        .await
        .page();
    let back = foreigner
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let id = portal
        .complete(pending, back.query().unwrap())
        .await
        .unwrap();
    assert_eq!(id.person.kind, Some(vneid_sdk::AccountKind::Foreigner));
    assert_eq!(id.person.foreigner_id_number.as_deref(), Some("AB12345678"));
    assert_eq!(id.person.nationality.as_deref(), Some("GB"));
    assert_eq!(
        id.person.travel_document.as_ref().unwrap().place_of_issue,
        "London"
    );
    assert!(id.person.personal_id_number.is_none());
}

on_both_backends!(organisations_and_foreigners_release_their_claims);
