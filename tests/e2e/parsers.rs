//! Property tests at the HTTP edge: arbitrary query strings to `/authorize` (GET and POST) and
//! arbitrary form bodies and headers to `/token` and `/userinfo`, sent to a running provider,
//! never get a 5xx (nor a dropped connection, which is how a panic shows); `/token` and
//! `/userinfo` refuse every one of them with a JSON OAuth error. A fixed number of cases keeps
//! CI fast; on PostgreSQL too, whose TEXT refuses NUL bytes that SQLite stores.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use vneid_tests::{
    Backend, CHALLENGE, PORTAL_CALLBACK, VERIFIER, on_both_backends, spawn_provider,
};

const CASES: u32 = 200;

/// A value: one that means something to the provider, a near miss, or anything at all
/// (NUL bytes, invalid UTF-8 once percent-decoded, far too long).
fn value(meaningful: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        5 => prop::sample::select(meaningful).prop_map(str::to_string),
        2 => any::<String>(),
        1 => (prop::sample::select(meaningful), "[\\x00-\\x1f%\\\\\"'<>&=+ ]{1,3}")
            .prop_map(|(m, x)| format!("{m}{x}")),
        1 => (2040usize..2060, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n)),
    ]
    .boxed()
}

/// One `name=value` pair, percent-encoded, or raw bytes that are not valid encoding.
fn pair(names: &'static [&'static str], values: BoxedStrategy<String>) -> BoxedStrategy<String> {
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    prop_oneof![
        8 => (prop::sample::select(names), values).prop_map(move |(n, v)| format!("{n}={}", encode(&v))),
        1 => (".{0,10}", ".{0,10}").prop_map(move |(n, v)| format!("{}={}", encode(&n), encode(&v))),
        1 => prop::sample::select(vec!["%", "%zz", "a=%ff%fe", "=", "&&", "scope", "x=%00", "client_id=%C0%AF"])
            .prop_map(str::to_string),
    ]
    .boxed()
}

/// Pairs joined by `&`, short enough for a URL (hyper takes up to 64 KiB).
fn query(pair: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    prop::collection::vec(pair, 0..14)
        .prop_map(|pairs| pairs.join("&"))
        .prop_filter("longer than a URL may be", |q| q.len() < 60_000)
}

/// The start of a long text, for messages.
fn shortened(text: &str) -> String {
    text.chars().take(400).collect()
}

fn authorize_query() -> impl Strategy<Value = String> {
    let names: &'static [&'static str] = &[
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "acr_values",
        "claims",
        "prompt",
        "max_age",
        "login_hint",
        "ui_locales",
        "response_mode",
        "request",
        "request_uri",
        "registration",
        "id_token_hint",
    ];
    let values = prop_oneof![
        value(&["code", "demo-portal", PORTAL_CALLBACK, "openid profile documents", CHALLENGE, "S256"]),
        value(&["urn:vneid:acr:level2", "none", "login consent", "0", "-1", "99999999999999999999", "en", "vi-VN", "query"]),
        value(&[
            r#"{"id_token":{"acr":{"essential":true,"values":["urn:vneid:acr:level2"]}},"userinfo":{"verified_claims":null}}"#,
            r#"{"userinfo":{"documents":{"essential":true}}}"#,
            "079198000002",
        ]),
    ]
    .boxed();
    // Mostly a request of the demo portal, so that validation goes past the client check.
    (
        prop::bool::weighted(0.7),
        query(pair(names, values)),
    )
        .prop_map(|(portal, rest)| {
            let base = format!(
                "response_type=code&client_id=demo-portal&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
                url::form_urlencoded::byte_serialize(PORTAL_CALLBACK.as_bytes()).collect::<String>()
            );
            match (portal, rest.is_empty()) {
                (true, true) => base,
                (true, false) => format!("{base}&{rest}"),
                (false, _) => rest,
            }
        })
}

fn token_body() -> impl Strategy<Value = String> {
    let names: &'static [&'static str] = &[
        "grant_type",
        "code",
        "redirect_uri",
        "code_verifier",
        "client_id",
        "client_secret",
        "client_assertion_type",
        "client_assertion",
        "refresh_token",
        "scope",
    ];
    let values = prop_oneof![
        value(&[
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password"
        ]),
        value(&[
            "demo-portal",
            "demo-portal-secret",
            PORTAL_CALLBACK,
            VERIFIER
        ]),
        value(&[
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJkZW1vLXBvcnRhbCJ9.c2ln",
            "a.b.c",
        ]),
    ]
    .boxed();
    query(pair(names, values))
}

fn userinfo_body() -> impl Strategy<Value = String> {
    let names: &'static [&'static str] = &["access_token", "claims", "scope"];
    query(pair(
        names,
        value(&["at", "eyJhbGciOiJFUzI1NiJ9.e30.c2ln", "openid"]),
    ))
}

/// An `Authorization` header, or none: Basic and Bearer of anything a header can carry.
fn authorization() -> impl Strategy<Value = Option<String>> {
    use base64::Engine;
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    prop_oneof![
        3 => Just(None),
        1 => Just(Some(format!("Basic {}", b64("demo-portal:demo-portal-secret".into())))),
        1 => any::<String>().prop_map(move |s| Some(format!("Basic {}", b64(s)))),
        1 => "[!-~]{0,40}".prop_map(|s| Some(format!("Basic {s}"))),
        1 => "[!-~ ]{0,60}".prop_map(|s| Some(format!("Bearer {s}"))),
        1 => "[!-~ ]{0,20}".prop_map(Some),
    ]
}

fn content_type() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        6 => Just(Some("application/x-www-form-urlencoded")),
        1 => Just(Some("application/x-www-form-urlencoded; charset=ISO-8859-1")),
        1 => Just(Some("application/json")),
        1 => Just(Some("multipart/form-data; boundary=x")),
        1 => Just(None),
    ]
}

/// Runs `CASES` cases of `strategy` on a blocking thread, each sending one request; fails on
/// the first 5xx (or a dropped connection, which is how a panic in a handler shows).
/// `check` sees each answer's status and body.
async fn run<S>(
    strategy: impl FnOnce() -> S + Send + 'static,
    send: impl Fn(S::Value) -> reqwest::RequestBuilder + Send + Sync + 'static,
    check: impl Fn(StatusCode, &str) -> Result<(), String> + Send + 'static,
) where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let strategy = strategy();
        let mut runner = TestRunner::new(Config {
            cases: CASES,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&strategy, |case| {
                let described = shortened(&format!("{case:?}"));
                let response = handle
                    .block_on(send(case).send())
                    .map_err(|e| TestCaseError::fail(format!("no answer ({e}) to {described}")))?;
                let status = response.status();
                let body = handle.block_on(response.text()).unwrap_or_default();
                prop_assert!(
                    !status.is_server_error(),
                    "{status} for {described}: {}",
                    shortened(&body)
                );
                check(status, &body).map_err(|e| {
                    TestCaseError::fail(format!(
                        "{e} ({status} for {described}: {})",
                        shortened(&body)
                    ))
                })?;
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}", shortened(&e.to_string())));
    })
    .await
    .unwrap();
}

async fn arbitrary_requests_never_get_a_5xx(backend: Backend) {
    let provider = spawn_provider(backend).await;
    // A fresh connection per case: a connection the server closes after an answer (a refused
    // malformed request) could otherwise be reused by the next case before the client sees it
    // closed, a transport error that says nothing about the provider.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();

    // The well-formed request the strategies start from is understood (a login page).
    let sane = http
        .get(format!("{}/authorize?response_type=code&client_id=demo-portal&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
            provider.base,
            url::form_urlencoded::byte_serialize(PORTAL_CALLBACK.as_bytes()).collect::<String>()))
        .send()
        .await
        .unwrap();
    assert!(
        sane.status().is_redirection() || sane.status() == StatusCode::OK,
        "{}",
        sane.status()
    );

    let (base, client) = (provider.base.clone(), http.clone());
    run(
        authorize_query,
        move |q| client.get(format!("{base}/authorize?{q}")),
        any_answer,
    )
    .await;

    let (base, client) = (provider.base.clone(), http.clone());
    run(
        || (authorize_query(), content_type()),
        move |(body, ct)| {
            let mut request = client.post(format!("{base}/authorize")).body(body);
            if let Some(ct) = ct {
                request = request.header(CONTENT_TYPE, ct);
            }
            request
        },
        any_answer,
    )
    .await;

    let (base, client) = (provider.base.clone(), http.clone());
    run(
        || (token_body(), authorization(), content_type()),
        move |(body, auth, ct)| {
            let mut request = client.post(format!("{base}/token")).body(body);
            if let Some(auth) = auth {
                request = request.header(AUTHORIZATION, auth);
            }
            if let Some(ct) = ct {
                request = request.header(CONTENT_TYPE, ct);
            }
            request
        },
        oauth_error,
    )
    .await;

    let (base, client) = (provider.base.clone(), http.clone());
    run(
        || {
            (
                userinfo_body(),
                authorization(),
                content_type(),
                any::<bool>(),
            )
        },
        move |(body, auth, ct, get)| {
            let mut request = if get {
                client.get(format!("{base}/userinfo?{body}"))
            } else {
                client.post(format!("{base}/userinfo")).body(body)
            };
            if let Some(auth) = auth {
                request = request.header(AUTHORIZATION, auth);
            }
            if let Some(ct) = ct {
                request = request.header(CONTENT_TYPE, ct);
            }
            request
        },
        oauth_error,
    )
    .await;
}

fn any_answer(_: StatusCode, _: &str) -> Result<(), String> {
    Ok(())
}

/// No request made up here holds a valid code, token or client assertion: every answer is a
/// refusal, and a refusal carries an OAuth error code.
fn oauth_error(status: StatusCode, body: &str) -> Result<(), String> {
    if !status.is_client_error() {
        return Err("not a refusal".into());
    }
    if status == StatusCode::PAYLOAD_TOO_LARGE || status == StatusCode::TOO_MANY_REQUESTS {
        return Ok(());
    }
    let json: serde_json::Value =
        serde_json::from_str(body).map_err(|_| "a refusal without a JSON error".to_string())?;
    match json["error"].as_str() {
        Some(code) if !code.is_empty() => Ok(()),
        _ => Err("a refusal without an error code".into()),
    }
}

on_both_backends!(arbitrary_requests_never_get_a_5xx);
