//! The command line, run as a real process: `--help` everywhere, clients and keys management,
//! and `serve` with a configuration file overridden by the environment.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vneid-provider");

fn run(args: &[&str], config: Option<&PathBuf>) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("VNEID_CONFIG")
        .env("RUST_LOG", "warn");
    if let Some(config) = config {
        cmd.env("VNEID_CONFIG", config);
    }
    cmd.output().unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A config file on a fresh SQLite database, with a fresh key-encryption key.
fn config(port: u16) -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new();
    let kek = text(&run(&["keys", "generate-kek"], None))
        .trim()
        .to_string();
    assert_eq!(kek.len(), 43, "{kek}");
    let path = dir.path.join("provider.toml");
    let db = dir.path.join("vneid.db");
    std::fs::write(
        &path,
        format!(
            "issuer = \"http://127.0.0.1:{port}\"\nbind = \"127.0.0.1:{port}\"\ndatabase_url = \"sqlite:{}\"\nkey_encryption_key = \"{kek}\"\n\n[lifetimes]\ncode = 30\n",
            db.display()
        ),
    )
    .unwrap();
    (dir, path)
}

mod tempdir {
    /// A directory removed when dropped.
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Dir {
            let path = std::env::temp_dir().join(format!(
                "vneid-cli-{}-{}",
                std::process::id(),
                rand_suffix()
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir { path }
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    }
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["clients", "--help"],
        vec!["clients", "add", "--help"],
        vec!["clients", "list", "--help"],
        vec!["clients", "remove", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "list", "--help"],
        vec!["keys", "rotate", "--help"],
        vec!["keys", "generate-kek", "--help"],
        vec!["officers", "--help"],
        vec!["officers", "add", "--help"],
    ] {
        let out = run(&args, None);
        assert!(out.status.success(), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("Usage"), "{args:?}");
    }
}

#[test]
fn officers_are_added_with_a_validated_role() {
    let help = text(&run(&["officers", "add", "--help"], None));
    assert!(
        help.contains("--role") && help.contains("registrar") && help.contains("supervisor"),
        "{help}"
    );
    let (_dir, cfg) = config(1);
    let add = |username: &str, role: Option<&str>| {
        let mut args = vec![
            "officers",
            "add",
            "--username",
            username,
            "--name",
            "Nguyễn Văn Cán",
            "--station",
            "Công an phường Bến Nghé",
        ];
        if let Some(role) = role {
            args.extend(["--role", role]);
        }
        run(&args, Some(&cfg))
    };
    let out = add("giamsat02", Some("supervisor"));
    assert!(out.status.success(), "{}", text(&out));
    let printed = text(&out);
    assert!(
        printed.contains("giamsat02 (supervisor)")
            && printed.contains("password:")
            && printed.contains("TOTP secret:"),
        "{printed}"
    );
    let out = add("canbo09", None);
    assert!(
        out.status.success() && text(&out).contains("canbo09 (registrar)"),
        "least privilege by default: {}",
        text(&out)
    );
    let out = add("canbo10", Some("admin"));
    assert!(
        !out.status.success() && text(&out).contains("registrar"),
        "an unknown role is refused: {}",
        text(&out)
    );
    let out = add("giamsat02", Some("registrar"));
    assert!(
        !out.status.success() && text(&out).contains("exists already"),
        "{}",
        text(&out)
    );
}

#[test]
fn clients_and_keys_are_managed_from_the_command_line() {
    let (_dir, cfg) = config(1);
    let out = run(&["migrate"], Some(&cfg));
    assert!(out.status.success(), "{}", text(&out));
    let add = [
        "clients",
        "add",
        "--id",
        "city-portal",
        "--name",
        "Cổng dịch vụ công thành phố",
        "--redirect-uri",
        "https://portal.example.vn/callback",
        "--scopes",
        "openid profile documents",
        "--signing-alg",
        "RS256",
    ];
    let out = run(&add, Some(&cfg));
    assert!(out.status.success(), "{}", text(&out));
    let secret = text(&out).lines().last().unwrap().trim().to_string();
    assert_eq!(secret.len(), 43, "the generated secret is printed once");
    let out = run(&add, Some(&cfg));
    assert!(
        !out.status.success() && text(&out).contains("exists already"),
        "{}",
        text(&out)
    );
    let bad = run(
        &[
            "clients",
            "add",
            "--id",
            "x",
            "--name",
            "x",
            "--redirect-uri",
            "http://evil.example/cb",
        ],
        Some(&cfg),
    );
    assert!(
        !bad.status.success() && text(&bad).contains("https"),
        "{}",
        text(&bad)
    );
    let bad = run(
        &[
            "clients",
            "add",
            "--id",
            "y",
            "--name",
            "y",
            "--redirect-uri",
            "https://a.vn/cb",
            "--scopes",
            "openid shoes",
        ],
        Some(&cfg),
    );
    assert!(
        !bad.status.success() && text(&bad).contains("unknown scope"),
        "{}",
        text(&bad)
    );
    let list = text(&run(&["clients", "list"], Some(&cfg)));
    assert!(
        list.contains("city-portal") && list.contains("RS256") && !list.contains(&secret),
        "{list}"
    );
    assert!(
        run(&["clients", "remove", "city-portal"], Some(&cfg))
            .status
            .success()
    );
    assert!(!text(&run(&["clients", "list"], Some(&cfg))).contains("city-portal"));
    assert!(
        !run(&["clients", "remove", "city-portal"], Some(&cfg))
            .status
            .success()
    );

    let keys = text(&run(&["keys", "list"], Some(&cfg)));
    assert!(keys.contains("ES256") && keys.contains("RS256"), "{keys}");
    let out = run(&["keys", "rotate", "--alg", "ES256"], Some(&cfg));
    assert!(out.status.success(), "{}", text(&out));
    let keys = text(&run(&["keys", "list"], Some(&cfg)));
    assert_eq!(
        keys.matches("ES256").count(),
        2,
        "old and new published during the overlap: {keys}"
    );
    // A wrong key-encryption key cannot open the stored keys, and says so.
    let wrong = Command::new(BIN)
        .args(["keys", "list"])
        .env("VNEID_CONFIG", &cfg)
        .env(
            "VNEID_KEY_ENCRYPTION_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        )
        .output()
        .unwrap();
    assert!(
        !wrong.status.success() && text(&wrong).contains("key-encryption key"),
        "{}",
        text(&wrong)
    );
}

struct Server(Child);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(port: u16, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn serve_reads_the_config_file_and_the_environment_overrides_it() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (_dir, cfg) = config(1);
    let issuer = format!("http://127.0.0.1:{port}");
    let child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&cfg)
        .env("VNEID_ISSUER", &issuer)
        .env("VNEID_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let _server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let doc = loop {
        if let Some(doc) = get(port, "/.well-known/openid-configuration") {
            break doc;
        }
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(doc.contains(&format!("\"issuer\":\"{issuer}\"")), "{doc}");
    assert!(get(port, "/health").unwrap().contains("\"ok\""));
    let bad = Command::new(BIN)
        .args(["serve"])
        .env("VNEID_ISSUER", "ftp://x")
        .env("VNEID_CONFIG", &cfg)
        .output()
        .unwrap();
    assert!(
        !bad.status.success() && text(&bad).contains("issuer"),
        "{}",
        text(&bad)
    );
}

/// The action and hidden inputs of the page's form whose action ends with `suffix` (the
/// provider's pages are plain forms; attribute values are base64url or paths, never escaped).
fn form(html: &str, suffix: &str) -> Option<(String, Vec<(String, String)>)> {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(tag[start..].split('"').next()?.to_string())
    };
    for chunk in html.split("<form").skip(1) {
        let chunk = chunk.split("</form>").next()?;
        let action = attr(chunk.split('>').next()?, "action")?;
        if !action.ends_with(suffix) {
            continue;
        }
        let hidden = chunk
            .split("<input")
            .skip(1)
            .filter(|tag| tag.contains("type=\"hidden\""))
            .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value")?)))
            .collect();
        return Some((action, hidden));
    }
    None
}

/// A fresh, empty PostgreSQL database on the test server.
async fn fresh_postgres() -> String {
    use sqlx::Connection;
    let server = std::env::var("VNEID_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let name = format!("vneid_cli_{}_{}", std::process::id(), rand::random::<u32>());
    let mut conn = sqlx::PgConnection::connect(&format!("{server}/postgres"))
        .await
        .expect("PostgreSQL must be running for the PostgreSQL tests (.ci/run starts it)");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    format!("{server}/{name}")
}

/// `vneid-provider demo --port PORT --database-url URL`, answering discovery.
async fn start_demo(port: u16, database_url: &str) -> Server {
    let child = Command::new(BIN)
        .args([
            "demo",
            "--port",
            &port.to_string(),
            "--database-url",
            database_url,
        ])
        .env_remove("VNEID_KEY_ENCRYPTION_KEY")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let discovery = format!("http://127.0.0.1:{port}/.well-known/openid-configuration");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if reqwest::get(&discovery)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        if let Some(status) = server.0.try_wait().unwrap() {
            panic!("the demo exited with {status} on {database_url}");
        }
        assert!(Instant::now() < deadline, "the demo did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Logs `username` in to the demo portal through the pages (password, the TOTP code when asked,
/// consent), redeems the code and returns the token response.
async fn demo_login(port: u16, username: &str) -> serde_json::Value {
    let base = format!("http://127.0.0.1:{port}");
    let browser = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = format!(
        "{base}/authorize?response_type=code&client_id=demo-portal\
         &redirect_uri=http%3A%2F%2F127.0.0.1%3A3001%2Fcallback&scope=openid%20profile\
         &state=st4te&nonce=n0nce&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
         &code_challenge_method=S256&acr_values=urn%3Avneid%3Aacr%3Alevel2%20urn%3Avneid%3Aacr%3Alevel1"
    );
    let mut response = browser.get(&authorize).send().await.unwrap();
    for _ in 0..12 {
        if let Some(location) = response.headers().get("location") {
            let location = location.to_str().unwrap().to_string();
            if location.starts_with("http://127.0.0.1:3001/callback") {
                let url = url::Url::parse(&location).unwrap();
                let code = url
                    .query_pairs()
                    .find(|(k, _)| k == "code")
                    .unwrap_or_else(|| panic!("no code in {location}"))
                    .1
                    .to_string();
                let token = reqwest::Client::new()
                    .post(format!("{base}/token"))
                    .basic_auth("demo-portal", Some("demo-portal-secret"))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", &code),
                        ("redirect_uri", "http://127.0.0.1:3001/callback"),
                        (
                            "code_verifier",
                            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
                        ),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(token.status(), 200);
                return token.json().await.unwrap();
            }
            let next = if location.starts_with('/') {
                format!("{base}{location}")
            } else {
                location
            };
            response = browser.get(&next).send().await.unwrap();
            continue;
        }
        let html = response.text().await.unwrap();
        let (action, mut fields, extra) = if let Some((a, f)) = form(&html, "/login") {
            let creds = vec![
                ("username", username.to_string()),
                ("password", "Demo@2026".into()),
            ];
            (a, f, creds)
        } else if let Some((a, f)) = form(&html, "/otp") {
            let secret = totp_rs::Secret::try_from_base32("JBSWY3DPEHPK3PXP").unwrap();
            let code = totp_rs::Builder::new()
                .with_secret(secret)
                .build_noncompliant()
                .generate_current()
                .to_string();
            (a, f, vec![("otp", code)])
        } else if let Some((a, f)) = form(&html, "/consent") {
            (a, f, vec![("decision", "allow".to_string())])
        } else {
            panic!("an unexpected page:\n{html}");
        };
        fields.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
        response = browser
            .post(format!("{base}{action}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
    }
    panic!("the login did not come back to the portal");
}

async fn jwks_kids(port: u16) -> Vec<String> {
    let jwks: serde_json::Value = reqwest::get(format!("http://127.0.0.1:{port}/jwks"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    kids.sort();
    kids
}

async fn seeded_rows(database_url: &str) -> (i64, i64, i64) {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database_url).await.unwrap();
    let count = |sql: &'static str| sqlx::query_scalar::<_, i64>(sql);
    let accounts =
        count("SELECT COUNT(*) FROM accounts WHERE username IN ('001095000001', '079198000002')")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let clients = count("SELECT COUNT(*) FROM clients WHERE id IN ('demo-portal', 'demo-bank')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let officers = count("SELECT COUNT(*) FROM officers WHERE username = 'canbo01'")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    (accounts, clients, officers)
}

/// The demo on a database it is given: seeded when empty, logins work, and a restart on the same
/// database seeds nothing twice and still opens what it sealed (signing keys, the TOTP secret).
async fn demo_runs_on_a_given_database_and_restarts_on_it(database_url: &str) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = start_demo(port, database_url).await;
    assert_eq!(seeded_rows(database_url).await, (2, 2, 1));
    let kids = jwks_kids(port).await;
    let tokens = demo_login(port, "001095000001").await;
    assert!(tokens["id_token"].is_string() && tokens["access_token"].is_string());
    drop(server);

    let _server = start_demo(port, database_url).await;
    assert_eq!(
        seeded_rows(database_url).await,
        (2, 2, 1),
        "a restart seeds nothing twice"
    );
    assert_eq!(
        jwks_kids(port).await,
        kids,
        "the same signing keys after a restart"
    );
    // Level 2: the TOTP secret sealed by the first run opens in the second.
    let tokens = demo_login(port, "079198000002").await;
    let access = tokens["access_token"].as_str().unwrap();
    let userinfo = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/userinfo"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let claims: serde_json::Value = userinfo.json().await.unwrap();
    assert_eq!(claims["given_name"], "Bình", "{claims}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeds_an_empty_postgresql_database_and_restarts_on_it() {
    demo_runs_on_a_given_database_and_restarts_on_it(&fresh_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_seeds_a_given_sqlite_file_and_restarts_on_it() {
    let dir = tempdir::Dir::new();
    let url = format!("sqlite:{}", dir.path.join("demo.db").display());
    demo_runs_on_a_given_database_and_restarts_on_it(&url).await;
}
