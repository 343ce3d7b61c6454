//! Runs the example bank on http://127.0.0.1:3002 against `VNEID_ISSUER` (default
//! http://127.0.0.1:8080, the demo provider); records go to `BANK_DATABASE_URL` (default
//! `sqlite:bank-ekyc.db?mode=rwc`).

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let issuer = std::env::var("VNEID_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let db = std::env::var("BANK_DATABASE_URL")
        .unwrap_or_else(|_| "sqlite:bank-ekyc.db?mode=rwc".into());
    let app = bank_ekyc::app(&issuer, "http://127.0.0.1:3002", &db).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3002").await?;
    println!("bank eKYC on http://127.0.0.1:3002 (provider {issuer})");
    axum::serve(listener, app).await?;
    Ok(())
}
