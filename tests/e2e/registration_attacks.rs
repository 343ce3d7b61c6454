//! The attacks of issue 7 on the registration API, as an attacker would try them: an anonymous
//! caller, a citizen's token or a relying party at the API; the 72-request template rebuild; an
//! oracle in the refusals (which field, which score, "an account exists"); the first password or
//! a notice sent to a number the caller chose; portrait guessing without a lock, one at a time
//! and all at once.

use reqwest::StatusCode;
use serde_json::{Value, json};
use vneid_tests::browser::Browser;
use vneid_tests::{Backend, on_both_backends, spawn_provider};

use super::registration::{
    ATTACKER_PHONE, CHAU_PHONE, add_keyed_client, chau, chau_with, import, keypair,
    post_registration, recorded_reasons, sms_password, submit, submit_with, template, time_year,
    without_id,
};

/// Every refusal reads the same to the caller, the existing account's too; the reasons are on
/// the row, in the audit log and in `registrations show` for the operator.
async fn every_refusal_is_the_same_and_only_the_operator_sees_why(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let year = time_year(provider.state.now()) - 10;
    let child = json!({
        "id_number": format!("0012{:02}000777", year % 100), "family_name": "Lê", "given_name": "Nhỏ",
        "birthdate": format!("{year}-01-01"), "gender": "male", "portrait": { "template": template(3, 0.01), "device_id": "p" }
    });
    let khang = json!({
        "id_number": "001095000010", "family_name": "Đỗ", "given_name": "Khang", "birthdate": "1995-06-01",
        "gender": "male", "portrait": { "template": template(5, 0.01), "device_id": "p" }
    });
    let cases = [
        (chau_with(json!({ "given_name": "Chi" })), "data_mismatch"),
        (
            chau_with(json!({ "portrait": { "template": template(9, 0.0), "device_id": "p" } })),
            "portrait_mismatch",
        ),
        (
            chau_with(json!({ "id_number": "001301000999" })),
            "not_in_registry",
        ),
        (child.clone(), "under_age"),
        (khang, "no_registry_contact"),
    ];
    let mut seen = Vec::new();
    for (body, code) in &cases {
        let (status, raw, answer) =
            submit_with(&provider, Some(&provider.app_token().await), body, None).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        assert_eq!(answer["status"], "refused");
        let id = answer["id"].as_str().unwrap();
        assert!(
            recorded_reasons(&provider, id)
                .await
                .contains(&code.to_string()),
            "{code} is on the row"
        );
        seen.push((without_id(&raw, &answer), *code, id.to_string()));
    }
    // Châu registers; the same request again meets her account: the same refusal once more.
    let (_, approved) = submit(&provider, &chau(), None).await;
    assert_eq!(approved["status"], "approved", "{approved}");
    let (status, raw, answer) =
        submit_with(&provider, Some(&provider.app_token().await), &chau(), None).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "no 409 that says an account exists"
    );
    let id = answer["id"].as_str().unwrap().to_string();
    assert!(
        recorded_reasons(&provider, &id)
            .await
            .contains(&"account_exists".to_string())
    );
    seen.push((without_id(&raw, &answer), "account_exists", id));
    for (text, code, _) in &seen {
        assert_eq!(text, &seen[0].0, "{code} reads like {}", seen[0].1);
        for leak in [
            "score",
            "field",
            "reason",
            "registry",
            "exists",
            "0.",
            "id_number",
        ] {
            assert!(
                !text.contains(leak),
                "{code}: the caller learns `{leak}`: {text}"
            );
        }
    }
    // The operator sees the whole story: on the row, in the audit log, with `registrations show`.
    let config = vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    );
    let portrait_case = &seen[1].2;
    let shown = vneid_provider::cli::show_registration(&config, portrait_case)
        .await
        .unwrap();
    assert!(
        shown.contains("portrait_mismatch") && shown.contains("score"),
        "{shown}"
    );
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'registration_refused' AND detail LIKE '%portrait_mismatch%'")
            .await,
        1
    );
    // With a guardian who holds an account, the child is approved; its password goes to the
    // registry's contact, not to anything in the request.
    let mut with_guardian = child;
    with_guardian["guardian_id_number"] = json!("001095000001");
    let (_, body) = submit(&provider, &with_guardian, None).await;
    assert_eq!(body["status"], "pending", "waits for the guardian: {body}");
    // The father approves in his own session (here through the same rule the page calls).
    let an = provider
        .state
        .store
        .account_by_username("001095000001")
        .await
        .unwrap()
        .unwrap();
    let an = vneid_provider::accounts::account::Account::try_from(an).unwrap();
    let decision = vneid_provider::accounts::registration::guardian_decides(
        &provider.state,
        &an,
        body["id"].as_str().unwrap(),
        true,
    )
    .await
    .unwrap();
    assert_eq!(
        decision,
        vneid_provider::accounts::registration::GuardianDecision::Approved
    );
    let jane = json!({
        "kind": "foreigner", "id_number": "AB12345678", "email": "somebody-else@example.com", "family_name": "Smith", "given_name": "Jane",
        "birthdate": "1990-02-03", "gender": "female", "nationality": "GB", "portrait": { "template": template(4, 0.02), "device_id": "p" }
    });
    let (_, body) = submit(&provider, &jane, None).await;
    assert_eq!(body["status"], "approved", "{body}");
    let outbox = provider.outbox().await;
    let mail = outbox.iter().find(|m| {
        m.kind.ends_with("first_password")
            && m.channel == "email"
            && m.recipient == "jane@example.com"
    });
    assert!(
        mail.is_some(),
        "Jane's password goes to the registry's email"
    );
    assert!(
        outbox
            .iter()
            .all(|m| m.recipient != "somebody-else@example.com"),
        "nothing goes to the address in the request"
    );
}

/// The attack of issue 7: probe the template's length with wrong-length templates, then its
/// components with 64 one-hot templates, rebuild it and register as Lê Minh Châu with the SMS
/// going to the attacker's phone. Even with the app's credentials it gets nowhere.
async fn the_template_rebuild_learns_nothing_and_never_succeeds(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let token = provider.app_token().await;
    let probe = |template: Vec<f32>| {
        chau_with(
            json!({ "phone_number": ATTACKER_PHONE, "portrait": { "template": template, "device_id": "x" } }),
        )
    };
    // 3 length probes: the wrong lengths are malformed requests, not scores.
    let mut answers = Vec::new();
    for len in [32usize, 128, 512] {
        let (status, raw, _) =
            submit_with(&provider, Some(&token), &probe(vec![1.0; len]), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "length {len}: {raw}");
        answers.push(raw);
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "{answers:?}");
    // 64 one-hot probes: each refusal reads the same, so no component can be estimated.
    let mut refusals = Vec::new();
    for i in 0..64 {
        let mut one_hot = vec![0.0; 64];
        one_hot[i] = 1.0;
        let (status, raw, body) = submit_with(&provider, Some(&token), &probe(one_hot), None).await;
        assert_eq!(status, StatusCode::CREATED, "{raw}");
        assert_eq!(body["status"], "refused");
        refusals.push(without_id(&raw, &body));
    }
    assert!(
        refusals.iter().all(|r| r == &refusals[0]),
        "refusals differ: the attacker can read something from them"
    );
    let numbers = refusals[0]
        .split(|c: char| !c.is_ascii_digit() && c != '.' && c != '-')
        .filter(|t| t.parse::<f64>().is_ok())
        .count();
    assert_eq!(numbers, 0, "no number in a refusal: {}", refusals[0]);
    // The attacker's best rebuild is the real template itself: still refused, the number is locked.
    let (_, _, body) = submit_with(&provider, Some(&token), &probe(template(1, 0.0)), None).await;
    assert_eq!(body["status"], "refused", "{body}");
    let id = body["id"].as_str().unwrap();
    let reasons = recorded_reasons(&provider, id).await;
    assert!(
        reasons.contains(&"portrait_locked".to_string())
            || reasons.contains(&"rate_limited".to_string()),
        "{reasons:?}"
    );
    assert!(
        provider
            .state
            .store
            .account_by_username("001301000123")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        provider
            .outbox()
            .await
            .iter()
            .all(|m| m.recipient != ATTACKER_PHONE),
        "nothing was sent to the attacker's phone"
    );
    assert!(
        provider
            .scalar("SELECT COUNT(*) FROM registrations WHERE reasons LIKE '%portrait_mismatch%'")
            .await
            <= 3,
        "no more than the failure budget was ever compared"
    );
}

async fn an_unauthenticated_registration_gets_401_and_records_nothing(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    // A citizen's access token (the portal's, from a login) is not the app's.
    let browser = Browser::new(&provider.base);
    let code = vneid_tests::login_code(&provider, &browser, "001095000001").await;
    let (_, tokens) = provider.redeem(&code, vneid_tests::VERIFIER).await;
    let citizen_token = tokens["access_token"].as_str().unwrap().to_string();
    for token in [None, Some("not-a-token"), Some(citizen_token.as_str())] {
        let (status, raw, _) = submit_with(&provider, token, &chau(), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}: {raw}");
    }
    let anonymous = reqwest::Client::new()
        .post(format!("{}/api/v1/registrations", provider.base))
        .json(&chau())
        .send()
        .await
        .unwrap();
    let challenge = anonymous.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    // A relying party with a secret cannot get an app token; neither can a keyed client that
    // was not given the registration scope.
    let secret_client = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth("demo-portal", Some("demo-portal-secret"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "registration"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(secret_client.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        secret_client.json::<Value>().await.unwrap()["error"],
        "unauthorized_client"
    );
    let (pem, jwks) = keypair("other-app-key");
    add_keyed_client(&provider, "keyed-rp", &jwks, &[]).await;
    let (status, body) = provider
        .client_credentials("keyed-rp", &pem, "other-app-key", Some("registration"))
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    // The demo app asking for a scope it does not hold.
    let (status, body) = provider
        .client_credentials(
            vneid_provider::demo::DEMO_APP,
            vneid_tests::DEMO_APP_KEY_PEM,
            vneid_provider::demo::DEMO_APP_KEY_ID,
            Some("registration openid"),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    // The app's token once the operator withdrew the permission: 403.
    let token = provider.app_token().await;
    assert!(
        provider
            .state
            .store
            .revoke_client_api_scope(vneid_provider::demo::DEMO_APP, "registration")
            .await
            .unwrap()
    );
    let (status, raw, _) = submit_with(&provider, Some(&token), &chau(), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{raw}");
    assert_eq!(
        provider.scalar("SELECT COUNT(*) FROM registrations").await,
        0
    );
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM registration_guards")
            .await,
        0
    );
    assert!(provider.outbox().await.is_empty(), "nothing was sent");
}

/// Another app registered by the operator reads only its own registrations.
async fn an_app_sees_only_its_own_registrations(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let (_, body) = submit(&provider, &chau(), None).await;
    let (pem, jwks) = keypair("second-app-key");
    add_keyed_client(&provider, "second-app", &jwks, &["registration"]).await;
    let (status, token) = provider
        .client_credentials("second-app", &pem, "second-app-key", None)
        .await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["scope"], "registration");
    let other = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/registrations/{}",
            provider.base,
            body["id"].as_str().unwrap()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}

async fn a_refused_registration_sends_nothing_to_the_submitted_number(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let wrong_face = chau_with(json!({
        "phone_number": ATTACKER_PHONE,
        "portrait": { "template": template(9, 0.0), "device_id": "x" }
    }));
    let (_, body) = submit(&provider, &wrong_face, None).await;
    assert_eq!(body["status"], "refused");
    let (_, body) = submit(&provider, &json!({
        "id_number": "001301000999", "phone_number": ATTACKER_PHONE, "family_name": "Lê", "given_name": "Châu",
        "birthdate": "2001-04-02", "gender": "female", "portrait": { "template": template(1, 0.0), "device_id": "x" }
    }), None)
    .await;
    assert_eq!(body["status"], "refused");
    let outbox = provider.outbox().await;
    assert!(
        outbox.iter().all(|m| m.recipient != ATTACKER_PHONE),
        "{:?}",
        outbox.iter().map(|m| &m.recipient).collect::<Vec<_>>()
    );
    // The person on record hears of the attempt, without its reasons.
    let notice = outbox
        .iter()
        .find(|m| m.recipient == CHAU_PHONE && m.kind == "registration_refused")
        .expect("a notice to the registry's phone");
    assert!(
        !notice.body.contains("portrait") && !notice.body.contains("0."),
        "{}",
        notice.body
    );
    // Even approved, the first password goes to the registry's phone, never the typed one.
    let (_, body) = submit(
        &provider,
        &chau_with(json!({ "phone_number": ATTACKER_PHONE })),
        None,
    )
    .await;
    assert_eq!(body["status"], "approved", "{body}");
    let _ = sms_password(&provider, CHAU_PHONE).await;
    assert!(
        provider
            .outbox()
            .await
            .iter()
            .all(|m| m.recipient != ATTACKER_PHONE)
    );
}

async fn portrait_failures_lock_the_number(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let wrong = |seed| {
        chau_with(json!({ "portrait": { "template": template(seed, 0.0), "device_id": "x" } }))
    };
    for seed in [7, 8, 9] {
        let (_, body) = submit(&provider, &wrong(seed), None).await;
        assert_eq!(body["status"], "refused");
    }
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'registration_portrait_locked'")
            .await,
        1,
        "the lock is audited"
    );
    // The genuine face now: refused, locked, not compared.
    let (_, body) = submit(&provider, &chau(), None).await;
    assert_eq!(body["status"], "refused");
    assert_eq!(
        recorded_reasons(&provider, body["id"].as_str().unwrap()).await,
        vec!["portrait_locked"]
    );
    // A day later the lock has passed.
    provider.state.clock.advance(24 * 3600 + 1);
    let (_, body) = submit(&provider, &chau(), None).await;
    assert_eq!(body["status"], "approved", "{body}");
}

/// Concurrent wrong portraits cannot overrun the failure budget.
async fn concurrent_portrait_probes_stay_within_the_budget(backend: Backend) {
    let provider = spawn_provider(backend).await;
    import(&provider).await;
    let token = provider.app_token().await;
    let bodies: Vec<Value> = (10..18)
        .map(|seed| {
            chau_with(json!({ "portrait": { "template": template(seed, 0.0), "device_id": "x" } }))
        })
        .collect();
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let (base, token) = (provider.base.clone(), token.clone());
            tokio::spawn(async move { post_registration(&base, Some(&token), &body, None).await })
        })
        .collect();
    for task in tasks {
        let (status, _, body) = task.await.unwrap();
        assert_eq!(
            (status, body["status"].as_str()),
            (StatusCode::CREATED, Some("refused"))
        );
    }
    assert!(
        provider
            .scalar("SELECT COUNT(*) FROM registrations WHERE reasons LIKE '%portrait_mismatch%'")
            .await
            <= 3
    );
    let (_, body) = submit(&provider, &chau(), None).await;
    assert_eq!(body["status"], "refused", "locked");
}

on_both_backends!(
    every_refusal_is_the_same_and_only_the_operator_sees_why,
    the_template_rebuild_learns_nothing_and_never_succeeds,
    an_unauthenticated_registration_gets_401_and_records_nothing,
    an_app_sees_only_its_own_registrations,
    a_refused_registration_sends_nothing_to_the_submitted_number,
    portrait_failures_lock_the_number,
    concurrent_portrait_probes_stay_within_the_budget,
);
