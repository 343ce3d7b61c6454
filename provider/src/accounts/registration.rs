//! Level 1 registration from the mobile app (Decree 59 Art. 14, Decree 69 age rules): the
//! declared data and the portrait template are checked against the population registry; the
//! decision, the account and the notification are one transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;
use vneid_contract::AccountKind;

use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::registry::import::check_identity;
use crate::registry::{MatchOutcome, Modality, RegistryError, RegistryPerson, Template};
use crate::state::AppState;
use crate::store::{self, AuditEvent, NewAccount, RegistrationRow, StoreError};

/// What the app submits.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationRequest {
    /// `citizen` (default) or `foreigner`.
    #[serde(default = "citizen")]
    pub kind: String,
    pub id_number: String,
    #[serde(default)]
    pub phone_number: Option<String>,
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

/// A capture: a template and the device that made it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capture {
    pub template: Vec<f32>,
    pub device_id: String,
}

/// A field that is malformed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

/// Why a well-formed request was refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Reason {
    /// A stable code (`not_in_registry`, `data_mismatch`, `portrait_mismatch`, `under_age`, ...).
    pub code: String,
    /// The field concerned, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a person.
    pub message: String,
}

fn reason(code: &str, field: Option<&str>, message: impl Into<String>) -> Reason {
    Reason {
        code: code.into(),
        field: field.map(Into::into),
        message: message.into(),
    }
}

/// The outcome.
#[derive(Debug)]
pub enum Outcome {
    /// Malformed: nothing was recorded.
    Invalid(Vec<FieldError>),
    /// Already an account, or the same submission again: nothing new was recorded.
    Conflict(String),
    /// Decided and recorded.
    Decided(RegistrationRow),
    /// The same submission (same Idempotency-Key) again: its decision.
    Replayed(RegistrationRow),
}

/// A checked request.
struct Checked {
    kind: AccountKind,
    birthdate: time::Date,
    template: Template,
}

fn validate(r: &RegistrationRequest) -> Result<Checked, Vec<FieldError>> {
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
    if r.phone_number.is_none() && r.email.is_none() {
        err(
            "phone_number",
            "give a phone number or an email address".into(),
        );
    }
    if r.phone_number
        .as_deref()
        .is_some_and(|p| !super::contact::is_phone(p))
    {
        err(
            "phone_number",
            "must be a Vietnamese number in E.164 form, +84 and 9 or 10 digits".into(),
        );
    }
    if r.email
        .as_deref()
        .is_some_and(|e| !super::contact::is_email(e))
    {
        err("email", "is not an email address".into());
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
    if r.portrait.device_id.trim().is_empty() || r.portrait.device_id.len() > 100 {
        err("portrait.device_id", "must be 1 to 100 characters".into());
    }
    let template = match Template::new(r.portrait.template.clone()) {
        Ok(t) => Some(t),
        Err(e) => {
            err("portrait.template", e.to_string());
            None
        }
    };
    match (kind, birthdate, template, errors.is_empty()) {
        (Some(kind), Some(birthdate), Some(template), true) => Ok(Checked {
            kind,
            birthdate,
            template,
        }),
        _ => Err(errors),
    }
}

/// Full years between two dates.
pub fn age_on(birthdate: time::Date, today: time::Date) -> i32 {
    let mut age = today.year() - birthdate.year();
    if (today.month() as u8, today.day()) < (birthdate.month() as u8, birthdate.day()) {
        age -= 1;
    }
    age
}

fn same(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// Compares the declared data with the registry record.
fn mismatches(r: &RegistrationRequest, p: &RegistryPerson, kind: AccountKind) -> Vec<Reason> {
    let mut out = Vec::new();
    let mut check = |field: &str, ok: bool| {
        if !ok {
            out.push(reason(
                "data_mismatch",
                Some(field),
                format!("the declared {field} differs from the population registry"),
            ));
        }
    };
    check("kind", p.kind == kind);
    check("family_name", same(&r.family_name, &p.family_name));
    check(
        "middle_name",
        same(
            r.middle_name.as_deref().unwrap_or(""),
            p.middle_name.as_deref().unwrap_or(""),
        ),
    );
    check("given_name", same(&r.given_name, &p.given_name));
    check("birthdate", r.birthdate == p.birthdate);
    check("gender", r.gender == p.gender.as_str());
    if kind == AccountKind::Foreigner {
        check("nationality", r.nationality == p.nationality);
    }
    out
}

/// Decides a submission and records it (with the account on approval).
pub async fn register(
    state: &AppState,
    request: RegistrationRequest,
    idempotency_key: Option<String>,
) -> Result<Outcome, AppError> {
    let checked = match validate(&request) {
        Ok(c) => c,
        Err(errors) => return Ok(Outcome::Invalid(errors)),
    };
    if let Some(key) = &idempotency_key
        && let Some(existing) = state.store.registration_by_key(key).await?
    {
        return Ok(if existing.id_number == request.id_number {
            Outcome::Replayed(existing)
        } else {
            Outcome::Conflict(
                "this Idempotency-Key was used for another identification number".into(),
            )
        });
    }
    if state
        .store
        .account_by_username(&request.id_number)
        .await?
        .is_some()
    {
        return Ok(Outcome::Conflict(
            "an account with this identification number exists already".into(),
        ));
    }
    let now = state.now();
    let today = time::OffsetDateTime::from_unix_timestamp(now)
        .map(|t| t.date())
        .unwrap_or(checked.birthdate);
    let mut reasons = Vec::new();
    let mut evidence = Vec::new();
    let person = state
        .registry
        .person(&request.id_number)
        .await
        .map_err(registry_failure)?;
    match &person {
        None => reasons.push(reason(
            "not_in_registry",
            Some("id_number"),
            "this identification number is not in the population registry",
        )),
        Some(p) => {
            reasons.extend(mismatches(&request, p, checked.kind));
            let age = age_on(checked.birthdate, today);
            let guardian_ok = match &request.guardian_id_number {
                Some(g) => state
                    .store
                    .account_by_username(g)
                    .await?
                    .is_some_and(|a| a.status == "active"),
                None => false,
            };
            if age < 14 && !guardian_ok {
                reasons.push(reason(
                    "under_age",
                    Some("birthdate"),
                    format!("applicants under 14 (this one is {age}) are registered at the request of a parent or guardian who holds an account: give guardian_id_number"),
                ));
            }
            if checked.kind == AccountKind::Foreigner {
                let valid_card = p
                    .residence_card
                    .as_ref()
                    .is_some_and(|c| c.expires_on.as_str() > today.to_string().as_str());
                if !valid_card && age >= 6 {
                    reasons.push(reason(
                        "no_residence_card",
                        None,
                        "a foreigner needs a valid permanent or temporary residence card on record",
                    ));
                }
            }
            match state
                .registry
                .match_template(&request.id_number, &Modality::Portrait, &checked.template)
                .await
            {
                Ok(outcome) => {
                    if !outcome.matched {
                        reasons.push(reason("portrait_mismatch", Some("portrait.template"), format!("the portrait does not match the enrolled one (score {:.2}, needed {:.2})", outcome.score, outcome.threshold)));
                    }
                    evidence.push(portrait_evidence(
                        &outcome,
                        &request.portrait.device_id,
                        now,
                    ));
                }
                Err(RegistryError::NotEnrolled(_)) => reasons.push(reason(
                    "no_enrolled_portrait",
                    None,
                    "the registry holds no portrait to compare with",
                )),
                Err(e) => return Err(registry_failure(e)),
            }
        }
    }
    let approved = reasons.is_empty();
    let mut row = RegistrationRow {
        id: crate::secret::new_id(),
        id_number: request.id_number.clone(),
        channel: "app".into(),
        status: if approved { "approved" } else { "refused" }.into(),
        reasons: (!approved).then(|| json!(reasons).to_string()),
        submission: serde_json::to_string(&request)?,
        idempotency_key,
        account_id: None,
        evidence: Some(json!(evidence).to_string()),
        created_at: now,
        decided_at: Some(now),
    };
    let mut tx = state.store.begin().await?;
    let (channel, recipient) = match (&request.phone_number, &request.email) {
        (Some(phone), _) => (Channel::Sms, phone.clone()),
        (None, Some(email)) => (Channel::Email, email.clone()),
        (None, None) => unreachable!("validated: a phone number or an email address"),
    };
    let notification = if let (true, Some(p)) = (approved, &person) {
        let password = crate::secret::random_token(9);
        let account = NewAccount {
            id: crate::secret::new_id(),
            kind: checked.kind.as_str().into(),
            level: 1,
            username: request.id_number.clone(),
            password_hash: crate::accounts::password::hash(password.clone()).await?,
            totp_secret: None,
            family_name: p.family_name.clone(),
            middle_name: p.middle_name.clone(),
            given_name: p.given_name.clone(),
            birthdate: p.birthdate.clone(),
            gender: p.gender.as_str().into(),
            nationality: p.nationality.clone(),
            travel_document: p
                .travel_document
                .as_ref()
                .and_then(|t| serde_json::to_string(t).ok()),
            portrait_jpeg: None,
            phone_number: request.phone_number.clone(),
            email: request.email.clone(),
            verification_evidence: Some(level1_evidence(&evidence)),
            must_change_password: true,
        };
        row.account_id = Some(account.id.clone());
        match store::insert_account(&mut tx, &account, &[], now).await {
            Err(StoreError::Duplicate(_)) => {
                return Ok(Outcome::Conflict(
                    "an account with this identification number exists already".into(),
                ));
            }
            other => other?,
        }
        Notification {
            channel,
            recipient: &recipient,
            subject: "VNeID",
            body: format!("VNeID: tai khoan dinh danh dien tu muc 1 cua ban da duoc tao. Mat khau lan dau: {password} (doi mat khau khi dang nhap lan dau)."),
            kind: "first_password",
            account_id: Some(&account.id),
            secret: true,
        }
        .row(now)
    } else {
        let codes: Vec<&str> = reasons.iter().map(|r| r.code.as_str()).collect();
        Notification {
            channel,
            recipient: &recipient,
            subject: "VNeID",
            body: format!(
                "VNeID: de nghi dang ky tai khoan muc 1 bi tu choi ({}). Ma ho so: {}.",
                codes.join(", "),
                row.id
            ),
            kind: "registration_refused",
            account_id: None,
            secret: false,
        }
        .row(now)
    };
    store::insert_registration(&mut tx, &row).await?;
    store::enqueue(&mut tx, &notification).await?;
    let event = AuditEvent {
        kind: if approved {
            "registration_approved"
        } else {
            "registration_refused"
        },
        account_id: row.account_id.as_deref(),
        client_id: None,
        detail: json!({ "registration": row.id, "channel": "app", "reasons": reasons.iter().map(|r| &r.code).collect::<Vec<_>>() }),
    };
    store::audit_in(&mut *tx, event, now).await?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(registration = %row.id, status = %row.status, "level 1 registration decided");
    Ok(Outcome::Decided(row))
}

fn registry_failure(e: RegistryError) -> AppError {
    AppError::Registry(e.to_string())
}

fn portrait_evidence(outcome: &MatchOutcome, device: &str, now: i64) -> serde_json::Value {
    json!({
        "method": "portrait_match",
        "modality": outcome.modality,
        "score": outcome.score,
        "threshold": outcome.threshold,
        "matched": outcome.matched,
        "device": device,
        "time": now,
    })
}

fn level1_evidence(checks: &[serde_json::Value]) -> String {
    json!([{
        "type": "electronic_record",
        "check_details": [{ "check_method": "data", "organization": "Bộ Công an" }, { "check_method": "bvr" }],
        "record": { "type": "population_register", "source": { "name": "Cơ sở dữ liệu quốc gia về dân cư", "country_code": "VN" } },
        "checks": checks,
    }])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_count_full_years() {
        let d = |y, m, day| {
            time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), day).unwrap()
        };
        assert_eq!(age_on(d(2012, 5, 10), d(2026, 5, 9)), 13);
        assert_eq!(age_on(d(2012, 5, 10), d(2026, 5, 10)), 14);
    }
}
