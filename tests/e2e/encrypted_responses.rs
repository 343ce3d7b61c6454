//! Encrypted and signed responses (OpenID Connect Core 5.3.2, 10.2; Registration 2): a client
//! that registered `id_token_encrypted_response_alg` gets its ID token as a nested JWT (signed by
//! us, then encrypted to its key: RSA-OAEP-256, ECDH-ES, ECDH-ES+A256KW with A256GCM); one that
//! registered `userinfo_signed_response_alg` and/or `userinfo_encrypted_response_alg` gets
//! UserInfo as `application/jwt`. The test decrypts with the client's private key and verifies
//! our signature with the published JWKS. A client that registered nothing gets what it got
//! before: a signed ID token and JSON. Attacks: an encryption registered without a key for it,
//! an unsupported algorithm, or a non-https logout endpoint, are refused and stored nowhere.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{ECDH_ES, ECDH_ES_A256KW, JweDecrypter, RSA_OAEP_256};
use josekit::jwk::{Jwk, JwkSet};
use josekit::jws::{ES256, JwsVerifier, RS256};
use serde_json::{Value, json};
use vneid_provider::oidc::types::ClientAuthMethod;
use vneid_tests::browser::Browser;
use vneid_tests::{
    Backend, PORTAL_CALLBACK, TestProvider, VERIFIER, login, on_both_backends, param,
    spawn_provider, spawn_provider_with,
};

/// A client's encryption key pair: the JWKS it registers and the private key it keeps.
struct ClientKey {
    jwks: String,
    private: Jwk,
}

fn rsa_key() -> ClientKey {
    let pair = RSA_OAEP_256.generate_key_pair(2048).unwrap();
    let mut public = pair.to_jwk_public_key();
    public.set_key_id("rp-rsa-enc");
    public.set_key_use("enc");
    ClientKey {
        jwks: json!({ "keys": [public.as_ref()] }).to_string(),
        private: pair.to_jwk_private_key(),
    }
}

fn ec_key() -> ClientKey {
    // No `alg` on the key: usable for ECDH-ES and ECDH-ES+A256KW alike.
    let pair =
        josekit::jwk::alg::ec::EcKeyPair::generate(josekit::jwk::alg::ec::EcCurve::P256).unwrap();
    let mut public = pair.to_jwk_public_key();
    public.set_key_id("rp-ec-enc");
    public.set_key_use("enc");
    ClientKey {
        jwks: json!({ "keys": [public.as_ref()] }).to_string(),
        private: pair.to_jwk_private_key(),
    }
}

fn config(provider: &TestProvider) -> vneid_provider::config::Config {
    vneid_provider::config::Config::new(
        provider.issuer.parse().unwrap(),
        provider.database_url.clone(),
        provider.kek.clone(),
    )
}

/// How a test client registers its responses.
#[derive(Default)]
struct Wants {
    id_token: Option<&'static str>,
    userinfo: Option<&'static str>,
    userinfo_signed: Option<&'static str>,
}

async fn register(provider: &TestProvider, id: &str, key: &ClientKey, wants: Wants) -> String {
    let mut new = vneid_provider::cli::NewClient::new(
        id,
        "Encrypted RP",
        vec![PORTAL_CALLBACK.into()],
        "openid profile",
        ClientAuthMethod::SecretBasic,
    );
    new.jwks = Some(key.jwks.clone());
    let r = &mut new.responses;
    r.id_token_encrypted_response_alg = wants.id_token.map(Into::into);
    r.id_token_encrypted_response_enc = wants.id_token.map(|_| "A256GCM".into());
    r.userinfo_encrypted_response_alg = wants.userinfo.map(Into::into);
    r.userinfo_encrypted_response_enc = wants.userinfo.map(|_| "A256GCM".into());
    r.userinfo_signed_response_alg = wants.userinfo_signed.map(Into::into);
    vneid_provider::cli::add_client(&config(provider), new)
        .await
        .unwrap()
}

/// Logs the Level 1 citizen in to `client` and redeems the code: the token response.
async fn tokens(provider: &TestProvider, client: &str, secret: &str) -> Value {
    let browser = Browser::new(&provider.base);
    let url = provider.authorize_url(&[("client_id", client)]);
    let back = login(provider, &browser, &url, "001095000001").await;
    let code = param(&back, "code").expect("a code");
    let response = reqwest::Client::new()
        .post(format!("{}/token", provider.base))
        .basic_auth(client, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", PORTAL_CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// UserInfo: the content type and the body.
async fn userinfo(provider: &TestProvider, access_token: &str) -> (String, String) {
    let response = reqwest::Client::new()
        .get(format!("{}/userinfo", provider.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    (content_type, response.text().await.unwrap())
}

fn header(token: &str) -> Value {
    serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap()
}

/// Decrypts a compact JWE with the client's private key; returns the plaintext and header.
fn decrypt(jwe: &str, key: &ClientKey) -> (Vec<u8>, Value) {
    assert_eq!(jwe.split('.').count(), 5, "a compact JWE: {jwe}");
    let h = header(jwe);
    let decrypter: Box<dyn JweDecrypter> = match h["alg"].as_str().unwrap() {
        "RSA-OAEP-256" => Box::new(RSA_OAEP_256.decrypter_from_jwk(&key.private).unwrap()),
        "ECDH-ES" => Box::new(ECDH_ES.decrypter_from_jwk(&key.private).unwrap()),
        "ECDH-ES+A256KW" => Box::new(ECDH_ES_A256KW.decrypter_from_jwk(&key.private).unwrap()),
        other => panic!("unexpected alg {other}"),
    };
    let (plain, _) = josekit::jwe::deserialize_compact(jwe, decrypter.as_ref()).unwrap();
    (plain, h)
}

/// Verifies a JWS with the provider's JWKS; returns its claims.
async fn verify(provider: &TestProvider, jws: &str) -> Value {
    let jwks = reqwest::get(format!("{}/jwks", provider.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let h = header(jws);
    let keys = JwkSet::from_bytes(jwks.as_bytes()).unwrap();
    let key = keys.get(h["kid"].as_str().unwrap())[0];
    let verifier: Box<dyn JwsVerifier> = match h["alg"].as_str().unwrap() {
        "ES256" => Box::new(ES256.verifier_from_jwk(key).unwrap()),
        "RS256" => Box::new(RS256.verifier_from_jwk(key).unwrap()),
        other => panic!("unexpected alg {other}"),
    };
    let (payload, _) =
        josekit::jws::deserialize_compact(jws, verifier.as_ref()).expect("our signature");
    serde_json::from_slice(&payload).unwrap()
}

/// RSA-OAEP-256: the ID token is a nested JWT; UserInfo is signed then encrypted. Both decrypt
/// with the client's key and carry our signature; the inner ID token serves as the
/// `id_token_hint` of an RP-initiated logout.
async fn rsa_encrypted_id_token_and_signed_encrypted_userinfo(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let key = rsa_key();
    let wants = Wants {
        id_token: Some("RSA-OAEP-256"),
        userinfo: Some("RSA-OAEP-256"),
        userinfo_signed: Some("ES256"),
    };
    let secret = register(&provider, "enc-rsa", &key, wants).await;
    let got = tokens(&provider, "enc-rsa", &secret).await;

    let (inner, h) = decrypt(got["id_token"].as_str().unwrap(), &key);
    assert_eq!(
        (h["alg"].as_str(), h["enc"].as_str(), h["cty"].as_str()),
        (Some("RSA-OAEP-256"), Some("A256GCM"), Some("JWT"))
    );
    assert_eq!(h["kid"], "rp-rsa-enc");
    let inner = String::from_utf8(inner).unwrap();
    let id_token = verify(&provider, &inner).await;
    assert_eq!(id_token["iss"], provider.issuer.as_str());
    assert_eq!(id_token["aud"], "enc-rsa");
    assert_eq!(id_token["nonce"], "n0nce");
    assert!(id_token["sid"].is_string());

    let (content_type, body) = userinfo(&provider, got["access_token"].as_str().unwrap()).await;
    assert_eq!(content_type, "application/jwt");
    let (signed, h) = decrypt(&body, &key);
    assert_eq!(h["cty"], "JWT");
    let claims = verify(&provider, &String::from_utf8(signed).unwrap()).await;
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["iss"], provider.issuer.as_str());
    assert_eq!(claims["aud"], "enc-rsa");
    assert!(claims["name"].is_string(), "{claims}");

    // RP-initiated logout with the inner (signed) ID token still works.
    let mut url = url::Url::parse(&format!("{}/logout", provider.base)).unwrap();
    url.query_pairs_mut().append_pair("id_token_hint", &inner);
    let status = reqwest::get(url.as_str()).await.unwrap().status();
    assert_eq!(status, 200);
}

/// ECDH-ES+A256KW for the ID token, ECDH-ES for UserInfo without signature (the JWE holds the
/// JSON claims); and a client that asked only for signed UserInfo gets a JWS.
async fn ecdh_encryption_and_signed_only_userinfo(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let key = ec_key();
    let wants = Wants {
        id_token: Some("ECDH-ES+A256KW"),
        userinfo: Some("ECDH-ES"),
        userinfo_signed: None,
    };
    let secret = register(&provider, "enc-ec", &key, wants).await;
    let got = tokens(&provider, "enc-ec", &secret).await;
    let (inner, h) = decrypt(got["id_token"].as_str().unwrap(), &key);
    assert_eq!(h["alg"], "ECDH-ES+A256KW");
    assert_eq!(h["enc"], "A256GCM");
    let id_token = verify(&provider, &String::from_utf8(inner).unwrap()).await;
    assert_eq!(id_token["aud"], "enc-ec");

    let (content_type, body) = userinfo(&provider, got["access_token"].as_str().unwrap()).await;
    assert_eq!(content_type, "application/jwt");
    let (plain, h) = decrypt(&body, &key);
    assert_eq!(h["alg"], "ECDH-ES");
    assert!(h.get("cty").is_none(), "not nested: {h}");
    let claims: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(claims["sub"], id_token["sub"]);

    let signed_only = Wants {
        userinfo_signed: Some("RS256"),
        ..Wants::default()
    };
    let secret = register(&provider, "signed-ui", &key, signed_only).await;
    let got = tokens(&provider, "signed-ui", &secret).await;
    assert_eq!(got["id_token"].as_str().unwrap().split('.').count(), 3);
    let (content_type, body) = userinfo(&provider, got["access_token"].as_str().unwrap()).await;
    assert_eq!(content_type, "application/jwt");
    assert_eq!(header(&body)["alg"], "RS256");
    let claims = verify(&provider, &body).await;
    assert_eq!(claims["aud"], "signed-ui");
}

/// A client that registered nothing gets a signed ID token and JSON UserInfo, as before.
async fn an_unregistered_client_gets_plain_responses(backend: Backend) {
    let provider = spawn_provider(backend).await;
    let got = tokens(&provider, "demo-portal", "demo-portal-secret").await;
    let id_token = got["id_token"].as_str().unwrap();
    assert_eq!(id_token.split('.').count(), 3);
    verify(&provider, id_token).await;
    let (content_type, body) = userinfo(&provider, got["access_token"].as_str().unwrap()).await;
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let claims: Value = serde_json::from_str(&body).unwrap();
    assert!(claims["sub"].is_string());
}

/// Registration (RFC 7591) of the new metadata: accepted with a key, shown back, and discovery
/// lists the algorithms; refused without a usable key, with an unsupported algorithm or
/// content encryption, or with a non-https logout endpoint; nothing stored.
async fn registration_checks_the_new_metadata(backend: Backend) {
    const IAT: &str = "iat-for-encryption";
    let provider = spawn_provider_with(backend, |c| {
        c.clients.initial_access_token = Some(IAT.into())
    })
    .await;
    let d: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        provider.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(d["backchannel_logout_supported"], true);
    assert_eq!(d["backchannel_logout_session_supported"], true);
    assert_eq!(
        d["id_token_encryption_alg_values_supported"],
        json!(["RSA-OAEP-256", "ECDH-ES", "ECDH-ES+A256KW"])
    );
    assert_eq!(
        d["id_token_encryption_enc_values_supported"],
        json!(["A256GCM"])
    );
    assert_eq!(
        d["userinfo_encryption_enc_values_supported"],
        json!(["A256GCM"])
    );
    assert_eq!(
        d["userinfo_signing_alg_values_supported"],
        json!(["ES256", "RS256"])
    );

    let rsa = rsa_key();
    let ec = ec_key();
    let jwks = |k: &ClientKey| serde_json::from_str::<Value>(&k.jwks).unwrap();
    let base = json!({
        "redirect_uris": [PORTAL_CALLBACK],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "openid profile",
    });
    let with = |extra: Value| {
        let mut m = base.clone();
        m.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        m
    };
    let send = |body: Value| {
        let url = format!("{}/register", provider.base);
        async move {
            let r = reqwest::Client::new()
                .post(url)
                .bearer_auth(IAT)
                .json(&body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let before = provider.state.store.clients().await.unwrap().len();
    for (case, bad) in [
        json!({ "id_token_encrypted_response_alg": "RSA-OAEP-256", "id_token_encrypted_response_enc": "A256GCM" }),
        json!({ "jwks": jwks(&ec), "id_token_encrypted_response_alg": "RSA-OAEP-256", "id_token_encrypted_response_enc": "A256GCM" }),
        json!({ "jwks": jwks(&rsa), "id_token_encrypted_response_alg": "RSA1_5", "id_token_encrypted_response_enc": "A256GCM" }),
        json!({ "jwks": jwks(&rsa), "userinfo_encrypted_response_alg": "RSA-OAEP-256", "userinfo_encrypted_response_enc": "A128CBC-HS256" }),
        json!({ "jwks": jwks(&rsa), "userinfo_encrypted_response_enc": "A256GCM" }),
        json!({ "userinfo_signed_response_alg": "none" }),
        json!({ "backchannel_logout_uri": "http://rp.example/logout" }),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, body) = send(with(bad)).await;
        assert_eq!(status, 400, "case {case}: {body}");
        assert_eq!(body["error"], "invalid_client_metadata", "case {case}");
    }
    assert_eq!(provider.state.store.clients().await.unwrap().len(), before);

    let good = with(json!({
        "jwks": jwks(&ec),
        "id_token_encrypted_response_alg": "ECDH-ES",
        "id_token_encrypted_response_enc": "A256GCM",
        "userinfo_signed_response_alg": "ES256",
        "backchannel_logout_uri": "https://rp.example/backchannel",
        "backchannel_logout_session_required": true,
    }));
    let (status, body) = send(good).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["id_token_encrypted_response_alg"], "ECDH-ES");
    assert_eq!(body["id_token_encrypted_response_enc"], "A256GCM");
    assert_eq!(body["userinfo_signed_response_alg"], "ES256");
    assert_eq!(
        body["backchannel_logout_uri"],
        "https://rp.example/backchannel"
    );
    assert_eq!(body["backchannel_logout_session_required"], true);
}

on_both_backends!(
    rsa_encrypted_id_token_and_signed_encrypted_userinfo,
    ecdh_encryption_and_signed_only_userinfo,
    an_unregistered_client_gets_plain_responses,
    registration_checks_the_new_metadata,
);
