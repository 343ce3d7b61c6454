//! Issue 11, items 2 to 4, on SQLite and PostgreSQL: the desk asks a recorded guardian
//! between 6 and 14, who approves or denies in their own session, and a valid chip card from 14, verifies two fingers and keeps their
//! templates sealed with the portrait photo; a card reported lost downgrades at the next sync.

use base64::Engine;
use serde_json::json;
use url::Url;
use vneid_tests::browser::{Browser, form, has_form};
use vneid_tests::{Backend, TestProvider, on_both_backends, spawn_provider};

use super::guardians::{
    AN, AN_PHONE, BINH, BINH_PHONE, account_id, account_login, child, forged_post, import, probe,
};
use super::registration::template;

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

/// Looks `id_number` up and submits a matching two-finger capture of the person imported with
/// biometric seed `seed` (portrait `seed`, fingers `seed + 1` and `seed + 2`), plus `extra`.
async fn desk_verify_matching(
    provider: &TestProvider,
    officer: &Browser,
    id_number: &str,
    seed: u32,
    extra: &[(&str, &str)],
) -> (Url, String) {
    let (portrait, first, second) = (
        probe(seed, 0.02),
        probe(seed + 1, 0.01),
        probe(seed + 2, 0.01),
    );
    let mut fields = vec![
        ("portrait_template", portrait.as_str()),
        ("finger", "right_index"),
        ("fingerprint_template", first.as_str()),
        ("finger_2", "left_index"),
        ("fingerprint_template_2", second.as_str()),
        ("device_id", "desk-9"),
    ];
    fields.extend_from_slice(extra);
    desk_verify(provider, officer, id_number, &fields).await
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
        // The page says the capture is unusable (the detail, two fingers, goes to the log).
        html.contains("Mẫu thu nhận không hợp lệ") && !has_form(&html, "/desk/enrol"),
        "{html}"
    );

    // A card reported lost: matched, but Level 2 is refused with the reason.
    let (url, html) = desk_verify_matching(&provider, &officer, "001190000893", 70, &[]).await;
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
    let (url, html) =
        desk_verify_matching(&provider, &officer, &son, 60, &[("portrait_photo", &photo)]).await;
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
    // An, recorded as the father, is named: the desk waits for his approval in his own session.
    let (wait_url, _, waiting) = officer
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
    assert!(
        waiting.contains("id=\"awaiting-guardian\"") && has_form(&waiting, "/desk/enrol"),
        "{waiting}"
    );
    assert!(
        account_id(&provider, &son).await.is_none(),
        "nothing is written before the guardian approves"
    );
    let approve = approve_at_the_desk(&provider, &officer, (&wait_url, &waiting), "approve").await;
    let page = approve.expect("enrolled after the approval");
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

/// The desk waiting for An's decision on `waiting` (his son's enrolment): pressing "check
/// again" before it keeps waiting and tells An once; Bình, signed in to her own account, sees
/// no request and her forged approval counts for nothing; An decides in his own session (a
/// replay finds nothing). Returns the desk's page after the decision when it enrolled, or the
/// refusal as an error.
async fn approve_at_the_desk(
    provider: &TestProvider,
    officer: &Browser,
    (wait_url, waiting): (&Url, &str),
    decision: &str,
) -> Result<String, String> {
    let (_, _, again) = officer
        .submit(wait_url, waiting, "/desk/enrol", &[])
        .await
        .page();
    assert!(again.contains("id=\"awaiting-guardian\""), "{again}");
    let told = |outbox: Vec<vneid_provider::store::OutboxRow>| {
        outbox
            .iter()
            .filter(|m| m.kind == "guardian_desk_request" && m.recipient == AN_PHONE)
            .count()
    };
    let before = told(provider.outbox().await);
    assert!(before >= 1, "the guardian is told on the contact on record");

    let binh = Browser::new(&provider.base);
    let (binh_url, binh_html) = account_login(provider, &binh, BINH, "Demo@2026").await;
    assert!(
        !has_form(&binh_html, "/account/guardian/desk"),
        "{binh_html}"
    );
    let an = Browser::new(&provider.base);
    let (an_url, an_html) = account_login(provider, &an, AN, "Demo@2026").await;
    assert!(has_form(&an_html, "/account/guardian/desk"), "{an_html}");
    let request = form(&an_html, "/account/guardian/desk")
        .1
        .into_iter()
        .find(|(k, _)| k == "request")
        .unwrap()
        .1;
    let forged = forged_post(
        &binh,
        &binh_url,
        &binh_html,
        "/account/guardian/desk",
        &[("request", &request), ("decision", "approve")],
    )
    .await;
    assert!(forged.contains("Không có đề nghị này"), "{forged}");
    let (_, _, still) = officer
        .submit(wait_url, waiting, "/desk/enrol", &[])
        .await
        .page();
    assert!(
        still.contains("id=\"awaiting-guardian\""),
        "a non-guardian's approval counts for nothing: {still}"
    );
    assert_eq!(told(provider.outbox().await), before, "told once");

    let fields = [("request", request.as_str()), ("decision", decision)];
    let (_, _, decided) = an
        .submit(&an_url, &an_html, "/account/guardian/desk", &fields)
        .await
        .page();
    assert!(
        decided.contains("Đã đồng ý") || decided.contains("Đã từ chối"),
        "{decided}"
    );
    let replay = an
        .submit(&an_url, &an_html, "/account/guardian/desk", &fields)
        .await
        .page()
        .2;
    assert!(replay.contains("Không có đề nghị này"), "{replay}");
    let (_, _, page) = officer
        .submit(wait_url, waiting, "/desk/enrol", &[])
        .await
        .page();
    if page.contains("totp-secret") {
        Ok(page)
    } else {
        Err(page)
    }
}

/// A guardian who denies at the desk: the officer's next submission is refused, no account.
async fn a_guardian_who_denies_at_the_desk_stops_the_childs_enrolment(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let (son, son_record) = child(&provider, "000894", "Tèo", (AN, "father"), 90);
    import(&provider, json!([son_record])).await;
    let officer = Browser::new(&provider.base);
    super::journey::officer_login_as(&provider, &officer, "canbo01").await;
    let (url, html) = desk_verify_matching(&provider, &officer, &son, 90, &[]).await;
    let (wait_url, _, waiting) = officer
        .submit(
            &url,
            &html,
            "/desk/enrol",
            &[
                ("consent", "yes"),
                ("phone_number", "+84912000894"),
                ("guardian_id_number", AN),
            ],
        )
        .await
        .page();
    assert!(waiting.contains("id=\"awaiting-guardian\""), "{waiting}");
    let refused = approve_at_the_desk(&provider, &officer, (&wait_url, &waiting), "deny")
        .await
        .expect_err("a denial enrols nothing");
    assert!(refused.contains("đã từ chối đề nghị"), "{refused}");
    assert!(account_id(&provider, &son).await.is_none());
    assert_eq!(
        provider
            .scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'desk_enrolment_refused' AND detail LIKE '%guardian_denied%'")
            .await,
        1
    );
}

on_both_backends!(a_guardian_who_denies_at_the_desk_stops_the_childs_enrolment);

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
