//! Codes, tokens, subjects and keys.

use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, VERIFIER, login, login_code, on_both_backends, param, spawn_on, spawn_provider,
};

async fn bearer(base: &str, token: &str) -> u16 {
    reqwest::Client::new()
        .get(format!("{base}/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// A code works once; presenting it again revokes what was issued from it. Codes expire in 60 s.
async fn a_replayed_code_revokes_its_tokens(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let code = login_code(&provider, &browser, "001095000001").await;
    let (status, body) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_string();
    assert_eq!(bearer(&provider.base, &access).await, 200);
    let (status, body) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        bearer(&provider.base, &access).await,
        401,
        "tokens from a replayed code are revoked"
    );

    let back = browser.navigate(&provider.authorize_url(&[])).await.away();
    let code = param(&back, "code").unwrap();
    provider.state.clock.advance(61);
    let (status, _) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 400, "codes live 60 seconds");
}

/// Concurrent redemptions of one code: exactly one wins.
async fn a_code_is_redeemed_once_under_concurrency(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let code = login_code(&provider, &browser, "001095000001").await;
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let (base, code) = (provider.base.clone(), code.clone());
            tokio::spawn(async move { vneid_tests::redeem_at(&base, &code, VERIFIER).await })
        })
        .collect();
    let mut wins = 0;
    for attempt in attempts {
        if attempt.await.unwrap().0 == 200 {
            wins += 1;
        }
    }
    assert_eq!(wins, 1, "exactly one concurrent redemption wins");
}

/// offline_access gives a refresh token that rotates; reusing a rotated one revokes the family.
async fn refresh_tokens_rotate_and_detect_reuse(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[
        ("scope", "openid profile offline_access"),
        ("prompt", "consent"),
    ]);
    let back = login(&provider, &browser, &url, "001095000001").await;
    let (status, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200);
    let first = body["refresh_token"].as_str().unwrap().to_string();
    let refresh = |token: String| {
        let base = provider.base.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/token"))
                .basic_auth("demo-portal", Some("demo-portal-secret"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = refresh(first.clone()).await;
    assert_eq!(status, 200, "{body}");
    let second = body["refresh_token"].as_str().unwrap().to_string();
    let access = body["access_token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert!(body["id_token"].is_string());
    assert_eq!(bearer(&provider.base, &access).await, 200);
    let (status, body) = refresh(first).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(
        bearer(&provider.base, &access).await,
        401,
        "reuse revokes the family"
    );
    let (status, _) = refresh(second).await;
    assert_eq!(status, 400);
}

/// `sub` is pairwise per client and stable across logins.
async fn subjects_are_pairwise_and_stable(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let sub = |body: serde_json::Value| {
        super::levels::jwt_payload(body["id_token"].as_str().unwrap())["sub"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    let first = sub(provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await
        .1);
    let back = browser
        .navigate(&provider.authorize_url(&[("prompt", "login")]))
        .await;
    let (url, _, html) = back.page();
    let back = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001095000001"), ("password", "Demo@2026")],
        )
        .await
        .away();
    let again = sub(provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await
        .1);
    assert_eq!(first, again, "stable across logins");
    assert!(!first.contains("001095000001"));
    // The bank sees another sub for the same citizen.
    let bank = vneid_tests::rp::ThirdPartyRp::demo(&provider.issuer, "demo-bank").await;
    let started = bank.start(&["openid"], &[], &[]);
    let back = login(&provider, &browser, started.url.as_str(), "001095000001").await;
    let done = bank.finish(&back, started, &provider.issuer).await.unwrap();
    assert_ne!(done.claims.subject().as_str(), first);
}

/// Rotation publishes the new key at once, keeps the old one for the overlap, and signs with the
/// new one; another process picks the rotation up on reload.
async fn keys_rotate_with_overlap(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let other = spawn_on(
        &provider.database_url,
        &provider.kek,
        Some(&provider.issuer),
    )
    .await;
    let old_kid = |jwks: &serde_json::Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|k| k["alg"] == "ES256")
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let jwks = |base: String| async move {
        reqwest::get(format!("{base}/jwks"))
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    let before = old_kid(&jwks(provider.base.clone()).await);
    assert_eq!(before.len(), 1);
    let now = provider.state.now();
    let new_kid = provider
        .state
        .keys
        .rotate(vneid_provider::oidc::types::SigningAlg::Es256, now, 3600)
        .await
        .unwrap();
    let after = old_kid(&jwks(provider.base.clone()).await);
    assert!(
        after.contains(&before[0]) && after.contains(&new_kid),
        "{after:?}"
    );
    let browser = Browser::new(&provider.base);
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    let (_, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(
        super::levels::jwt_header(body["id_token"].as_str().unwrap())["kid"],
        new_kid.as_str()
    );
    other.state.keys.reload(other.state.now()).await.unwrap();
    assert!(old_kid(&jwks(other.base.clone()).await).contains(&new_kid));
    // After the overlap the old key is gone.
    provider.state.clock.advance(3601);
    provider
        .state
        .keys
        .reload(provider.state.now())
        .await
        .unwrap();
    assert_eq!(old_kid(&jwks(provider.base.clone()).await), vec![new_kid]);
}

/// Expired rows are purged; what is live stays.
async fn expired_rows_are_purged(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let browser = Browser::new(&provider.base);
    let back = login(
        &provider,
        &browser,
        &provider.authorize_url(&[]),
        "001095000001",
    )
    .await;
    let (status, body) = provider
        .redeem(&param(&back, "code").unwrap(), VERIFIER)
        .await;
    assert_eq!(status, 200);
    let access = body["access_token"].as_str().unwrap().to_string();
    let now = provider.state.now();
    assert_eq!(
        provider.state.store.purge_expired(now).await.unwrap(),
        0,
        "nothing live is purged"
    );
    assert_eq!(bearer(&provider.base, &access).await, 200);
    let later = now + 2 * 24 * 3600;
    assert!(
        provider.state.store.purge_expired(later).await.unwrap() >= 3,
        "code, session, token"
    );
}

on_both_backends!(
    expired_rows_are_purged,
    a_replayed_code_revokes_its_tokens,
    a_code_is_redeemed_once_under_concurrency,
    refresh_tokens_rotate_and_detect_reuse,
    subjects_are_pairwise_and_stable,
    keys_rotate_with_overlap,
);
