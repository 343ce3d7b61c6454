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
    /// Password reset: codes sent and codes tried per identification number.
    #[serde(default)]
    pub reset: crate::accounts::reset::ResetLimits,
    /// The population registry: embedded unless `url` names a registry service.
    #[serde(default)]
    pub registry: RegistryConfig,
    /// Notification senders.
    #[serde(default)]
    pub notify: crate::notify::SenderConfig,
    /// Rate limits: in memory, per process (several processes each allow their own share).
    #[serde(default)]
    pub limits: LimitsConfig,
    /// The password hashing pool.
    #[serde(default)]
    pub argon2: Argon2Config,
    /// Connection and request timeouts.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Level 1 registration from the app: per-number limits, the app's token lifetime.
    #[serde(default)]
    pub registration: crate::accounts::registration::RegistrationConfig,
    /// Client registration and authorization-request policy (`[clients]`).
    #[serde(default)]
    pub clients: ClientsConfig,
    /// Who may scrape `/metrics`.
    #[serde(default)]
    pub metrics: MetricsConfig,
    /// The WebAuthn relying party of passkeys (`[passkeys]`; defaults from the issuer).
    #[serde(default)]
    pub passkeys: crate::accounts::passkey::PasskeyConfig,
    /// Demo mode: console notifications, a demo outbox page. Never from a file.
    #[serde(skip)]
    pub demo: bool,
}

/// A token bucket: `burst` requests at once, refilled at `per_hour` (evenly, one every
/// 3600/`per_hour` seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    /// Requests allowed in a burst.
    pub burst: u32,
    /// Sustained requests per hour.
    pub per_hour: u32,
}

impl Rate {
    /// `burst` at once, then `per_minute`.
    pub const fn per_minute(burst: u32, per_minute: u32) -> Self {
        Rate {
            burst,
            per_hour: per_minute * 60,
        }
    }
}

/// `[limits]`: rate limits per client address on the routes that guess or cost, and per key
/// (account, client, identification number) for the rules that call
/// [`crate::limits::Limits::check`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Off only for benchmarks: every check passes.
    pub enabled: bool,
    /// Where the client address comes from when a reverse proxy is in front. Absent (the
    /// default), the TCP peer address is the client and `X-Forwarded-For` is ignored.
    pub trusted_proxy: Option<TrustedProxy>,
    /// Per address: password and second-factor posts (`/interaction/{id}/login`, `/otp`,
    /// `/account/login`, `/desk/login`).
    pub login: Rate,
    /// Per address: `/account/reset` and `/account/reset/confirm` posts.
    pub reset: Rate,
    /// Per address: `POST /api/v1/registrations`.
    pub registration: Rate,
    /// Per address: `/token`. Relying parties call it from a few servers: generous.
    pub token: Rate,
    /// Per client id: at `/token` the id the request claims (Basic user, `client_id`, or the
    /// assertion's `sub`), before authentication, so that anyone can spend it: keep it above
    /// `token`; and `LimitKey::Client` for rules that know the authenticated client.
    pub client: Rate,
    /// Per account: `LimitKey::Account` (logins, second factor, reset).
    pub account: Rate,
    /// Per identification number: `LimitKey::IdNumber` (registrations).
    pub id_number: Rate,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            enabled: true,
            trusted_proxy: None,
            login: Rate::per_minute(30, 30),
            reset: Rate::per_minute(10, 10),
            registration: Rate::per_minute(30, 60),
            token: Rate::per_minute(3000, 120_000),
            // Twice an address's: one address alone cannot spend a client's budget by claiming
            // its id (the address's bucket refuses first).
            client: Rate::per_minute(6000, 240_000),
            account: Rate::per_minute(10, 1),
            id_number: Rate {
                burst: 5,
                per_hour: 20,
            },
        }
    }
}

/// `[limits.trusted_proxy]`: believe `header` (its last, proxy-appended address) only on
/// connections from `addresses`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedProxy {
    /// For example `x-forwarded-for` or `x-real-ip`.
    pub header: String,
    /// The proxies' own addresses.
    pub addresses: Vec<std::net::IpAddr>,
}

/// `[argon2]`: the password hashing pool.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Config {
    /// Hashing threads; 0 (the default) means one per core.
    pub threads: usize,
    /// Logins that may wait for a thread; more get 503 at once.
    pub queue: usize,
    /// Seconds a login waits for its hash before it gets 503.
    pub wait_seconds: u64,
}

impl Default for Argon2Config {
    fn default() -> Self {
        Argon2Config {
            threads: 0,
            queue: 32,
            wait_seconds: 5,
        }
    }
}

impl Argon2Config {
    /// The pool this asks for.
    pub fn pool_size(&self) -> crate::accounts::password::PoolSize {
        crate::accounts::password::PoolSize {
            threads: match self.threads {
                0 => crate::accounts::password::cores(),
                n => n,
            },
            queue: self.queue,
            wait: std::time::Duration::from_secs(self.wait_seconds),
        }
    }
}

/// `[timeouts]`, in seconds.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timeouts {
    /// A connection that has not sent a whole request header by then is closed.
    pub header_read: u64,
    /// A request not answered by then gets 503.
    pub request: u64,
    /// How long a request waits for a database connection (a new one included) before it
    /// gets 503: an exhausted pool or an unreachable database answers this fast, never hangs.
    pub database: u64,
    /// How long `/ready` waits for the database to answer before it says 503.
    pub readiness: u64,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            header_read: 10,
            request: 30,
            database: 2,
            readiness: 1,
        }
    }
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
    /// The operator's public key for software statements (RFC 7591 2.3), the second gate of
    /// the registration endpoint: a PEM or JWK/JWKS document, or the path of a file holding
    /// one. In demo mode, `examples/registry/demo-operator-jwks.json` when unset.
    #[serde(default)]
    pub software_statement_key: Option<String>,
    /// The `iss` a software statement must carry; the provider's issuer when unset.
    #[serde(default)]
    pub software_statement_issuer: Option<String>,
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
            .field("software_statement_key", &self.software_statement_key)
            .field("software_statement_issuer", &self.software_statement_issuer)
            .finish()
    }
}

/// `[metrics]`: who may read `/metrics`. A request may when its client address (the TCP peer,
/// or behind `[limits.trusted_proxy]` the address that proxy forwarded) is in `allow`, or when
/// `token` is set and the request carries `Authorization: Bearer <token>`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Addresses that may scrape; loopback only by default. Empty: none (token only).
    pub allow: Vec<std::net::IpAddr>,
    /// A bearer token that may scrape from anywhere; none by default.
    pub token: Option<String>,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            allow: vec![
                std::net::IpAddr::from([127, 0, 0, 1]),
                std::net::IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            token: None,
        }
    }
}

impl std::fmt::Debug for MetricsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsConfig")
            .field("allow", &self.allow)
            .field("token", &self.token.as_ref().map(|_| "[redacted]"))
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
    /// The size of the capture devices' templates.
    #[serde(default)]
    pub dimensions: crate::registry::Dimensions,
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
    /// How long a biometric verification at the desk may be used for an enrolment.
    pub desk_verification: i64,
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
            desk_verification: 15 * 60,
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
    /// A setting out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// What an environment variable holds.
#[derive(Clone, Copy)]
enum EnvKind {
    Text,
    Integer,
    Boolean,
    /// Comma-separated.
    List,
}

/// The environment variables that override the file: name and dotted key.
pub const ENV: &[(&str, &str)] = &[
    ("VNEID_ISSUER", "issuer"),
    ("VNEID_BIND", "bind"),
    ("VNEID_DATABASE_URL", "database_url"),
    ("VNEID_KEY_ENCRYPTION_KEY", "key_encryption_key"),
    ("VNEID_RATE_LIMITS", "limits.enabled"),
    ("VNEID_TRUSTED_PROXY_HEADER", "limits.trusted_proxy.header"),
    ("VNEID_TRUSTED_PROXIES", "limits.trusted_proxy.addresses"),
    ("VNEID_ARGON2_THREADS", "argon2.threads"),
    ("VNEID_ARGON2_QUEUE", "argon2.queue"),
    ("VNEID_ARGON2_WAIT_SECONDS", "argon2.wait_seconds"),
    ("VNEID_HEADER_READ_TIMEOUT", "timeouts.header_read"),
    ("VNEID_REQUEST_TIMEOUT", "timeouts.request"),
    ("VNEID_DATABASE_TIMEOUT", "timeouts.database"),
    ("VNEID_MAX_CONNECTIONS", "max_connections"),
    ("VNEID_METRICS_ALLOW", "metrics.allow"),
    ("VNEID_METRICS_TOKEN", "metrics.token"),
    (
        "VNEID_SOFTWARE_STATEMENT_KEY",
        "clients.software_statement_key",
    ),
    (
        "VNEID_SOFTWARE_STATEMENT_ISSUER",
        "clients.software_statement_issuer",
    ),
];

fn env_kind(key: &str) -> EnvKind {
    match key {
        "limits.enabled" => EnvKind::Boolean,
        "limits.trusted_proxy.addresses" | "metrics.allow" => EnvKind::List,
        "argon2.threads"
        | "argon2.queue"
        | "argon2.wait_seconds"
        | "timeouts.header_read"
        | "timeouts.request"
        | "timeouts.database"
        | "max_connections" => EnvKind::Integer,
        _ => EnvKind::Text,
    }
}

/// Writes the variables of [`ENV`] that `lookup` finds into `table`, typed, at their dotted key.
fn apply_env(
    table: &mut toml::Table,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), ConfigError> {
    for &(name, key) in ENV {
        let Some(raw) = lookup(name) else { continue };
        let bad = |reason: &str| ConfigError::Env {
            name,
            reason: reason.to_string(),
        };
        let value = match env_kind(key) {
            EnvKind::Text => toml::Value::String(raw),
            EnvKind::Integer => toml::Value::Integer(
                raw.trim()
                    .parse::<i64>()
                    .map_err(|_| bad("not a whole number"))?,
            ),
            EnvKind::Boolean => toml::Value::Boolean(match raw.trim() {
                "true" | "1" | "on" => true,
                "false" | "0" | "off" => false,
                _ => return Err(bad("not true or false")),
            }),
            EnvKind::List => toml::Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_string()))
                    .collect(),
            ),
        };
        let mut parts: Vec<&str> = key.split('.').collect();
        let last = parts.pop().unwrap_or(key);
        let mut at = &mut *table;
        for part in parts {
            let entry = at
                .entry(part.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            at = entry
                .as_table_mut()
                .ok_or_else(|| bad("conflicts with the file"))?;
        }
        at.insert(last.to_string(), value);
    }
    Ok(())
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
            reset: crate::accounts::reset::ResetLimits::default(),
            registry: RegistryConfig::default(),
            clients: ClientsConfig::default(),
            notify: crate::notify::SenderConfig::default(),
            limits: LimitsConfig::default(),
            argon2: Argon2Config::default(),
            timeouts: Timeouts::default(),
            registration: Default::default(),
            metrics: MetricsConfig::default(),
            passkeys: Default::default(),
            demo: false,
        }
    }

    /// Reads the TOML file (if given), then applies the `VNEID_*` environment variables of
    /// [`ENV`].
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
        apply_env(&mut table, |name| std::env::var(name).ok())?;
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
        let l = &self.limits;
        for (name, rate) in [
            ("login", l.login),
            ("reset", l.reset),
            ("registration", l.registration),
            ("token", l.token),
            ("client", l.client),
            ("account", l.account),
            ("id_number", l.id_number),
        ] {
            if rate.burst == 0 || rate.per_hour == 0 {
                return Err(ConfigError::Invalid(format!(
                    "limits.{name}: burst and per_hour must be at least 1"
                )));
            }
        }
        if self.timeouts.header_read == 0
            || self.timeouts.request == 0
            || self.timeouts.database == 0
            || self.timeouts.readiness == 0
        {
            return Err(ConfigError::Invalid(
                "timeouts must be at least 1 second".into(),
            ));
        }
        if crate::accounts::passkey::webauthn(self).is_err() {
            return Err(ConfigError::Invalid(
                "passkeys: rp_id must be the origin's host or a parent domain of it".into(),
            ));
        }
        if self.argon2.wait_seconds == 0 {
            return Err(ConfigError::Invalid(
                "argon2.wait_seconds must be at least 1".into(),
            ));
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

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
issuer = "https://id.example.vn"
database_url = "sqlite:x.db"
key_encryption_key = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
"#;

    fn parse(extra: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut table: toml::Table = format!("{BASE}{extra}").parse().unwrap();
        apply_env(&mut table, |name| {
            env.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })?;
        let config: Config = table.try_into()?;
        config.validate()?;
        Ok(config)
    }

    #[test]
    fn defaults_trust_no_proxy_and_bound_everything() {
        let config = parse("", &[]).unwrap();
        assert!(config.limits.enabled);
        assert!(config.limits.trusted_proxy.is_none());
        assert_eq!(config.timeouts.header_read, 10);
        assert_eq!(config.timeouts.request, 30);
        assert_eq!(
            config.argon2.pool_size().threads,
            crate::accounts::password::cores()
        );
        assert_eq!(config.argon2.queue, 32);
        assert_eq!(config.timeouts.database, 2);
        assert!(config.metrics.token.is_none());
        assert!(
            config
                .metrics
                .allow
                .iter()
                .all(std::net::IpAddr::is_loopback)
        );
    }

    #[test]
    fn metrics_access_and_database_timeout_from_the_environment() {
        let config = parse(
            "",
            &[
                ("VNEID_METRICS_ALLOW", "10.0.0.9, 10.0.0.10"),
                ("VNEID_METRICS_TOKEN", "s3cret"),
                ("VNEID_DATABASE_TIMEOUT", "1"),
            ],
        )
        .unwrap();
        assert_eq!(config.metrics.allow.len(), 2);
        assert_eq!(config.metrics.token.as_deref(), Some("s3cret"));
        assert!(!format!("{:?}", config.metrics).contains("s3cret"));
        assert_eq!(config.timeouts.database, 1);
    }

    #[test]
    fn the_file_sets_limits_pool_and_timeouts() {
        let config = parse(
            r#"
[limits]
login = { burst = 3, per_hour = 60 }
[limits.trusted_proxy]
header = "x-forwarded-for"
addresses = ["10.0.0.1"]
[argon2]
threads = 1
queue = 2
[timeouts]
header_read = 1
"#,
            &[],
        )
        .unwrap();
        assert_eq!(
            config.limits.login,
            Rate {
                burst: 3,
                per_hour: 60
            }
        );
        assert_eq!(config.limits.reset, LimitsConfig::default().reset);
        let proxy = config.limits.trusted_proxy.unwrap();
        assert_eq!(proxy.header, "x-forwarded-for");
        assert_eq!(
            proxy.addresses,
            vec!["10.0.0.1".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(config.argon2.pool_size().threads, 1);
        assert_eq!(config.argon2.pool_size().queue, 2);
        assert_eq!(config.timeouts.header_read, 1);
        assert_eq!(config.timeouts.request, 30);
    }

    #[test]
    fn environment_variables_override_typed() {
        let config = parse(
            "[argon2]\nthreads = 4\n",
            &[
                ("VNEID_ARGON2_THREADS", "2"),
                ("VNEID_ARGON2_QUEUE", "7"),
                ("VNEID_RATE_LIMITS", "off"),
                ("VNEID_TRUSTED_PROXY_HEADER", "x-real-ip"),
                ("VNEID_TRUSTED_PROXIES", "127.0.0.1, ::1"),
                ("VNEID_REQUEST_TIMEOUT", "12"),
            ],
        )
        .unwrap();
        assert_eq!(config.argon2.threads, 2);
        assert_eq!(config.argon2.queue, 7);
        assert!(!config.limits.enabled);
        let proxy = config.limits.trusted_proxy.unwrap();
        assert_eq!(proxy.header, "x-real-ip");
        assert_eq!(proxy.addresses.len(), 2);
        assert_eq!(config.timeouts.request, 12);
        assert!(matches!(
            parse("", &[("VNEID_ARGON2_QUEUE", "many")]),
            Err(ConfigError::Env {
                name: "VNEID_ARGON2_QUEUE",
                ..
            })
        ));
    }

    #[test]
    fn zero_rates_and_timeouts_are_refused() {
        assert!(matches!(
            parse("[limits]\ntoken = { burst = 0, per_hour = 10 }\n", &[]),
            Err(ConfigError::Invalid(_))
        ));
        assert!(matches!(
            parse("[timeouts]\nheader_read = 0\n", &[]),
            Err(ConfigError::Invalid(_))
        ));
        assert!(parse("[limits]\nlogin = { burst = 1 }\n", &[]).is_err());
    }
}
