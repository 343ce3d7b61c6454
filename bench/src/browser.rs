//! What a browser and a relying party do, and nothing more: cookies kept by hand (one jar per
//! simulated browser), the provider's redirects followed, its plain HTML forms filled by the
//! contract's field names (username, password, decision, and the hidden inputs such as csrf),
//! the code redeemed, UserInfo called. Every response is checked; a check that fails is an
//! `Err` with what was wrong, and the operation does not count.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use scraper::{Html, Selector};
use serde_json::Value;
use url::Url;

/// Why an operation does not count.
pub type Check<T> = Result<T, String>;

/// The relying party both providers know (the demo portal of the contract).
pub const CLIENT_ID: &str = "demo-portal";
pub const CLIENT_SECRET: &str = "demo-portal-secret";
pub const REDIRECT_URI: &str = "http://127.0.0.1:3001/callback";
/// The Level 1 demo citizen, on both providers.
pub const USERNAME: &str = "001095000001";
pub const PASSWORD: &str = "Demo@2026";
/// RFC 7636's example verifier and its S256 challenge.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A browser's cookies: name, value and path; sent to the paths they were set for.
#[derive(Clone, Debug, Default)]
pub struct Jar(Vec<(String, String, String)>);

impl Jar {
    /// The `Cookie` header for a request to `path`.
    fn header(&self, path: &str) -> Option<String> {
        let sent: Vec<String> = self
            .0
            .iter()
            .filter(|(_, _, p)| path_matches(p, path))
            .map(|(n, v, _)| format!("{n}={v}"))
            .collect();
        (!sent.is_empty()).then(|| sent.join("; "))
    }

    /// Keeps the cookies a response sets (an empty value or `Max-Age=0` removes one).
    fn store(&mut self, response: &reqwest::Response) {
        for header in response.headers().get_all(SET_COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            let mut parts = text.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|nv| nv.split_once('=')) else {
                continue;
            };
            let mut path = "/".to_string();
            let mut removed = value.is_empty();
            for attribute in parts {
                let (key, val) = attribute.split_once('=').unwrap_or((attribute, ""));
                if key.eq_ignore_ascii_case("path") {
                    path = val.to_string();
                } else if key.eq_ignore_ascii_case("max-age") && val.trim() == "0" {
                    removed = true;
                }
            }
            self.0.retain(|(n, _, p)| !(n == name && *p == path));
            if !removed {
                self.0.push((name.to_string(), value.to_string(), path));
            }
        }
    }
}

/// RFC 6265's path match.
fn path_matches(cookie_path: &str, request_path: &str) -> bool {
    request_path == cookie_path
        || (request_path.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || request_path[cookie_path.len()..].starts_with('/')))
}

/// The action and hidden inputs of the form whose action ends with `suffix`, if the page has one
/// (and, with `needs`, an input of that name).
pub fn form(
    html: &str,
    suffix: &str,
    needs: Option<&str>,
) -> Option<(String, Vec<(String, String)>)> {
    let doc = Html::parse_document(html);
    let forms = Selector::parse("form").ok()?;
    let inputs = Selector::parse("input").ok()?;
    doc.select(&forms).find_map(|f| {
        let action = f.value().attr("action")?;
        if !action.ends_with(suffix) {
            return None;
        }
        let all: Vec<_> = f.select(&inputs).map(|i| i.value()).collect();
        if let Some(name) = needs
            && !all.iter().any(|i| i.attr("name") == Some(name))
        {
            return None;
        }
        let hidden = all
            .iter()
            .filter(|i| i.attr("type") == Some("hidden"))
            .filter_map(|i| Some((i.attr("name")?.to_string(), i.attr("value")?.to_string())))
            .collect();
        Some((action.to_string(), hidden))
    })
}

/// A provider's endpoints, from its discovery document.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub issuer: String,
    pub discovery: String,
    pub authorize: String,
    pub token: String,
    pub userinfo: String,
    pub jwks: String,
}

/// What a successful code redemption gave.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access_token: String,
    pub sub: String,
}

/// Drives one provider.
#[derive(Clone)]
pub struct Driver {
    http: reqwest::Client,
    pub endpoints: Endpoints,
}

fn fail(what: &str) -> impl Fn(reqwest::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

impl Driver {
    /// Reads the discovery document at `base`.
    pub async fn discover(base: &str, connections: usize) -> Check<Driver> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(connections)
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|e| e.to_string())?;
        let discovery = format!("{base}/.well-known/openid-configuration");
        let doc: Value = http
            .get(&discovery)
            .send()
            .await
            .map_err(fail("discovery"))?
            .json()
            .await
            .map_err(fail("discovery"))?;
        let field = |name: &str| {
            doc[name]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("discovery has no {name}"))
        };
        Ok(Driver {
            endpoints: Endpoints {
                issuer: field("issuer")?,
                discovery,
                authorize: field("authorization_endpoint")?,
                token: field("token_endpoint")?,
                userinfo: field("userinfo_endpoint")?,
                jwks: field("jwks_uri")?,
            },
            http,
        })
    }

    async fn get_json(&self, url: &str, what: &str) -> Check<Value> {
        let response = self.http.get(url).send().await.map_err(fail(what))?;
        if response.status() != StatusCode::OK {
            return Err(format!("{what}: status {}", response.status()));
        }
        response.json().await.map_err(fail(what))
    }

    /// GET discovery: 200, the issuer.
    pub async fn discovery(&self) -> Check<()> {
        let doc = self
            .get_json(&self.endpoints.discovery, "discovery")
            .await?;
        if doc["issuer"] != self.endpoints.issuer.as_str() {
            return Err(format!("discovery: issuer {}", doc["issuer"]));
        }
        Ok(())
    }

    /// GET JWKS: 200, at least one key, each with `kty` and `kid`.
    pub async fn jwks(&self) -> Check<()> {
        let doc = self.get_json(&self.endpoints.jwks, "jwks").await?;
        let keys = doc["keys"].as_array().ok_or("jwks: no keys")?;
        if keys.is_empty()
            || keys
                .iter()
                .any(|k| !k["kty"].is_string() || !k["kid"].is_string())
        {
            return Err("jwks: a key without kty or kid".into());
        }
        Ok(())
    }

    /// From the authorization request to the code: the provider's redirects followed, and with
    /// `login` its login and consent forms submitted; without `login` (single sign-on) any page
    /// is a failure. Returns the code and the nonce sent.
    pub async fn authorize(&self, jar: &mut Jar, login: bool) -> Check<(String, String)> {
        let (state, nonce) = (random_token(), random_token());
        let mut url = Url::parse(&self.endpoints.authorize).map_err(|e| e.to_string())?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", CHALLENGE)
            .append_pair("code_challenge_method", "S256");
        let mut request = self.http.get(url.clone());
        for _ in 0..12 {
            if let Some(cookies) = jar.header(url.path()) {
                request = request.header(COOKIE, cookies);
            }
            let response = request.send().await.map_err(fail("authorize"))?;
            jar.store(&response);
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or("a redirect without location")?;
                let next = url.join(location).map_err(|e| e.to_string())?;
                if next.as_str().starts_with(REDIRECT_URI) {
                    return self.callback(&next, &state).map(|code| (code, nonce));
                }
                url = next;
                request = self.http.get(url.clone());
                continue;
            }
            let html = response.text().await.map_err(fail("page"))?;
            if status != StatusCode::OK {
                return Err(format!("{status} at {}", url.path()));
            }
            if !login {
                return Err(format!("single sign-on showed a page at {}", url.path()));
            }
            let (action, mut fields) = if let Some(f) = form(&html, "/login", Some("password")) {
                let mut f = f;
                f.1.push(("username".into(), USERNAME.into()));
                f.1.push(("password".into(), PASSWORD.into()));
                f
            } else if let Some(mut f) = form(&html, "/consent", None) {
                f.1.push(("decision".into(), "allow".into()));
                f
            } else {
                return Err(format!("an unexpected page at {}", url.path()));
            };
            fields.retain(|(k, _)| !k.is_empty());
            url = url.join(&action).map_err(|e| e.to_string())?;
            request = self.http.post(url.clone()).form(&fields);
        }
        Err("too many steps before the callback".into())
    }

    /// The code from the callback, with `state` (and `iss` when sent) checked.
    fn callback(&self, url: &Url, state: &str) -> Check<String> {
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        if let Some(error) = param("error") {
            return Err(format!("the callback carries error={error}"));
        }
        if param("state").as_deref() != Some(state) {
            return Err("the callback's state differs".into());
        }
        if let Some(iss) = param("iss")
            && iss != self.endpoints.issuer
        {
            return Err(format!("the callback's iss is {iss}"));
        }
        param("code").ok_or_else(|| "the callback has no code".into())
    }

    /// Redeems a code: 200, a bearer access token, an ID token whose claims are right.
    pub async fn token(&self, code: &str, nonce: &str) -> Check<Tokens> {
        let response = self
            .http
            .post(&self.endpoints.token)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .map_err(fail("token"))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(fail("token"))?;
        if status != StatusCode::OK {
            return Err(format!("token: {status} {body}"));
        }
        if !body["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
        {
            return Err(format!("token: token_type {}", body["token_type"]));
        }
        let access_token = body["access_token"]
            .as_str()
            .ok_or("token: no access_token")?
            .to_string();
        let id_token = body["id_token"].as_str().ok_or("token: no id_token")?;
        let sub = check_id_token(id_token, &self.endpoints.issuer, nonce)?;
        Ok(Tokens { access_token, sub })
    }

    /// A code that was never issued: 400 `invalid_grant`.
    pub async fn bad_token(&self) -> Check<()> {
        let response = self
            .http
            .post(&self.endpoints.token)
            .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", &random_token()),
                ("redirect_uri", REDIRECT_URI),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .map_err(fail("token"))?;
        let status = response.status();
        let body: Value = response.json().await.map_err(fail("token"))?;
        if status != StatusCode::BAD_REQUEST || body["error"] != "invalid_grant" {
            return Err(format!("bad code: {status} {body}"));
        }
        Ok(())
    }

    /// UserInfo: 200, the same `sub` as the ID token.
    pub async fn userinfo(&self, tokens: &Tokens) -> Check<()> {
        let response = self
            .http
            .get(&self.endpoints.userinfo)
            .bearer_auth(&tokens.access_token)
            .send()
            .await
            .map_err(fail("userinfo"))?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(format!("userinfo: {status}"));
        }
        let body: Value = response.json().await.map_err(fail("userinfo"))?;
        if body["sub"] != tokens.sub.as_str() {
            return Err(format!("userinfo: sub {}", body["sub"]));
        }
        Ok(())
    }

    /// A whole password login in a fresh browser: authorize, login form, consent if shown,
    /// token, UserInfo.
    pub async fn password_flow(&self) -> Check<()> {
        let mut jar = Jar::default();
        let (code, nonce) = self.authorize(&mut jar, true).await?;
        let tokens = self.token(&code, &nonce).await?;
        self.userinfo(&tokens).await
    }

    /// A logged-in browser: the jar after a password login.
    pub async fn logged_in(&self) -> Check<Jar> {
        let mut jar = Jar::default();
        let (code, nonce) = self.authorize(&mut jar, true).await?;
        self.token(&code, &nonce).await?;
        Ok(jar)
    }

    /// Single sign-on: authorize with the session cookie, then token.
    pub async fn sso_flow(&self, jar: &mut Jar) -> Check<Tokens> {
        let (code, nonce) = self.authorize(jar, false).await?;
        self.token(&code, &nonce).await
    }
}

/// Checks an ID token's claims (the signature is the relying party's SDK's business, tested
/// elsewhere): `iss`, `aud` (the client), `sub`, `nonce`, `exp` in the future, `iat`. Returns `sub`.
pub fn check_id_token(jwt: &str, issuer: &str, nonce: &str) -> Check<String> {
    let payload = jwt.split('.').nth(1).ok_or("id_token: not a JWT")?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| "id_token: bad base64")?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| "id_token: bad JSON")?;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let aud_ok = claims["aud"] == CLIENT_ID
        || claims["aud"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == CLIENT_ID));
    let sub = claims["sub"].as_str().filter(|s| !s.is_empty());
    let expired = claims["exp"].as_i64().is_none_or(|exp| exp <= now);
    if claims["iss"] != issuer
        || !aud_ok
        || claims["nonce"] != nonce
        || expired
        || !claims["iat"].is_i64()
    {
        return Err(format!("id_token: wrong claims {claims}"));
    }
    sub.map(str::to_string)
        .ok_or_else(|| "id_token: no sub".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_go_to_their_paths_only() {
        assert!(path_matches("/", "/interaction/x"));
        assert!(path_matches("/interaction/x", "/interaction/x/login"));
        assert!(path_matches("/interaction/x", "/interaction/x"));
        assert!(!path_matches("/interaction/x", "/interaction/xy"));
        assert!(!path_matches("/auth/x", "/interaction/x"));
    }

    #[test]
    fn the_login_form_is_found_with_its_hidden_inputs() {
        let html = r#"<form method="post" action="/interaction/abc/login">
            <input type="hidden" name="csrf" value="t0k&amp;en">
            <input name="username"><input name="password" type="password"></form>
            <form method="post" action="/interaction/abc/abort"><input type="hidden" name="csrf" value="z"></form>"#;
        let (action, hidden) = form(html, "/login", Some("password")).expect("a login form");
        assert_eq!(action, "/interaction/abc/login");
        assert_eq!(hidden, vec![("csrf".to_string(), "t0k&en".to_string())]);
        assert!(form(html, "/consent", None).is_none());
        assert!(form(html, "/abort", Some("password")).is_none());
    }

    fn jwt(claims: Value) -> String {
        format!(
            "e30.{}.sig",
            URL_SAFE_NO_PAD.encode(claims.to_string().as_bytes())
        )
    }

    #[test]
    fn an_id_token_counts_only_with_every_claim_right() {
        let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 60;
        let good = serde_json::json!({"iss": "http://i", "aud": CLIENT_ID, "sub": "s", "nonce": "n", "exp": exp, "iat": 1});
        assert_eq!(
            check_id_token(&jwt(good.clone()), "http://i", "n"),
            Ok("s".into())
        );
        for (key, value) in [
            ("iss", serde_json::json!("http://other")),
            ("aud", serde_json::json!("someone-else")),
            ("nonce", serde_json::json!("replayed")),
            ("exp", serde_json::json!(1)),
            ("sub", serde_json::json!("")),
        ] {
            let mut bad = good.clone();
            bad[key] = value;
            assert!(check_id_token(&jwt(bad), "http://i", "n").is_err(), "{key}");
        }
        assert!(check_id_token("garbage", "http://i", "n").is_err());
    }
}
