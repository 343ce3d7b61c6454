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
