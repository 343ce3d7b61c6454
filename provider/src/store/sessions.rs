//! Browser sessions at the provider. The cookie holds a random id; the table holds its hash.
//! A logged-in session also has a `sid` (the ID token's claim, stable while the session lasts)
//! and the clients it logged in to, told by a logout token when it ends.

use sqlx::AnyConnection;

use super::outbox::enqueue;
use super::{Store, StoreError};

/// A browser session; `account_id` is set once somebody has logged in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub csrf: String,
    pub account_id: Option<String>,
    pub level: Option<i64>,
    pub amr: Option<String>,
    pub auth_time: Option<i64>,
    /// The session id of ID tokens (`sid`), set at login.
    pub sid: Option<String>,
}

/// The account a session's login is for, as far as the session needs it (read with the session
/// in one statement; never the password hash or the portrait).
#[derive(Debug, Clone)]
pub struct SessionAccount {
    pub username: String,
    pub level: i64,
    pub kind: String,
    pub status: String,
    pub must_change_password: bool,
    /// A TOTP secret is enrolled.
    pub has_totp: bool,
}

#[derive(sqlx::FromRow)]
struct SessionJoinRow {
    #[sqlx(flatten)]
    session: SessionRow,
    a_username: Option<String>,
    a_level: Option<i64>,
    a_kind: Option<String>,
    a_status: Option<String>,
    a_must_change_password: Option<i64>,
    a_has_totp: Option<i64>,
}

/// A client a session logged in to, with the subject it knows the citizen by.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionClient {
    pub sid: String,
    pub client_id: String,
    pub sub: String,
    /// The client's back-channel logout endpoint, if it registered one.
    pub backchannel_logout_uri: Option<String>,
    /// The algorithm of the client's ID tokens (its logout tokens are signed alike).
    pub signing_alg: String,
}

/// Who logged in, how, and when: what a login writes into a fresh session.
#[derive(Debug, Clone)]
pub struct SessionLogin<'a> {
    pub account_id: &'a str,
    pub level: i64,
    pub amr: &'a str,
    pub auth_time: i64,
    /// A fresh `sid`, used unless the session being replaced belonged to the same account (a
    /// new login of the same citizen in the same browser keeps the session's `sid`).
    pub sid: &'a str,
}

const CLIENTS_OF_SID: &str = "SELECT s.sid, s.client_id, s.sub, c.backchannel_logout_uri, \
    c.signing_alg FROM session_clients s JOIN clients c ON c.id = s.client_id \
    WHERE s.sid = $1 ORDER BY s.client_id";

/// Inside the caller's transaction, as the session `sid` ends: a logout token in the outbox for
/// each client it logged in to that registered an endpoint; the session's clients forgotten.
/// Returns the clients told.
async fn logout_notices_for_session(
    conn: &mut AnyConnection,
    sid: &str,
    now: i64,
) -> Result<Vec<String>, StoreError> {
    let clients: Vec<SessionClient> = sqlx::query_as(CLIENTS_OF_SID)
        .bind(sid)
        .fetch_all(&mut *conn)
        .await?;
    let mut told = Vec::new();
    for client in &clients {
        if let Some(row) = crate::oidc::backchannel::notice(client, now) {
            enqueue(&mut *conn, &row).await?;
            told.push(client.client_id.clone());
        }
    }
    sqlx::query("DELETE FROM session_clients WHERE sid = $1")
        .bind(sid)
        .execute(&mut *conn)
        .await?;
    Ok(told)
}

/// Inside the caller's transaction, before it deletes the sessions of `account_id` (all but
/// `keep`, an id hash): puts a logout token in the outbox for each client those sessions logged
/// in to (an officer's lock or revocation, a password change). Returns how many.
pub async fn logout_notices_for_account(
    conn: &mut AnyConnection,
    account_id: &str,
    keep: Option<&str>,
    now: i64,
) -> Result<usize, StoreError> {
    let clients: Vec<SessionClient> = sqlx::query_as(
        "SELECT s.sid, s.client_id, s.sub, c.backchannel_logout_uri, c.signing_alg \
         FROM session_clients s JOIN clients c ON c.id = s.client_id \
         JOIN browser_sessions b ON b.sid = s.sid \
         WHERE b.account_id = $1 AND b.id_hash <> $2 ORDER BY s.sid, s.client_id",
    )
    .bind(account_id)
    .bind(keep.unwrap_or(""))
    .fetch_all(&mut *conn)
    .await?;
    let mut told = 0;
    for client in &clients {
        if let Some(row) = crate::oidc::backchannel::notice(client, now) {
            enqueue(&mut *conn, &row).await?;
            told += 1;
        }
        sqlx::query("DELETE FROM session_clients WHERE sid = $1 AND client_id = $2")
            .bind(&client.sid)
            .bind(&client.client_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(told)
}

impl Store {
    /// Starts an anonymous session (it carries the CSRF token of the login form).
    pub async fn create_session(
        &self,
        id_hash: &str,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO browser_sessions (id_hash, csrf, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(csrf)
        .bind(now)
        .bind(expires_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// The live session with this id hash.
    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<SessionRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id_hash, csrf, account_id, level, amr, auth_time, sid FROM browser_sessions \
             WHERE id_hash = $1 AND expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The live session with this id hash and its account, in one statement (every request of a
    /// returning citizen reads it).
    pub async fn session_with_account(
        &self,
        id_hash: &str,
        now: i64,
    ) -> Result<Option<(SessionRow, Option<SessionAccount>)>, StoreError> {
        let row: Option<SessionJoinRow> = sqlx::query_as(
            "SELECT s.id_hash, s.csrf, s.account_id, s.level, s.amr, s.auth_time, s.sid, \
             a.username AS a_username, a.level AS a_level, a.kind AS a_kind, \
             a.status AS a_status, a.must_change_password AS a_must_change_password, \
             CASE WHEN a.totp_secret IS NULL THEN 0 ELSE 1 END AS a_has_totp \
             FROM browser_sessions s LEFT JOIN accounts a ON a.id = s.account_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| {
            let account = match (r.a_username, r.a_level, r.a_kind, r.a_status) {
                (Some(username), Some(level), Some(kind), Some(status)) => Some(SessionAccount {
                    username,
                    level,
                    kind,
                    status,
                    must_change_password: r.a_must_change_password.unwrap_or(0) != 0,
                    has_totp: r.a_has_totp.unwrap_or(0) != 0,
                }),
                _ => None,
            };
            (r.session, account)
        }))
    }

    /// Replaces a session with a new one holding a login: the session id changes at every login
    /// (no fixation), in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn renew_session(
        &self,
        old_id_hash: &str,
        new_id_hash: &str,
        csrf: &str,
        login: &SessionLogin<'_>,
        now: i64,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let old: Option<(Option<String>, Option<String>)> =
            sqlx::query_as("SELECT account_id, sid FROM browser_sessions WHERE id_hash = $1")
                .bind(old_id_hash)
                .fetch_optional(&mut *tx)
                .await?;
        let sid = match old {
            Some((Some(account), Some(sid))) if account == login.account_id => sid,
            // Another citizen logs in over a live login: that session ends, and is told.
            Some((Some(_), Some(old_sid))) => {
                logout_notices_for_session(&mut tx, &old_sid, now).await?;
                login.sid.to_string()
            }
            _ => login.sid.to_string(),
        };
        sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
            .bind(old_id_hash)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE session_clients SET expires_at = $2 WHERE sid = $1")
            .bind(&sid)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO browser_sessions (id_hash, csrf, account_id, level, amr, auth_time, \
             created_at, expires_at, sid) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(new_id_hash)
        .bind(csrf)
        .bind(login.account_id)
        .bind(login.level)
        .bind(login.amr)
        .bind(login.auth_time)
        .bind(now)
        .bind(expires_at)
        .bind(&sid)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The clients the session `sid` logged in to.
    pub async fn session_clients(&self, sid: &str) -> Result<Vec<SessionClient>, StoreError> {
        Ok(sqlx::query_as(CLIENTS_OF_SID)
            .bind(sid)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Ends a session and, in the same transaction, puts in the outbox a logout token for each
    /// client it logged in to that registered a back-channel endpoint. Returns the clients told.
    pub async fn end_session(&self, id_hash: &str, now: i64) -> Result<Vec<String>, StoreError> {
        let mut tx = self.begin().await?;
        let sid: Option<(Option<String>,)> =
            sqlx::query_as("DELETE FROM browser_sessions WHERE id_hash = $1 RETURNING sid")
                .bind(id_hash)
                .fetch_optional(&mut *tx)
                .await?;
        let told = match sid {
            Some((Some(sid),)) => logout_notices_for_session(&mut tx, &sid, now).await?,
            _ => Vec::new(),
        };
        tx.commit().await?;
        Ok(told)
    }

    /// Ends a session (logout).
    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM browser_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}

/// Records, inside the caller's transaction (the token grant's), that the live session `sid`
/// logged in to `client_id`, known there as `sub` (nothing when the session has ended meanwhile;
/// once per client): its end will be told to the client.
pub async fn add_session_client(
    conn: &mut AnyConnection,
    sid: &str,
    client_id: &str,
    sub: &str,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO session_clients (sid, client_id, sub, created_at, expires_at) \
         SELECT $1, $2, $3, $4, expires_at FROM browser_sessions \
         WHERE sid = $1 AND expires_at > $4 \
         ON CONFLICT (sid, client_id) DO NOTHING",
    )
    .bind(sid)
    .bind(client_id)
    .bind(sub)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
