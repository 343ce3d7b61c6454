//! The side-by-side benchmark: our provider on SQLite and on PostgreSQL, and panva's
//! node-oidc-provider configured like our contract, started fresh and driven with the same
//! flows in one run, rounds interleaved, every response checked. See bench/README.md.

mod argon;
mod browser;
mod load;
mod report;
mod servers;

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;

use browser::{Driver, Jar, Tokens};
use load::{Figures, Sample, drive};
use servers::{Postgres, Server, free_port};

/// Runs the benchmark and writes bench/results/latest.json and latest.md.
#[derive(Parser, Clone, Debug)]
#[command(name = "vneid-bench", about)]
struct Args {
    /// Operations in flight at once against a provider.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Seconds per figure (and per argon2 rate).
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Interleaved rounds; each figure is the median over them.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// A smoke run: 1 round of 0.5 s at concurrency 4, written to quick.json / quick.md.
    #[arg(long)]
    quick: bool,
    /// Only these figures (comma-separated keys: discovery, jwks, password_login, sso,
    /// token_success, token_failure, userinfo), written to partial.json / partial.md.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Our provider's binary (build it with --release).
    #[arg(long, default_value = "target/release/vneid-provider")]
    provider_bin: PathBuf,
    /// The node-oidc-provider fixture (with `npm ci` done).
    #[arg(long, default_value = "tests/fixtures/oidc-provider")]
    node_dir: PathBuf,
    /// The PostgreSQL server; a fresh database is made on it for the run.
    #[arg(
        long,
        env = "VNEID_BENCH_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    postgres: String,
    /// Where the results go.
    #[arg(long, default_value = "bench/results")]
    out: PathBuf,
}

/// What is measured, in this order in every round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Figure {
    Discovery,
    Jwks,
    PasswordLogin,
    Sso,
    TokenSuccess,
    TokenFailure,
    UserInfo,
}

impl Figure {
    pub const ALL: [Figure; 7] = [
        Figure::Discovery,
        Figure::Jwks,
        Figure::PasswordLogin,
        Figure::Sso,
        Figure::TokenSuccess,
        Figure::TokenFailure,
        Figure::UserInfo,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Figure::Discovery => "discovery",
            Figure::Jwks => "jwks",
            Figure::PasswordLogin => "password_login",
            Figure::Sso => "sso",
            Figure::TokenSuccess => "token_success",
            Figure::TokenFailure => "token_failure",
            Figure::UserInfo => "userinfo",
        }
    }
}

/// One provider under test.
pub struct Target {
    pub key: &'static str,
    pub label: &'static str,
    server: Server,
    driver: Driver,
    postgres: Option<Arc<Postgres>>,
    /// One logged-in browser per worker, for single sign-on.
    sso: Arc<Vec<Mutex<Jar>>>,
    pub rounds: HashMap<Figure, Vec<Figures>>,
    pub peak_rss_kib: Option<u64>,
}

impl Target {
    async fn start(
        key: &'static str,
        label: &'static str,
        server: Server,
        postgres: Option<Arc<Postgres>>,
        concurrency: usize,
    ) -> Result<Target, String> {
        let driver = Driver::discover(&server.base, concurrency).await?;
        // Check every operation once before measuring, and log in one browser per worker.
        driver.discovery().await?;
        driver.jwks().await?;
        driver.password_flow().await?;
        driver.bad_token().await?;
        let mut jars = Vec::new();
        for _ in 0..concurrency {
            jars.push(Mutex::new(driver.logged_in().await?));
        }
        let target = Target {
            key,
            label,
            server,
            driver,
            postgres,
            sso: Arc::new(jars),
            rounds: HashMap::new(),
            peak_rss_kib: None,
        };
        let mut jar = target.jar(0);
        let tokens = target.driver.sso_flow(&mut jar).await?;
        target.driver.userinfo(&tokens).await?;
        Ok(target)
    }

    fn jar(&self, worker: usize) -> Jar {
        jar_of(&self.sso, worker)
    }

    /// CPU ticks so far of the provider and of the database processes serving it.
    async fn cpu(&self) -> HashMap<u32, u64> {
        let mut pids = vec![self.server.pid];
        if let Some(pg) = &self.postgres {
            pids.extend(pg.backends().await);
        }
        pids.into_iter()
            .filter_map(|pid| Some((pid, servers::cpu_ticks(pid)?)))
            .collect()
    }
}

/// A worker's logged-in browser (a copy: put it back with [`keep_jar`]).
fn jar_of(sso: &[Mutex<Jar>], worker: usize) -> Jar {
    sso[worker].lock().map(|j| j.clone()).unwrap_or_default()
}

/// Keeps the cookies a single sign-on left, should the provider renew its session.
fn keep_jar(sso: &[Mutex<Jar>], worker: usize, jar: Jar) {
    if let Ok(mut kept) = sso[worker].lock() {
        *kept = jar;
    }
}

fn cpu_seconds(before: &HashMap<u32, u64>, after: &HashMap<u32, u64>, tick: f64) -> f64 {
    let ticks: u64 = after
        .iter()
        .map(|(pid, t)| t.saturating_sub(before.get(pid).copied().unwrap_or(0)))
        .sum();
    ticks as f64 / tick
}

/// Runs `sso_flow` on every worker's browser once, outside any measurement: access tokens for
/// UserInfo.
async fn tokens_for(target: &Target, concurrency: usize) -> (Vec<Tokens>, Sample) {
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..concurrency {
        let (driver, sso) = (target.driver.clone(), target.sso.clone());
        tasks.spawn(async move {
            let mut jar = jar_of(&sso, worker);
            let tokens = driver.sso_flow(&mut jar).await;
            keep_jar(&sso, worker, jar);
            tokens
        });
    }
    let mut tokens = Vec::new();
    let mut failures = Sample::default();
    while let Some(result) = tasks.join_next().await {
        match result.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(t) => tokens.push(t),
            Err(why) => {
                failures.failed += 1;
                failures.first_failure.get_or_insert(why);
            }
        }
    }
    (tokens, failures)
}

/// Codes from single sign-on for `duration`, outside any measurement, for the token endpoint.
async fn codes_for(
    target: &Target,
    concurrency: usize,
    duration: Duration,
) -> (Vec<(String, String)>, Sample) {
    let codes = Arc::new(Mutex::new(Vec::new()));
    let (driver, sso, sink) = (target.driver.clone(), target.sso.clone(), codes.clone());
    let sample = drive(concurrency, duration, move |worker| {
        let (driver, sso, sink) = (driver.clone(), sso.clone(), sink.clone());
        async move {
            let mut jar = jar_of(&sso, worker);
            let code = driver.authorize(&mut jar, false).await;
            keep_jar(&sso, worker, jar);
            sink.lock().map_err(|e| e.to_string())?.push(code?);
            Ok(true)
        }
    })
    .await;
    let codes = std::mem::take(&mut *codes.lock().unwrap_or_else(|e| e.into_inner()));
    (codes, sample)
}

/// Measures one figure on one target.
async fn measure(target: &Target, figure: Figure, args: &Args, tick: f64) -> Figures {
    let (c, d) = (args.concurrency, Duration::from_secs_f64(args.duration));
    let driver = target.driver.clone();
    // Work that prepares a figure is done before its CPU is counted; its failures count.
    let mut prepared = Sample::default();
    let mut codes = Vec::new();
    let mut tokens = Vec::new();
    match figure {
        Figure::TokenSuccess => {
            // Codes live 60 s on both providers: fetch for at most 45 s.
            let (c_, s) = codes_for(target, c, d.min(Duration::from_secs(45))).await;
            (codes, prepared) = (c_, s);
        }
        Figure::UserInfo => (tokens, prepared) = tokens_for(target, c).await,
        _ => {}
    }
    let before = target.cpu().await;
    let mut sample = match figure {
        Figure::Discovery => {
            drive(c, d, move |_| {
                let driver = driver.clone();
                async move { driver.discovery().await.map(|()| true) }
            })
            .await
        }
        Figure::Jwks => {
            drive(c, d, move |_| {
                let driver = driver.clone();
                async move { driver.jwks().await.map(|()| true) }
            })
            .await
        }
        Figure::PasswordLogin => {
            drive(c, d, move |_| {
                let driver = driver.clone();
                async move { driver.password_flow().await.map(|()| true) }
            })
            .await
        }
        Figure::Sso => {
            let sso = target.sso.clone();
            drive(c, d, move |worker| {
                let (driver, sso) = (driver.clone(), sso.clone());
                async move {
                    let mut jar = jar_of(&sso, worker);
                    let flow = driver.sso_flow(&mut jar).await;
                    keep_jar(&sso, worker, jar);
                    flow.map(|_| true)
                }
            })
            .await
        }
        Figure::TokenSuccess => {
            let codes = Arc::new(Mutex::new(codes));
            drive(c, d, move |_| {
                let (driver, codes) = (driver.clone(), codes.clone());
                async move {
                    let next = codes.lock().map_err(|e| e.to_string())?.pop();
                    let Some((code, nonce)) = next else {
                        return Ok(false);
                    };
                    driver.token(&code, &nonce).await.map(|_| true)
                }
            })
            .await
        }
        Figure::TokenFailure => {
            drive(c, d, move |_| {
                let driver = driver.clone();
                async move { driver.bad_token().await.map(|()| true) }
            })
            .await
        }
        Figure::UserInfo => {
            let tokens = Arc::new(tokens);
            if tokens.is_empty() {
                Sample::default()
            } else {
                drive(c, d, move |worker| {
                    let (driver, tokens) = (driver.clone(), tokens.clone());
                    async move {
                        driver
                            .userinfo(&tokens[worker % tokens.len()])
                            .await
                            .map(|()| true)
                    }
                })
                .await
            }
        }
    };
    let after = target.cpu().await;
    sample.failed += prepared.failed;
    if sample.first_failure.is_none() {
        sample.first_failure = prepared.first_failure;
    }
    Figures::of(sample, cpu_seconds(&before, &after, tick))
}

/// The raw argon2id rates of one round: (1 thread, every core).
pub struct ArgonRound {
    pub one: f64,
    pub all: f64,
}

async fn run(args: Args, pg: Arc<Postgres>, logs: PathBuf) -> Result<report::Report, String> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let tick = servers::clock_ticks_per_second();
    let bin = std::fs::canonicalize(&args.provider_bin).map_err(|e| {
        format!(
            "{}: {e} (build it: cargo build --release -p vneid-provider)",
            args.provider_bin.display()
        )
    })?;
    eprintln!("starting the providers (logs in {})", logs.display());
    let sqlite = format!("sqlite:{}", logs.join("ours.db").display());
    let ours_sqlite = Server::ours(
        &bin,
        free_port().map_err(|e| e.to_string())?,
        Some(&sqlite),
        logs.join("ours-sqlite.log"),
    )
    .await?;
    let ours_pg = Server::ours(
        &bin,
        free_port().map_err(|e| e.to_string())?,
        Some(&pg.url()),
        logs.join("ours-postgres.log"),
    )
    .await?;
    let hash = pg.demo_password_hash().await?;
    let params = argon::Params::of_phc(&hash).ok_or("the stored hash is not argon2id")?;
    let node = Server::node(
        &args.node_dir,
        free_port().map_err(|e| e.to_string())?,
        params,
        logs.join("node.log"),
    )
    .await?;
    let c = args.concurrency;
    let mut targets = vec![
        Target::start("ours_sqlite", "ours, SQLite", ours_sqlite, None, c).await?,
        Target::start(
            "ours_postgres",
            "ours, PostgreSQL",
            ours_pg,
            Some(pg.clone()),
            c,
        )
        .await?,
        Target::start("node", "node-oidc-provider", node, None, c).await?,
    ];
    let mut argon_rounds = Vec::new();
    for round in 0..args.rounds {
        let d = Duration::from_secs_f64(args.duration);
        let one = tokio::task::spawn_blocking(move || argon::rate(params, 1, d))
            .await
            .map_err(|e| e.to_string())??;
        let all = tokio::task::spawn_blocking(move || argon::rate(params, cores, d))
            .await
            .map_err(|e| e.to_string())??;
        eprintln!(
            "round {}/{}: raw argon2id {one:.1}/s on 1 thread, {all:.1}/s on {cores}",
            round + 1,
            args.rounds
        );
        argon_rounds.push(ArgonRound { one, all });
        for (i, figure) in Figure::ALL.into_iter().enumerate() {
            if !args.only.is_empty() && !args.only.iter().any(|o| o == figure.key()) {
                continue;
            }
            // Interleaved, and the order turns so no provider always goes first.
            for k in 0..targets.len() {
                let t = &mut targets[(round + i + k) % 3];
                let figures = measure(t, figure, &args, tick).await;
                eprintln!(
                    "round {}/{}: {:<14} {:<20} {:>10.1}/s  p50 {:>7.2} ms  p99 {:>7.2} ms  cpu {:>8.0} µs/op{}",
                    round + 1,
                    args.rounds,
                    figure.key(),
                    t.label,
                    figures.rate,
                    figures.p50_ms,
                    figures.p99_ms,
                    figures.cpu_us_per_op,
                    if figures.failed > 0 {
                        format!(
                            "  {} FAILED: {}",
                            figures.failed,
                            figures.first_failure.clone().unwrap_or_default()
                        )
                    } else {
                        String::new()
                    }
                );
                t.rounds.entry(figure).or_default().push(figures);
            }
        }
    }
    for t in &mut targets {
        t.peak_rss_kib = servers::peak_rss_kib(t.server.pid);
    }
    Ok(report::Report::new(
        &args,
        cores,
        params,
        argon_rounds,
        &targets,
    ))
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = Args::parse();
    if args.quick {
        (args.rounds, args.duration, args.concurrency) = (1, 0.5, 4);
    }
    let logs = std::env::temp_dir().join(format!("vneid-bench-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&logs) {
        eprintln!("error: {}: {e}", logs.display());
        return ExitCode::FAILURE;
    }
    let pg = match Postgres::create(&args.postgres).await {
        Ok(pg) => Arc::new(pg),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = tokio::select! {
        r = run(args.clone(), pg.clone(), logs.clone()) => r,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    };
    // The servers are gone (killed when dropped); their database goes too.
    pg.drop_database().await;
    match outcome {
        Ok(report) => {
            let name = if args.quick {
                "quick"
            } else if !args.only.is_empty() {
                "partial"
            } else {
                "latest"
            };
            if let Err(e) = report.write(&args.out, name) {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
            println!("{}", report.markdown);
            let _ = std::fs::remove_dir_all(&logs);
            if report.failed > 0 {
                eprintln!(
                    "{} operations failed their checks (see the table); results written to {}",
                    report.failed,
                    args.out.display()
                );
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e} (logs kept in {})", logs.display());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_counts_every_process_seen_at_the_end() {
        let before = HashMap::from([(1, 100), (2, 50)]);
        // Process 2 is gone; process 3 (a new database backend) started during the figure.
        let after = HashMap::from([(1, 160), (3, 40)]);
        assert_eq!(cpu_seconds(&before, &after, 100.0), 1.0);
    }
}
