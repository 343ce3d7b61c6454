//! The providers under test, each a fresh process on a loopback port: ours (`vneid-provider
//! demo`, on a fresh SQLite file or a fresh PostgreSQL database) and panva's node-oidc-provider
//! (`tests/fixtures/oidc-provider/bench.js`). Their CPU time and peak memory from /proc.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sqlx::Connection;
use tokio::process::{Child, Command};

use crate::argon::Params;

/// A provider process, killed when dropped.
pub struct Server {
    child: Child,
    pub pid: u32,
    pub base: String,
    pub log: PathBuf,
}

/// A free loopback port.
pub fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Server {
    async fn spawn(mut command: Command, port: u16, log: PathBuf) -> Result<Server, String> {
        let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        let pid = child.id().ok_or("the process exited at once")?;
        let mut server = Server {
            child,
            pid,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.ready().await?;
        Ok(server)
    }

    /// Waits for the discovery document (up to 60 s).
    async fn ready(&mut self) -> Result<(), String> {
        let url = format!("{}/.well-known/openid-configuration", self.base);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if reqwest::get(&url)
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!(
                    "{} exited ({status}); see {}",
                    self.base,
                    self.log.display()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "{} did not answer in 60 s; see {}",
            self.base,
            self.log.display()
        ))
    }

    /// `vneid-provider demo` on `port`: a fresh SQLite file of its own, or `database_url`.
    pub async fn ours(
        bin: &Path,
        port: u16,
        database_url: Option<&str>,
        log: PathBuf,
    ) -> Result<Server, String> {
        let mut command = Command::new(bin);
        command.args(["demo", "--port", &port.to_string()]);
        if let Some(url) = database_url {
            command.args(["--database-url", url]);
        }
        // Node has no rate limits; ours would refuse a benchmark's flood from one address.
        command.env("VNEID_RATE_LIMITS", "off");
        command.env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        );
        Server::spawn(command, port, log).await
    }

    /// node-oidc-provider configured like our contract, its one account's password hashed with
    /// `params`.
    pub async fn node(
        dir: &Path,
        port: u16,
        params: Params,
        log: PathBuf,
    ) -> Result<Server, String> {
        if !dir.join("node_modules/oidc-provider").exists()
            || !dir.join("node_modules/argon2").exists()
        {
            return Err(format!(
                "run `npm ci` in {} first (bench/run does it)",
                dir.display()
            ));
        }
        let mut command = Command::new("node");
        command
            .arg("bench.js")
            .arg(port.to_string())
            .args([
                crate::browser::CLIENT_ID,
                crate::browser::CLIENT_SECRET,
                crate::browser::REDIRECT_URI,
                crate::browser::USERNAME,
                crate::browser::PASSWORD,
            ])
            .args([params.m, params.t, params.p].map(|x| x.to_string()))
            .current_dir(dir);
        Server::spawn(command, port, log).await
    }
}

/// CPU time (user + system) of a process, in clock ticks, from /proc/PID/stat.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    parse_stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

fn parse_stat_ticks(stat: &str) -> Option<u64> {
    // Fields after the command name (which may hold spaces) start at field 3, `state`;
    // utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The peak resident set of a process (VmHWM), in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    parse_vm_hwm(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when it cannot be asked).
pub fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A fresh PostgreSQL database for the run, dropped at the end.
pub struct Postgres {
    server: String,
    pub name: String,
}

impl Postgres {
    /// Creates `vneid_bench_PID` on `server` (e.g. `postgres://postgres@127.0.0.1:5432`).
    pub async fn create(server: &str) -> Result<Postgres, String> {
        let name = format!("vneid_bench_{}", std::process::id());
        let mut conn = Self::admin(server).await?;
        for sql in [
            format!("DROP DATABASE IF EXISTS {name}"),
            format!("CREATE DATABASE {name}"),
        ] {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok(Postgres {
            server: server.to_string(),
            name,
        })
    }

    async fn admin(server: &str) -> Result<sqlx::PgConnection, String> {
        sqlx::PgConnection::connect(&format!("{server}/postgres"))
            .await
            .map_err(|e| {
                format!("PostgreSQL at {server}: {e} (is it running? bench/run starts it)")
            })
    }

    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }

    /// The server processes serving this database (their CPU is the provider's too).
    pub async fn backends(&self) -> Vec<u32> {
        let Ok(mut conn) = Self::admin(&self.server).await else {
            return Vec::new();
        };
        sqlx::query_scalar::<_, i32>(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind(&self.name)
        .fetch_all(&mut conn)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|pid| pid as u32)
        .collect()
    }

    /// The stored password hash of the demo citizen: our provider's argon2id parameters.
    pub async fn demo_password_hash(&self) -> Result<String, String> {
        let mut conn = sqlx::PgConnection::connect(&self.url())
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar("SELECT password_hash FROM accounts WHERE username = $1")
            .bind(crate::browser::USERNAME)
            .fetch_one(&mut conn)
            .await
            .map_err(|e| format!("the demo account's hash: {e}"))
    }

    /// Drops the database.
    pub async fn drop_database(&self) {
        if let Ok(mut conn) = Self::admin(&self.server).await {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_and_peak_memory_are_read_from_proc() {
        let stat = "1234 (vneid provider) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0";
        assert_eq!(parse_stat_ticks(stat), Some(325));
        let status = "Name:\tx\nVmPeak:\t  900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t 40000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(51200));
        let me = std::process::id();
        assert!(cpu_ticks(me).is_some());
        assert!(peak_rss_kib(me).is_some_and(|kib| kib > 0));
    }
}
