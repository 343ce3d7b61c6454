//! Example public-service portal (client `demo-portal` on http://127.0.0.1:3001): "My records"
//! needs Level 1 and shows whether the citizen is 18 or over and lives in Hà Nội from the
//! predicate claims `age_over_18` and `resident_of:01` (a yes or no: the portal never receives
//! the birth date nor the address; it asks for `name` alone, not the `profile` scope);
//! "Submit an application" needs Level 2 and steps up. Uses only the SDK's public API. Run beside the demo provider:
//!
//! ```sh
//! cargo run --release -p vneid-provider -- demo      # terminal 1
//! cargo run --release -p public-portal               # terminal 2, then open http://127.0.0.1:3001
//! ```

use askama::Template;
use askama_web::WebTemplate;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Key, PrivateCookieJar};
use vneid_sdk::axum::{RequireLevel, VneidAuth};
use vneid_sdk::{
    ClaimsRequest, ClientCredentials, Level, Predicate, Province, ScopeSet, SdkError, VneidClient,
};

/// The portal's state.
#[derive(Clone)]
pub struct Portal {
    auth: VneidAuth,
    issuer: String,
    base: String,
}

impl FromRef<Portal> for VneidAuth {
    fn from_ref(p: &Portal) -> VneidAuth {
        p.auth.clone()
    }
}

impl FromRef<Portal> for Key {
    fn from_ref(p: &Portal) -> Key {
        p.auth.key().clone()
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    user: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "records.html")]
struct RecordsPage {
    user: Option<String>,
    name: String,
    level: &'static str,
    adult: &'static str,
    hanoi: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "apply.html")]
struct ApplyPage {
    user: Option<String>,
    name: String,
    level: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "message.html")]
struct MessagePage {
    user: Option<String>,
    title: String,
    message: String,
    error: bool,
}

fn level_name(level: Option<Level>) -> &'static str {
    match level {
        Some(Level::Level2) => "Mức độ 2",
        Some(Level::Level1) => "Mức độ 1",
        None => "—",
    }
}

/// The scopes the portal asks for at each level (the name is asked alone: `profile` would
/// bring the birth date).
fn scopes(_level: Level) -> ScopeSet {
    ScopeSet::parse("openid identity_number").unwrap_or_default()
}

/// Hà Nội, the city this portal serves.
fn hanoi() -> Option<Province> {
    Province::parse("01")
}

fn yes_no(answer: Option<bool>) -> &'static str {
    match answer {
        Some(true) => "có",
        Some(false) => "không",
        None => "không rõ",
    }
}

/// Builds the portal for the provider at `issuer`; `base` is the portal's own URL.
pub async fn app(issuer: &str, base: &str) -> Result<Router, SdkError> {
    let client = VneidClient::discover(
        issuer,
        "demo-portal",
        ClientCredentials::Secret("demo-portal-secret".into()),
        &format!("{base}/callback"),
    )
    .await?;
    // "Over 18" and "lives in Hà Nội" as yes/no answers from the provider (predicate claims
    // `age_over_18`, `resident_of:01`), not computed from the birth date or the address.
    let predicates = std::iter::once(Predicate::AgeOver(18))
        .chain(hanoi().map(Predicate::ResidentOf))
        .collect::<Vec<_>>();
    let auth = VneidAuth::new(client, Key::generate(), scopes)
        .with_predicates(predicates)
        .with_claims(ClaimsRequest::new().at_userinfo("name", true));
    let portal = Portal {
        auth,
        issuer: issuer.to_string(),
        base: base.to_string(),
    };
    Ok(Router::new()
        .route("/", get(home))
        .route("/records", get(records))
        .route("/apply", get(apply))
        .route("/login", get(vneid_sdk::axum::login))
        .route("/callback", get(callback))
        .route("/logout", get(logout))
        .route("/logged-out", get(logged_out))
        // Account-status events pushed by the provider end the matching sessions.
        .route(
            "/events",
            axum::routing::post(vneid_sdk::axum::security_events),
        )
        .with_state(portal))
}

async fn home(State(p): State<Portal>, jar: PrivateCookieJar) -> impl IntoResponse {
    HomePage {
        user: p.auth.session(&jar).and_then(|s| s.name),
    }
}

async fn records(RequireLevel(session): RequireLevel<1>) -> impl IntoResponse {
    let name = session.name.clone().unwrap_or_default();
    RecordsPage {
        user: Some(name.clone()),
        name,
        level: level_name(session.level),
        adult: yes_no(session.age_over(18)),
        hanoi: yes_no(hanoi().and_then(|p| session.resident_of(p))),
    }
}

async fn apply(RequireLevel(session): RequireLevel<2>) -> impl IntoResponse {
    let name = session.name.clone().unwrap_or_default();
    ApplyPage {
        user: Some(name.clone()),
        name,
        level: level_name(session.level),
    }
}

async fn callback(State(p): State<Portal>, jar: PrivateCookieJar, uri: Uri) -> Response {
    match p.auth.finish(jar, uri.query().unwrap_or("")).await {
        Ok((jar, _identity, next)) => (jar, Redirect::to(&next)).into_response(),
        Err((jar, error)) => {
            let message = match &error {
                SdkError::InsufficientLevel { .. } => {
                    "Dịch vụ này cần tài khoản định danh điện tử mức độ 2. Hãy đến Công an xã, phường để nâng cấp tài khoản.".to_string()
                }
                SdkError::Denied => "Bạn đã từ chối chia sẻ thông tin.".to_string(),
                other => other.to_string(),
            };
            let page = MessagePage {
                user: None,
                title: "Không đăng nhập được".into(),
                message,
                error: true,
            };
            (jar, page).into_response()
        }
    }
}

async fn logout(State(p): State<Portal>, jar: PrivateCookieJar) -> Response {
    let jar = p.auth.logout(jar);
    let mut url = match url::Url::parse(&format!("{}/logout", p.issuer)) {
        Ok(url) => url,
        Err(_) => return (jar, Redirect::to("/")).into_response(),
    };
    url.query_pairs_mut()
        .append_pair("client_id", "demo-portal")
        .append_pair(
            "post_logout_redirect_uri",
            &format!("{}/logged-out", p.base),
        );
    (jar, Redirect::to(url.as_str())).into_response()
}

async fn logged_out() -> impl IntoResponse {
    MessagePage {
        user: None,
        title: "Đã đăng xuất".into(),
        message: "Bạn đã đăng xuất.".into(),
        error: false,
    }
}
