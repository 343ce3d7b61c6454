//! The pages (askama templates in `templates/`, compiled into the binary).

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use vneid_contract::Lang;

use super::texts::{Texts, texts};

/// The login form.
#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub client_name: String,
    pub level_name: &'static str,
    pub action: String,
    pub cancel_action: String,
    pub csrf: String,
    pub username: String,
    pub error: Option<String>,
    /// The QR code to log in with the app.
    pub qr: Option<super::qr_login::QrView>,
}

/// The second-factor form.
#[derive(Template, WebTemplate)]
#[template(path = "second_factor.html")]
pub struct SecondFactorPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub username: String,
    pub action: String,
    pub cancel_action: String,
    pub csrf: String,
    pub error: Option<String>,
    /// "Use a passkey", when the account has one.
    pub passkey: Option<super::interaction::passkey::PasskeyOffer>,
}

/// The consent form: every claim to be released, in words.
#[derive(Template, WebTemplate)]
#[template(path = "consent.html")]
pub struct ConsentPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub client_name: String,
    /// What this consent is asked for: the items not agreed before.
    pub items: Vec<String>,
    /// What was agreed before and is released too.
    pub agreed: Vec<String>,
    /// Yes/no predicate claims are among the items: say that only the answer is sent.
    pub has_predicates: bool,
    /// The organisations to choose among (a representative of several), else empty.
    pub organizations: Vec<OrganizationChoice>,
    pub level_name: &'static str,
    pub action: String,
    pub csrf: String,
}

/// One organisation offered on the consent page.
pub struct OrganizationChoice {
    pub code: String,
    pub name: String,
    pub checked: bool,
}

/// Choose a new password (after the first password came by SMS).
#[derive(Template, WebTemplate)]
#[template(path = "change_password.html")]
pub struct ChangePasswordPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub action: String,
    pub csrf: String,
    pub error: Option<String>,
}

/// "Do you want to log out?": RP-initiated logout without a hint that names this session's
/// citizen ends the session only after this form (POST, CSRF) is sent.
#[derive(Template, WebTemplate)]
#[template(path = "logout_confirm.html")]
pub struct LogoutConfirmPage {
    pub t: &'static Texts,
    pub switch_href: String,
    /// The relying party, when it is known.
    pub client_name: Option<String>,
    pub action: &'static str,
    pub csrf: String,
    pub client_id: String,
    pub post_logout_redirect_uri: String,
    pub state: String,
}

/// One message on the demo outbox page.
pub struct OutboxItem {
    pub channel: String,
    pub recipient: String,
    pub kind: String,
    pub state: String,
    pub body: String,
}

/// The demo outbox: what the demo "sent".
#[derive(Template, WebTemplate)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub messages: Vec<OutboxItem>,
}

/// How to get a Level 2 account.
#[derive(Template, WebTemplate)]
#[template(path = "level2_needed.html")]
pub struct Level2NeededPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub client_name: String,
    pub action: String,
    pub csrf: String,
}

/// A message shown to a person: an error (never redirected), or "you are logged out".
#[derive(Template)]
#[template(path = "message.html")]
pub struct ErrorPage {
    pub t: &'static Texts,
    pub switch_href: String,
    pub title: String,
    pub message: String,
    pub hint: String,
    pub status: StatusCode,
}

impl ErrorPage {
    /// An error page in Vietnamese and English at once (we may not know the language yet).
    pub fn new(status: StatusCode, vi: &str, en: &str) -> Self {
        ErrorPage {
            t: texts(Lang::Vi),
            switch_href: String::new(),
            title: format!(
                "{} / {}",
                super::texts::VI.error_title,
                super::texts::EN.error_title
            ),
            message: format!("{vi} / {en}"),
            hint: format!(
                "{} / {}",
                super::texts::VI.error_back,
                super::texts::EN.error_back
            ),
            status,
        }
    }

    /// A page that is not an error.
    pub fn info(vi_title: &str, en_title: &str, vi: &str, en: &str) -> Self {
        ErrorPage {
            t: texts(Lang::Vi),
            switch_href: String::new(),
            title: format!("{vi_title} / {en_title}"),
            message: format!("{vi} / {en}"),
            hint: String::new(),
            status: StatusCode::OK,
        }
    }

    /// Our own failure.
    pub fn internal() -> Self {
        ErrorPage::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Hệ thống đang gặp sự cố, vui lòng thử lại sau",
            "Something went wrong on our side, please try again later",
        )
    }
}

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        match self.render() {
            Ok(html) => (self.status, axum::response::Html(html)).into_response(),
            Err(err) => {
                tracing::error!(error = %err, "error page failed to render");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
        }
    }
}
