//! The signing key ring: keys are made at first start, kept encrypted in the database, loaded
//! once into memory (signers built once, never per request) and reloaded in the background, so
//! a rotation done by one process reaches all of them.

pub mod certificates;
mod history;
mod seal;

pub use history::{HistoricKey, KeyHistory};

pub use seal::{SealError, Sealer};

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use josekit::jwk::Jwk;
use josekit::jws::{ES256, JwsHeader, JwsSigner, RS256};
use serde::Serialize;

use crate::oidc::types::SigningAlg;
use crate::store::{KeyRow, Store, StoreError};

/// What went wrong with keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A key could not be made, read or used.
    #[error("key error: {0}")]
    Jose(#[from] josekit::JoseError),
    /// A stored key could not be decrypted (wrong key-encryption key?).
    #[error(transparent)]
    Seal(#[from] SealError),
    /// A JWK or claims set could not be encoded.
    #[error("cannot encode JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// No active key for an algorithm.
    #[error("no active signing key for {0}")]
    NoKey(&'static str),
}

/// One loaded signing key.
struct ActiveKey {
    kid: String,
    signer: Box<dyn JwsSigner>,
}

/// A snapshot of the keys, swapped whole on reload.
struct Snapshot {
    signers: BTreeMap<SigningAlg, ActiveKey>,
    jwks: Arc<str>,
}

/// The key ring; cheap to share.
pub struct KeyRing {
    store: Store,
    sealer: Sealer,
    current: ArcSwap<Snapshot>,
}

#[derive(Serialize)]
struct JwkSet<'a> {
    keys: Vec<&'a serde_json::Map<String, serde_json::Value>>,
}

impl KeyRing {
    /// Loads the keys, making one per algorithm at first start.
    pub async fn load(store: Store, sealer: Sealer, now: i64) -> Result<KeyRing, KeyError> {
        for &alg in SigningAlg::ALL {
            let rows = store.published_keys(now).await?;
            if !rows
                .iter()
                .any(|k| k.alg == alg.as_str() && k.remove_at.is_none())
            {
                let row = new_key(alg, &sealer, now, now)?;
                store.insert_key(&row).await?;
                tracing::info!(kid = %row.kid, alg = alg.as_str(), "signing key created");
            }
        }
        let snapshot = snapshot(
            &store.published_keys(now).await?,
            &store.key_certificate_chains().await?,
            &sealer,
            now,
        )?;
        Ok(KeyRing {
            store,
            sealer,
            current: ArcSwap::from_pointee(snapshot),
        })
    }

    /// Re-reads the keys from the database.
    pub async fn reload(&self, now: i64) -> Result<(), KeyError> {
        let snapshot = snapshot(
            &self.store.published_keys(now).await?,
            &self.store.key_certificate_chains().await?,
            &self.sealer,
            now,
        )?;
        self.current.store(Arc::new(snapshot));
        Ok(())
    }

    /// Makes a new key for `alg`; the current ones stay published for `overlap` seconds.
    pub async fn rotate(
        &self,
        alg: SigningAlg,
        now: i64,
        overlap: i64,
    ) -> Result<String, KeyError> {
        let row = new_key(alg, &self.sealer, now, now)?;
        self.store.rotate_key(&row, now + overlap).await?;
        self.reload(now).await?;
        Ok(row.kid)
    }

    /// The JWKS document.
    pub fn jwks(&self) -> Arc<str> {
        self.current.load().jwks.clone()
    }

    /// Signs `claims` as a JWT with the active key for `alg`.
    pub fn sign<T: Serialize>(&self, alg: SigningAlg, claims: &T) -> Result<String, KeyError> {
        self.sign_typed(alg, "JWT", claims)
    }

    /// Signs `claims` as a JWS of media type `typ` (RFC 8725 3.11: a receipt is not an ID
    /// token) with the active key for `alg`.
    pub fn sign_typed<T: Serialize>(
        &self,
        alg: SigningAlg,
        typ: &str,
        claims: &T,
    ) -> Result<String, KeyError> {
        let snapshot = self.current.load();
        let key = snapshot
            .signers
            .get(&alg)
            .ok_or(KeyError::NoKey(alg.as_str()))?;
        let mut header = JwsHeader::new();
        header.set_token_type(typ);
        header.set_key_id(&key.kid);
        let payload = serde_json::to_vec(claims)?;
        Ok(josekit::jws::serialize_compact(
            &payload,
            &header,
            key.signer.as_ref(),
        )?)
    }
}

/// Makes a key pair, sealing the private half.
fn new_key(
    alg: SigningAlg,
    sealer: &Sealer,
    now: i64,
    activate_at: i64,
) -> Result<KeyRow, KeyError> {
    let mut private = match alg {
        SigningAlg::Es256 => ES256.generate_key_pair()?.to_jwk_key_pair(),
        SigningAlg::Rs256 => RS256.generate_key_pair(2048)?.to_jwk_key_pair(),
    };
    let kid = crate::secret::random_token(12);
    private.set_key_id(&kid);
    private.set_algorithm(alg.as_str());
    private.set_key_use("sig");
    // `to_public_key` keeps only the key material: label the public half too.
    let mut public = private.to_public_key()?;
    public.set_key_id(&kid);
    public.set_algorithm(alg.as_str());
    public.set_key_use("sig");
    Ok(KeyRow {
        kid,
        alg: alg.as_str().to_string(),
        private_jwe: sealer.seal(private.to_string().as_bytes())?,
        public_jwk: public.to_string(),
        created_at: now,
        activate_at,
        remove_at: None,
    })
}

/// A key's public JWK, with its certificate chain (`x5c`) if an operator CA issued one.
fn public_jwk(row: &KeyRow, chains: &BTreeMap<String, Vec<String>>) -> Result<Jwk, KeyError> {
    let mut jwk = Jwk::from_bytes(row.public_jwk.as_bytes())?;
    if let Some(chain) = chains.get(&row.kid) {
        jwk.set_parameter("x5c", Some(serde_json::json!(chain)))?;
    }
    Ok(jwk)
}

/// Builds signers (the newest active key per algorithm) and the JWKS from the rows.
fn snapshot(
    rows: &[KeyRow],
    chains: &BTreeMap<String, Vec<String>>,
    sealer: &Sealer,
    now: i64,
) -> Result<Snapshot, KeyError> {
    let mut signers = BTreeMap::new();
    let mut public = Vec::new();
    for row in rows {
        public.push(public_jwk(row, chains)?);
        let Some(alg) = SigningAlg::parse(&row.alg) else {
            continue;
        };
        // Rows come oldest first, so the last active one of each algorithm signs.
        if row.activate_at <= now {
            let private = Jwk::from_bytes(sealer.open(&row.private_jwe)?)?;
            let signer: Box<dyn JwsSigner> = match alg {
                SigningAlg::Es256 => Box::new(ES256.signer_from_jwk(&private)?),
                SigningAlg::Rs256 => Box::new(RS256.signer_from_jwk(&private)?),
            };
            signers.insert(
                alg,
                ActiveKey {
                    kid: row.kid.clone(),
                    signer,
                },
            );
        }
    }
    let set = JwkSet {
        keys: public.iter().map(|k| k.as_ref()).collect(),
    };
    let jwks = serde_json::to_string(&set)?;
    Ok(Snapshot {
        signers,
        jwks: jwks.into(),
    })
}

/// A key as `keys list` shows it.
pub struct KeyInfo {
    /// Key id.
    pub kid: String,
    /// Algorithm.
    pub alg: String,
    /// Created.
    pub created_at: i64,
    /// Signing from.
    pub activate_at: i64,
    /// Dropped from the JWKS at.
    pub remove_at: Option<i64>,
}

impl KeyRing {
    /// The published keys.
    pub async fn list(&self, now: i64) -> Result<Vec<KeyInfo>, KeyError> {
        Ok(self
            .store
            .published_keys(now)
            .await?
            .into_iter()
            .map(|r| KeyInfo {
                kid: r.kid,
                alg: r.alg,
                created_at: r.created_at,
                activate_at: r.activate_at,
                remove_at: r.remove_at,
            })
            .collect())
    }
}
