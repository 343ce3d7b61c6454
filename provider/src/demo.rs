//! Demo mode: CONTRACT.md's demo accounts and clients, seeded into a fresh embedded database
//! (or into the database given with `demo --database-url`, SQLite or PostgreSQL, where a restart
//! finds them and seeds nothing twice). These exist only in demo mode.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::accounts::password;
use crate::error::AppError;
use crate::keys::Sealer;
use crate::oidc::client_credentials::ApiScope;
use crate::oidc::types::{ClientAuthMethod, SigningAlg, SubjectType};
use crate::store::{ClientRow, NewAccount, NewDocument, Store};

/// The password of both demo accounts.
pub const DEMO_PASSWORD: &str = "Demo@2026";
/// The Level 2 demo account's TOTP secret (base32).
pub const DEMO_TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";
/// The demo registration officer, a registrar (password and TOTP secret as the demo citizens').
pub const DEMO_OFFICER: &str = "canbo01";
/// The demo supervisor (locks, unlocks, revokes, registers organisations; same password and
/// TOTP secret).
pub const DEMO_SUPERVISOR: &str = "giamsat01";
/// The Level 1 demo citizen's identification number.
pub const LEVEL1_USERNAME: &str = "001095000001";
/// The Level 2 demo citizen's identification number.
pub const LEVEL2_USERNAME: &str = "079198000002";

/// The demo national app: registers Level 1 accounts at `/api/v1/registrations` with a
/// client-credentials token, authenticating with `private_key_jwt`. Its private key is
/// `examples/registry/demo-app-key.pem` (public, for the demo only); its public key is below.
pub const DEMO_APP: &str = "demo-app";
/// The `kid` of the demo app's key.
pub const DEMO_APP_KEY_ID: &str = "demo-app-key";
/// The demo app's public keys (JWKS).
pub const DEMO_APP_JWKS: &str = include_str!("../../examples/registry/demo-app-jwks.json");

/// The demo bank as a FAPI 2.0 client (an addition to the contract, which names `demo-bank` as
/// a secret client): pushed requests, `private_key_jwt` with `examples/bank-ekyc/keys/
/// signing-key.pem`, DPoP-bound tokens, ID tokens encrypted to `encryption-key.pem`
/// (ECDH-ES+A256KW, A256GCM). Its keys are public, for the demo only.
pub const DEMO_BANK_FAPI: &str = "demo-bank-fapi";
/// The `kid` of the FAPI bank's signing key.
pub const DEMO_BANK_FAPI_KEY_ID: &str = "demo-bank-fapi-sig";
/// The FAPI bank's public keys (JWKS): its signing key and its encryption key.
pub const DEMO_BANK_FAPI_JWKS: &str = include_str!("../../examples/bank-ekyc/keys/jwks.json");

/// The key-encryption key of a demo on a database that outlives it (`demo --database-url`):
/// fixed, so that a restarted demo opens the signing keys and TOTP secrets it sealed before.
/// It is published here, so it protects nothing: demo databases only.
pub const DEMO_KEY_ENCRYPTION_KEY: &str = "dm5laWQtZGVtby1vbmx5LW5vdC1hLXNlY3JldC1rZXk";

/// A demo client: id, secret, callback and post-logout address.
pub struct DemoClient {
    pub id: &'static str,
    pub name: &'static str,
    pub secret: &'static str,
    pub redirect_uri: &'static str,
    pub post_logout_redirect_uri: &'static str,
}

/// The contract's demo clients.
pub const DEMO_CLIENTS: [DemoClient; 2] = [
    DemoClient {
        id: "demo-portal",
        name: "Cổng dịch vụ công (demo)",
        secret: "demo-portal-secret",
        redirect_uri: "http://127.0.0.1:3001/callback",
        post_logout_redirect_uri: "http://127.0.0.1:3001/logged-out",
    },
    DemoClient {
        id: "demo-bank",
        name: "Ngân hàng (demo eKYC)",
        secret: "demo-bank-secret",
        redirect_uri: "http://127.0.0.1:3002/callback",
        post_logout_redirect_uri: "http://127.0.0.1:3002/logged-out",
    },
];

fn evidence(level: u8) -> String {
    let mut evidence = vec![json!({
        "type": "electronic_record",
        "check_details": [{ "check_method": "data", "organization": "Bộ Công an" }],
        "record": { "type": "population_register", "source": { "name": "Cơ sở dữ liệu quốc gia về dân cư", "country_code": "VN" } },
    })];
    if level == 2 {
        evidence.push(json!({
            "type": "electronic_record",
            "check_details": [
                { "check_method": "bvr", "organization": "Công an phường (demo)" },
                { "check_method": "fingerprint_match", "organization": "Công an phường (demo)" }
            ],
            "record": { "type": "identity_card_register", "source": { "name": "Cơ sở dữ liệu căn cước", "country_code": "VN" } },
        }));
    }
    json!(evidence).to_string()
}

/// Seeds the demo accounts, clients and officer that are not there yet (all of them into an
/// empty database; none into one seeded before, so a restarted demo keeps its data). `now`
/// stamps them.
pub async fn seed(store: &Store, sealer: &Sealer, now: i64) -> Result<(), AppError> {
    let missing_level1 = store.account_by_username(LEVEL1_USERNAME).await?.is_none();
    let missing_level2 = store.account_by_username(LEVEL2_USERNAME).await?.is_none();
    if missing_level1 || missing_level2 {
        let hash = password::hash(DEMO_PASSWORD.to_string()).await?;
        if missing_level1 {
            store
                .create_account(&level1_account(hash.clone()), &[], now)
                .await?;
        }
        if missing_level2 {
            store
                .create_account(&level2_account(hash, sealer)?, &level2_documents(now), now)
                .await?;
        }
    }
    for client in &DEMO_CLIENTS {
        if store.client(client.id).await?.is_none() {
            store.insert_client(&demo_client_row(client), now).await?;
            // Demo clients may ask `age_over_18`, and whether one lives in Hà Nội or Hồ Chí
            // Minh City (README: predicate claims).
            store.set_client_age_thresholds(client.id, &[18]).await?;
            store
                .set_client_resident_provinces(client.id, &["01", "79"])
                .await?;
        }
    }
    if store.client(DEMO_BANK_FAPI).await?.is_none() {
        store.insert_client(&demo_bank_fapi_row()?, now).await?;
        store
            .set_client_age_thresholds(DEMO_BANK_FAPI, &[18])
            .await?;
    }
    if store.client(DEMO_APP).await?.is_none() {
        store.insert_client(&demo_app_row(), now).await?;
        store
            .grant_client_api_scopes(DEMO_APP, &[ApiScope::Registration.as_str()])
            .await?;
    }
    for (username, name, role) in [
        (DEMO_OFFICER, "Cán bộ demo", "registrar"),
        (DEMO_SUPERVISOR, "Giám sát demo", "supervisor"),
    ] {
        if store.officer_by_username(username).await?.is_some() {
            continue;
        }
        let officer = crate::store::OfficerRow {
            id: crate::secret::new_id(),
            username: username.into(),
            name: name.into(),
            station: "Công an phường Bến Nghé (demo)".into(),
            role: role.into(),
            password_hash: password::hash(DEMO_PASSWORD.to_string()).await?,
            totp_secret: sealer.seal(DEMO_TOTP_SECRET.as_bytes())?,
            failed_logins: 0,
            locked_until: None,
            totp_failures: 0,
            totp_locked_until: None,
        };
        store.insert_officer(&officer, now).await?;
    }
    Ok(())
}

/// Makes a demo operator CA, certifies with it every signing key without a chain, reloads the
/// keys so that the JWKS carries the chains, and writes the CA certificate to a file in the
/// temporary directory (returned). Keys made by a later rotation are certified at the next
/// start.
pub async fn certify_keys(
    state: &crate::state::AppState,
) -> Result<std::path::PathBuf, Box<dyn std::error::Error + Send + Sync>> {
    let now = state.now();
    let ca = crate::keys::certificates::DemoCa::generate("VNeID demo operator CA", now)?;
    ca.certify_uncertified(&state.store, &state.sealer, now)
        .await?;
    state.keys.reload(now).await?;
    let path = std::env::temp_dir().join(format!("vneid-demo-ca-{}.pem", std::process::id()));
    std::fs::write(&path, ca.pem()?)?;
    Ok(path)
}

fn level1_account(password_hash: String) -> NewAccount {
    NewAccount {
        id: crate::secret::new_id(),
        kind: "citizen".into(),
        level: 1,
        username: LEVEL1_USERNAME.into(),
        password_hash,
        totp_secret: None,
        family_name: "Nguyễn".into(),
        middle_name: Some("Văn".into()),
        given_name: "An".into(),
        birthdate: "1995-03-12".into(),
        gender: "male".into(),
        nationality: None,
        travel_document: None,
        portrait_jpeg: Some(STANDARD.encode(include_bytes!("../assets/portrait-an.jpg"))),
        phone_number: Some("+84912000001".into()),
        email: Some("an.nguyen@example.vn".into()),
        verification_evidence: Some(evidence(1)),
        must_change_password: false,
        residence_province: Some("01".into()),
    }
}

fn level2_account(password_hash: String, sealer: &Sealer) -> Result<NewAccount, AppError> {
    Ok(NewAccount {
        id: crate::secret::new_id(),
        kind: "citizen".into(),
        level: 2,
        username: LEVEL2_USERNAME.into(),
        password_hash,
        totp_secret: Some(sealer.seal(DEMO_TOTP_SECRET.as_bytes())?),
        family_name: "Trần".into(),
        middle_name: Some("Thị".into()),
        given_name: "Bình".into(),
        birthdate: "1998-07-25".into(),
        gender: "female".into(),
        nationality: None,
        travel_document: None,
        portrait_jpeg: Some(STANDARD.encode(include_bytes!("../assets/portrait-binh.jpg"))),
        phone_number: Some("+84938000002".into()),
        email: Some("binh.tran@example.vn".into()),
        verification_evidence: Some(evidence(2)),
        must_change_password: false,
        residence_province: Some("79".into()),
    })
}

/// The demo documents' dates, counted from today in Vietnam (Asia/Ho_Chi_Minh) when the demo
/// is seeded, so that the demo never holds an expired card: issued some years ago, expiring some
/// years ahead.
struct DemoDates {
    today: time::Date,
}

impl DemoDates {
    fn at(now: i64) -> DemoDates {
        let today = crate::accounts::claims::vietnam_date(now)
            .unwrap_or(time::macros::date!(2026 - 01 - 01));
        DemoDates { today }
    }

    /// `years` from today (negative: ago), as `YYYY-MM-DD`; 29 February becomes 28 February.
    fn years(&self, years: i32) -> String {
        let year = self.today.year() + years;
        let date = self
            .today
            .replace_year(year)
            .or_else(|_| {
                self.today
                    .replace_day(28)
                    .and_then(|d| d.replace_year(year))
            })
            .unwrap_or(self.today);
        date.to_string()
    }
}

/// The Level 2 demo citizen's documents: a driving licence issued 7 years ago (no expiry), a
/// health-insurance card issued 2 years ago that expires in 3, a passport issued 4 years ago
/// that expires in 6 (10 years' validity).
pub fn level2_documents(now: i64) -> [NewDocument; 3] {
    let dates = DemoDates::at(now);
    [
        NewDocument {
            doc_type: "driving_licence".into(),
            number: "790123456789".into(),
            issued_on: Some(dates.years(-7)),
            expires_on: None,
            issuer: Some("Sở Giao thông vận tải TP. Hồ Chí Minh".into()),
            details: Some(json!({ "class": "B2" }).to_string()),
        },
        NewDocument {
            doc_type: "health_insurance_card".into(),
            number: "GD4797912345678".into(),
            issued_on: Some(dates.years(-2)),
            expires_on: Some(dates.years(3)),
            issuer: Some("Bảo hiểm xã hội Việt Nam".into()),
            details: Some(
                json!({ "registered_hospital": "Bệnh viện Nhân dân Gia Định" }).to_string(),
            ),
        },
        NewDocument {
            doc_type: "passport".into(),
            number: "C1234567".into(),
            issued_on: Some(dates.years(-4)),
            expires_on: Some(dates.years(6)),
            issuer: Some("Cục Quản lý xuất nhập cảnh".into()),
            details: Some(json!({ "type": "P", "country_code": "VNM" }).to_string()),
        },
    ]
}

fn demo_client_row(client: &DemoClient) -> ClientRow {
    let all_scopes = vneid_contract::Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    ClientRow {
        id: client.id.into(),
        name: client.name.into(),
        secret_hash: Some(crate::secret::hash(client.secret)),
        auth_method: ClientAuthMethod::SecretBasic.as_str().into(),
        redirect_uris: json!([client.redirect_uri]).to_string(),
        post_logout_redirect_uris: json!([client.post_logout_redirect_uri]).to_string(),
        allowed_scopes: all_scopes,
        signing_alg: SigningAlg::Es256.as_str().into(),
        subject_type: SubjectType::Pairwise.as_str().into(),
        jwks: None,
        options: Default::default(),
        responses: Default::default(),
    }
}

/// The FAPI bank, checked by the same code as `clients add --profile fapi2`.
fn demo_bank_fapi_row() -> Result<ClientRow, AppError> {
    let bank = &DEMO_CLIENTS[1];
    let all_scopes = vneid_contract::Scope::ALL
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let mut new = crate::cli::NewClient::new(
        DEMO_BANK_FAPI,
        "Ngân hàng (demo FAPI 2.0)",
        vec![bank.redirect_uri.into()],
        &all_scopes,
        ClientAuthMethod::PrivateKeyJwt,
    );
    new.post_logout_redirect_uris = vec![bank.post_logout_redirect_uri.into()];
    new.jwks = Some(DEMO_BANK_FAPI_JWKS.into());
    new.profile = crate::oidc::client::Profile::Fapi2;
    new.responses.id_token_encrypted_response_alg = Some("ECDH-ES+A256KW".into());
    new.responses.id_token_encrypted_response_enc = Some("A256GCM".into());
    match crate::cli::client_row(new) {
        Ok((row, _)) => Ok(row),
        Err(crate::cli::CliError::Store(e)) => Err(e.into()),
        Err(e) => {
            tracing::error!(error = %e, "the demo FAPI bank's registration is invalid");
            Err(
                crate::oidc::client::BadRegistration(DEMO_BANK_FAPI.into(), "demo registration")
                    .into(),
            )
        }
    }
}

fn demo_app_row() -> ClientRow {
    ClientRow {
        id: DEMO_APP.into(),
        name: "Ứng dụng VNeID (demo)".into(),
        secret_hash: None,
        auth_method: ClientAuthMethod::PrivateKeyJwt.as_str().into(),
        redirect_uris: "[]".into(),
        post_logout_redirect_uris: "[]".into(),
        allowed_scopes: "openid".into(),
        signing_alg: SigningAlg::Es256.as_str().into(),
        subject_type: SubjectType::Pairwise.as_str().into(),
        jwks: Some(DEMO_APP_JWKS.into()),
        options: Default::default(),
        responses: Default::default(),
    }
}

/// What the demo prints at start: the URLs and the demo credentials.
pub fn banner(issuer: &str) -> String {
    let mut out = format!(
        "VNeID provider demo\n\
         issuer:     {issuer}\n\
         discovery:  {issuer}/.well-known/openid-configuration\n\n\
         accounts (password {DEMO_PASSWORD}):\n\
         \x20 {LEVEL1_USERNAME}  Nguyễn Văn An   Level 1\n\
         \x20 {LEVEL2_USERNAME}  Trần Thị Bình   Level 2, TOTP secret {DEMO_TOTP_SECRET}\n\n\
         registration desk: {issuer}/desk  registrar {DEMO_OFFICER}, supervisor {DEMO_SUPERVISOR}, password {DEMO_PASSWORD}, TOTP {DEMO_TOTP_SECRET}\n\
         demo outbox:       {issuer}/demo/outbox\n\n\
         clients (client_secret_basic, every scope):\n"
    );
    for c in &DEMO_CLIENTS {
        out.push_str(&format!(
            "  {}  secret {}  redirect {}\n",
            c.id, c.secret, c.redirect_uri
        ));
    }
    out.push_str(&format!(
        "\nFAPI 2.0 bank (PAR, private_key_jwt, DPoP, ID token encrypted ECDH-ES+A256KW/A256GCM):\n\
         \x20 {DEMO_BANK_FAPI}  keys examples/bank-ekyc/keys/ (kid {DEMO_BANK_FAPI_KEY_ID}), redirect {}\n",
        DEMO_CLIENTS[1].redirect_uri
    ));
    out.push_str(&format!(
        "\nnational app (registration API, client_credentials with private_key_jwt):\n\
         \x20 {DEMO_APP}  key examples/registry/demo-app-key.pem (kid {DEMO_APP_KEY_ID}), scope registration\n\n\
         client registration: {issuer}/register with the initial access token demo-registration-token,\n\
         \x20 or a software statement signed with examples/registry/demo-operator-key.pem (iss {issuer})\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_documents_are_dated_from_today_in_vietnam() {
        // 2026-12-31T18:00:00Z is 01:00 on 1 January 2027 in Hà Nội.
        let docs = level2_documents(1_798_740_000);
        assert_eq!(docs[1].issued_on.as_deref(), Some("2025-01-01"));
        assert_eq!(docs[1].expires_on.as_deref(), Some("2030-01-01"));
        assert_eq!(docs[2].expires_on.as_deref(), Some("2033-01-01"));
        // A leap day seeds 28 February of the other years.
        let leap = level2_documents(1_709_251_200); // 2024-03-01T00:00:00Z, 07:00 in Hà Nội
        assert_eq!(leap[1].expires_on.as_deref(), Some("2027-03-01"));
        let feb29 = level2_documents(1_709_164_800); // 2024-02-29T00:00:00Z
        assert_eq!(feb29[1].expires_on.as_deref(), Some("2027-02-28"));
    }
}
