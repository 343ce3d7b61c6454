//! The provider's configuration: a TOML file, overridden by `VNEID_*` environment variables.

use std::net::SocketAddr;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use url::Url;

/// Everything the provider needs to run.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The issuer identifier: the base URL of every endpoint, and `iss` in every token.
    pub issuer: Url,
    /// Where to listen.
    #[serde(default = "default_bind")]
    pub bind: SocketAddr,
    /// `sqlite:PATH` or `postgres://...`.
    pub database_url: String,
    /// 32 random bytes, base64url: encrypts signing keys and second-factor secrets at rest.
    pub key_encryption_key: KeyEncryptionKey,
    /// Connections in the one pool.
    #[serde(default = "default_pool")]
    pub max_connections: u32,
    /// How long things live.
    #[serde(default)]
    pub lifetimes: Lifetimes,
    /// Wrong passwords in a row before the account is locked.
    #[serde(default = "default_lockout_threshold")]
    pub lockout_threshold: i64,
    /// How long a lock lasts, in seconds.
    #[serde(default = "default_lockout_seconds")]
    pub lockout_seconds: i64,
    /// Wrong second-factor codes in a row before the second factor is locked (its own counter:
    /// a correct password never resets it).
    #[serde(default = "default_lockout_threshold")]
    pub second_factor_threshold: i64,
    /// How long a second-factor lock lasts, in seconds.
    #[serde(default = "default_second_factor_lock_seconds")]
    pub second_factor_lock_seconds: i64,
    /// The population registry: embedded unless `url` names a registry service.
    #[serde(default)]
    pub registry: RegistryConfig,
    /// Notification senders.
    #[serde(default)]
    pub notify: crate::notify::SenderConfig,
    /// Client registration and authorization-request policy (`[clients]`).
    #[serde(default)]
    pub clients: ClientsConfig,
    /// Demo mode: console notifications, a demo outbox page. Never from a file.
    #[serde(skip)]
    pub demo: bool,
}

/// `[clients]`.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientsConfig {
    /// Every client must push its authorization requests (RFC 9126), not only those registered
    /// with `--require-par`.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// The initial access token of the registration endpoint (RFC 7591 3); without one (and
    /// outside demo mode) dynamic client registration is off.
    #[serde(default)]
    pub initial_access_token: Option<String>,
}

impl std::fmt::Debug for ClientsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientsConfig")
            .field(
                "require_pushed_authorization_requests",
                &self.require_pushed_authorization_requests,
            )
            .field(
                "initial_access_token",
                &self.initial_access_token.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

/// `[registry]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// A registry service; absent, the embedded registry is used.
    pub url: Option<Url>,
    /// Match thresholds (cosine similarity).
    #[serde(default)]
    pub thresholds: crate::registry::Thresholds,
}

/// Lifetimes in seconds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Lifetimes {
    /// Authorization codes (RFC 9700 asks for short-lived codes).
    pub code: i64,
    /// Access tokens.
    pub access_token: i64,
    /// ID tokens.
    pub id_token: i64,
    /// Refresh tokens (`offline_access`).
    pub refresh_token: i64,
    /// Browser sessions at the provider.
    pub session: i64,
    /// A login in progress (from the authorization request to the redirect back).
    pub interaction: i64,
    /// How long a rotated-out signing key stays in the JWKS.
    pub key_overlap: i64,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            code: 60,
            access_token: 3600,
            id_token: 3600,
            refresh_token: 30 * 24 * 3600,
            session: 8 * 3600,
            interaction: 30 * 60,
            key_overlap: 24 * 3600,
        }
    }
}

/// The key-encryption key; never printed.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct KeyEncryptionKey([u8; 32]);

impl KeyEncryptionKey {
    /// A fresh random key (demo mode, tests).
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut key);
        KeyEncryptionKey(key)
    }

    /// The raw key bytes.
    pub fn secret(&self) -> &[u8; 32] {
        &self.0
    }

    /// The key as base64url, for `keys generate-kek`.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }
}

impl TryFrom<String> for KeyEncryptionKey {
    type Error = ConfigError;
    fn try_from(value: String) -> Result<Self, ConfigError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(value.trim().trim_end_matches('='))
            .map_err(|_| ConfigError::BadKek)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| ConfigError::BadKek)?;
        Ok(KeyEncryptionKey(key))
    }
}

impl std::fmt::Debug for KeyEncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or missing keys.
    #[error("invalid configuration: {0}")]
    Parse(#[from] toml::de::Error),
    /// The key-encryption key is not 32 bytes of base64url.
    #[error(
        "the key-encryption key must be 32 bytes, base64url-encoded (try `vneid-provider keys generate-kek`)"
    )]
    BadKek,
    /// An environment variable has a bad value.
    #[error("environment variable {name}: {reason}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Why.
        reason: String,
    },
    /// The issuer is not usable.
    #[error("the issuer must be an https URL (http only on loopback) without query or fragment")]
    BadIssuer,
}

fn default_bind() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}
fn default_pool() -> u32 {
    16
}
fn default_lockout_threshold() -> i64 {
    5
}
fn default_lockout_seconds() -> i64 {
    15 * 60
}
fn default_second_factor_lock_seconds() -> i64 {
    30 * 60
}

impl Config {
    /// A configuration with defaults for everything but the essentials.
    pub fn new(issuer: Url, database_url: String, kek: KeyEncryptionKey) -> Self {
        Config {
            issuer,
            bind: default_bind(),
            database_url,
            key_encryption_key: kek,
            max_connections: default_pool(),
            lifetimes: Lifetimes::default(),
            lockout_threshold: default_lockout_threshold(),
            lockout_seconds: default_lockout_seconds(),
            second_factor_threshold: default_lockout_threshold(),
            second_factor_lock_seconds: default_second_factor_lock_seconds(),
            registry: RegistryConfig::default(),
            clients: ClientsConfig::default(),
            notify: crate::notify::SenderConfig::default(),
            demo: false,
        }
    }

    /// Reads the TOML file (if given), then applies `VNEID_ISSUER`, `VNEID_BIND`,
    /// `VNEID_DATABASE_URL` and `VNEID_KEY_ENCRYPTION_KEY`.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let mut table = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                text.parse::<toml::Table>()?
            }
            None => toml::Table::new(),
        };
        for (var, key) in [
            ("VNEID_ISSUER", "issuer"),
            ("VNEID_BIND", "bind"),
            ("VNEID_DATABASE_URL", "database_url"),
            ("VNEID_KEY_ENCRYPTION_KEY", "key_encryption_key"),
        ] {
            if let Ok(value) = std::env::var(var) {
                table.insert(key.to_string(), toml::Value::String(value));
            }
        }
        let config: Config = table.try_into()?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let loopback = matches!(
            self.issuer.host_str(),
            Some("127.0.0.1" | "localhost" | "[::1]")
        );
        let scheme_ok =
            self.issuer.scheme() == "https" || (self.issuer.scheme() == "http" && loopback);
        if !scheme_ok || self.issuer.query().is_some() || self.issuer.fragment().is_some() {
            return Err(ConfigError::BadIssuer);
        }
        Ok(())
    }

    /// The issuer as it appears in tokens: without a trailing slash.
    pub fn issuer_str(&self) -> &str {
        self.issuer.as_str().trim_end_matches('/')
    }

    /// Whether cookies must be `Secure`.
    pub fn secure_cookies(&self) -> bool {
        self.issuer.scheme() == "https"
    }
}
