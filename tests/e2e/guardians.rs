//! Issue 11, item 4, on SQLite and PostgreSQL: a child's account exists only once its recorded
//! guardian approves in their own session at `/account` (a non-guardian, another child's
//! guardian and a replayed approval get nothing; a denial refuses), also when the request was
//! held through a registry outage. The desk's side is in `desk_law`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;
use vneid_tests::browser::{Browser, form, has_form};
use vneid_tests::{Backend, TestProvider, on_both_backends, spawn_provider};

use super::registration::{sms_password, submit, template, time_year};

pub(super) const AN: &str = "001095000001";
pub(super) const AN_PHONE: &str = "+84912000001";
pub(super) const BINH: &str = "079198000002";
pub(super) const BINH_PHONE: &str = "+84938000002";

pub(super) async fn import(provider: &TestProvider, people: Value) {
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    vneid_provider::cli::import_registry(&config, &people.to_string(), false)
        .await
        .unwrap();
}

pub(super) fn probe(seed: u32, shift: f32) -> String {
    serde_json::to_string(&template(seed, shift)).unwrap()
}

/// A child aged 10 whose recorded father is An (`century` 2: a boy born in this century).
pub(super) fn child(
    provider: &TestProvider,
    serial: &str,
    given: &str,
    parent: (&str, &str),
    seed: u32,
) -> (String, Value) {
    let year = time_year(provider.state.now()) - 10;
    let pin = format!("0012{:02}{serial}", year % 100);
    let record = json!({ "id_number": pin, "kind": "citizen", "family_name": "Nguyễn", "given_name": given,
        "birthdate": format!("{year}-01-01"), "gender": "male", "phone_number": format!("+84912{serial}"),
        "relations": [{ "id_number": parent.0, "relation": parent.1 }],
        "biometrics": { "portrait": template(seed, 0.0), "fingerprint:right_index": template(seed + 1, 0.0),
                        "fingerprint:left_index": template(seed + 2, 0.0) } });
    (pin, record)
}

/// The app's request for the child of `record` (portrait seed `seed`), naming `guardian`.
fn request(record: &Value, guardian: &str, seed: u32) -> Value {
    json!({ "id_number": record["id_number"], "family_name": record["family_name"], "given_name": record["given_name"],
            "birthdate": record["birthdate"], "gender": "male", "guardian_id_number": guardian,
            "portrait": { "template": template(seed, 0.02), "device_id": "phone-7" } })
}

/// Logs in at `/account` with a password (a Level 2 account's step-up is skipped); returns
/// the account page.
pub(super) async fn account_login(
    provider: &TestProvider,
    browser: &Browser,
    username: &str,
    password: &str,
) -> (Url, String) {
    let (url, _, html) = browser
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    browser
        .submit(
            &url,
            &html,
            "/account/login",
            &[("username", username), ("password", password)],
        )
        .await
        .page();
    let (url, _, html) = browser
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    (url, html)
}

/// Posts `fields` to `action` with the session's CSRF token, as a forged form would.
pub(super) async fn forged_post(
    browser: &Browser,
    url: &Url,
    html: &str,
    action: &str,
    fields: &[(&str, &str)],
) -> String {
    let csrf = form(html, "/account/logout").1.remove(0).1;
    let forged = format!(
        "<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"></form>"
    );
    browser.submit(url, &forged, action, fields).await.page().2
}

pub(super) async fn account_id(provider: &TestProvider, username: &str) -> Option<String> {
    provider
        .state
        .store
        .account_by_username(username)
        .await
        .unwrap()
        .map(|a| a.id)
}

/// The guardian's approval: a pending request, seen only on its guardian's `/account`, decided
/// only there (Bình, an active account not recorded, and An for Bình's child find nothing); a
/// replay of the approval does nothing; a denial refuses.
async fn a_childs_account_is_created_only_when_its_recorded_guardian_approves(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (son, son_record) = child(&provider, "000881", "Bé", (AN, "father"), 40);
    let (daughter_of_binh, daughter_record) =
        child(&provider, "000882", "Nhỏ", (BINH, "mother"), 50);
    import(
        &provider,
        json!([son_record.clone(), daughter_record.clone()]),
    )
    .await;

    let (status, body) = submit(&provider, &request(&son_record, AN, 40), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "pending", "waits for the guardian: {body}");
    let son_request = body["id"].as_str().unwrap().to_string();
    assert!(
        account_id(&provider, &son).await.is_none(),
        "no account before the approval"
    );
    let outbox = provider.outbox().await;
    assert!(
        outbox
            .iter()
            .any(|m| m.kind == "guardian_request" && m.recipient == AN_PHONE),
        "the guardian is told on the contact on record"
    );
    let (_, body) = submit(&provider, &request(&daughter_record, BINH, 50), None).await;
    assert_eq!(body["status"], "pending", "{body}");
    let daughter_request = body["id"].as_str().unwrap().to_string();

    // Bình (an active account, not the boy's recorded parent) sees nothing and approves nothing.
    let binh = Browser::new(&provider.base);
    let (url, html) = account_login(&provider, &binh, BINH, "Demo@2026").await;
    assert!(!html.contains(&son_request), "{html}");
    assert!(
        html.contains(&daughter_request),
        "her own child's request is listed"
    );
    let page = forged_post(
        &binh,
        &url,
        &html,
        "/account/guardian",
        &[("registration", &son_request), ("decision", "approve")],
    )
    .await;
    assert!(page.contains("Không có đề nghị này"), "{page}");
    assert!(
        account_id(&provider, &son).await.is_none(),
        "a non-guardian approves nothing"
    );

    // An, the boy's father, cannot approve Bình's daughter's request either.
    let an = Browser::new(&provider.base);
    let (url, html) = account_login(&provider, &an, AN, "Demo@2026").await;
    assert!(
        html.contains("Bé") && !html.contains(&daughter_request),
        "{html}"
    );
    forged_post(
        &an,
        &url,
        &html,
        "/account/guardian",
        &[("registration", &daughter_request), ("decision", "approve")],
    )
    .await;
    assert!(
        account_id(&provider, &daughter_of_binh).await.is_none(),
        "another child's guardian approves nothing"
    );

    // An approves his son's request in his own session: the account exists, once.
    let (url, _, html) = an
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(has_form(&html, "/account/guardian"), "{html}");
    let (_, _, approved) = an
        .submit(
            &url,
            &html,
            "/account/guardian",
            &[("registration", &son_request), ("decision", "approve")],
        )
        .await
        .page();
    assert!(approved.contains("Đã đồng ý"), "{approved}");
    let son_id = account_id(&provider, &son)
        .await
        .expect("created on approval");
    let row = provider
        .state
        .store
        .registration(&son_request)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "approved");
    // The approval replayed: nothing more happens.
    let replay = an
        .submit(
            &url,
            &html,
            "/account/guardian",
            &[("registration", &son_request), ("decision", "approve")],
        )
        .await
        .page()
        .2;
    assert!(replay.contains("Không có đề nghị này"), "{replay}");
    assert_eq!(
        provider
            .scalar(&format!(
                "SELECT COUNT(*) FROM accounts WHERE username = '{son}'"
            ))
            .await,
        1
    );
    assert_eq!(
        provider.scalar("SELECT COUNT(*) FROM guardianships").await,
        1
    );
    assert!(
        provider
            .scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'guardian_decision_refused'")
            .await
            >= 3,
        "every attempt that found nothing is audited"
    );
    let guardians = provider.state.store.guardians_of(&son_id).await.unwrap();
    assert_eq!(guardians.len(), 1);
    assert_eq!(guardians[0].1, "father");

    // The child's own /account lists its guardian; his phone (from the registry) is unverified.
    let password = sms_password(&provider, &format!("+84912{}", "000881")).await;
    let boy = Browser::new(&provider.base);
    let (_, html) = account_login(&provider, &boy, &son, &password).await;
    assert!(
        html.contains("id=\"guardians\"") && html.contains("Cha: Nguyễn Văn An"),
        "{html}"
    );
    assert!(html.contains("chưa xác minh"), "{html}");

    // Bình denies her daughter's request: refused, no account.
    let (url, _, html) = binh
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    let denied = binh
        .submit(
            &url,
            &html,
            "/account/guardian",
            &[("registration", &daughter_request), ("decision", "deny")],
        )
        .await
        .page()
        .2;
    assert!(denied.contains("Đã từ chối"), "{denied}");
    assert!(account_id(&provider, &daughter_of_binh).await.is_none());
    assert_eq!(
        super::registration::recorded_reasons(&provider, &daughter_request).await,
        vec!["guardian_denied".to_string()]
    );
}

on_both_backends!(a_childs_account_is_created_only_when_its_recorded_guardian_approves);
/// A registry service for one child (recorded father: An) that can be taken down.
async fn flaky_child_registry(
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    child: Value,
) -> String {
    use axum::http::StatusCode as AxumStatus;
    use std::sync::atomic::Ordering;
    let (people, matcher) = (up.clone(), up);
    let pin = child["id_number"].as_str().unwrap().to_string();
    let app = axum::Router::new()
        .route(
            "/people/{id}",
            axum::routing::get(
                move |axum::extract::Path(id): axum::extract::Path<String>| {
                    let (up, child, pin) = (people.clone(), child.clone(), pin.clone());
                    async move {
                        if !up.load(Ordering::SeqCst) {
                            return Err(AxumStatus::SERVICE_UNAVAILABLE);
                        }
                        if id != pin {
                            return Err(AxumStatus::NOT_FOUND);
                        }
                        Ok(axum::Json(child))
                    }
                },
            ),
        )
        .route(
            "/people/{id}/match",
            axum::routing::post(move || {
                let up = matcher.clone();
                async move {
                    if !up.load(Ordering::SeqCst) {
                        return Err(AxumStatus::SERVICE_UNAVAILABLE);
                    }
                    Ok(axum::Json(json!({ "score": 0.97 })))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// A child's request made while the registry is down is decided by the worker when it returns:
/// not approved, but held for the recorded guardian (told then), whose approval creates it.
async fn a_childs_request_held_in_an_outage_waits_for_its_guardian_afterwards(backend: Backend) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let up = std::sync::Arc::new(AtomicBool::new(false));
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let year = time_year(now) - 10;
    let pin = format!("0012{:02}000871", year % 100);
    let record = json!({ "id_number": pin, "kind": "citizen", "family_name": "Nguyễn", "given_name": "Bão",
        "birthdate": format!("{year}-01-01"), "gender": "male", "phone_number": "+84912000871",
        "relations": [{ "id_number": AN, "relation": "father" }] });
    let url = flaky_child_registry(up.clone(), record.clone()).await;
    let provider = vneid_tests::spawn_provider_with(backend, |config| {
        config.registry.url = Some(url.parse().unwrap())
    })
    .await;
    let (_, body) = submit(&provider, &request(&record, AN, 80), None).await;
    assert_eq!(body["status"], "pending", "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    up.store(true, Ordering::SeqCst);
    provider.state.clock.advance(3600);
    vneid_provider::accounts::registration::decide_pending(&provider.state)
        .await
        .unwrap();
    let row = provider
        .state
        .store
        .registration(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.status, "pending", "held for the guardian, not approved");
    assert!(account_id(&provider, &pin).await.is_none());
    assert!(
        provider
            .outbox()
            .await
            .iter()
            .any(|m| m.kind == "guardian_request" && m.recipient == AN_PHONE),
        "the guardian is told when the registry answers"
    );
    let an = Browser::new(&provider.base);
    let (url, html) = account_login(&provider, &an, AN, "Demo@2026").await;
    assert!(html.contains(&id), "{html}");
    an.submit(
        &url,
        &html,
        "/account/guardian",
        &[("registration", &id), ("decision", "approve")],
    )
    .await
    .page();
    assert!(
        account_id(&provider, &pin).await.is_some(),
        "created on approval"
    );
}

on_both_backends!(a_childs_request_held_in_an_outage_waits_for_its_guardian_afterwards);
