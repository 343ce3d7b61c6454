//! Runs the example portal on http://127.0.0.1:3001 against `VNEID_ISSUER`
//! (default http://127.0.0.1:8080, the demo provider).

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_env_filter("info").init();
    let issuer = std::env::var("VNEID_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let app = public_portal::app(&issuer, "http://127.0.0.1:3001").await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3001").await?;
    println!("public portal on http://127.0.0.1:3001 (provider {issuer})");
    axum::serve(listener, app).await?;
    Ok(())
}
