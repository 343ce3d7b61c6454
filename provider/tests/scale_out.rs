//! Process-level faults on PostgreSQL: real `vneid-provider serve` processes (the binary),
//! HAProxy in front of three of them, `kill -9` under load, a database outage, an exhausted
//! pool. Each test makes its own database and touches no other (the server is shared with the
//! other tests: it is never restarted, and no connection but our own is cut).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

#[allow(dead_code)]
#[path = "../../ops/flow.rs"]
mod flow;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::net::{TcpListener, TcpStream};
use vneid_provider::config::{Config, KeyEncryptionKey};

const PG: &str = "postgres://postgres@127.0.0.1:5432";

async fn fresh_database() -> String {
    let name = format!("vneid_so_{}_{}", std::process::id(), rand::random::<u32>());
    let mut conn = sqlx::PgConnection::connect(&format!("{PG}/postgres"))
        .await
        .expect("PostgreSQL must be running on 127.0.0.1:5432 (.ci/run starts it)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    name
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Schema, keys, salt, demo accounts and clients, as `vneid-load seed` does.
async fn seed(database_url: &str, kek: &KeyEncryptionKey, issuer: &str) {
    let mut config = Config::new(issuer.parse().unwrap(), database_url.into(), kek.clone());
    config.max_connections = 2;
    let state = vneid_provider::prepare(config, vneid_provider::clock::Clock::default())
        .await
        .unwrap();
    vneid_provider::demo::seed(&state.store, &state.sealer, state.now())
        .await
        .unwrap();
    state.store.close().await;
}

/// A `vneid-provider serve` process; killed (SIGKILL) when dropped.
struct Process {
    child: Child,
    port: u16,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(
    issuer: &str,
    database_url: &str,
    kek: &KeyEncryptionKey,
    extra: &[(&str, &str)],
) -> Process {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_vneid-provider"));
    command
        .arg("serve")
        .env_remove("VNEID_CONFIG")
        .env("VNEID_ISSUER", issuer)
        .env("VNEID_BIND", format!("127.0.0.1:{port}"))
        .env("VNEID_DATABASE_URL", database_url)
        .env("VNEID_KEY_ENCRYPTION_KEY", kek.encode())
        .env("VNEID_RATE_LIMITS", "false")
        .env("VNEID_ARGON2_WAIT_SECONDS", "60")
        .env("VNEID_ARGON2_QUEUE", "256")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in extra {
        command.env(k, v);
    }
    let process = Process {
        child: command.spawn().unwrap(),
        port,
    };
    let health = format!("http://127.0.0.1:{port}/health");
    for _ in 0..200 {
        if reqwest::get(&health)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("vneid-provider did not start on port {port}");
}

/// HAProxy from ops/haproxy.cfg.in; stopped when dropped.
struct Haproxy {
    child: Child,
    _dir: std::path::PathBuf,
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

fn haproxy_installed() -> bool {
    Command::new("haproxy")
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

async fn haproxy(lb_port: u16, backends: &[u16]) -> Haproxy {
    let template = include_str!("../../ops/haproxy.cfg.in");
    let servers: String = backends
        .iter()
        .enumerate()
        .map(|(n, port)| format!("    server p{n} 127.0.0.1:{port} check\n"))
        .collect();
    let config = template
        .replace("@LB_PORT@", &lb_port.to_string())
        .replace("@SERVERS@", &servers);
    let dir = std::env::temp_dir().join(format!("vneid-haproxy-{}-{lb_port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("haproxy.cfg");
    std::fs::write(&file, config).unwrap();
    let log = std::fs::File::create(dir.join("haproxy.log")).unwrap();
    let child = Command::new("haproxy")
        .arg("-f")
        .arg(&file)
        .arg("-db")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let lb = Haproxy { child, _dir: dir };
    let discovery = format!("http://127.0.0.1:{lb_port}/.well-known/openid-configuration");
    for _ in 0..100 {
        if reqwest::get(&discovery)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            // Let every backend pass its first checks.
            tokio::time::sleep(Duration::from_millis(800)).await;
            return lb;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(lb._dir.join("haproxy.log")).unwrap_or_default();
    panic!("haproxy did not start on port {lb_port}:\n{log}");
}

/// One login as seen by a load worker.
struct Outcome {
    started: Instant,
    ended: Instant,
    result: Result<flow::Done, flow::Failed>,
}

/// Three processes behind HAProxy, round-robin, logins under way; one process is killed with
/// SIGKILL. Only logins that had a request in flight at that moment may fail; every login
/// started after completes; no code is redeemed twice (every code is presented again); every
/// token issued before or after the kill still works (nothing acknowledged was lost).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_three_processes_fails_only_its_requests_in_flight() {
    if !haproxy_installed() {
        eprintln!(
            "\n\n!!!!! SKIPPED: haproxy is not installed (apt-get install haproxy; .ci/run installs it) !!!!!\n\n"
        );
        return;
    }
    let db = fresh_database().await;
    let database_url = format!("{PG}/{db}");
    let kek = KeyEncryptionKey::generate();
    let lb_port = free_port();
    let issuer = format!("http://127.0.0.1:{lb_port}");
    seed(&database_url, &kek, &issuer).await;
    let extra = [("VNEID_MAX_CONNECTIONS", "4")];
    let mut processes = Vec::new();
    for _ in 0..3 {
        processes.push(serve(&issuer, &database_url, &kek, &extra).await);
    }
    let ports: Vec<u16> = processes.iter().map(|p| p.port).collect();
    let _lb = haproxy(lb_port, &ports).await;

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let stop = stop.clone();
            let outcomes = outcomes.clone();
            let base = issuer.clone();
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let started = Instant::now();
                    let result =
                        flow::login_once(&base, Duration::from_secs(30), &mut |_| {}).await;
                    outcomes.lock().unwrap().push(Outcome {
                        started,
                        ended: Instant::now(),
                        result,
                    });
                }
            })
        })
        .collect();
    // Under load for a while, then SIGKILL the second process.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before_kill = outcomes.lock().unwrap().len();
    let killed_at = Instant::now();
    processes[1].child.kill().unwrap();
    processes[1].child.wait().unwrap();
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap());
    assert!(
        before_kill >= 3,
        "logins ran before the kill: {before_kill}"
    );

    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    for o in &failed {
        let err = o.result.as_ref().unwrap_err();
        assert!(
            o.started < killed_at && o.ended >= killed_at,
            "a login failed that was not in flight at the kill: {err:?}"
        );
    }
    assert!(
        failed.len() <= 6,
        "at most one login per worker was in flight: {}",
        failed.len()
    );
    let after: Vec<&Outcome> = outcomes.iter().filter(|o| o.started >= killed_at).collect();
    assert!(
        after.len() >= 3,
        "logins went on after the kill: {}",
        after.len()
    );
    assert!(after.iter().all(|o| o.result.is_ok()));

    // Every token acknowledged before or after the kill was kept (written to the database by
    // whichever process issued it): UserInfo answers for each, through the balancer.
    let done: Vec<&flow::Done> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .collect();
    let http = reqwest::Client::new();
    for d in &done {
        let response = http
            .get(format!("{issuer}/userinfo"))
            .bearer_auth(&d.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    // No code twice: present every code again (which revokes its tokens, so after UserInfo) (twice for one whose redemption failed, since
    // that one may or may not have been committed before the process died).
    for o in &outcomes {
        let (code, already) = match &o.result {
            Ok(done) => (done.code.clone(), 1),
            Err(failed) => match &failed.code {
                Some(code) => (code.clone(), 0),
                None => continue,
            },
        };
        let mut successes = already;
        for _ in 0..2 {
            let (status, body) = flow::redeem_code(&http, &issuer, &code, &mut |_| {}).await;
            if status == 200 {
                successes += 1;
            } else {
                assert_eq!(body["error"], "invalid_grant", "{status} {body}");
            }
        }
        assert!(successes <= 1, "code redeemed {successes} times");
    }
    // The consent given during the logins is there once.
    let mut conn = sqlx::PgConnection::connect(&database_url).await.unwrap();
    let (consents,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM consents WHERE client_id = 'demo-portal'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(consents, 1);
    eprintln!(
        "kill -9 under load: {} logins, {} failed (in flight at the kill), {} after the kill",
        outcomes.len(),
        failed.len(),
        after.len()
    );
}

/// A TCP proxy to PostgreSQL that the test can cut (every connection closed, new ones closed
/// at once, as during a restart) and restore.
struct CuttableProxy {
    port: u16,
    up: Arc<AtomicBool>,
    pipes: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl CuttableProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let pipes = Arc::new(Mutex::new(Vec::new()));
        let (up2, pipes2) = (up.clone(), pipes.clone());
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let pipe = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                pipes2.lock().unwrap().push(pipe);
            }
        });
        CuttableProxy {
            port,
            up,
            pipes,
            accept,
        }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for pipe in self.pipes.lock().unwrap().drain(..) {
            pipe.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// Asks `url` (GET, or POST with a form), with a client timeout far past the provider's: the
/// status (0: no answer), whether `Retry-After` came, and how long it took.
async fn ask(url: &str, form: Option<&[(&str, &str)]>) -> (u16, bool, Duration) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let started = Instant::now();
    let request = match form {
        Some(form) => http
            .post(url)
            .basic_auth(flow::CLIENT_ID, Some(flow::CLIENT_SECRET))
            .form(form),
        None => http.get(url),
    };
    match request.send().await {
        Ok(r) => (
            r.status().as_u16(),
            r.headers().contains_key("retry-after"),
            started.elapsed(),
        ),
        Err(_) => (0, false, started.elapsed()),
    }
}

fn authorize_url(base: &str) -> String {
    format!(
        "{base}/authorize?response_type=code&client_id={}&redirect_uri={}&scope=openid&state=s&nonce=n&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        flow::CLIENT_ID,
        "http%3A%2F%2F127.0.0.1%3A3001%2Fcallback"
    )
}

/// PostgreSQL goes away (every connection cut, new ones refused) while the provider serves:
/// each request gets 503 with `Retry-After` within the database timeout (2 s) plus a margin,
/// never a hang until the 30 s request timeout; `/ready` says 503, `/health` 200; once the
/// database is back, logins complete again within 5 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_quickly_and_recovers() {
    let db = fresh_database().await;
    let proxy = CuttableProxy::start().await;
    let kek = KeyEncryptionKey::generate();
    let direct = format!("{PG}/{db}");
    let via_proxy = format!("postgres://postgres@127.0.0.1:{}/{db}", proxy.port);
    // Seed first with a placeholder issuer (keys and accounts do not depend on it).
    seed(&direct, &kek, "http://127.0.0.1:1").await;
    let process = {
        // The process's issuer must be its own address: pick the port first.
        let port = free_port();
        let issuer = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_vneid-provider"));
        command
            .arg("serve")
            .env_remove("VNEID_CONFIG")
            .env("VNEID_ISSUER", &issuer)
            .env("VNEID_BIND", format!("127.0.0.1:{port}"))
            .env("VNEID_DATABASE_URL", &via_proxy)
            .env("VNEID_KEY_ENCRYPTION_KEY", kek.encode())
            .env("VNEID_RATE_LIMITS", "false")
            .env("VNEID_DATABASE_TIMEOUT", "2")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let process = Process {
            child: command.spawn().unwrap(),
            port,
        };
        for _ in 0..200 {
            if reqwest::get(format!("{issuer}/health"))
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process
    };
    let base = format!("http://127.0.0.1:{}", process.port);
    flow::login_once(&base, Duration::from_secs(30), &mut |_| {})
        .await
        .expect("a login before the outage");

    proxy.cut();
    let margin = Duration::from_secs(2 + 3);
    for round in 0..3 {
        let page = ask(&authorize_url(&base), None).await;
        let token = ask(
            &format!("{base}/token"),
            Some(&[
                ("grant_type", "authorization_code"),
                ("code", "some-code"),
                ("redirect_uri", flow::REDIRECT_URI),
                ("code_verifier", flow::VERIFIER),
            ]),
        )
        .await;
        let ready = ask(&format!("{base}/ready"), None).await;
        for (what, (status, retry_after, took)) in
            [("authorize", page), ("token", token), ("ready", ready)]
        {
            assert_eq!(status, 503, "round {round}: {what}");
            assert!(took < margin, "round {round}: {what} took {took:?}");
            if what != "ready" {
                assert!(retry_after, "round {round}: {what} without Retry-After");
            }
        }
        let health = ask(&format!("{base}/health"), None).await;
        assert_eq!(health.0, 200);
    }

    proxy.restore();
    let back = Instant::now();
    let mut recovered = None;
    while back.elapsed() < Duration::from_secs(5) {
        if flow::login_once(&base, Duration::from_secs(5), &mut |_| {})
            .await
            .is_ok()
        {
            recovered = Some(back.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = recovered.expect("a login completes within 5 s of the database's return");
    eprintln!("database outage: 503 throughout, recovered in {recovered:?}");
}

/// A pool of two connections, both held by requests stuck behind a lock the test takes (slow
/// queries): a third request gets 503 with `Retry-After` within the acquire timeout instead of
/// queueing until the request timeout; once the lock goes, the stuck ones complete and the
/// service answers normally.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_pool_answers_503_quickly() {
    let db = fresh_database().await;
    let database_url = format!("{PG}/{db}");
    let kek = KeyEncryptionKey::generate();
    seed(&database_url, &kek, "http://127.0.0.1:1").await;
    let process = serve(
        "http://127.0.0.1:1",
        &database_url,
        &kek,
        &[
            ("VNEID_MAX_CONNECTIONS", "2"),
            ("VNEID_DATABASE_TIMEOUT", "1"),
        ],
    )
    .await;
    let base = format!("http://127.0.0.1:{}", process.port);
    let (status, _, _) = ask(&authorize_url(&base), None).await;
    assert_eq!(status, 303, "the authorization request works before");

    // Slow queries: every read of the clients table waits for the test's lock.
    let mut holder = sqlx::PgConnection::connect(&database_url).await.unwrap();
    let mut lock = holder.begin().await.unwrap();
    sqlx::query("LOCK TABLE clients IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    let stuck: Vec<_> = (0..2)
        .map(|_| {
            let url = authorize_url(&base);
            tokio::spawn(async move { ask(&url, None).await })
        })
        .collect();
    // Both connections are now taken by the stuck requests.
    tokio::time::sleep(Duration::from_millis(700)).await;
    for _ in 0..2 {
        let (status, retry_after, took) = ask(&authorize_url(&base), None).await;
        assert_eq!(status, 503);
        assert!(retry_after);
        assert!(took < Duration::from_secs(1 + 3), "took {took:?}");
    }
    lock.rollback().await.unwrap();
    for request in stuck {
        let (status, _, _) = request.await.unwrap();
        assert_eq!(status, 303, "a slow request completes once the lock goes");
    }
    let (status, _, _) = ask(&authorize_url(&base), None).await;
    assert_eq!(status, 303);
}
