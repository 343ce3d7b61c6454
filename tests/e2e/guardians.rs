//! Issue 11, items 2, 3, 4 and the contacts of 8, on SQLite and PostgreSQL: a child's account
//! exists only once its recorded guardian approves in their own session (a non-guardian, another
//! child's guardian and a replay get nothing); the desk asks a recorded guardian between 6 and
//! 14 and a valid chip card from 14, verifies two fingers and keeps their templates sealed with
//! the portrait photo; a card reported lost downgrades at the next sync; a contact stays
//! unverified (and is released as such) until a code sent to it is entered.

use base64::Engine;
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;
use vneid_tests::browser::{Browser, Landing, form, has_form};
use vneid_tests::{Backend, TestProvider, VERIFIER, on_both_backends, param, spawn_provider};

use super::registration::{card, sms_password, submit, template, time_year};

const AN: &str = "001095000001";
const AN_PHONE: &str = "+84912000001";
const BINH: &str = "079198000002";
const BINH_PHONE: &str = "+84938000002";

async fn import(provider: &TestProvider, people: Value) {
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    vneid_provider::cli::import_registry(&config, &people.to_string(), false)
        .await
        .unwrap();
}

fn probe(seed: u32, shift: f32) -> String {
    serde_json::to_string(&template(seed, shift)).unwrap()
}

/// A child aged 10 whose recorded father is An (`century` 2: a boy born in this century).
fn child(
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
async fn account_login(
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
async fn forged_post(
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

async fn account_id(provider: &TestProvider, username: &str) -> Option<String> {
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

/// Looks `id_number` up at the desk and submits a capture; returns the result page.
async fn desk_verify(
    provider: &TestProvider,
    officer: &Browser,
    id_number: &str,
    fields: &[(&str, &str)],
) -> (Url, String) {
    let (url, _, html) = officer
        .navigate(&format!(
            "{}/desk/people?id_number={id_number}",
            provider.base
        ))
        .await
        .page();
    let (url, _, html) = officer
        .submit(&url, &html, "/desk/verify", fields)
        .await
        .page();
    (url, html)
}

/// The desk: one finger is not enough; a citizen from 14 without a valid chip card is refused
/// with a clear message; a child of 10 needs a recorded guardian holding an account (Bình, not
/// recorded, is refused; An is accepted and told); two fingers' templates are kept sealed and the
/// portrait photo is stored sealed and released through `portrait`; the child's desk page lists
/// the guardian.
async fn the_desk_asks_a_guardian_under_14_a_valid_card_from_14_and_two_fingers(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (son, son_record) = child(&provider, "000891", "Tí", (AN, "father"), 60);
    let lost = json!({ "number": "001190000893", "kind": "chip_cccd", "issued_on": "2021-05-01", "expires_on": "2045-01-01", "status": "lost" });
    let adult = json!({ "id_number": "001190000893", "kind": "citizen", "family_name": "Phạm", "given_name": "Mất",
        "birthdate": "1990-01-01", "gender": "female", "phone_number": "+84912000893", "identity_card": lost,
        "biometrics": { "portrait": template(70, 0.0), "fingerprint:right_index": template(71, 0.0), "fingerprint:left_index": template(72, 0.0) } });
    import(&provider, json!([son_record, adult])).await;
    let officer = Browser::new(&provider.base);
    super::journey::officer_login_as(&provider, &officer, "canbo01").await;

    // One finger only: no comparison, no verification.
    let (_, html) = desk_verify(
        &provider,
        &officer,
        &son,
        &[
            ("portrait_template", &probe(60, 0.02)),
            ("finger", "right_index"),
            ("fingerprint_template", &probe(61, 0.01)),
            ("finger_2", ""),
            ("fingerprint_template_2", ""),
            ("device_id", "desk-9"),
        ],
    )
    .await;
    assert!(
        html.contains("at least two different fingers") && !has_form(&html, "/desk/enrol"),
        "{html}"
    );

    // A card reported lost: matched, but Level 2 is refused with the reason.
    let (url, html) = desk_verify(
        &provider,
        &officer,
        "001190000893",
        &[
            ("portrait_template", &probe(70, 0.02)),
            ("finger", "right_index"),
            ("fingerprint_template", &probe(71, 0.01)),
            ("finger_2", "left_index"),
            ("fingerprint_template_2", &probe(72, 0.01)),
            ("device_id", "desk-9"),
        ],
    )
    .await;
    assert!(has_form(&html, "/desk/enrol"), "{html}");
    let (_, _, refused) = officer
        .submit(
            &url,
            &html,
            "/desk/enrol",
            &[("consent", "yes"), ("phone_number", "+84912000893")],
        )
        .await
        .page();
    assert!(
        refused.contains("thẻ căn cước gắn chip còn hiệu lực"),
        "{refused}"
    );
    assert!(account_id(&provider, "001190000893").await.is_none());

    // The boy of 10, with his portrait photo.
    let jpeg: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0]
        .into_iter()
        .chain((0..300u32).map(|i| (i * 7 % 251) as u8))
        .collect();
    let photo = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    let (url, html) = desk_verify(
        &provider,
        &officer,
        &son,
        &[
            ("portrait_template", &probe(60, 0.02)),
            ("finger", "right_index"),
            ("fingerprint_template", &probe(61, 0.01)),
            ("finger_2", "left_index"),
            ("fingerprint_template_2", &probe(62, 0.01)),
            ("portrait_photo", &photo),
            ("device_id", "desk-9"),
        ],
    )
    .await;
    assert!(has_form(&html, "/desk/enrol"), "{html}");
    for (guardian, why) in [("", "no guardian"), (BINH, "not recorded")] {
        let (_, _, page) = officer
            .submit(
                &url,
                &html,
                "/desk/enrol",
                &[
                    ("consent", "yes"),
                    ("phone_number", "+84912000891"),
                    ("guardian_id_number", guardian),
                ],
            )
            .await
            .page();
        assert!(page.contains("Người dưới 14 tuổi"), "{why}: {page}");
        assert!(account_id(&provider, &son).await.is_none(), "{why}");
    }
    let (_, _, page) = officer
        .submit(
            &url,
            &html,
            "/desk/enrol",
            &[
                ("consent", "yes"),
                ("phone_number", "+84912000891"),
                ("guardian_id_number", AN),
            ],
        )
        .await
        .page();
    assert!(page.contains("totp-secret"), "{page}");
    let account = provider
        .state
        .store
        .account_by_username(&son)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.level, 2);
    assert_eq!(
        account.phone_verified, 0,
        "a contact typed at the desk is unverified until its code"
    );
    assert!(
        provider
            .outbox()
            .await
            .iter()
            .any(|m| m.kind == "guardian_enrolment" && m.recipient == AN_PHONE),
        "the guardian is told"
    );
    // Two fingers kept, sealed: the stored values are JWEs, not the templates.
    let kept = provider
        .scalar(&format!("SELECT COUNT(*) FROM fingerprint_templates WHERE account_id = '{}' AND template_sealed LIKE 'ey%'", account.id))
        .await;
    assert_eq!(kept, 2);
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM desk_captures c JOIN desk_verifications v ON v.id = c.verification_id WHERE v.used_at IS NOT NULL")
            .await,
        0,
        "an enrolment uses its capture up"
    );
    // The portrait photo: sealed at rest, released as the `portrait` claim gives it.
    let stored = account.portrait_jpeg.clone().unwrap();
    assert!(!stored.contains(&photo[..20]), "sealed at rest");
    assert_eq!(
        vneid_provider::accounts::portrait::reveal(&provider.state.sealer, Some(&stored))
            .as_deref(),
        Some(photo.as_str())
    );
    let (_, _, person) = officer
        .navigate(&format!("{}/desk/people?id_number={son}", provider.base))
        .await
        .page();
    assert!(
        person.contains("Cha: Nguyễn Văn An (001095000001)"),
        "{person}"
    );
    assert!(
        person.contains("fingerprint:left_index, fingerprint:right_index"),
        "{person}"
    );
}

on_both_backends!(the_desk_asks_a_guardian_under_14_a_valid_card_from_14_and_two_fingers);

/// Bình (Level 2) with a valid card on record stays Level 2 at a sync; her card reported lost,
/// the next sync takes her to Level 1 and tells her.
async fn a_card_reported_lost_in_the_registry_downgrades_at_the_next_sync(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let binh = |status: &str| {
        json!([{ "id_number": BINH, "kind": "citizen", "family_name": "Trần", "middle_name": "Thị", "given_name": "Bình",
                 "birthdate": "1998-07-25", "gender": "female", "phone_number": BINH_PHONE,
                 "identity_card": { "number": BINH, "kind": "chip_cccd", "issued_on": "2021-05-01", "expires_on": "2038-07-25", "status": status } }])
    };
    let state = &provider.state;
    let id = account_id(&provider, BINH).await.unwrap();
    let sync = || async {
        vneid_provider::registry::sync::sync_account(
            &state.store,
            &state.registry,
            &id,
            vneid_provider::accounts::documents::SyncSource::Periodic,
            state.now(),
        )
        .await
        .unwrap()
    };
    import(&provider, binh("valid")).await;
    assert!(!sync().await.downgraded);
    import(&provider, binh("lost")).await;
    assert!(sync().await.downgraded);
    let row = state.store.account(&id).await.unwrap().unwrap();
    assert_eq!(row.level, 1);
    assert!(
        provider
            .outbox()
            .await
            .iter()
            .any(|m| m.kind == "account_downgraded" && m.recipient == BINH_PHONE),
        "she is told"
    );
    assert_eq!(
        provider.scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'account_downgraded' AND detail LIKE '%card_invalid%'").await,
        1
    );
}

on_both_backends!(a_card_reported_lost_in_the_registry_downgrades_at_the_next_sync);

/// Logs in through the pages (changing a first password when asked) and returns UserInfo.
async fn userinfo(
    provider: &TestProvider,
    browser: &Browser,
    username: &str,
    password: &str,
    scope: &str,
) -> Value {
    let mut landing = browser
        .navigate(&provider.authorize_url(&[("scope", scope)]))
        .await;
    for _ in 0..5 {
        let (url, _, html) = match landing {
            Landing::Away(back) => {
                let (status, tokens) = provider
                    .redeem(&param(&back, "code").unwrap(), VERIFIER)
                    .await;
                assert_eq!(status, 200, "{tokens}");
                return reqwest::Client::new()
                    .get(format!("{}/userinfo", provider.base))
                    .bearer_auth(tokens["access_token"].as_str().unwrap())
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
            }
            page => page.page(),
        };
        landing = if has_form(&html, "/login") {
            browser
                .submit(
                    &url,
                    &html,
                    "/login",
                    &[("username", username), ("password", password)],
                )
                .await
        } else if has_form(&html, "/password") {
            browser
                .submit(
                    &url,
                    &html,
                    "/password",
                    &[
                        ("new_password", "Con-2026-moi-pw"),
                        ("confirm_password", "Con-2026-moi-pw"),
                    ],
                )
                .await
        } else {
            browser
                .submit(&url, &html, "/consent", &[("decision", "allow")])
                .await
        };
    }
    panic!("no way through the login pages");
}

/// The newest code sent to `recipient` (opened from the outbox).
async fn newest_code(provider: &TestProvider, recipient: &str) -> String {
    let outbox = provider.outbox().await;
    let m = outbox
        .iter()
        .find(|m| m.recipient == recipient && m.kind.ends_with("contact_code"))
        .expect("a code was sent");
    m.body
        .split_whitespace()
        .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
        .unwrap()
        .to_string()
}

/// A phone number taken from the registry at registration is released with
/// `phone_number_verified: false` until a code sent to it is entered; five wrong codes spend the
/// code, an expired code does nothing, the right one verifies it (and tells nobody of a change).
async fn a_contact_stays_unverified_until_a_code_sent_to_it_is_entered(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let phone = "+84912000123";
    import(
        &provider,
        json!([{ "id_number": "001301000123", "kind": "citizen", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
                 "birthdate": "2001-04-02", "gender": "female", "phone_number": phone, "identity_card": card("001301000123"),
                 "biometrics": { "portrait": template(1, 0.0) } }]),
    )
    .await;
    let (_, body) = submit(&provider, &super::registration::chau(), None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let password = sms_password(&provider, phone).await;
    let citizen = Browser::new(&provider.base);
    let info = userinfo(
        &provider,
        &citizen,
        "001301000123",
        &password,
        "openid phone",
    )
    .await;
    assert_eq!(
        (
            info["phone_number"].as_str(),
            info["phone_number_verified"].as_bool()
        ),
        (Some(phone), Some(false)),
        "{info}"
    );

    let (url, _, html) = citizen
        .navigate(&format!("{}/account", provider.base))
        .await
        .page();
    assert!(
        html.contains("chưa xác minh") && has_form(&html, "/account/contact/verify"),
        "{html}"
    );
    let (url, _, html) = citizen
        .submit(&url, &html, "/account/contact/verify", &[])
        .await
        .page();
    let code = newest_code(&provider, phone).await;
    // Five wrong codes spend it: the right one no longer works.
    for wrong in ["000000", "111111", "222222", "333333", "444444"] {
        let wrong = if wrong == code { "555555" } else { wrong };
        citizen
            .submit(
                &url,
                &html,
                "/account/contact/confirm",
                &[("kind", "phone"), ("code", wrong)],
            )
            .await
            .page();
    }
    let (url, _, html) = citizen
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(
        html.contains("chưa xác minh"),
        "spent after five wrong codes: {html}"
    );
    // A code past its ten minutes does nothing.
    let (url, _, html) = citizen
        .submit(&url, &html, "/account/contact/verify", &[])
        .await
        .page();
    let code = newest_code(&provider, phone).await;
    provider.state.clock.advance(601);
    let (url, _, html) = citizen
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(html.contains("chưa xác minh"), "expired: {html}");
    // A fresh code, entered in time: verified.
    let (url, _, html) = citizen
        .submit(&url, &html, "/account/contact/verify", &[])
        .await
        .page();
    let code = newest_code(&provider, phone).await;
    let (_, _, html) = citizen
        .submit(
            &url,
            &html,
            "/account/contact/confirm",
            &[("kind", "phone"), ("code", &code)],
        )
        .await
        .page();
    assert!(
        html.contains("đã xác minh") && !has_form(&html, "/account/contact/verify"),
        "{html}"
    );
    assert!(
        !provider
            .outbox()
            .await
            .iter()
            .any(|m| m.kind == "contact_changed"),
        "verifying is not a change: nobody is warned"
    );
    let info = userinfo(
        &provider,
        &citizen,
        "001301000123",
        "Con-2026-moi-pw",
        "openid phone",
    )
    .await;
    assert_eq!(
        info["phone_number_verified"].as_bool(),
        Some(true),
        "{info}"
    );
}

on_both_backends!(a_contact_stays_unverified_until_a_code_sent_to_it_is_entered);

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
