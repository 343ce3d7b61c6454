//! The signing key's certificate chain (`x5c`) checked up to an operator CA the relying party
//! trusts, with OpenSSL's path validation (already linked through josekit), at the time the
//! receipt was issued: a certificate that expired since still proves who held the key then.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use josekit::jws::{ES256, JwsVerifier, RS256};
use openssl::stack::Stack;
use openssl::x509::store::X509StoreBuilder;
use openssl::x509::verify::X509VerifyParam;
use openssl::x509::{X509, X509StoreContext};

use super::{KeyHistory, Receipt, ReceiptError, verify_receipt};

fn untrusted(e: impl std::fmt::Display) -> ReceiptError {
    ReceiptError::Untrusted(e.to_string())
}

/// [`verify_receipt`], and then: the key history's `x5c` chain for the receipt's key leads to
/// one of the CA certificates in `ca_pem` (PEM, one or more), was valid at the receipt's
/// `iat`, and its first certificate holds the very key the receipt verifies with (the
/// signature is checked again with the certificate's key).
pub fn verify_receipt_with_ca(
    receipt: &str,
    key_history: &KeyHistory,
    ca_pem: &[u8],
) -> Result<Receipt, ReceiptError> {
    let checked = verify_receipt(receipt, key_history)?;
    let key = key_history
        .keys
        .iter()
        .find(|k| k.kid == checked.kid)
        .ok_or_else(|| ReceiptError::UnknownKey(Some(checked.kid.clone())))?;
    let chain: Vec<X509> = match key.jwk.get("x5c").and_then(|v| v.as_array()) {
        Some(values) if !values.is_empty() => values
            .iter()
            .map(|v| {
                let der = STANDARD
                    .decode(v.as_str().unwrap_or_default())
                    .map_err(untrusted)?;
                X509::from_der(&der).map_err(untrusted)
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(ReceiptError::NoCertificateChain(checked.kid)),
    };
    let mut trusted = X509StoreBuilder::new().map_err(untrusted)?;
    let anchors = X509::stack_from_pem(ca_pem).map_err(untrusted)?;
    if anchors.is_empty() {
        return Err(untrusted("no CA certificate given"));
    }
    for ca in anchors {
        trusted.add_cert(ca).map_err(untrusted)?;
    }
    let mut param = X509VerifyParam::new().map_err(untrusted)?;
    param.set_time(checked.claims.iat);
    trusted.set_param(&param).map_err(untrusted)?;
    let trusted = trusted.build();
    let (leaf, intermediates) = chain
        .split_first()
        .ok_or_else(|| untrusted("empty chain"))?;
    let mut rest = Stack::new().map_err(untrusted)?;
    for c in intermediates {
        rest.push(c.clone()).map_err(untrusted)?;
    }
    let mut context = X509StoreContext::new().map_err(untrusted)?;
    let (ok, why) = context
        .init(&trusted, leaf, &rest, |c| {
            let ok = c.verify_cert()?;
            Ok((ok, c.error()))
        })
        .map_err(untrusted)?;
    if !ok {
        return Err(untrusted(why));
    }
    // The certified key is the one that signed: verify again with the certificate's key.
    let pem = leaf
        .public_key()
        .and_then(|k| k.public_key_to_pem())
        .map_err(untrusted)?;
    let verifier: Box<dyn JwsVerifier> = match key.alg.as_str() {
        "ES256" => Box::new(ES256.verifier_from_pem(&pem).map_err(untrusted)?),
        _ => Box::new(RS256.verifier_from_pem(&pem).map_err(untrusted)?),
    };
    josekit::jws::deserialize_compact(receipt, verifier.as_ref())
        .map_err(|_| untrusted("the certificate is for another key"))?;
    Ok(checked)
}
