//! Example bank eKYC (client `demo-bank-fapi` on http://127.0.0.1:3002, a FAPI 2.0 client:
//! pushed authorization requests, `private_key_jwt` with `keys/signing-key.pem`, DPoP-bound
//! tokens, and an ID token encrypted to `keys/encryption-key.pem`): "Open an account" needs a
//! Level 2 login with the `documents` scope; it shows the verified identity that replaced the ID
//! card and keeps an eKYC record in SQLite with the ID token and the signed eKYC receipt (scope
//! `ekyc_receipt`) as evidence, beside the provider's key history. "Check an archived eKYC
//! record" (`/records/{id}/check`) re-verifies the receipt offline, years later, whatever keys
//! the provider uses then. Uses only the SDK's public API. Run beside the demo provider:
//!
//! ```sh
//! cargo run --release -p vneid-provider -- demo      # terminal 1
//! cargo run --release -p bank-ekyc                   # terminal 2, then open http://127.0.0.1:3002
//! ```

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{FromRef, Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Key, PrivateCookieJar};
use sqlx::SqlitePool;
use vneid_sdk::axum::VneidAuth;
use vneid_sdk::{
    ClientCredentials, DpopKey, KeyHistory, Level, ScopeSet, SdkError, VerifiedIdentity,
    VneidClient, verify_receipt,
};

/// The bank's client at the demo provider (README: an addition to the contract's clients).
pub const CLIENT_ID: &str = "demo-bank-fapi";
/// The `kid` of the bank's signing key, registered with the provider.
const SIGNING_KEY_ID: &str = "demo-bank-fapi-sig";
/// The bank's `private_key_jwt` key (public in this repository: a demo key, never a real one).
const SIGNING_KEY: &str = include_str!("../keys/signing-key.pem");
/// The key the provider encrypts the bank's ID tokens to (ECDH-ES+A256KW, A256GCM).
const DECRYPTION_KEY: &str = include_str!("../keys/encryption-key.pem");

/// The bank's state.
#[derive(Clone)]
pub struct Bank {
    auth: VneidAuth,
    db: SqlitePool,
}

impl FromRef<Bank> for VneidAuth {
    fn from_ref(b: &Bank) -> VneidAuth {
        b.auth.clone()
    }
}

impl FromRef<Bank> for Key {
    fn from_ref(b: &Bank) -> Key {
        b.auth.key().clone()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    user: Option<String>,
}

/// An eKYC record as shown.
pub struct RecordView {
    pub id: String,
    pub name: String,
    pub id_number: String,
    pub birthdate: String,
    pub level: String,
    pub documents: Vec<String>,
    pub portrait: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "record.html")]
struct RecordPage {
    user: Option<String>,
    record: RecordView,
}

/// The outcome of re-verifying an archived receipt.
pub struct CheckView {
    pub id: String,
    /// `None`: the receipt is genuine; otherwise why not.
    pub problem: Option<String>,
    pub txn: String,
    pub kid: String,
    pub issued: String,
    pub level: String,
    pub methods: String,
    pub claims: Vec<(String, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "check.html")]
struct CheckPage {
    user: Option<String>,
    check: CheckView,
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
struct MessagePage {
    user: Option<String>,
    title: String,
    message: String,
    error: bool,
}

fn scopes(_level: Level) -> ScopeSet {
    ScopeSet::parse("openid profile identity_number documents portrait ekyc_receipt")
        .unwrap_or_default()
}

/// Builds the bank for the provider at `issuer`; `base` is the bank's own URL; `database_url`
/// where the eKYC records go (`sqlite:bank-ekyc.db?mode=rwc`).
pub async fn app(
    issuer: &str,
    base: &str,
    database_url: &str,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let client = VneidClient::discover(
        issuer,
        CLIENT_ID,
        ClientCredentials::PrivateKeyJwt {
            key_id: SIGNING_KEY_ID.into(),
            private_key_pem: SIGNING_KEY.into(),
        },
        &format!("{base}/callback"),
    )
    .await?
    // A fresh DPoP key per run: the bank keeps no token past the login (no refresh).
    .with_dpop(DpopKey::generate()?)
    .with_decryption_key(DECRYPTION_KEY)?;
    let db = SqlitePool::connect(database_url).await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS ekyc_records (id TEXT PRIMARY KEY, subject TEXT NOT NULL, name TEXT NOT NULL, \
         id_number TEXT NOT NULL, birthdate TEXT NOT NULL, level TEXT NOT NULL, documents TEXT NOT NULL, \
         portrait TEXT, id_token TEXT NOT NULL, created_at INTEGER NOT NULL)",
    )
    .execute(&db)
    .await?;
    // The signed receipt and the key history it is checked against, archived together.
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS ekyc_receipts (record_id TEXT PRIMARY KEY, receipt TEXT NOT NULL, \
         key_history TEXT NOT NULL)",
    )
    .execute(&db)
    .await?;
    let bank = Bank {
        auth: VneidAuth::new(client, Key::generate(), scopes),
        db,
    };
    Ok(Router::new()
        .route("/", get(home))
        .route("/open", get(open))
        .route("/callback", get(callback))
        .route("/records/{id}", get(record))
        .route("/records/{id}/check", get(check))
        .route("/logged-out", get(home))
        .route("/logout", get(|| async { Redirect::to("/") }))
        .with_state(bank))
}

async fn home() -> impl IntoResponse {
    HomePage { user: None }
}

/// Opening an account always asks for a fresh Level 2 login with the documents, pushed to the
/// provider first (FAPI 2.0).
async fn open(State(b): State<Bank>, jar: PrivateCookieJar) -> Response {
    match b.auth.start_pushed(jar, Level::Level2, "/").await {
        Ok(redirect) => redirect.into_response(),
        Err(error) => {
            tracing::error!(error = %error, "the pushed authorization request failed");
            let text =
                format!("Không bắt đầu được đăng nhập VNeID; hãy thử lại sau ít phút. ({error})");
            message("Không kết nối được VNeID", text).into_response()
        }
    }
}

fn message(title: &str, message: String) -> MessagePage {
    MessagePage {
        user: None,
        title: title.into(),
        message,
        error: true,
    }
}

async fn callback(State(b): State<Bank>, jar: PrivateCookieJar, uri: Uri) -> Response {
    let (jar, identity) = match b.auth.finish(jar, uri.query().unwrap_or("")).await {
        Ok((jar, identity, _)) => (jar, identity),
        Err((jar, SdkError::InsufficientLevel { .. })) => {
            let text = "Mở tài khoản cần tài khoản định danh điện tử mức độ 2. Hãy đến Công an xã, phường cùng thẻ căn cước để nâng cấp.";
            return (jar, message("Chưa đủ mức xác thực", text.into())).into_response();
        }
        Err((jar, error)) => {
            return (jar, message("Không xác minh được", error.to_string())).into_response();
        }
    };
    match keep_record(&b.db, &identity).await {
        Ok(id) => (jar, Redirect::to(&format!("/records/{id}"))).into_response(),
        Err(error) => (jar, message("Không lưu được hồ sơ", error)).into_response(),
    }
}

/// Stores the eKYC record in one transaction: what was verified, the signed ID token, and the
/// signed receipt with the provider's key history (to check it offline later).
async fn keep_record(db: &SqlitePool, identity: &VerifiedIdentity) -> Result<String, String> {
    let Some(pin) = identity.person.personal_id_number.as_ref() else {
        return Err("the login released no personal identification number".into());
    };
    let id = format!(
        "ekyc-{}-{}",
        identity.subject.chars().take(8).collect::<String>(),
        identity.auth_time.unwrap_or(0)
    );
    let documents = serde_json::to_string(&identity.documents).map_err(|e| e.to_string())?;
    let level = identity.level.map(|l| l.acr()).unwrap_or("").to_string();
    let birthdate = identity
        .person
        .birthdate
        .map(|d| d.to_string())
        .unwrap_or_default();
    let Some(receipt) = identity.receipt.as_ref() else {
        return Err("the login brought no signed eKYC receipt".into());
    };
    let mut tx = db.begin().await.map_err(|e| e.to_string())?;
    sqlx::query(
        "INSERT OR REPLACE INTO ekyc_records (id, subject, name, id_number, birthdate, level, documents, portrait, \
         id_token, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%s','now'))",
    )
    .bind(&id)
    .bind(&identity.subject)
    .bind(identity.full_name().unwrap_or_default())
    .bind(pin.as_str())
    .bind(birthdate)
    .bind(level)
    .bind(documents)
    .bind(&identity.portrait)
    .bind(&identity.id_token)
    .execute(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    sqlx::query(
        "INSERT OR REPLACE INTO ekyc_receipts (record_id, receipt, key_history) VALUES (?, ?, ?)",
    )
    .bind(&id)
    .bind(&receipt.jws)
    .bind(receipt.key_history.json())
    .execute(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())?;
    Ok(id)
}

type RecordRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

async fn record(State(b): State<Bank>, Path(id): Path<String>) -> Response {
    let row: Option<RecordRow> = sqlx::query_as(
        "SELECT id, name, id_number, birthdate, level, documents, portrait FROM ekyc_records WHERE id = ?",
    )
    .bind(&id)
    .fetch_optional(&b.db)
    .await
    .ok()
    .flatten();
    let Some((id, name, id_number, birthdate, level, documents, portrait)) = row else {
        return message("Không tìm thấy", "Không có hồ sơ này.".into()).into_response();
    };
    let documents: Vec<vneid_sdk::Document> = serde_json::from_str(&documents).unwrap_or_default();
    let documents = documents
        .iter()
        .map(|d| {
            format!(
                "{}: {}",
                d.doc_type.description(vneid_sdk::Lang::Vi),
                d.number
            )
        })
        .collect();
    let level = if level == Level::Level2.acr() {
        "Mức độ 2".to_string()
    } else {
        level
    };
    RecordPage {
        user: Some(name.clone()),
        record: RecordView {
            id,
            name,
            id_number,
            birthdate,
            level,
            documents,
            portrait,
        },
    }
    .into_response()
}

/// "Check an archived eKYC record": re-verifies the stored receipt against the stored key
/// history, with no call to the provider, and that it is this record's (same subject, this
/// bank).
async fn check(State(b): State<Bank>, Path(id): Path<String>) -> Response {
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT r.subject, e.receipt, e.key_history FROM ekyc_records r \
         JOIN ekyc_receipts e ON e.record_id = r.id WHERE r.id = ?",
    )
    .bind(&id)
    .fetch_optional(&b.db)
    .await
    .ok()
    .flatten();
    let Some((subject, receipt, key_history)) = row else {
        return message(
            "Không tìm thấy",
            "Không có biên nhận eKYC cho hồ sơ này.".into(),
        )
        .into_response();
    };
    let checked = KeyHistory::from_json(&key_history)
        .and_then(|history| verify_receipt(&receipt, &history))
        .map_err(|e| e.to_string())
        .and_then(|r| {
            if r.claims.sub != subject {
                Err("the receipt is for another person than this record".to_string())
            } else if r.claims.aud != b.auth.client().client_id() {
                Err("the receipt was issued to another service".to_string())
            } else {
                Ok(r)
            }
        });
    let view = match checked {
        Ok(r) => CheckView {
            id,
            problem: None,
            txn: r.claims.txn.clone(),
            kid: r.kid.clone(),
            issued: time::OffsetDateTime::from_unix_timestamp(r.claims.iat)
                .map(|t| t.to_string())
                .unwrap_or_default(),
            level: r.level.acr().to_string(),
            methods: r.claims.amr.join(", "),
            claims: r
                .claims
                .claims
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        },
        Err(problem) => CheckView {
            id,
            problem: Some(problem),
            txn: String::new(),
            kid: String::new(),
            issued: String::new(),
            level: String::new(),
            methods: String::new(),
            claims: Vec::new(),
        },
    };
    CheckPage {
        user: None,
        check: view,
    }
    .into_response()
}
