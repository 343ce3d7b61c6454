//! Encryption at rest under the key-encryption key: JWE compact, `dir` + A256GCM (josekit).

use josekit::jwe::{Dir, JweHeader};

use crate::config::KeyEncryptionKey;

/// Why a sealed value could not be made or opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot seal or open a secret (is the key-encryption key the one it was sealed with?)")]
pub struct SealError(#[source] josekit::JoseError);

/// Seals and opens secrets with the key-encryption key.
#[derive(Clone)]
pub struct Sealer {
    kek: KeyEncryptionKey,
}

impl Sealer {
    /// A sealer for this key.
    pub fn new(kek: KeyEncryptionKey) -> Self {
        Sealer { kek }
    }

    /// Encrypts `plaintext`.
    pub fn seal(&self, plaintext: &[u8]) -> Result<String, SealError> {
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        let encrypter = Dir
            .encrypter_from_bytes(self.kek.secret())
            .map_err(SealError)?;
        josekit::jwe::serialize_compact(plaintext, &header, &encrypter).map_err(SealError)
    }

    /// Decrypts what `seal` made.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, SealError> {
        let decrypter = Dir
            .decrypter_from_bytes(self.kek.secret())
            .map_err(SealError)?;
        let (plaintext, _) =
            josekit::jwe::deserialize_compact(sealed, &decrypter).map_err(SealError)?;
        Ok(plaintext)
    }

    /// Decrypts to text.
    pub fn open_string(&self, sealed: &str) -> Result<String, SealError> {
        let bytes = self.open(sealed)?;
        String::from_utf8(bytes)
            .map_err(|e| SealError(josekit::JoseError::InvalidKeyFormat(e.into())))
    }
}
