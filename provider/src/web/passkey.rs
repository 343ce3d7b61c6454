//! What the passkey pages share: their words, the script that talks to the authenticator, and
//! the form a ceremony's answer comes back in. The handlers are beside the pages they belong
//! to: `web::interaction::passkey` (the login's second factor) and `web::account::passkeys`
//! (enrolment and removal in self-service).

use axum::http::header;
use axum::response::IntoResponse;
use serde::Deserialize;
use vneid_contract::Lang;

/// Where the script is served (same origin: the CSP allows `script-src 'self'` only).
pub const SCRIPT: &str = "/static/passkey.js";

/// `GET /static/passkey.js`.
pub async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../../templates/passkey.js"),
    )
}

/// The answer of the authenticator, posted by the script with the page's form.
#[derive(Deserialize)]
pub struct FinishForm {
    pub csrf: String,
    pub ceremony: String,
    /// The `PublicKeyCredential`, as JSON with binary fields in base64url.
    pub credential: String,
    /// Enrolment only: the name the citizen gave the passkey.
    #[serde(default)]
    pub name: String,
}

/// The words of the passkey pages, in Vietnamese and English.
pub struct PasskeyTexts {
    pub use_button: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub start_button: &'static str,
    pub needs_js: &'static str,
    pub unsupported: &'static str,
    pub waiting: &'static str,
    pub failed: &'static str,
    pub use_code: &'static str,
    pub refused: &'static str,
    pub unavailable: &'static str,
}

/// Vietnamese.
pub const VI: PasskeyTexts = PasskeyTexts {
    use_button: "Dùng khóa truy cập (passkey)",
    login_title: "Xác thực bằng khóa truy cập",
    login_intro: "Dùng khóa truy cập đã đăng ký cho tài khoản này (vân tay, khuôn mặt hoặc mã PIN của thiết bị).",
    start_button: "Dùng khóa truy cập",
    needs_js: "Khóa truy cập cần JavaScript. Bạn vẫn có thể nhập mã xác thực 6 chữ số.",
    unsupported: "Trình duyệt này không hỗ trợ khóa truy cập. Hãy nhập mã xác thực 6 chữ số.",
    waiting: "Đang chờ thiết bị xác thực…",
    failed: "Không dùng được khóa truy cập. Hãy thử lại hoặc nhập mã xác thực.",
    use_code: "Nhập mã xác thực 6 chữ số thay thế",
    refused: "Khóa truy cập không được chấp nhận. Hãy thử lại hoặc nhập mã xác thực.",
    unavailable: "Không có khóa truy cập nào cho tài khoản này, hoặc phiên xác thực đã hết hạn.",
};

/// English.
pub const EN: PasskeyTexts = PasskeyTexts {
    use_button: "Use a passkey",
    login_title: "Verify with a passkey",
    login_intro: "Use a passkey registered for this account (your device's fingerprint, face or PIN).",
    start_button: "Use my passkey",
    needs_js: "Passkeys need JavaScript. You can still enter the 6-digit code.",
    unsupported: "This browser does not support passkeys. Enter the 6-digit code instead.",
    waiting: "Waiting for your authenticator…",
    failed: "The passkey could not be used. Try again, or enter the code.",
    use_code: "Enter the 6-digit code instead",
    refused: "The passkey was not accepted. Try again, or enter the code.",
    unavailable: "This account has no passkey, or the verification expired.",
};

/// The words in `lang`.
pub fn texts(lang: Lang) -> &'static PasskeyTexts {
    match lang {
        Lang::En => &EN,
        Lang::Vi => &VI,
    }
}
