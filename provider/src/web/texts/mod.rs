//! The words on the pages, in Vietnamese (the default) and English: the login pages' here,
//! the citizen's own pages' in `account`, the registration desk's in `desk`.

use vneid_contract::Lang;

pub mod account;
pub mod desk;

pub use account::{AccountTexts, account};
pub use desk::{DeskTexts, desk};

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
    pub change_title: &'static str,
    pub change_intro: &'static str,
    pub new_password_label: &'static str,
    pub confirm_password_label: &'static str,
    pub password_rules: &'static str,
    pub change_button: &'static str,
    pub password_too_weak: &'static str,
    pub passwords_differ: &'static str,
    pub otp_locked_until: &'static str,
    pub consent_agreed: &'static str,
    pub logout_title: &'static str,
    pub logout_intro: &'static str,
    pub logout_client: &'static str,
    pub logout_button: &'static str,
    pub logout_stay: &'static str,
    pub consent_predicates: &'static str,
    pub guardian_requests_title: &'static str,
    pub guardian_requests_intro: &'static str,
    pub guardian_born: &'static str,
    pub guardian_approve: &'static str,
    pub guardian_deny: &'static str,
    pub guardian_approved: &'static str,
    pub guardian_denied: &'static str,
    pub guardian_refused: &'static str,
    pub guardian_not_found: &'static str,
    pub guardians_title: &'static str,
    pub relation_father: &'static str,
    pub relation_mother: &'static str,
    pub relation_guardian: &'static str,
    pub contact_unverified: &'static str,
    pub contact_verified: &'static str,
    pub contact_verify_intro: &'static str,
    pub contact_verify_button: &'static str,
    pub desk_guardian_label: &'static str,
    pub desk_guardian_hint: &'static str,
    pub desk_guardian_required: &'static str,
    pub desk_guardian_waiting_title: &'static str,
    pub desk_guardian_waiting: &'static str,
    pub desk_guardian_notified_on: &'static str,
    pub desk_guardian_check: &'static str,
    pub desk_guardian_denied: &'static str,
    pub guardian_at_desk: &'static str,
    pub guardian_desk_approved: &'static str,
    pub desk_no_valid_card: &'static str,
    pub consent_organization_legend: &'static str,
    pub consent_organization_code: &'static str,
    pub outbox_title: &'static str,
    pub outbox_intro: &'static str,
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
    wrong_credentials: "Số định danh hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa do nhập sai nhiều lần. Khi tài khoản bị tạm khóa, chúng tôi báo cho bạn qua số điện thoại hoặc email đã đăng ký.",
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
    change_title: "Đổi mật khẩu",
    change_intro: "Mật khẩu lần đầu được gửi qua tin nhắn. Hãy đặt mật khẩu mới trước khi tiếp tục.",
    new_password_label: "Mật khẩu mới",
    confirm_password_label: "Nhập lại mật khẩu mới",
    password_rules: "Ít nhất 8 ký tự, có cả chữ và số, không trùng số định danh.",
    change_button: "Đổi mật khẩu",
    password_too_weak: "Mật khẩu mới chưa đủ mạnh: ít nhất 8 ký tự, có cả chữ và số, không trùng số định danh.",
    passwords_differ: "Hai lần nhập mật khẩu mới không giống nhau.",
    otp_locked_until: "Xác thực mức độ 2 tạm khóa do nhập sai mã nhiều lần; chúng tôi đã báo cho bạn qua số điện thoại hoặc email đã đăng ký. Bạn có thể thử lại sau",
    consent_agreed: "Bạn đã đồng ý chia sẻ trước đây (vẫn được chia sẻ):",
    logout_title: "Đăng xuất",
    logout_intro: "Bạn có muốn đăng xuất khỏi VNeID không? Nếu bạn không yêu cầu đăng xuất, hãy đóng trang này.",
    logout_client: "Yêu cầu đăng xuất từ:",
    logout_button: "Đăng xuất",
    logout_stay: "Nếu bạn không bấm nút, bạn vẫn đăng nhập.",
    consent_predicates: "Với các câu hỏi có/không ở trên, dịch vụ chỉ nhận câu trả lời, không nhận ngày sinh, địa chỉ hay thông tin giấy tờ của bạn.",
    guardian_requests_title: "Đề nghị đăng ký tài khoản chờ bạn đồng ý",
    guardian_requests_intro: "Bạn là cha, mẹ hoặc người giám hộ được ghi nhận trong Cơ sở dữ liệu quốc gia về dân cư. Tài khoản của trẻ chỉ được tạo khi bạn đồng ý.",
    guardian_born: "sinh ngày",
    guardian_approve: "Đồng ý tạo tài khoản",
    guardian_deny: "Từ chối",
    guardian_approved: "Đã đồng ý: tài khoản của trẻ đã được tạo; mật khẩu lần đầu được gửi tới liên hệ đã đăng ký.",
    guardian_denied: "Đã từ chối đề nghị.",
    guardian_refused: "Không thể tạo tài khoản: hồ sơ dân cư không còn đáp ứng điều kiện. Đề nghị đã bị từ chối.",
    guardian_not_found: "Không có đề nghị này đang chờ bạn (đã được xử lý, đã hết hạn, hoặc không thuộc về bạn).",
    guardians_title: "Cha, mẹ hoặc người giám hộ",
    relation_father: "Cha",
    relation_mother: "Mẹ",
    relation_guardian: "Người giám hộ",
    contact_unverified: "chưa xác minh",
    contact_verified: "đã xác minh",
    contact_verify_intro: "Liên hệ chưa xác minh không được chia sẻ là đã xác minh và không nhận thông báo bảo mật khi đã có liên hệ đã xác minh. Gửi mã tới liên hệ này rồi nhập mã ở ô xác nhận bên dưới.",
    contact_verify_button: "Gửi mã xác minh",
    desk_guardian_label: "Số định danh của cha, mẹ hoặc người giám hộ (người dưới 14 tuổi)",
    desk_guardian_hint: "Bắt buộc với người từ 6 đến dưới 14 tuổi: người này phải được ghi nhận trong cơ sở dữ liệu dân cư, có tài khoản đang hoạt động và có mặt để đồng ý.",
    desk_guardian_required: "Người dưới 14 tuổi: cần cha, mẹ hoặc người giám hộ được ghi nhận trong cơ sở dữ liệu dân cư, có tài khoản đang hoạt động, đề nghị (Nghị định 69/2024).",
    desk_guardian_waiting_title: "Chờ cha, mẹ hoặc người giám hộ đồng ý",
    desk_guardian_waiting: "Đã gửi đề nghị tới cha, mẹ hoặc người giám hộ. Người này đăng nhập tài khoản VNeID của mình, mục Tài khoản, và bấm Đồng ý; sau đó bấm Kiểm tra lại. Chưa có gì được ghi; đề nghị hết hạn cùng kết quả xác thực (15 phút).",
    desk_guardian_notified_on: "Thông báo đã gửi tới",
    desk_guardian_check: "Kiểm tra lại và đăng ký",
    desk_guardian_denied: "Cha, mẹ hoặc người giám hộ đã từ chối đề nghị trong tài khoản của mình. Không có tài khoản nào được tạo.",
    guardian_at_desk: "đề nghị tại quầy",
    guardian_desk_approved: "Đã đồng ý. Cán bộ tại quầy sẽ hoàn tất đăng ký tài khoản mức 2 cho trẻ.",
    desk_no_valid_card: "Từ 14 tuổi cần thẻ căn cước gắn chip còn hiệu lực: thẻ trong cơ sở dữ liệu không có, đã báo mất, bị thu hồi, đã thay hoặc hết hạn. Hãy làm thủ tục cấp thẻ trước.",
    consent_organization_legend: "Bạn đại diện cho nhiều tổ chức. Chọn tổ chức được chia sẻ với dịch vụ này:",
    consent_organization_code: "mã số",
    outbox_title: "Hộp thư đi (demo)",
    outbox_intro: "Tin nhắn và email hệ thống đã gửi ở chế độ demo.",
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
    wrong_credentials: "The identification number or password is wrong, or the account is locked for a while after too many wrong attempts. When an account is locked, we tell its holder by SMS or email at the registered contact.",
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
    change_title: "Change your password",
    change_intro: "Your first password came by SMS. Choose a new one before you continue.",
    new_password_label: "New password",
    confirm_password_label: "New password again",
    password_rules: "At least 8 characters, with letters and digits, not your identification number.",
    change_button: "Change password",
    password_too_weak: "The new password is too weak: at least 8 characters, with letters and digits, not your identification number.",
    passwords_differ: "The two new passwords differ.",
    otp_locked_until: "Level 2 verification is locked after too many wrong codes; we have told you by SMS or email at your registered contact. You can try again after",
    consent_agreed: "You agreed to share before (still shared):",
    logout_title: "Log out",
    logout_intro: "Do you want to log out of VNeID? If you did not ask to log out, close this page.",
    logout_client: "Logout asked by:",
    logout_button: "Log out",
    logout_stay: "Unless you press the button, you stay logged in.",
    consent_predicates: "For the yes/no questions above, the service receives only the answer, not your date of birth, your address or your documents' details.",
    guardian_requests_title: "Requests waiting for your approval",
    guardian_requests_intro: "You are the parent or guardian recorded in the National Population Database. The child's account is created only if you approve.",
    guardian_born: "born",
    guardian_approve: "Approve the account",
    guardian_deny: "Deny",
    guardian_approved: "Approved: the child's account is created; its first password went to the contact on record.",
    guardian_denied: "The request is denied.",
    guardian_refused: "The account cannot be created: the population record no longer meets the conditions. The request is refused.",
    guardian_not_found: "No such request is waiting for you (decided already, lapsed, or not yours).",
    guardians_title: "Parent or guardian",
    relation_father: "Father",
    relation_mother: "Mother",
    relation_guardian: "Guardian",
    contact_unverified: "not verified",
    contact_verified: "verified",
    contact_verify_intro: "An unverified contact is not shared as verified, and security notices go to a verified contact when there is one. Send a code to it, then enter the code in the confirmation form below.",
    contact_verify_button: "Send a verification code",
    desk_guardian_label: "Identification number of the parent or guardian (under 14)",
    desk_guardian_hint: "Required from 6 to under 14: this person must be recorded in the population database, hold an active account, and be present to consent.",
    desk_guardian_required: "Under 14: a parent or guardian recorded in the population database, holding an active account, must make the request (Decree 69/2024).",
    desk_guardian_waiting_title: "Waiting for the parent or guardian to approve",
    desk_guardian_waiting: "The request went to the parent or guardian. They sign in to their own VNeID account, open Account, and approve; then press Check again. Nothing is written yet; the request lapses with the verification (15 minutes).",
    desk_guardian_notified_on: "Told on",
    desk_guardian_check: "Check again and enrol",
    desk_guardian_denied: "The parent or guardian denied the request in their own account. No account was created.",
    guardian_at_desk: "requested at the desk",
    guardian_desk_approved: "Approved. The officer at the desk will complete the child's Level 2 enrolment.",
    desk_no_valid_card: "From 14 a valid chip identity card is needed: the card on record is missing, reported lost, revoked, replaced or expired. The card must be issued first.",
    consent_organization_legend: "You represent several organisations. Choose the one shared with this service:",
    consent_organization_code: "code",
    outbox_title: "Demo outbox",
    outbox_intro: "Messages and emails the demo has sent.",
};

/// The texts for a language.
pub fn texts(lang: Lang) -> &'static Texts {
    match lang {
        Lang::En => &EN,
        _ => &VI,
    }
}

impl Texts {
    /// How a recorded parent or guardian stands to the child.
    pub fn relation(&self, relation: &str) -> &'static str {
        match relation {
            "father" => self.relation_father,
            "mother" => self.relation_mother,
            _ => self.relation_guardian,
        }
    }

    /// The name of a level.
    pub fn level_name(&self, level: vneid_contract::Level) -> &'static str {
        match level {
            vneid_contract::Level::Level1 => self.level1_name,
            _ => self.level2_name,
        }
    }
}

/// A date and time in Vietnam (Asia/Ho_Chi_Minh, UTC+7, no daylight saving) in the page's
/// language: `01/12/2026 14:05` in Vietnamese, `1 December 2026, 14:05` in English.
pub fn when(lang: &str, unix: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(unix) else {
        return String::new();
    };
    let t = t.to_offset(time::macros::offset!(+7));
    let formatted = if lang == "en" {
        t.format(time::macros::format_description!(
            "[day padding:none] [month repr:long] [year], [hour]:[minute]"
        ))
    } else {
        t.format(time::macros::format_description!(
            "[day]/[month]/[year] [hour]:[minute]"
        ))
    };
    formatted.unwrap_or_default()
}

/// The language asked for in a `lang` query parameter (`en` or `vi`), if any.
pub fn lang_param(query: Option<&str>) -> Option<Lang> {
    let query = query?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| match v.as_ref() {
            "en" => Some(Lang::En),
            "vi" => Some(Lang::Vi),
            _ => None,
        })
}

/// The link that shows `path` (a path and query of this site) in the other language.
pub fn switch_href(path: &str, other_lang: &str) -> String {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        if k != "lang" {
            out.append_pair(&k, &v);
        }
    }
    out.append_pair("lang", other_lang);
    format!("{path}?{}", out.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_each_language_and_the_switch_keeps_the_query() {
        // 2026-12-01T07:05:00Z is 14:05 in Hà Nội.
        assert_eq!(when("vi", 1_796_108_700), "01/12/2026 14:05");
        assert_eq!(when("en", 1_796_108_700), "1 December 2026, 14:05");
        assert_eq!(
            switch_href("/desk/people?id_number=001&lang=vi", "en"),
            "/desk/people?id_number=001&lang=en"
        );
        assert_eq!(lang_param(Some("a=1&lang=en")), Some(Lang::En));
        assert_eq!(lang_param(Some("lang=fr")), None);
    }
}
