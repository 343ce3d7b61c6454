//! Bad input at the authorization and token endpoints, discovery, headers.

use reqwest::StatusCode;
use vneid_tests::browser::{Browser, Landing};
use vneid_tests::{
    Backend, CHALLENGE, PORTAL_CALLBACK, VERIFIER, login, login_code, on_both_backends, param,
    spawn_provider,
};

/// An unknown client or an unregistered redirect URI gets a page, never a redirect.
async fn untrusted_clients_get_a_page_not_a_redirect(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    for params in [
        vec![("client_id", "nobody")],
        vec![("client_id", "")],
        vec![("redirect_uri", "http://127.0.0.1:3001/callback/../evil")],
        vec![("redirect_uri", "http://127.0.0.1:3001/callback?x=1")],
        vec![("redirect_uri", "http://evil.example/callback")],
        vec![("redirect_uri", "")],
        // Another client's redirect URI.
        vec![("redirect_uri", "http://127.0.0.1:3002/callback")],
    ] {
        match browser.navigate(&provider.authorize_url(&params)).await {
            Landing::Page { status, html, .. } => {
                assert_eq!(status, StatusCode::BAD_REQUEST, "{params:?}");
                assert!(html.contains("role=\"alert\""), "{html}");
            }
            Landing::Away(url) => panic!("{params:?} redirected to {url}"),
        }
    }
}

/// Other errors go back to the client with `error`, `state` and `iss`.
async fn authorization_errors_are_redirected_with_state_and_iss(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    for (params, error) in [
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (vec![("response_type", "")], "invalid_request"),
        (vec![("scope", "profile")], "invalid_scope"),
        (vec![("scope", "openid address")], "invalid_scope"),
        (vec![("code_challenge", "")], "invalid_request"),
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge", "short")], "invalid_request"),
        (vec![("prompt", "none login")], "invalid_request"),
        (vec![("prompt", "sometimes")], "invalid_request"),
        (vec![("max_age", "-1")], "invalid_request"),
        (vec![("claims", "{not json")], "invalid_request"),
        (vec![("request", "eyJ.x.y")], "invalid_request_object"),
        (vec![("request_uri", "https://x")], "invalid_request_uri"),
        (vec![("response_mode", "fragment")], "invalid_request"),
        (vec![("prompt", "none")], "login_required"),
    ] {
        let url = browser
            .navigate(&provider.authorize_url(&params))
            .await
            .away();
        assert!(url.as_str().starts_with(PORTAL_CALLBACK), "{url}");
        assert_eq!(
            param(&url, "error").as_deref(),
            Some(error),
            "{params:?} gave {url}"
        );
        assert_eq!(param(&url, "state").as_deref(), Some("st4te"));
        assert_eq!(
            param(&url, "iss").as_deref(),
            Some(provider.issuer.as_str())
        );
        assert!(param(&url, "code").is_none());
    }
}

/// Registers a `client_secret_post` client for `openid profile` with RS256 and public subjects,
/// on the demo portal's callback; returns its secret.
pub async fn add_narrow_client(provider: &vneid_tests::TestProvider, id: &str) -> String {
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let mut registration = vneid_provider::cli::NewClient::new(
        id,
        "Narrow portal",
        vec![PORTAL_CALLBACK.into()],
        "openid profile",
        vneid_provider::oidc::types::ClientAuthMethod::SecretPost,
    );
    registration.signing_alg = vneid_provider::oidc::types::SigningAlg::Rs256;
    registration.subject_type = vneid_provider::oidc::types::SubjectType::Public;
    vneid_provider::cli::add_client(&config, registration)
        .await
        .unwrap()
}

/// A client registered without a scope cannot ask for it.
async fn scopes_outside_the_registration_are_refused(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let secret = add_narrow_client(&provider, "narrow-portal").await;
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[
        ("client_id", "narrow-portal"),
        ("scope", "openid profile documents"),
    ]);
    let back = browser.navigate(&url).await.away();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_scope"));

    // The scopes it is allowed work, with either secret method (RFC 6749 2.3.1) and RS256.
    let url = provider.authorize_url(&[("client_id", "narrow-portal")]);
    let back = login(&provider, &browser, &url, "001095000001").await;
    let code = param(&back, "code").unwrap();
    let client = reqwest::Client::new();
    let basic = client
        .post(format!("{}/token", provider.base))
        .basic_auth("narrow-portal", Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        basic.status(),
        StatusCode::OK,
        "registered for client_secret_post, basic is accepted too"
    );
    let url = provider.authorize_url(&[("client_id", "narrow-portal")]);
    let back = browser.navigate(&url).await.away();
    let code = param(&back, "code").unwrap();
    let post = client
        .post(format!("{}/token", provider.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
            ("client_id", "narrow-portal"),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), StatusCode::OK);
    let body: serde_json::Value = post.json().await.unwrap();
    let header = super::levels::jwt_header(body["id_token"].as_str().unwrap());
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());
}

/// RFC 6749 5.2 at the token endpoint.
async fn token_errors_follow_rfc6749(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = reqwest::Client::new();
    let token = format!("{}/token", provider.base);
    // Wrong secret, unknown client, no authentication: 401 with WWW-Authenticate.
    for (id, secret) in [("demo-portal", "wrong"), ("nobody", "x")] {
        let r = client
            .post(&token)
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "authorization_code"), ("code", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().get("www-authenticate").is_some());
        assert_eq!(r.headers()["cache-control"], "no-store");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
    }
    let r = client
        .post(&token)
        .form(&[("grant_type", "authorization_code")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Authenticated, but bad grants.
    let ask = |form: Vec<(&'static str, &'static str)>| {
        let client = client.clone();
        let token = token.clone();
        async move {
            let r = client
                .post(&token)
                .basic_auth("demo-portal", Some("demo-portal-secret"))
                .form(&form)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let body: serde_json::Value = r.json().await.unwrap();
            (status, body["error"].as_str().unwrap_or("").to_string())
        }
    };
    assert_eq!(
        ask(vec![("grant_type", "password")]).await,
        (StatusCode::BAD_REQUEST, "unsupported_grant_type".into())
    );
    assert_eq!(
        ask(vec![]).await,
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    assert_eq!(
        ask(vec![
            ("grant_type", "authorization_code"),
            ("code", "nope"),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER)
        ])
        .await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    assert_eq!(
        ask(vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", "nope")
        ])
        .await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    // Not a form at all.
    let r = client
        .post(&token)
        .basic_auth("demo-portal", Some("demo-portal-secret"))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// A wrong PKCE verifier or redirect URI burns the code.
async fn pkce_and_redirect_uri_are_bound_to_the_code(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let code = login_code(&provider, &browser, "001095000001").await;
    let (status, body) = provider
        .redeem(&code, "wrong-verifier-wrong-verifier-wrong-verifier-x")
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 400, "the code was burnt by the failed attempt");
    // Consent is remembered: the next login comes straight back.
    let back = browser.navigate(&provider.authorize_url(&[])).await.away();
    let code = param(&back, "code").unwrap();
    let (status, body) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{body}");
    let _ = CHALLENGE;
}

/// Discovery lists the contract and only what works; JWKS keys carry kids.
async fn discovery_lists_the_contract(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let doc: serde_json::Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(doc["issuer"], provider.issuer.as_str());
    let list = |k: &str| {
        doc[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    for scope in [
        "openid",
        "profile",
        "identity_number",
        "portrait",
        "phone",
        "email",
        "documents",
        "organization",
        "offline_access",
    ] {
        assert!(
            list("scopes_supported").contains(&scope.to_string()),
            "{scope}"
        );
    }
    for claim in [
        "personal_id_number",
        "foreigner_id_number",
        "travel_document",
        "documents",
        "organization",
        "acr",
        "amr",
        "auth_time",
    ] {
        assert!(
            list("claims_supported").contains(&claim.to_string()),
            "{claim}"
        );
    }
    assert_eq!(
        list("acr_values_supported"),
        ["urn:vneid:acr:level1", "urn:vneid:acr:level2"]
    );
    assert_eq!(list("code_challenge_methods_supported"), ["S256"]);
    assert_eq!(list("response_types_supported"), ["code"]);
    assert_eq!(
        list("id_token_signing_alg_values_supported"),
        ["ES256", "RS256"]
    );
    assert_eq!(list("trust_frameworks_supported"), ["vn_eid"]);
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    let jwks: serde_json::Value = reqwest::get(doc["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for key in jwks["keys"].as_array().unwrap() {
        assert!(
            key["kid"].is_string() && key["alg"].is_string() && key.get("d").is_none(),
            "{key}"
        );
    }
    let health: serde_json::Value = reqwest::get(format!("{}/health", provider.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
}

/// Pages carry the security headers; cookies are HttpOnly and SameSite=Lax; the session id
/// changes at login.
async fn pages_and_cookies_are_locked_down(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let first = client
        .get(provider.authorize_url(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let interaction = format!(
        "{}{}",
        provider.base,
        first.headers()["location"].to_str().unwrap()
    );
    let page = client.get(&interaction).send().await.unwrap();
    let headers = page.headers().clone();
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
    let cookie = headers["set-cookie"].to_str().unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
            && !cookie.contains("Secure"),
        "{cookie}"
    );
    let before = cookie.split(';').next().unwrap().to_string();
    let html = page.text().await.unwrap();
    let (action, hidden) = vneid_tests::browser::form(&html, "/login");
    let mut fields = hidden.clone();
    fields.push(("username".into(), "001095000001".into()));
    fields.push(("password".into(), "Demo@2026".into()));
    // Without the session cookie the CSRF check fails.
    let forged = client
        .post(format!("{}{action}", provider.base))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let ok = client
        .post(format!("{}{action}", provider.base))
        .header("cookie", &before)
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let after = ok.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert_ne!(before, after, "the session id is renewed at login");
    // The old id no longer logs anyone in.
    let old = client
        .get(&interaction)
        .header("cookie", &before)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(old.contains("name=\"password\""), "the old session is gone");
}

/// Nothing malformed makes the server fail.
async fn malformed_requests_never_break_the_server(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A server may close a connection whose request body it refused unread
        // (413): never reuse connections here.
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let base = &provider.base;
    let long = "x".repeat(10_000);
    let cases: Vec<reqwest::RequestBuilder> = vec![
        client.get(format!(
            "{base}/authorize?client_id=demo-portal&client_id=demo-bank"
        )),
        client.get(format!("{base}/authorize?%zz")),
        client.get(format!(
            "{base}/authorize?state={long}&client_id=demo-portal&redirect_uri={PORTAL_CALLBACK}"
        )),
        client.post(format!("{base}/authorize")).body("\u{0}\u{1}"),
        client.get(format!("{base}/interaction/{long}")),
        client.get(format!("{base}/interaction/nope")),
        client
            .post(format!("{base}/interaction/nope/login"))
            .form(&[("x", "y")]),
        client
            .post(format!("{base}/interaction/nope/consent"))
            .body("decision=allow"),
        client.post(format!("{base}/token")).body(vec![0xff, 0xfe]),
        client
            .post(format!("{base}/token"))
            .body("x".repeat(200_000)),
        client.get(format!("{base}/userinfo")).header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xfftoken").unwrap(),
        ),
        client
            .get(format!("{base}/userinfo"))
            .header("authorization", "Basic abc"),
        client
            .post(format!("{base}/userinfo"))
            .body("access_token=x"),
        client.get(format!(
            "{base}/logout?post_logout_redirect_uri=http://evil.example"
        )),
        client.get(format!("{base}/no/such/page")),
    ];
    for case in cases {
        let r = case.send().await.unwrap();
        assert!(
            r.status().is_client_error() || r.status().is_redirection() || r.status().is_success(),
            "{}",
            r.status()
        );
        assert_ne!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
    let r = client
        .get(format!(
            "{base}/logout?post_logout_redirect_uri=http://evil.example&client_id=demo-portal"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "never redirected to an unregistered address"
    );
    let r = client.get(format!("{base}/logout?post_logout_redirect_uri=http://127.0.0.1:3001/logged-out&client_id=demo-portal&state=s")).send().await.unwrap();
    assert_eq!(
        r.headers()["location"],
        "http://127.0.0.1:3001/logged-out?state=s"
    );
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

on_both_backends!(
    untrusted_clients_get_a_page_not_a_redirect,
    authorization_errors_are_redirected_with_state_and_iss,
    scopes_outside_the_registration_are_refused,
    token_errors_follow_rfc6749,
    pkce_and_redirect_uri_are_bound_to_the_code,
    discovery_lists_the_contract,
    pages_and_cookies_are_locked_down,
    malformed_requests_never_break_the_server,
);
