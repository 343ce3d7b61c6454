//! argon2id password hashing on a dedicated, bounded pool.
//!
//! A hash takes tens of milliseconds of CPU and 19 MiB of memory (argon2 0.6 defaults), so it
//! never runs on the async workers nor on tokio's blocking pool (whose many threads each kept
//! their own allocator arena: 674 MiB at peak under load). Instead a [`Pool`] of as many threads
//! as configured (the cores by default) hashes, each thread reusing one memory buffer for every
//! hash; requests wait in a bounded queue, and past the queue or the wait timeout the caller gets
//! [`AppError::Busy`] (503 with `Retry-After`) at once instead of piling up.
//!
//! [`hash`] and [`verify`] use the pool of the provider serving the current request (the router
//! scopes it with [`scope`]); outside a request (seeding, tools) a process-wide pool sized to the
//! cores is used.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::phc::{Output, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use subtle::ConstantTimeEq;

use crate::error::AppError;

/// Hashes a password (PHC string with a fresh salt) on the current provider's pool.
pub async fn hash(password: String) -> Result<String, AppError> {
    current()
        .run(move |memory| hash_with(memory, &password))
        .await?
}

/// Hashes a password on the current thread (command-line tools, seeding, start-up).
pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    hash_with(&mut Memory::default(), password)
}

/// Whether a new password is acceptable: 8 to 256 characters, letters and digits, not the
/// identification number.
pub fn acceptable(new: &str, username: &str) -> bool {
    let len = new.chars().count();
    (8..=256).contains(&len)
        && new.chars().any(char::is_alphabetic)
        && new.chars().any(|c| c.is_ascii_digit())
        && !new.contains(username)
}

/// Checks a password against a stored hash on the current provider's pool.
pub async fn verify(password: String, stored: String) -> Result<bool, AppError> {
    current()
        .run(move |memory| verify_with(memory, &password, &stored))
        .await?
}

/// One worker's argon2 memory: allocated once, reused by every hash the worker makes.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    /// The first `blocks` blocks, growing the buffer only when a hash needs more than any
    /// before it (a stored hash with a higher memory cost).
    fn blocks(&mut self, blocks: usize) -> &mut [Block] {
        if self.0.len() < blocks {
            self.0.resize(blocks, Block::default());
        }
        &mut self.0[..blocks]
    }
}

fn failed(err: impl std::fmt::Display) -> AppError {
    AppError::Password(err.to_string())
}

/// argon2id with this provider's parameters (argon2 0.6 defaults: m = 19 MiB, t = 2, p = 1).
fn hash_with(memory: &mut Memory, password: &str) -> Result<String, AppError> {
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; Salt::RECOMMENDED_LENGTH];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            &salt,
            &mut out,
            memory.blocks(params.block_count()),
        )
        .map_err(failed)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(u32::from(Version::V0x13)),
        params: (&params).try_into().map_err(failed)?,
        salt: Some(Salt::new(&salt).map_err(failed)?),
        hash: Some(Output::new(&out).map_err(failed)?),
    };
    Ok(phc.to_string())
}

/// Checks `password` against a PHC string, with the parameters the string names.
fn verify_with(memory: &mut Memory, password: &str, stored: &str) -> Result<bool, AppError> {
    let phc = PasswordHash::new(stored).map_err(failed)?;
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(failed)?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(failed)?,
        None => Version::default(),
    };
    let params = Params::try_from(&phc).map_err(failed)?;
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return Err(failed("stored hash has no salt or output"));
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    argon
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt.as_ref(),
            &mut out,
            memory.blocks(params.block_count()),
        )
        .map_err(failed)?;
    Ok(bool::from(out.as_slice().ct_eq(expected.as_ref())))
}

/// The pool's size and patience.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSize {
    /// Hashing threads.
    pub threads: usize,
    /// Requests that may wait for a thread; more are refused at once.
    pub queue: usize,
    /// How long a request waits for its hash before it gives up (and the hash is skipped).
    pub wait: Duration,
}

type Task = Box<dyn FnOnce(&mut Memory) + Send>;

/// A fixed set of hashing threads fed through a bounded queue.
pub struct Pool {
    sender: SyncSender<Task>,
    size: PoolSize,
    queued: Arc<AtomicUsize>,
    wait: prometheus_client::metrics::histogram::Histogram,
}

/// The pool cannot take the work now: answer 503 with `Retry-After`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the password hashing pool is busy")]
pub struct Busy {
    /// Seconds after which trying again is sensible.
    pub retry_after: u64,
}

impl From<Busy> for AppError {
    fn from(busy: Busy) -> Self {
        AppError::Busy {
            retry_after: busy.retry_after,
        }
    }
}

impl Pool {
    /// Starts `size.threads` threads (at least one), each with its own reusable memory.
    pub fn new(size: PoolSize) -> Self {
        let size = PoolSize {
            threads: size.threads.max(1),
            ..size
        };
        let (sender, receiver) = sync_channel::<Task>(size.queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let queued = Arc::new(AtomicUsize::new(0));
        for n in 0..size.threads {
            let receiver = receiver.clone();
            let queued = queued.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || worker(&receiver, &queued));
            if let Err(err) = spawned {
                tracing::error!(error = %err, "cannot start a password hashing thread");
            }
        }
        Pool {
            sender,
            size,
            queued,
            wait: crate::metrics::wait_histogram(),
        }
    }

    /// The size it was made with.
    pub fn size(&self) -> PoolSize {
        self.size
    }

    /// Requests waiting for a thread now (for metrics).
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// The time hashes waited for a thread (for metrics; shared, cheap to clone).
    pub fn wait_histogram(&self) -> prometheus_client::metrics::histogram::Histogram {
        self.wait.clone()
    }

    fn busy(&self) -> Busy {
        Busy {
            retry_after: self.size.wait.as_secs().max(1),
        }
    }

    /// Runs `work` on a pool thread. Refused at once when the queue is full; gives up after
    /// the wait timeout (a request that gave up is skipped, not hashed for nobody).
    pub async fn run<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> R + Send + 'static,
    ) -> Result<R, Busy> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let enqueued = Instant::now();
        let deadline = enqueued + self.size.wait;
        let wait = self.wait.clone();
        let task: Task = Box::new(move |memory| {
            wait.observe(enqueued.elapsed().as_secs_f64());
            if reply.is_closed() || Instant::now() >= deadline {
                return;
            }
            let _ = reply.send(work(memory));
        });
        self.queued.fetch_add(1, Ordering::Relaxed);
        match self.sender.try_send(task) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                tracing::warn!(queue = self.size.queue, "password hashing queue full");
                return Err(self.busy());
            }
        }
        match tokio::time::timeout(self.size.wait, answer).await {
            Ok(Ok(result)) => Ok(result),
            // Skipped at the deadline, or the worker died.
            Ok(Err(_)) | Err(_) => {
                tracing::warn!("password hashing wait timed out");
                Err(self.busy())
            }
        }
    }
}

fn worker(receiver: &Mutex<Receiver<Task>>, queued: &AtomicUsize) {
    let mut memory = Memory::default();
    loop {
        let task = {
            let Ok(receiver) = receiver.lock() else {
                return;
            };
            match receiver.recv() {
                Ok(task) => task,
                // The pool was dropped.
                Err(_) => return,
            }
        };
        queued.fetch_sub(1, Ordering::Relaxed);
        task(&mut memory);
    }
}

tokio::task_local! {
    static POOL: Arc<Pool>;
}

/// Runs `future` with `pool` as the pool of [`hash`] and [`verify`] (the router does this for
/// every request, with the serving provider's pool).
pub fn scope<F: Future>(pool: Arc<Pool>, future: F) -> impl Future<Output = F::Output> {
    POOL.scope(pool, future)
}

/// The number of cores, the default number of hashing threads.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

fn current() -> Arc<Pool> {
    POOL.try_with(Arc::clone).unwrap_or_else(|_| {
        static DEFAULT: OnceLock<Arc<Pool>> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Arc::new(Pool::new(PoolSize {
                    threads: cores(),
                    queue: 64,
                    wait: Duration::from_secs(30),
                }))
            })
            .clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(threads: usize, queue: usize, wait_ms: u64) -> Pool {
        Pool::new(PoolSize {
            threads,
            queue,
            wait: Duration::from_millis(wait_ms),
        })
    }

    #[test]
    fn hashes_verify_and_stay_compatible_with_the_argon2_crate() {
        let mut memory = Memory::default();
        let ours = hash_with(&mut memory, "Demo@2026").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        assert!(verify_with(&mut memory, "Demo@2026", &ours).unwrap());
        assert!(!verify_with(&mut memory, "Demo@2027", &ours).unwrap());
        // The same buffer, reused, gives the same answers; and hashes made by the crate's own
        // API (every hash stored before the pool) verify.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"Demo@2026")
            .unwrap()
            .to_string();
        assert!(verify_with(&mut memory, "Demo@2026", &theirs).unwrap());
        assert!(!verify_with(&mut memory, "demo@2026", &theirs).unwrap());
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"Demo@2026", &parsed)
                .is_ok()
        );
        assert_ne!(
            ours,
            hash_with(&mut memory, "Demo@2026").unwrap(),
            "fresh salt"
        );
        assert!(verify_with(&mut memory, "x", "not a hash").is_err());
    }

    /// Occupies one thread of `pool` until the returned sender is used (or dropped).
    async fn occupy(
        pool: &Arc<Pool>,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<(), Busy>>,
    ) {
        let (release, blocked) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = tokio::sync::oneshot::channel();
        let pool = pool.clone();
        let running = tokio::spawn(async move {
            pool.run(move |_| {
                let _ = started_tx.send(());
                blocked.recv().ok();
            })
            .await
        });
        started.await.unwrap();
        (release, running)
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = Arc::new(pool(1, 1, 10_000));
        // The one thread is busy until released...
        let (release, first) = occupy(&pool).await;
        // ...one request waits in the queue...
        let waiting = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|_| 2).await })
        };
        while pool.queued() < 1 {
            tokio::task::yield_now().await;
        }
        // ...and the next is refused without waiting.
        assert_eq!(
            pool.run(|_| 3).await,
            Err(Busy { retry_after: 10 }),
            "queue full"
        );
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), Ok(()));
        assert_eq!(waiting.await.unwrap(), Ok(2));
        assert_eq!(pool.run(|_| 4).await, Ok(4), "room again");
    }

    #[tokio::test]
    async fn a_request_that_waited_too_long_gives_up_and_is_not_computed() {
        let pool = Arc::new(pool(1, 4, 200));
        let (release, busy) = occupy(&pool).await;
        let computed = Arc::new(AtomicUsize::new(0));
        let counter = computed.clone();
        let late = pool
            .run(move |_| counter.fetch_add(1, Ordering::SeqCst))
            .await;
        assert_eq!(late, Err(Busy { retry_after: 1 }));
        release.send(()).unwrap();
        // The first job ran (its caller may or may not have given up by then)...
        let _ = busy.await.unwrap();
        // ...the late one is skipped: the pool has moved past it, and it never ran.
        assert_eq!(pool.run(|_| 5).await, Ok(5));
        assert_eq!(computed.load(Ordering::SeqCst), 0, "skipped, not hashed");
    }

    #[tokio::test]
    async fn hash_and_verify_use_the_scoped_pool() {
        let pool = Arc::new(pool(1, 1, 10_000));
        let (release, hog) = occupy(&pool).await;
        let queued = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|_| ()).await })
        };
        while pool.queued() < 1 {
            tokio::task::yield_now().await;
        }
        // The only thread busy and the queue full: a hash in this pool's scope is refused.
        let refused = scope(pool.clone(), hash("Demo@2026".into())).await;
        assert!(matches!(refused, Err(AppError::Busy { .. })), "{refused:?}");
        release.send(()).unwrap();
        hog.await.unwrap().unwrap();
        queued.await.unwrap().unwrap();
        let stored = scope(pool.clone(), hash("Demo@2026".into())).await.unwrap();
        assert!(
            scope(pool, verify("Demo@2026".into(), stored.clone()))
                .await
                .unwrap()
        );
        // Outside any scope, the process-wide pool.
        assert!(!verify("wrong".into(), stored).await.unwrap());
    }

    #[test]
    fn acceptable_passwords() {
        assert!(acceptable("Mat-khau-2026", "001095000001"));
        assert!(!acceptable("short1", "001095000001"));
        assert!(!acceptable("onlyletters", "001095000001"));
        assert!(!acceptable("x001095000001y", "001095000001"));
    }
}
