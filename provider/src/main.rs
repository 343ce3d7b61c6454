//! The `vneid-provider` command line; nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;
use vneid_provider::clock::Clock;
use vneid_provider::config::{Config, KeyEncryptionKey};
use vneid_provider::oidc::client_credentials::ApiScope;
use vneid_provider::oidc::types::{ClientAuthMethod, SigningAlg, SubjectType};
use vneid_provider::{cli, demo};

/// The VNeID OpenID Connect provider: Level 1 and Level 2 electronic identity login.
#[derive(Parser)]
#[command(name = "vneid-provider", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve the demo on http://127.0.0.1:8080 with a fresh embedded database and the demo accounts and clients.
    Demo {
        /// Port to listen on (the issuer follows it).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// A registry export to import at start (e.g. examples/registry/sample.json).
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Run on this database instead of a fresh embedded one (`postgres://...` or
        /// `sqlite:PATH`): the demo accounts and clients are seeded when missing, and a restart
        /// finds them. Its key-encryption key is VNEID_KEY_ENCRYPTION_KEY, or else a published
        /// demo key: demo data only.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Serve with a configuration file (environment variables VNEID_* override it).
    Serve(ConfigArg),
    /// Create or update the database schema, then exit.
    Migrate(ConfigArg),
    /// Manage relying parties.
    Clients {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Manage registration officers (the Level 2 desk at /desk).
    Officers {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: OfficersCommand,
    },
    /// Manage the embedded population registry.
    Registry {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Look at Level 1 registrations from the app, with their full reasons.
    Registrations {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        command: RegistrationsCommand,
    },
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Sign a software statement (RFC 7591 2.3) with the operator's private key: client
    /// metadata that lets its holder register at /register without the initial access token.
    /// The provider checks it with the operator's public key (`[clients]
    /// software_statement_key` or VNEID_SOFTWARE_STATEMENT_KEY) and `iss`.
    SoftwareStatement {
        /// The operator's private key, PEM (P-256 signs ES256, RSA PS256).
        #[arg(long)]
        key: PathBuf,
        /// A JSON file with the client metadata (RFC 7591 2: redirect_uris, client_name,
        /// token_endpoint_auth_method, jwks, scope, ...).
        #[arg(long)]
        metadata: PathBuf,
        /// The statement's `iss`: the provider's `software_statement_issuer`, by default its
        /// issuer URL.
        #[arg(long)]
        issuer: String,
        /// The `kid` of the operator's key, when the provider holds several.
        #[arg(long)]
        key_id: Option<String>,
        /// Days the statement stays valid (`exp`); 0 for no expiry.
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
}

#[derive(Args)]
struct ConfigArg {
    /// The TOML configuration file (issuer, bind, database_url, key_encryption_key, lifetimes).
    #[arg(long, short, env = "VNEID_CONFIG")]
    config: Option<PathBuf>,
}

// Parsed once at start: the size of the `add` variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum ClientsCommand {
    /// Register a client; its generated secret is printed once.
    Add {
        /// The client id.
        #[arg(long)]
        id: String,
        /// The name citizens see on the login and consent pages.
        #[arg(long)]
        name: String,
        /// A redirect URI (repeat for several); matched exactly.
        #[arg(long = "redirect-uri", required_unless_present = "api_scopes")]
        redirect_uris: Vec<String>,
        /// A post-logout redirect URI (repeat for several).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        /// The scopes the client may ask for, space-separated.
        #[arg(long, default_value = "openid profile")]
        scopes: String,
        /// Token-endpoint authentication.
        #[arg(long, default_value = "client_secret_basic", value_parser = ["client_secret_basic", "client_secret_post", "private_key_jwt"])]
        auth_method: String,
        /// A file with the client's public keys (JWKS): for private_key_jwt and signed request objects.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// The client must push its authorization requests (PAR, RFC 9126).
        #[arg(long)]
        require_par: bool,
        /// The client is a resource server: it may introspect tokens (RFC 7662).
        #[arg(long)]
        resource_server: bool,
        /// The client's access and refresh tokens must be DPoP-bound (RFC 9449): a token
        /// request without a DPoP proof is refused.
        #[arg(long)]
        require_dpop: bool,
        /// A security profile: `fapi2` (FAPI 2.0 Security Profile: PAR, private_key_jwt, DPoP,
        /// ES256/PS256, codes of at most 60 s).
        #[arg(long, value_parser = ["fapi2"])]
        profile: Option<String>,
        /// Back-channel logout and encrypted or signed responses.
        #[command(flatten)]
        responses: ResponseArgs,
        /// CIBA (decoupled login approved in the citizen's app): `poll` or `ping`.
        #[arg(long, value_parser = ["poll", "ping"])]
        backchannel_token_delivery_mode: Option<String>,
        /// CIBA ping mode: where the provider POSTs `{"auth_req_id"}` with the client's
        /// `client_notification_token` (https, or http on loopback).
        #[arg(long)]
        backchannel_client_notification_endpoint: Option<String>,
        /// ID-token signing algorithm.
        #[arg(long, default_value = "ES256", value_parser = ["ES256", "RS256"])]
        signing_alg: String,
        /// `pairwise` (a different sub per client) or `public`.
        #[arg(long, default_value = "pairwise", value_parser = ["pairwise", "public"])]
        subject_type: String,
        /// An API permission for a client acting for itself through the client_credentials
        /// grant: `registration` for the national app (needs private_key_jwt).
        #[arg(long = "api-scope", value_parser = ["registration"])]
        api_scopes: Vec<String>,
        /// The ages N of the `age_over_N` predicate claims it may ask for, comma-separated
        /// (e.g. `18,21`); none by default.
        #[arg(long = "age-over", value_delimiter = ',')]
        age_over: Vec<u8>,
        /// The provinces (current two-digit codes, e.g. `01` for Hà Nội) of the
        /// `resident_of:<code>` predicate claims it may ask for, comma-separated; none by default.
        #[arg(long = "resident-of", value_delimiter = ',')]
        resident_of: Vec<String>,
        /// Where to push its account-status Security Event Tokens (RFC 8935); without it, the
        /// client polls for them (RFC 8936).
        #[arg(long = "events-endpoint")]
        events_endpoint: Option<String>,
    },
    /// List the registered clients.
    List,
    /// Remove a client, with its codes, tokens and consents.
    Remove {
        /// The client id.
        id: String,
    },
}

#[derive(Subcommand)]
enum OfficersCommand {
    /// Register an officer; the generated password and TOTP secret are printed once.
    Add {
        /// Login name.
        #[arg(long)]
        username: String,
        /// Full name.
        #[arg(long)]
        name: String,
        /// The police station the officer works for (kept in the desk's audit log; never
        /// released to relying parties).
        #[arg(long)]
        station: String,
        /// What the officer may do: `registrar` looks people up, verifies biometrics and enrols
        /// Level 2 accounts; `supervisor` may also lock, unlock and revoke accounts and register
        /// organisations.
        #[arg(long, default_value = "registrar", value_parser = ["registrar", "supervisor"])]
        role: String,
    },
}

#[derive(Subcommand)]
enum RegistrationsCommand {
    /// A registration's decision with its full reasons and evidence (the app sees none of it).
    Show {
        /// The registration id the app received.
        id: String,
    },
}

#[derive(Subcommand)]
enum RegistryCommand {
    /// Load an export (JSON array, JSON lines, or CSV with a header row): every row is validated,
    /// and one bad row means nothing is imported; the report names each rejected row.
    Import {
        /// The export file.
        file: PathBuf,
    },
    /// Load a business-registry export (a JSON array of organisations: code, name,
    /// established_on, head_office_address, status, representatives).
    ImportOrganizations {
        /// The export file.
        file: PathBuf,
    },
    /// Re-sync accounts' documents and levels from the registry: those not synced for
    /// --every seconds (run it from cron), or one account.
    Sync {
        /// One account's identification number.
        #[arg(long)]
        id_number: Option<String>,
        /// Re-sync accounts not synced for this many seconds.
        #[arg(long, default_value_t = 86_400)]
        every: i64,
        /// At most this many accounts.
        #[arg(long, default_value_t = 1_000)]
        limit: i64,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List the published signing keys.
    List(ConfigArg),
    /// Make a new signing key; the old one stays published for the overlap (lifetimes.key_overlap).
    Rotate {
        #[command(flatten)]
        config: ConfigArg,
        /// Which algorithm's key to rotate.
        #[arg(long, default_value = "ES256", value_parser = ["ES256", "RS256"])]
        alg: String,
    },
    /// Publish the certificate chain an operator CA issued for a signing key (x5c in the JWKS
    /// and the key history); the leaf must certify that key.
    Certify {
        #[command(flatten)]
        config: ConfigArg,
        /// The key id (`keys list`).
        #[arg(long)]
        kid: String,
        /// The chain, PEM, leaf first.
        #[arg(long = "signing-cert-chain")]
        signing_cert_chain: PathBuf,
    },
    /// Print a fresh random key-encryption key for the configuration.
    GenerateKek,
}

/// mimalloc instead of glibc's malloc: measured in the SSO benchmark (bench/README.md), glibc's
/// malloc, free and consolidation took about 12% of the provider's CPU, and its per-thread arenas
/// kept freed memory.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .init();
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

type AnyError = Box<dyn std::error::Error + Send + Sync>;

async fn run(cli: Cli) -> Result<(), AnyError> {
    match cli.command {
        Command::Demo {
            port,
            registry,
            database_url,
        } => run_demo(port, registry, database_url).await,
        Command::Serve(arg) => {
            let config = Config::load(arg.config.as_deref())?;
            let listener = TcpListener::bind(config.bind).await?;
            let state = vneid_provider::prepare(config, Clock::default()).await?;
            tracing::info!(issuer = %state.issuer, addr = %listener.local_addr()?, "serving");
            vneid_provider::serve(listener, state).await?;
            Ok(())
        }
        Command::Migrate(arg) => {
            let config = Config::load(arg.config.as_deref())?;
            let store = vneid_provider::store::Store::connect(&config.database_url, 1).await?;
            store.migrate().await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Clients { config, command } => {
            let config = Config::load(config.config.as_deref())?;
            match command {
                ClientsCommand::Add {
                    id,
                    name,
                    redirect_uris,
                    post_logout_redirect_uris,
                    scopes,
                    auth_method,
                    signing_alg,
                    subject_type,
                    jwks,
                    api_scopes,
                    require_par,
                    resource_server,
                    require_dpop,
                    profile,
                    responses,
                    age_over,
                    resident_of,
                    events_endpoint,
                    backchannel_token_delivery_mode,
                    backchannel_client_notification_endpoint,
                } => {
                    cli::check_ciba(
                        backchannel_token_delivery_mode.as_deref(),
                        backchannel_client_notification_endpoint.as_deref(),
                    )?;
                    let jwks = match jwks {
                        Some(file) => Some(
                            std::fs::read_to_string(&file)
                                .map_err(|e| format!("cannot read {}: {e}", file.display()))?,
                        ),
                        None => None,
                    };
                    let registration = cli::NewClient {
                        id,
                        name,
                        redirect_uris,
                        post_logout_redirect_uris,
                        scopes,
                        auth_method: ClientAuthMethod::parse(&auth_method)
                            .ok_or("bad auth method")?,
                        signing_alg: SigningAlg::parse(&signing_alg).ok_or("bad signing alg")?,
                        subject_type: SubjectType::parse(&subject_type)
                            .ok_or("bad subject type")?,
                        jwks,
                        require_par,
                        resource_server,
                        require_dpop,
                        profile: vneid_provider::oidc::client::Profile::parse(profile.as_deref())
                            .ok_or("bad profile")?,
                        responses: responses.into(),
                    };
                    let api_scopes = api_scopes
                        .iter()
                        .map(|s| ApiScope::parse(s).ok_or("bad API scope"))
                        .collect::<Result<Vec<_>, _>>()?;
                    cli::check_age_thresholds(&age_over)?;
                    cli::check_resident_provinces(&resident_of)?;
                    let client_id = registration.id.clone();
                    let secret =
                        cli::add_client_with_api_scopes(&config, registration, &api_scopes).await?;
                    cli::set_age_thresholds(&config, &client_id, &age_over).await?;
                    cli::set_resident_provinces(&config, &client_id, &resident_of).await?;
                    if let Some(endpoint) = events_endpoint.as_deref() {
                        cli::set_event_receiver(&config, &client_id, Some(endpoint)).await?;
                    }
                    if backchannel_token_delivery_mode.is_some() {
                        cli::set_ciba(
                            &config,
                            &client_id,
                            backchannel_token_delivery_mode.as_deref(),
                            backchannel_client_notification_endpoint.as_deref(),
                        )
                        .await?;
                    }
                    if secret.is_empty() {
                        println!("client registered; it authenticates with private_key_jwt");
                    } else {
                        println!(
                            "client registered; its secret (shown once, store it now):\n{secret}"
                        );
                    }
                }
                ClientsCommand::List => print!("{}", cli::list_clients(&config).await?),
                ClientsCommand::Remove { id } => {
                    cli::remove_client(&config, &id).await?;
                    println!("client {id} removed");
                }
            }
            Ok(())
        }
        Command::Officers { config, command } => {
            let config = Config::load(config.config.as_deref())?;
            let OfficersCommand::Add {
                username,
                name,
                station,
                role,
            } = command;
            let (password, secret) =
                cli::add_officer(&config, &username, &name, &station, &role).await?;
            println!(
                "officer {username} ({role}) registered (shown once):\n  password:    {password}\n  TOTP secret: {secret}"
            );
            Ok(())
        }
        Command::Registrations { config, command } => {
            let config = Config::load(config.config.as_deref())?;
            let RegistrationsCommand::Show { id } = command;
            print!("{}", cli::show_registration(&config, &id).await?);
            Ok(())
        }
        Command::Registry { config, command } => {
            let config = Config::load(config.config.as_deref())?;
            match command {
                RegistryCommand::Import { file } => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    let progress = std::io::IsTerminal::is_terminal(&std::io::stderr());
                    let report = cli::import_registry(&config, &text, progress).await?;
                    println!("{} people imported into the registry", report.imported);
                }
                RegistryCommand::ImportOrganizations { file } => {
                    let text = std::fs::read_to_string(&file)
                        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
                    let n = cli::import_organizations(&config, &text).await?;
                    println!("{n} organisations imported into the business registry");
                }
                RegistryCommand::Sync {
                    id_number,
                    every,
                    limit,
                } => {
                    let n = cli::sync_accounts(&config, id_number.as_deref(), every, limit).await?;
                    println!("{n} accounts re-synced from the registry");
                }
            }
            Ok(())
        }
        Command::SoftwareStatement {
            key,
            metadata,
            issuer,
            key_id,
            days,
        } => {
            let pem =
                std::fs::read_to_string(&key).map_err(|e| format!("{}: {e}", key.display()))?;
            let text = std::fs::read_to_string(&metadata)
                .map_err(|e| format!("{}: {e}", metadata.display()))?;
            let serde_json::Value::Object(fields) =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", metadata.display()))?
            else {
                return Err(format!("{}: not a JSON object", metadata.display()).into());
            };
            let lifetime = (days > 0).then(|| days.saturating_mul(24 * 3600));
            let jwt = vneid_provider::oidc::software_statement::sign(
                &pem,
                key_id.as_deref(),
                &issuer,
                &fields,
                Clock::default().now(),
                lifetime,
            )?;
            println!("{jwt}");
            Ok(())
        }
        Command::Keys { command } => match command {
            KeysCommand::Certify {
                config,
                kid,
                signing_cert_chain,
            } => {
                let config = Config::load(config.config.as_deref())?;
                let pem = std::fs::read(&signing_cert_chain)
                    .map_err(|e| format!("cannot read {}: {e}", signing_cert_chain.display()))?;
                cli::certify_key(&config, &kid, &pem).await?;
                println!("key {kid}: certificate chain published");
                Ok(())
            }
            KeysCommand::GenerateKek => {
                println!("{}", KeyEncryptionKey::generate().encode());
                Ok(())
            }
            KeysCommand::List(arg) => {
                let config = Config::load(arg.config.as_deref())?;
                print!("{}", cli::list_keys(&config).await?);
                Ok(())
            }
            KeysCommand::Rotate { config, alg } => {
                let config = Config::load(config.config.as_deref())?;
                let alg = SigningAlg::parse(&alg).ok_or("bad alg")?;
                let kid = cli::rotate_key(&config, alg).await?;
                println!(
                    "new {alg} key {kid}; the previous one stays published for {} s",
                    config.lifetimes.key_overlap
                );
                Ok(())
            }
        },
    }
}

async fn run_demo(
    port: u16,
    registry: Option<PathBuf>,
    database_url: Option<String>,
) -> Result<(), AnyError> {
    // A given database outlives the demo, so its keys are sealed with a key that does too.
    let (database_url, kek, fresh_file) = match database_url {
        Some(url) => {
            let kek = std::env::var("VNEID_KEY_ENCRYPTION_KEY")
                .unwrap_or_else(|_| demo::DEMO_KEY_ENCRYPTION_KEY.to_string());
            (url, KeyEncryptionKey::try_from(kek)?, None)
        }
        None => {
            let path = std::env::temp_dir().join(format!("vneid-demo-{}.db", std::process::id()));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
            }
            let url = format!("sqlite:{}", path.display());
            (url, KeyEncryptionKey::generate(), Some(path))
        }
    };
    let issuer = url::Url::parse(&format!("http://127.0.0.1:{port}"))?;
    let mut config = Config::new(issuer, database_url, kek);
    // Demo mode: notifications on the console and at /demo/outbox.
    config.demo = true;
    // The side-by-side benchmark (bench/run) drives the demo from one address, as no citizen
    // does: it turns the rate limits off, as the peer it is compared with has none.
    if let Ok(value) = std::env::var("VNEID_RATE_LIMITS") {
        config.limits.enabled = !matches!(value.trim(), "off" | "false" | "0");
    }
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let state = vneid_provider::prepare(config, Clock::default()).await?;
    demo::seed(&state.store, &state.sealer, state.now()).await?;
    // A demo operator CA certifies the signing keys (x5c); its certificate is what a relying
    // party trusts (README: receipts).
    let ca_file = demo::certify_keys(&state).await?;
    println!("demo operator CA certificate: {}", ca_file.display());
    if let Some(file) = registry {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let report = cli::import_registry(&state.config, &text, false).await?;
        println!(
            "{} people imported into the demo registry from {}",
            report.imported,
            file.display()
        );
    }
    println!("{}", demo::banner(&state.issuer));
    vneid_provider::serve(listener, state).await?;
    if let Some(path) = fresh_file {
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

/// `clients add` options for back-channel logout and encrypted or signed responses.
#[derive(Debug, clap::Args)]
struct ResponseArgs {
    /// Where logout tokens are POSTed when a session the client logged in to ends
    /// (OpenID Connect Back-Channel Logout 1.0); https, or http on loopback.
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// The client needs `sid` in logout tokens (it is always sent).
    #[arg(long)]
    backchannel_logout_session_required: bool,
    /// Encrypt ID tokens to the client's key (in --jwks) with this algorithm.
    #[arg(long, value_parser = ["RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW"])]
    id_token_encrypted_response_alg: Option<String>,
    /// The content encryption of ID tokens (with the algorithm above).
    #[arg(long, value_parser = ["A256GCM"])]
    id_token_encrypted_response_enc: Option<String>,
    /// Encrypt UserInfo to the client's key (in --jwks) with this algorithm.
    #[arg(long, value_parser = ["RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW"])]
    userinfo_encrypted_response_alg: Option<String>,
    /// The content encryption of UserInfo (with the algorithm above).
    #[arg(long, value_parser = ["A256GCM"])]
    userinfo_encrypted_response_enc: Option<String>,
    /// Sign UserInfo (`application/jwt`) with this algorithm.
    #[arg(long, value_parser = ["ES256", "RS256"])]
    userinfo_signed_response_alg: Option<String>,
}

impl From<ResponseArgs> for vneid_provider::store::ResponseOptions {
    fn from(a: ResponseArgs) -> Self {
        // An encryption algorithm alone means A256GCM, the only one we support.
        let enc = |alg: &Option<String>, enc: Option<String>| {
            enc.or_else(|| alg.as_ref().map(|_| "A256GCM".to_string()))
        };
        vneid_provider::store::ResponseOptions {
            id_token_encrypted_response_enc: enc(
                &a.id_token_encrypted_response_alg,
                a.id_token_encrypted_response_enc,
            ),
            userinfo_encrypted_response_enc: enc(
                &a.userinfo_encrypted_response_alg,
                a.userinfo_encrypted_response_enc,
            ),
            backchannel_logout_uri: a.backchannel_logout_uri,
            backchannel_logout_session_required: i64::from(a.backchannel_logout_session_required),
            id_token_encrypted_response_alg: a.id_token_encrypted_response_alg,
            userinfo_encrypted_response_alg: a.userinfo_encrypted_response_alg,
            userinfo_signed_response_alg: a.userinfo_signed_response_alg,
        }
    }
}
