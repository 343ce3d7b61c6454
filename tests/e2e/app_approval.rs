//! Approval in the app and QR login (issue 10 item 5): the `vneid-app` library, enrolled from
//! a Level 2 session, scans the login page's QR code and approves while the browser waits; the
//! browser continues without typing and the ID token says Level 2 (`hwk`, `mfa`). A code's
//! approval logs in only the browser that showed it; app requests are signed, single use and
//! die with the device; a locked account or a Level 1 account cannot use the app.

use serde_json::Map;
use serde_json::json;
use vneid_tests::app::{AN, BINH, account_session, enrolled_app, enrolment_code, lock, text_of};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{Backend, TestProvider, VERIFIER, on_both_backends, param, spawn_provider};

use crate::levels::jwt_payload;

const LEVEL2: &str = "urn:vneid:acr:level2";

/// The browser at the login page of a fresh request: the page's URL, HTML and QR payload.
async fn login_page(provider: &TestProvider, browser: &Browser) -> (url::Url, String, String) {
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[("acr_values", LEVEL2)]))
        .await
        .page();
    assert!(has_form(&html, "/qr/continue"), "{html}");
    let payload = text_of(&html, "qr-payload").expect("the QR payload as text");
    (url, html, payload)
}

/// Polls the QR page (as a browser without JavaScript does, by its meta refresh) until the
/// app approved; returns its URL and HTML.
async fn wait_for_approval(browser: &Browser, login_url: &url::Url) -> (url::Url, String) {
    let qr_url = format!("{login_url}/qr");
    for _ in 0..80 {
        let (url, _, html) = browser.navigate(&qr_url).await.page();
        if !html.contains("http-equiv=\"refresh\"") {
            return (url, html);
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    panic!("the QR page never saw the approval");
}

async fn qr_login_approved_in_the_app_is_level2(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (app, me) = enrolled_app(&provider).await;
    let (_, _, devices) = me
        .navigate(&format!("{}/account/devices", provider.base))
        .await
        .page();
    assert!(devices.contains("test phone"), "{devices}");

    let browser = Browser::new(&provider.base);
    let (login_url, _, payload) = login_page(&provider, &browser).await;
    assert!(payload.starts_with(&format!("{}/app/qr?id=", provider.issuer)));
    // The script the page uses is ours, and the policy lets only our own scripts run.
    let response = reqwest::get(&login_url.to_string()).await.unwrap();
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let script = reqwest::get(format!("{}/static/qr-login.js", provider.base))
        .await
        .unwrap();
    assert_eq!(script.status(), 200);

    // The browser waits (polls the page) while the citizen scans and approves.
    let approve = async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let approval = app.scan(&payload).await.unwrap();
        assert_eq!(approval.summary.client_id, "demo-portal");
        assert_eq!(approval.summary.acr, LEVEL2);
        assert!(
            approval.summary.claims.iter().any(|c| c == "name"),
            "{approval:?}"
        );
        app.approve(&approval).await.unwrap();
        approval
    };
    let ((qr_url, qr_html), approval) =
        tokio::join!(wait_for_approval(&browser, &login_url), approve);

    // Another browser cannot ride on this approval: it is bound to the session that showed it.
    let other = Browser::new(&provider.base);
    let (other_url, _, other_html) = other.navigate(login_url.as_str()).await.page();
    let (_, _, after) = other
        .submit(&other_url, &other_html, "/qr/continue", &[])
        .await
        .page();
    assert!(has_form(&after, "/login"), "{after}");

    // An approval counts once, and a decided approval cannot be decided again.
    assert!(app.approve(&approval).await.is_err());

    let (url, _, html) = browser
        .submit(&qr_url, &qr_html, "/qr/continue", &[])
        .await
        .page();
    assert!(has_form(&html, "/consent"), "{html}");
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let code = param(&back, "code").expect("a code");
    let (status, tokens) = provider.redeem(&code, VERIFIER).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = jwt_payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(claims["acr"], LEVEL2);
    let amr: Vec<&str> = claims["amr"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert!(amr.contains(&"hwk") && amr.contains(&"mfa"), "{amr:?}");
}

async fn app_requests_are_signed_single_use_and_die_with_the_device(backend: Backend) {
    let provider = spawn_provider(backend).await;
    // An enrolment code works once.
    let (code, me) = enrolment_code(&provider).await;
    let app = vneid_app::App::enrol(&provider.issuer, &code, "test phone")
        .await
        .unwrap();
    match vneid_app::App::enrol(&provider.issuer, &code, "second phone").await {
        Err(vneid_app::AppError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (400, "invalid_code"))
        }
        other => panic!("an enrolment code was used twice: {other:?}"),
    }
    // The app reads only QR codes of its own provider (a phishing site's is refused).
    assert!(matches!(
        app.scan("https://vneid.example.com/app/qr?id=abc").await,
        Err(vneid_app::AppError::ForeignQr(_))
    ));
    // Approving signs over the summary shown and needs the phone's user verification.
    let browser = Browser::new(&provider.base);
    let (_, _, payload) = login_page(&provider, &browser).await;
    let approval = app.scan(&payload).await.unwrap();
    for (claims, expected) in [
        (
            json!({"approval_id": approval.id, "summary_hash": "not-the-summary", "uv": true}),
            "summary_mismatch",
        ),
        (
            json!({"approval_id": approval.id, "summary_hash": vneid_app::summary_hash(&approval.raw_summary)}),
            "user_verification_required",
        ),
    ] {
        let jwt = app
            .signed("/app/approve", claims.as_object().unwrap().clone())
            .unwrap();
        let (status, body) = app.send_raw("/app/approve", jwt).await.unwrap();
        assert_eq!((status, body["error"].as_str()), (400, Some(expected)));
    }
    // A code can be approved only while it lives (30 s).
    provider.state.clock.advance(31);
    match app.approve(&approval).await {
        Err(vneid_app::AppError::Refused { status, .. }) => assert_eq!(status, 404),
        other => panic!("an expired code was approved: {other:?}"),
    }
    // A replayed request is refused.
    let jwt = app.signed("/app/pending", Map::new()).unwrap();
    let (first, _) = app.send_raw("/app/pending", jwt.clone()).await.unwrap();
    assert_eq!(first, 200);
    let (again, body) = app.send_raw("/app/pending", jwt).await.unwrap();
    assert_eq!(
        (again, body["error"].as_str()),
        (401, Some("replayed_request"))
    );
    // A request signed for another endpoint is refused.
    let jwt = app.signed("/app/deny", Map::new()).unwrap();
    let (status, _) = app.send_raw("/app/pending", jwt).await.unwrap();
    assert_eq!(status, 401);
    // A request signed by another key under this device's id is refused.
    let (url, _, html) = me
        .navigate(&format!("{}/account/devices", provider.base))
        .await
        .page();
    let (_, _, html) = me
        .submit(&url, &html, "/account/devices/code", &[])
        .await
        .page();
    let second = text_of(&html, "enrolment-code").unwrap();
    let stranger = vneid_app::App::enrol(&provider.issuer, &second, "stranger")
        .await
        .unwrap();
    let impostor = vneid_app::App::from_state(vneid_app::DeviceState {
        provider: provider.issuer.clone(),
        device_id: app.device_id().to_string(),
        private_jwk: stranger_key(&stranger),
    });
    let (status, body) = impostor
        .send_raw(
            "/app/pending",
            impostor.signed("/app/pending", Map::new()).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_device"))
    );

    // The citizen removes the device on /account/devices: it can no longer approve.
    let (url, _, html) = me
        .navigate(&format!("{}/account/devices", provider.base))
        .await
        .page();
    let device_id = app.device_id().to_string();
    let (_, _, html) = me
        .submit(
            &url,
            &html,
            "/account/devices/remove",
            &[("device_id", device_id.as_str())],
        )
        .await
        .page();
    assert!(html.contains("Đã gỡ thiết bị"), "{html}");
    let browser = Browser::new(&provider.base);
    let (_, _, payload) = login_page(&provider, &browser).await;
    match app.scan(&payload).await {
        Err(vneid_app::AppError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (401, "invalid_device"))
        }
        other => panic!("a removed device was answered {other:?}"),
    }
}

/// The private key of an app (through its saved state).
fn stranger_key(app: &vneid_app::App) -> serde_json::Map<String, serde_json::Value> {
    let path = std::env::temp_dir().join(format!("vneid-app-{}.json", rand::random::<u64>()));
    app.save(&path).unwrap();
    let state: vneid_app::DeviceState =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let _ = std::fs::remove_file(&path);
    state.private_jwk
}

async fn locked_or_level1_accounts_cannot_use_the_app(backend: Backend) {
    let provider = spawn_provider(backend).await;
    // A Level 1 account is offered no enrolment code, and a code cannot be redeemed for it.
    let (_, _, html) = account_session(&provider, AN).await;
    assert!(!has_form(&html, "/account/devices/code"), "{html}");
    assert!(html.contains("Chỉ tài khoản mức độ 2"), "{html}");
    let an = provider
        .state
        .store
        .account_by_username(AN)
        .await
        .unwrap()
        .unwrap();
    let now = provider.state.now();
    provider
        .state
        .store
        .insert_enrolment_code(
            &vneid_provider::secret::hash("planted-code"),
            &an.id,
            now,
            now + 600,
        )
        .await
        .unwrap();
    match vneid_app::App::enrol(&provider.issuer, "planted-code", "phone").await {
        Err(vneid_app::AppError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "account_unusable"))
        }
        other => panic!("a Level 1 account enrolled a device: {other:?}"),
    }

    // Approved, then locked before the browser continues: no login.
    let (app, _) = enrolled_app(&provider).await;
    let browser = Browser::new(&provider.base);
    let (login_url, _, payload) = login_page(&provider, &browser).await;
    let approval = app.scan(&payload).await.unwrap();
    app.approve(&approval).await.unwrap();
    let (qr_url, qr_html) = wait_for_approval(&browser, &login_url).await;
    lock(&provider, BINH).await;
    let (_, _, html) = browser
        .submit(&qr_url, &qr_html, "/qr/continue", &[])
        .await
        .page();
    assert!(
        has_form(&html, "/login") && !has_form(&html, "/consent"),
        "{html}"
    );
    // And the locked account's app is refused from now on.
    let (_, _, payload) = login_page(&provider, &Browser::new(&provider.base)).await;
    match app.scan(&payload).await {
        Err(vneid_app::AppError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (403, "account_unusable"))
        }
        other => panic!("a locked account's app was answered {other:?}"),
    }
}

on_both_backends!(
    qr_login_approved_in_the_app_is_level2,
    app_requests_are_signed_single_use_and_die_with_the_device,
    locked_or_level1_accounts_cannot_use_the_app,
);
