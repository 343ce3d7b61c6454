//! DPoP (RFC 9449): the client's own ES256 key proves possession of its access and refresh
//! tokens. Each request carries a fresh proof (`typ` `dpop+jwt`, the public key in the header,
//! `jti`, `htm`, `htu`, `iat`, and `ath` for a resource) and, when the server asked for one, the
//! server's nonce.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader};
use sha2::{Digest, Sha256};

use crate::error::SdkError;

/// The DPoP key of a client: an ES256 (P-256) key pair. Generate one per deployment and keep it
/// ([`DpopKey::to_pem`], [`DpopKey::from_pem`]) so refresh tokens bound to it stay usable across
/// restarts. Its `Debug` shows only the thumbprint.
#[derive(Clone)]
pub struct DpopKey {
    private: Jwk,
    public: Jwk,
    thumbprint: String,
}

impl std::fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DpopKey")
            .field("jkt", &self.thumbprint)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// A new random key.
    pub fn generate() -> Result<DpopKey, SdkError> {
        let pair = ES256
            .generate_key_pair()
            .map_err(|e| SdkError::Config(format!("cannot generate a DPoP key: {e}")))?;
        DpopKey::from_jwk(&pair.to_jwk_key_pair())
    }

    /// Loads a P-256 private key (PKCS#8 or SEC1 PEM).
    pub fn from_pem(pem: &str) -> Result<DpopKey, SdkError> {
        let pair = ES256.key_pair_from_pem(pem).map_err(|_| {
            SdkError::Config("the DPoP key is not a P-256 private key in PEM".into())
        })?;
        DpopKey::from_jwk(&pair.to_jwk_key_pair())
    }

    /// Loads a P-256 private key given as a JWK (JSON).
    pub fn from_jwk_json(json: &str) -> Result<DpopKey, SdkError> {
        let jwk = Jwk::from_bytes(json.as_bytes())
            .map_err(|_| SdkError::Config("the DPoP key is not a JWK".into()))?;
        DpopKey::from_jwk(&jwk)
    }

    fn from_jwk(private: &Jwk) -> Result<DpopKey, SdkError> {
        let bad = || SdkError::Config("the DPoP key is not a P-256 private key".into());
        if private.key_type() != "EC" || private.curve() != Some("P-256") {
            return Err(bad());
        }
        // Checks that it signs.
        ES256.signer_from_jwk(private).map_err(|_| bad())?;
        let member = |name: &str| {
            private
                .parameter(name)
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(bad)
        };
        let (x, y) = (member("x")?, member("y")?);
        let public = private.to_public_key().map_err(|_| bad())?;
        let thumbprint = jkt(&x, &y);
        Ok(DpopKey {
            private: private.clone(),
            public,
            thumbprint,
        })
    }

    /// The private key as PKCS#8 PEM, to store with the app's secrets.
    pub fn to_pem(&self) -> Result<String, SdkError> {
        let pair = josekit::jwk::alg::ec::EcKeyPair::from_jwk(&self.private)
            .map_err(|e| SdkError::Config(format!("the DPoP key: {e}")))?;
        String::from_utf8(pair.to_pem_private_key())
            .map_err(|e| SdkError::Config(format!("the DPoP key: {e}")))
    }

    /// The private key as a JWK (JSON), to store with the app's secrets.
    pub fn to_jwk_json(&self) -> String {
        self.private.to_string()
    }

    /// The JWK SHA-256 thumbprint (RFC 7638): the `jkt` the provider binds tokens to.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// A proof for `method` `url` (without query or fragment), with the access token's hash
    /// when calling a resource, and the server's nonce when it asked for one.
    pub fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, SdkError> {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let mut payload = josekit::jwt::JwtPayload::new();
        payload.set_jwt_id(openidconnect::CsrfToken::new_random().secret());
        // Whole seconds: josekit's `set_issued_at` writes a fraction, which strict servers refuse.
        let iat = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        payload
            .set_claim("iat", Some(iat.into()))
            .map_err(|e| SdkError::Config(format!("DPoP proof: {e}")))?;
        let claim = |p: &mut josekit::jwt::JwtPayload, name: &str, value: &str| {
            p.set_claim(name, Some(value.into()))
                .map_err(|e| SdkError::Config(format!("DPoP proof: {e}")))
        };
        claim(&mut payload, "htm", method)?;
        claim(&mut payload, "htu", htu)?;
        if let Some(token) = access_token {
            let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
            claim(&mut payload, "ath", &ath)?;
        }
        if let Some(nonce) = nonce {
            claim(&mut payload, "nonce", nonce)?;
        }
        let mut header = JwsHeader::new();
        header.set_token_type("dpop+jwt");
        header.set_jwk(self.public.clone());
        let signer = ES256
            .signer_from_jwk(&self.private)
            .map_err(|e| SdkError::Config(format!("DPoP proof: {e}")))?;
        josekit::jwt::encode_with_signer(&payload, &header, &signer)
            .map_err(|e| SdkError::Config(format!("cannot sign the DPoP proof: {e}")))
    }
}

/// The RFC 7638 thumbprint of a P-256 public key: the required members in lexicographic order,
/// no whitespace, SHA-256, base64url.
fn jkt(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(jwt: &str, i: usize) -> serde_json::Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(jwt.split('.').nth(i).unwrap())
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_proof_carries_what_rfc_9449_asks_and_verifies_with_its_own_key() {
        let key = DpopKey::generate().unwrap();
        let proof = key
            .proof(
                "GET",
                "https://id.example.vn/userinfo?x=1",
                Some("at"),
                Some("n1"),
            )
            .unwrap();
        let header = part(&proof, 0);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert!(header["jwk"].get("d").is_none(), "never the private part");
        let body = part(&proof, 1);
        assert_eq!(body["htm"], "GET");
        assert_eq!(body["htu"], "https://id.example.vn/userinfo");
        assert_eq!(body["nonce"], "n1");
        assert!(body["iat"].is_u64(), "a whole-second iat: {}", body["iat"]);
        assert_eq!(
            body["ath"],
            URL_SAFE_NO_PAD.encode(Sha256::digest(b"at")).as_str()
        );
        let jwk = Jwk::from_bytes(header["jwk"].to_string().as_bytes()).unwrap();
        let verifier = ES256.verifier_from_jwk(&jwk).unwrap();
        josekit::jws::deserialize_compact(&proof, &verifier).unwrap();
        let other = key
            .proof("GET", "https://id.example.vn/userinfo", None, None)
            .unwrap();
        assert_ne!(part(&other, 1)["jti"], body["jti"], "a fresh jti each time");
        assert!(part(&other, 1).get("ath").is_none());
    }

    #[test]
    fn a_key_survives_a_restart_as_pem_or_jwk() {
        let key = DpopKey::generate().unwrap();
        let pem = key.to_pem().unwrap();
        assert_eq!(
            DpopKey::from_pem(&pem).unwrap().thumbprint(),
            key.thumbprint()
        );
        let json = key.to_jwk_json();
        assert_eq!(
            DpopKey::from_jwk_json(&json).unwrap().thumbprint(),
            key.thumbprint()
        );
        assert!(!format!("{key:?}").contains(&json));
        assert!(DpopKey::from_pem("not a key").is_err());
    }

    /// The key and `jkt` of RFC 9449's examples (section 6.1).
    #[test]
    fn the_thumbprint_is_rfc_7638() {
        assert_eq!(
            jkt(
                "l8tFrhx-34tV3hRICRDY9zCkDlpBhF42UQUfWVAWBFs",
                "9VE4jf_Ok_o64zbTTlcuNJajHmt6v9TDVrU0CdvGRDA"
            ),
            "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"
        );
    }
}
