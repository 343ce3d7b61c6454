//! The national app's side of the registration API's authentication: a `private_key_jwt` client
//! assertion (RFC 7523) signed with the app's key, exchanged at the token endpoint for a
//! client-credentials access token with the `registration` scope. Prints the token.
//!
//! With the demo running (`cargo run --release -p vneid-provider -- demo`):
//!
//! ```sh
//! TOKEN=$(cargo run -q -p vneid-provider --example app_token)
//! curl -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
//!   --data @examples/registry/chau-registration.json http://127.0.0.1:8080/api/v1/registrations
//! ```
//!
//! `VNEID_ISSUER` (default `http://127.0.0.1:8080`), `VNEID_APP_CLIENT` (default `demo-app`),
//! `VNEID_APP_KEY` (a PEM file, default the demo app's `examples/registry/demo-app-key.pem`) and
//! `VNEID_APP_KEY_ID` (default `demo-app-key`) choose another provider or app.

use std::time::{Duration, SystemTime};

use josekit::jws::{ES256, JwsHeader};
use josekit::jwt::JwtPayload;

type AnyError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), AnyError> {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let issuer = env("VNEID_ISSUER", "http://127.0.0.1:8080");
    let client = env("VNEID_APP_CLIENT", vneid_provider::demo::DEMO_APP);
    let key_id = env("VNEID_APP_KEY_ID", vneid_provider::demo::DEMO_APP_KEY_ID);
    let key_file = env(
        "VNEID_APP_KEY",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/registry/demo-app-key.pem"
        ),
    );
    let pem = std::fs::read(&key_file).map_err(|e| format!("cannot read {key_file}: {e}"))?;
    let token_endpoint = format!("{}/token", issuer.trim_end_matches('/'));

    let mut payload = JwtPayload::new();
    payload.set_issuer(&client);
    payload.set_subject(&client);
    payload.set_audience(vec![token_endpoint.as_str()]);
    payload.set_jwt_id(vneid_provider::secret::new_id());
    let now = SystemTime::now();
    payload.set_issued_at(&now);
    payload.set_expires_at(&(now + Duration::from_secs(60)));
    let mut header = JwsHeader::new();
    header.set_key_id(&key_id);
    let assertion =
        josekit::jwt::encode_with_signer(&payload, &header, &ES256.signer_from_pem(&pem)?)?;

    let response: serde_json::Value = reqwest::Client::new()
        .post(&token_endpoint)
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "registration"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &assertion),
        ])
        .send()
        .await?
        .json()
        .await?;
    match response["access_token"].as_str() {
        Some(token) => {
            println!("{token}");
            Ok(())
        }
        None => Err(format!("the token endpoint refused: {response}").into()),
    }
}
