//! The relying-party client: discovery, the authorization URL, and the completion of a login
//! with every check a bank or a portal must not forget.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthenticationContextClass, AuthorizationCode, ClientId, ClientSecret,
    CsrfToken, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, LanguageTag, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use vneid_contract::{Level, Scope as VScope};

use crate::error::SdkError;
use crate::identity::VerifiedIdentity;
use crate::pending::{LoginRequest, PendingLogin, Prompt};

type Core = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// How the client authenticates at the token endpoint.
#[non_exhaustive]
pub enum ClientCredentials {
    /// `client_secret_basic`.
    Secret(String),
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientCredentials([redacted])")
    }
}

/// Keys cached from `jwks_uri`: refetched once on an unknown `kid` (at most every 30 s), and
/// kept when the provider cannot be reached.
struct JwksCache {
    keys: CoreJsonWebKeySet,
    fetched: Instant,
}

const REFETCH_AFTER: Duration = Duration::from_secs(30);
/// Clock skew tolerated on `iat`, `exp` and `auth_time`.
const LEEWAY: i64 = 60;

/// A relying party of the VNeID provider (or any OpenID provider, for standards-only logins).
pub struct VneidClient {
    core: Core,
    http: openidconnect::reqwest::Client,
    issuer: String,
    issuer_url: IssuerUrl,
    client_id: String,
    iss_in_response: bool,
    jwks_uri: openidconnect::JsonWebKeySetUrl,
    jwks: RwLock<JwksCache>,
}

impl std::fmt::Debug for VneidClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VneidClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl VneidClient {
    /// Discovers the provider at `issuer` and sets the client up.
    pub async fn discover(
        issuer: &str,
        client_id: &str,
        credentials: ClientCredentials,
        redirect_uri: &str,
    ) -> Result<VneidClient, SdkError> {
        let discovery = |cause: String| SdkError::Discovery {
            issuer: issuer.to_string(),
            cause,
        };
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|e| SdkError::Config(e.to_string()))?;
        let issuer_url = IssuerUrl::new(issuer.to_string())
            .map_err(|e| SdkError::Config(format!("issuer: {e}")))?;
        let bytes = http
            .get(format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ))
            .send()
            .await
            .map_err(|e| discovery(e.to_string()))?
            .bytes()
            .await
            .map_err(|e| discovery(e.to_string()))?;
        let raw: Value = serde_json::from_slice(&bytes).map_err(|e| discovery(e.to_string()))?;
        let iss_in_response = raw
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let metadata = CoreProviderMetadata::discover_async(issuer_url.clone(), &http)
            .await
            .map_err(|e| discovery(e.to_string()))?;
        let jwks_uri = metadata.jwks_uri().clone();
        let keys = metadata.jwks().clone();
        let ClientCredentials::Secret(secret) = credentials;
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| SdkError::Config(format!("redirect URI: {e}")))?;
        let core = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.to_string()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(redirect);
        Ok(VneidClient {
            core,
            http,
            issuer: issuer.to_string(),
            issuer_url,
            client_id: client_id.to_string(),
            iss_in_response,
            jwks_uri,
            jwks: RwLock::new(JwksCache {
                keys,
                fetched: Instant::now(),
            }),
        })
    }

    /// The issuer this client trusts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Starts a login: the URL to send the browser to, and what to keep until the callback.
    pub fn begin(&self, request: &LoginRequest) -> (url::Url, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut auth = self
            .core
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in request.scopes.iter().filter(|s| *s != VScope::OpenId) {
            auth = auth.add_scope(Scope::new(scope.as_str().to_string()));
        }
        if let Some(level) = request.level {
            auth = auth
                .add_auth_context_value(AuthenticationContextClass::new(level.acr().to_string()));
        }
        if let Some(max_age) = request.max_age {
            auth = auth.set_max_age(max_age);
        }
        if let Some(prompt) = request.prompt {
            auth = auth.add_prompt(match prompt {
                Prompt::None => CoreAuthPrompt::None,
                Prompt::Login => CoreAuthPrompt::Login,
                Prompt::Consent => CoreAuthPrompt::Consent,
            });
        }
        if let Some(locales) = &request.ui_locales {
            for tag in locales.split(' ').filter(|t| !t.is_empty()) {
                auth = auth.add_ui_locale(LanguageTag::new(tag.to_string()));
            }
        }
        let (url, state, nonce) = auth.url();
        let pending = PendingLogin {
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            level: request.level,
            scopes: request.scopes.clone(),
            max_age: request.max_age.map(|d| d.as_secs() as i64),
            created_at: now(),
        };
        (url, pending)
    }

    /// Completes a login from the callback's query string: checks `state` and `iss`, turns
    /// errors into [`SdkError`]s, exchanges the code, validates the ID token completely, fetches
    /// UserInfo when the scopes need it, and returns the verified identity.
    pub async fn complete(
        &self,
        pending: PendingLogin,
        callback_query: &str,
    ) -> Result<VerifiedIdentity, SdkError> {
        let params: Map<String, Value> =
            url::form_urlencoded::parse(callback_query.trim_start_matches('?').as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
        let get = |name: &str| params.get(name).and_then(Value::as_str);
        let state_ok: bool =
            get("state").is_some_and(|s| s.as_bytes().ct_eq(pending.state.as_bytes()).into());
        if !state_ok {
            return Err(SdkError::StateMismatch);
        }
        match get("iss") {
            Some(iss) if iss == self.issuer => {}
            None if !self.iss_in_response => {}
            other => {
                return Err(SdkError::IssuerMismatch {
                    expected: self.issuer.clone(),
                    found: other.map(str::to_string),
                });
            }
        }
        if let Some(code) = get("error") {
            let description = get("error_description").unwrap_or("").to_string();
            return Err(match code {
                "unmet_authentication_requirements" => SdkError::InsufficientLevel {
                    required: pending.level.unwrap_or(Level::Level2),
                },
                "access_denied" => SdkError::Denied,
                "login_required" | "consent_required" | "interaction_required" => {
                    SdkError::InteractionRequired(code.to_string())
                }
                _ => SdkError::Provider {
                    code: code.to_string(),
                    description,
                },
            });
        }
        let code = get("code").ok_or(SdkError::MissingCode)?;
        let tokens = self
            .core
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| SdkError::Config(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| SdkError::TokenExchange(token_error(&e)))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| SdkError::InvalidIdToken("the token response has no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let claims = match self.verify(id_token, &nonce) {
            Ok(claims) => claims,
            Err(first) => {
                // Perhaps a key we have not seen yet (rotation): refetch once and retry.
                if self.refetch_keys().await {
                    self.verify(id_token, &nonce)?
                } else {
                    return Err(first);
                }
            }
        };
        if let Some(azp) = claims.authorized_party()
            && azp.as_str() != self.client_id
        {
            return Err(SdkError::InvalidIdToken(format!(
                "azp is {}, not this client",
                azp.as_str()
            )));
        }
        let issued = claims.issue_time().timestamp();
        if issued > now() + LEEWAY {
            return Err(SdkError::InvalidIdToken("issued in the future".into()));
        }
        if let Some(expected) = claims.access_token_hash() {
            let keys = self.keys();
            let verifier = self.verifier(&keys);
            let alg = id_token
                .signing_alg()
                .map_err(|e| SdkError::InvalidIdToken(e.to_string()))?;
            let key = id_token
                .signing_key(&verifier)
                .map_err(|e| SdkError::InvalidIdToken(e.to_string()))?;
            let actual = AccessTokenHash::from_token(tokens.access_token(), alg, key)
                .map_err(|e| SdkError::InvalidIdToken(e.to_string()))?;
            if &actual != expected {
                return Err(SdkError::InvalidIdToken(
                    "at_hash does not match the access token".into(),
                ));
            }
        }
        let reached = claims
            .auth_context_ref()
            .and_then(|acr| Level::from_acr(acr.as_str()));
        if let Some(required) = pending.level {
            // Fail closed: no acr, an unknown acr, or a lower one is refused.
            if !reached.is_some_and(|r| r.satisfies(required)) {
                return Err(SdkError::LevelTooLow { required, reached });
            }
        }
        let auth_time = claims.auth_time().map(|t| t.timestamp());
        if let Some(max_age) = pending.max_age {
            let at = auth_time.ok_or_else(|| {
                SdkError::InvalidIdToken("auth_time is missing although max_age was asked".into())
            })?;
            let age = now() - at;
            if age > max_age + LEEWAY {
                return Err(SdkError::LoginTooOld { age, max_age });
            }
        }
        let subject = claims.subject().as_str().to_string();
        let methods = claims
            .auth_method_refs()
            .map(|m| m.iter().map(|m| m.to_string()).collect())
            .unwrap_or_default();
        let raw_token = id_token.to_string();
        let mut all = jwt_payload(&raw_token)?;
        if pending
            .scopes
            .iter()
            .any(|s| s != VScope::OpenId && s != VScope::OfflineAccess)
        {
            let info = self.userinfo(tokens.access_token().secret()).await?;
            if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                return Err(SdkError::UserInfo(
                    "UserInfo answered for another subject".into(),
                ));
            }
            all.extend(info);
        }
        VerifiedIdentity::from_claims(subject, reached, auth_time, methods, raw_token, all)
    }

    fn keys(&self) -> CoreJsonWebKeySet {
        match self.jwks.read() {
            Ok(cache) => cache.keys.clone(),
            Err(poisoned) => poisoned.into_inner().keys.clone(),
        }
    }

    fn verifier<'a>(&self, keys: &CoreJsonWebKeySet) -> CoreIdTokenVerifier<'a> {
        // No client secret: an HS256 token "signed" with anything is never accepted.
        CoreIdTokenVerifier::new_public_client(
            ClientId::new(self.client_id.clone()),
            self.issuer_url.clone(),
            keys.clone(),
        )
        .set_allowed_algs([
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        ])
    }

    fn verify(
        &self,
        id_token: &openidconnect::core::CoreIdToken,
        nonce: &Nonce,
    ) -> Result<openidconnect::core::CoreIdTokenClaims, SdkError> {
        let keys = self.keys();
        let verifier = self.verifier(&keys);
        id_token
            .claims(&verifier, nonce)
            .cloned()
            .map_err(|e| SdkError::InvalidIdToken(e.to_string()))
    }

    /// Refetches the JWKS if the last fetch is old enough; keeps the old keys on failure.
    /// Returns whether new keys were loaded.
    async fn refetch_keys(&self) -> bool {
        let recent = match self.jwks.read() {
            Ok(cache) => cache.fetched.elapsed() < REFETCH_AFTER,
            Err(_) => false,
        };
        if recent {
            return false;
        }
        match CoreJsonWebKeySet::fetch_async(&self.jwks_uri, &self.http).await {
            Ok(keys) => {
                if let Ok(mut cache) = self.jwks.write() {
                    *cache = JwksCache {
                        keys,
                        fetched: Instant::now(),
                    };
                }
                true
            }
            Err(_) => {
                if let Ok(mut cache) = self.jwks.write() {
                    cache.fetched = Instant::now();
                }
                false
            }
        }
    }

    async fn userinfo(&self, access_token: &str) -> Result<Map<String, Value>, SdkError> {
        let url = self
            .core
            .user_info_url()
            .ok_or_else(|| SdkError::UserInfo("the provider has no UserInfo endpoint".into()))?;
        let response = self
            .http
            .get(url.url().clone())
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| SdkError::UserInfo(e.to_string()))?;
        if !response.status().is_success() {
            return Err(SdkError::UserInfo(format!("status {}", response.status())));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SdkError::UserInfo(e.to_string()))?;
        match serde_json::from_slice::<Value>(&bytes)
            .map_err(|e| SdkError::UserInfo(e.to_string()))?
        {
            Value::Object(map) => Ok(map),
            _ => Err(SdkError::UserInfo("not a JSON object".into())),
        }
    }

    /// Forces the next completion to refetch the keys (tests of rotation).
    #[doc(hidden)]
    pub fn expire_keys(&self) {
        if let Ok(mut cache) = self.jwks.write() {
            cache.fetched = Instant::now() - REFETCH_AFTER;
        }
    }
}

/// The payload of a JWT whose signature was verified.
fn jwt_payload(jwt: &str) -> Result<Map<String, Value>, SdkError> {
    use base64::Engine;
    let bad = || SdkError::InvalidIdToken("malformed payload".into());
    let part = jwt.split('.').nth(1).ok_or_else(bad)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| bad())?;
    match serde_json::from_slice(&bytes).map_err(|_| bad())? {
        Value::Object(map) => Ok(map),
        _ => Err(bad()),
    }
}

fn token_error<E: std::error::Error>(e: &E) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
