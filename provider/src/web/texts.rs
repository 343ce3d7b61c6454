//! The words on the pages, in Vietnamese (the default) and English.

use vneid_contract::Lang;

/// Every fixed text a page shows.
pub struct Texts {
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub site_name: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub username_label: &'static str,
    pub username_hint: &'static str,
    pub password_label: &'static str,
    pub login_button: &'static str,
    pub cancel_button: &'static str,
    pub wrong_credentials: &'static str,
    pub locked_until: &'static str,
    pub account_disabled: &'static str,
    pub otp_title: &'static str,
    pub otp_intro: &'static str,
    pub otp_label: &'static str,
    pub otp_button: &'static str,
    pub wrong_otp: &'static str,
    pub consent_title: &'static str,
    pub consent_intro: &'static str,
    pub consent_level: &'static str,
    pub consent_remember: &'static str,
    pub allow_button: &'static str,
    pub deny_button: &'static str,
    pub level2_title: &'static str,
    pub level2_intro: &'static str,
    pub level2_steps: [&'static str; 4],
    pub level2_button: &'static str,
    pub error_title: &'static str,
    pub error_back: &'static str,
    pub level1_name: &'static str,
    pub level2_name: &'static str,
    pub asks_level: &'static str,
    pub signed_in_as: &'static str,
}

/// Vietnamese.
pub static VI: Texts = Texts {
    lang: "vi",
    other_lang: "en",
    other_lang_name: "English",
    site_name: "Đăng nhập bằng tài khoản định danh điện tử VNeID",
    login_title: "Đăng nhập",
    login_intro: "đề nghị bạn đăng nhập bằng tài khoản định danh điện tử.",
    username_label: "Số định danh cá nhân",
    username_hint: "12 chữ số, in trên thẻ căn cước",
    password_label: "Mật khẩu",
    login_button: "Đăng nhập",
    cancel_button: "Hủy và quay lại dịch vụ",
    wrong_credentials: "Số định danh hoặc mật khẩu không đúng. Sau 5 lần sai, tài khoản sẽ bị tạm khóa.",
    locked_until: "Tài khoản tạm khóa do nhập sai nhiều lần. Bạn có thể thử lại sau",
    account_disabled: "Tài khoản này không còn sử dụng được. Vui lòng liên hệ Công an xã, phường nơi bạn cư trú.",
    otp_title: "Xác thực mức độ 2",
    otp_intro: "Nhập mã 6 chữ số đang hiển thị trong ứng dụng xác thực đã đăng ký tại cơ quan Công an.",
    otp_label: "Mã xác thực (6 chữ số)",
    otp_button: "Xác nhận",
    wrong_otp: "Mã xác thực không đúng hoặc đã được dùng. Hãy nhập mã mới nhất.",
    consent_title: "Chia sẻ thông tin",
    consent_intro: "muốn nhận các thông tin sau từ tài khoản định danh điện tử của bạn:",
    consent_level: "Mức xác thực của lần đăng nhập này:",
    consent_remember: "Lựa chọn của bạn được ghi nhớ cho dịch vụ này; bạn có thể thu hồi bất cứ lúc nào.",
    allow_button: "Đồng ý chia sẻ",
    deny_button: "Từ chối",
    level2_title: "Cần tài khoản mức độ 2",
    level2_intro: "Dịch vụ này yêu cầu tài khoản định danh điện tử mức độ 2. Tài khoản của bạn hiện ở mức độ 1.",
    level2_steps: [
        "Mang thẻ căn cước gắn chip đến Công an xã, phường, thị trấn hoặc nơi làm thủ tục cấp thẻ căn cước.",
        "Cung cấp số điện thoại hoặc email, và đề nghị tích hợp giấy tờ (giấy phép lái xe, thẻ bảo hiểm y tế, ...).",
        "Cán bộ tiếp nhận chụp ảnh chân dung, thu nhận vân tay và đăng ký ứng dụng xác thực cho bạn.",
        "Kết quả được thông báo qua ứng dụng VNeID, tin nhắn hoặc email.",
    ],
    level2_button: "Quay lại dịch vụ",
    error_title: "Không thể tiếp tục",
    error_back: "Hãy quay lại trang của dịch vụ và thử lại.",
    level1_name: "Mức độ 1",
    level2_name: "Mức độ 2",
    asks_level: "Dịch vụ yêu cầu:",
    signed_in_as: "Đang đăng nhập:",
};

/// English.
pub static EN: Texts = Texts {
    lang: "en",
    other_lang: "vi",
    other_lang_name: "Tiếng Việt",
    site_name: "Log in with your VNeID electronic identity",
    login_title: "Log in",
    login_intro: "asks you to log in with your electronic identity account.",
    username_label: "Personal identification number",
    username_hint: "12 digits, printed on your identity card",
    password_label: "Password",
    login_button: "Log in",
    cancel_button: "Cancel and return to the service",
    wrong_credentials: "The identification number or password is wrong. After 5 wrong attempts the account is locked for a while.",
    locked_until: "The account is locked after too many wrong attempts. You can try again after",
    account_disabled: "This account can no longer be used. Please contact your commune or ward police station.",
    otp_title: "Level 2 verification",
    otp_intro: "Enter the 6-digit code shown in the authenticator app registered at the police station.",
    otp_label: "Verification code (6 digits)",
    otp_button: "Confirm",
    wrong_otp: "The code is wrong or has been used already. Enter the newest code.",
    consent_title: "Share your information",
    consent_intro: "would like to receive this information from your electronic identity account:",
    consent_level: "Assurance level of this login:",
    consent_remember: "Your choice is remembered for this service; you can withdraw it at any time.",
    allow_button: "Allow",
    deny_button: "Deny",
    level2_title: "A Level 2 account is needed",
    level2_intro: "This service needs a Level 2 electronic identity account. Your account is Level 1.",
    level2_steps: [
        "Take your chip-based identity card to the commune or ward police station, or wherever identity cards are issued.",
        "Give a phone number or email address, and ask for documents (driving licence, health-insurance card, ...) to be integrated.",
        "The receiving officer takes your portrait and fingerprints and registers your authenticator app.",
        "The result is notified in the VNeID app, by SMS or by email.",
    ],
    level2_button: "Return to the service",
    error_title: "We cannot continue",
    error_back: "Go back to the service's page and try again.",
    level1_name: "Level 1",
    level2_name: "Level 2",
    asks_level: "The service asks for:",
    signed_in_as: "Signed in as:",
};

/// The texts for a language.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        _ => &VI,
    }
}

impl Texts {
    /// The name of a level.
    pub fn level_name(&self, level: vneid_contract::Level) -> &'static str {
        match level {
            vneid_contract::Level::Level1 => self.level1_name,
            _ => self.level2_name,
        }
    }
}
