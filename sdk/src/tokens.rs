//! Everything after the code: the token endpoint (client authentication, DPoP with nonce retry),
//! pushed authorization requests (RFC 9126), encrypted ID tokens and UserInfo (JWE), signed
//! UserInfo, the tokens an app keeps for later calls (refresh with rotation, revocation), and
//! the [`Session`] that remembers the ID token for RP-initiated logout.

use base64::Engine;
use openidconnect::core::CoreIdToken;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{VneidClient, read_limited};
use crate::error::{BoxError, IdTokenError, SdkError, TokenExchangeError, UserInfoError};
use crate::pending::{LoginRequest, PendingLogin};

const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The endpoints read from discovery beyond what `openidconnect` models.
#[derive(Debug, Clone, Default)]
pub(crate) struct Endpoints {
    pub authorization: String,
    pub userinfo: Option<String>,
    pub par: Option<String>,
    pub revocation: Option<String>,
    pub end_session: Option<String>,
    pub require_par: bool,
}

impl Endpoints {
    pub fn from_discovery(doc: &Value) -> Endpoints {
        let url = |name: &str| doc.get(name).and_then(Value::as_str).map(str::to_string);
        Endpoints {
            authorization: url("authorization_endpoint").unwrap_or_default(),
            userinfo: url("userinfo_endpoint"),
            par: url("pushed_authorization_request_endpoint"),
            revocation: url("revocation_endpoint"),
            end_session: url("end_session_endpoint"),
            require_par: doc
                .get("require_pushed_authorization_requests")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }
}

/// A successful token response, as sent.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    pub expires_in: Option<i64>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    pub id_token: Option<String>,
}

/// The tokens of a login, for calls after it: the access token (with its DPoP binding), the
/// refresh token (rotated by [`VneidClient::refresh`]), when they expire. Serializable, to keep
/// server-side; its `Debug` shows no token.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tokens {
    /// The access token.
    pub access_token: String,
    /// `Bearer` or `DPoP`.
    pub token_type: String,
    /// The thumbprint of the DPoP key the tokens are bound to (`None`: a bearer token).
    pub dpop_jkt: Option<String>,
    /// When the access token expires (Unix seconds), if the provider said.
    pub expires_at: Option<i64>,
    /// The refresh token (scope `offline_access`).
    pub refresh_token: Option<String>,
    /// The scopes granted, if the provider said.
    pub scope: Option<String>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"[redacted]")
            .field("token_type", &self.token_type)
            .field("dpop_jkt", &self.dpop_jkt)
            .field("expires_at", &self.expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("scope", &self.scope)
            .finish()
    }
}

impl Tokens {
    /// Whether the access token is bound to a DPoP key (calls need a proof).
    pub fn is_dpop_bound(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("DPoP")
    }
}

/// A login the app keeps (server-side) for later: who, the ID token (the `id_token_hint` of
/// logout), the provider's session id (`sid`, which back-channel logout names), and the tokens.
/// Serializable; its `Debug` shows no token.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Session {
    /// A random id for the app's session store.
    pub id: String,
    /// The subject.
    pub subject: String,
    /// The provider's session id (`sid` of the ID token), if it sent one.
    pub sid: Option<String>,
    /// The level reached.
    pub level: Option<vneid_contract::Level>,
    /// When the citizen authenticated.
    pub auth_time: Option<i64>,
    /// The ID token, for `id_token_hint`.
    pub id_token: String,
    /// The tokens.
    pub tokens: Tokens,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("subject", &self.subject)
            .field("sid", &self.sid)
            .field("level", &self.level)
            .field("auth_time", &self.auth_time)
            .field("id_token", &format_args!("[{} bytes]", self.id_token.len()))
            .field("tokens", &self.tokens)
            .finish()
    }
}

impl Session {
    /// A session for a login (with a fresh random id).
    pub fn new(subject: String, id_token: String, tokens: Tokens) -> Session {
        Session {
            id: openidconnect::CsrfToken::new_random().secret().clone(),
            subject,
            sid: None,
            level: None,
            auth_time: None,
            id_token,
            tokens,
        }
    }
}

/// Checks that a decryption key is a PEM private key josekit can use.
pub(crate) fn check_decryption_key(pem: &str) -> Result<(), SdkError> {
    use josekit::jwe::{ECDH_ES, RSA_OAEP_256};
    if RSA_OAEP_256.decrypter_from_pem(pem).is_ok() || ECDH_ES.decrypter_from_pem(pem).is_ok() {
        Ok(())
    } else {
        Err(SdkError::Config(
            "the decryption key is neither an RSA nor a P-256 private key in PEM".into(),
        ))
    }
}

/// Decrypts a compact JWE (RSA-OAEP-256, ECDH-ES, ECDH-ES+A256KW; A256GCM only) with `pem`.
pub(crate) fn decrypt(jwe: &str, pem: &str) -> Result<Vec<u8>, BoxError> {
    use josekit::jwe::{ECDH_ES, ECDH_ES_A256KW, JweDecrypter, RSA_OAEP_256};
    let header_part = jwe.split('.').next().unwrap_or("");
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header_part)?,
    )?;
    if header.get("enc").and_then(Value::as_str) != Some("A256GCM") {
        return Err("only A256GCM content encryption is accepted".into());
    }
    let decrypter: Box<dyn JweDecrypter> = match header.get("alg").and_then(Value::as_str) {
        Some("RSA-OAEP-256") => Box::new(RSA_OAEP_256.decrypter_from_pem(pem)?),
        Some("ECDH-ES+A256KW") => Box::new(ECDH_ES_A256KW.decrypter_from_pem(pem)?),
        Some("ECDH-ES") => Box::new(ECDH_ES.decrypter_from_pem(pem)?),
        other => return Err(format!("key management {other:?} is not accepted").into()),
    };
    let (plain, _) = josekit::jwe::deserialize_compact(jwe, decrypter.as_ref())?;
    Ok(plain)
}

/// The `error` of a JSON error body.
fn error_code(body: &[u8]) -> (Option<String>, Option<String>) {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |name: &str| json.get(name).and_then(Value::as_str).map(str::to_string);
    (field("error"), field("error_description"))
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// What a client-authenticated POST answered.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl VneidClient {
    /// POSTs `form` to `url` with the client's authentication (a fresh assertion each time)
    /// and, when `dpop`, a fresh proof; a `use_dpop_nonce` answer is retried once with the
    /// nonce the provider sent.
    pub(crate) async fn post_authenticated(
        &self,
        url: &str,
        form: &[(&str, String)],
        dpop: bool,
    ) -> Result<Answer, BoxError> {
        let mut retried = false;
        loop {
            let mut body: Vec<(&str, String)> = form.to_vec();
            let mut request = self.http().post(url);
            if let Some(key) = &self.assertion_key {
                body.push(("client_id", self.client_id().to_string()));
                body.push(("client_assertion_type", ASSERTION_TYPE.to_string()));
                body.push((
                    "client_assertion",
                    key.assertion(self.client_id(), self.issuer())?,
                ));
            } else if let Some(secret) = &self.secret {
                if self.secret_in_body {
                    body.push(("client_id", self.client_id().to_string()));
                    body.push(("client_secret", secret.secret().to_string()));
                } else {
                    let enc = |s: &str| {
                        url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                    };
                    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                        "{}:{}",
                        enc(self.client_id()),
                        enc(secret.secret())
                    ));
                    request = request.header("authorization", format!("Basic {basic}"));
                }
            }
            if dpop && let Some(key) = &self.dpop {
                let nonce = self.current_nonce();
                request = request.header("DPoP", key.proof("POST", url, None, nonce.as_deref())?);
            }
            let encoded = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(body.iter().map(|(k, v)| (*k, v.as_str())))
                .finish();
            let response = request
                .header("content-type", "application/x-www-form-urlencoded")
                .header("accept", "application/json")
                .body(encoded)
                .send()
                .await?;
            let status = response.status().as_u16();
            let fresh_nonce = self.remember_nonce(response.headers());
            let body = read_limited(response).await?;
            let asks_nonce =
                status == 400 && error_code(&body).0.as_deref() == Some("use_dpop_nonce");
            if dpop && asks_nonce && fresh_nonce && !retried {
                retried = true;
                continue;
            }
            return Ok(Answer { status, body });
        }
    }

    fn current_nonce(&self) -> Option<String> {
        self.dpop_nonce
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Keeps the `DPoP-Nonce` the provider sent; returns whether there was a new one.
    fn remember_nonce(&self, headers: &openidconnect::reqwest::header::HeaderMap) -> bool {
        let Some(nonce) = headers.get("dpop-nonce").and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let mut kept = self.dpop_nonce.lock().unwrap_or_else(|p| p.into_inner());
        let new = kept.as_deref() != Some(nonce);
        *kept = Some(nonce.to_string());
        new
    }

    /// A token request (the code or a refresh), with DPoP when the client has a key.
    pub(crate) async fn token_request(
        &self,
        form: Vec<(&str, String)>,
    ) -> Result<TokenResponse, TokenExchangeError> {
        let answer = self
            .post_authenticated(&self.token_url, &form, true)
            .await
            .map_err(TokenExchangeError::Network)?;
        if !(200..300).contains(&answer.status) {
            let (code, description) = error_code(&answer.body);
            return match code {
                Some(code) => Err(TokenExchangeError::Refused { code, description }),
                None => Err(TokenExchangeError::InvalidResponse(
                    format!("HTTP {} without an OAuth error", answer.status).into(),
                )),
            };
        }
        let response: TokenResponse = serde_json::from_slice(&answer.body)
            .map_err(|e| TokenExchangeError::InvalidResponse(Box::new(e)))?;
        let bound = response.token_type.eq_ignore_ascii_case("DPoP");
        if self.dpop.is_some() && !bound {
            // A token we meant to bind came back as a bearer token: a downgrade.
            return Err(TokenExchangeError::InvalidResponse(
                format!("token_type {:?} where DPoP was asked", response.token_type).into(),
            ));
        }
        if !bound && !response.token_type.eq_ignore_ascii_case("Bearer") {
            return Err(TokenExchangeError::InvalidResponse(
                format!("unknown token_type {:?}", response.token_type).into(),
            ));
        }
        Ok(response)
    }

    /// The ID token of a token response: decrypted first when the provider encrypted it.
    pub(crate) fn id_token_from(&self, raw: &str) -> Result<CoreIdToken, SdkError> {
        let malformed = |e: BoxError| SdkError::InvalidIdToken(IdTokenError::Malformed(e));
        let jws = if raw.split('.').count() == 5 {
            let pem = self.decryption_key.as_ref().ok_or_else(|| {
                malformed("the ID token is encrypted and the client has no decryption key".into())
            })?;
            String::from_utf8(decrypt(raw, pem.secret()).map_err(malformed)?)
                .map_err(|e| malformed(Box::new(e)))?
        } else {
            raw.to_string()
        };
        serde_json::from_value(Value::String(jws)).map_err(|e| malformed(Box::new(e)))
    }

    /// The [`Tokens`] of a response; a refresh without a new refresh token keeps `previous`.
    pub(crate) fn tokens_from(&self, response: TokenResponse, previous: Option<&Tokens>) -> Tokens {
        let bound = response.token_type.eq_ignore_ascii_case("DPoP");
        Tokens {
            access_token: response.access_token,
            token_type: if bound {
                "DPoP".into()
            } else {
                "Bearer".into()
            },
            dpop_jkt: if bound {
                self.dpop.as_ref().map(|k| k.thumbprint().to_string())
            } else {
                None
            },
            expires_at: response.expires_in.map(|s| now().saturating_add(s)),
            refresh_token: response
                .refresh_token
                .or_else(|| previous.and_then(|p| p.refresh_token.clone())),
            scope: response
                .scope
                .or_else(|| previous.and_then(|p| p.scope.clone())),
        }
    }

    /// The headers to call a resource with `tokens`: `Authorization` (`Bearer` or `DPoP`) and,
    /// for a bound token, a fresh `DPoP` proof for `method` and `url` (with the nonce the
    /// provider last sent, if any).
    pub fn authorization_headers(
        &self,
        tokens: &Tokens,
        method: &str,
        url: &str,
    ) -> Result<Vec<(&'static str, String)>, SdkError> {
        if !tokens.is_dpop_bound() {
            return Ok(vec![(
                "authorization",
                format!("Bearer {}", tokens.access_token),
            )]);
        }
        let key = self.dpop.as_ref().ok_or_else(|| {
            SdkError::Config("the tokens are DPoP-bound and this client has no DPoP key".into())
        })?;
        let proof = key.proof(
            method,
            url,
            Some(&tokens.access_token),
            self.current_nonce().as_deref(),
        )?;
        Ok(vec![
            ("authorization", format!("DPoP {}", tokens.access_token)),
            ("dpop", proof),
        ])
    }

    /// UserInfo with the login's access token (a DPoP proof when bound, retried once on
    /// `use_dpop_nonce`); a signed (`application/jwt`) answer is verified with the provider's
    /// keys and must name the issuer and this client; an encrypted one is decrypted first.
    pub(crate) async fn userinfo(&self, tokens: &Tokens) -> Result<Map<String, Value>, SdkError> {
        let failed = SdkError::UserInfo;
        let url = self
            .endpoints
            .userinfo
            .clone()
            .ok_or(failed(UserInfoError::NoEndpoint))?;
        let mut retried = false;
        let (status, content_type, body) = loop {
            let mut request = self.http().get(&url);
            for (name, value) in self.authorization_headers(tokens, "GET", &url)? {
                request = request.header(name, value);
            }
            let response = request
                .send()
                .await
                .map_err(|e| failed(UserInfoError::Network(Box::new(e))))?;
            let status = response.status().as_u16();
            let fresh = self.remember_nonce(response.headers());
            let asks_nonce = status == 401
                && response
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.contains("use_dpop_nonce"));
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let body = read_limited(response)
                .await
                .map_err(|e| failed(UserInfoError::Network(e)))?;
            if asks_nonce && fresh && !retried && tokens.is_dpop_bound() {
                retried = true;
                continue;
            }
            break (status, content_type, body);
        };
        if !(200..300).contains(&status) {
            return Err(failed(UserInfoError::Refused {
                status,
                error: error_code(&body).0,
            }));
        }
        if content_type.starts_with("application/jwt") {
            return self.signed_userinfo(&body).await;
        }
        match serde_json::from_slice::<Value>(&body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(failed(UserInfoError::InvalidResponse(
                "not a JSON object".into(),
            ))),
            Err(e) => Err(failed(UserInfoError::InvalidResponse(Box::new(e)))),
        }
    }

    /// A UserInfo response as a JWT (OpenID Connect Core 5.3.2): decrypted if encrypted,
    /// verified with the provider's keys (refetched once on an unknown `kid`), `iss` the issuer,
    /// `aud` this client.
    async fn signed_userinfo(&self, body: &[u8]) -> Result<Map<String, Value>, SdkError> {
        let invalid = |e: BoxError| SdkError::UserInfo(UserInfoError::InvalidResponse(e));
        let text = std::str::from_utf8(body)
            .map_err(|e| invalid(Box::new(e)))?
            .trim();
        let jws = if text.split('.').count() == 5 {
            let pem = self.decryption_key.as_ref().ok_or_else(|| {
                invalid("UserInfo is encrypted and the client has no decryption key".into())
            })?;
            String::from_utf8(decrypt(text, pem.secret()).map_err(invalid)?)
                .map_err(|e| invalid(Box::new(e)))?
        } else {
            text.to_string()
        };
        let check = |keys: &openidconnect::core::CoreJsonWebKeySet| {
            let jwks = serde_json::to_value(keys).unwrap_or(Value::Null);
            crate::logout::verify_jws(&jws, &jwks)
        };
        let payload = match check(&self.key_cache().current()) {
            Err(crate::logout::JwsError::UnknownKey)
                if self.key_cache().refetch(self.http()).await =>
            {
                check(&self.key_cache().current())
            }
            other => other,
        }
        .map_err(|e| invalid(e.to_string().into()))?;
        if payload.get("iss").and_then(Value::as_str) != Some(self.issuer()) {
            return Err(invalid("signed UserInfo from another issuer".into()));
        }
        if !crate::logout::audience_has(&payload, self.client_id()) {
            return Err(invalid("signed UserInfo for another client".into()));
        }
        Ok(payload)
    }

    /// Whether the provider requires pushed authorization requests of every client (then use
    /// [`VneidClient::begin_pushed`]).
    pub fn requires_pushed_requests(&self) -> bool {
        self.endpoints.require_par
    }

    /// Starts a login with a pushed authorization request (RFC 9126): the parameters go
    /// straight to the provider, client-authenticated (secret or `private_key_jwt`), and the
    /// browser gets only `client_id` and the `request_uri`. Required by FAPI 2.0.
    pub async fn begin_pushed(
        &self,
        request: &LoginRequest,
    ) -> Result<(url::Url, PendingLogin), SdkError> {
        let par = self
            .endpoints
            .par
            .clone()
            .ok_or(SdkError::Unsupported("pushed authorization requests"))?;
        let (front, pending) = self.begin(request);
        let form: Vec<(&str, String)> = front
            .query_pairs()
            .filter(|(k, _)| k != "client_id")
            .filter_map(|(k, v)| static_name(&k).map(|k| (k, v.into_owned())))
            .collect();
        let answer = self
            .post_authenticated(&par, &form, true)
            .await
            .map_err(|e| SdkError::Provider {
                code: "par_unreachable".into(),
                description: e.to_string(),
            })?;
        if !(200..300).contains(&answer.status) {
            let (code, description) = error_code(&answer.body);
            return Err(SdkError::Provider {
                code: code.unwrap_or_else(|| format!("http_{}", answer.status)),
                description: description.unwrap_or_default(),
            });
        }
        let request_uri = serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|v| {
                v.get("request_uri")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .ok_or_else(|| SdkError::Provider {
                code: "invalid_response".into(),
                description: "the PAR response has no request_uri".into(),
            })?;
        let mut url = url::Url::parse(&self.endpoints.authorization)
            .map_err(|e| SdkError::Config(format!("authorization endpoint: {e}")))?;
        url.query_pairs_mut()
            .append_pair("client_id", self.client_id())
            .append_pair("request_uri", &request_uri);
        Ok((url, pending))
    }

    /// Refreshes `tokens` (refresh-token grant, with a DPoP proof when bound): the new access
    /// token, and the rotated refresh token (the old one is spent; if the provider did not
    /// rotate, the old one is kept).
    pub async fn refresh(&self, tokens: &Tokens) -> Result<Tokens, SdkError> {
        let refresh_token = tokens
            .refresh_token
            .clone()
            .ok_or(SdkError::Unsupported("a refresh without a refresh token"))?;
        let form = vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", refresh_token),
        ];
        let response = self
            .token_request(form)
            .await
            .map_err(SdkError::TokenExchange)?;
        Ok(self.tokens_from(response, Some(tokens)))
    }

    /// Revokes `tokens` at the provider (RFC 7009): the refresh token if there is one (which
    /// ends the grant's family), and the access token.
    pub async fn revoke(&self, tokens: &Tokens) -> Result<(), SdkError> {
        let url = self
            .endpoints
            .revocation
            .clone()
            .ok_or(SdkError::Unsupported("token revocation"))?;
        let mut list = Vec::new();
        if let Some(refresh) = &tokens.refresh_token {
            list.push((refresh.clone(), "refresh_token"));
        }
        list.push((tokens.access_token.clone(), "access_token"));
        for (token, hint) in list {
            let form = vec![("token", token), ("token_type_hint", hint.to_string())];
            let answer = self
                .post_authenticated(&url, &form, false)
                .await
                .map_err(|e| SdkError::Revocation(TokenExchangeError::Network(e)))?;
            if !(200..300).contains(&answer.status) {
                let (code, description) = error_code(&answer.body);
                return Err(SdkError::Revocation(TokenExchangeError::Refused {
                    code: code.unwrap_or_else(|| format!("http_{}", answer.status)),
                    description,
                }));
            }
        }
        Ok(())
    }

    /// Where to send the browser to end the citizen's session at the provider too
    /// (RP-Initiated Logout 1.0): `id_token_hint` from the session, this client's id, and
    /// the registered `post_logout_redirect_uri` with its `state`, when given.
    pub fn logout_url(
        &self,
        session: &Session,
        post_logout_redirect_uri: Option<&str>,
        state: Option<&str>,
    ) -> Result<url::Url, SdkError> {
        let end = self
            .endpoints
            .end_session
            .as_deref()
            .ok_or(SdkError::Unsupported("RP-initiated logout"))?;
        let mut url =
            url::Url::parse(end).map_err(|e| SdkError::Config(format!("end_session: {e}")))?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("id_token_hint", &session.id_token)
                .append_pair("client_id", self.client_id());
            if let Some(uri) = post_logout_redirect_uri {
                q.append_pair("post_logout_redirect_uri", uri);
                if let Some(state) = state {
                    q.append_pair("state", state);
                }
            }
        }
        Ok(url)
    }
}

/// The parameter names an authorization request carries, as `'static` (the form borrows
/// them); `None` for any other name (not pushed).
fn static_name(name: &str) -> Option<&'static str> {
    const NAMES: &[&str] = &[
        "response_type",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "code_challenge",
        "code_challenge_method",
        "acr_values",
        "max_age",
        "prompt",
        "ui_locales",
        "claims",
        "login_hint",
    ];
    NAMES.iter().find(|n| **n == name).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_print() {
        let t = Tokens {
            access_token: "at-secret".into(),
            refresh_token: Some("rt-secret".into()),
            token_type: "DPoP".into(),
            ..Tokens::default()
        };
        let s = Session::new("sub".into(), "id.token.x".into(), t.clone());
        let printed = format!("{t:?} {s:?}");
        assert!(!printed.contains("secret") && !printed.contains("id.token.x"));
        assert!(t.is_dpop_bound());
    }

    #[test]
    fn only_a256gcm_and_the_three_key_managements_decrypt() {
        use josekit::jwe::{ECDH_ES_A256KW, JweHeader, RSA_OAEP_256};
        let ec = josekit::jws::ES256.generate_key_pair().unwrap();
        let ec_pem = String::from_utf8(ec.to_pem_private_key()).unwrap();
        let rsa = josekit::jws::RS256.generate_key_pair(2048).unwrap();
        let rsa_pem = String::from_utf8(rsa.to_pem_private_key()).unwrap();
        check_decryption_key(&ec_pem).unwrap();
        check_decryption_key(&rsa_pem).unwrap();
        assert!(check_decryption_key("nope").is_err());
        let mut header = JweHeader::new();
        header.set_content_encryption("A256GCM");
        let enc = ECDH_ES_A256KW
            .encrypter_from_pem(ec.to_pem_public_key())
            .unwrap();
        let jwe = josekit::jwe::serialize_compact(b"hello", &header, &enc).unwrap();
        assert_eq!(decrypt(&jwe, &ec_pem).unwrap(), b"hello");
        assert!(decrypt(&jwe, &rsa_pem).is_err(), "another key");
        let enc = RSA_OAEP_256
            .encrypter_from_pem(rsa.to_pem_public_key())
            .unwrap();
        let jwe = josekit::jwe::serialize_compact(b"hi", &header, &enc).unwrap();
        assert_eq!(decrypt(&jwe, &rsa_pem).unwrap(), b"hi");
        header.set_content_encryption("A128CBC-HS256");
        let jwe = josekit::jwe::serialize_compact(b"hi", &header, &enc).unwrap();
        assert!(decrypt(&jwe, &rsa_pem).is_err(), "A128CBC-HS256 is refused");
    }
}
