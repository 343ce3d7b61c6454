//! Closed-loop load: `concurrency` workers, each starting its next operation as soon as the last
//! one finished, until the duration is over; the latency of every operation that completed.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

/// What one operation did: `Ok(true)` completed and checked, `Ok(false)` nothing left to do
/// (the worker stops), `Err` failed (counted, not timed).
pub type Outcome = Result<bool, String>;

/// One measurement of one figure on one provider.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    pub completed: u64,
    pub failed: u64,
    pub first_failure: Option<String>,
    pub seconds: f64,
    pub latencies_us: Vec<u64>,
}

/// Runs `op(worker)` on `concurrency` workers for `duration` (operations started before the end
/// finish and count). The elapsed time runs until the last one finished.
pub async fn drive<F, Fut>(concurrency: usize, duration: Duration, op: F) -> Sample
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let op = Arc::new(op);
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let op = op.clone();
            tokio::spawn(async move {
                let mut sample = Sample::default();
                while Instant::now() < deadline {
                    let began = Instant::now();
                    match op(worker).await {
                        Ok(true) => {
                            sample.completed += 1;
                            sample.latencies_us.push(began.elapsed().as_micros() as u64);
                        }
                        Ok(false) => break,
                        Err(why) => {
                            sample.failed += 1;
                            sample.first_failure.get_or_insert(why);
                        }
                    }
                }
                sample
            })
        })
        .collect();
    let mut total = Sample::default();
    for worker in workers {
        let sample = worker.await.unwrap_or_else(|e| Sample {
            failed: 1,
            first_failure: Some(format!("a worker panicked: {e}")),
            ..Sample::default()
        });
        total.completed += sample.completed;
        total.failed += sample.failed;
        if total.first_failure.is_none() {
            total.first_failure = sample.first_failure;
        }
        total.latencies_us.extend(sample.latencies_us);
    }
    total.seconds = start.elapsed().as_secs_f64();
    total
}

/// The figures of one sample.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Figures {
    /// Completed operations per second.
    pub rate: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Server CPU (user + system) per completed operation, in µs.
    pub cpu_us_per_op: f64,
    pub completed: u64,
    pub failed: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_failure: Option<String>,
}

impl Figures {
    /// The figures of `sample`, with `cpu_seconds` of server CPU spent during it.
    pub fn of(mut sample: Sample, cpu_seconds: f64) -> Figures {
        sample.latencies_us.sort_unstable();
        let per_op = |x: f64| {
            if sample.completed == 0 {
                0.0
            } else {
                x / sample.completed as f64
            }
        };
        Figures {
            rate: if sample.seconds > 0.0 {
                sample.completed as f64 / sample.seconds
            } else {
                0.0
            },
            p50_ms: percentile(&sample.latencies_us, 0.50) / 1000.0,
            p99_ms: percentile(&sample.latencies_us, 0.99) / 1000.0,
            cpu_us_per_op: per_op(cpu_seconds * 1e6),
            completed: sample.completed,
            failed: sample.failed,
            first_failure: sample.first_failure,
        }
    }

    /// The median of each figure over rounds (counts are summed).
    pub fn median(rounds: &[Figures]) -> Figures {
        let of = |f: fn(&Figures) -> f64| median(rounds.iter().map(f).collect());
        Figures {
            rate: of(|f| f.rate),
            p50_ms: of(|f| f.p50_ms),
            p99_ms: of(|f| f.p99_ms),
            cpu_us_per_op: of(|f| f.cpu_us_per_op),
            completed: rounds.iter().map(|f| f.completed).sum(),
            failed: rounds.iter().map(|f| f.failed).sum(),
            first_failure: rounds.iter().find_map(|f| f.first_failure.clone()),
        }
    }
}

/// Nearest-rank percentile of sorted values (0 when empty).
pub fn percentile(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64
}

/// The median (the mean of the middle two for an even count; 0 when empty).
pub fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_medians() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), 50.0);
        assert_eq!(percentile(&v, 0.99), 99.0);
        assert_eq!(percentile(&[7], 0.99), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
    }

    #[tokio::test]
    async fn failures_are_counted_and_not_timed() {
        let sample = drive(3, Duration::from_millis(30), |worker| async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            if worker == 0 {
                Err("refused".to_string())
            } else {
                Ok(true)
            }
        })
        .await;
        assert!(sample.failed > 0 && sample.completed > 0);
        assert_eq!(sample.latencies_us.len() as u64, sample.completed);
        assert_eq!(sample.first_failure.as_deref(), Some("refused"));
        let figures = Figures::of(sample, 0.0);
        assert!(figures.rate > 0.0);
    }

    #[tokio::test]
    async fn a_worker_with_nothing_left_stops() {
        let sample = drive(2, Duration::from_secs(30), |_| async { Ok(false) }).await;
        assert_eq!((sample.completed, sample.failed), (0, 0));
        assert!(sample.seconds < 30.0);
    }
}
