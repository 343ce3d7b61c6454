//! The relying-party client: discovery, the authorization URL, and the completion of a login
//! with every check a bank or a portal must not forget. `openidconnect`'s 17 type parameters
//! stay in here.

use std::time::Duration;

use openidconnect::core::{
    CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreClientAuthMethod, CoreIdToken,
    CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    AccessToken, AuthType, AuthenticationContextClass, ClientId, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, LanguageTag, Nonce, PkceCodeChallenge, RedirectUrl,
    Scope,
};
use serde_json::Value;
use vneid_contract::Scope as VScope;

use crate::callback::Callback;
use crate::error::{BoxError, IdTokenError, SdkError, UserInfoError};
use crate::identity::VerifiedIdentity;
use crate::keys::KeyCache;
use crate::pending::{LoginRequest, PendingLogin, Prompt};
use crate::receipt::{KeyHistory, ReceiptError, SignedReceipt, verify_receipt};
use crate::verify::{self, Expected, VerifiedIdToken};

type Core = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Timeout of every request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);
/// Largest response body read from the provider (UserInfo carries the portrait).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// A client secret: printed as `[redacted]`, read only through [`ClientSecret::secret`].
pub struct ClientSecret(String);

impl ClientSecret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        ClientSecret(secret.into())
    }

    /// The secret itself.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ClientSecret {
    fn from(s: &str) -> Self {
        ClientSecret(s.to_string())
    }
}

impl From<String> for ClientSecret {
    fn from(s: String) -> Self {
        ClientSecret(s)
    }
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientSecret([redacted])")
    }
}

/// How the client authenticates at the token endpoint.
#[non_exhaustive]
pub enum ClientCredentials {
    /// A client secret, sent with `client_secret_basic` (or `client_secret_post` when the
    /// provider offers only that).
    Secret(ClientSecret),
    /// `private_key_jwt` (RFC 7523): each token request carries a fresh assertion signed with
    /// this key (a P-256 key signs ES256, an RSA key RS256); the provider holds the public key.
    PrivateKeyJwt {
        /// The `kid` registered with the provider.
        key_id: String,
        /// The private key, PEM.
        private_key_pem: ClientSecret,
    },
}

impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientCredentials::Secret(_) => f.write_str("Secret([redacted])"),
            ClientCredentials::PrivateKeyJwt { key_id, .. } => f
                .debug_struct("PrivateKeyJwt")
                .field("key_id", key_id)
                .finish_non_exhaustive(),
        }
    }
}

/// A relying party of the VNeID provider (or of any OpenID provider, for standards-only
/// logins with [`LoginRequest::level`] `None`). Discover it once and share it (it holds one
/// HTTP client and the provider's keys).
pub struct VneidClient {
    core: Core,
    http: openidconnect::reqwest::Client,
    issuer: String,
    issuer_url: IssuerUrl,
    client_id: ClientId,
    /// The provider lists `at_hash` among its claims: a token without one is refused.
    at_hash_required: bool,
    keys: KeyCache,
    /// For `private_key_jwt`.
    pub(crate) assertion_key: Option<AssertionKey>,
    /// The client secret, for `client_secret_basic` or `client_secret_post`.
    pub(crate) secret: Option<ClientSecret>,
    /// Whether the secret goes in the body (`client_secret_post`) rather than Basic.
    pub(crate) secret_in_body: bool,
    /// The token endpoint.
    pub(crate) token_url: String,
    /// The endpoints beyond what `openidconnect` models.
    pub(crate) endpoints: crate::tokens::Endpoints,
    /// The client's DPoP key, when it binds its tokens.
    pub(crate) dpop: Option<crate::dpop::DpopKey>,
    /// The last DPoP nonce the provider handed out.
    pub(crate) dpop_nonce: std::sync::Mutex<Option<String>>,
    /// The client's private key for encrypted ID tokens and UserInfo (PEM).
    pub(crate) decryption_key: Option<ClientSecret>,
}

/// A signing key for client assertions.
pub(crate) struct AssertionKey {
    key_id: String,
    signer: Box<dyn josekit::jws::JwsSigner>,
}

impl AssertionKey {
    fn from_pem(key_id: String, pem: &str) -> Result<AssertionKey, SdkError> {
        let signer: Box<dyn josekit::jws::JwsSigner> = match josekit::jws::ES256
            .signer_from_pem(pem)
        {
            Ok(s) => Box::new(s),
            Err(_) => Box::new(josekit::jws::RS256.signer_from_pem(pem).map_err(|_| {
                SdkError::Config("the private key is neither a P-256 nor an RSA key in PEM".into())
            })?),
        };
        Ok(AssertionKey { key_id, signer })
    }

    /// A fresh assertion for one token request (RFC 7523 3): 60 seconds, a unique `jti`.
    pub(crate) fn assertion(&self, client_id: &str, audience: &str) -> Result<String, SdkError> {
        let mut payload = josekit::jwt::JwtPayload::new();
        payload.set_issuer(client_id);
        payload.set_subject(client_id);
        payload.set_audience(vec![audience]);
        payload.set_jwt_id(openidconnect::CsrfToken::new_random().secret());
        let now = std::time::SystemTime::now();
        payload.set_issued_at(&now);
        payload.set_expires_at(&(now + std::time::Duration::from_secs(60)));
        let mut header = josekit::jws::JwsHeader::new();
        header.set_token_type("JWT");
        header.set_key_id(&self.key_id);
        josekit::jwt::encode_with_signer(&payload, &header, self.signer.as_ref())
            .map_err(|e| SdkError::Config(format!("cannot sign the client assertion: {e}")))
    }
}

impl std::fmt::Debug for VneidClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VneidClient")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id.as_str())
            .finish_non_exhaustive()
    }
}

/// The one place the SDK reads the clock.
fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl VneidClient {
    /// Discovers the provider at `issuer` (exactly as the provider spells it, e.g.
    /// `https://id.example.vn`), fetches its keys, and sets the client up.
    pub async fn discover(
        issuer: &str,
        client_id: &str,
        credentials: ClientCredentials,
        redirect_uri: &str,
    ) -> Result<VneidClient, SdkError> {
        let (secret, assertion_key) = match credentials {
            ClientCredentials::Secret(secret) => (Some(secret), None),
            ClientCredentials::PrivateKeyJwt {
                key_id,
                private_key_pem,
            } => (
                None,
                Some(AssertionKey::from_pem(key_id, private_key_pem.secret())?),
            ),
        };
        let issuer_url = IssuerUrl::new(issuer.to_string())
            .map_err(|e| SdkError::Config(format!("issuer URL: {e}")))?;
        let redirect = RedirectUrl::new(redirect_uri.to_string())
            .map_err(|e| SdkError::Config(format!("redirect URI: {e}")))?;
        if client_id.is_empty() {
            return Err(SdkError::Config("the client id is empty".into()));
        }
        // One HTTP stack (openidconnect's reqwest), one client, never following redirects
        // (a redirect from the token endpoint would carry the code elsewhere).
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|e| SdkError::Config(format!("HTTP client: {e}")))?;
        let discovery = |cause: String| SdkError::Discovery {
            issuer: issuer.to_string(),
            cause,
        };
        let (metadata, raw) = fetch_metadata(&http, issuer).await.map_err(discovery)?;
        // Compared as strings, as the callback's and the ID token's `iss` will be: a trailing
        // slash of difference would fail every login, so it fails here.
        if metadata.issuer().as_str() != issuer {
            return Err(discovery(format!(
                "discovery names the issuer `{}`",
                metadata.issuer().as_str()
            )));
        }
        let endpoints = crate::tokens::Endpoints::from_discovery(&raw);
        let auth_type = match &assertion_key {
            None => auth_type(metadata.token_endpoint_auth_methods_supported())?,
            Some(_) => {
                let offered = metadata
                    .token_endpoint_auth_methods_supported()
                    .is_some_and(|m| m.contains(&CoreClientAuthMethod::PrivateKeyJwt));
                if !offered {
                    return Err(SdkError::Unsupported("private_key_jwt at this provider"));
                }
                // The client id goes in the body beside the assertion; no secret is sent.
                AuthType::RequestBody
            }
        };
        let token_url = metadata
            .token_endpoint()
            .map(|u| u.as_str().to_string())
            .unwrap_or_default();
        let at_hash_required = metadata
            .claims_supported()
            .is_some_and(|claims| claims.iter().any(|c| c.as_str() == "at_hash"));
        let jwks_uri = metadata.jwks_uri().clone();
        let keys = CoreJsonWebKeySet::fetch_async(&jwks_uri, &http)
            .await
            .map_err(|e| discovery(format!("the keys at {}: {e}", jwks_uri.as_str())))?;
        let metadata = metadata.set_jwks(keys.clone());
        let core = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(client_id.to_string()),
            secret
                .as_ref()
                .map(|s| openidconnect::ClientSecret::new(s.0.clone())),
        )
        .set_redirect_uri(redirect)
        .set_auth_type(auth_type.clone());
        Ok(VneidClient {
            core,
            http,
            issuer: issuer.to_string(),
            issuer_url,
            client_id: ClientId::new(client_id.to_string()),
            at_hash_required,
            keys: KeyCache::new(jwks_uri, keys),
            assertion_key,
            secret,
            secret_in_body: matches!(auth_type, AuthType::RequestBody),
            token_url,
            endpoints,
            dpop: None,
            dpop_nonce: std::sync::Mutex::new(None),
            decryption_key: None,
        })
    }

    /// Binds this client's tokens to `key` with DPoP (RFC 9449): every token request and
    /// every UserInfo call carries a proof, and a `use_dpop_nonce` answer is retried once with
    /// the provider's nonce. Keep the key ([`crate::DpopKey::to_pem`]) to refresh bound tokens
    /// after a restart. A client with a DPoP key refuses bearer tokens (a downgrade): use it
    /// only with a provider that supports DPoP.
    pub fn with_dpop(mut self, key: crate::dpop::DpopKey) -> Self {
        self.dpop = Some(key);
        self
    }

    /// The client's private key (PEM: RSA for `RSA-OAEP-256`, P-256 for `ECDH-ES` and
    /// `ECDH-ES+A256KW`) for ID tokens and UserInfo the provider encrypts to it (A256GCM).
    pub fn with_decryption_key(mut self, private_key_pem: &str) -> Result<Self, SdkError> {
        crate::tokens::check_decryption_key(private_key_pem)?;
        self.decryption_key = Some(ClientSecret::new(private_key_pem));
        Ok(self)
    }

    /// The DPoP key, if the client binds its tokens.
    pub fn dpop_key(&self) -> Option<&crate::dpop::DpopKey> {
        self.dpop.as_ref()
    }

    /// The issuer this client trusts.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    /// The redirect URI the provider sends the browser back to.
    pub fn redirect_uri(&self) -> &str {
        self.core.redirect_uri().map_or("", |r| r.as_str())
    }

    /// Starts a login: the URL to send the browser to, and what to keep (in the session)
    /// until the callback. The level is asked with `acr_values`; the state, the nonce and
    /// the PKCE (S256) verifier are fresh random values.
    ///
    /// `documents` and `organization` are released only from a Level 2 login: asked at
    /// Level 1 they are simply absent.
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
        // openidconnect adds `openid` itself.
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
        if let Some(claims) = request.claims_parameter() {
            auth = auth.add_extra_param("claims", claims.to_string());
        }
        if let Some(hint) = &request.login_hint {
            auth = auth.add_extra_param("login_hint", hint.clone());
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
            predicates: request.predicates.clone(),
            userinfo_claims: request.claims.asks_userinfo(),
            max_age: request
                .max_age
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
            created_at: now(),
        };
        (url, pending)
    }

    /// Completes a login from the callback's query string: checks `state` (constant time)
    /// and `iss` (RFC 9207), turns the provider's errors into [`SdkError`]s, exchanges the
    /// code with the PKCE verifier, validates the ID token completely, fetches UserInfo when
    /// the scopes go beyond `openid` (and checks its `sub`), and returns the verified identity.
    pub async fn complete(
        &self,
        pending: PendingLogin,
        callback_query: &str,
    ) -> Result<VerifiedIdentity, SdkError> {
        let code = Callback::parse(callback_query)?.into_code(
            &pending.state,
            &self.issuer,
            pending.level,
        )?;
        let form = vec![
            ("grant_type", "authorization_code".to_string()),
            ("code", code),
            ("redirect_uri", self.redirect_uri().to_string()),
            ("code_verifier", pending.pkce_verifier.clone()),
        ];
        let response = self
            .token_request(form)
            .await
            .map_err(SdkError::TokenExchange)?;
        let id_token = response
            .id_token
            .as_deref()
            .ok_or(SdkError::InvalidIdToken(IdTokenError::Missing))?;
        let id_token = self.id_token_from(id_token)?;
        let access_token = AccessToken::new(response.access_token.clone());
        let verified = self.verify(&id_token, &access_token, &pending).await?;
        let tokens = self.tokens_from(response, None);
        let mut claims = verified.payload;
        let needs_userinfo = !pending.predicates.is_empty()
            || pending.userinfo_claims
            || pending
                .scopes
                .iter()
                .any(|s| s != VScope::OpenId && s != VScope::OfflineAccess);
        let mut receipt = None;
        if needs_userinfo {
            let mut info = self.userinfo(&tokens).await?;
            // A substituted access token would describe someone else.
            if info.get("sub").and_then(Value::as_str) != Some(verified.subject.as_str()) {
                return Err(SdkError::UserInfo(UserInfoError::SubjectMismatch));
            }
            if let Some(jws) = info.remove(vneid_contract::RECEIPT_MEMBER) {
                let jws = jws
                    .as_str()
                    .ok_or(SdkError::Receipt(ReceiptError::Malformed("not a string")))?;
                receipt = Some(self.check_receipt(jws, &verified.subject).await?);
            }
            claims.extend(info);
        }
        if pending.scopes.contains(VScope::EkycReceipt) && receipt.is_none() {
            return Err(SdkError::Receipt(ReceiptError::Malformed(
                "the provider sent no receipt",
            )));
        }
        let mut identity = VerifiedIdentity::from_claims(
            verified.subject,
            verified.level,
            verified.auth_time,
            verified.methods,
            verified.raw,
            claims,
        )?;
        identity.receipt = receipt;
        identity.tokens = tokens;
        Ok(identity)
    }

    /// The provider's key history (every signing key it ever used, with its validity period),
    /// to archive with receipts.
    pub async fn key_history(&self) -> Result<KeyHistory, SdkError> {
        let url = format!("{}{}", self.issuer, vneid_contract::KEY_HISTORY_PATH);
        let failed = |e: BoxError| SdkError::Receipt(ReceiptError::MalformedHistory(e.to_string()));
        let response = self
            .http
            .get(&url)
            .send()
            .await
            .map_err(|e| failed(Box::new(e)))?;
        if !response.status().is_success() {
            return Err(failed(
                format!("{url} answered {}", response.status()).into(),
            ));
        }
        let body = read_limited(response).await.map_err(failed)?;
        let text = String::from_utf8(body).map_err(|e| failed(Box::new(e)))?;
        KeyHistory::from_json(&text).map_err(SdkError::Receipt)
    }

    /// Checks a receipt just received against the key history fetched now, and that it is
    /// for this client and subject.
    async fn check_receipt(&self, jws: &str, subject: &str) -> Result<SignedReceipt, SdkError> {
        let key_history = self.key_history().await?;
        let receipt = verify_receipt(jws, &key_history).map_err(SdkError::Receipt)?;
        if receipt.claims.iss != self.issuer {
            return Err(SdkError::Receipt(ReceiptError::NotThisLogin("issuer")));
        }
        if receipt.claims.aud != self.client_id.as_str() {
            return Err(SdkError::Receipt(ReceiptError::NotThisLogin("client")));
        }
        if receipt.claims.sub != subject {
            return Err(SdkError::Receipt(ReceiptError::NotThisLogin("subject")));
        }
        Ok(SignedReceipt {
            jws: jws.to_string(),
            key_history,
            receipt,
        })
    }

    /// Validates the ID token; on an unknown `kid` (a key rotation) refetches the keys once
    /// (rate-limited) and tries again.
    async fn verify(
        &self,
        id_token: &CoreIdToken,
        access_token: &AccessToken,
        pending: &PendingLogin,
    ) -> Result<VerifiedIdToken, SdkError> {
        let nonce = Nonce::new(pending.nonce.clone());
        let check = |keys: &CoreJsonWebKeySet| {
            let expected = Expected {
                issuer: &self.issuer_url,
                client_id: &self.client_id,
                nonce: &nonce,
                level: pending.level,
                max_age: pending.max_age,
                at_hash_required: self.at_hash_required,
                now: now(),
            };
            verify::verify(id_token, access_token, keys, &expected)
        };
        match check(&self.keys.current()) {
            Err(e) if verify::is_unknown_key(&e) && self.keys.refetch(&self.http).await => {
                check(&self.keys.current())
            }
            result => result,
        }
    }

    pub(crate) fn key_cache(&self) -> &KeyCache {
        &self.keys
    }

    pub(crate) fn http(&self) -> &openidconnect::reqwest::Client {
        &self.http
    }

    /// Lets the next ID token with an unknown `kid` refetch the keys at once, whatever the
    /// rate limit (for tests of key rotation).
    #[doc(hidden)]
    pub fn expire_keys(&self) {
        self.keys.allow_refetch();
    }
}

/// Fetches and parses the discovery document (one request; the issuer is compared by the
/// caller).
async fn fetch_metadata(
    http: &openidconnect::reqwest::Client,
    issuer: &str,
) -> Result<(CoreProviderMetadata, Value), String> {
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    );
    let response = http.get(&url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("{url} answered HTTP {}", response.status()));
    }
    let body = read_limited(response).await.map_err(|e| e.to_string())?;
    let metadata = serde_json::from_slice(&body)
        .map_err(|e| format!("{url} is not a discovery document: {e}"))?;
    let raw = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok((metadata, raw))
}

/// The token-endpoint authentication: `client_secret_basic` (the default of RFC 8414 when the
/// provider lists nothing), else `client_secret_post`.
fn auth_type(supported: Option<&Vec<CoreClientAuthMethod>>) -> Result<AuthType, SdkError> {
    let Some(methods) = supported else {
        return Ok(AuthType::BasicAuth);
    };
    if methods.contains(&CoreClientAuthMethod::ClientSecretBasic) {
        Ok(AuthType::BasicAuth)
    } else if methods.contains(&CoreClientAuthMethod::ClientSecretPost) {
        Ok(AuthType::RequestBody)
    } else {
        Err(SdkError::Unsupported(
            "client authentication with a client secret",
        ))
    }
}

/// Reads a body up to [`MAX_BODY`] bytes.
pub(crate) async fn read_limited(
    mut response: openidconnect::reqwest::Response,
) -> Result<Vec<u8>, crate::error::BoxError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err("the response is too large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let creds = ClientCredentials::Secret("hunter2".into());
        assert!(!format!("{creds:?}").contains("hunter2"));
        let key = ClientCredentials::PrivateKeyJwt {
            key_id: "k1".into(),
            private_key_pem: "-----BEGIN PRIVATE KEY-----".into(),
        };
        assert!(!format!("{key:?}").contains("BEGIN"));
        assert_eq!(ClientSecret::new("s").secret(), "s");
    }

    #[test]
    fn basic_auth_is_preferred() {
        use CoreClientAuthMethod::{ClientSecretBasic, ClientSecretPost, PrivateKeyJwt};
        assert!(matches!(auth_type(None), Ok(AuthType::BasicAuth)));
        assert!(matches!(
            auth_type(Some(&vec![ClientSecretPost, ClientSecretBasic])),
            Ok(AuthType::BasicAuth)
        ));
        assert!(matches!(
            auth_type(Some(&vec![ClientSecretPost])),
            Ok(AuthType::RequestBody)
        ));
        assert!(matches!(
            auth_type(Some(&vec![PrivateKeyJwt])),
            Err(SdkError::Unsupported(_))
        ));
    }

    #[tokio::test]
    async fn a_private_key_that_is_not_pem_is_refused_before_any_request() {
        let creds = ClientCredentials::PrivateKeyJwt {
            key_id: "k1".into(),
            private_key_pem: "pem".into(),
        };
        let result =
            VneidClient::discover("http://127.0.0.1:1", "bank", creds, "http://x/cb").await;
        assert!(matches!(result, Err(SdkError::Config(_))));
    }
}
