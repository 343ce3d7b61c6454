//! The SDK against our provider, on every branch, and against panva's provider.

use vneid_sdk::{ClientCredentials, Level, LoginRequest, Prompt, ScopeSet, SdkError, VneidClient};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn level1_and_level2_identities() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = bank(&provider).await;
    let browser = Browser::new(&provider.base);

    let (url, pending) = client.begin(&LoginRequest::new(
        Level::Level1,
        scopes("openid profile identity_number phone"),
    ));
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();
    assert_eq!(id.level, Some(Level::Level1));
    assert_eq!(id.full_name().as_deref(), Some("Nguyễn Văn An"));
    assert_eq!(
        id.person
            .personal_id_number
            .as_ref()
            .unwrap()
            .province_name(),
        "Hà Nội"
    );
    assert_eq!(id.phone.as_ref().unwrap().0, "+84912000001");
    assert!(!id.replaces_identity_card());

    let other = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(
        Level::Level2,
        scopes("openid profile identity_number documents portrait"),
    ));
    let back = login(&provider, &other, url.as_str(), "079198000002").await;
    let id = client.complete(pending, &query(&back)).await.unwrap();
    assert_eq!(id.level, Some(Level::Level2));
    assert!(id.methods.contains(&"otp".to_string()));
    assert!(id.replaces_identity_card());
    assert_eq!(id.driving_licence().unwrap().number, "790123456789");
    assert!(id.health_insurance_card().is_some() && id.passport().is_some());
    assert!(
        id.portrait
            .as_deref()
            .unwrap()
            .starts_with("data:image/jpeg;base64,")
    );
    assert_eq!(id.id_token.split('.').count(), 3);
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
        Some(Level::Level1)
    );
    // Step-up: only the second factor.
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level2, scopes("openid profile")));
    let (page, _, html) = browser.navigate(url.as_str()).await.page();
    assert!(has_form(&html, "/otp") && !html.contains("name=\"password\""));
    let back = browser
        .submit(&page, &html, "/otp", &[("otp", &provider.totp())])
        .await
        .away();
    assert_eq!(
        client.complete(pending, &query(&back)).await.unwrap().level,
        Some(Level::Level2)
    );

    // A Level 1 account asked for Level 2.
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
    let back = other.submit(&page, &html, "/abort", &[]).await.away();
    assert!(matches!(
        client.complete(pending, &query(&back)).await,
        Err(SdkError::InsufficientLevel {
            required: Level::Level2
        })
    ));

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
    assert!(matches!(
        client.complete(pending, &query(&back)).await,
        Err(SdkError::InteractionRequired(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_and_replayed_callbacks_are_refused() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = bank(&provider).await;
    let browser = Browser::new(&provider.base);
    let (url, pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid profile")));
    let back = login(&provider, &browser, url.as_str(), "001095000001").await;
    let q = query(&back);
    let tamper = |from: &str, to: &str| q.replace(from, to);
    let state = vneid_tests::param(&back, "state").unwrap();
    let iss = url::form_urlencoded::byte_serialize(provider.issuer.as_bytes()).collect::<String>();
    assert!(matches!(
        client
            .complete(pending.clone(), &tamper(&state, "forged"))
            .await,
        Err(SdkError::StateMismatch)
    ));
    let no_iss = tamper(&format!("&iss={iss}"), "");
    assert!(matches!(
        client.complete(pending.clone(), &no_iss).await,
        Err(SdkError::IssuerMismatch { found: None, .. })
    ));
    let wrong_iss = tamper(&iss, "http%3A%2F%2Fevil.example");
    assert!(matches!(
        client.complete(pending.clone(), &wrong_iss).await,
        Err(SdkError::IssuerMismatch { .. })
    ));
    // The real callback works once; its replay fails.
    assert!(client.complete(pending.clone(), &q).await.is_ok());
    assert!(matches!(
        client.complete(pending, &q).await,
        Err(SdkError::TokenExchange(_))
    ));
    // A callback for another login (another nonce/state) is refused.
    let (_, other_pending) = client.begin(&LoginRequest::new(Level::Level1, scopes("openid")));
    assert!(matches!(
        client.complete(other_pending, &q).await,
        Err(SdkError::StateMismatch)
    ));
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
    let request = LoginRequest {
        level: None,
        ..LoginRequest::new(Level::Level1, scopes("openid profile"))
    };
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
