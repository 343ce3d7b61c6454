//! `/metrics` in the Prometheus text format, who may read it, the request id, `/ready`.

use std::collections::HashMap;

use prometheus_parse::{Scrape, Value};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{Backend, TestProvider, on_both_backends, spawn_provider, spawn_provider_with};

/// Scrapes and parses; panics unless 200.
async fn scrape(provider: &TestProvider) -> Scrape {
    let response = reqwest::get(format!("{}/metrics", provider.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap()
}

/// The value of the sample `name` whose labels include `labels` (0 when absent: a counter not
/// moved yet has no series).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == name)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.iter().map(|b| b.count).fold(0.0, f64::max),
            Value::Summary(_) => 0.0,
        })
        .sum()
}

fn delta(before: &Scrape, after: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(after, name, labels) - value(before, name, labels)
}

const LOGINS: &str = "vneid_logins_total";

/// A scrape after logins shows every counter moved by exactly what was done: logins by the
/// account's level and outcome, second-factor failures, requests by route template and status
/// with their latency, argon2 waits; the gauges read the pool and the outbox.
async fn a_scrape_after_logins_shows_the_counters_moved(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let before = scrape(&provider).await;

    // A Level 1 login with its code redeemed.
    let browser = Browser::new(&provider.base);
    let code = vneid_tests::login_code(&provider, &browser, "001095000001").await;
    let (status, _) = provider.redeem(&code, vneid_tests::VERIFIER).await;
    assert_eq!(status, 200);
    // A wrong password for the Level 2 account, an unknown number, then a wrong second-factor
    // code and the right one.
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("acr_values", "urn:vneid:acr:level2")]);
    let (url, _, html) = browser.navigate(&url).await.page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "079198000002"), ("password", "Wrong@2026")],
        )
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001999999999"), ("password", "Demo@2026")],
        )
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "079198000002"), ("password", "Demo@2026")],
        )
        .await
        .page();
    assert!(has_form(&html, "/otp"), "{html}");
    let right = provider.totp();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let (url, _, html) = browser
        .submit(&url, &html, "/otp", &[("otp", wrong)])
        .await
        .page();
    assert!(has_form(&html, "/otp"), "{html}");
    let landing = browser
        .submit(&url, &html, "/otp", &[("otp", &right)])
        .await;
    if let vneid_tests::browser::Landing::Page { url, html, .. } = landing {
        assert!(has_form(&html, "/consent"), "{html}");
        browser
            .submit(&url, &html, "/consent", &[("decision", "allow")])
            .await
            .away();
    }
    // A path no route matches, with something that looks like an id in it.
    let stray = reqwest::get(format!(
        "{}/interaction-x/stray-id-0042/evil",
        provider.base
    ))
    .await
    .unwrap();
    assert_eq!(stray.status(), 404);

    let after = scrape(&provider).await;
    let login = |level, factor, outcome| {
        delta(
            &before,
            &after,
            LOGINS,
            &[("level", level), ("factor", factor), ("outcome", outcome)],
        )
    };
    assert_eq!(login("1", "password", "success"), 1.0);
    assert_eq!(login("2", "password", "wrong_credentials"), 1.0);
    assert_eq!(login("unknown", "password", "wrong_credentials"), 1.0);
    assert_eq!(login("2", "password", "success"), 1.0);
    assert_eq!(login("2", "second_factor", "wrong_code"), 1.0);
    assert_eq!(login("2", "second_factor", "success"), 1.0);
    assert_eq!(
        delta(
            &before,
            &after,
            "vneid_second_factor_failures_total",
            &[("reason", "wrong_code")]
        ),
        1.0
    );
    let token = [("route", "/token"), ("method", "POST"), ("status", "200")];
    assert_eq!(
        delta(&before, &after, "vneid_http_requests_total", &token),
        1.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            "vneid_http_request_duration_seconds_count",
            &token
        ),
        1.0
    );
    let login_posts = [("route", "/interaction/:id/login"), ("method", "POST")];
    assert_eq!(
        delta(&before, &after, "vneid_http_requests_total", &login_posts),
        4.0
    );
    assert_eq!(
        delta(
            &before,
            &after,
            "vneid_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        1.0
    );
    // Routes are templates: no raw path, no interaction id, nothing the stray request made up.
    let mut routes: HashMap<String, usize> = HashMap::new();
    for sample in &after.samples {
        if let Some(route) = sample.labels.get("route") {
            *routes.entry(route.to_string()).or_default() += 1;
            assert!(
                route == "unmatched" || !route.contains("stray") && !route.contains("0042"),
                "{route}"
            );
        }
    }
    let interaction_routes: Vec<&String> = routes
        .keys()
        .filter(|r| r.starts_with("/interaction/"))
        .collect();
    assert!(
        interaction_routes
            .iter()
            .all(|r| r.starts_with("/interaction/:id")),
        "{interaction_routes:?}"
    );
    // Four password verifications (one per password post, the unknown number's included),
    // each waited for a pool thread.
    assert_eq!(
        delta(&before, &after, "vneid_argon2_wait_seconds_count", &[]),
        4.0
    );
    assert_eq!(value(&after, "vneid_argon2_queue_depth", &[]), 0.0);
    assert!(value(&after, "vneid_argon2_threads", &[]) >= 1.0);
    // The pool as configured by the harness, the database up, the backlog read.
    assert_eq!(value(&after, "vneid_db_pool_max_connections", &[]), 4.0);
    let open = value(&after, "vneid_db_pool_connections", &[("state", "idle")])
        + value(&after, "vneid_db_pool_connections", &[("state", "in_use")]);
    assert!((1.0..=4.0).contains(&open), "{open}");
    assert_eq!(value(&after, "vneid_db_up", &[]), 1.0);
    assert!(
        after
            .samples
            .iter()
            .any(|s| s.metric == "vneid_outbox_pending")
    );
    assert!(
        after
            .samples
            .iter()
            .any(|s| s.metric == "vneid_outbox_oldest_age_seconds")
    );
}

/// The outbox gauges count what is undelivered and how old the oldest is.
async fn the_outbox_backlog_and_its_age_are_measured(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let now = provider.state.now();
    let mut tx = provider.state.store.begin().await.unwrap();
    for (id, age) in [("m-old", 600), ("m-new", 5)] {
        let row = vneid_provider::store::OutboxRow {
            id: id.into(),
            channel: "sms".into(),
            recipient: "+84900000000".into(),
            subject: "VNeID".into(),
            body: "hello".into(),
            kind: "test".into(),
            account_id: None,
            attempts: 0,
            sent_at: None,
            last_error: None,
            // Due far in the future so the worker leaves them alone.
            created_at: now - age,
            given_up_at: None,
        };
        vneid_provider::store::enqueue(&mut tx, &row).await.unwrap();
    }
    tx.commit().await.unwrap();
    let after = scrape(&provider).await;
    let pending = value(&after, "vneid_outbox_pending", &[]);
    let age = value(&after, "vneid_outbox_oldest_age_seconds", &[]);
    // The worker may have tried (and failed) them meanwhile; they stay undelivered.
    assert!(pending >= 2.0, "{pending}");
    assert!((600.0..700.0).contains(&age), "{age}");
}

/// A scrape from an address not allowed is refused; so is one from outside through a
/// trusted reverse proxy on loopback (the proxy's peer address is loopback, the client's is
/// not); the configured bearer token admits, a wrong one does not.
async fn scrapes_not_allowed_are_refused(backend: Backend) {
    let provider = spawn_provider_with(backend, |config| {
        config.metrics.allow = vec!["192.0.2.10".parse().unwrap()];
        config.metrics.token = Some("scrape-token-8c1f".into());
    })
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", provider.base);
    let plain = client.get(&url).send().await.unwrap();
    assert_eq!(plain.status(), 403);
    assert!(!plain.text().await.unwrap().contains("vneid_"));
    for bad in [
        "Bearer scrape-token-8c1",
        "Bearer scrape-token-8c1fX",
        "Basic scrape-token-8c1f",
    ] {
        let response = client
            .get(&url)
            .header("authorization", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 403, "{bad}");
    }
    let good = client
        .get(&url)
        .header("authorization", "Bearer scrape-token-8c1f")
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), 200);
    assert!(
        good.text()
            .await
            .unwrap()
            .contains("vneid_http_requests_total")
    );

    // Default access (loopback only) behind a trusted proxy on loopback.
    let proxied = spawn_provider_with(backend, |config| {
        config.limits.trusted_proxy = Some(vneid_provider::config::TrustedProxy {
            header: "x-forwarded-for".into(),
            addresses: vec!["127.0.0.1".parse().unwrap()],
        });
    })
    .await;
    let url = format!("{}/metrics", proxied.base);
    // The outside client even claims loopback first; the proxy appended the real address.
    let outside = client
        .get(&url)
        .header("x-forwarded-for", "127.0.0.1, 203.0.113.50")
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 403);
    let local = client.get(&url).send().await.unwrap();
    assert_eq!(local.status(), 200);
}

/// Every answer carries `x-request-id`: the caller's when well-formed, else a fresh one.
async fn the_request_id_is_echoed_or_made(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = reqwest::Client::new();
    let url = format!("{}/.well-known/openid-configuration", provider.base);
    let echoed = client
        .get(&url)
        .header("x-request-id", "lb-7f3a-0001")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "lb-7f3a-0001");
    let mut seen = Vec::new();
    for sent in [
        None,
        Some("two words"),
        Some("<script>"),
        Some(&*"x".repeat(200)),
    ] {
        let mut request = client.get(format!("{}/nowhere", provider.base));
        if let Some(sent) = sent {
            request = request.header("x-request-id", sent);
        }
        let response = request.send().await.unwrap();
        let id = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(Some(id.as_str()) != sent && id.len() >= 12, "{id}");
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{id}"
        );
        seen.push(id);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 4, "fresh ids are distinct");
}

/// `/health` is liveness, `/ready` asks the database; with the database gone, `/ready` says
/// 503 at once and `/health` still 200.
async fn ready_fails_when_the_database_is_gone(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let ready = reqwest::get(format!("{}/ready", provider.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    provider.state.store.close().await;
    let ready = reqwest::get(format!("{}/ready", provider.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let health = reqwest::get(format!("{}/health", provider.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // A page that needs the database answers 503 with Retry-After, not 500.
    let page = reqwest::get(provider.authorize_url(&[])).await.unwrap();
    assert_eq!(page.status(), 503);
    assert!(page.headers().contains_key("retry-after"));
}

on_both_backends!(
    a_scrape_after_logins_shows_the_counters_moved,
    the_outbox_backlog_and_its_age_are_measured,
    scrapes_not_allowed_are_refused,
    the_request_id_is_echoed_or_made,
    ready_fails_when_the_database_is_gone,
);
