//! Level 1 registration from the app against an imported registry, the SMS password, the
//! forced password change, and every refusal.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{Backend, TestProvider, on_both_backends, param, spawn_provider};

/// A 64-number template; `shift` perturbs it slightly (same person), `other` makes another face.
pub fn template(seed: u32, shift: f32) -> Vec<f32> {
    (0..64)
        .map(|i| (((i * 7 + seed * 13) % 17) as f32 - 8.0) + shift * ((i % 3) as f32))
        .collect()
}

/// A registry export with two citizens (one aged 10) and a foreigner.
pub fn export(today_year: i32) -> String {
    let child_year = today_year - 10;
    let child_pin = format!("0012{:02}000777", child_year % 100);
    json!([
        { "id_number": "001301000123", "kind": "citizen", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
          "birthdate": "2001-04-02", "gender": "female",
          "documents": [{ "type": "driving_licence", "number": "010203040506", "issued_on": "2020-01-01", "issuer": "Sở GTVT Hà Nội" }],
          "biometrics": { "portrait": template(1, 0.0), "fingerprint:right_index": template(2, 0.0) } },
        { "id_number": child_pin, "kind": "citizen", "family_name": "Lê", "given_name": "Nhỏ",
          "birthdate": format!("{child_year}-01-01"), "gender": "male", "biometrics": { "portrait": template(3, 0.0) } },
        { "id_number": "AB12345678", "kind": "foreigner", "family_name": "Smith", "given_name": "Jane", "birthdate": "1990-02-03",
          "gender": "female", "nationality": "GB",
          "travel_document": { "number": "123456789", "type": "P", "issued_on": "2020-05-05", "place_of_issue": "London" },
          "residence_card": { "number": "TRC-1", "type": "temporary", "expires_on": "2099-01-01" },
          "biometrics": { "portrait": template(4, 0.0) } }
    ])
    .to_string()
}

pub async fn import(provider: &TestProvider) {
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let year = time_year(provider.state.now());
    let report = vneid_provider::cli::import_registry(&config, &export(year), false)
        .await
        .unwrap();
    assert_eq!(report.imported, 3);
}

fn time_year(unix: i64) -> i32 {
    (1970 + unix / 31_556_952) as i32
}

pub fn chau() -> Value {
    json!({
        "id_number": "001301000123", "phone_number": "+84912345678", "family_name": "Lê", "middle_name": "Minh",
        "given_name": "Châu", "birthdate": "2001-04-02", "gender": "female",
        "portrait": { "template": template(1, 0.05), "device_id": "phone-1" }
    })
}

pub async fn submit(
    provider: &TestProvider,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/v1/registrations", provider.base))
        .json(body);
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The first password, read from the SMS in the outbox.
pub async fn sms_password(provider: &TestProvider, phone: &str) -> String {
    let messages = provider.state.store.outbox_recent(50).await.unwrap();
    let sms = messages
        .iter()
        .find(|m| m.recipient == phone && m.kind.ends_with("first_password"))
        .expect("an SMS with the first password");
    assert_eq!(sms.channel, "sms");
    let after = sms.body.split("Mat khau lan dau: ").nth(1).unwrap();
    after.split(' ').next().unwrap().to_string()
}

async fn a_registry_person_registers_and_logs_in(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let (status, body) = submit(&provider, &chau(), Some("app-req-1")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "approved", "{body}");
    // The same submission again: the same decision, nothing new.
    let (status, again) = submit(&provider, &chau(), Some("app-req-1")).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &body["id"]));
    let (status, _) = submit(&provider, &chau(), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "the account exists");
    let (status, fetched) = {
        let r = reqwest::get(format!(
            "{}/api/v1/registrations/{}",
            provider.base,
            body["id"].as_str().unwrap()
        ))
        .await
        .unwrap();
        (r.status(), r.json::<Value>().await.unwrap())
    };
    assert_eq!(
        (status, &fetched["status"]),
        (StatusCode::OK, &json!("approved"))
    );

    let password = sms_password(&provider, "+84912345678").await;
    let browser = Browser::new(&provider.base);
    let (url, _, html) = browser
        .navigate(&provider.authorize_url(&[("scope", "openid profile identity_number")]))
        .await
        .page();
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/login",
            &[("username", "001301000123"), ("password", &password)],
        )
        .await
        .page();
    assert!(
        has_form(&html, "/password"),
        "the first login forces a password change: {html}"
    );
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/password",
            &[("new_password", "short1"), ("confirm_password", "short1")],
        )
        .await
        .page();
    assert!(
        html.contains("role=\"alert\""),
        "a weak password is refused"
    );
    let (url, _, html) = browser
        .submit(
            &url,
            &html,
            "/password",
            &[
                ("new_password", "Chau-2026-moi"),
                ("confirm_password", "Chau-2026-moi"),
            ],
        )
        .await
        .page();
    assert!(has_form(&html, "/consent"), "{html}");
    let back = browser
        .submit(&url, &html, "/consent", &[("decision", "allow")])
        .await
        .away();
    let (status, tokens) = provider
        .redeem(&param(&back, "code").unwrap(), vneid_tests::VERIFIER)
        .await;
    assert_eq!(status, 200);
    let info: Value = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], "Lê Minh Châu");
    assert_eq!(info["personal_id_number"], "001301000123");
    // The SMS password no longer works; the new one does.
    let account = provider
        .state
        .store
        .account_by_username("001301000123")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.must_change_password, 0);
    assert_eq!(account.level, 1);
}

async fn refusals_say_why_and_leave_nothing_behind(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let with = |changes: Value| {
        let mut body = chau();
        for (k, v) in changes.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    // Malformed: 400 with the field, nothing recorded.
    for (changes, field) in [
        (json!({ "id_number": "00130100012" }), "id_number"),
        (json!({ "id_number": "001001000123" }), "id_number"),
        (json!({ "birthdate": "2001-02-30" }), "birthdate"),
        (json!({ "gender": "x" }), "gender"),
        (json!({ "phone_number": "0912345678" }), "phone_number"),
        (json!({ "phone_number": null }), "phone_number"),
        (
            json!({ "portrait": { "template": [1.0, 2.0], "device_id": "p" } }),
            "portrait.template",
        ),
        (
            json!({ "portrait": { "template": vec![0.0; 64], "device_id": "p" } }),
            "portrait.template",
        ),
        (
            json!({ "portrait": { "template": vec![1.0; 5000], "device_id": "p" } }),
            "portrait.template",
        ),
    ] {
        let (status, body) = submit(&provider, &with(changes.clone()), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{changes} → {body}");
        let fields: Vec<&str> = body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "{changes}: {fields:?}");
    }
    let (status, _) = submit(&provider, &json!({ "id_number": 1 }), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let huge = reqwest::Client::new()
        .post(format!("{}/api/v1/registrations", provider.base))
        .body(vec![b'x'; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Well formed but refused: recorded with reasons, no account.
    for (changes, code) in [
        (json!({ "given_name": "Chi" }), "data_mismatch"),
        (
            json!({ "portrait": { "template": template(9, 0.0), "device_id": "p" } }),
            "portrait_mismatch",
        ),
        (json!({ "id_number": "001301000999" }), "not_in_registry"),
    ] {
        let (status, body) = submit(&provider, &with(changes.clone()), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "refused");
        let codes: Vec<&str> = body["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code), "{changes}: {codes:?}");
    }
    assert!(
        provider
            .state
            .store
            .account_by_username("001301000123")
            .await
            .unwrap()
            .is_none()
    );
    // The child needs a guardian; with one (an account holder), it is approved.
    let year = time_year(provider.state.now()) - 10;
    let child = json!({
        "id_number": format!("0012{:02}000777", year % 100), "email": "parent@example.vn", "family_name": "Lê", "given_name": "Nhỏ",
        "birthdate": format!("{year}-01-01"), "gender": "male", "portrait": { "template": template(3, 0.01), "device_id": "p" }
    });
    let (_, body) = submit(&provider, &child, None).await;
    assert_eq!(body["reasons"][0]["code"], "under_age", "{body}");
    let mut with_guardian = child.clone();
    with_guardian["guardian_id_number"] = json!("001095000001");
    let (_, body) = submit(&provider, &with_guardian, None).await;
    assert_eq!(body["status"], "approved", "{body}");
    // A foreigner with a residence card registers too; the password goes by email when no phone.
    let jane = json!({
        "kind": "foreigner", "id_number": "AB12345678", "email": "jane@example.com", "family_name": "Smith", "given_name": "Jane",
        "birthdate": "1990-02-03", "gender": "female", "nationality": "GB", "portrait": { "template": template(4, 0.02), "device_id": "p" }
    });
    let (_, body) = submit(&provider, &jane, None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let mail = provider
        .state
        .store
        .outbox_recent(50)
        .await
        .unwrap()
        .into_iter()
        .find(|m| m.recipient == "jane@example.com")
        .unwrap();
    assert_eq!(mail.channel, "email");
}

async fn the_import_is_all_or_nothing(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let bad = "id_number,kind,family_name,given_name,birthdate,gender\n001095000009,citizen,A,B,1995-01-01,male\n001195000010,citizen,A,B,1995-01-01,male\n";
    let err = vneid_provider::cli::import_registry(&config, bad, false)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("row 3") && err.contains("nothing imported"),
        "{err}"
    );
    assert!(
        provider
            .state
            .store
            .registry_person("001095000009")
            .await
            .unwrap()
            .is_none(),
        "the good row was not imported either"
    );
}

on_both_backends!(
    a_registry_person_registers_and_logs_in,
    refusals_say_why_and_leave_nothing_behind,
    the_import_is_all_or_nothing,
);
