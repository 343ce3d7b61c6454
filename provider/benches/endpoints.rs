//! Throughput of the hot paths, measured against the real server on loopback with a SQLite
//! file (PostgreSQL with `VNEID_BENCH_DATABASE_URL=postgres://...`):
//! ID-token signing on one core, the token endpoint (code redemption: one transaction and an
//! ES256 signature) and UserInfo. Run: `cargo bench -p vneid-provider --bench endpoints`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use vneid_contract::{AuthMethod, Level, ScopeSet};
use vneid_provider::clock::Clock;
use vneid_provider::config::{Config, KeyEncryptionKey};
use vneid_provider::oidc::claims_request::ClaimsRequest;
use vneid_provider::oidc::grant::Grant;
use vneid_provider::oidc::types::{ClientId, CodeChallenge, RedirectUri, SigningAlg};
use vneid_provider::store::NewCode;

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const REQUESTS: usize = 4000;
const CONCURRENCY: usize = 32;

async fn run<F, Fut>(n: usize, make: F) -> Duration
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let fut = make(i);
        tasks.push(tokio::spawn(async move {
            let ok = fut.await;
            drop(permit);
            ok
        }));
    }
    let mut failures = 0;
    for t in tasks {
        if !t.await.unwrap() {
            failures += 1;
        }
    }
    assert_eq!(failures, 0, "every request must succeed");
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("vneid-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let database_url = std::env::var("VNEID_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite:{}", dir.join("bench.db").display()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = Config::new(
        base.parse().unwrap(),
        database_url,
        KeyEncryptionKey::generate(),
    );
    let state = vneid_provider::prepare(config, Clock::default())
        .await
        .unwrap();
    vneid_provider::demo::seed(&state.store, &state.sealer, state.now())
        .await
        .unwrap();
    let serving = state.clone();
    tokio::spawn(async move { vneid_provider::serve(listener, serving).await.unwrap() });

    // 1. Signing alone, one core.
    let claims = serde_json::json!({ "iss": base, "sub": "s", "aud": "demo-portal", "exp": 2_000_000_000, "iat": 1_700_000_000, "acr": Level::Level2.acr() });
    let n = 20_000;
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(state.keys.sign(SigningAlg::Es256, &claims).unwrap());
    }
    let signing = n as f64 / started.elapsed().as_secs_f64();
    println!("ES256 ID-token signing, one core:      {signing:>8.0} tokens/s");

    // 2. The token endpoint: codes made directly in the store (the login pages are not measured).
    let account = state
        .store
        .account_by_username("001095000001")
        .await
        .unwrap()
        .unwrap();
    let grant = Grant {
        client_id: ClientId::parse("demo-portal").unwrap(),
        scopes: ScopeSet::parse("openid profile").unwrap(),
        claims: ClaimsRequest::default(),
        nonce: Some("n".into()),
        redirect_uri: RedirectUri::parse("http://127.0.0.1:3001/callback").unwrap(),
        code_challenge: Some(CodeChallenge::parse(CHALLENGE).unwrap()),
        level: Level::Level1,
        amr: vec![AuthMethod::Pwd],
        auth_time: state.now(),
        dpop_jkt: None,
        sid: None,
        organization: None,
    };
    let grant_data = serde_json::to_string(&grant).unwrap();
    let mut codes = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let code = vneid_provider::secret::new_bearer();
        let hash = vneid_provider::secret::hash(&code);
        let new = NewCode {
            code_hash: &hash,
            client_id: "demo-portal",
            account_id: &account.id,
            grant_data: &grant_data,
            expires_at: state.now() + 3600,
        };
        state
            .store
            .issue_code(None, &new, None, state.now())
            .await
            .unwrap();
        codes.push(code);
    }
    let client = reqwest::Client::new();
    let codes = Arc::new(codes);
    let tokens = Arc::new(std::sync::Mutex::new(Vec::with_capacity(REQUESTS)));
    let elapsed = run(REQUESTS, |i| {
        let (client, codes, tokens, url) = (
            client.clone(),
            codes.clone(),
            tokens.clone(),
            format!("{base}/token"),
        );
        async move {
            let r = client
                .post(url)
                .basic_auth("demo-portal", Some("demo-portal-secret"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", codes[i].as_str()),
                    ("redirect_uri", "http://127.0.0.1:3001/callback"),
                    ("code_verifier", VERIFIER),
                ])
                .send()
                .await
                .unwrap();
            let ok = r.status().is_success();
            let body: serde_json::Value = r.json().await.unwrap();
            tokens
                .lock()
                .unwrap()
                .push(body["access_token"].as_str().unwrap_or("").to_string());
            ok
        }
    })
    .await;
    println!(
        "token endpoint (code -> tokens), c={CONCURRENCY}: {:>8.0} req/s",
        REQUESTS as f64 / elapsed.as_secs_f64()
    );

    // 3. UserInfo.
    let tokens = Arc::new(tokens.lock().unwrap().clone());
    let elapsed = run(REQUESTS, |i| {
        let (client, tokens, url) = (client.clone(), tokens.clone(), format!("{base}/userinfo"));
        async move {
            client
                .get(url)
                .bearer_auth(&tokens[i])
                .send()
                .await
                .unwrap()
                .status()
                .is_success()
        }
    })
    .await;
    println!(
        "UserInfo, c={CONCURRENCY}:                      {:>8.0} req/s",
        REQUESTS as f64 / elapsed.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
