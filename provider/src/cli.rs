//! The administrative commands behind `vneid-provider clients` and `keys`.

use std::fmt::Write;

use serde_json::json;
use vneid_contract::ScopeSet;

use crate::clock::Clock;
use crate::config::Config;
use crate::keys::{KeyRing, Sealer};
use crate::oidc::client::{Client, Profile};
use crate::oidc::client_credentials::ApiScope;
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
    /// Public keys (a JWKS document) for `private_key_jwt` and signed request objects.
    pub jwks: Option<String>,
    /// Authorization requests must be pushed (RFC 9126).
    pub require_par: bool,
    /// A resource server: may introspect tokens (RFC 7662).
    pub resource_server: bool,
    /// Its tokens must be DPoP-bound (RFC 9449).
    pub require_dpop: bool,
    /// The security profile it is held to (`--profile fapi2`).
    pub profile: Profile,
    /// Back-channel logout, encrypted ID tokens and UserInfo, signed UserInfo (checked here:
    /// known algorithms, a registered key for each encryption, an https endpoint).
    pub responses: crate::store::ResponseOptions,
}

impl NewClient {
    /// A registration with the defaults of `clients add`: no post-logout URI, ES256, pairwise,
    /// no keys, no PAR requirement, not a resource server.
    pub fn new(
        id: &str,
        name: &str,
        redirect_uris: Vec<String>,
        scopes: &str,
        auth_method: ClientAuthMethod,
    ) -> NewClient {
        NewClient {
            id: id.into(),
            name: name.into(),
            redirect_uris,
            post_logout_redirect_uris: Vec::new(),
            scopes: scopes.into(),
            auth_method,
            signing_alg: SigningAlg::Es256,
            subject_type: SubjectType::Pairwise,
            jwks: None,
            require_par: false,
            resource_server: false,
            require_dpop: false,
            profile: Profile::Baseline,
            responses: crate::store::ResponseOptions::default(),
        }
    }
}

/// What the FAPI 2.0 Security Profile asks of a registration: `private_key_jwt` with keys
/// (never a secret), ES256 ID tokens, and no registered key restricted to RS256. Pushed requests
/// and DPoP are then required whatever the flags say.
pub fn check_fapi2(new: &NewClient) -> Result<(), CliError> {
    if new.auth_method != ClientAuthMethod::PrivateKeyJwt {
        return Err(CliError::Invalid(
            "--profile fapi2 authenticates with private_key_jwt only (--auth-method private_key_jwt --jwks FILE)".into(),
        ));
    }
    if new.signing_alg != SigningAlg::Es256 {
        return Err(CliError::Invalid(
            "--profile fapi2 signs ID tokens with ES256 (FAPI 2.0 allows ES256 or PS256)".into(),
        ));
    }
    if let Some(jwks) = &new.jwks
        && let Ok(set) = josekit::jwk::JwkSet::from_bytes(jwks.as_bytes())
        && set
            .keys()
            .iter()
            // Encryption keys (`use: enc`) carry a key-management algorithm, not a signature one.
            .filter(|k| k.key_use() != Some("enc"))
            .any(|k| k.algorithm().is_some_and(|a| !Profile::Fapi2.allows_alg(a)))
    {
        return Err(CliError::Invalid(
            "--profile fapi2 keys sign with ES256 or PS256 only".into(),
        ));
    }
    Ok(())
}

/// What is wrong with an administrative request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// Bad input, with what to fix.
    #[error("{0}")]
    Invalid(String),
    /// A redirect URI that cannot be registered, with why.
    #[error("{0}")]
    InvalidRedirectUri(String),
    /// The database.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The keys.
    #[error(transparent)]
    Keys(#[from] crate::keys::KeyError),
    /// A signing key's certificate chain.
    #[error(transparent)]
    Certificate(#[from] crate::keys::certificates::CertificateError),
}

async fn store(config: &Config) -> Result<Store, CliError> {
    let store = Store::connect(&config.database_url, 2).await?;
    store.migrate().await?;
    Ok(store)
}

/// Registers a client; returns its generated secret (empty for `private_key_jwt` clients).
pub async fn add_client(config: &Config, new: NewClient) -> Result<String, CliError> {
    add_client_with_api_scopes(config, new, &[]).await
}

/// Registers a client that may also act for itself at the provider's APIs with these API scopes
/// (`registration` for the national app): it must authenticate with `private_key_jwt`, and
/// gets its tokens by the client-credentials grant.
pub async fn add_client_with_api_scopes(
    config: &Config,
    new: NewClient,
    api_scopes: &[ApiScope],
) -> Result<String, CliError> {
    if !api_scopes.is_empty() && new.auth_method != ClientAuthMethod::PrivateKeyJwt {
        return Err(CliError::Invalid(
            "a client with an API scope authenticates with private_key_jwt (--auth-method private_key_jwt --jwks FILE)".into(),
        ));
    }
    if api_scopes.is_empty() && new.redirect_uris.is_empty() {
        return Err(CliError::Invalid(
            "give at least one --redirect-uri (or an --api-scope for a client that acts for itself)"
                .into(),
        ));
    }
    let id = new.id.clone();
    let secret = insert_client(config, new, !api_scopes.is_empty()).await?;
    if !api_scopes.is_empty() {
        let names: Vec<&str> = api_scopes.iter().map(|s| s.as_str()).collect();
        let store = store(config).await?;
        if let Err(err) = store.grant_client_api_scopes(&id, &names).await {
            // Leave no client behind without the scopes it was registered for.
            store.remove_client(&id).await?;
            return Err(err.into());
        }
    }
    Ok(secret)
}

async fn insert_client(
    config: &Config,
    new: NewClient,
    api_only: bool,
) -> Result<String, CliError> {
    let (row, secret) = checked_row(new, api_only)?;
    store(config)
        .await?
        .insert_client(&row, Clock::default().now())
        .await?;
    Ok(secret.unwrap_or_default())
}

/// Checks a registration (the command line and the registration endpoint share this) and turns
/// it into a row with a fresh secret for a secret client; returns the row and that secret.
pub fn client_row(new: NewClient) -> Result<(ClientRow, Option<String>), CliError> {
    checked_row(new, false)
}

/// As [`client_row`]; a client that only acts for itself at the provider's APIs (`api_only`)
/// needs no redirect URI.
fn checked_row(new: NewClient, api_only: bool) -> Result<(ClientRow, Option<String>), CliError> {
    ClientId::parse(&new.id).ok_or_else(|| {
        CliError::Invalid("the client id must be 1-128 printable characters without spaces".into())
    })?;
    if new.name.trim().is_empty() || new.name.len() > 200 {
        return Err(CliError::Invalid(
            "the name must be 1-200 characters".into(),
        ));
    }
    let scopes = ScopeSet::parse(&new.scopes).map_err(|e| CliError::Invalid(e.to_string()))?;
    if !scopes.contains(vneid_contract::Scope::OpenId) {
        return Err(CliError::Invalid("the scopes must include openid".into()));
    }
    if new.redirect_uris.is_empty() && !api_only {
        return Err(CliError::InvalidRedirectUri(
            "at least one redirect URI is needed".into(),
        ));
    }
    for uri in new
        .redirect_uris
        .iter()
        .chain(&new.post_logout_redirect_uris)
    {
        let parsed = RedirectUri::parse(uri).ok_or_else(|| {
            CliError::InvalidRedirectUri(format!("`{uri}` is not an absolute URI without fragment"))
        })?;
        let url = url::Url::parse(parsed.as_str())
            .map_err(|e| CliError::InvalidRedirectUri(e.to_string()))?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(CliError::InvalidRedirectUri(format!(
                "`{uri}` must be https (http only on loopback)"
            )));
        }
    }
    let jwks = match &new.jwks {
        Some(jwks) => {
            let set = josekit::jwk::JwkSet::from_bytes(jwks.as_bytes())
                .map_err(|e| CliError::Invalid(format!("--jwks: {e}")))?;
            // Public EC or RSA keys only: a private (`d`) or symmetric (`oct`) key is a secret.
            let public = |k: &&josekit::jwk::Jwk| {
                matches!(k.key_type(), "EC" | "RSA")
                    && k.parameter("d").is_none()
                    && k.parameter("k").is_none()
            };
            if set.keys().is_empty() || !set.keys().iter().all(public) {
                return Err(CliError::Invalid(
                    "--jwks must hold public EC or RSA keys only, at least one".into(),
                ));
            }
            Some(jwks.clone())
        }
        None if new.auth_method == ClientAuthMethod::PrivateKeyJwt => {
            return Err(CliError::Invalid(
                "private_key_jwt needs --jwks FILE".into(),
            ));
        }
        None => None,
    };
    let fapi2 = new.profile == Profile::Fapi2;
    if fapi2 {
        check_fapi2(&new)?;
    }
    check_responses(&new.responses, jwks.as_deref())?;
    let secret =
        (new.auth_method != ClientAuthMethod::PrivateKeyJwt).then(crate::secret::new_bearer);
    let row = ClientRow {
        id: new.id,
        name: new.name,
        secret_hash: secret.as_deref().map(crate::secret::hash),
        auth_method: new.auth_method.as_str().into(),
        redirect_uris: json!(new.redirect_uris).to_string(),
        post_logout_redirect_uris: json!(new.post_logout_redirect_uris).to_string(),
        allowed_scopes: scopes.to_string(),
        signing_alg: new.signing_alg.as_str().into(),
        subject_type: new.subject_type.as_str().into(),
        jwks,
        options: crate::store::ClientOptions {
            require_par: i64::from(new.require_par || fapi2),
            resource_server: i64::from(new.resource_server),
            registration_token_hash: None,
            require_dpop: i64::from(new.require_dpop || fapi2),
            profile: new.profile.as_stored().map(str::to_string),
        },
        responses: new.responses,
    };
    Ok((row, secret))
}

/// Checks the back-channel logout endpoint and the response algorithms: each encryption needs
/// a registered public key usable for its algorithm.
fn check_responses(r: &crate::store::ResponseOptions, jwks: Option<&str>) -> Result<(), CliError> {
    use crate::oidc::encryption;
    if let Some(uri) = &r.backchannel_logout_uri {
        let url = url::Url::parse(uri)
            .ok()
            .filter(|u| u.fragment().is_none() && u.has_host())
            .ok_or_else(|| {
                CliError::Invalid(format!(
                    "backchannel_logout_uri `{uri}` must be an absolute URL without fragment"
                ))
            })?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(CliError::Invalid(format!(
                "backchannel_logout_uri `{uri}` must be https (http only on loopback)"
            )));
        }
    } else if r.backchannel_logout_session_required != 0 {
        return Err(CliError::Invalid(
            "backchannel_logout_session_required needs a backchannel_logout_uri".into(),
        ));
    }
    for (field, alg, enc) in [
        (
            "id_token",
            &r.id_token_encrypted_response_alg,
            &r.id_token_encrypted_response_enc,
        ),
        (
            "userinfo",
            &r.userinfo_encrypted_response_alg,
            &r.userinfo_encrypted_response_enc,
        ),
    ] {
        let parsed = encryption::parse(field, alg.as_deref(), enc.as_deref())
            .map_err(|e| CliError::Invalid(e.to_string()))?;
        if let Some(e) = parsed
            && !encryption::has_key_for(jwks, e.alg)
        {
            return Err(CliError::Invalid(format!(
                "{field}_encrypted_response_alg {}: {}",
                e.alg.as_str(),
                encryption::EncryptionError::NoKey(e.alg.as_str())
            )));
        }
    }
    if let Some(alg) = &r.userinfo_signed_response_alg
        && SigningAlg::parse(alg).is_none()
    {
        return Err(CliError::Invalid(
            "userinfo_signed_response_alg: ES256 or RS256".into(),
        ));
    }
    Ok(())
}

/// A table of the registered clients.
pub async fn list_clients(config: &Config) -> Result<String, CliError> {
    let mut out = String::new();
    let store = store(config).await?;
    for row in store.clients().await? {
        match Client::try_from(row) {
            Ok(c) => {
                let uris: Vec<&str> = c.redirect_uris.iter().map(|u| u.as_str()).collect();
                let api = store.client_api_scopes(c.id.as_str()).await?.join(" ");
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    c.id.as_str(),
                    c.name,
                    c.auth_method,
                    c.signing_alg,
                    c.subject_type,
                    c.allowed_scopes,
                    uris.join(","),
                    if api.is_empty() { "-" } else { api.as_str() }
                );
            }
            Err(err) => {
                let _ = writeln!(out, "{err}");
            }
        }
    }
    Ok(out)
}

/// A registration with its full reasons and evidence, for an operator (never shown to the
/// caller of the API).
pub async fn show_registration(config: &Config, id: &str) -> Result<String, CliError> {
    let row = store(config)
        .await?
        .registration(id)
        .await?
        .ok_or_else(|| CliError::Invalid(format!("no registration `{id}`")))?;
    let pretty = |json: Option<&str>| {
        json.and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok())
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| "-".into())
    };
    let mut out = String::new();
    let _ = writeln!(out, "registration {}", row.id);
    let _ = writeln!(out, "  id number:  {}", row.id_number);
    let _ = writeln!(out, "  status:     {}", row.status);
    let _ = writeln!(
        out,
        "  client:     {}",
        row.client_id.as_deref().unwrap_or("-")
    );
    let _ = writeln!(out, "  channel:    {}", row.channel);
    let _ = writeln!(out, "  created at: {}", row.created_at);
    let _ = writeln!(
        out,
        "  account:    {}",
        row.account_id.as_deref().unwrap_or("-")
    );
    let _ = writeln!(out, "  reasons:    {}", pretty(row.reasons.as_deref()));
    let _ = writeln!(out, "  evidence:   {}", pretty(row.evidence.as_deref()));
    let _ = writeln!(out, "  submission: {}", pretty(Some(&row.submission)));
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

/// Publishes the certificate chain an operator CA issued for a signing key (`x5c`; PEM, leaf
/// first): refused unless the leaf certifies that very key. Processes pick it up at their next
/// key reload.
pub async fn certify_key(config: &Config, kid: &str, pem: &[u8]) -> Result<(), CliError> {
    let store = store(config).await?;
    let sealer = Sealer::new(config.key_encryption_key.clone());
    crate::keys::certificates::certify(&store, &sealer, kid, pem, Clock::default().now()).await?;
    Ok(())
}

/// Registers a registration officer with a role (`registrar` or `supervisor`, see
/// `accounts::desk`); returns the generated password and TOTP secret (shown once).
pub async fn add_officer(
    config: &Config,
    username: &str,
    name: &str,
    station: &str,
    role: &str,
) -> Result<(String, String), CliError> {
    let role = crate::accounts::desk::Role::parse(role).ok_or_else(|| {
        CliError::Invalid(format!(
            "the role is `registrar` or `supervisor`, not `{role}`"
        ))
    })?;
    if name.trim().is_empty() || station.trim().is_empty() {
        return Err(CliError::Invalid(
            "the officer's name and station must not be empty".into(),
        ));
    }
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
        role: role.as_str().into(),
        password_hash: crate::accounts::password::hash_blocking(&password)
            .map_err(|e| CliError::Invalid(e.to_string()))?,
        totp_secret: sealer
            .seal(base32.as_bytes())
            .map_err(|e| CliError::Invalid(e.to_string()))?,
        failed_logins: 0,
        locked_until: None,
        totp_failures: 0,
        totp_locked_until: None,
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

/// Checks `--resident-of` values: each the code of a current province. An earlier province's
/// code is refused with the province it is now part of (its predicate would answer for a
/// larger area than the one named).
pub fn check_resident_provinces(codes: &[String]) -> Result<(), CliError> {
    use vneid_contract::{Lang, Province};
    for code in codes {
        if Province::parse(code).is_some() {
            continue;
        }
        return Err(CliError::Invalid(match Province::merged(code) {
            Some((name, now)) => format!(
                "--resident-of {code}: {name} is no longer a province; since 1 July 2025 it is \
                 part of {} ({}): give {}",
                now.name(Lang::Vi),
                now.code(),
                now.code()
            ),
            None => format!(
                "--resident-of {code}: give the two-digit code of one of the 34 provinces \
                 (01 Hà Nội, 79 Thành phố Hồ Chí Minh, ...)"
            ),
        }));
    }
    Ok(())
}

/// Sets the `resident_of:<code>` provinces a client may ask for.
pub async fn set_resident_provinces(
    config: &Config,
    client_id: &str,
    codes: &[String],
) -> Result<(), CliError> {
    check_resident_provinces(codes)?;
    let codes: Vec<&str> = codes.iter().map(String::as_str).collect();
    store(config)
        .await?
        .set_client_resident_provinces(client_id, &codes)
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

/// Registers (or with `None` unregisters) a client for CIBA: its token delivery mode (`poll`
/// or `ping`) and, for ping, its `backchannel_client_notification_endpoint` (https, or http on
/// loopback).
pub async fn set_ciba(
    config: &Config,
    client_id: &str,
    mode: Option<&str>,
    endpoint: Option<&str>,
) -> Result<(), CliError> {
    let registration = check_ciba(mode, endpoint)?;
    store(config)
        .await?
        .set_ciba_client(client_id, registration.as_ref())
        .await?;
    Ok(())
}

/// Validates CIBA client metadata (see [`crate::oidc::ciba::client_registration`]).
pub fn check_ciba(
    mode: Option<&str>,
    endpoint: Option<&str>,
) -> Result<Option<crate::store::CibaClientRow>, CliError> {
    crate::oidc::ciba::client_registration(mode, endpoint).map_err(CliError::Invalid)
}

/// Imports a business-registry export (a JSON array of organisations) into the embedded
/// registry: every code validated, all or none. Returns how many were imported.
pub async fn import_organizations(config: &Config, text: &str) -> Result<usize, CliError> {
    use crate::accounts::organization::OrganizationCode;
    let records: Vec<crate::registry::RegistryOrganization> = serde_json::from_str(text)
        .map_err(|e| CliError::Invalid(format!("not a JSON array of organisations: {e}")))?;
    let bad: Vec<String> = records
        .iter()
        .enumerate()
        .filter(|(_, o)| OrganizationCode::parse(&o.code).is_err() || o.name.trim().is_empty())
        .map(|(i, o)| format!("row {}: code {:?}: not a valid organisation", i + 1, o.code))
        .collect();
    if !bad.is_empty() {
        return Err(CliError::Invalid(format!(
            "{} row(s) rejected, nothing imported:\n{}",
            bad.len(),
            bad.join("\n")
        )));
    }
    store(config)
        .await?
        .registry_import_organizations(&records, Clock::default().now())
        .await?;
    Ok(records.len())
}

/// Re-syncs accounts from the registry now (`accounts sync`): the periodic job for cron, or one
/// account by its identification number. Returns how many were synced.
pub async fn sync_accounts(
    config: &Config,
    id_number: Option<&str>,
    every: i64,
    limit: i64,
) -> Result<usize, CliError> {
    let state = crate::prepare(config.clone(), Clock::default())
        .await
        .map_err(|e| CliError::Invalid(e.to_string()))?;
    let now = state.now();
    let sync_error = |e: crate::registry::sync::SyncError| CliError::Invalid(e.to_string());
    match id_number {
        Some(n) => {
            let row = state
                .store
                .account_by_username(n)
                .await?
                .ok_or_else(|| CliError::Invalid(format!("no account {n}")))?;
            crate::registry::sync::sync_account(
                &state.store,
                &state.registry,
                &row.id,
                crate::accounts::documents::SyncSource::Periodic,
                now,
            )
            .await
            .map_err(sync_error)?;
            Ok(1)
        }
        None => crate::registry::sync::sync_due(&state.store, &state.registry, every, limit, now)
            .await
            .map_err(sync_error),
    }
}
