//! What the national app submits, parsed and checked for form only: nothing here depends on
//! the registry, so a 400 teaches nothing about a person.

use serde::{Deserialize, Serialize};
use vneid_contract::AccountKind;

use crate::registry::import::check_identity;
use crate::registry::{Dimensions, Template};

/// What the app submits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    /// `citizen` (default) or `foreigner`.
    #[serde(default = "citizen")]
    pub kind: String,
    pub id_number: String,
    /// What the applicant typed in the app: recorded with the submission, checked for form,
    /// never used to send anything (the registry's contact is).
    #[serde(default)]
    pub phone_number: Option<String>,
    /// See `phone_number`.
    #[serde(default)]
    pub email: Option<String>,
    pub family_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
    pub given_name: String,
    pub birthdate: String,
    pub gender: String,
    #[serde(default)]
    pub nationality: Option<String>,
    /// A parent's or guardian's identification number (applicants under 14).
    #[serde(default)]
    pub guardian_id_number: Option<String>,
    /// The portrait captured by the app, as a template.
    #[serde(skip_serializing)]
    pub portrait: Capture,
}

fn citizen() -> String {
    "citizen".into()
}

/// A capture: a template, the device that made it, and the portrait photo (a base64 JPEG) that
/// becomes the account's portrait on approval.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    pub template: Vec<f32>,
    pub device_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo: Option<String>,
}

/// A field that is malformed (its form only: nothing about the registry).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// A well-formed submission, parsed.
#[derive(Debug)]
pub struct Submission {
    pub request: RegistrationRequest,
    pub kind: AccountKind,
    pub birthdate: time::Date,
    pub template: Template,
    /// The portrait photo's JPEG bytes, if the app sent one.
    pub photo: Option<Vec<u8>>,
}

/// Parses and checks a request body: a submission, or every malformed field. Only the form is
/// checked (nothing here depends on the registry); a template of another size than the devices
/// make is malformed.
pub fn parse(body: &[u8], dimensions: Dimensions) -> Result<Submission, Vec<FieldError>> {
    let request: RegistrationRequest = serde_json::from_slice(body).map_err(|e| {
        vec![FieldError {
            field: "body".into(),
            reason: format!("not a valid registration: {e}"),
        }]
    })?;
    validate(request, dimensions)
}

fn validate(r: RegistrationRequest, dimensions: Dimensions) -> Result<Submission, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut err = |field: &str, reason: String| {
        errors.push(FieldError {
            field: field.into(),
            reason,
        })
    };
    let kind = match AccountKind::parse(&r.kind) {
        Some(k @ (AccountKind::Citizen | AccountKind::Foreigner)) => Some(k),
        _ => {
            err("kind", "must be `citizen` or `foreigner`".into());
            None
        }
    };
    let birthdate = match kind.map(|k| check_identity(k, &r.id_number, &r.birthdate, &r.gender)) {
        Some(Ok((date, _))) => Some(date),
        Some(Err((field, reason))) => {
            err(field, reason);
            None
        }
        None => None,
    };
    for (field, value) in [
        ("family_name", &r.family_name),
        ("given_name", &r.given_name),
    ] {
        if value.trim().is_empty() || value.chars().count() > 100 {
            err(field, "must be 1 to 100 characters".into());
        }
    }
    if r.middle_name
        .as_deref()
        .is_some_and(|m| m.chars().count() > 100)
    {
        err("middle_name", "must be at most 100 characters".into());
    }
    if r.phone_number
        .as_deref()
        .is_some_and(|p| !crate::accounts::contact::is_phone(p))
    {
        err(
            "phone_number",
            "must be a Vietnamese number in E.164 form, +84 and 9 or 10 digits".into(),
        );
    }
    if r.email
        .as_deref()
        .is_some_and(|e| !crate::accounts::contact::is_email(e))
    {
        err("email", "is not an email address".into());
    }
    if r.guardian_id_number.as_deref().is_some_and(|g| {
        g.is_empty() || g.len() > 20 || !g.bytes().all(|b| b.is_ascii_alphanumeric())
    }) {
        err(
            "guardian_id_number",
            "must be 1 to 20 letters or digits".into(),
        );
    }
    if kind == Some(AccountKind::Foreigner) {
        let n = r.nationality.as_deref().unwrap_or("");
        if n.len() != 2 || !n.bytes().all(|b| b.is_ascii_uppercase()) {
            err(
                "nationality",
                "a foreigner gives an ISO 3166-1 alpha-2 nationality".into(),
            );
        }
    }
    if r.portrait.device_id.trim().is_empty() || r.portrait.device_id.chars().count() > 100 {
        err("portrait.device_id", "must be 1 to 100 characters".into());
    }
    let template = if r.portrait.template.len() != dimensions.portrait {
        err(
            "portrait.template",
            format!("a portrait template has {} numbers", dimensions.portrait),
        );
        None
    } else {
        match Template::new(r.portrait.template.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                err("portrait.template", e.to_string());
                None
            }
        }
    };
    let photo = match r
        .portrait
        .photo
        .as_deref()
        .map(crate::accounts::portrait::decode_photo)
    {
        None => None,
        Some(Ok(bytes)) => Some(bytes),
        Some(Err(e)) => {
            err("portrait.photo", e.to_string());
            None
        }
    };
    match (kind, birthdate, template, errors.is_empty()) {
        (Some(kind), Some(birthdate), Some(template), true) => Ok(Submission {
            request: r,
            kind,
            birthdate,
            template,
            photo,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    fn valid() -> Value {
        json!({
            "id_number": "001301000123", "family_name": "Lê", "middle_name": "Minh", "given_name": "Châu",
            "birthdate": "2001-04-02", "gender": "female", "phone_number": "+84912345678",
            "portrait": { "template": (0..64).map(|i| (i % 7) as f32 - 3.0).collect::<Vec<_>>(), "device_id": "phone-1" }
        })
    }

    fn dims() -> Dimensions {
        Dimensions { portrait: 64 }
    }

    /// Parses, and checks the answer is a submission or a clear list of malformed fields.
    fn check(body: &[u8]) -> Result<(), TestCaseError> {
        match parse(body, dims()) {
            Ok(s) => {
                prop_assert_eq!(s.template.values().len(), 64);
                prop_assert!(matches!(
                    s.kind,
                    AccountKind::Citizen | AccountKind::Foreigner
                ));
            }
            Err(fields) => {
                prop_assert!(!fields.is_empty());
                for f in &fields {
                    prop_assert!(!f.field.is_empty() && !f.reason.is_empty(), "{:?}", f);
                }
            }
        }
        Ok(())
    }

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<f64>().prop_map(|n| json!(n)),
            any::<String>().prop_map(Value::String),
            "[0-9+@.a-z-]{0,14}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..70).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_.]{1,12}", inner, 0..8)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    const FIELDS: [&str; 13] = [
        "kind",
        "id_number",
        "phone_number",
        "email",
        "family_name",
        "middle_name",
        "given_name",
        "birthdate",
        "gender",
        "nationality",
        "guardian_id_number",
        "portrait",
        "extra",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            check(&bytes)?;
        }

        #[test]
        fn arbitrary_json_never_panics(value in any_json()) {
            check(value.to_string().as_bytes())?;
        }

        /// A valid body with some fields replaced by anything, removed, or added.
        #[test]
        fn mutated_registrations_are_decided_or_clearly_malformed(
            changes in prop::collection::vec((0..FIELDS.len(), prop::option::of(any_json())), 0..5),
            template in prop::option::of(prop::collection::vec(any::<f32>(), 0..80)),
        ) {
            let mut body = valid();
            for (i, value) in changes {
                match value {
                    Some(v) => body[FIELDS[i]] = v,
                    None => { body.as_object_mut().unwrap().remove(FIELDS[i]); }
                }
            }
            if let Some(t) = template && body["portrait"].is_object() {
                body["portrait"]["template"] = json!(t);
            }
            check(body.to_string().as_bytes())?;
        }
    }

    #[test]
    fn a_template_of_another_size_is_malformed_not_scored() {
        let mut body = valid();
        assert!(parse(body.to_string().as_bytes(), dims()).is_ok());
        for len in [16, 63, 65, 128] {
            body["portrait"]["template"] = json!(vec![1.0; len]);
            let fields = parse(body.to_string().as_bytes(), dims()).unwrap_err();
            assert_eq!(fields[0].field, "portrait.template", "{len}");
        }
    }
}
