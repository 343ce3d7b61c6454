//! The results: JSON with every round, and the README's markdown table of medians.

use std::fmt::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::argon::Params;
use crate::load::{Figures, median};
use crate::{ArgonRound, Args, Figure, Target};

/// What a run wrote.
pub struct Report {
    pub json: Value,
    pub markdown: String,
    /// Operations that failed their checks, over every figure and provider.
    pub failed: u64,
}

/// `1234.5` as `1,235`; small numbers keep a decimal.
fn number(x: f64) -> String {
    if x >= 1000.0 {
        let digits = format!("{:.0}", x);
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x >= 100.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

fn ms(x: f64) -> String {
    if x >= 10.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// The ratio of ours to the peer: `7.5×` for rates (higher is better), `0.92` for costs.
fn ratio(ours: f64, peer: f64, times: bool) -> String {
    if peer <= 0.0 || ours <= 0.0 {
        return "–".into();
    }
    let r = ours / peer;
    if times {
        format!("{r:.2}×")
    } else {
        format!("{r:.2}")
    }
}

/// Each figure: the label of its rate row, and the short name of its latency and CPU rows.
const FIGURE_ROWS: [(Figure, &str, &str); 7] = [
    (Figure::Discovery, "discovery GET rps", "discovery"),
    (Figure::Jwks, "JWKS GET rps", "JWKS"),
    (
        Figure::PasswordLogin,
        "password-login flows/s (authorize, login form, consent if shown, token, UserInfo)",
        "password login",
    ),
    (
        Figure::Sso,
        "SSO flows/s (authorize with a session cookie, then token)",
        "SSO",
    ),
    (
        Figure::TokenSuccess,
        "token endpoint success rps",
        "token success",
    ),
    (
        Figure::TokenFailure,
        "token endpoint failure rps (a code never issued)",
        "token failure",
    ),
    (Figure::UserInfo, "UserInfo rps", "UserInfo"),
];

impl Report {
    pub fn new(
        args: &Args,
        cores: usize,
        params: Params,
        argon: Vec<ArgonRound>,
        targets: &[Target],
    ) -> Report {
        let date = time::OffsetDateTime::now_utc();
        let day = format!(
            "{:04}-{:02}-{:02}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
            })
            .unwrap_or_default();
        let argon_one = median(argon.iter().map(|a| a.one).collect());
        let argon_all = median(argon.iter().map(|a| a.all).collect());
        let medians: Vec<Vec<Figures>> = targets
            .iter()
            .map(|t| {
                FIGURE_ROWS
                    .iter()
                    .map(|(f, _, _)| Figures::median(t.rounds.get(f).map_or(&[][..], |v| v)))
                    .collect()
            })
            .collect();
        let failed = medians.iter().flatten().map(|f| f.failed).sum();

        let mut md = String::new();
        let _ = writeln!(
            md,
            "Measured {day} on {cores} cores ({cpu_model}); {} concurrent, {} s per figure, median of {} interleaved round(s).\n\
             Server CPU is user + system time of the provider process per completed operation \
             (on PostgreSQL, plus its database backends); peak RSS is VmHWM over the whole run.\n",
            args.concurrency, args.duration, args.rounds
        );
        let _ = writeln!(
            md,
            "| figure | {} | {} | {} | ratio ({} · {} vs {}) |\n|---|---|---|---|---|",
            targets[0].label,
            targets[1].label,
            targets[2].label,
            short(targets[0].label),
            short(targets[1].label),
            short(targets[2].label)
        );
        let failures = |f: &Figures| {
            if f.failed > 0 {
                format!(" ({} failed)", f.failed)
            } else {
                String::new()
            }
        };
        for (row, (_, label, name)) in FIGURE_ROWS.iter().enumerate() {
            let cell = |t: usize| &medians[t][row];
            let _ = writeln!(
                md,
                "| {label} | {}{} | {}{} | {}{} | {} · {} |",
                number(cell(0).rate),
                failures(cell(0)),
                number(cell(1).rate),
                failures(cell(1)),
                number(cell(2).rate),
                failures(cell(2)),
                ratio(cell(0).rate, cell(2).rate, true),
                ratio(cell(1).rate, cell(2).rate, true),
            );
            let _ = writeln!(
                md,
                "| {name} p50 / p99 ms | {} / {} | {} / {} | {} / {} | p99 {} · {} |",
                ms(cell(0).p50_ms),
                ms(cell(0).p99_ms),
                ms(cell(1).p50_ms),
                ms(cell(1).p99_ms),
                ms(cell(2).p50_ms),
                ms(cell(2).p99_ms),
                ratio(cell(0).p99_ms, cell(2).p99_ms, false),
                ratio(cell(1).p99_ms, cell(2).p99_ms, false),
            );
            let _ = writeln!(
                md,
                "| {name} server CPU µs per op | {} | {} | {} | {} · {} |",
                number(cell(0).cpu_us_per_op),
                number(cell(1).cpu_us_per_op),
                number(cell(2).cpu_us_per_op),
                ratio(cell(0).cpu_us_per_op, cell(2).cpu_us_per_op, false),
                ratio(cell(1).cpu_us_per_op, cell(2).cpu_us_per_op, false),
            );
        }
        let rss: Vec<f64> = targets
            .iter()
            .map(|t| t.peak_rss_kib.unwrap_or(0) as f64 / 1024.0)
            .collect();
        let _ = writeln!(
            md,
            "| peak RSS over the run, MiB | {} | {} | {} | {} · {} |",
            number(rss[0]),
            number(rss[1]),
            number(rss[2]),
            ratio(rss[0], rss[2], false),
            ratio(rss[1], rss[2], false),
        );
        let share = |t: usize| {
            if argon_all > 0.0 {
                format!("{:.0}%", 100.0 * medians[t][2].rate / argon_all)
            } else {
                "–".into()
            }
        };
        let _ = writeln!(
            md,
            "| password-login flows / raw argon2id rate on {cores} cores | {} | {} | {} | |",
            share(0),
            share(1),
            share(2)
        );
        let _ = writeln!(
            md,
            "\nRaw argon2id with our provider's parameters (m={} KiB, t={}, p={}), same run: \
             {} hashes/s on 1 thread, {} hashes/s on {cores} threads.",
            params.m,
            params.t,
            params.p,
            number(argon_one),
            number(argon_all)
        );

        let json = json!({
            "date": date.unix_timestamp(),
            "day": day,
            "machine": { "cores": cores, "cpu": cpu_model },
            "settings": {
                "concurrency": args.concurrency,
                "seconds_per_figure": args.duration,
                "rounds": args.rounds,
            },
            "argon2id": {
                "params": params,
                "one_thread_per_s": argon_one,
                "all_cores_per_s": argon_all,
                "rounds": argon.iter().map(|a| json!({"one_thread_per_s": a.one, "all_cores_per_s": a.all})).collect::<Vec<_>>(),
            },
            "providers": targets.iter().zip(&medians).map(|(t, m)| {
                let figures: serde_json::Map<String, Value> = FIGURE_ROWS.iter().zip(m).map(|((f, _, _), median)| {
                    (f.key().to_string(), json!({
                        "median": median,
                        "rounds": t.rounds.get(f).cloned().unwrap_or_default(),
                    }))
                }).collect();
                (t.key.to_string(), json!({
                    "label": t.label,
                    "peak_rss_kib": t.peak_rss_kib,
                    "figures": figures,
                }))
            }).collect::<serde_json::Map<String, Value>>(),
            "failed": failed,
            "table": md,
        });
        Report {
            json,
            markdown: md,
            failed,
        }
    }

    /// Writes `NAME.json` and `NAME.md` into `dir`.
    pub fn write(&self, dir: &Path, name: &str) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let json = serde_json::to_string_pretty(&self.json).map_err(|e| e.to_string())?;
        for (file, text) in [
            (dir.join(format!("{name}.json")), json + "\n"),
            (dir.join(format!("{name}.md")), self.markdown.clone()),
        ] {
            std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
        }
        Ok(())
    }
}

fn short(label: &str) -> &str {
    match label {
        "ours, SQLite" => "SQLite",
        "ours, PostgreSQL" => "PostgreSQL",
        "node-oidc-provider" => "node",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_the_readme() {
        assert_eq!(number(27896.4), "27,896");
        assert_eq!(number(1234567.0), "1,234,567");
        assert_eq!(number(588.0), "588");
        assert_eq!(number(34.12), "34.1");
        assert_eq!(ratio(588.0, 482.0, true), "1.22×");
        assert_eq!(ratio(2116.0, 2309.0, false), "0.92");
        assert_eq!(ratio(1.0, 0.0, true), "–");
    }
}
