//! The end-to-end harness: the real provider on an ephemeral loopback port, on a fresh SQLite
//! file or a fresh PostgreSQL database, driven over HTTP like a browser and a relying party.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc)]

pub mod app;
pub mod browser;
pub mod rp;

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use vneid_provider::clock::Clock;
use vneid_provider::config::{Config, KeyEncryptionKey};
use vneid_provider::state::AppState;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database on `VNEID_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`).
    Postgres,
}

/// A running provider.
pub struct TestProvider {
    /// The issuer this process serves.
    pub issuer: String,
    /// `http://127.0.0.1:PORT`: where this process listens.
    pub base: String,
    /// The state, to move the clock or look into the database.
    pub state: AppState,
    /// The database URL (another process can be started on it).
    pub database_url: String,
    /// The key-encryption key (another process needs the same).
    pub kek: KeyEncryptionKey,
    server: JoinHandle<()>,
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database URL that nobody else uses.
pub async fn fresh_database(backend: Backend) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let unique = format!("{}_{}_{}", std::process::id(), n, rand::random::<u32>());
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("vneid-tests");
            std::fs::create_dir_all(&dir).unwrap();
            format!("sqlite:{}", dir.join(format!("t{unique}.db")).display())
        }
        Backend::Postgres => {
            let server = std::env::var("VNEID_TEST_POSTGRES")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
            let name = format!("vneid_t{unique}");
            let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                .await
                .expect("PostgreSQL must be running for the PostgreSQL tests (.ci/run starts it)");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .unwrap();
            format!("{server}/{name}")
        }
    }
}

/// Starts a provider on a fresh database with the demo accounts and clients.
pub async fn spawn_provider(backend: Backend) -> TestProvider {
    spawn_provider_with(backend, |_| {}).await
}

/// Like [`spawn_provider`], with the configuration adjusted first.
pub async fn spawn_provider_with(
    backend: Backend,
    configure: impl FnOnce(&mut Config),
) -> TestProvider {
    let database_url = fresh_database(backend).await;
    let kek = KeyEncryptionKey::generate();
    let provider = spawn_configured(&database_url, &kek, None, configure).await;
    vneid_provider::demo::seed(
        &provider.state.store,
        &provider.state.sealer,
        provider.state.now(),
    )
    .await
    .unwrap();
    provider
}

/// Starts a provider process (a task with its own pool, keys and state) on an existing
/// database. With `issuer`, it serves that issuer (several processes behind one name).
pub async fn spawn_on(
    database_url: &str,
    kek: &KeyEncryptionKey,
    issuer: Option<&str>,
) -> TestProvider {
    spawn_configured(database_url, kek, issuer, |_| {}).await
}

async fn spawn_configured(
    database_url: &str,
    kek: &KeyEncryptionKey,
    issuer: Option<&str>,
    configure: impl FnOnce(&mut Config),
) -> TestProvider {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let issuer = issuer
        .map(str::to_string)
        .unwrap_or_else(|| format!("http://127.0.0.1:{port}"));
    let mut config = Config::new(
        issuer.parse().unwrap(),
        database_url.to_string(),
        kek.clone(),
    );
    config.max_connections = 4;
    relax_limits(&mut config);
    configure(&mut config);
    let state = vneid_provider::prepare(config, Clock::default())
        .await
        .unwrap();
    let serving = state.clone();
    let server = tokio::spawn(async move {
        vneid_provider::serve(listener, serving).await.unwrap();
    });
    TestProvider {
        base: format!("http://127.0.0.1:{port}"),
        issuer,
        state,
        database_url: database_url.to_string(),
        kek: kek.clone(),
        server,
    }
}

/// Every test logs in many times from 127.0.0.1 while others run beside it on few cores: the
/// harness raises the rate limits and makes the password pool patient. The tests of the limits
/// (and any test of a limit) set their own in `spawn_provider_with`.
pub fn relax_limits(config: &mut Config) {
    let plenty = vneid_provider::config::Rate {
        burst: 100_000,
        per_hour: 1_000_000,
    };
    let l = &mut config.limits;
    for rate in [
        &mut l.login,
        &mut l.reset,
        &mut l.registration,
        &mut l.token,
        &mut l.client,
        &mut l.account,
        &mut l.id_number,
    ] {
        *rate = plenty;
    }
    config.argon2.queue = 1_000;
    config.argon2.wait_seconds = 120;
}

/// Generates a SQLite and a PostgreSQL test from one `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::Backend::Postgres).await
            }
        }
    )+};
}

/// The PKCE verifier of RFC 7636's example, and its S256 challenge, for hand-made requests.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/// The S256 challenge of [`VERIFIER`].
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The demo portal's callback.
pub const PORTAL_CALLBACK: &str = "http://127.0.0.1:3001/callback";

impl TestProvider {
    /// An authorization URL for the demo portal with sane defaults, overridden or extended by
    /// `params` (a value of `""` removes the parameter).
    pub fn authorize_url(&self, params: &[(&str, &str)]) -> String {
        let mut all: Vec<(String, String)> = [
            ("response_type", "code"),
            ("client_id", "demo-portal"),
            ("redirect_uri", PORTAL_CALLBACK),
            ("scope", "openid profile"),
            ("state", "st4te"),
            ("nonce", "n0nce"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in params {
            all.retain(|(name, _)| name != k);
            if !v.is_empty() {
                all.push((k.to_string(), v.to_string()));
            }
        }
        let mut url = url::Url::parse(&format!("{}/authorize", self.base)).unwrap();
        url.query_pairs_mut().extend_pairs(all);
        url.to_string()
    }

    /// Exchanges a code as the demo portal (client_secret_basic) and returns status and body.
    pub async fn redeem(&self, code: &str, verifier: &str) -> (u16, serde_json::Value) {
        redeem_at(&self.base, code, verifier).await
    }
}

/// Exchanges a code at `base` as the demo portal.
pub async fn redeem_at(base: &str, code: &str, verifier: &str) -> (u16, serde_json::Value) {
    {
        let response = reqwest::Client::new()
            .post(format!("{base}/token"))
            .basic_auth("demo-portal", Some("demo-portal-secret"))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", PORTAL_CALLBACK),
                ("code_verifier", verifier),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}

/// Logs in through the pages from an authorization URL: password, the second factor when asked,
/// consent when asked. Returns where the browser was sent back to.
pub async fn login(
    provider: &TestProvider,
    browser: &browser::Browser,
    authorize_url: &str,
    username: &str,
) -> url::Url {
    let mut landing = browser.navigate(authorize_url).await;
    for _ in 0..4 {
        let (url, _, html) = match landing {
            browser::Landing::Away(url) => return url,
            page => page.page(),
        };
        landing = if browser::has_form(&html, "/login") && html.contains("name=\"password\"") {
            browser
                .submit(
                    &url,
                    &html,
                    "/login",
                    &[("username", username), ("password", "Demo@2026")],
                )
                .await
        } else if browser::has_form(&html, "/otp") {
            browser
                .submit(&url, &html, "/otp", &[("otp", &provider.totp())])
                .await
        } else if browser::has_form(&html, "/consent") {
            browser
                .submit(&url, &html, "/consent", &[("decision", "allow")])
                .await
        } else {
            return browser::Landing::Page {
                url,
                status: reqwest::StatusCode::OK,
                html,
            }
            .page()
            .0;
        };
    }
    landing.away()
}

/// Logs `username` in to the demo portal with the default request; returns the code.
pub async fn login_code(
    provider: &TestProvider,
    browser: &browser::Browser,
    username: &str,
) -> String {
    let back = login(provider, browser, &provider.authorize_url(&[]), username).await;
    param(&back, "code").expect("a code")
}

/// The TOTP code of the Level 2 demo account at `unix_time`.
pub fn totp_at(unix_time: i64) -> String {
    let secret = totp_rs::Secret::try_from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let totp = totp_rs::Builder::new()
        .with_secret(secret)
        .build_noncompliant();
    totp.generate(unix_time as u64).to_string()
}

impl TestProvider {
    /// The Level 2 demo account's current code by this provider's clock. A step is accepted
    /// once: a test that needs a second code advances the clock by 30 s first.
    pub fn totp(&self) -> String {
        totp_at(self.state.now())
    }
}

/// A query parameter of a URL.
pub fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// panva's `oidc-provider` (from the npm registry, installed by `.ci/run` into
/// `tests/fixtures/oidc-provider`), running on loopback as a provider we did not write.
pub struct NodeProvider {
    /// Its issuer.
    pub issuer: String,
    child: std::process::Child,
}

impl Drop for NodeProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts panva's provider with one client. Any username logs in with password `secret`.
pub async fn spawn_node_provider(
    client_id: &str,
    client_secret: &str,
    redirect_uri: &str,
) -> NodeProvider {
    spawn_node_script("server.js", &[client_id, client_secret, redirect_uri]).await
}

/// Starts `script` of the oidc-provider fixture with the port then `args`, and waits until its
/// discovery document answers.
async fn spawn_node_script(script: &str, args: &[&str]) -> NodeProvider {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/oidc-provider");
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "run `npm ci` in {} (.ci/run does it)",
        dir.display()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new("node")
        .arg(script)
        .arg(port.to_string())
        .args(args)
        .current_dir(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("node must be installed");
    let issuer = format!("http://127.0.0.1:{port}");
    let provider = NodeProvider {
        issuer: issuer.clone(),
        child,
    };
    let discovery = format!("{issuer}/.well-known/openid-configuration");
    for _ in 0..100 {
        if reqwest::get(&discovery)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return provider;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("oidc-provider ({script}) did not start at {issuer}");
}

/// The demo national app's private key (`examples/registry/demo-app-key.pem`): it authenticates
/// with `private_key_jwt` and may use the registration API.
pub const DEMO_APP_KEY_PEM: &str = include_str!("../../examples/registry/demo-app-key.pem");

/// A `private_key_jwt` client assertion (RFC 7523) for `client`, signed with an ES256 PEM key,
/// issued at `now` (Unix seconds, the provider's clock).
pub fn client_assertion(pem: &str, key_id: &str, client: &str, audience: &str, now: i64) -> String {
    use josekit::jws::{ES256, JwsHeader};
    let mut payload = josekit::jwt::JwtPayload::new();
    payload.set_issuer(client);
    payload.set_subject(client);
    payload.set_audience(vec![audience]);
    payload.set_jwt_id(format!("{:032x}", rand::random::<u128>()));
    let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now as u64);
    payload.set_issued_at(&now);
    payload.set_expires_at(&(now + std::time::Duration::from_secs(60)));
    let mut header = JwsHeader::new();
    header.set_key_id(key_id);
    josekit::jwt::encode_with_signer(&payload, &header, &ES256.signer_from_pem(pem).unwrap())
        .unwrap()
}

impl TestProvider {
    /// Asks for a client-credentials token as `client` with `pem`; returns status and body.
    pub async fn client_credentials(
        &self,
        client: &str,
        pem: &str,
        key_id: &str,
        scope: Option<&str>,
    ) -> (u16, serde_json::Value) {
        let assertion = client_assertion(
            pem,
            key_id,
            client,
            &format!("{}/token", self.issuer),
            self.state.now(),
        );
        let mut form = vec![
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let response = reqwest::Client::new()
            .post(format!("{}/token", self.base))
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }

    /// A token of the demo national app for the registration API.
    pub async fn app_token(&self) -> String {
        let (status, body) = self
            .client_credentials(
                vneid_provider::demo::DEMO_APP,
                DEMO_APP_KEY_PEM,
                vneid_provider::demo::DEMO_APP_KEY_ID,
                Some("registration"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// The outbox, newest first, with sealed bodies opened (secrets are encrypted at rest).
    pub async fn outbox(&self) -> Vec<vneid_provider::store::OutboxRow> {
        vneid_provider::notify::recent_opened(&self.state.store, &self.state.sealer, 200)
            .await
            .unwrap()
    }
}

impl TestProvider {
    /// One number from the database (a count of what was recorded).
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.database_url)
            .await
            .unwrap();
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(&mut conn)
            .await
            .unwrap()
    }
}

/// Starts panva's provider configured for the FAPI 2.0 Security Profile (`fapi.js`: PAR
/// required, `private_key_jwt`, DPoP with server nonces, ID tokens and UserInfo signed and
/// encrypted with `key_management` and A256GCM) with one client whose public keys (its
/// `private_key_jwt` key and its encryption key) are `client_jwks`. Any username logs in with
/// password `secret`.
pub async fn spawn_node_fapi_provider(
    client_id: &str,
    redirect_uri: &str,
    client_jwks: &serde_json::Value,
    key_management: &str,
) -> NodeProvider {
    let jwks = client_jwks.to_string();
    spawn_node_script("fapi.js", &[client_id, redirect_uri, &jwks, key_management]).await
}

/// Adds a Level 2 citizen (Lý Văn Cường, born 1990-01-01) under `username`, with the password
/// `Demo@2026` and the demo TOTP secret, straight into the database.
pub async fn add_level2_citizen(provider: &TestProvider, username: &str) {
    let account = vneid_provider::store::NewAccount {
        id: vneid_provider::secret::new_id(),
        kind: "citizen".into(),
        level: 2,
        username: username.into(),
        password_hash: vneid_provider::accounts::password::hash("Demo@2026".into())
            .await
            .unwrap(),
        totp_secret: Some(provider.state.sealer.seal(b"JBSWY3DPEHPK3PXP").unwrap()),
        family_name: "Lý".into(),
        middle_name: Some("Văn".into()),
        given_name: "Cường".into(),
        birthdate: "1990-01-01".into(),
        gender: "male".into(),
        nationality: None,
        travel_document: None,
        portrait_jpeg: None,
        phone_number: Some("+84938000003".into()),
        email: None,
        verification_evidence: None,
        must_change_password: false,
        residence_province: None,
    };
    provider
        .state
        .store
        .create_account(&account, &[], provider.state.now())
        .await
        .unwrap();
}
