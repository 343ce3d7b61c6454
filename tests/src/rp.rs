//! A relying party built on a client library we did not write (the `openidconnect` crate): it
//! discovers the provider, starts a login and completes it with full ID-token validation.

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreTokenResponse,
};
use openidconnect::{
    AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use url::Url;

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A third-party relying party.
pub struct ThirdPartyRp {
    pub client: Client,
    pub http: reqwest::Client,
    pub redirect_uri: String,
}

/// A login in flight.
pub struct Started {
    pub url: Url,
    pub state: CsrfToken,
    pub nonce: Nonce,
    pub verifier: PkceCodeVerifier,
}

/// What a completed login gave.
pub struct Completed {
    pub tokens: CoreTokenResponse,
    pub claims: CoreIdTokenClaims,
}

impl ThirdPartyRp {
    /// Discovers the provider and registers as one of the demo clients.
    pub async fn demo(issuer: &str, client_id: &str) -> Self {
        let (secret, redirect) = match client_id {
            "demo-portal" => ("demo-portal-secret", "http://127.0.0.1:3001/callback"),
            _ => ("demo-bank-secret", "http://127.0.0.1:3002/callback"),
        };
        Self::discover(issuer, client_id, secret, redirect).await
    }

    /// Discovers the provider at `issuer`.
    pub async fn discover(issuer: &str, client_id: &str, secret: &str, redirect: &str) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(issuer.to_string()).unwrap(),
            &http,
        )
        .await
        .expect("discovery");
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.to_string()),
            Some(ClientSecret::new(secret.to_string())),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.to_string()).unwrap());
        ThirdPartyRp {
            client,
            http,
            redirect_uri: redirect.to_string(),
        }
    }

    /// The authorization URL for these scopes, acr values and extra parameters.
    pub fn start(&self, scopes: &[&str], acr: &[&str], extra: &[(&str, &str)]) -> Started {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = self
            .client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for s in scopes {
            request = request.add_scope(Scope::new(s.to_string()));
        }
        for a in acr {
            request =
                request.add_auth_context_value(AuthenticationContextClass::new(a.to_string()));
        }
        for (k, v) in extra {
            request = request.add_extra_param(k.to_string(), v.to_string());
        }
        let (url, state, nonce) = request.url();
        Started {
            url,
            state,
            nonce,
            verifier,
        }
    }

    /// Completes a login from the callback URL: checks state and iss, exchanges the code and
    /// validates the ID token (ES256 allowed).
    pub async fn finish(
        &self,
        callback: &Url,
        started: Started,
        issuer: &str,
    ) -> Result<Completed, String> {
        let param = |n: &str| {
            callback
                .query_pairs()
                .find(|(k, _)| k == n)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            return Err(error);
        }
        assert_eq!(
            param("state").as_deref(),
            Some(started.state.secret().as_str()),
            "state echoed"
        );
        assert_eq!(
            param("iss").as_deref(),
            Some(issuer),
            "iss in the authorization response (RFC 9207)"
        );
        let code = param("code").ok_or("no code")?;
        let tokens = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(started.verifier)
            .request_async(&self.http)
            .await
            .map_err(|e| format!("token request: {e:?}"))?;
        let verifier = self.client.id_token_verifier().set_allowed_algs(vec![
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        ]);
        let id_token = openidconnect::TokenResponse::id_token(&tokens).ok_or("no id token")?;
        let claims = id_token
            .claims(&verifier, &started.nonce)
            .map_err(|e| format!("id token: {e}"))?
            .clone();
        let _ = tokens.access_token();
        Ok(Completed { tokens, claims })
    }

    /// UserInfo as raw JSON.
    pub async fn userinfo(&self, issuer: &str, access_token: &str) -> (u16, serde_json::Value) {
        let response = self
            .http
            .get(format!("{issuer}/userinfo"))
            .bearer_auth(access_token)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.json().await.unwrap_or(serde_json::Value::Null),
        )
    }
}
