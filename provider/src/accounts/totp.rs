//! TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of skew either side).

use totp_rs::{Builder, Secret, Totp};

/// A TOTP generator/checker for a base32 secret.
pub fn totp(base32_secret: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(base32_secret).ok()?;
    // The contract's demo secret is 80 bits, below RFC 4226's 128-bit advice: accept it, while
    // secrets we generate are 160 bits.
    Some(Builder::new().with_secret(secret).build_noncompliant())
}

/// A fresh 160-bit secret (RFC 4226's recommendation), base32 as authenticator apps take it.
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    Secret::from(bytes.to_vec()).to_base32()
}

/// The time step a code is valid for at `now`, if it is valid.
pub fn check(base32_secret: &str, code: &str, now: i64) -> Option<i64> {
    let totp = totp(base32_secret)?;
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = u64::try_from(now).ok()?;
    totp.check(code, now)
        .and_then(|step| i64::try_from(step).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_style_codes_check_and_give_their_step() {
        let t = totp("JBSWY3DPEHPK3PXP").unwrap();
        let now = 1_700_000_000i64;
        let code = t.generate(now as u64).to_string();
        assert_eq!(check("JBSWY3DPEHPK3PXP", &code, now), Some(now / 30));
        assert_eq!(check("JBSWY3DPEHPK3PXP", &code, now + 300), None);
        assert_eq!(check("JBSWY3DPEHPK3PXP", "12345", now), None);
        assert_eq!(check("not base32!", &code, now), None);
    }
}
