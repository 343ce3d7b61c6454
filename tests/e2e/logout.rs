//! RP-Initiated Logout 1.0 at `/logout`: `id_token_hint` names the client and the citizen (an
//! expired one still does); only a registered `post_logout_redirect_uri` is followed, with
//! `state`; without a hint for this session's citizen, the citizen confirms first.

use vneid_provider::oidc::types::SigningAlg;
use vneid_tests::browser::{Browser, Landing, has_form};
use vneid_tests::{
    Backend, TestProvider, VERIFIER, login_code, on_both_backends, param, spawn_provider,
};

const LOGGED_OUT: &str = "http://127.0.0.1:3001/logged-out";
const BANK_LOGGED_OUT: &str = "http://127.0.0.1:3002/logged-out";

/// Logs `username` in to the demo portal in `browser`; returns the ID token it got.
async fn id_token(provider: &TestProvider, browser: &Browser, username: &str) -> String {
    let code = login_code(provider, browser, username).await;
    let (status, body) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    body["id_token"].as_str().unwrap().to_string()
}

/// Whether the browser still has a live login (a silent authorization request gets a code).
async fn logged_in(provider: &TestProvider, browser: &Browser) -> bool {
    let back = browser
        .navigate(&provider.authorize_url(&[("prompt", "none")]))
        .await
        .away();
    match param(&back, "error").as_deref() {
        None => param(&back, "code").is_some(),
        Some("login_required") => false,
        Some(other) => panic!("unexpected {other}"),
    }
}

fn logout_url(provider: &TestProvider, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{}/logout", provider.base)).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.to_string()
}

/// A page from another site links to `/logout` (with or without a registered address): the
/// session survives until the citizen confirms on our page (POST with CSRF).
async fn a_cross_site_logout_without_hint_asks_first(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    id_token(&provider, &browser, "001095000001").await;

    let (_, status, html) = browser.navigate(&logout_url(&provider, &[])).await.page();
    assert_eq!(status, 200);
    assert!(has_form(&html, "/logout"), "a confirmation form: {html}");
    assert!(
        logged_in(&provider, &browser).await,
        "a bare GET logs nobody out"
    );

    let asked = [
        ("client_id", "demo-portal"),
        ("post_logout_redirect_uri", LOGGED_OUT),
        ("state", "s1"),
    ];
    let (url, _, html) = browser
        .navigate(&logout_url(&provider, &asked))
        .await
        .page();
    assert!(
        has_form(&html, "/logout") && html.contains("name=\"csrf\""),
        "{html}"
    );
    assert!(
        logged_in(&provider, &browser).await,
        "nor one with client_id"
    );

    // A forged confirmation (no CSRF token of this session) does nothing either.
    let forged = browser
        .client
        .post(format!("{}/logout", provider.base))
        .form(&[("csrf", "guess"), ("client_id", "demo-portal")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(logged_in(&provider, &browser).await);

    // The citizen confirms: logged out, and back to the portal with its state.
    let back = browser.submit(&url, &html, "/logout", &[]).await.away();
    assert_eq!(back.as_str(), format!("{LOGGED_OUT}?state=s1"));
    assert!(
        !logged_in(&provider, &browser).await,
        "the session has ended"
    );
}

/// What Apache's mod_auth_openidc sends: only `id_token_hint` and `post_logout_redirect_uri`
/// (plus `state`). The hint names the client; the browser returns to the portal at once. An
/// expired ID token still serves as a hint.
async fn logout_with_only_an_id_token_hint_returns_to_the_rp(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let token = id_token(&provider, &browser, "001095000001").await;
    let back = browser
        .navigate(&logout_url(
            &provider,
            &[
                ("id_token_hint", &token),
                ("post_logout_redirect_uri", LOGGED_OUT),
                ("state", "xyz"),
            ],
        ))
        .await
        .away();
    assert_eq!(back.as_str(), format!("{LOGGED_OUT}?state=xyz"));
    assert!(!logged_in(&provider, &browser).await);

    // Again, with the ID token long expired (sessions outlive ID tokens).
    let token = id_token(&provider, &browser, "001095000001").await;
    provider.state.clock.advance(2 * 3600);
    let back = browser
        .navigate(&logout_url(
            &provider,
            &[
                ("id_token_hint", &token),
                ("post_logout_redirect_uri", LOGGED_OUT),
            ],
        ))
        .await
        .away();
    assert_eq!(back.as_str(), LOGGED_OUT);
    assert!(!logged_in(&provider, &browser).await);

    // A relying party that posts the form (RP-Initiated Logout allows POST) gets the same.
    let token = id_token(&provider, &browser, "001095000001").await;
    let response = browser
        .client
        .post(format!("{}/logout", provider.base))
        .form(&[
            ("id_token_hint", token.as_str()),
            ("post_logout_redirect_uri", LOGGED_OUT),
            ("state", "p"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["location"],
        format!("{LOGGED_OUT}?state=p").as_str()
    );
    assert!(!logged_in(&provider, &browser).await);
}

/// Forged, foreign or mismatched hints and unregistered addresses: refused with a page, never
/// redirected, nothing ended. A valid hint for another citizen asks this one to confirm.
async fn bad_hints_and_unregistered_addresses_are_never_followed(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let token = id_token(&provider, &browser, "001095000001").await;

    let mut tampered = token.clone();
    tampered.truncate(token.len() - 4);
    tampered.push_str(if token.ends_with("AAAA") {
        "BBBB"
    } else {
        "AAAA"
    });
    let mut claims = super::levels::jwt_payload(&token);
    claims["iss"] = serde_json::json!("https://evil.example");
    let foreign_issuer = provider
        .state
        .keys
        .sign(SigningAlg::Es256, &claims)
        .unwrap();
    let refused: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("id_token_hint", &tampered),
            ("post_logout_redirect_uri", LOGGED_OUT),
        ],
        vec![
            ("id_token_hint", &foreign_issuer),
            ("post_logout_redirect_uri", LOGGED_OUT),
        ],
        vec![
            ("id_token_hint", "not-a-jwt"),
            ("post_logout_redirect_uri", LOGGED_OUT),
        ],
        vec![
            ("id_token_hint", &token),
            ("client_id", "demo-bank"),
            ("post_logout_redirect_uri", BANK_LOGGED_OUT),
        ],
        vec![
            ("id_token_hint", &token),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![
            ("id_token_hint", &token),
            ("post_logout_redirect_uri", BANK_LOGGED_OUT),
        ],
        vec![
            ("client_id", "demo-portal"),
            ("post_logout_redirect_uri", "https://evil.example/"),
        ],
        vec![("post_logout_redirect_uri", LOGGED_OUT)],
    ];
    for (case, params) in refused.iter().enumerate() {
        match browser.navigate(&logout_url(&provider, params)).await {
            Landing::Page { status, html, .. } => {
                assert_eq!(status, 400, "case {case}: {html}");
                assert!(!has_form(&html, "/logout"), "case {case}: {html}");
            }
            Landing::Away(url) => panic!("case {case} was redirected to {url}"),
        }
        assert!(
            logged_in(&provider, &browser).await,
            "case {case} ended the session"
        );
    }

    // Another citizen's ID token (valid, ours) does not log this citizen out unasked.
    let other_browser = Browser::new(&provider.base);
    let other = id_token(&provider, &other_browser, "079198000002").await;
    let (_, status, html) = browser
        .navigate(&logout_url(
            &provider,
            &[
                ("id_token_hint", &other),
                ("post_logout_redirect_uri", LOGGED_OUT),
            ],
        ))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(has_form(&html, "/logout"), "asks to confirm: {html}");
    assert!(logged_in(&provider, &browser).await);
}

on_both_backends!(
    a_cross_site_logout_without_hint_asks_first,
    logout_with_only_an_id_token_hint_returns_to_the_rp,
    bad_hints_and_unregistered_addresses_are_never_followed,
);
