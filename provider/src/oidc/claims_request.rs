//! The `claims` request parameter (OpenID Connect Core 5.5): individual claims for the ID token
//! and UserInfo, and the `acr` a relying party insists on.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use vneid_contract::{Claim, Level, Predicate};

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
                // Unknown claims are ignored, as Core 5.5 says; known ones (and predicate
                // claims such as `age_over_18`) are remembered.
                if Claim::parse(name).is_some() || Predicate::parse(name).is_some() {
                    names.insert(name.clone());
                }
            }
        }
        Ok(request)
    }

    /// Drops the claims asked for individually whose scope this client may not ask for: `claims`
    /// releases a claim outside the requested scopes (Core 5.5), never outside the registration.
    pub fn keep_allowed(&mut self, allowed: &vneid_contract::ScopeSet) {
        // Predicates belong to no scope: they are kept here and restricted to what the client
        // registered by `oidc::predicates::restrict`.
        let ok = |name: &String| {
            Predicate::parse(name).is_some()
                || Claim::parse(name)
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

    /// The predicate claims asked for `target`.
    pub fn predicates(&self, userinfo: bool) -> impl Iterator<Item = Predicate> + '_ {
        let names = if userinfo {
            &self.userinfo
        } else {
            &self.id_token
        };
        names.iter().filter_map(|n| Predicate::parse(n))
    }

    /// Forgets the predicates `allowed` refuses (ignored, like an unknown claim).
    pub fn retain_predicates(&mut self, allowed: impl Fn(Predicate) -> bool) {
        let keep = |n: &String| Predicate::parse(n).is_none_or(&allowed);
        self.id_token.retain(keep);
        self.userinfo.retain(keep);
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
    fn predicates_are_kept_per_target_and_can_be_restricted() {
        let mut r = ClaimsRequest::parse(
            r#"{"userinfo":{"age_over_18":null,"age_over_21":null,"age_over_018":null},
                "id_token":{"document_valid:passport":null,"name":null}}"#,
        )
        .unwrap();
        assert_eq!(
            r.predicates(true).collect::<Vec<_>>(),
            [Predicate::AgeOver(18), Predicate::AgeOver(21)]
        );
        assert_eq!(r.predicates(false).count(), 1);
        assert_eq!(r.claims(true).count(), 0);
        r.retain_predicates(|p| p != Predicate::AgeOver(21));
        assert_eq!(
            r.predicates(true).collect::<Vec<_>>(),
            [Predicate::AgeOver(18)]
        );
        assert!(r.id_token.contains("name"));
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

    #[test]
    fn deeply_nested_json_is_refused_without_exhausting_the_stack() {
        for deep in [
            format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
            format!(
                "{{\"id_token\":{}null{}}}",
                "{\"a\":".repeat(50_000),
                "}".repeat(50_000)
            ),
        ] {
            let e = ClaimsRequest::parse(&deep).unwrap_err();
            assert_eq!(e.code, super::super::error::ErrorCode::InvalidRequest);
        }
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::Value;
        use vneid_contract::{ACR_LEVEL1, ACR_LEVEL2, Claim};

        use super::super::ClaimsRequest;
        use crate::oidc::error::ErrorCode;

        /// Member names a `claims` parameter is made of, and some that are not.
        fn member_name() -> BoxedStrategy<String> {
            prop_oneof![
                prop::sample::select(vec![
                    "id_token",
                    "userinfo",
                    "acr",
                    "value",
                    "values",
                    "essential",
                    "verified_claims",
                    "purpose",
                ])
                .prop_map(str::to_string),
                prop::sample::select(Claim::ALL.to_vec()).prop_map(|c| c.as_str().to_string()),
                ".{0,8}",
            ]
            .boxed()
        }

        /// Any JSON, biased towards the shapes of a `claims` parameter.
        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                any::<f64>().prop_map(Value::from),
                prop::sample::select(vec![ACR_LEVEL1, ACR_LEVEL2, "urn:vneid:acr:level3", ""])
                    .prop_map(Value::from),
                ".{0,12}".prop_map(Value::String),
            ];
            leaf.prop_recursive(5, 96, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                    prop::collection::btree_map(member_name(), inner, 0..6)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        /// What a successful parse may hold, whatever the input: known claim names only,
        /// `acr` only when one of the known acr values was in the request.
        fn well_formed(request: &ClaimsRequest, input: &str) -> Result<(), TestCaseError> {
            for name in request.id_token.iter().chain(&request.userinfo) {
                prop_assert!(
                    Claim::parse(name).is_some()
                        || vneid_contract::Predicate::parse(name).is_some(),
                    "{name}"
                );
                prop_assert!(name != "acr" && name != "verified_claims");
            }
            if let Some(level) = request.acr {
                prop_assert!(input.contains(level.acr()), "{level:?} from {input}");
            }
            if request.verified_claims {
                prop_assert!(input.contains("verified_claims"));
            }
            Ok(())
        }

        proptest! {
            /// Any text: a request or `invalid_request`, never a panic.
            #[test]
            fn any_text_is_a_request_or_invalid_request(input in any::<String>()) {
                match ClaimsRequest::parse(&input) {
                    Ok(request) => well_formed(&request, &input)?,
                    Err(e) => {
                        prop_assert_eq!(e.code, ErrorCode::InvalidRequest);
                        prop_assert!(!e.description.is_empty());
                    }
                }
            }

            /// Any JSON: an object of the right shape parses, anything else is
            /// `invalid_request` naming the problem.
            #[test]
            fn any_json_is_a_request_or_invalid_request(value in json()) {
                let input = value.to_string();
                match ClaimsRequest::parse(&input) {
                    Ok(request) => {
                        prop_assert!(value.is_object());
                        well_formed(&request, &input)?;
                    }
                    Err(e) => {
                        prop_assert_eq!(e.code, ErrorCode::InvalidRequest);
                        prop_assert!(e.description.contains("claims"), "{}", e.description);
                    }
                }
            }

            /// Well-formed requests for known claims are understood: every name asked for is
            /// kept for its target, and the lowest known acr asked for is the level.
            #[test]
            fn well_formed_requests_keep_every_known_claim(
                id_token in prop::collection::btree_set(prop::sample::select(Claim::ALL.to_vec()), 0..6),
                userinfo in prop::collection::btree_set(prop::sample::select(Claim::ALL.to_vec()), 0..6),
                essential in any::<bool>(),
                acrs in prop::collection::vec(prop::sample::select(vec![ACR_LEVEL1, ACR_LEVEL2, "urn:other"]), 0..3),
            ) {
                let members = |set: &std::collections::BTreeSet<Claim>| -> serde_json::Map<String, Value> {
                    set.iter()
                        .map(|c| {
                            let spec = if essential { serde_json::json!({ "essential": true }) } else { Value::Null };
                            (c.as_str().to_string(), spec)
                        })
                        .collect()
                };
                let mut ask_id_token = members(&id_token);
                if !acrs.is_empty() {
                    ask_id_token.insert("acr".into(), serde_json::json!({ "essential": essential, "values": acrs }));
                }
                let input = serde_json::json!({ "id_token": ask_id_token, "userinfo": members(&userinfo) }).to_string();
                let request = ClaimsRequest::parse(&input).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let named = |set: &std::collections::BTreeSet<Claim>| -> std::collections::BTreeSet<String> {
                    set.iter()
                        .filter(|c| **c != Claim::Acr && **c != Claim::VerifiedClaims)
                        .map(|c| c.as_str().to_string())
                        .collect()
                };
                prop_assert_eq!(&request.id_token, &named(&id_token));
                prop_assert_eq!(&request.userinfo, &named(&userinfo));
                let lowest = acrs.iter().filter_map(|a| vneid_contract::Level::from_acr(a)).min();
                prop_assert_eq!(request.acr, lowest);
                prop_assert_eq!(
                    request.verified_claims,
                    id_token.contains(&Claim::VerifiedClaims) || userinfo.contains(&Claim::VerifiedClaims)
                );
            }
        }
    }
}
