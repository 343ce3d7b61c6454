//! The SDK against our provider on every branch a relying party meets, against panva's
//! provider, against a fake provider that lies (`fake`), through its axum integration (`web`),
//! and against what a lying provider or a crafted link tries (`attacks`).

mod attacks;
mod backchannel;
mod fake;
mod fapi;
mod later;
mod web;

use vneid_sdk::{
    AccountKind, ClientCredentials, Gender, Interaction, Level, LoginRequest, Prompt, ScopeSet,
    SdkError, TokenExchangeError, VneidClient,
};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{TestProvider, login, spawn_node_provider, spawn_provider};

async fn bank(provider: &TestProvider) -> VneidClient {
    VneidClient::discover(
        &provider.issuer,
        "demo-bank",
        ClientCredentials::Secret("demo-bank-secret".into()),
        "http://127.0.0.1:3002/callback",
    )
    .await
    .unwrap()
}

fn scopes(s: &str) -> ScopeSet {
    ScopeSet::parse(s).unwrap()
}

fn query(url: &url::Url) -> String {
    url.query().unwrap_or("").to_string()
}

/// The JOSE header of a JWT, unverified.
fn jwt_header(jwt: &str) -> serde_json::Value {
    use base64::Engine;
    let part = jwt.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The URL's query parameter.
fn param(url: &url::Url, name: &str) -> Option<String> {
    vneid_tests::param(url, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn level1_and_level2_identities() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = bank(&provider).await;
    let browser = Browser::new(&provider.base);

    let (url, pending) = client.begin(&LoginRequest::new(
        Level::Level1,
        scopes("openid profile identity_number phone email"),
    ));
    assert_eq!(
        param(&url, "acr_values").as_deref(),
        Some("urn:vneid:acr:level1")
    );
    assert_eq!(
        param(&url, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(!format!("{pending:?}").contains(&param(&url, "state").unwrap()));
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();
    assert_eq!(id.level, Some(Level::Level1));
    assert_eq!(id.methods, ["pwd"]);
    assert_eq!(id.full_name().as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(id.person.kind, Some(AccountKind::Citizen));
    assert_eq!(id.person.gender, Some(Gender::Male));
    let pin = id.person.personal_id_number.as_ref().unwrap();
    assert_eq!(pin.as_str(), "001095000001");
    assert_eq!(pin.province_name(), "Hà Nội");
    let born = time::macros::date!(1995 - 03 - 12);
    assert_eq!(id.person.birthdate, Some(born));
    assert_eq!(id.age_on(time::macros::date!(2026 - 03 - 11)), Some(30));
    assert_eq!(id.age_on(time::macros::date!(2026 - 03 - 12)), Some(31));
    assert_eq!(id.phone.as_ref().unwrap().0, "+84912000001");
    assert!(id.documents.is_empty() && id.portrait.is_none());
    assert!(!id.replaces_identity_card());
    assert!(id.auth_time.is_some());
    let debug = format!("{id:?}");
    assert!(!debug.contains(&id.id_token), "the ID token is not logged");

    let other = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(
        Level::Level2,
        scopes("openid profile identity_number documents portrait"),
    ));
    let back = login(&provider, &other, url.as_str(), "079198000002").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();
    assert_eq!(id.level, Some(Level::Level2));
    assert!(id.methods.contains(&"otp".to_string()));
    assert!(id.auth_methods().contains(&vneid_contract::AuthMethod::Otp));
    assert!(id.replaces_identity_card());
    assert_eq!(id.person.gender, Some(Gender::Female));
    assert_eq!(id.driving_licence().unwrap().number, "790123456789");
    assert!(id.health_insurance_card().is_some() && id.passport().is_some());
    assert_eq!(id.documents.len(), 3);
    assert!(
        id.portrait
            .as_deref()
            .unwrap()
            .starts_with("data:image/jpeg;base64,")
    );
    let jpeg = id.portrait_jpeg().unwrap();
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "a JPEG");
    assert_eq!(id.id_token.split('.').count(), 3);
    assert_eq!(id.claims["acr"], "urn:vneid:acr:level2");
    assert_eq!(id.claims["personal_id_number"], "079198000002");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_insufficient_level_denied_and_prompt_none() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = bank(&provider).await;
    let browser = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid profile")));
    let back = login(&provider, &browser, url.as_str(), "079198000002").await;
    assert_eq!(
        client.complete(pending, &query(&back)).await.unwrap().level,
        Some(Level::Level1),
        "password alone is Level 1, even for a Level 2 account"
    );
    // Step-up: only the second factor.
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level2, scopes("openid profile")));
    let (page, _, html) = browser.navigate(url.as_str()).await.page();
    assert!(has_form(&html, "/otp") && !html.contains("name=\"password\""));
    let back = browser
        .submit(&page, &html, "/otp", &[("otp", &provider.totp())])
        .await
        .away();
    let id = client.complete(pending, &query(&back)).await.unwrap();
    assert_eq!(id.level, Some(Level::Level2));

    // A Level 1 account asked for Level 2: the provider explains, then the typed error.
    let other = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level2, scopes("openid")));
    let (page, _, html) = other.navigate(url.as_str()).await.page();
    let (page, _, html) = other
        .submit(
            &page,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(!has_form(&html, "/otp"), "no second factor to offer");
    let back = other.submit(&page, &html, "/abort", &[]).await.away();
    let err = client.complete(pending, &query(&back)).await.unwrap_err();
    assert!(
        matches!(
            err,
            SdkError::InsufficientLevel {
                required: Level::Level2
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("Level 2 account"), "{err}");

    // Denied consent.
    let third = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid email")));
    let (page, _, html) = third.navigate(url.as_str()).await.page();
    let (page, _, html) = third
        .submit(
            &page,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    let back = third
        .submit(&page, &html, "/consent", &[("decision", "deny")])
        .await
        .away();
    assert!(matches!(
        client.complete(pending, &query(&back)).await,
        Err(SdkError::Denied)
    ));

    // prompt=none without a session.
    let fourth = Browser::new(&provider.base);
    let mut request = LoginRequest::new(Level::Level1, scopes("openid"));
    request.prompt = Some(Prompt::None);
    let (url, pending) = client.begin(&request);
    let back = fourth.navigate(url.as_str()).await.away();
    let err = client.complete(pending, &query(&back)).await.unwrap_err();
    assert!(
        matches!(err, SdkError::InteractionRequired(Interaction::Login)),
        "{err:?}"
    );
    assert!(err.should_restart_login());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_replayed_callbacks_are_refused() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = bank(&provider).await;
    let browser = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid profile")));
    // The pending login travels through the app's session as JSON.
    let kept = serde_json::to_string(&pending).unwrap();
    let restore = || serde_json::from_str::<vneid_sdk::PendingLogin>(&kept).unwrap();
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let q = query(&back);
    let tamper = |from: &str, to: &str| q.replace(from, to);
    let state = param(&back, "state").unwrap();
    let iss = url::form_urlencoded::byte_serialize(provider.issuer.as_bytes()).collect::<String>();
    assert!(matches!(
        client.complete(restore(), &tamper(&state, "forged")).await,
        Err(SdkError::StateMismatch)
    ));
    let no_iss = tamper(&format!("&iss={iss}"), "");
    assert!(matches!(
        client.complete(restore(), &no_iss).await,
        Err(SdkError::IssuerMismatch { found: None, .. })
    ));
    let wrong_iss = tamper(&iss, "http%3A%2F%2Fevil.example");
    assert!(matches!(
        client.complete(restore(), &wrong_iss).await,
        Err(SdkError::IssuerMismatch { found: Some(_), .. })
    ));
    let twice = format!("{q}&state={state}");
    assert!(matches!(
        client.complete(restore(), &twice).await,
        Err(SdkError::MalformedCallback(_))
    ));
    // None of these spent the code: the real callback works, once.
    assert!(client.complete(restore(), &q).await.is_ok());
    let replay = client.complete(restore(), &q).await.unwrap_err();
    match &replay {
        SdkError::TokenExchange(e @ TokenExchangeError::Refused { .. }) => {
            assert_eq!(e.code(), Some("invalid_grant"));
        }
        other => panic!("{other:?}"),
    }
    assert!(replay.should_restart_login());
    // A callback for another login (another state and nonce) is refused.
    let (_, other_pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid")));
    assert!(matches!(
        client.complete(other_pending, &q).await,
        Err(SdkError::StateMismatch)
    ));
}

/// The provider rotates its signing key after the client discovered it: the first ID token
/// with the new `kid` makes the SDK refetch the keys once, and the login succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_is_followed() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = bank(&provider).await;
    let new_kid = provider
        .state
        .keys
        .rotate(
            vneid_provider::oidc::types::SigningAlg::Es256,
            provider.state.now(),
            3600,
        )
        .await
        .unwrap();
    let browser = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid")));
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();
    let header = jwt_header(&id.id_token);
    assert_eq!(header["kid"], new_kid.as_str());
    assert_eq!(header["alg"], "ES256");
}

/// Configuration mistakes are reported before any login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_failures_are_typed() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let secret = || ClientCredentials::Secret("demo-bank-secret".into());
    let cb = "http://127.0.0.1:3002/callback";
    // The issuer with a trailing slash is another issuer.
    let slash = format!("{}/", provider.issuer);
    assert!(matches!(
        VneidClient::discover(&slash, "demo-bank", secret(), cb).await,
        Err(SdkError::Discovery { .. })
    ));
    assert!(matches!(
        VneidClient::discover("http://127.0.0.1:1", "demo-bank", secret(), cb).await,
        Err(SdkError::Discovery { .. })
    ));
    assert!(matches!(
        VneidClient::discover(&provider.issuer, "demo-bank", secret(), "not a url").await,
        Err(SdkError::Config(_))
    ));
    let jwt = ClientCredentials::PrivateKeyJwt {
        key_id: "k1".into(),
        private_key_pem: "-----BEGIN PRIVATE KEY-----".into(),
    };
    // A private key that is not PEM is a configuration error, before any request.
    assert!(matches!(
        VneidClient::discover(&provider.issuer, "demo-bank", jwt, cb).await,
        Err(SdkError::Config(_))
    ));
    // A wrong secret is found at the first exchange.
    let client = VneidClient::discover(
        &provider.issuer,
        "demo-bank",
        ClientCredentials::Secret("wrong".into()),
        cb,
    )
    .await
    .unwrap();
    let browser = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid")));
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    match client.complete(pending, &query(&back)).await {
        Err(SdkError::TokenExchange(e)) => assert_eq!(e.code(), Some("invalid_client")),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_logs_in_at_panvas_provider() {
    let node = spawn_node_provider("sdk-rp", "sdk-secret", "http://127.0.0.1:3001/callback").await;
    let client = VneidClient::discover(
        &node.issuer,
        "sdk-rp",
        ClientCredentials::Secret("sdk-secret".into()),
        "http://127.0.0.1:3001/callback",
    )
    .await
    .unwrap();
    let request = LoginRequest::without_level(scopes("openid profile"));
    let (url, pending) = client.begin(&request);
    let browser = Browser::new(&node.issuer);
    let (page, _, html) = browser.navigate(url.as_str()).await.page();
    let back = browser
        .submit(
            &page,
            &html,
            "/login",
            &[("username", "interop-user"), ("password", "secret")],
        )
        .await
        .away();
    let id = client.complete(pending, &query(&back)).await.unwrap();
    assert_eq!(id.subject, "interop-user");
    assert_eq!(id.person.name.as_deref(), Some("Test interop-user"));
    assert_eq!(id.level, None);
    // Asking a VNeID level of a provider without levels fails closed.
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid")));
    let back = browser.navigate(url.as_str()).await;
    let back = match back {
        vneid_tests::browser::Landing::Away(u) => u,
        page => {
            let (page, _, html) = page.page();
            browser
                .submit(
                    &page,
                    &html,
                    "/login",
                    &[("username", "interop-user"), ("password", "secret")],
                )
                .await
                .away()
        }
    };
    assert!(matches!(
        client.complete(pending, &query(&back)).await,
        Err(SdkError::LevelTooLow { reached: None, .. })
    ));
}
