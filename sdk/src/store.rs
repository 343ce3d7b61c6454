//! Where an app keeps its [`Session`]s, so that a back-channel logout can end them: a trait,
//! an in-memory store (one process), and with the `sqlx-sqlite` feature a SQLite store.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use crate::error::BoxError;
use crate::tokens::Session;

/// A store's answer.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BoxError>> + Send + 'a>>;

/// The app's sessions, by [`Session::id`].
pub trait SessionStore: Send + Sync {
    /// Saves (or replaces) a session.
    fn save<'a>(&'a self, session: &'a Session) -> StoreFuture<'a, ()>;
    /// The session with this id, if it was not ended.
    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Session>>;
    /// Ends one session (the app's own logout); whether it existed.
    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool>;
    /// Ends the sessions a logout token names: those with `sid` (and `sub`, when both are
    /// given), or every session of `sub` when there is no `sid`. Returns how many ended.
    fn end_matching<'a>(
        &'a self,
        sid: Option<&'a str>,
        sub: Option<&'a str>,
    ) -> StoreFuture<'a, u64>;
}

/// Whether `session` is one a logout token with `sid` and `sub` names.
fn matches(session: &Session, sid: Option<&str>, sub: Option<&str>) -> bool {
    match (sid, sub) {
        (Some(sid), sub) => {
            session.sid.as_deref() == Some(sid) && sub.is_none_or(|s| s == session.subject)
        }
        (None, Some(sub)) => session.subject == sub,
        (None, None) => false,
    }
}

/// Sessions in this process's memory.
#[derive(Default)]
pub struct MemorySessionStore {
    sessions: Mutex<HashMap<String, Session>>,
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl SessionStore for MemorySessionStore {
    fn save<'a>(&'a self, session: &'a Session) -> StoreFuture<'a, ()> {
        self.map().insert(session.id.clone(), session.clone());
        Box::pin(async { Ok(()) })
    }

    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Session>> {
        let found = self.map().get(id).cloned();
        Box::pin(async { Ok(found) })
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        let existed = self.map().remove(id).is_some();
        Box::pin(async move { Ok(existed) })
    }

    fn end_matching<'a>(
        &'a self,
        sid: Option<&'a str>,
        sub: Option<&'a str>,
    ) -> StoreFuture<'a, u64> {
        let mut map = self.map();
        let before = map.len();
        map.retain(|_, s| !matches(s, sid, sub));
        let ended = (before - map.len()) as u64;
        Box::pin(async move { Ok(ended) })
    }
}

/// Sessions in a SQLite database (table `vneid_rp_sessions`, created if missing), shared by
/// the app's processes on one host.
#[cfg(feature = "sqlx-sqlite")]
pub struct SqlSessionStore {
    pool: sqlx::SqlitePool,
}

#[cfg(feature = "sqlx-sqlite")]
impl SqlSessionStore {
    /// Uses `pool`, creating the table if it is missing.
    pub async fn new(pool: sqlx::SqlitePool) -> Result<Self, BoxError> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS vneid_rp_sessions (
                id TEXT PRIMARY KEY NOT NULL,
                subject TEXT NOT NULL,
                sid TEXT,
                data TEXT NOT NULL
            )",
        )
        .execute(&pool)
        .await?;
        sqlx::query("CREATE INDEX IF NOT EXISTS vneid_rp_sessions_sid ON vneid_rp_sessions (sid)")
            .execute(&pool)
            .await?;
        sqlx::query(
            "CREATE INDEX IF NOT EXISTS vneid_rp_sessions_subject ON vneid_rp_sessions (subject)",
        )
        .execute(&pool)
        .await?;
        Ok(SqlSessionStore { pool })
    }
}

#[cfg(feature = "sqlx-sqlite")]
impl SessionStore for SqlSessionStore {
    fn save<'a>(&'a self, session: &'a Session) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let data = serde_json::to_string(session)?;
            sqlx::query(
                "INSERT INTO vneid_rp_sessions (id, subject, sid, data) VALUES (?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET subject = excluded.subject, sid = excluded.sid,
                 data = excluded.data",
            )
            .bind(&session.id)
            .bind(&session.subject)
            .bind(&session.sid)
            .bind(data)
            .execute(&self.pool)
            .await?;
            Ok(())
        })
    }

    fn load<'a>(&'a self, id: &'a str) -> StoreFuture<'a, Option<Session>> {
        Box::pin(async move {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT data FROM vneid_rp_sessions WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
            Ok(match row {
                Some((data,)) => Some(serde_json::from_str(&data)?),
                None => None,
            })
        })
    }

    fn remove<'a>(&'a self, id: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM vneid_rp_sessions WHERE id = ?")
                .bind(id)
                .execute(&self.pool)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn end_matching<'a>(
        &'a self,
        sid: Option<&'a str>,
        sub: Option<&'a str>,
    ) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let done = match (sid, sub) {
                (Some(sid), Some(sub)) => {
                    sqlx::query("DELETE FROM vneid_rp_sessions WHERE sid = ? AND subject = ?")
                        .bind(sid)
                        .bind(sub)
                        .execute(&self.pool)
                        .await?
                }
                (Some(sid), None) => {
                    sqlx::query("DELETE FROM vneid_rp_sessions WHERE sid = ?")
                        .bind(sid)
                        .execute(&self.pool)
                        .await?
                }
                (None, Some(sub)) => {
                    sqlx::query("DELETE FROM vneid_rp_sessions WHERE subject = ?")
                        .bind(sub)
                        .execute(&self.pool)
                        .await?
                }
                (None, None) => return Ok(0),
            };
            Ok(done.rows_affected())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokens::Tokens;

    fn session(sub: &str, sid: Option<&str>) -> Session {
        let mut s = Session::new(sub.into(), "t".into(), Tokens::default());
        s.sid = sid.map(str::to_string);
        s
    }

    async fn exercise(store: &dyn SessionStore) {
        let a = session("u1", Some("s1"));
        let b = session("u1", Some("s2"));
        let c = session("u2", Some("s1"));
        for s in [&a, &b, &c] {
            store.save(s).await.unwrap();
        }
        assert_eq!(store.load(&a.id).await.unwrap().as_ref(), Some(&a));
        assert_eq!(store.end_matching(None, None).await.unwrap(), 0);
        assert_eq!(store.end_matching(Some("s1"), Some("u1")).await.unwrap(), 1);
        assert!(store.load(&a.id).await.unwrap().is_none());
        assert!(
            store.load(&c.id).await.unwrap().is_some(),
            "another subject's sid"
        );
        assert_eq!(store.end_matching(None, Some("u1")).await.unwrap(), 1);
        assert!(store.load(&b.id).await.unwrap().is_none());
        assert!(store.remove(&c.id).await.unwrap());
        assert!(!store.remove(&c.id).await.unwrap());
    }

    #[tokio::test]
    async fn the_memory_store_ends_what_a_logout_token_names() {
        exercise(&MemorySessionStore::new()).await;
    }

    #[cfg(feature = "sqlx-sqlite")]
    #[tokio::test]
    async fn the_sqlite_store_ends_what_a_logout_token_names() {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        exercise(&SqlSessionStore::new(pool).await.unwrap()).await;
    }
}
