//! What an attacker tries against a relying party built on the SDK: a provider (or a forged
//! response) that releases Level 2 claims to a Level 1 login, and a login link whose `next`
//! sends the citizen to another site after the login.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum_extra::extract::cookie::Key;
use serde_json::json;
use tracing::instrument::WithSubscriber;
use vneid_sdk::axum::VneidAuth;
use vneid_sdk::{Level, LoginRequest};

use super::fake::{Fake, key_pair, scopes, sign};
use super::web::{call, router};

/// A log sink: every line the SDK writes while the future runs.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync + 'static {
        let sink = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::WARN)
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// The provider signs a Level 1 ID token (password only) and its UserInfo answers with the
/// citizen's documents and organisation, in `verified_claims` too: the relying party asked for
/// them, but a Level 1 login may not carry them. The SDK drops them, and logs the drop by
/// claim name, without the values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn level2_claims_released_to_a_level1_login_are_dropped_and_logged() {
    let (es, es_pub) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![es_pub]).await;
    let client = fake.client().await;
    let documents = json!([
        { "type": "driving_licence", "number": "790123456789" },
        { "type": "passport", "number": "C1234567" }
    ]);
    let organization = json!({
        "code": "0312345678", "name": "Công ty TNHH Bình An",
        "established_on": "2015-04-01", "head_office_address": "Quận 1, TP. Hồ Chí Minh",
        "representative": { "id_number": "079198000002", "name": "Trần Thị Bình" }
    });
    *fake.shared.userinfo.lock().unwrap() = (
        200,
        json!({
            "sub": "citizen-1", "name": "Trần Thị Bình",
            "documents": documents, "organization": organization,
            "verified_claims": {
                "verification": { "trust_framework": "vn_eid", "assurance_level": "level1" },
                "claims": { "name": "Trần Thị Bình", "documents": documents }
            }
        }),
    );
    let request = LoginRequest::new(
        Level::Level1,
        scopes("openid profile documents organization"),
    );
    let login = |acr: &'static str, amr: serde_json::Value| {
        let (fake, client, es, request) = (&fake, &client, &es, &request);
        async move {
            let (pending, state, nonce, _) = Fake::begin(client, request);
            let mut claims = fake.claims(&nonce);
            claims["acr"] = json!(acr);
            claims["amr"] = amr;
            fake.serve_id_token(&sign(es, &claims));
            client.complete(pending, &fake.callback(&state)).await
        }
    };

    let log = Log::default();
    let id = login("urn:vneid:acr:level1", json!(["pwd"]))
        .with_subscriber(log.subscriber())
        .await
        .unwrap();
    assert_eq!(id.level, Some(Level::Level1));
    assert_eq!(id.full_name().as_deref(), Some("Trần Thị Bình"));
    assert!(id.documents.is_empty(), "{:?}", id.documents);
    assert!(id.driving_licence().is_none());
    assert!(id.organization.is_none());
    for name in ["documents", "organization"] {
        assert!(
            !id.claims.contains_key(name),
            "{name} kept in the raw claims"
        );
    }
    assert_eq!(
        id.claims["verified_claims"]["claims"],
        json!({ "name": "Trần Thị Bình" }),
        "nor inside verified_claims"
    );
    let text = log.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(
        text.contains("documents") && text.contains("organization"),
        "{text}"
    );
    for value in [
        "790123456789",
        "C1234567",
        "0312345678",
        "Bình An",
        "Trần Thị Bình",
    ] {
        assert!(!text.contains(value), "the log shows `{value}`: {text}");
    }

    // The same answers after a Level 2 login are the citizen's to share: kept, nothing logged.
    let log = Log::default();
    let id = login("urn:vneid:acr:level2", json!(["pwd", "otp", "mfa"]))
        .with_subscriber(log.subscriber())
        .await
        .unwrap();
    assert_eq!(id.level, Some(Level::Level2));
    assert_eq!(id.driving_licence().unwrap().number, "790123456789");
    assert_eq!(id.organization.unwrap().code, "0312345678");
    assert!(log.text().is_empty(), "{}", log.text());
}

/// A login link whose `next` a browser (which drops tabs and newlines and reads `\` as `/`)
/// or a decoding server would turn into another site: after the login, the app sends the
/// citizen home instead. An ordinary local path comes back intact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crafted_next_never_leaves_the_site_after_login() {
    let (es, es_pub) = key_pair("ES256", "es1");
    let fake = Fake::start(vec![es_pub]).await;
    let auth = VneidAuth::new(fake.client().await, Key::generate(), |_| scopes("openid"));
    let app = router(auth);
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();

    // (query value as the attacker writes it in the link, what the app receives)
    let mut cases: Vec<(String, &str)> = [
        "/%09/evil.example",
        "/\\evil",
        "//evil",
        "/%5Cevil",
        " /x",
        "/\t/evil",
        "/\n/evil.example",
        "/%2f%2fevil.example",
        "/%2509/evil.example",
        "https://evil.example",
    ]
    .into_iter()
    .map(|next| (encode(next), next))
    .collect();
    // Links written raw: the query decoding itself makes the tab, the backslash, the slashes.
    for raw in [
        "/%09/evil.example",
        "/%5Cevil",
        "/%5C%5Cevil",
        "%2F%2Fevil",
        "/%0a/evil",
    ] {
        cases.push((raw.to_string(), raw));
    }
    cases.push((encode("/records?x=1"), "/records?x=1"));

    for (query_value, next) in &cases {
        let mut cookies = Vec::new();
        let (status, to_provider, _) = call(
            &app,
            &format!("/login?level=1&next={query_value}"),
            &mut cookies,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next:?}");
        let to_provider = url::Url::parse(&to_provider).unwrap();
        assert!(to_provider.as_str().starts_with(&fake.issuer));
        let param = |n: &str| vneid_tests::param(&to_provider, n).unwrap();
        let mut claims = fake.claims(&param("nonce"));
        claims["acr"] = json!("urn:vneid:acr:level1");
        fake.serve_id_token(&sign(&es, &claims));
        let (status, location, _) = call(
            &app,
            &format!("/callback?{}", fake.callback(&param("state"))),
            &mut cookies,
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{next:?}");
        let expected = if *next == "/records?x=1" {
            "/records?x=1"
        } else {
            "/"
        };
        assert_eq!(location, expected, "next={query_value}");
    }
}
