//! The administrative commands behind `vneid-provider clients` and `keys`.

use std::fmt::Write;

use serde_json::json;
use vneid_contract::ScopeSet;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::{KeyRing, Sealer};
use crate::oidc::client::Client;
use crate::oidc::types::{ClientAuthMethod, ClientId, RedirectUri, SigningAlg, SubjectType};
use crate::store::{ClientRow, Store};

/// A client to register.
pub struct NewClient {
    pub id: String,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: String,
    pub auth_method: ClientAuthMethod,
    pub signing_alg: SigningAlg,
    pub subject_type: SubjectType,
    /// Public keys (a JWKS document) for `private_key_jwt`.
    pub jwks: Option<String>,
}

/// What is wrong with an administrative request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Bad input, with what to fix.
    #[error("{0}")]
    Invalid(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The keys.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
}

async fn store(config: &Config) -> Result<Store, CliError> {
    let store = Store::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    Ok(store)
}

/// Registers a client; returns its generated secret (empty for `private_key_jwt` clients).
pub async fn add_client(config: &Config, new: NewClient) -> Result<String, CliError> {
    ClientId::parse(&new.id).ok_or_else(|| {
        CliError::Invalid("the client id must be 1-128 printable characters without spaces".into())
    })?;
    let scopes = ScopeSet::parse(&new.scopes).map_err(|e| CliError::Invalid(e.to_string()))?;
    if !scopes.contains(vneid_contract::Scope::OpenId) {
        return Err(CliError::Invalid("the scopes must include openid".into()));
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        let parsed = RedirectUri::parse(uri).ok_or_else(|| {
            CliError::Invalid(format!("`{uri}` is not an absolute URI without fragment"))
        })?;
        let url = url::Url::parse(parsed.as_str()).map_err(|e| CliError::Invalid(e.to_string()))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(CliError::Invalid(format!(
                "`{uri}` must be https (http only on loopback)"
            )));
        }
    }
    let jwks = match (new.auth_method, &new.jwks) {
        (ClientAuthMethod::PrivateKeyJwt, Some(jwks)) => {
            let set = josekit::jwk::JwkSet::from_bytes(jwks.as_bytes())
                .map_err(|e| CliError::Invalid(format!("--jwks: {e}")))?;
            if set.keys().is_empty() || set.keys().iter().any(|k| k.parameter("d").is_some()) {
                return Err(CliError::Invalid(
                    "--jwks must hold public keys only, at least one".into(),
                ));
            }
            Some(jwks.clone())
        }
        (ClientAuthMethod::PrivateKeyJwt, None) => {
            return Err(CliError::Invalid(
                "private_key_jwt needs --jwks FILE".into(),
            ));
        }
        _ => None,
    };
    let secret = crate::secret::new_bearer();
    let secret_hash = jwks.is_none().then(|| crate::secret::hash(&secret));
    let row = ClientRow {
        id: new.id,
        name: new.name,
        secret_hash,
        auth_method: new.auth_method.as_str().into(),
        redirect_uris: json!(new.redirect_uris).to_string(),
        post_logout_redirect_uris: json!(new.post_logout_redirect_uris).to_string(),
        allowed_scopes: scopes.to_string(),
        signing_alg: new.signing_alg.as_str().into(),
        subject_type: new.subject_type.as_str().into(),
        jwks,
    };
    let has_secret = row.secret_hash.is_some();
    store(config)
        .await?
        .insert_client(&row, Clock::default().now())
        .await?;
    Ok(if has_secret { secret } else { String::new() })
}

/// A table of the registered clients.
pub async fn list_clients(config: &Config) -> Result<String, CliError> {
    let mut out = String::new();
    for row in store(config).await?.clients().await? {
        match Client::try_from(row) {
            Ok(c) => {
                let uris: Vec<&str> = c.redirect_uris.iter().map(|u| u.as_str()).collect();
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    c.id.as_str(),
                    c.name,
                    c.auth_method,
                    c.signing_alg,
                    c.subject_type,
                    c.allowed_scopes,
                    uris.join(",")
                );
            }
            Err(err) => {
                let _ = writeln!(out, "{err}");
            }
        }
    }
    Ok(out)
}

/// Removes a client.
pub async fn remove_client(config: &Config, id: &str) -> Result<(), CliError> {
    if store(config).await?.remove_client(id).await? {
        Ok(())
    } else {
        Err(CliError::Invalid(format!("no client `{id}`")))
    }
}

async fn key_ring(config: &Config) -> Result<KeyRing, CliError> {
    let store = store(config).await?;
    Ok(KeyRing::load(
        store,
        Sealer::new(config.key_encryption_key.clone()),
        Clock::default().now(),
    )
    .await?)
}

/// A table of the published keys.
pub async fn list_keys(config: &Config) -> Result<String, CliError> {
    let mut out = String::from("kid\talg\tcreated_at\tactivate_at\tremove_at\n");
    for k in key_ring(config).await?.list(Clock::default().now()).await? {
        let remove = k
            .remove_at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into());
        let _ = writeln!(
            out,
            "{}\t{}\t{}\t{}\t{}",
            k.kid, k.alg, k.created_at, k.activate_at, remove
        );
    }
    Ok(out)
}

/// Rotates the key of one algorithm.
pub async fn rotate_key(config: &Config, alg: SigningAlg) -> Result<String, CliError> {
    let ring = key_ring(config).await?;
    Ok(ring
        .rotate(alg, Clock::default().now(), config.lifetimes.key_overlap)
        .await?)
}

/// Registers a registration officer; returns the generated password and TOTP secret (shown once).
pub async fn add_officer(
    config: &Config,
    username: &str,
    name: &str,
    station: &str,
) -> Result<(String, String), CliError> {
    if username.is_empty()
        || username.len() > 64
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
    {
        return Err(CliError::Invalid(
            "the username is 1-64 letters, digits, `.` or `_`".into(),
        ));
    }
    let password = crate::secret::random_token(12);
    let base32 = crate::accounts::totp::new_secret();
    let sealer = Sealer::new(config.key_encryption_key.clone());
    let officer = crate::store::OfficerRow {
        id: crate::secret::new_id(),
        username: username.into(),
        name: name.into(),
        station: station.into(),
        role: "registration_officer".into(),
        password_hash: crate::accounts::password::hash_blocking(&password)
            .map_err(|e| CliError::Invalid(e.to_string()))?,
        totp_secret: sealer
            .seal(base32.as_bytes())
            .map_err(|e| CliError::Invalid(e.to_string()))?,
        failed_logins: 0,
        locked_until: None,
    };
    store(config)
        .await?
        .insert_officer(&officer, Clock::default().now())
        .await?;
    Ok((password, base32))
}

/// What an import did.
pub struct ImportReport {
    /// People imported.
    pub imported: usize,
}

/// Imports a registry export into the embedded registry: all rows or none. Rejections come back
/// as an error listing each one.
pub async fn import_registry(
    config: &Config,
    text: &str,
    show_progress: bool,
) -> Result<ImportReport, CliError> {
    use crate::registry::import;
    let report = |rejected: Vec<import::Rejection>| {
        let lines: Vec<String> = rejected.iter().map(ToString::to_string).collect();
        CliError::Invalid(format!(
            "{} row(s) rejected, nothing imported:\n{}",
            rejected.len(),
            lines.join("\n")
        ))
    };
    let records = import::parse(text).map_err(report)?;
    let rows = import::validate(&records).map_err(report)?;
    let bar = if show_progress {
        indicatif::ProgressBar::new(rows.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} people {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    store(config)
        .await?
        .registry_import(&rows, Clock::default().now(), || bar.inc(1))
        .await?;
    bar.finish_with_message("committed");
    Ok(ImportReport {
        imported: rows.len(),
    })
}

/// Checks `--age-over` values: each an age in [`vneid_contract::AGE_OVER_RANGE`].
pub fn check_age_thresholds(years: &[u8]) -> Result<(), CliError> {
    match years
        .iter()
        .find(|n| !vneid_contract::AGE_OVER_RANGE.contains(n))
    {
        Some(n) => Err(CliError::Invalid(format!(
            "--age-over {n}: give ages from 1 to 150"
        ))),
        None => Ok(()),
    }
}

/// Sets the `age_over_N` thresholds a client may ask for.
pub async fn set_age_thresholds(
    config: &Config,
    client_id: &str,
    years: &[u8],
) -> Result<(), CliError> {
    check_age_thresholds(years)?;
    store(config)
        .await?
        .set_client_age_thresholds(client_id, years)
        .await?;
    Ok(())
}

/// Sets (or removes) where a client's Security Event Tokens are pushed: https, or http on
/// loopback.
pub async fn set_event_receiver(
    config: &Config,
    client_id: &str,
    endpoint: Option<&str>,
) -> Result<(), CliError> {
    if let Some(endpoint) = endpoint {
        let url = url::Url::parse(endpoint)
            .map_err(|e| CliError::Invalid(format!("--events-endpoint: {e}")))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(CliError::Invalid(
                "--events-endpoint must be https (http only on loopback)".into(),
            ));
        }
    }
    store(config)
        .await?
        .set_event_receiver(client_id, endpoint)
        .await?;
    Ok(())
}
