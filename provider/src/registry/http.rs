//! A registry service over HTTP: `GET {base}/people/{id_number}` answers a person (404: none), with
//! the contact on record (`phone_number`, `email`) where first passwords go and the permanent
//! residence (`permanent_residence`: `address`, `province`),
//! `GET {base}/organizations/{code}` answers an organisation of the business registry (404: none),
//! `POST {base}/people/{id_number}/match` with `{"modality", "template"}` answers `{"score"}`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{MatchOutcome, Modality, RegistryError, RegistryPerson, Template, Thresholds};

/// The HTTP adapter.
#[derive(Clone)]
pub struct HttpRegistry {
    base: url::Url,
    client: reqwest::Client,
    thresholds: Thresholds,
}

#[derive(Serialize)]
struct MatchRequest<'a> {
    modality: String,
    template: &'a [f32],
}

#[derive(Deserialize)]
struct MatchResponse {
    score: f64,
}

impl HttpRegistry {
    /// An adapter for the service at `base`.
    pub fn new(base: url::Url, thresholds: Thresholds) -> Result<Self, RegistryError> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| RegistryError::Service(e.to_string()))?;
        Ok(HttpRegistry {
            base,
            client,
            thresholds,
        })
    }

    fn url(&self, id_number: &str, suffix: &str) -> Result<url::Url, RegistryError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| RegistryError::Service("the registry URL cannot be a base".into()))?
            .pop_if_empty()
            .extend(["people", id_number])
            .extend(suffix.split('/').filter(|s| !s.is_empty()));
        Ok(url)
    }

    pub(super) async fn person(
        &self,
        id_number: &str,
    ) -> Result<Option<RegistryPerson>, RegistryError> {
        let response = self
            .client
            .get(self.url(id_number, "")?)
            .send()
            .await
            .map_err(|e| RegistryError::Service(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(RegistryError::Service(format!(
                "status {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map(Some)
            .map_err(|e| RegistryError::Service(e.to_string()))
    }

    pub(super) async fn organization(
        &self,
        code: &str,
    ) -> Result<Option<super::RegistryOrganization>, RegistryError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| RegistryError::Service("the registry URL cannot be a base".into()))?
            .pop_if_empty()
            .extend(["organizations", code]);
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| RegistryError::Service(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(RegistryError::Service(format!(
                "status {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map(Some)
            .map_err(|e| RegistryError::Service(e.to_string()))
    }

    pub(super) async fn match_template(
        &self,
        id_number: &str,
        modality: &Modality,
        probe: &Template,
    ) -> Result<MatchOutcome, RegistryError> {
        let name = modality.as_string();
        let response = self
            .client
            .post(self.url(id_number, "match")?)
            .json(&MatchRequest {
                modality: name.clone(),
                template: probe.values(),
            })
            .send()
            .await
            .map_err(|e| RegistryError::Service(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Err(RegistryError::NotEnrolled(name));
        }
        if !response.status().is_success() {
            return Err(RegistryError::Service(format!(
                "status {}",
                response.status()
            )));
        }
        let body: MatchResponse = response
            .json()
            .await
            .map_err(|e| RegistryError::Service(e.to_string()))?;
        let threshold = match modality {
            Modality::Portrait => self.thresholds.portrait,
            Modality::Fingerprint(_) => self.thresholds.fingerprint,
        };
        Ok(MatchOutcome {
            modality: name,
            score: body.score,
            threshold,
            matched: body.score >= threshold,
        })
    }
}
