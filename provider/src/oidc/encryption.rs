//! Encrypted responses (OpenID Connect Core 10.2, Registration 2): an ID token or a UserInfo
//! response encrypted to a key the client registered, when it registered an
//! `*_encrypted_response_alg`. A signed JWT is nested (sign, then encrypt, `cty: JWT`).
//!
//! Key management RSA-OAEP-256 (an RSA key), ECDH-ES or ECDH-ES+A256KW (an EC key); content
//! encryption A256GCM only. The recipient key is the first of the client's registered keys
//! usable for the algorithm, one marked `use: enc` first.

use josekit::jwe::{ECDH_ES, ECDH_ES_A256KW, JweEncrypter, JweHeader, RSA_OAEP_256};
use josekit::jwk::{Jwk, JwkSet};

use super::client::Client;

/// A key management algorithm we encrypt with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAlg {
    /// RSAES OAEP with SHA-256 (an RSA key).
    RsaOaep256,
    /// Direct ECDH-ES key agreement (an EC key).
    EcdhEs,
    /// ECDH-ES with AES-256 key wrap (an EC key).
    EcdhEsA256kw,
}

impl KeyAlg {
    /// Every supported one, as discovery lists them.
    pub const ALL: [KeyAlg; 3] = [KeyAlg::RsaOaep256, KeyAlg::EcdhEs, KeyAlg::EcdhEsA256kw];

    /// The JWA name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlg::RsaOaep256 => "RSA-OAEP-256",
            KeyAlg::EcdhEs => "ECDH-ES",
            KeyAlg::EcdhEsA256kw => "ECDH-ES+A256KW",
        }
    }

    /// Parses the JWA name.
    pub fn parse(s: &str) -> Option<KeyAlg> {
        KeyAlg::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A content encryption algorithm: A256GCM only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentEnc {
    /// AES-256 in Galois/Counter Mode.
    A256Gcm,
}

impl ContentEnc {
    /// Every supported one.
    pub const ALL: [ContentEnc; 1] = [ContentEnc::A256Gcm];

    /// The JWA name.
    pub fn as_str(self) -> &'static str {
        match self {
            ContentEnc::A256Gcm => "A256GCM",
        }
    }

    /// Parses the JWA name.
    pub fn parse(s: &str) -> Option<ContentEnc> {
        ContentEnc::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// How a client wants a response encrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encryption {
    pub alg: KeyAlg,
    pub enc: ContentEnc,
}

/// What is wrong with a registered encryption (or why a response cannot be encrypted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptionError {
    /// An algorithm we do not support.
    #[error("{0}: the algorithm is not supported (RSA-OAEP-256, ECDH-ES, ECDH-ES+A256KW)")]
    UnsupportedAlg(&'static str),
    /// A content encryption we do not support (or none given: the default, A128CBC-HS256, is
    /// not supported either, so it must be named).
    #[error("{0}: A256GCM is the only content encryption supported, and must be named")]
    UnsupportedEnc(&'static str),
    /// An `enc` without an `alg`.
    #[error("{0} is given without the matching _alg")]
    EncWithoutAlg(&'static str),
    /// No registered key fits the algorithm.
    #[error("the registered jwks holds no public key usable for {0}")]
    NoKey(&'static str),
    /// The encryption itself failed.
    #[error("encryption failed: {0}")]
    Jose(String),
}

/// Parses a registered pair (`field` names it in errors: `id_token` or `userinfo`).
pub fn parse(
    field: &'static str,
    alg: Option<&str>,
    enc: Option<&str>,
) -> Result<Option<Encryption>, EncryptionError> {
    let (alg_name, enc_name) = match field {
        "id_token" => (
            "id_token_encrypted_response_alg",
            "id_token_encrypted_response_enc",
        ),
        _ => (
            "userinfo_encrypted_response_alg",
            "userinfo_encrypted_response_enc",
        ),
    };
    match (alg, enc) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(EncryptionError::EncWithoutAlg(enc_name)),
        (Some(a), e) => Ok(Some(Encryption {
            alg: KeyAlg::parse(a).ok_or(EncryptionError::UnsupportedAlg(alg_name))?,
            enc: e
                .and_then(ContentEnc::parse)
                .ok_or(EncryptionError::UnsupportedEnc(enc_name))?,
        })),
    }
}

fn encrypter(alg: KeyAlg, key: &Jwk) -> Option<Box<dyn JweEncrypter>> {
    match alg {
        KeyAlg::RsaOaep256 => RSA_OAEP_256
            .encrypter_from_jwk(key)
            .ok()
            .map(|e| Box::new(e) as Box<dyn JweEncrypter>),
        KeyAlg::EcdhEs => ECDH_ES
            .encrypter_from_jwk(key)
            .ok()
            .map(|e| Box::new(e) as Box<dyn JweEncrypter>),
        KeyAlg::EcdhEsA256kw => ECDH_ES_A256KW
            .encrypter_from_jwk(key)
            .ok()
            .map(|e| Box::new(e) as Box<dyn JweEncrypter>),
    }
}

/// The recipient key in a JWKS document for `alg`: one marked for encryption first.
fn recipient(jwks: &str, alg: KeyAlg) -> Option<(Option<String>, Box<dyn JweEncrypter>)> {
    let set = JwkSet::from_bytes(jwks.as_bytes()).ok()?;
    let mut keys: Vec<&Jwk> = set
        .keys()
        .into_iter()
        .filter(|k| k.parameter("d").is_none())
        .collect();
    keys.sort_by_key(|k| k.key_use() != Some("enc"));
    keys.into_iter()
        .find_map(|k| encrypter(alg, k).map(|e| (k.key_id().map(str::to_string), e)))
}

/// Whether a JWKS document holds a key usable for `alg` (checked at registration).
pub fn has_key_for(jwks: Option<&str>, alg: KeyAlg) -> bool {
    jwks.is_some_and(|j| recipient(j, alg).is_some())
}

/// Encrypts `payload` to the client's key. `nested`: the payload is a signed JWT (`cty: JWT`).
pub fn encrypt(
    client: &Client,
    encryption: &Encryption,
    payload: &[u8],
    nested: bool,
) -> Result<String, EncryptionError> {
    let (kid, encrypter) = client
        .jwks
        .as_deref()
        .and_then(|j| recipient(j, encryption.alg))
        .ok_or(EncryptionError::NoKey(encryption.alg.as_str()))?;
    let mut header = JweHeader::new();
    if nested {
        header.set_token_type("JWT");
    }
    header.set_content_encryption(encryption.enc.as_str());
    if nested {
        header.set_content_type("JWT");
    }
    if let Some(kid) = kid {
        header.set_key_id(kid);
    }
    josekit::jwe::serialize_compact(payload, &header, encrypter.as_ref())
        .map_err(|e| EncryptionError::Jose(e.to_string()))
}

/// Encrypts a signed JWT (a nested JWT).
pub fn encrypt_jwt(
    client: &Client,
    encryption: &Encryption,
    jws: &str,
) -> Result<String, EncryptionError> {
    encrypt(client, encryption, jws.as_bytes(), true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use josekit::jwe::JweDecrypter;

    fn rsa() -> (String, Jwk) {
        let pair = RSA_OAEP_256.generate_key_pair(2048).unwrap();
        let mut public = pair.to_jwk_public_key();
        public.set_key_id("r1");
        public.set_key_use("enc");
        (
            serde_json::json!({ "keys": [public.as_ref()] }).to_string(),
            pair.to_jwk_private_key(),
        )
    }

    fn ec() -> (String, Jwk) {
        // No `alg` on the key: usable for ECDH-ES and ECDH-ES+A256KW alike.
        let pair = josekit::jwk::alg::ec::EcKeyPair::generate(josekit::jwk::alg::ec::EcCurve::P256)
            .unwrap();
        let public = pair.to_jwk_public_key();
        (
            serde_json::json!({ "keys": [public.as_ref()] }).to_string(),
            pair.to_jwk_private_key(),
        )
    }

    fn client(jwks: &str) -> Client {
        let row = crate::cli::client_row(crate::cli::NewClient::new(
            "rp",
            "RP",
            vec!["https://rp.example/cb".into()],
            "openid",
            super::super::types::ClientAuthMethod::SecretBasic,
        ))
        .unwrap()
        .0;
        let mut c = Client::try_from(row).unwrap();
        c.jwks = Some(jwks.to_string());
        c
    }

    #[test]
    fn registered_pairs_parse_and_bad_ones_are_named() {
        assert_eq!(parse("id_token", None, None), Ok(None));
        assert_eq!(
            parse("id_token", Some("ECDH-ES+A256KW"), Some("A256GCM")),
            Ok(Some(Encryption {
                alg: KeyAlg::EcdhEsA256kw,
                enc: ContentEnc::A256Gcm
            }))
        );
        assert!(matches!(
            parse("id_token", Some("RSA1_5"), Some("A256GCM")),
            Err(EncryptionError::UnsupportedAlg(_))
        ));
        assert!(matches!(
            parse("userinfo", Some("RSA-OAEP-256"), None),
            Err(EncryptionError::UnsupportedEnc(_))
        ));
        assert!(matches!(
            parse("userinfo", None, Some("A256GCM")),
            Err(EncryptionError::EncWithoutAlg(_))
        ));
    }

    #[test]
    fn each_algorithm_round_trips_with_the_clients_private_key() {
        let (rsa_jwks, rsa_private) = rsa();
        let (ec_jwks, ec_private) = ec();
        let cases: [(KeyAlg, &str, &Jwk); 3] = [
            (KeyAlg::RsaOaep256, &rsa_jwks, &rsa_private),
            (KeyAlg::EcdhEs, &ec_jwks, &ec_private),
            (KeyAlg::EcdhEsA256kw, &ec_jwks, &ec_private),
        ];
        for (alg, jwks, private) in cases {
            let e = Encryption {
                alg,
                enc: ContentEnc::A256Gcm,
            };
            let jwe = encrypt_jwt(&client(jwks), &e, "a.b.c").unwrap();
            let decrypter: Box<dyn JweDecrypter> = match alg {
                KeyAlg::RsaOaep256 => Box::new(RSA_OAEP_256.decrypter_from_jwk(private).unwrap()),
                KeyAlg::EcdhEs => Box::new(ECDH_ES.decrypter_from_jwk(private).unwrap()),
                KeyAlg::EcdhEsA256kw => {
                    Box::new(ECDH_ES_A256KW.decrypter_from_jwk(private).unwrap())
                }
            };
            let (plain, header) =
                josekit::jwe::deserialize_compact(&jwe, decrypter.as_ref()).unwrap();
            assert_eq!(plain, b"a.b.c");
            assert_eq!(header.algorithm(), Some(alg.as_str()));
            assert_eq!(header.content_encryption(), Some("A256GCM"));
            assert_eq!(header.content_type(), Some("JWT"));
        }
    }

    #[test]
    fn a_key_labelled_for_another_algorithm_is_not_used() {
        let pair = ECDH_ES
            .generate_ec_key_pair(josekit::jwk::alg::ec::EcCurve::P256)
            .unwrap();
        let jwks = serde_json::json!({ "keys": [pair.to_jwk_public_key().as_ref()] }).to_string();
        assert!(has_key_for(Some(&jwks), KeyAlg::EcdhEs));
        assert!(!has_key_for(Some(&jwks), KeyAlg::EcdhEsA256kw));
        let mut signing = pair.to_jwk_public_key();
        signing.set_key_use("sig");
        signing.set_algorithm("ES256");
        let jwks = serde_json::json!({ "keys": [signing.as_ref()] }).to_string();
        assert!(!has_key_for(Some(&jwks), KeyAlg::EcdhEs), "a signing key");
    }

    #[test]
    fn a_key_of_the_wrong_type_is_not_used() {
        let (rsa_jwks, _) = rsa();
        let (ec_jwks, _) = ec();
        assert!(!has_key_for(Some(&rsa_jwks), KeyAlg::EcdhEs));
        assert!(!has_key_for(Some(&ec_jwks), KeyAlg::RsaOaep256));
        assert!(!has_key_for(None, KeyAlg::RsaOaep256));
        let e = Encryption {
            alg: KeyAlg::EcdhEs,
            enc: ContentEnc::A256Gcm,
        };
        assert_eq!(
            encrypt_jwt(&client(&rsa_jwks), &e, "a.b.c"),
            Err(EncryptionError::NoKey("ECDH-ES"))
        );
    }
}
