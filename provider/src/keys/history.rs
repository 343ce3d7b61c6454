//! The key history: every signing key this provider ever used, with the period it was valid
//! in, so that a receipt signed years ago can be checked offline by whoever archived this
//! document beside it (a rotated-out key leaves the JWKS, never the history).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{KeyError, KeyRing};
use crate::store::KeyRow;

/// `GET /.well-known/vneid-key-history`.
#[derive(Debug, Serialize)]
pub struct KeyHistory {
    /// The issuer whose keys these are.
    pub issuer: String,
    /// Every key, oldest first.
    pub keys: Vec<HistoricKey>,
}

/// One key and its validity period.
#[derive(Debug, Serialize)]
pub struct HistoricKey {
    /// Key id (the JWS `kid`).
    pub kid: String,
    /// Algorithm.
    pub alg: String,
    /// Valid from (Unix seconds): the key signs nothing issued before.
    pub nbf: i64,
    /// Valid until (Unix seconds), once rotated out: the end of its publication in the JWKS.
    /// Absent while the key is current.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The public key.
    pub jwk: Map<String, Value>,
}

impl HistoricKey {
    fn from_row(
        row: KeyRow,
        chains: &BTreeMap<String, Vec<String>>,
    ) -> Result<HistoricKey, KeyError> {
        // With its certificate chain (`x5c`), if an operator CA issued one.
        let jwk: Map<String, Value> = super::public_jwk(&row, chains)?.into();
        Ok(HistoricKey {
            kid: row.kid,
            alg: row.alg,
            nbf: row.activate_at,
            exp: row.remove_at,
            jwk,
        })
    }
}

impl KeyRing {
    /// The key history of `issuer`: every key ever stored, public halves only.
    pub async fn history(&self, issuer: &str) -> Result<KeyHistory, KeyError> {
        let chains = self.store.key_certificate_chains().await?;
        let keys = self
            .store
            .all_keys()
            .await?
            .into_iter()
            .map(|row| HistoricKey::from_row(row, &chains))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(KeyHistory {
            issuer: issuer.to_string(),
            keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_becomes_a_public_entry_without_the_private_key() {
        let row = KeyRow {
            kid: "k1".into(),
            alg: "ES256".into(),
            private_jwe: "sealed-private-key".into(),
            public_jwk: r#"{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA","kid":"k1"}"#.into(),
            created_at: 10,
            activate_at: 11,
            remove_at: Some(99),
        };
        let chains = BTreeMap::from([("k1".to_string(), vec!["MIIB".to_string()])]);
        let entry = HistoricKey::from_row(row, &chains).unwrap();
        let json = serde_json::to_string(&entry).unwrap();
        assert!(!json.contains("sealed-private-key"));
        assert_eq!(entry.nbf, 11);
        assert_eq!(entry.exp, Some(99));
        assert_eq!(entry.jwk["kid"], "k1");
        assert_eq!(entry.jwk["x5c"], serde_json::json!(["MIIB"]));
    }
}
