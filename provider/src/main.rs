//! The `vneid-provider` command line; nothing else.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;
use vneid_provider::clock::Clock;
use vneid_provider::config::{Config, KeyEncryptionKey};
use vneid_provider::oidc::types::{ClientAuthMethod, SigningAlg, SubjectType};
use vneid_provider::{cli, demo};

/// The VNeID OpenID Connect provider: Level 1 and Level 2 electronic identity login.
#[derive(Parser)]
#[command(name = "vneid-provider", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Args)]
struct ConfigArg {
    /// The TOML configuration file (issuer, bind, database_url, key_encryption_key, lifetimes).
    #[arg(long, short, env = "VNEID_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
// Parsed once at start: the size of the `add` variant does not matter.
#[allow(clippy::large_enum_variant)]
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
        #[arg(long = "redirect-uri", required = true)]
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
        /// For private_key_jwt: a file with the client's public keys (JWKS).
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// ID-token signing algorithm.
        #[arg(long, default_value = "ES256", value_parser = ["ES256", "RS256"])]
        signing_alg: String,
        /// `pairwise` (a different sub per client) or `public`.
        #[arg(long, default_value = "pairwise", value_parser = ["pairwise", "public"])]
        subject_type: String,
        /// The ages N of the `age_over_N` predicate claims it may ask for, comma-separated
        /// (e.g. `18,21`); none by default.
        #[arg(long = "age-over", value_delimiter = ',')]
        age_over: Vec<u8>,
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
        /// The police station (shown on evidence).
        #[arg(long)]
        station: String,
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
    /// Print a fresh random key-encryption key for the configuration.
    GenerateKek,
}

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
        Command::Demo { port, registry } => run_demo(port, registry).await,
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
                    age_over,
                    events_endpoint,
                } => {
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
                    };
                    cli::check_age_thresholds(&age_over)?;
                    let client_id = registration.id.clone();
                    let secret = cli::add_client(&config, registration).await?;
                    cli::set_age_thresholds(&config, &client_id, &age_over).await?;
                    if let Some(endpoint) = events_endpoint.as_deref() {
                        cli::set_event_receiver(&config, &client_id, Some(endpoint)).await?;
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
            } = command;
            let (password, secret) = cli::add_officer(&config, &username, &name, &station).await?;
            println!(
                "officer {username} registered (shown once):\n  password:    {password}\n  TOTP secret: {secret}"
            );
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
            }
            Ok(())
        }
        Command::Keys { command } => match command {
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

async fn run_demo(port: u16, registry: Option<PathBuf>) -> Result<(), AnyError> {
    let path = std::env::temp_dir().join(format!("vneid-demo-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let issuer = url::Url::parse(&format!("http://127.0.0.1:{port}"))?;
    let mut config = Config::new(
        issuer,
        format!("sqlite:{}", path.display()),
        KeyEncryptionKey::generate(),
    );
    // Demo mode: notifications on the console and at /demo/outbox.
    config.demo = true;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let state = vneid_provider::prepare(config, Clock::default()).await?;
    demo::seed(&state.store, &state.sealer, state.now()).await?;
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
    let _ = std::fs::remove_file(&path);
    Ok(())
}
