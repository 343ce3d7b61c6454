//! The `claims` request parameter (OpenID Connect Core 5.5): individual claims for the ID token
//! and UserInfo, and the `acr` a relying party insists on.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vneid_contract::{Claim, Level};

use super::error::OAuthError;

/// What the relying party asked for through `claims`, checked and reduced to what we act on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    /// Claims asked for in the ID token.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub id_token: BTreeSet<String>,
    /// Claims asked for at UserInfo.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub userinfo: BTreeSet<String>,
    /// The lowest acr among the known values asked for (essential or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<Level>,
    /// `verified_claims` was asked for at UserInfo or in the ID token.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verified_claims: bool,
}

impl ClaimsRequest {
    /// Parses the JSON of the `claims` parameter.
    pub fn parse(json: &str) -> Result<ClaimsRequest, OAuthError> {
        let value: Value = serde_json::from_str(json)
            .map_err(|_| OAuthError::invalid_request("the claims parameter is not valid JSON"))?;
        let Value::Object(top) = value else {
            return Err(OAuthError::invalid_request(
                "the claims parameter must be a JSON object",
            ));
        };
        let mut request = ClaimsRequest::default();
        for (target, members) in &top {
            let names = match target.as_str() {
                "id_token" => &mut request.id_token,
                "userinfo" => &mut request.userinfo,
                _ => continue, // other members are ignored (Core 5.5)
            };
            let Value::Object(members) = members else {
                return Err(OAuthError::invalid_request(format!(
                    "claims.{target} must be a JSON object"
                )));
            };
            for (name, spec) in members {
                if !(spec.is_null() || spec.is_object()) {
                    return Err(OAuthError::invalid_request(format!(
                        "claims.{target}.{name} must be null or an object"
                    )));
                }
                if name == "acr" {
                    let asked = acr_values(spec)?;
                    if let Some(lowest) = asked.into_iter().min() {
                        request.acr = Some(request.acr.map_or(lowest, |l: Level| l.min(lowest)));
                    }
                    continue;
                }
                if name == "verified_claims" {
                    request.verified_claims = true;
                    continue;
                }
                // Unknown claims are ignored, as Core 5.5 says; known ones are remembered.
                if Claim::parse(name).is_some() {
                    names.insert(name.clone());
                }
            }
        }
        Ok(request)
    }

    /// Drops the claims asked for individually whose scope this client may not ask for: `claims`
    /// releases a claim outside the requested scopes (Core 5.5), never outside the registration.
    pub fn keep_allowed(&mut self, allowed: &vneid_contract::ScopeSet) {
        let ok = |name: &String| {
            Claim::parse(name)
                .and_then(|c| c.scope())
                .is_some_and(|s| allowed.contains(s))
        };
        self.id_token.retain(ok);
        self.userinfo.retain(ok);
    }

    /// The contract claims asked for individually for `target`.
    pub fn claims(&self, userinfo: bool) -> impl Iterator<Item = Claim> + '_ {
        let names = if userinfo {
            &self.userinfo
        } else {
            &self.id_token
        };
        names.iter().filter_map(|n| Claim::parse(n))
    }
}

/// The known acr levels listed in an `acr` member (`value` or `values`).
fn acr_values(spec: &Value) -> Result<Vec<Level>, OAuthError> {
    let mut levels = Vec::new();
    if let Some(value) = spec.get("value") {
        let s = value
            .as_str()
            .ok_or_else(|| OAuthError::invalid_request("claims acr value must be a string"))?;
        levels.extend(Level::from_acr(s));
    }
    if let Some(values) = spec.get("values") {
        let list = values
            .as_array()
            .ok_or_else(|| OAuthError::invalid_request("claims acr values must be an array"))?;
        for v in list {
            let s = v
                .as_str()
                .ok_or_else(|| OAuthError::invalid_request("claims acr values must be strings"))?;
            levels.extend(Level::from_acr(s));
        }
    }
    Ok(levels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn essential_acr_values_give_the_lowest_level() {
        let r = ClaimsRequest::parse(
            r#"{"id_token":{"acr":{"essential":true,"values":["urn:vneid:acr:level2"]},"name":null}}"#,
        )
        .unwrap();
        assert_eq!(r.acr, Some(Level::Level2));
        assert!(r.id_token.contains("name"));
        let r = ClaimsRequest::parse(
            r#"{"id_token":{"acr":{"values":["urn:vneid:acr:level2","urn:vneid:acr:level1"]}}}"#,
        )
        .unwrap();
        assert_eq!(r.acr, Some(Level::Level1));
    }

    #[test]
    fn malformed_requests_are_invalid_request() {
        for bad in [
            "[]",
            "{",
            r#"{"id_token":[]}"#,
            r#"{"userinfo":{"name":1}}"#,
            r#"{"id_token":{"acr":{"values":"x"}}}"#,
        ] {
            assert!(ClaimsRequest::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn claims_outside_the_registration_are_dropped() {
        let mut r = ClaimsRequest::parse(
            r#"{"userinfo":{"name":{"essential":true},"documents":null},"id_token":{"email":null}}"#,
        )
        .unwrap();
        r.keep_allowed(&vneid_contract::ScopeSet::parse("openid profile").unwrap());
        assert_eq!(r.userinfo, BTreeSet::from(["name".to_string()]));
        assert!(r.id_token.is_empty());
    }

    #[test]
    fn unknown_claims_and_members_are_ignored() {
        let r = ClaimsRequest::parse(r#"{"userinfo":{"shoe_size":null,"email":null},"other":1}"#)
            .unwrap();
        assert_eq!(r.userinfo.len(), 1);
    }
}
