//! The SDK as a FAPI 2.0 client against panva's oidc-provider configured for the FAPI 2.0
//! Security Profile (`tests/fixtures/oidc-provider/fapi.js`): pushed authorization requests,
//! `private_key_jwt`, DPoP-bound tokens with server nonces, ID tokens and UserInfo signed and
//! encrypted to the client (ECDH-ES+A256KW and RSA-OAEP-256, A256GCM).

use josekit::jws::{ES256, RS256};
use serde_json::json;
use vneid_sdk::{
    ClientCredentials, DpopKey, IdTokenError, LoginRequest, SdkError, TokenExchangeError,
    VneidClient,
};
use vneid_tests::browser::{Browser, Landing};
use vneid_tests::{NodeProvider, spawn_node_fapi_provider};

const REDIRECT: &str = "http://127.0.0.1:3001/callback";

/// The client's keys: the `private_key_jwt` key (PEM) and the decryption key (PEM), and their
/// public JWKS for the provider.
struct RpKeys {
    signing_pem: String,
    decryption_pem: String,
    jwks: serde_json::Value,
}

fn rp_keys(key_management: &str) -> RpKeys {
    let sig = ES256.generate_key_pair().unwrap();
    let mut sig_pub = sig.to_jwk_public_key();
    sig_pub.set_key_id("rp-sig");
    sig_pub.set_key_use("sig");
    sig_pub.set_algorithm("ES256");
    let (decryption_pem, mut enc_pub) = if key_management == "RSA-OAEP-256" {
        let rsa = RS256.generate_key_pair(2048).unwrap();
        (rsa.to_pem_private_key(), rsa.to_jwk_public_key())
    } else {
        let ec = ES256.generate_key_pair().unwrap();
        (ec.to_pem_private_key(), ec.to_jwk_public_key())
    };
    enc_pub.set_key_id("rp-enc");
    enc_pub.set_key_use("enc");
    enc_pub.set_algorithm(key_management);
    RpKeys {
        signing_pem: String::from_utf8(sig.to_pem_private_key()).unwrap(),
        decryption_pem: String::from_utf8(decryption_pem).unwrap(),
        jwks: json!({ "keys": [
            serde_json::to_value(sig_pub.as_ref()).unwrap(),
            serde_json::to_value(enc_pub.as_ref()).unwrap(),
        ] }),
    }
}

async fn discover(node: &NodeProvider, keys: &RpKeys) -> VneidClient {
    VneidClient::discover(
        &node.issuer,
        "fapi-rp",
        ClientCredentials::PrivateKeyJwt {
            key_id: "rp-sig".into(),
            private_key_pem: keys.signing_pem.clone().into(),
        },
        REDIRECT,
    )
    .await
    .unwrap()
}

/// Logs `user` in at the node provider; returns the callback's query.
async fn log_in(node: &NodeProvider, url: &url::Url, user: &str) -> String {
    let browser = Browser::new(&node.issuer);
    let back = match browser.navigate(url.as_str()).await {
        Landing::Away(u) => u,
        page => {
            let (page, _, html) = page.page();
            browser
                .submit(
                    &page,
                    &html,
                    "/login",
                    &[("username", user), ("password", "secret")],
                )
                .await
                .away()
        }
    };
    back.query().unwrap_or("").to_string()
}

async fn a_fapi2_login_completes(key_management: &str) {
    let keys = rp_keys(key_management);
    let node = spawn_node_fapi_provider("fapi-rp", REDIRECT, &keys.jwks, key_management).await;
    let dpop = DpopKey::generate().unwrap();
    let client = discover(&node, &keys)
        .await
        .with_dpop(dpop.clone())
        .with_decryption_key(&keys.decryption_pem)
        .unwrap();
    assert!(client.requires_pushed_requests());

    let request = LoginRequest::without_level(super::scopes("openid profile"));
    let (url, pending) = client.begin_pushed(&request).await.unwrap();
    // The browser carries nothing but the client and the reference.
    let names: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["client_id", "request_uri"]);
    let query = log_in(&node, &url, "fapi-user").await;
    let id = client.complete(pending, &query).await.unwrap();
    assert_eq!(id.subject, "fapi-user");
    // `name` came from UserInfo, signed and encrypted to us.
    assert_eq!(id.person.name.as_deref(), Some("Test fapi-user"));
    // The ID token kept as evidence is the inner, signed one.
    assert_eq!(id.id_token.split('.').count(), 3);
    assert_eq!(super::jwt_header(&id.id_token)["alg"], "ES256");
    assert!(id.tokens.is_dpop_bound());
    assert_eq!(id.tokens.dpop_jkt.as_deref(), Some(dpop.thumbprint()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn par_dpop_private_key_jwt_and_ecdh_es_encryption_at_a_fapi2_provider() {
    a_fapi2_login_completes("ECDH-ES+A256KW").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn par_dpop_private_key_jwt_and_rsa_oaep_encryption_at_a_fapi2_provider() {
    a_fapi2_login_completes("RSA-OAEP-256").await;
}

/// What the FAPI provider refuses proves what the SDK sends: a front-channel request is
/// refused (PAR required), a token request without DPoP is refused (DPoP required), and an
/// encrypted ID token without the decryption key is not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_par_dpop_or_the_decryption_key_the_fapi2_login_fails() {
    let keys = rp_keys("ECDH-ES+A256KW");
    let node = spawn_node_fapi_provider("fapi-rp", REDIRECT, &keys.jwks, "ECDH-ES+A256KW").await;
    let request = LoginRequest::without_level(super::scopes("openid profile"));

    // No DPoP key: the pushed request goes through, the token request does not.
    let bearer = discover(&node, &keys)
        .await
        .with_decryption_key(&keys.decryption_pem)
        .unwrap();
    let (front, _) = bearer.begin(&request);
    let browser = Browser::new(&node.issuer);
    let refused = browser.navigate(front.as_str()).await;
    let refused_url = match refused {
        Landing::Away(u) => u.to_string(),
        other => other.page().1.to_string(),
    };
    assert!(
        !refused_url.contains("code="),
        "a front-channel request gets no code: {refused_url}"
    );
    let (url, pending) = bearer.begin_pushed(&request).await.unwrap();
    let query = log_in(&node, &url, "fapi-user").await;
    match bearer.complete(pending, &query).await {
        // The same client with a DPoP key completes (the test above): the missing proof is
        // the reason (node-oidc-provider answers `invalid_grant`, "grant request is invalid").
        Err(SdkError::TokenExchange(TokenExchangeError::Refused { code, .. })) => {
            assert_eq!(code, "invalid_grant");
        }
        other => panic!("{other:?}"),
    }

    // DPoP but no decryption key: the encrypted ID token is refused as unreadable.
    let blind = discover(&node, &keys)
        .await
        .with_dpop(DpopKey::generate().unwrap());
    let (url, pending) = blind.begin_pushed(&request).await.unwrap();
    let query = log_in(&node, &url, "fapi-user").await;
    assert!(matches!(
        blind.complete(pending, &query).await,
        Err(SdkError::InvalidIdToken(IdTokenError::Malformed(_)))
    ));
}
