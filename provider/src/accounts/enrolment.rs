//! Level 2 at the desk: the biometric verification (match or no match, audited either way) and
//! the enrolment that uses it (consent, eligibility, the documents chosen, the second factor, the
//! notice to the contact on record), as one transaction.
//!
//! [`plan`] is the pure rule; [`verify`] and [`enrol`] run it against the registry and the store.

use std::collections::BTreeSet;

use serde_json::json;

use crate::accounts::account::{Account, AccountId};
use crate::accounts::capture::Kept;
use crate::accounts::desk::{Officer, VerificationRefused, usable_verification};
use crate::accounts::desk_guardian::{self, Approval};
use crate::accounts::eligibility::{self, Ineligible};
use crate::accounts::{contact, evidence, password};
use crate::error::AppError;
use crate::notify::{Channel, Notification};
use crate::registry::{Modality, RegistryPerson};
use crate::state::AppState;
use crate::store::{AuditEvent, Enrolment, GuardianLink, NewAccount, NewDocument, VerificationRow};

/// The officer at work: who, and in which desk session (the station's terminal).
#[derive(Debug, Clone)]
pub struct Desk {
    pub officer: Officer,
    /// The hash of the desk session's cookie.
    pub session_hash: String,
}

impl Desk {
    /// Who did it, for an audit event: the officer, their station, and a reference to the desk
    /// session (a prefix of its hash).
    pub fn actor(&self) -> serde_json::Value {
        json!({
            "officer": self.officer.id.as_str(),
            "station": self.officer.station,
            "session": self.session_hash.get(..12).unwrap_or(""),
        })
    }

    /// An audit event of kind `kind` by this officer, with `detail` merged in.
    pub fn event<'a>(
        &self,
        kind: &'static str,
        account_id: Option<&'a str>,
        detail: serde_json::Value,
    ) -> AuditEvent<'a> {
        let mut all = self.actor();
        if let (Some(all), serde_json::Value::Object(more)) = (all.as_object_mut(), detail) {
            all.extend(more);
        }
        AuditEvent {
            kind,
            account_id,
            client_id: None,
            detail: all,
        }
    }
}

pub use super::capture::{Capture, CaptureError, CaptureFields};

/// One modality's result as the officer sees it: match or no match, never a score.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    pub modality: Modality,
    /// `None`: the registry could not compare (nothing enrolled, or it failed).
    pub matched: Option<bool>,
}

/// The outcome of a verification.
#[derive(Debug, Clone)]
pub struct Verified {
    pub person: RegistryPerson,
    pub results: Vec<Compared>,
    /// The verification to enrol with, when every modality matched.
    pub verification: Option<String>,
    /// The account the person holds, if any.
    pub existing: Option<Account>,
}

impl Verified {
    /// Whether every modality matched.
    pub fn matched(&self) -> bool {
        self.verification.is_some()
    }
}

/// Compares the captured templates with the registry's, records and audits the result (matched
/// or not; scores only in the audit and the desk's evidence, never on a page). `None`: the
/// person is not in the registry (audited too).
pub async fn verify(
    state: &AppState,
    desk: &Desk,
    capture: Capture,
) -> Result<Option<Verified>, AppError> {
    let now = state.now();
    let person = state
        .registry
        .person(&capture.id_number)
        .await
        .map_err(|e| AppError::Registry(e.to_string()))?;
    let Some(person) = person else {
        let event = desk.event(
            "desk_verification",
            None,
            json!({ "id_number": capture.id_number, "device": capture.device, "matched": false, "found": false }),
        );
        state.store.audit(event, now).await?;
        return Ok(None);
    };
    let mut results = Vec::new();
    let mut checks = Vec::new();
    let probes = std::iter::once((Modality::Portrait, &capture.portrait))
        .chain(capture.fingers.iter().map(|(m, t)| (m.clone(), t)));
    for (modality, probe) in probes {
        match state
            .registry
            .match_template(&person.id_number, &modality, probe)
            .await
        {
            Ok(m) => {
                checks.push(json!({ "modality": m.modality, "matched": m.matched, "score": m.score, "threshold": m.threshold }));
                results.push(Compared {
                    modality,
                    matched: Some(m.matched),
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, modality = %modality.as_string(), "desk comparison failed");
                checks.push(json!({ "modality": modality.as_string(), "matched": false, "error": e.to_string() }));
                results.push(Compared {
                    modality,
                    matched: None,
                });
            }
        }
    }
    let matched = results.iter().all(|r| r.matched == Some(true));
    let existing = match state.store.account_by_username(&person.id_number).await? {
        Some(row) => Some(Account::try_from(&row)?),
        None => None,
    };
    let row = matched.then(|| VerificationRow {
        id: crate::secret::new_id(),
        officer_id: desk.officer.id.as_str().to_string(),
        id_number: person.id_number.clone(),
        evidence: json!({ "checks": checks, "device": capture.device, "officer": desk.officer.id.as_str(), "station": desk.officer.station, "time": now }).to_string(),
        station: desk.officer.station.clone(),
        session_hash: desk.session_hash.clone(),
        expires_at: now + state.config.lifetimes.desk_verification,
        used_at: None,
    });
    let event = desk.event(
        "desk_verification",
        existing.as_ref().map(|a| a.id.as_str()),
        json!({ "id_number": person.id_number, "device": capture.device, "matched": matched, "found": true,
                "checks": checks, "verification": row.as_ref().map(|v| v.id.clone()) }),
    );
    let kept = match &row {
        Some(_) => Some(capture.kept(&state.sealer)?),
        None => None,
    };
    state
        .store
        .record_verification(row.as_ref(), kept.as_deref(), event, now)
        .await?;
    Ok(Some(Verified {
        person,
        results,
        verification: row.map(|v| v.id),
        existing,
    }))
}

/// What the officer submits to enrol.
#[derive(Debug, Clone, Default)]
pub struct EnrolRequest {
    pub verification: String,
    /// The citizen's consent, confirmed by the officer.
    pub consent: bool,
    /// Which of the registry's documents to integrate (their positions).
    pub documents: BTreeSet<usize>,
    /// For a new account only: the contact it is created with. An upgrade's notice goes to the
    /// contact on record, whatever is typed here.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Under 14: the identification number of the parent or guardian making the request.
    pub guardian_id_number: Option<String>,
}

/// Why an enrolment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnrolError {
    #[error("the citizen's consent is required")]
    NoConsent,
    #[error(transparent)]
    Verification(#[from] VerificationRefused),
    #[error("not in the registry")]
    NotInRegistry,
    #[error(transparent)]
    Ineligible(#[from] Ineligible),
    #[error("the phone number must be +84 and 9-10 digits")]
    BadPhone,
    #[error("the email address is not valid")]
    BadEmail,
    #[error("a phone number or email address is needed")]
    NoContact,
    /// Under 14 and no parent or guardian recorded in the registry, holding an active account,
    /// makes the request.
    #[error("under 14, a recorded parent or guardian with an active account must request")]
    GuardianRequired,
    /// The guardian was asked to approve in their own session (told on `notified`, masked)
    /// and has not yet: nothing is written; the officer submits again once they have.
    #[error("waiting for the guardian's approval")]
    AwaitingGuardian { notified: String },
    /// The guardian denied the request in their own session.
    #[error("the guardian denied the request")]
    GuardianDenied,
}

impl EnrolError {
    /// The name written in the audit log.
    pub fn as_str(&self) -> &'static str {
        match self {
            EnrolError::NoConsent => "no_consent",
            EnrolError::Verification(v) => v.as_str(),
            EnrolError::NotInRegistry => "not_in_registry",
            EnrolError::Ineligible(_) => "ineligible",
            EnrolError::BadPhone => "bad_phone",
            EnrolError::BadEmail => "bad_email",
            EnrolError::NoContact => "no_contact",
            EnrolError::GuardianRequired => "guardian_required",
            EnrolError::AwaitingGuardian { .. } => "awaiting_guardian",
            EnrolError::GuardianDenied => "guardian_denied",
        }
    }
}

/// Where a notice goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub channel: Channel,
    pub address: String,
}

impl Recipient {
    /// The address with its middle hidden, for the desk's page.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.address.chars().collect();
        let keep = 3.min(chars.len() / 3);
        let head: String = chars[..keep].iter().collect();
        let tail: String = chars[chars.len() - keep..].iter().collect();
        format!("{head}{}{tail}", "*".repeat(chars.len() - 2 * keep))
    }
}

/// What an enrolment does.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Upgrade this account, or create one (`None`).
    pub upgrade: Option<AccountId>,
    /// For a new account: its contact.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// Where the notice (and a new account's first password) goes.
    pub recipient: Recipient,
    pub documents: Vec<NewDocument>,
}

fn optional(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The rule: consent, eligibility on `today`, the documents chosen, and where the notice goes
/// (an upgrade: the contact on record of the account; a new account: the contact given).
pub fn plan(
    person: &RegistryPerson,
    existing: Option<&Account>,
    request: &EnrolRequest,
    today: time::Date,
) -> Result<Plan, EnrolError> {
    if !request.consent {
        return Err(EnrolError::NoConsent);
    }
    eligibility::level2(person, existing, today)?;
    let documents = person
        .documents
        .iter()
        .enumerate()
        .filter(|(i, _)| request.documents.contains(i))
        .map(|(_, d)| NewDocument {
            doc_type: d.doc_type.as_str().into(),
            number: d.number.clone(),
            issued_on: d.issued_on.clone(),
            expires_on: d.expires_on.clone(),
            issuer: d.issuer.clone(),
            details: (!d.details.is_empty()).then(|| json!(d.details).to_string()),
        })
        .collect();
    let (phone, email, recipient) = match existing {
        Some(account) => {
            let (channel, address) =
                crate::accounts::lifecycle::notice_to(account).ok_or(EnrolError::NoContact)?;
            let recipient = Recipient { channel, address };
            (None, None, recipient)
        }
        None => {
            let phone = optional(request.phone.as_deref());
            let email = optional(request.email.as_deref());
            if phone.as_deref().is_some_and(|p| !contact::is_phone(p)) {
                return Err(EnrolError::BadPhone);
            }
            if email.as_deref().is_some_and(|e| !contact::is_email(e)) {
                return Err(EnrolError::BadEmail);
            }
            let recipient = match (&phone, &email) {
                (Some(phone), _) => Recipient {
                    channel: Channel::Sms,
                    address: phone.clone(),
                },
                (None, Some(email)) => Recipient {
                    channel: Channel::Email,
                    address: email.clone(),
                },
                (None, None) => return Err(EnrolError::NoContact),
            };
            (phone, email, recipient)
        }
    };
    Ok(Plan {
        upgrade: existing.map(|a| a.id.clone()),
        phone,
        email,
        recipient,
        documents,
    })
}

/// A done enrolment, for the desk's page.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub name: String,
    pub id_number: String,
    /// The TOTP secret (base32) to show once as a QR code.
    pub totp_secret: String,
    /// Whether a new account was created (its first password went with the notice).
    pub created: bool,
    /// Where the notice went, masked.
    pub notified: String,
}

/// Runs an enrolment for the officer at `desk`: the verification must be theirs, from this
/// desk session, unexpired and unused; refusals are audited with their reason.
pub async fn enrol(
    state: &AppState,
    desk: &Desk,
    request: &EnrolRequest,
) -> Result<Result<Enrolled, EnrolError>, AppError> {
    let now = state.now();
    let refuse = |error: EnrolError, id_number: Option<String>| async move {
        let event = desk.event(
            "desk_enrolment_refused",
            None,
            json!({ "reason": error.as_str(), "verification": request.verification, "id_number": id_number }),
        );
        state.store.audit(event, now).await?;
        Ok::<_, AppError>(Err(error))
    };
    if !request.consent {
        return refuse(EnrolError::NoConsent, None).await;
    }
    let v = state.store.verification(&request.verification).await?;
    if let Err(e) = usable_verification(v.as_ref(), &desk.officer, &desk.session_hash, now) {
        return refuse(e.into(), None).await;
    }
    let Some(v) = v else {
        return refuse(VerificationRefused::Unknown.into(), None).await;
    };
    let person = state
        .registry
        .person(&v.id_number)
        .await
        .map_err(|e| AppError::Registry(e.to_string()))?;
    let Some(person) = person else {
        return refuse(EnrolError::NotInRegistry, Some(v.id_number)).await;
    };
    let existing = match state.store.account_by_username(&person.id_number).await? {
        Some(row) => Some(Account::try_from(&row)?),
        None => None,
    };
    // Ages and card dates on the date in Vietnam.
    let today = crate::accounts::claims::vietnam_date(now).unwrap_or(time::Date::MIN);
    let plan = match plan(&person, existing.as_ref(), request, today) {
        Ok(plan) => plan,
        Err(e) => return refuse(e, Some(person.id_number)).await,
    };
    let guardian = if eligibility::needs_guardian(&person, today) {
        let Some((g, relation)) = desk_guardian::on_record(state, &person, request).await? else {
            return refuse(EnrolError::GuardianRequired, Some(person.id_number)).await;
        };
        // The guardian approves in their own session before anything is written.
        match desk_guardian::approval(state, desk, &v, &person, (&g, relation)).await? {
            Approval::Approved => Some((g, relation)),
            Approval::Awaiting { notified } => {
                return Ok(Err(EnrolError::AwaitingGuardian { notified }));
            }
            Approval::Denied => {
                return refuse(EnrolError::GuardianDenied, Some(person.id_number)).await;
            }
        }
    } else {
        None
    };
    let kept = match state.store.verification_capture(&v.id).await? {
        Some(sealed) => Kept::open(&state.sealer, &sealed),
        None => None,
    };
    let (fingerprints, portrait_sealed) = match &kept {
        Some(k) => (
            k.sealed_fingers(&state.sealer)?,
            k.sealed_photo(&state.sealer)?,
        ),
        None => (Vec::new(), None),
    };
    let first_password = match plan.upgrade {
        Some(_) => None,
        None => Some(crate::secret::random_token(9)),
    };
    let account = match (&plan.upgrade, &first_password) {
        (Some(id), _) => Err(id.as_str().to_string()),
        (None, pw) => Ok(NewAccount {
            id: crate::secret::new_id(),
            kind: person.kind.as_str().into(),
            level: 2,
            username: person.id_number.clone(),
            password_hash: password::hash(pw.clone().unwrap_or_default()).await?,
            totp_secret: None,
            family_name: person.family_name.clone(),
            middle_name: person.middle_name.clone(),
            given_name: person.given_name.clone(),
            birthdate: person.birthdate.clone(),
            gender: person.gender.as_str().into(),
            nationality: person.nationality.clone(),
            travel_document: person
                .travel_document
                .as_ref()
                .and_then(|t| serde_json::to_string(t).ok()),
            portrait_jpeg: portrait_sealed.clone(),
            phone_number: plan.phone.clone(),
            email: plan.email.clone(),
            verification_evidence: None,
            must_change_password: true,
            residence_province: person.residence_province().map(|p| p.code().to_string()),
        }),
    };
    let body = match &first_password {
        Some(pw) => format!(
            "VNeID: tai khoan dinh danh dien tu muc 2 da duoc tao. Mat khau lan dau: {pw} (doi mat khau khi dang nhap lan dau)."
        ),
        None => "VNeID: tai khoan dinh danh dien tu cua ban da duoc nang cap len muc 2. Neu ban khong yeu cau, hay lien he co quan Cong an ngay.".to_string(),
    };
    let notification = Notification {
        channel: plan.recipient.channel,
        recipient: &plan.recipient.address,
        subject: "VNeID",
        body,
        kind: if first_password.is_some() {
            "first_password"
        } else {
            "level2_enrolled"
        },
        account_id: None,
        secret: first_password.is_some(),
    }
    .row(now, &state.sealer)?;
    let totp_secret = crate::accounts::totp::new_secret();
    let stored_evidence = evidence::desk_level2(now);
    let enrolment = Enrolment {
        verification_id: &v.id,
        officer_id: desk.officer.id.as_str(),
        station: &desk.officer.station,
        session_hash: &desk.session_hash,
        account,
        documents: &plan.documents,
        totp_secret_sealed: &state.sealer.seal(totp_secret.as_bytes())?,
        evidence: &stored_evidence,
        notification,
        fingerprints: &fingerprints,
        device: kept.as_ref().map(|k| k.device.as_str()).unwrap_or_default(),
        portrait_sealed: portrait_sealed.as_deref(),
        guardian: guardian.as_ref().map(|(g, relation)| GuardianLink {
            guardian_account_id: g.id.as_str().to_string(),
            relation: relation.as_str(),
            notice: desk_guardian::notice(g, &person, now),
        }),
    };
    match state.store.enrol_level2(enrolment, now).await {
        Ok(_) => {}
        // The verification was used (or expired) between the check and the transaction.
        Err(crate::store::StoreError::Duplicate(_)) => {
            return refuse(VerificationRefused::Used.into(), Some(person.id_number)).await;
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(officer = %desk.officer.id, "level 2 enrolment");
    Ok(Ok(Enrolled {
        name: person.full_name(),
        id_number: person.id_number,
        totp_secret,
        created: first_password.is_some(),
        notified: plan.recipient.masked(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::account::AccountStatus;
    use time::macros::date;
    use vneid_contract::{AccountKind, Document, DocumentType, Gender};

    fn person() -> RegistryPerson {
        RegistryPerson {
            phone_number: None,
            email: None,
            identity_card: Some(crate::registry::IdentityCard {
                number: "001301000123".into(),
                kind: crate::registry::CardKind::ChipCccd,
                issued_on: "2021-05-01".into(),
                expires_on: Some("2041-04-02".into()),
                status: crate::registry::CardStatus::Valid,
            }),
            relations: vec![],
            permanent_residence: None,
            id_number: "001301000123".into(),
            kind: AccountKind::Citizen,
            family_name: "Lê".into(),
            middle_name: Some("Minh".into()),
            given_name: "Châu".into(),
            birthdate: "2001-04-02".into(),
            gender: Gender::Female,
            nationality: None,
            travel_document: None,
            residence_card: None,
            documents: vec![
                Document {
                    doc_type: DocumentType::DrivingLicence,
                    number: "010203040506".into(),
                    issued_on: None,
                    expires_on: None,
                    issuer: None,
                    details: Default::default(),
                },
                Document {
                    doc_type: DocumentType::Passport,
                    number: "C1".into(),
                    issued_on: None,
                    expires_on: None,
                    issuer: None,
                    details: Default::default(),
                },
            ],
        }
    }

    fn account() -> Account {
        Account {
            id: AccountId::new("a1"),
            kind: AccountKind::Citizen,
            level: Some(vneid_contract::Level::Level1),
            status: AccountStatus::Active,
            username: "001301000123".into(),
            family_name: "Lê".into(),
            middle_name: Some("Minh".into()),
            given_name: "Châu".into(),
            birthdate: date!(2001 - 04 - 02),
            phone_number: Some("+84912345678".into()),
            email: Some("chau@example.vn".into()),
            phone_verified: true,
            email_verified: true,
            has_second_factor: false,
            failed_logins: 0,
            locked_until: None,
            must_change_password: false,
        }
    }

    fn request() -> EnrolRequest {
        EnrolRequest {
            verification: "v1".into(),
            consent: true,
            documents: [1].into(),
            phone: Some("+84999999999".into()),
            email: None,
            guardian_id_number: None,
        }
    }

    const TODAY: time::Date = date!(2026 - 03 - 01);

    #[test]
    fn an_upgrade_notifies_the_contact_on_record_never_the_number_typed() {
        let plan = plan(&person(), Some(&account()), &request(), TODAY).unwrap();
        assert_eq!(
            plan.recipient,
            Recipient {
                channel: Channel::Sms,
                address: "+84912345678".into()
            }
        );
        assert_eq!(plan.upgrade, Some(AccountId::new("a1")));
        assert_eq!((plan.phone, plan.email), (None, None));
        let mut by_email = account();
        by_email.phone_number = None;
        let plan = super::plan(&person(), Some(&by_email), &request(), TODAY).unwrap();
        assert_eq!(plan.recipient.address, "chau@example.vn");
        assert_eq!(plan.recipient.channel, Channel::Email);
        by_email.email = None;
        assert_eq!(
            super::plan(&person(), Some(&by_email), &request(), TODAY).unwrap_err(),
            EnrolError::NoContact
        );
    }

    #[test]
    fn a_new_account_takes_the_contact_given_checked() {
        let plan = plan(&person(), None, &request(), TODAY).unwrap();
        assert_eq!(plan.recipient.address, "+84999999999");
        assert_eq!(plan.phone.as_deref(), Some("+84999999999"));
        assert_eq!(plan.upgrade, None);
        let mut r = request();
        r.phone = Some("0912".into());
        assert_eq!(
            super::plan(&person(), None, &r, TODAY).unwrap_err(),
            EnrolError::BadPhone
        );
        r.phone = Some("  ".into());
        assert_eq!(
            super::plan(&person(), None, &r, TODAY).unwrap_err(),
            EnrolError::NoContact
        );
        r.email = Some("not-an-email".into());
        assert_eq!(
            super::plan(&person(), None, &r, TODAY).unwrap_err(),
            EnrolError::BadEmail
        );
    }

    #[test]
    fn consent_eligibility_and_the_documents_chosen() {
        let mut r = request();
        r.consent = false;
        assert_eq!(
            plan(&person(), None, &r, TODAY).unwrap_err(),
            EnrolError::NoConsent
        );
        let mut locked = account();
        locked.status = AccountStatus::Locked;
        assert_eq!(
            plan(&person(), Some(&locked), &request(), TODAY).unwrap_err(),
            EnrolError::Ineligible(Ineligible::AccountLocked)
        );
        let plan = plan(&person(), None, &request(), TODAY).unwrap();
        assert_eq!(plan.documents.len(), 1);
        assert_eq!(plan.documents[0].number, "C1");
    }

    #[test]
    fn contacts_are_masked_on_the_page() {
        let r = Recipient {
            channel: Channel::Sms,
            address: "+84912345678".into(),
        };
        assert_eq!(r.masked(), "+84******678");
    }
}
