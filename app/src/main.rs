//! `vneid-app`: the command line of the phone-app simulator (see the crate docs).
//!
//! ```text
//! vneid-app --state phone.json enrol --provider http://127.0.0.1:3000 --code CODE
//! vneid-app --state phone.json pending
//! vneid-app --state phone.json approve ID
//! vneid-app --state phone.json deny ID
//! vneid-app --state phone.json scan 'http://127.0.0.1:3000/app/qr?id=...' --yes
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vneid_app::{App, AppError};

/// A simulator of the citizen's VNeID phone app: a device key that approves logins.
#[derive(Parser)]
#[command(name = "vneid-app", version)]
struct Cli {
    /// Where the device id and private key are kept.
    #[arg(
        long,
        env = "VNEID_APP_STATE",
        default_value = "vneid-app.json",
        global = true
    )]
    state: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a device key and link it with the one-time code from /account/devices.
    Enrol {
        /// The provider's URL (its issuer).
        #[arg(long)]
        provider: String,
        /// The enrolment code shown on /account/devices.
        #[arg(long)]
        code: String,
        /// A name for this device, shown on /account/devices.
        #[arg(long, default_value = "vneid-app simulator")]
        name: String,
    },
    /// List the requests (from a bank's branch or call centre) waiting for approval.
    Pending,
    /// Approve a pending request.
    Approve {
        /// The request's id (from `pending`).
        id: String,
    },
    /// Refuse a pending request.
    Deny {
        /// The request's id (from `pending`).
        id: String,
    },
    /// Read a login page's QR code (its text), show who asks for what, and approve with --yes.
    Scan {
        /// The QR code's text: `{provider}/app/qr?id=...`.
        payload: String,
        /// Approve (otherwise only show).
        #[arg(long)]
        yes: bool,
        /// Refuse.
        #[arg(long, conflicts_with = "yes")]
        deny: bool,
    },
}

async fn run(cli: Cli) -> Result<(), AppError> {
    match cli.command {
        Command::Enrol {
            provider,
            code,
            name,
        } => {
            let app = App::enrol(&provider, &code, &name).await?;
            app.save(&cli.state)?;
            println!(
                "device {} enrolled; key kept in {}",
                app.device_id(),
                cli.state.display()
            );
        }
        Command::Pending => {
            let app = App::load(&cli.state)?;
            let pending = app.pending().await?;
            if pending.is_empty() {
                println!("nothing to approve");
            }
            for a in pending {
                println!("{}\n{}\n", a.id, a.describe());
            }
        }
        Command::Approve { id } => {
            let app = App::load(&cli.state)?;
            let approval = app.approve_id(&id).await?;
            println!("approved:\n{}", approval.describe());
        }
        Command::Deny { id } => {
            App::load(&cli.state)?.deny(&id).await?;
            println!("denied");
        }
        Command::Scan { payload, yes, deny } => {
            let app = App::load(&cli.state)?;
            let approval = app.scan(&payload).await?;
            println!("{}", approval.describe());
            if yes {
                app.approve(&approval).await?;
                println!("approved: the browser continues by itself");
            } else if deny {
                app.deny(&approval.id).await?;
                println!("denied");
            } else {
                println!("(run again with --yes to approve, --deny to refuse)");
            }
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("vneid-app: {err}");
            ExitCode::FAILURE
        }
    }
}
