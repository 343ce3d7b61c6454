//! The only SQL in the provider. Every query is written once, in SQL that SQLite and PostgreSQL
//! both accept, and runs through sqlx's `Any` driver on one pool.

mod accounts;
mod audit;
mod client_tokens;
mod clients;
mod codes;
mod consents;
mod desk;
mod events;
mod keys;
mod outbox;
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
    insert_account,
};
pub use audit::AuditEvent;
pub use audit::audit_in;
pub use client_tokens::ClientTokenRow;
pub use clients::{ClientOptions, ClientRow, ResponseOptions};
pub use codes::{CodeRow, CodeUse};
pub use codes::{NewCode, take_code};
pub use consents::ConsentGiven;
pub use desk::{Enrolment, OfficerRow, VerificationRow};
pub use events::{EventSourceRow, NewSecurityEvent, PushRow};
pub use keys::KeyRow;
pub use outbox::{OutboxRow, enqueue};
pub use registrations::{RegistrationRow, insert_registration, release_portrait_attempt};
pub use registry::{RegistryDocumentRow, RegistryImport, RegistryPersonRow};
pub use revocation::IssuedToken;
pub use selfservice::{ConsentRow, Ended, ResetBudgetRow};
pub use sessions::{SessionClient, SessionLogin, SessionRow};
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
    pool: AnyPool,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Store {
    /// Connects (creating a SQLite file if needed); does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        install_default_drivers();
        let url = sqlite_create_mode(url);
        let sqlite = url.starts_with("sqlite:");
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL lets readers run beside the one writer; the busy timeout queues
                        // writers instead of failing them.
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
            .connect(&url)
            .await?;
        Ok(Store { pool })
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
        Ok(self.pool.begin().await?)
    }

    /// Closes the pool.
    pub async fn close(&self) {
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
