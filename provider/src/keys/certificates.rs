//! Certificate chains for the signing keys (`x5c`, RFC 7517 4.7): an operator CA certifies each
//! key, so that a receipt archived for years can be tied to the operator by a chain as well as
//! by the key history. The chain (leaf first) is published with the key in the JWKS and the key
//! history. The operator gives it with `vneid-provider keys certify`; the demo makes its own CA.
//! X.509 work is OpenSSL's (already linked through josekit): nothing is parsed by hand.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use josekit::jwk::Jwk;
use josekit::jwk::KeyPair;
use josekit::jwk::alg::ec::EcKeyPair;
use josekit::jwk::alg::rsa::RsaKeyPair;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::x509::extension::{BasicConstraints, KeyUsage};
use openssl::x509::{X509, X509Builder, X509NameBuilder};

use super::Sealer;
use crate::store::{KeyRow, Store, StoreError};

/// Why a chain was refused or could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateError {
    /// OpenSSL could not read or make a certificate.
    #[error("certificate error: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    /// A key could not be read.
    #[error("key error: {0}")]
    Jose(#[from] josekit::JoseError),
    /// The stored key could not be opened.
    #[error(transparent)]
    Seal(#[from] super::SealError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No key with this id.
    #[error("no signing key {0}")]
    NoKey(String),
    /// The PEM holds no certificate.
    #[error("the file holds no PEM certificate")]
    Empty,
    /// The first certificate is not for this key.
    #[error("the first certificate of the chain is not for key {0}")]
    NotThisKey(String),
}

/// The public half of a stored key, as OpenSSL reads it.
fn public_key(row: &KeyRow, sealer: &Sealer) -> Result<PKey<Public>, CertificateError> {
    let private = Jwk::from_bytes(sealer.open(&row.private_jwe)?)?;
    let der = match private.key_type() {
        "EC" => EcKeyPair::from_jwk(&private)?.to_der_public_key(),
        _ => RsaKeyPair::from_jwk(&private)?.to_der_public_key(),
    };
    Ok(PKey::public_key_from_der(&der)?)
}

/// Reads a PEM chain (leaf first) for key `kid` and checks that the leaf certifies that key.
/// Returns the `x5c` values (base64 DER, not base64url).
pub fn chain_for(
    row: &KeyRow,
    sealer: &Sealer,
    pem: &[u8],
) -> Result<Vec<String>, CertificateError> {
    let certs = X509::stack_from_pem(pem)?;
    let leaf = certs.first().ok_or(CertificateError::Empty)?;
    let expected = public_key(row, sealer)?;
    if !leaf.public_key()?.public_eq(&expected) {
        return Err(CertificateError::NotThisKey(row.kid.clone()));
    }
    certs
        .iter()
        .map(|c| Ok(STANDARD.encode(c.to_der()?)))
        .collect()
}

/// Stores the chain of key `kid` (replacing any), after checking it.
pub async fn certify(
    store: &Store,
    sealer: &Sealer,
    kid: &str,
    pem: &[u8],
    now: i64,
) -> Result<(), CertificateError> {
    let row = store
        .all_keys()
        .await?
        .into_iter()
        .find(|r| r.kid == kid)
        .ok_or_else(|| CertificateError::NoKey(kid.to_string()))?;
    let chain = chain_for(&row, sealer, pem)?;
    store.set_key_certificate_chain(kid, &chain, now).await?;
    Ok(())
}

/// A certificate authority made on the spot: the demo's operator CA, or a test's.
pub struct DemoCa {
    key: PKey<Private>,
    certificate: X509,
}

/// Ten years: a demo chain outlives any demo.
const DEMO_VALIDITY_DAYS: u32 = 3650;

fn name(common_name: &str) -> Result<openssl::x509::X509Name, CertificateError> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, "VNeID demo operator")?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(name.build())
}

fn builder(serial: u32, not_before_unix: i64) -> Result<X509Builder, CertificateError> {
    let mut b = X509Builder::new()?;
    b.set_version(2)?;
    let serial = BigNum::from_u32(serial)?.to_asn1_integer()?;
    b.set_serial_number(&serial)?;
    // Valid from a day before `now`, so that a receipt signed at once is covered.
    let not_before = Asn1Time::from_unix(not_before_unix - 86_400)?;
    b.set_not_before(&not_before)?;
    let not_after = Asn1Time::days_from_now(DEMO_VALIDITY_DAYS)?;
    b.set_not_after(&not_after)?;
    Ok(b)
}

impl DemoCa {
    /// A new CA (P-256), named `common_name`, valid from the day before `now`.
    pub fn generate(common_name: &str, now: i64) -> Result<DemoCa, CertificateError> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
        let key = PKey::from_ec_key(EcKey::generate(&group)?)?;
        let mut b = builder(1, now)?;
        let subject = name(common_name)?;
        b.set_subject_name(&subject)?;
        b.set_issuer_name(&subject)?;
        b.set_pubkey(&key)?;
        b.append_extension(BasicConstraints::new().critical().ca().build()?)?;
        b.append_extension(
            KeyUsage::new()
                .critical()
                .key_cert_sign()
                .crl_sign()
                .build()?,
        )?;
        b.sign(&key, MessageDigest::sha256())?;
        Ok(DemoCa {
            key,
            certificate: b.build(),
        })
    }

    /// The CA certificate (PEM): what a relying party trusts.
    pub fn pem(&self) -> Result<String, CertificateError> {
        Ok(String::from_utf8_lossy(&self.certificate.to_pem()?).into_owned())
    }

    /// A leaf certificate for `public`, named after the key, chained to this CA (PEM, leaf
    /// then CA).
    fn leaf_pem(
        &self,
        kid: &str,
        public: &PKey<Public>,
        now: i64,
    ) -> Result<Vec<u8>, CertificateError> {
        let mut b = builder(rand::random::<u32>() | 1, now)?;
        let subject = name(&format!("VNeID signing key {kid}"))?;
        b.set_subject_name(&subject)?;
        b.set_issuer_name(self.certificate.subject_name())?;
        b.set_pubkey(public)?;
        b.append_extension(BasicConstraints::new().critical().build()?)?;
        b.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
        b.sign(&self.key, MessageDigest::sha256())?;
        let mut pem = b.build().to_pem()?;
        pem.extend(self.certificate.to_pem()?);
        Ok(pem)
    }

    /// Certifies every stored key that has no chain yet; returns how many.
    pub async fn certify_uncertified(
        &self,
        store: &Store,
        sealer: &Sealer,
        now: i64,
    ) -> Result<usize, CertificateError> {
        let chains = store.key_certificate_chains().await?;
        let mut done = 0;
        for row in store.all_keys().await? {
            if chains.contains_key(&row.kid) {
                continue;
            }
            let pem = self.leaf_pem(&row.kid, &public_key(&row, sealer)?, now)?;
            let chain = chain_for(&row, sealer, &pem)?;
            store
                .set_key_certificate_chain(&row.kid, &chain, now)
                .await?;
            done += 1;
        }
        Ok(done)
    }
}
