//! `vneid-load`: the load driver of the scale-out harness and the soak (ops/scale-out).
//!
//! `vneid-load seed` prepares a fresh database (schema, signing keys, pairwise salt, the demo
//! accounts and clients) so that several `vneid-provider serve` processes can start on it at
//! once. `vneid-load run` drives complete password logins (authorize, login, consent, code at
//! the token endpoint) at a base URL with some concurrency, optionally paced to a rate, and
//! reports per interval: flows completed and failed, the requests' p50 and p99, and the RSS of
//! the server processes named with `--pid`; then a summary, optionally as JSON.

#![allow(clippy::print_stdout)]

#[allow(dead_code)]
#[path = "flow.rs"]
mod flow;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vneid-load",
    about = "Load driver for the scale-out harness and the soak"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Prepare a fresh database: schema, keys, salt, demo accounts and clients.
    Seed {
        /// The database (postgres://... or sqlite:...).
        #[arg(long)]
        database_url: String,
        /// The key-encryption key every process will use (base64url, 32 bytes).
        #[arg(long, env = "VNEID_KEY_ENCRYPTION_KEY")]
        kek: String,
        /// The issuer the processes will serve.
        #[arg(long)]
        issuer: String,
    },
    /// Drive logins and report.
    Run {
        /// The issuer / load balancer, e.g. http://127.0.0.1:8400.
        #[arg(long)]
        base: String,
        /// Logins in flight at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// How long to run, in seconds.
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Logins started per second at most (0: as fast as the concurrency allows).
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
        /// Seconds per report line.
        #[arg(long, default_value_t = 10)]
        interval: u64,
        /// Server processes whose RSS to sample (repeat).
        #[arg(long = "pid")]
        pids: Vec<u32>,
        /// Print the summary as JSON on the last line.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Default)]
struct Window {
    completed: u64,
    failed: u64,
    failures: BTreeMap<String, u64>,
    latencies: Vec<Duration>,
}

#[derive(serde::Serialize)]
struct Line {
    at_seconds: u64,
    flows_per_second: f64,
    completed: u64,
    failed: u64,
    p50_ms: f64,
    p99_ms: f64,
    rss_mib: Vec<f64>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match Cli::parse().command {
        Command::Seed {
            database_url,
            kek,
            issuer,
        } => match seed(&database_url, kek, &issuer).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("seed failed: {err}");
                std::process::ExitCode::FAILURE
            }
        },
        Command::Run {
            base,
            concurrency,
            seconds,
            rate,
            interval,
            pids,
            json,
        } => {
            let ok = run(&base, concurrency, seconds, rate, interval, &pids, json).await;
            if ok {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}

async fn seed(database_url: &str, kek: String, issuer: &str) -> Result<(), String> {
    use vneid_provider::config::{Config, KeyEncryptionKey};
    let kek = KeyEncryptionKey::try_from(kek).map_err(|e| e.to_string())?;
    let issuer = issuer.parse().map_err(|e| format!("issuer: {e}"))?;
    let mut config = Config::new(issuer, database_url.to_string(), kek);
    config.max_connections = 2;
    let state = vneid_provider::prepare(config, vneid_provider::clock::Clock::default())
        .await
        .map_err(|e| e.to_string())?;
    vneid_provider::demo::seed(&state.store, &state.sealer, state.now())
        .await
        .map_err(|e| e.to_string())?;
    state.store.close().await;
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1000.0
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn run(
    base: &str,
    concurrency: usize,
    seconds: u64,
    rate: f64,
    interval: u64,
    pids: &[u32],
    json: bool,
) -> bool {
    let window = Arc::new(Mutex::new(Window::default()));
    let total = Arc::new(Mutex::new(Window::default()));
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    // Pacing: a permit per login start, `rate` per second.
    let (permits, receiver) = tokio::sync::mpsc::channel::<()>(concurrency.max(1));
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let pacer = (rate > 0.0).then(|| {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if permits.send(()).await.is_err() {
                    return;
                }
            }
        })
    });
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let window = window.clone();
        let total = total.clone();
        let receiver = receiver.clone();
        let base = base.to_string();
        let paced = rate > 0.0;
        workers.push(tokio::spawn(async move {
            while Instant::now() < end {
                if paced && receiver.lock().await.recv().await.is_none() {
                    return;
                }
                let mut timings = Vec::new();
                let result = flow::login_once(&base, Duration::from_secs(30), &mut |t| {
                    timings.push(t);
                })
                .await;
                for w in [&window, &total] {
                    let mut w = w.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    w.latencies.extend(timings.iter().map(|t| t.elapsed));
                    match &result {
                        Ok(_) => w.completed += 1,
                        Err(failed) => {
                            w.failed += 1;
                            *w.failures
                                .entry(format!("{} {}", failed.step, failed.status))
                                .or_default() += 1;
                        }
                    }
                }
            }
        }));
    }
    let mut lines = Vec::new();
    let mut peak_rss = vec![0.0f64; pids.len()];
    println!(
        "{:>6} {:>9} {:>9} {:>7} {:>9} {:>9}  rss MiB",
        "t(s)", "flows/s", "completed", "failed", "p50 ms", "p99 ms"
    );
    let mut window_start = Instant::now();
    while Instant::now() < end {
        let left = end.saturating_duration_since(Instant::now());
        tokio::time::sleep(Duration::from_secs(interval).min(left)).await;
        let mut w = std::mem::take(
            &mut *window
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        w.latencies.sort();
        let window_seconds = window_start.elapsed().as_secs_f64().max(0.001);
        window_start = Instant::now();
        let rss: Vec<f64> = pids.iter().map(|p| rss_mib(*p)).collect();
        for (peak, now) in peak_rss.iter_mut().zip(&rss) {
            *peak = peak.max(*now);
        }
        let line = Line {
            at_seconds: started.elapsed().as_secs(),
            flows_per_second: w.completed as f64 / window_seconds,
            completed: w.completed,
            failed: w.failed,
            p50_ms: percentile(&w.latencies, 50.0),
            p99_ms: percentile(&w.latencies, 99.0),
            rss_mib: rss,
        };
        println!(
            "{:>6} {:>9.1} {:>9} {:>7} {:>9.1} {:>9.1}  {:?}{}",
            line.at_seconds,
            line.flows_per_second,
            line.completed,
            line.failed,
            line.p50_ms,
            line.p99_ms,
            line.rss_mib
                .iter()
                .map(|r| format!("{r:.0}"))
                .collect::<Vec<_>>(),
            if w.failures.is_empty() {
                String::new()
            } else {
                format!("  failures: {:?}", w.failures)
            }
        );
        lines.push(line);
    }
    for worker in workers {
        let _ = worker.await;
    }
    if let Some(pacer) = pacer {
        pacer.abort();
    }
    let mut t = std::mem::take(
        &mut *total
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    t.latencies.sort();
    let elapsed = started.elapsed().as_secs_f64();
    let summary = serde_json::json!({
        "base": base,
        "concurrency": concurrency,
        "rate": rate,
        "seconds": elapsed,
        "completed": t.completed,
        "failed": t.failed,
        "failures": t.failures,
        "flows_per_second": t.completed as f64 / elapsed,
        "p50_ms": percentile(&t.latencies, 50.0),
        "p99_ms": percentile(&t.latencies, 99.0),
        "peak_rss_mib": peak_rss,
        "intervals": lines,
    });
    println!(
        "total: {} completed, {} failed in {:.0} s: {:.1} flows/s, p50 {:.1} ms, p99 {:.1} ms, peak RSS {:?} MiB",
        t.completed,
        t.failed,
        elapsed,
        t.completed as f64 / elapsed,
        percentile(&t.latencies, 50.0),
        percentile(&t.latencies, 99.0),
        peak_rss
            .iter()
            .map(|r| format!("{r:.0}"))
            .collect::<Vec<_>>()
    );
    if json {
        println!("{summary}");
    }
    t.failed == 0
}
