//! Contact details as the citizen gives them: checked the same way everywhere (the app's
//! registration, the desk, self-service).

/// A Vietnamese mobile number in E.164 form: `+84` and 9 or 10 digits.
pub fn is_phone(value: &str) -> bool {
    value
        .strip_prefix("+84")
        .is_some_and(|d| (9..=10).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}

/// A plausible email address (the code sent to it is the real check).
pub fn is_email(value: &str) -> bool {
    value.len() <= 254
        && !value.contains(char::is_whitespace)
        && value
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
}

#[cfg(test)]
mod tests {
    #[test]
    fn phones_and_emails() {
        assert!(super::is_phone("+84912345678") && super::is_phone("+840912345678"));
        assert!(!super::is_phone("0912345678") && !super::is_phone("+84abcdefghi"));
        assert!(
            super::is_email("a@b.vn") && !super::is_email("a b@c.vn") && !super::is_email("@b.vn")
        );
    }
}
