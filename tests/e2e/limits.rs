//! Throttling and resource bounds, tried as an attacker would: password spraying from one
//! address, a registration flood, a token-endpoint flood, logins past the password pool, a
//! header that never ends and a body that never ends.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vneid_provider::config::{Config, Rate, TrustedProxy};
use vneid_tests::browser::{Browser, Landing, has_form};
use vneid_tests::{Backend, TestProvider, on_both_backends, spawn_provider_with};

/// `burst` requests, then (for the length of a test) no more: one a day.
fn only(burst: u32) -> Rate {
    Rate { burst, per_hour: 1 }
}

fn retry_after(response: &reqwest::Response) -> u64 {
    response
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// A login page of a fresh authorization request: its URL and HTML.
async fn login_page(provider: &TestProvider, browser: &Browser) -> (url::Url, String) {
    let (url, status, html) = browser.navigate(&provider.authorize_url(&[])).await.page();
    assert_eq!(status, StatusCode::OK);
    assert!(has_form(&html, "/login"), "{html}");
    (url, html)
}

/// 50 rapid wrong logins from one address, each for another username (password spraying, which
/// the per-account lock-out never sees): past the limit every post is 429 with `Retry-After`
/// before any password is checked, whatever `X-Forwarded-For` says, and on every login form.
async fn password_spraying_from_one_address_is_throttled(backend: Backend) {
    let provider = spawn_provider_with(backend, |c| c.limits.login = only(10)).await;
    let browser = Browser::new(&provider.base);
    let (url, html) = login_page(&provider, &browser).await;
    let (action, hidden) = vneid_tests::browser::form(&html, "/login");
    let target = url.join(&action).unwrap();
    let mut answered = Vec::new();
    for n in 0..50 {
        let mut fields = hidden.clone();
        fields.push(("username".into(), format!("0010950{n:05}")));
        fields.push(("password".into(), "Password123".into()));
        let response = browser
            .client
            .post(target.clone())
            // An attacker rotating the header it hopes is trusted.
            .header("x-forwarded-for", format!("198.51.100.{n}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let wait = (status == StatusCode::TOO_MANY_REQUESTS).then(|| retry_after(&response));
        let body = response.text().await.unwrap();
        answered.push((status, wait, body));
    }
    for (n, (status, _, body)) in answered.iter().take(10).enumerate() {
        assert_eq!(*status, StatusCode::OK, "attempt {n}: {body}");
        assert!(
            body.contains("không đúng"),
            "attempt {n} was checked: {body}"
        );
    }
    for (n, (status, wait, body)) in answered.iter().enumerate().skip(10) {
        assert_eq!(*status, StatusCode::TOO_MANY_REQUESTS, "attempt {n}");
        assert!(wait.is_some_and(|s| s >= 1), "attempt {n}: {wait:?}");
        assert!(
            body.contains("Quá nhiều yêu cầu") && body.contains("Too many requests"),
            "a readable page: {body}"
        );
    }
    // The right password of a real account is not even checked now...
    let mut fields = hidden.clone();
    fields.push(("username".into(), "001095000001".into()));
    fields.push(("password".into(), "Demo@2026".into()));
    let response = browser
        .client
        .post(target.clone())
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...nor elsewhere: self-service and desk logins share the address's bucket.
    for path in ["/account/login", "/desk/login"] {
        let response = browser
            .client
            .post(format!("{}{path}", provider.base))
            .form(&[("username", "001095000001"), ("password", "Demo@2026")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    }
    // Pages are still shown (only posts are counted).
    let (_, status, _) = browser.navigate(&provider.authorize_url(&[])).await.page();
    assert_eq!(status, StatusCode::OK);
}

/// Behind a trusted proxy the address it appends is the client: two clients have two buckets,
/// and a client cannot pick its bucket by sending the header itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let provider = spawn_provider_with(Backend::Sqlite, |c| {
        c.limits.reset = only(3);
        c.limits.trusted_proxy = Some(TrustedProxy {
            header: "x-forwarded-for".into(),
            addresses: vec!["127.0.0.1".parse().unwrap()],
        });
    })
    .await;
    let client = reqwest::Client::new();
    let reset = |forwarded: &'static str| {
        client
            .post(format!("{}/account/reset", provider.base))
            .header("x-forwarded-for", forwarded)
            .form(&[("username", "001095000001")])
            .send()
    };
    for _ in 0..3 {
        assert_ne!(
            reset("203.0.113.1").await.unwrap().status(),
            StatusCode::TOO_MANY_REQUESTS
        );
    }
    assert_eq!(
        reset("203.0.113.1").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The client's own forged entry comes first; the proxy's last one is what counts.
    assert_eq!(
        reset("203.0.113.77, 203.0.113.1").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_ne!(
        reset("203.0.113.2").await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS,
        "another client behind the proxy"
    );
}

/// A flood of registrations from one address gets 429 with `Retry-After` and a JSON error,
/// before the body is even read.
async fn a_registration_flood_is_throttled(backend: Backend) {
    let provider = spawn_provider_with(backend, |c| c.limits.registration = only(5)).await;
    let client = reqwest::Client::new();
    let body = crate::registration::chau();
    for n in 0..20 {
        let response = client
            .post(format!("{}/api/v1/registrations", provider.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        if n < 5 {
            assert_ne!(status, StatusCode::TOO_MANY_REQUESTS, "request {n}");
            continue;
        }
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "request {n}");
        assert!(retry_after(&response) >= 1);
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(json["error"], "too_many_requests", "{json}");
    }
}

async fn token_request(provider: &TestProvider, client: &str, secret: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", "guessed-code"),
            ("redirect_uri", vneid_tests::PORTAL_CALLBACK),
            ("code_verifier", vneid_tests::VERIFIER),
        ])
        .send()
        .await
        .unwrap()
}

/// Guessing at the token endpoint: past a client's budget its requests get 429 with an OAuth
/// JSON error (`temporarily_unavailable`) and `Retry-After`; another client is not affected
/// until the address's own budget runs out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_flood_is_throttled_per_client_and_per_address() {
    let provider = spawn_provider_with(Backend::Sqlite, |c| {
        c.limits.client = only(5);
        c.limits.token = only(8);
    })
    .await;
    for n in 0..5 {
        let response = token_request(&provider, "demo-portal", "demo-portal-secret").await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "guess {n}");
    }
    let response = token_request(&provider, "demo-portal", "demo-portal-secret").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&response) >= 1);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "an OAuth error body"
    );
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(json["error"], "temporarily_unavailable", "{json}");
    // Another client from the same address: its own budget, until the address's (8) is spent.
    for _ in 0..2 {
        let response = token_request(&provider, "demo-bank", "demo-bank-secret").await;
        assert_ne!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    let response = token_request(&provider, "demo-bank", "demo-bank-secret").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Logins past the password pool: with one hashing thread busy and a queue of one, concurrent
/// logins are answered 503 with `Retry-After` and a readable page at once (one waits in the
/// queue); nothing is half done: once the pool is free the same forms log in.
async fn logins_past_the_password_pool_get_503(backend: Backend) {
    let provider = spawn_provider_with(backend, |c: &mut Config| {
        c.argon2.threads = 1;
        c.argon2.queue = 1;
        // Long: a login that waited instead of being refused would hang the test.
        c.argon2.wait_seconds = 600;
    })
    .await;
    const LOGINS: usize = 6;
    let mut forms = Vec::new();
    for _ in 0..LOGINS {
        let browser = Browser::new(&provider.base);
        let (url, html) = login_page(&provider, &browser).await;
        forms.push((browser, url, html));
    }
    // A hash in progress holds the only thread until released.
    let (release, held) = std::sync::mpsc::channel::<()>();
    let (started, running) = tokio::sync::oneshot::channel();
    let pool = provider.state.limits.argon2.clone();
    let hog = tokio::spawn(async move {
        pool.run(move |_| {
            let _ = started.send(());
            held.recv().ok();
        })
        .await
    });
    running.await.unwrap();
    let mut attempts = tokio::task::JoinSet::new();
    for (n, (browser, url, html)) in forms.iter().enumerate() {
        let (action, mut fields) = vneid_tests::browser::form(html, "/login");
        fields.push(("username".into(), "001095000001".into()));
        fields.push(("password".into(), "Demo@2026".into()));
        let request = browser
            .client
            .post(url.join(&action).unwrap())
            .form(&fields);
        attempts.spawn(async move { (n, request.send().await.unwrap()) });
    }
    // All but one are refused while the pool is held.
    let mut refused = Vec::new();
    while refused.len() < LOGINS - 1 {
        let (n, response) = attempts.join_next().await.unwrap().unwrap();
        assert_eq!(
            response.status(),
            StatusCode::SERVICE_UNAVAILABLE,
            "login {n}"
        );
        assert!(retry_after(&response) >= 1);
        let page = response.text().await.unwrap();
        assert!(
            page.contains("Hệ thống đang bận") && page.contains("busy"),
            "{page}"
        );
        refused.push(n);
    }
    release.send(()).unwrap();
    hog.await.unwrap().ok();
    let (n, response) = attempts.join_next().await.unwrap().unwrap();
    assert!(
        response.status().is_redirection() || response.status() == StatusCode::OK,
        "the queued login {n} went through: {}",
        response.status()
    );
    // The refused ones left nothing half done: the same form logs in now.
    let (browser, url, html) = &forms[refused[0]];
    let landing = browser
        .submit(
            url,
            html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await;
    match landing {
        Landing::Away(url) => assert!(vneid_tests::param(&url, "code").is_some()),
        Landing::Page { status, html, .. } => {
            assert_eq!(status, StatusCode::OK);
            assert!(has_form(&html, "/consent"), "{html}");
        }
    }
}

/// Reads what the server sends on `stream` until it closes the connection; `None` if it is
/// still open after `limit`.
async fn read_until_closed(stream: &mut tokio::net::TcpStream, limit: Duration) -> Option<String> {
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, stream.read_to_end(&mut received)).await;
    match read {
        Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
        Err(_) => None,
    }
}

/// Slowloris: a connection that sends half a request header is closed by the server once the
/// header-read timeout (1 s here) passes, and is never answered 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_an_unfinished_header_is_closed() {
    let provider = spawn_provider_with(Backend::Sqlite, |c| c.timeouts.header_read = 1).await;
    let address = provider.base.trim_start_matches("http://").to_string();
    // The same request, finished, is answered: the server is there.
    let mut whole = tokio::net::TcpStream::connect(&address).await.unwrap();
    whole
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut whole, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Unfinished: no blank line, then silence.
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // Far longer than the timeout, far shorter than the 45 s the server used to wait.
    let answer = read_until_closed(&mut slow, Duration::from_secs(20))
        .await
        .expect("the server closes the connection");
    assert!(!answer.contains(" 200 "), "never served: {answer}");
}

/// A request whose body never ends gets 503 with `Retry-After` once the request timeout (1 s
/// here) passes, instead of holding a connection and a worker for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_body_never_ends_times_out() {
    let provider = spawn_provider_with(Backend::Sqlite, |c| c.timeouts.request = 1).await;
    let address = provider.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(
            b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 100\r\nConnection: close\r\n\r\ngrant_type=",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream, Duration::from_secs(20))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("retry-after:"),
        "{answer}"
    );
}

on_both_backends!(
    password_spraying_from_one_address_is_throttled,
    a_registration_flood_is_throttled,
    logins_past_the_password_pool_get_503,
);

/// One account sprayed from many addresses (each under its own limit): past the per-number
/// limit every attempt for that number is 429 before any password is checked, even the right
/// one, while other numbers still log in; and an unknown number is limited exactly alike, so
/// the limit does not tell which numbers have accounts.
async fn one_account_sprayed_from_many_addresses_is_throttled(backend: Backend) {
    let provider = spawn_provider_with(backend, |c| c.limits.account = only(4)).await;
    let browser = Browser::new(&provider.base);
    let statuses = |username: &'static str, password: &'static str| {
        let provider = &provider;
        let browser = &browser;
        async move {
            let (url, html) = login_page(provider, browser).await;
            let (action, mut fields) = vneid_tests::browser::form(&html, "/login");
            fields.push(("username".into(), username.into()));
            fields.push(("password".into(), password.into()));
            browser
                .client
                .post(url.join(&action).unwrap())
                .form(&fields)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    for number in ["001095000001", "001095999999"] {
        for n in 0..4 {
            assert_eq!(
                statuses(number, "Wrong-pass1").await,
                StatusCode::OK,
                "{number} {n}"
            );
        }
        assert_eq!(
            statuses(number, "Wrong-pass1").await,
            StatusCode::TOO_MANY_REQUESTS,
            "{number}"
        );
    }
    // The right password of the sprayed account is not checked now...
    assert_eq!(
        statuses("001095000001", "Demo@2026").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // ...while another account is unaffected.
    assert_eq!(
        statuses("079198000002", "Demo@2026").await,
        StatusCode::SEE_OTHER
    );
}

on_both_backends!(one_account_sprayed_from_many_addresses_is_throttled);
