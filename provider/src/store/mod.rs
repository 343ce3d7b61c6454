//! The only SQL in the provider. Every query is written once, in SQL that SQLite and PostgreSQL
//! both accept, and runs through sqlx's `Any` driver on one pool.

mod accounts;
mod approvals;
mod audit;
mod client_tokens;
mod clients;
mod codes;
mod consents;
mod desk;
mod desk_guardian;
mod devices;
mod documents;
mod events;
mod holds;
mod keys;
mod lifecycle;
mod ops;
mod organizations;
mod outbox;
mod passkeys;
mod predicates;
mod purge;
mod registrations;
mod registry;
mod requests;
mod revocation;
mod selfservice;
mod sessions;
mod settings;
mod tokens;

pub use accounts::{
    AccountRow, DocumentRow, NewAccount, NewDocument, OrganizationRow, SecondFactorRow,
    insert_account, mark_contacts_unverified,
};
pub use approvals::{ApprovalRow, CibaClientRow, use_approval};
pub use audit::AuditEvent;
pub use audit::audit_in;
pub use client_tokens::ClientTokenRow;
pub use clients::{ClientOptions, ClientRow, ResponseOptions};
pub use codes::{CodeRow, CodeUse};
pub use codes::{NewCode, take_code};
pub use consents::ConsentGiven;
pub use desk::{Enrolment, GuardianLink, OfficerRow, VerificationRow};
pub use desk_guardian::DeskGuardianRow;
pub use devices::DeviceRow;
pub use documents::{DocumentHistoryRow, DocumentSyncChange};
pub use events::{EventSourceRow, NewSecurityEvent, PushRow};
pub use holds::{HoldRow, decide_held, hold_for_guardian, insert_guardianship, insert_hold};
pub use keys::KeyRow;
pub use lifecycle::{Downgrade, StatusChange};
pub use ops::{NotReady, OutboxBacklog, PoolStats};
pub use organizations::OrganizationAccount;
pub use outbox::{OutboxRow, enqueue};
pub use passkeys::{CeremonyKind, CeremonyRow, NewPasskey, PasskeyRow, PasskeyUse};
pub use registrations::{RegistrationRow, insert_registration, release_portrait_attempt};
pub use registry::{RegistryDocumentRow, RegistryImport, RegistryPersonRow};
pub use revocation::IssuedToken;
pub use selfservice::{ConsentRow, Ended, ResetBudgetRow};
pub use sessions::{SessionAccount, SessionClient, SessionLogin, SessionRow, add_session_client};
pub use tokens::{NewToken, RefreshUse, TokenKind, TokenRow, insert_token, take_refresh_token};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{Any, AnyPool, Transaction};

/// What went wrong in the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row that must be unique exists already.
    #[error("{0} exists already")]
    Duplicate(&'static str),
    /// A JSON column could not be read or written.
    #[error("stored JSON is invalid: {0}")]
    Json(#[from] serde_json::Error),
}

impl StoreError {
    /// Whether the database is unreachable or too busy to answer in time (no connection could
    /// be had within the pool's acquire timeout, the connection broke, the server is shutting
    /// down or refusing connections, SQLite is locked): the request gets 503 with
    /// `Retry-After`, not 500, and may be retried.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Database(err) = self else {
            return false;
        };
        match err {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // PostgreSQL: connection exceptions (08), operator intervention (57: admin or
                // crash shutdown, cannot connect now); SQLite: SQLITE_BUSY, SQLITE_LOCKED and
                // their extended codes.
                code.starts_with("08")
                    || code.starts_with("57P")
                    || matches!(code.as_ref(), "5" | "6" | "261" | "262" | "517")
            }),
            _ => false,
        }
    }
}

/// How the pool waits for the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSettings {
    /// Connections at most.
    pub max_connections: u32,
    /// How long a caller waits for a connection (a new connection's set-up included) before
    /// `PoolTimedOut`.
    pub acquire_timeout: std::time::Duration,
}

impl PoolSettings {
    /// `max_connections` with the default 2-second acquire timeout (tools, tests).
    pub fn new(max_connections: u32) -> Self {
        PoolSettings {
            max_connections,
            acquire_timeout: std::time::Duration::from_secs(2),
        }
    }
}

/// Maps a unique-constraint violation to a clear error, keeps the rest.
fn unique(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate(what),
        _ => StoreError::Database(err),
    }
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// Reads.
    pool: AnyPool,
    /// Writes and transactions. On SQLite a pool of one connection, the database's only writer:
    /// a write waits its turn in the pool's queue instead of sleeping in SQLite's busy handler
    /// (which polls with growing sleeps and made the tail latency). On PostgreSQL the same pool
    /// as the reads.
    writer: AnyPool,
    max_connections: u32,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects (creating a SQLite file if needed) with a 2-second acquire timeout; does not
    /// migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Self::connect_with(url, PoolSettings::new(max_connections)).await
    }

    /// Connects with explicit pool settings; does not migrate.
    pub async fn connect_with(url: &str, settings: PoolSettings) -> Result<Store, StoreError> {
        let PoolSettings {
            max_connections,
            acquire_timeout,
        } = settings;
        install_default_drivers();
        let url = sqlite_create_mode(url);
        let sqlite = url.starts_with("sqlite:");
        let options = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(acquire_timeout)
                // A SQLite connection is a file handle on a worker thread: pinging it before
                // each use cost one more thread hand-off per statement and finds nothing.
                .test_before_acquire(!sqlite)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if sqlite {
                            // WAL lets readers run beside the one writer; the busy timeout
                            // covers the other processes (tools) that may write.
                            sqlx::query("PRAGMA journal_mode = WAL")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA busy_timeout = 5000")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA foreign_keys = ON")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA synchronous = NORMAL")
                                .execute(&mut *conn)
                                .await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(max_connections).connect(&url).await?;
        let writer = if sqlite {
            options(1).connect(&url).await?
        } else {
            pool.clone()
        };
        Ok(Store {
            pool,
            writer,
            max_connections,
        })
    }

    /// Applies the embedded migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    /// Whether the database answers (the health endpoint).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Starts a transaction: one state change, all or nothing.
    pub async fn begin(&self) -> Result<Transaction<'static, Any>, StoreError> {
        Ok(self.writer.begin().await?)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}

/// `sqlite:PATH` creates the file when missing.
fn sqlite_create_mode(url: &str) -> String {
    if url.starts_with("sqlite:") && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_string()
    }
}
