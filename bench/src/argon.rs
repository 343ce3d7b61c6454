//! The raw argon2id hash rate with our provider's parameters (read from a hash it stored), on
//! one thread and on every core: the ceiling of password logins on this machine.

use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Version};
use serde::Serialize;

/// argon2id cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Params {
    /// Memory, KiB.
    pub m: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Params {
    /// The parameters of a PHC string such as `$argon2id$v=19$m=19456,t=2,p=1$salt$hash`.
    pub fn of_phc(phc: &str) -> Option<Params> {
        let mut parts = phc.split('$');
        if parts.nth(1)? != "argon2id" {
            return None;
        }
        let (mut m, mut t, mut p) = (None, None, None);
        for segment in parts.take(2) {
            for kv in segment.split(',') {
                match kv.split_once('=') {
                    Some(("m", v)) => m = v.parse().ok(),
                    Some(("t", v)) => t = v.parse().ok(),
                    Some(("p", v)) => p = v.parse().ok(),
                    _ => {}
                }
            }
        }
        Some(Params {
            m: m?,
            t: t?,
            p: p?,
        })
    }
}

/// Hashes per second on `threads` threads for `duration` (each hash allocates its memory, as a
/// login does).
pub fn rate(params: Params, threads: usize, duration: Duration) -> Result<f64, String> {
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        argon2::Params::new(params.m, params.t, params.p, Some(32)).map_err(|e| e.to_string())?,
    );
    let start = Instant::now();
    let deadline = start + duration;
    let hashes: Result<u64, String> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut out = [0u8; 32];
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        argon
                            .hash_password_into(b"Demo@2026", b"a-sixteen-b-salt", &mut out)
                            .map_err(|e| e.to_string())?;
                        n += 1;
                    }
                    Ok::<u64, String>(n)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .map_err(|_| "an argon2 thread panicked".to_string())?
            })
            .sum()
    });
    Ok(hashes? as f64 / start.elapsed().as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parameters_come_from_the_stored_hash() {
        let phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo";
        assert_eq!(
            Params::of_phc(phc),
            Some(Params {
                m: 19456,
                t: 2,
                p: 1
            })
        );
        assert_eq!(Params::of_phc("$argon2i$v=19$m=1,t=1,p=1$x$y"), None);
        assert_eq!(Params::of_phc("not a hash"), None);
    }

    #[test]
    fn the_rate_counts_hashes() {
        let small = Params { m: 64, t: 1, p: 1 };
        let r = rate(small, 2, Duration::from_millis(50)).expect("a rate");
        assert!(r > 0.0);
    }
}
