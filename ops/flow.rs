//! One password login through the provider's pages, as a browser and the demo portal would:
//! authorize, the login page, the password, consent when asked, the code at the token endpoint.
//! Shared by `vneid-load` (ops/load.rs) and the process-level tests (provider/tests/scale_out.rs).

use std::time::{Duration, Instant};

/// The demo portal, as `vneid-provider demo` and `demo::seed` register it.
pub const CLIENT_ID: &str = "demo-portal";
/// Its secret.
pub const CLIENT_SECRET: &str = "demo-portal-secret";
/// Its callback.
pub const REDIRECT_URI: &str = "http://127.0.0.1:3001/callback";
/// The demo Level 1 account.
pub const USERNAME: &str = "001095000001";
/// The demo password.
pub const PASSWORD: &str = "Demo@2026";
/// RFC 7636's example verifier and its S256 challenge.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A completed login.
#[derive(Debug, Clone)]
pub struct Done {
    /// The code, redeemed once.
    pub code: String,
    /// The access token it gave.
    pub access_token: String,
}

/// Where and how a login failed.
#[derive(Debug, Clone)]
pub struct Failed {
    /// `authorize`, `login`, `consent`, `token`, ...
    pub step: &'static str,
    /// The HTTP status, or 0 when the request got no answer.
    pub status: u16,
    /// What went wrong.
    pub detail: String,
    /// The code, when the login got that far.
    pub code: Option<String>,
}

/// One request's answer and time.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// The HTTP status, or 0 when the request got no answer.
    pub status: u16,
    /// How long it took.
    pub elapsed: Duration,
}

/// Logs in once at `base` (the issuer, e.g. a load balancer) with a fresh cookie jar; calls
/// `observe` with every request's status and time.
pub async fn login_once(
    base: &str,
    timeout: Duration,
    observe: &mut (dyn FnMut(Timing) + Send),
) -> Result<Done, Failed> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| fail("client", 0, e.to_string(), None))?;
    let state = random_hex();
    let mut authorize = url::Url::parse(&format!("{base}/authorize"))
        .map_err(|e| fail("authorize", 0, e.to_string(), None))?;
    authorize
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("scope", "openid profile")
        .append_pair("state", &state)
        .append_pair("nonce", &random_hex())
        .append_pair("code_challenge", CHALLENGE)
        .append_pair("code_challenge_method", "S256");
    let mut page = get(&http, authorize, "authorize", observe).await?;
    let mut fields = vec![
        ("username".to_string(), USERNAME.to_string()),
        ("password".to_string(), PASSWORD.to_string()),
    ];
    let mut step = "login";
    for _ in 0..4 {
        match page {
            Landing::Callback(url) => {
                let code = url
                    .query_pairs()
                    .find(|(k, _)| k == "code")
                    .map(|(_, v)| v.into_owned())
                    .ok_or_else(|| fail(step, 302, format!("no code in {url}"), None))?;
                if !url.query_pairs().any(|(k, v)| k == "state" && v == state) {
                    return Err(fail(step, 302, "state mismatch".into(), Some(code)));
                }
                return redeem(&http, base, code, observe).await;
            }
            Landing::Page(url, html) => {
                let suffix = if has_form(&html, "/login") {
                    "/login"
                } else if has_form(&html, "/consent") {
                    fields = vec![("decision".to_string(), "allow".to_string())];
                    step = "consent";
                    "/consent"
                } else {
                    return Err(fail(step, 200, "unexpected page".into(), None));
                };
                let (action, csrf) = form(&html, suffix)
                    .ok_or_else(|| fail(step, 200, format!("no {suffix} form"), None))?;
                let mut values = fields.clone();
                values.push(("csrf".to_string(), csrf));
                let target = url
                    .join(&action)
                    .map_err(|e| fail(step, 0, e.to_string(), None))?;
                let started = Instant::now();
                let sent = http.post(target.clone()).form(&values).send().await;
                page = land(&http, target, sent, started, step, observe).await?;
            }
        }
    }
    Err(fail(step, 200, "too many pages".into(), None))
}

enum Landing {
    Page(url::Url, String),
    Callback(url::Url),
}

async fn get(
    http: &reqwest::Client,
    url: url::Url,
    step: &'static str,
    observe: &mut (dyn FnMut(Timing) + Send),
) -> Result<Landing, Failed> {
    let started = Instant::now();
    let sent = http.get(url.clone()).send().await;
    land(http, url, sent, started, step, observe).await
}

/// Follows the provider's redirects; stops at the relying party's callback.
async fn land(
    http: &reqwest::Client,
    mut url: url::Url,
    mut sent: reqwest::Result<reqwest::Response>,
    mut started: Instant,
    step: &'static str,
    observe: &mut (dyn FnMut(Timing) + Send),
) -> Result<Landing, Failed> {
    for _ in 0..6 {
        let response = match sent {
            Ok(response) => response,
            Err(err) => {
                observe(Timing {
                    status: 0,
                    elapsed: started.elapsed(),
                });
                return Err(fail(step, 0, err.to_string(), None));
            }
        };
        let status = response.status();
        if status.is_redirection() {
            observe(Timing {
                status: status.as_u16(),
                elapsed: started.elapsed(),
            });
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let next = url
                .join(&location)
                .map_err(|e| fail(step, status.as_u16(), e.to_string(), None))?;
            if next.as_str().starts_with(REDIRECT_URI) {
                return Ok(Landing::Callback(next));
            }
            url = next;
            started = Instant::now();
            sent = http.get(url.clone()).send().await;
            continue;
        }
        let body = response.text().await;
        observe(Timing {
            status: status.as_u16(),
            elapsed: started.elapsed(),
        });
        let body = body.map_err(|e| fail(step, status.as_u16(), e.to_string(), None))?;
        if !status.is_success() {
            return Err(fail(step, status.as_u16(), first_line(&body), None));
        }
        return Ok(Landing::Page(url, body));
    }
    Err(fail(step, 0, "too many redirects".into(), None))
}

async fn redeem(
    http: &reqwest::Client,
    base: &str,
    code: String,
    observe: &mut (dyn FnMut(Timing) + Send),
) -> Result<Done, Failed> {
    let (status, body) = redeem_code(http, base, &code, observe).await;
    if status != 200 {
        return Err(fail(
            "token",
            status,
            first_line(&body.to_string()),
            Some(code),
        ));
    }
    match body["access_token"].as_str() {
        Some(token) if body["id_token"].is_string() => Ok(Done {
            access_token: token.to_string(),
            code,
        }),
        _ => Err(fail("token", status, "no tokens".into(), Some(code))),
    }
}

/// Presents `code` at the token endpoint as the demo portal: the status (0: no answer) and the
/// JSON body.
pub async fn redeem_code(
    http: &reqwest::Client,
    base: &str,
    code: &str,
    observe: &mut (dyn FnMut(Timing) + Send),
) -> (u16, serde_json::Value) {
    let started = Instant::now();
    let sent = http
        .post(format!("{base}/token"))
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await;
    let answer = match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            let body = response.json().await.unwrap_or(serde_json::Value::Null);
            (status, body)
        }
        Err(err) => (0, serde_json::Value::String(err.to_string())),
    };
    observe(Timing {
        status: answer.0,
        elapsed: started.elapsed(),
    });
    answer
}

fn fail(step: &'static str, status: u16, detail: String, code: Option<String>) -> Failed {
    Failed {
        step,
        status,
        detail,
        code,
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

fn random_hex() -> String {
    let bytes: [u8; 12] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#47;", "/")
        .replace("&#x3d;", "=")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// The `action` attributes of the page's forms.
fn actions(html: &str) -> impl Iterator<Item = (usize, String)> + '_ {
    html.match_indices("<form").filter_map(move |(at, _)| {
        let rest = &html[at..];
        let end = rest.find('>')?;
        let tag = &rest[..end];
        let start = tag.find("action=\"")? + "action=\"".len();
        let len = tag[start..].find('"')?;
        Some((at, unescape(&tag[start..start + len])))
    })
}

fn has_form(html: &str, suffix: &str) -> bool {
    actions(html).any(|(_, action)| action.ends_with(suffix))
}

/// The action of the form ending with `suffix`, and its CSRF token.
fn form(html: &str, suffix: &str) -> Option<(String, String)> {
    let (at, action) = actions(html).find(|(_, action)| action.ends_with(suffix))?;
    let rest = &html[at..];
    let marker = "name=\"csrf\" value=\"";
    let start = rest.find(marker)? + marker.len();
    let len = rest[start..].find('"')?;
    Some((action, unescape(&rest[start..start + len])))
}
