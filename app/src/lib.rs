//! `vneid-app`: a small simulator of the citizen's VNeID phone app, for the tests and the
//! README's walkthrough. It holds a device key (ES256, generated here; the private key never
//! leaves the state file), enrols it with a one-time code shown on the provider's /account
//! page, and approves or denies QR logins and CIBA requests by signing each request with the
//! device key (a JWT with `iss`/`kid` = the device id, `aud` = the endpoint, `iat`, `exp`,
//! `jti`). Approving signs over the approval id and the SHA-256 of the summary it showed, and
//! asserts the phone's own user verification (`uv`), which a real app does with a PIN or
//! biometric before it signs.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vneid_app::AppError> {
//! let app = vneid_app::App::enrol("http://127.0.0.1:3000", "CODE", "my phone").await?;
//! let approval = app.scan("http://127.0.0.1:3000/app/qr?id=...").await?;
//! println!("{} asks for {:?}", approval.summary.client_name, approval.summary.claims);
//! app.approve(&approval).await?;
//! # Ok(()) }
//! ```

use std::path::Path;
use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::JwtPayload;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// The app API's paths (as the provider serves them).
pub mod paths {
    pub const ENROL: &str = "/app/enrol";
    pub const PENDING: &str = "/app/pending";
    pub const QR: &str = "/app/qr";
    pub const APPROVE: &str = "/app/approve";
    pub const DENY: &str = "/app/deny";
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// The provider could not be reached.
    #[error("network: {0}")]
    Network(#[from] reqwest::Error),
    /// The provider refused (its error code and description).
    #[error("the provider refused ({status}): {code}: {description}")]
    Refused {
        status: u16,
        code: String,
        description: String,
    },
    /// Key generation or signing failed.
    #[error("key: {0}")]
    Key(#[from] josekit::JoseError),
    /// The state file.
    #[error("state file: {0}")]
    State(String),
    /// A QR payload that is not for this app's provider.
    #[error("this QR code is not a VNeID login of {0}")]
    ForeignQr(String),
    /// An answer that does not parse.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

/// What the app keeps: the provider, its device id and its private key.
#[derive(Clone, Serialize, Deserialize)]
pub struct DeviceState {
    pub provider: String,
    pub device_id: String,
    /// The private key, a JWK.
    pub private_jwk: Map<String, Value>,
}

impl std::fmt::Debug for DeviceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceState")
            .field("provider", &self.provider)
            .field("device_id", &self.device_id)
            .field("private_jwk", &"[redacted]")
            .finish()
    }
}

/// What the provider shows the app before it approves.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Summary {
    pub kind: String,
    pub client_id: String,
    pub client_name: String,
    pub scopes: Vec<String>,
    pub claims: Vec<String>,
    pub acr: String,
    #[serde(default)]
    pub binding_message: Option<String>,
}

/// A request waiting for the citizen's decision.
#[derive(Debug, Clone)]
pub struct Approval {
    pub id: String,
    /// `qr` or `ciba`.
    pub kind: String,
    /// The summary exactly as received (its SHA-256 is signed).
    pub raw_summary: String,
    pub summary: Summary,
    pub expires_at: i64,
}

impl Approval {
    fn from_json(v: &Value) -> Result<Approval, AppError> {
        let raw_summary = v["summary"]
            .as_str()
            .ok_or_else(|| AppError::Unexpected(v.to_string()))?
            .to_string();
        let summary =
            serde_json::from_str(&raw_summary).map_err(|e| AppError::Unexpected(e.to_string()))?;
        Ok(Approval {
            id: v["id"].as_str().unwrap_or_default().to_string(),
            kind: v["kind"].as_str().unwrap_or_default().to_string(),
            raw_summary,
            summary,
            expires_at: v["expires_at"].as_i64().unwrap_or_default(),
        })
    }

    /// The summary in words, for the terminal.
    pub fn describe(&self) -> String {
        let s = &self.summary;
        let mut text = format!(
            "{} ({}) asks you to log in at {}\n  scopes: {}\n  claims: {}",
            s.client_name,
            s.client_id,
            s.acr,
            s.scopes.join(" "),
            s.claims.join(", ")
        );
        if let Some(m) = &s.binding_message {
            text.push_str(&format!("\n  binding message: {m}"));
        }
        text
    }
}

/// base64url SHA-256 of a summary: what an approval signs over.
pub fn summary_hash(summary: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(summary.as_bytes()))
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

fn jwt_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn claims_payload(
    iss: Option<&str>,
    aud: &str,
    claims: &Map<String, Value>,
) -> Result<JwtPayload, AppError> {
    let mut payload = JwtPayload::new();
    if let Some(iss) = iss {
        payload.set_issuer(iss);
    }
    payload.set_audience(vec![aud]);
    // Whole seconds (josekit's setters write fractions).
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    payload.set_claim("iat", Some(json!(now)))?;
    payload.set_claim("exp", Some(json!(now + 60)))?;
    payload.set_jwt_id(jwt_id());
    for (k, v) in claims {
        payload.set_claim(k, Some(v.clone()))?;
    }
    Ok(payload)
}

async fn post(http: &reqwest::Client, url: &str, jwt: String) -> Result<(u16, Value), AppError> {
    let response = http
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/jwt")
        .body(jwt)
        .send()
        .await?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

fn ok(status: u16, body: Value) -> Result<Value, AppError> {
    if (200..300).contains(&status) {
        Ok(body)
    } else {
        Err(AppError::Refused {
            status,
            code: body["error"].as_str().unwrap_or("unknown").to_string(),
            description: body["error_description"].as_str().unwrap_or("").to_string(),
        })
    }
}

/// The app with its enrolled device key.
#[derive(Debug, Clone)]
pub struct App {
    state: DeviceState,
    http: reqwest::Client,
}

impl App {
    /// Generates a device key and enrols it with the one-time `code` shown on /account.
    pub async fn enrol(provider: &str, code: &str, name: &str) -> Result<App, AppError> {
        let provider = provider.trim_end_matches('/').to_string();
        let pair = ES256.generate_key_pair()?;
        let private = pair.to_jwk_private_key();
        let public = pair.to_jwk_public_key();
        let mut header = JwsHeader::new();
        header.set_jwk(public);
        let url = format!("{provider}{}", paths::ENROL);
        let mut claims = Map::new();
        claims.insert("code".into(), json!(code.trim()));
        claims.insert("name".into(), json!(name));
        let payload = claims_payload(None, &url, &claims)?;
        let jwt =
            josekit::jwt::encode_with_signer(&payload, &header, &ES256.signer_from_jwk(&private)?)?;
        let http = http();
        let (status, body) = post(&http, &url, jwt).await?;
        let body = ok(status, body)?;
        let device_id = body["device_id"]
            .as_str()
            .ok_or_else(|| AppError::Unexpected(body.to_string()))?
            .to_string();
        Ok(App {
            state: DeviceState {
                provider,
                device_id,
                private_jwk: private.as_ref().clone(),
            },
            http,
        })
    }

    /// The app from its saved state.
    pub fn from_state(state: DeviceState) -> App {
        App {
            state,
            http: http(),
        }
    }

    /// Loads the state file.
    pub fn load(path: &Path) -> Result<App, AppError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            AppError::State(format!(
                "cannot read {}: {e} (run `enrol` first)",
                path.display()
            ))
        })?;
        let state = serde_json::from_str(&text).map_err(|e| AppError::State(e.to_string()))?;
        Ok(App::from_state(state))
    }

    /// Saves the state file (readable by its owner only).
    pub fn save(&self, path: &Path) -> Result<(), AppError> {
        let text = serde_json::to_string_pretty(&self.state)
            .map_err(|e| AppError::State(e.to_string()))?;
        std::fs::write(path, text)
            .map_err(|e| AppError::State(format!("cannot write {}: {e}", path.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
        }
        Ok(())
    }

    /// The device id the provider gave.
    pub fn device_id(&self) -> &str {
        &self.state.device_id
    }

    /// The provider this app is enrolled with.
    pub fn provider(&self) -> &str {
        &self.state.provider
    }

    /// A signed request for the endpoint at `path` carrying `claims`.
    pub fn signed(&self, path: &str, claims: Map<String, Value>) -> Result<String, AppError> {
        let url = format!("{}{path}", self.state.provider);
        let payload = claims_payload(Some(&self.state.device_id), &url, &claims)?;
        let mut header = JwsHeader::new();
        header.set_key_id(&self.state.device_id);
        let key = Jwk::from_map(self.state.private_jwk.clone())?;
        Ok(josekit::jwt::encode_with_signer(
            &payload,
            &header,
            &ES256.signer_from_jwk(&key)?,
        )?)
    }

    /// Sends an already signed request as is (status and JSON body): for tests of replays.
    pub async fn send_raw(&self, path: &str, jwt: String) -> Result<(u16, Value), AppError> {
        post(&self.http, &format!("{}{path}", self.state.provider), jwt).await
    }

    async fn call(&self, path: &str, claims: Map<String, Value>) -> Result<Value, AppError> {
        let jwt = self.signed(path, claims)?;
        let (status, body) = self.send_raw(path, jwt).await?;
        ok(status, body)
    }

    /// The CIBA requests waiting for this account.
    pub async fn pending(&self) -> Result<Vec<Approval>, AppError> {
        let body = self.call(paths::PENDING, Map::new()).await?;
        body["approvals"]
            .as_array()
            .map(|list| list.iter().map(Approval::from_json).collect())
            .unwrap_or_else(|| Err(AppError::Unexpected(body.to_string())))
    }

    /// Reads a scanned QR payload (`{provider}/app/qr?id=...`) and fetches what it asks.
    pub async fn scan(&self, payload: &str) -> Result<Approval, AppError> {
        let url = url::Url::parse(payload.trim())
            .map_err(|_| AppError::ForeignQr(self.state.provider.clone()))?;
        let expected = format!("{}{}", self.state.provider, paths::QR);
        let base = format!("{}{}", url.origin().ascii_serialization(), url.path());
        let id = url
            .query_pairs()
            .find(|(k, _)| k == "id")
            .map(|(_, v)| v.into_owned());
        // Only a code of the provider this app is enrolled with: a QR code from elsewhere
        // could be a phishing site's.
        let (true, Some(id)) = (base == expected, id) else {
            return Err(AppError::ForeignQr(self.state.provider.clone()));
        };
        let mut claims = Map::new();
        claims.insert("qr".into(), json!(id));
        let body = self.call(paths::QR, claims).await?;
        Approval::from_json(&body)
    }

    /// Approves: signs over the approval id and the hash of the summary shown, with the
    /// phone's user verification.
    pub async fn approve(&self, approval: &Approval) -> Result<(), AppError> {
        let mut claims = Map::new();
        claims.insert("approval_id".into(), json!(approval.id));
        claims.insert(
            "summary_hash".into(),
            json!(summary_hash(&approval.raw_summary)),
        );
        claims.insert("uv".into(), json!(true));
        self.call(paths::APPROVE, claims).await.map(|_| ())
    }

    /// Approves the pending CIBA request `id` (fetched first, to sign over its summary).
    pub async fn approve_id(&self, id: &str) -> Result<Approval, AppError> {
        let approval = self
            .pending()
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(|| AppError::Refused {
                status: 404,
                code: "not_found".into(),
                description: "no such pending request".into(),
            })?;
        self.approve(&approval).await?;
        Ok(approval)
    }

    /// Denies the request `id`.
    pub async fn deny(&self, id: &str) -> Result<(), AppError> {
        let mut claims = Map::new();
        claims.insert("approval_id".into(), json!(id));
        self.call(paths::DENY, claims).await.map(|_| ())
    }
}
