//! The portrait photo of an account (Decree 59 Art. 12: part of the Level 1 identity): captured
//! by the app at registration (or at the desk), kept encrypted at rest under the key-encryption
//! key, and released only through the `portrait` claim as `data:image/jpeg;base64,...`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::keys::Sealer;

/// The largest photo accepted (bytes of JPEG).
pub const MAX_PHOTO_BYTES: usize = 256 * 1024;

/// Why a photo is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    /// Not base64.
    #[error("must be a base64-encoded JPEG")]
    NotBase64,
    /// Empty or larger than `MAX_PHOTO_BYTES`.
    #[error("must be a JPEG of 1 byte to 256 KiB")]
    Size,
    /// The bytes are not a JPEG (no SOI marker).
    #[error("is not a JPEG image")]
    NotJpeg,
}

/// Checks a base64 JPEG from a capture and returns its bytes.
pub fn decode_photo(b64: &str) -> Result<Vec<u8>, PhotoError> {
    if b64.len() > MAX_PHOTO_BYTES.div_ceil(3) * 4 + 4 {
        return Err(PhotoError::Size);
    }
    let bytes = STANDARD.decode(b64).map_err(|_| PhotoError::NotBase64)?;
    if bytes.is_empty() || bytes.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::Size);
    }
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(PhotoError::NotJpeg);
    }
    Ok(bytes)
}

/// The form a photo is stored in: sealed (JWE compact under the key-encryption key).
pub fn seal(sealer: &Sealer, jpeg: &[u8]) -> Result<String, crate::keys::SealError> {
    sealer.seal(jpeg)
}

/// The stored portrait as base64 for the claim: a sealed one is opened; one stored before
/// portraits were sealed (plain base64, which holds no `.`) is given as it is. A sealed value
/// that cannot be opened gives nothing (and is logged), never the ciphertext.
pub fn reveal(sealer: &Sealer, stored: Option<&str>) -> Option<String> {
    let stored = stored?;
    if !stored.contains('.') {
        return Some(stored.to_string());
    }
    match sealer.open(stored) {
        Ok(bytes) => Some(STANDARD.encode(bytes)),
        Err(e) => {
            tracing::error!(error = %e, "a sealed portrait cannot be opened");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_are_checked_sealed_and_revealed() {
        let sealer = Sealer::new(crate::config::KeyEncryptionKey::generate());
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3];
        let b64 = STANDARD.encode(jpeg);
        assert_eq!(decode_photo(&b64).unwrap(), jpeg);
        assert_eq!(decode_photo("not base64!"), Err(PhotoError::NotBase64));
        assert_eq!(
            decode_photo(&STANDARD.encode(b"GIF89a")),
            Err(PhotoError::NotJpeg)
        );
        assert_eq!(decode_photo(""), Err(PhotoError::Size));
        let big = STANDARD.encode(vec![0xFF; MAX_PHOTO_BYTES + 1]);
        assert_eq!(decode_photo(&big), Err(PhotoError::Size));
        let sealed = seal(&sealer, &jpeg).unwrap();
        assert!(!sealed.contains(&b64), "the stored form is not the photo");
        assert_eq!(reveal(&sealer, Some(&sealed)), Some(b64.clone()));
        assert_eq!(reveal(&sealer, Some(&b64)), Some(b64.clone()));
        let other = Sealer::new(crate::config::KeyEncryptionKey::generate());
        assert_eq!(reveal(&other, Some(&sealed)), None);
        assert_eq!(reveal(&sealer, None), None);
    }
}
