//! The authorization response (RFC 6749 4.1.2, RFC 9207): read the callback's query, check
//! `state` and `iss` before anything else, and turn an `error` into a typed [`SdkError`].

use subtle::ConstantTimeEq;
use vneid_contract::Level;

use crate::error::{Interaction, SdkError};

/// Longest parameter value accepted: far above any code or state, far below abuse.
const MAX_PARAM_LEN: usize = 4096;

/// The parameters of an authorization response.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

impl Callback {
    /// Parses a query string (with or without the leading `?`). A repeated parameter is an
    /// error (RFC 6749 3.1: parameters must not be included more than once); unknown ones are
    /// ignored.
    pub fn parse(query: &str) -> Result<Callback, SdkError> {
        let mut cb = Callback::default();
        for (name, value) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            let slot = match name.as_ref() {
                "code" => &mut cb.code,
                "state" => &mut cb.state,
                "iss" => &mut cb.iss,
                "error" => &mut cb.error,
                "error_description" => &mut cb.error_description,
                _ => continue,
            };
            if slot.is_some() {
                return Err(SdkError::MalformedCallback("a parameter is repeated"));
            }
            if value.len() > MAX_PARAM_LEN {
                return Err(SdkError::MalformedCallback("a parameter is too long"));
            }
            *slot = Some(value.into_owned());
        }
        Ok(cb)
    }

    /// Checks the response against the pending login and returns the code, or the typed error
    /// the provider sent. `state` comes first: an error response with a foreign state is
    /// somebody else's (or a forgery) and says nothing about this login.
    pub fn into_code(
        self,
        expected_state: &str,
        issuer: &str,
        required: Option<Level>,
    ) -> Result<String, SdkError> {
        check_state(expected_state, self.state.as_deref())?;
        check_issuer(issuer, self.iss.as_deref())?;
        if let Some(code) = self.error.as_deref() {
            return Err(provider_error(
                code,
                self.error_description.as_deref(),
                required,
            ));
        }
        self.code.ok_or(SdkError::MissingCode)
    }
}

/// `state` must be present and equal, compared in constant time.
pub(crate) fn check_state(expected: &str, received: Option<&str>) -> Result<(), SdkError> {
    let equal = received.is_some_and(|r| bool::from(r.as_bytes().ct_eq(expected.as_bytes())));
    if equal && !expected.is_empty() {
        Ok(())
    } else {
        Err(SdkError::StateMismatch)
    }
}

/// `iss` must be present and exactly the issuer (RFC 9207: simple string comparison). The
/// provider always sends it, so a missing one is refused rather than tolerated.
pub(crate) fn check_issuer(issuer: &str, received: Option<&str>) -> Result<(), SdkError> {
    match received {
        Some(iss) if iss == issuer => Ok(()),
        other => Err(SdkError::IssuerMismatch {
            expected: issuer.to_string(),
            found: other.map(str::to_string),
        }),
    }
}

/// Maps an authorization error code to the variant an app handles.
pub(crate) fn provider_error(
    code: &str,
    description: Option<&str>,
    required: Option<Level>,
) -> SdkError {
    match code {
        "unmet_authentication_requirements" => SdkError::InsufficientLevel {
            required: required.unwrap_or(Level::Level2),
        },
        "access_denied" => SdkError::Denied,
        "login_required" => SdkError::InteractionRequired(Interaction::Login),
        "consent_required" => SdkError::InteractionRequired(Interaction::Consent),
        "interaction_required" => SdkError::InteractionRequired(Interaction::Other),
        _ => SdkError::Provider {
            code: code.to_string(),
            description: description.unwrap_or_default().to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
