//! The axum integration, driven with `oneshot` against our provider: a page that needs
//! Level 1 sends the browser to login; the callback opens the session; a page that needs
//! Level 2 sends a Level 1 session to step-up, which asks only the second factor.

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use axum_extra::extract::cookie::Key;
use tower::ServiceExt;
use vneid_sdk::axum::{CurrentSession, RequireLevel, VneidAuth};
use vneid_sdk::{ClientCredentials, ScopeSet, VneidClient};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{login, spawn_provider};

#[derive(Clone)]
struct App {
    auth: VneidAuth,
}

impl FromRef<App> for VneidAuth {
    fn from_ref(app: &App) -> VneidAuth {
        app.auth.clone()
    }
}

async fn home(CurrentSession(session): CurrentSession) -> String {
    session.map_or("anonymous".into(), |s| s.subject)
}

async fn records(RequireLevel(session): RequireLevel<1>) -> String {
    format!("records of {}", session.name.unwrap_or_default())
}

async fn apply(RequireLevel(session): RequireLevel<2>) -> String {
    format!("application of {}", session.name.unwrap_or_default())
}

pub(super) fn router(auth: VneidAuth) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(vneid_sdk::axum::login))
        .route("/callback", get(vneid_sdk::axum::callback))
        .route("/logout", get(vneid_sdk::axum::logout))
        .route("/records", get(records))
        .route("/apply", get(apply))
        .with_state(App { auth })
}

/// A request to the app with the cookies kept so far; returns status, Location, the cookies
/// set and the body.
pub(super) async fn call(
    app: &Router,
    uri: &str,
    cookies: &mut Vec<(String, String)>,
) -> (StatusCode, String, String) {
    let cookie = cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let request = Request::get(uri)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    for set in response.headers().get_all(header::SET_COOKIE) {
        let set = set.to_str().unwrap();
        let (name, rest) = set.split_once('=').unwrap();
        let value = rest.split(';').next().unwrap().to_string();
        cookies.retain(|(n, _)| n != name);
        assert!(set.contains("Path=/"), "{set}");
        if !value.is_empty() && !set.contains("Max-Age=0") {
            assert!(
                set.contains("HttpOnly") && set.contains("SameSite=Lax"),
                "{set}"
            );
            cookies.push((name.to_string(), value));
        }
    }
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_demand_a_level_and_step_up() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = VneidClient::discover(
        &provider.issuer,
        "demo-portal",
        ClientCredentials::Secret("demo-portal-secret".into()),
        "http://127.0.0.1:3001/callback",
    )
    .await
    .unwrap();
    let auth = VneidAuth::new(client, Key::generate(), |_| {
        ScopeSet::parse("openid profile").unwrap()
    });
    let app = router(auth);
    let mut cookies = Vec::new();
    let browser = Browser::new(&provider.base);

    let (_, _, body) = call(&app, "/", &mut cookies).await;
    assert_eq!(body, "anonymous");
    let (status, to_login, _) = call(&app, "/records?page=2", &mut cookies).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to_login, "/login?level=1&next=%2Frecords%3Fpage%3D2");
    let (_, to_provider, _) = call(&app, &to_login, &mut cookies).await;
    assert!(to_provider.starts_with(&provider.issuer), "{to_provider}");
    assert!(cookies.iter().any(|(n, _)| n == "vneid_rp_pending"));
    let back = login(&provider, &browser, &to_provider, "079198000002").await;
    let callback = format!("/callback?{}", back.query().unwrap());
    let (status, next, _) = call(&app, &callback, &mut cookies).await;
    assert_eq!(
        (status, next.as_str()),
        (StatusCode::SEE_OTHER, "/records?page=2")
    );
    assert!(
        !cookies.iter().any(|(n, _)| n == "vneid_rp_pending"),
        "used once"
    );
    let (status, _, body) = call(&app, "/records?page=2", &mut cookies).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "records of Trần Thị Bình")
    );
    // The same callback again: no pending login any more.
    let (status, _, _) = call(&app, &callback, &mut cookies).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Level 2 page with a Level 1 session: step-up, the provider asks only the code.
    let (_, to_login, _) = call(&app, "/apply", &mut cookies).await;
    assert_eq!(to_login, "/login?level=2&next=%2Fapply");
    let (_, to_provider, _) = call(&app, &to_login, &mut cookies).await;
    let (page, _, html) = browser.navigate(&to_provider).await.page();
    assert!(has_form(&html, "/otp") && !html.contains("name=\"password\""));
    let back = browser
        .submit(&page, &html, "/otp", &[("otp", &provider.totp())])
        .await;
    let back = match back {
        vneid_tests::browser::Landing::Away(url) => url,
        page => {
            let (page, _, html) = page.page();
            browser
                .submit(&page, &html, "/consent", &[("decision", "allow")])
                .await
                .away()
        }
    };
    let (_, next, _) = call(
        &app,
        &format!("/callback?{}", back.query().unwrap()),
        &mut cookies,
    )
    .await;
    assert_eq!(next, "/apply");
    let (status, _, body) = call(&app, "/apply", &mut cookies).await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::OK, "application of Trần Thị Bình")
    );

    // Logout ends the session.
    call(&app, "/logout", &mut cookies).await;
    let (status, _, _) = call(&app, "/apply", &mut cookies).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // A tampered session cookie is no session; an open redirect is refused.
    let mut forged = vec![(
        "vneid_rp_session".to_string(),
        "eyJmb3JnZWQiOnRydWV9".to_string(),
    )];
    let (_, _, body) = call(&app, "/", &mut forged).await;
    assert_eq!(body, "anonymous");
    let (_, to_provider, _) = call(
        &app,
        "/login?level=1&next=https://evil.example",
        &mut cookies,
    )
    .await;
    let back = login(
        &provider,
        &Browser::new(&provider.base),
        &to_provider,
        "001095000001",
    )
    .await;
    let (_, next, _) = call(
        &app,
        &format!("/callback?{}", back.query().unwrap()),
        &mut cookies,
    )
    .await;
    assert_eq!(next, "/");
}

/// A Level 1 account sent to a Level 2 page ends on a clear refusal, not a loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_level1_account_gets_a_clear_refusal() {
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = VneidClient::discover(
        &provider.issuer,
        "demo-portal",
        ClientCredentials::Secret("demo-portal-secret".into()),
        "http://127.0.0.1:3001/callback",
    )
    .await
    .unwrap();
    let app = router(VneidAuth::new(client, Key::generate(), |_| {
        ScopeSet::parse("openid").unwrap()
    }));
    let mut cookies = Vec::new();
    let (_, to_login, _) = call(&app, "/apply", &mut cookies).await;
    let (_, to_provider, _) = call(&app, &to_login, &mut cookies).await;
    let browser = Browser::new(&provider.base);
    let (page, _, html) = browser.navigate(&to_provider).await.page();
    let (page, _, html) = browser
        .submit(
            &page,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .page();
    let back = browser.submit(&page, &html, "/abort", &[]).await.away();
    let (status, _, body) = call(
        &app,
        &format!("/callback?{}", back.query().unwrap()),
        &mut cookies,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("Level 2"), "{body}");
}

/// With a session store: the login is kept (ID token, tokens) under the id the cookie names;
/// when the store ends it (what the back-channel receiver does) the cookie is no session any
/// more; and logout ends the stored login and sends the browser to the provider's end-session
/// endpoint with the ID token as `id_token_hint`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_store_ends_sessions_and_logout_chains_to_the_provider() {
    use std::sync::Arc;
    use vneid_sdk::{MemorySessionStore, SessionStore};
    let provider = spawn_provider(vneid_tests::Backend::Sqlite).await;
    let client = VneidClient::discover(
        &provider.issuer,
        "demo-portal",
        ClientCredentials::Secret("demo-portal-secret".into()),
        "http://127.0.0.1:3001/callback",
    )
    .await
    .unwrap();
    let store = Arc::new(MemorySessionStore::new());
    let auth = VneidAuth::new(client, Key::generate(), |_| {
        ScopeSet::parse("openid profile").unwrap()
    })
    .with_session_store(store.clone())
    .with_post_logout_redirect_uri("http://127.0.0.1:3001/logged-out");
    let app = router(auth);

    let mut cookies = log_in_through(&app, &provider, &Browser::new(&provider.base)).await;
    // The store holds the login under the subject; ending it there ends the app's session.
    let (_, _, subject) = call(&app, "/", &mut cookies).await;
    assert_eq!(store.end_matching(None, Some(&subject)).await.unwrap(), 1);
    let (status, to_login, _) = call(&app, "/records", &mut cookies).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to_login.starts_with("/login"), "{to_login}");
    let (_, _, body) = call(&app, "/", &mut cookies).await;
    assert_eq!(body, "anonymous");

    // Logout: the stored login is removed and the browser goes to the provider.
    let browser = Browser::new(&provider.base);
    let mut cookies = log_in_through(&app, &provider, &browser).await;
    let (status, to_provider, _) = call(&app, "/logout", &mut cookies).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let end = url::Url::parse(&to_provider).unwrap();
    assert_eq!(end.path(), "/logout", "{end}");
    let hint = vneid_tests::param(&end, "id_token_hint").unwrap();
    assert_eq!(hint.split('.').count(), 3);
    assert_eq!(
        vneid_tests::param(&end, "post_logout_redirect_uri").as_deref(),
        Some("http://127.0.0.1:3001/logged-out")
    );
    let (_, _, body) = call(&app, "/", &mut cookies).await;
    assert_eq!(body, "anonymous");
    assert_eq!(store.end_matching(None, Some(&subject)).await.unwrap(), 0);
    // The provider ends its session and comes back with the state.
    let vneid_tests::browser::Landing::Away(after) = browser.navigate(end.as_str()).await else {
        panic!("the provider did not send the browser back");
    };
    assert!(
        after
            .as_str()
            .starts_with("http://127.0.0.1:3001/logged-out")
    );
    assert_eq!(
        vneid_tests::param(&after, "state"),
        vneid_tests::param(&end, "state")
    );
}

/// Logs in through the app at Level 1; returns the cookies.
async fn log_in_through(
    app: &Router,
    provider: &vneid_tests::TestProvider,
    browser: &Browser,
) -> Vec<(String, String)> {
    let mut cookies = Vec::new();
    let (_, to_provider, _) = call(app, "/login?level=1&next=/records", &mut cookies).await;
    let back = login(provider, browser, &to_provider, "079198000002").await;
    let callback = format!("/callback?{}", back.query().unwrap());
    call(app, &callback, &mut cookies).await;
    let (status, _, _) = call(app, "/records", &mut cookies).await;
    assert_eq!(status, StatusCode::OK);
    cookies
}
