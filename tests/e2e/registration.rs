//! Level 1 registration from the national app against an imported registry: the authenticated
//! API, the SMS password to the registry's contact, the forced password change, malformed input,
//! the per-number limits. The attacks of issue 7 are in `registration_attacks`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vneid_tests::browser::{Browser, has_form};
use vneid_tests::{
    Backend, TestProvider, on_both_backends, param, spawn_provider, spawn_provider_with,
};

/// A 64-number template; `shift` perturbs it slightly (same person), `other` makes another face.
pub fn template(seed: u32, shift: f32) -> Vec<f32> {
    (0..64)
        .map(|i| (((i * 7 + seed * 13) % 17) as f32 - 8.0) + shift * ((i % 3) as f32))
        .collect()
}

/// Châu's phone number as the registry holds it (the only place her password may go).
pub const CHAU_PHONE: &str = "+84912345678";
/// A number an attacker types into the request.
pub const ATTACKER_PHONE: &str = "+84999000111";

/// A registry export: two citizens (one aged 10), a foreigner, and a citizen with no contact.
pub fn export(today_year: i32) -> String {
    let child_year = today_year - 10;
    let child_pin = format!("0012{:02}000777", child_year % 100);
    json!([
        { "id_number": "001301000123", "kind": "citizen", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
          "birthdate": "2001-04-02", "gender": "female", "phone_number": CHAU_PHONE,
          "documents": [{ "type": "driving_licence", "number": "010203040506", "issued_on": "2020-01-01", "issuer": "Sở GTVT Hà Nội" }],
          "identity_card": card("001301000123"),
          "biometrics": { "portrait": template(1, 0.0), "fingerprint:right_index": template(2, 0.0),
                          "fingerprint:left_index": template(8, 0.0) } },
        { "id_number": child_pin, "kind": "citizen", "family_name": "Lê", "given_name": "Nhỏ", "email": "parent@example.vn",
          "birthdate": format!("{child_year}-01-01"), "gender": "male", "biometrics": { "portrait": template(3, 0.0) },
          "relations": [{ "id_number": "001095000001", "relation": "father" }] },
        { "id_number": "AB12345678", "kind": "foreigner", "family_name": "Smith", "given_name": "Jane", "birthdate": "1990-02-03",
          "gender": "female", "nationality": "GB", "email": "jane@example.com",
          "travel_document": { "number": "123456789", "type": "P", "issued_on": "2020-05-05", "place_of_issue": "London" },
          "residence_card": { "number": "TRC-1", "type": "temporary", "expires_on": "2099-01-01" },
          "biometrics": { "portrait": template(4, 0.0) } },
        { "id_number": "001095000010", "kind": "citizen", "family_name": "Đỗ", "given_name": "Khang",
          "birthdate": "1995-06-01", "gender": "male", "identity_card": card("001095000010"),
          "biometrics": { "portrait": template(5, 0.0) } }
    ])
    .to_string()
}

/// A chip-based identity card in use (issued 2021, valid until the holder is 40).
pub fn card(number: &str) -> Value {
    json!({ "number": number, "kind": "chip_cccd", "issued_on": "2021-05-01", "expires_on": "2041-04-02", "status": "valid" })
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
    assert_eq!(report.imported, 4);
}

pub fn time_year(unix: i64) -> i32 {
    (1970 + unix / 31_556_952) as i32
}

pub fn chau() -> Value {
    json!({
        "id_number": "001301000123", "phone_number": CHAU_PHONE, "family_name": "Lê", "middle_name": "Minh",
        "given_name": "Châu", "birthdate": "2001-04-02", "gender": "female",
        "portrait": { "template": template(1, 0.05), "device_id": "phone-1" }
    })
}

/// `chau()` with fields replaced (`null` removes one).
pub fn chau_with(changes: Value) -> Value {
    let mut body = chau();
    for (k, v) in changes.as_object().unwrap() {
        if v.is_null() {
            body.as_object_mut().unwrap().remove(k);
        } else {
            body[k] = v.clone();
        }
    }
    body
}

/// Submits as the demo national app (a fresh client-credentials token).
pub async fn submit(
    provider: &TestProvider,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, Value) {
    let token = provider.app_token().await;
    let (status, _, json) = submit_with(provider, Some(&token), body, key).await;
    (status, json)
}

/// Submits with this bearer token (or none); returns status, the raw body and it parsed.
pub async fn submit_with(
    provider: &TestProvider,
    token: Option<&str>,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, String, Value) {
    post_registration(&provider.base, token, body, key).await
}

pub async fn post_registration(
    base: &str,
    token: Option<&str>,
    body: &Value,
    key: Option<&str>,
) -> (StatusCode, String, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/api/v1/registrations"))
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(key) = key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, text, json)
}

/// The first password, read from the SMS in the outbox.
pub async fn sms_password(provider: &TestProvider, phone: &str) -> String {
    let messages = provider.outbox().await;
    let sms = messages
        .iter()
        .find(|m| m.recipient == phone && m.kind.ends_with("first_password"))
        .expect("an SMS with the first password");
    assert_eq!(sms.channel, "sms");
    let after = sms.body.split("Mat khau lan dau: ").nth(1).unwrap();
    after.split(' ').next().unwrap().to_string()
}

/// A refusal's body with its id blanked: every refusal must read the same.
pub fn without_id(raw: &str, body: &Value) -> String {
    raw.replace(body["id"].as_str().expect("a registration id"), "ID")
}

/// The reason codes recorded on a registration (the operator's view).
pub async fn recorded_reasons(provider: &TestProvider, id: &str) -> Vec<String> {
    let row = provider
        .state
        .store
        .registration(id)
        .await
        .unwrap()
        .unwrap();
    let reasons: Vec<Value> = serde_json::from_str(row.reasons.as_deref().unwrap_or("[]")).unwrap();
    reasons
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
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
    // The same key for another submission is the caller's own mistake: 409, nothing recorded.
    let (status, _) = submit(
        &provider,
        &chau_with(json!({ "given_name": "Chi" })),
        Some("app-req-1"),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let token = provider.app_token().await;
    let status_url = format!(
        "{}/api/v1/registrations/{}",
        provider.base,
        body["id"].as_str().unwrap()
    );
    let fetched = reqwest::Client::new()
        .get(&status_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.json::<Value>().await.unwrap()["status"], "approved");
    let anonymous = reqwest::get(&status_url).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    let password = sms_password(&provider, CHAU_PHONE).await;
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
    let account = provider
        .state
        .store
        .account_by_username("001301000123")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.must_change_password, 0);
    assert_eq!(account.level, 1);
    assert_eq!(account.phone_number.as_deref(), Some(CHAU_PHONE));
}

async fn malformed_requests_get_400_and_record_nothing(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    for (changes, field) in [
        (json!({ "id_number": "00130100012" }), "id_number"),
        (json!({ "id_number": "001001000123" }), "id_number"),
        (json!({ "birthdate": "2001-02-30" }), "birthdate"),
        (json!({ "gender": "x" }), "gender"),
        (json!({ "phone_number": "0912345678" }), "phone_number"),
        (json!({ "email": "not an address" }), "email"),
        (json!({ "given_name": "" }), "given_name"),
        (
            json!({ "portrait": { "template": [1.0, 2.0], "device_id": "p" } }),
            "portrait.template",
        ),
        (
            json!({ "portrait": { "template": vec![0.0; 64], "device_id": "p" } }),
            "portrait.template",
        ),
        (
            json!({ "portrait": { "template": vec![1.0; 63], "device_id": "p" } }),
            "portrait.template",
        ),
        (
            json!({ "portrait": { "template": vec![1.0; 65], "device_id": "p" } }),
            "portrait.template",
        ),
        (
            json!({ "portrait": { "template": template(1, 0.0), "device_id": "" } }),
            "portrait.device_id",
        ),
    ] {
        let (status, body) = submit(&provider, &chau_with(changes.clone()), None).await;
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
        .bearer_auth(provider.app_token().await)
        .body(vec![b'x'; 100_000])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        provider.scalar("SELECT COUNT(*) FROM registrations").await,
        0
    );
    assert_eq!(provider.scalar("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM registration_guards")
            .await,
        0,
        "malformed input is not even counted"
    );
}

/// A P-256 key pair: the private PEM and a JWKS with the public half.
pub fn keypair(kid: &str) -> (String, String) {
    let pair = josekit::jws::ES256.generate_key_pair().unwrap();
    let pem = String::from_utf8(pair.to_pem_private_key()).unwrap();
    let mut public = pair.to_jwk_key_pair().to_public_key().unwrap();
    public.set_key_id(kid);
    public.set_algorithm("ES256");
    let jwks = json!({ "keys": [serde_json::to_value(public.as_ref()).unwrap()] }).to_string();
    (pem, jwks)
}

/// Registers a `private_key_jwt` client the way an operator does (`clients add --api-scope`).
pub async fn add_keyed_client(provider: &TestProvider, id: &str, jwks: &str, api_scopes: &[&str]) {
    use vneid_provider::oidc::client_credentials::ApiScope;
    use vneid_provider::oidc::types::{ClientAuthMethod, SigningAlg, SubjectType};
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let scopes: Vec<ApiScope> = api_scopes
        .iter()
        .map(|s| ApiScope::parse(s).unwrap())
        .collect();
    let new = vneid_provider::cli::NewClient {
        id: id.into(),
        name: "Keyed client".into(),
        redirect_uris: if scopes.is_empty() {
            vec![vneid_tests::PORTAL_CALLBACK.into()]
        } else {
            vec![]
        },
        post_logout_redirect_uris: vec![],
        scopes: "openid".into(),
        auth_method: ClientAuthMethod::PrivateKeyJwt,
        signing_alg: SigningAlg::Es256,
        subject_type: SubjectType::Pairwise,
        jwks: Some(jwks.into()),
        require_par: false,
        resource_server: false,
        require_dpop: false,
        profile: vneid_provider::oidc::client::Profile::Baseline,
        responses: Default::default(),
    };
    vneid_provider::cli::add_client_with_api_scopes(&config, new, &scopes)
        .await
        .unwrap();
}

async fn submissions_per_number_are_limited(backend: Backend) {
    let provider = spawn_provider_with(backend, |config| {
        config.registration.max_submissions_per_number = 2;
    })
    .await;
    import(&provider).await;
    for _ in 0..2 {
        let (_, body) = submit(&provider, &chau_with(json!({ "given_name": "Chi" })), None).await;
        assert_eq!(body["status"], "refused");
    }
    let (_, body) = submit(&provider, &chau(), None).await;
    assert_eq!(
        body["status"], "refused",
        "the third in the hour is not even looked at"
    );
    assert_eq!(
        recorded_reasons(&provider, body["id"].as_str().unwrap()).await,
        vec!["rate_limited"]
    );
    provider.state.clock.advance(3601);
    let (_, body) = submit(&provider, &chau(), None).await;
    assert_eq!(body["status"], "approved", "{body}");
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
    malformed_requests_get_400_and_record_nothing,
    submissions_per_number_are_limited,
    the_import_is_all_or_nothing,
);
