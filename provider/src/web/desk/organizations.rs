//! The desk's organisation pages: an organisation's own account from the business registry,
//! its representatives, its status (supervisors only).

use super::*;

/// The organisation form: the code (the rest comes from the business registry) and the
/// representatives' identification numbers (several separated by commas or spaces). Other
/// fields an older form sends are ignored: the registry is the source.
#[derive(Deserialize)]
pub struct OrganizationForm {
    csrf: String,
    code: String,
    representative: String,
}

/// Resolves typed identification numbers to typed accounts (`None`: no account).
async fn accounts_of(
    state: &AppState,
    numbers: &[String],
) -> Result<Vec<(String, Option<Account>)>, AppError> {
    let mut out = Vec::new();
    for n in numbers {
        let account = match state.store.account_by_username(n).await? {
            Some(row) => Some(Account::try_from(&row)?),
            None => None,
        };
        out.push((n.clone(), account));
    }
    Ok(out)
}

/// `POST /desk/organizations`: an organisation's own account (no level) from the business
/// registry, represented by one or more Level 2 account holders (supervisors).
pub async fn organization(
    State(state): State<AppState>,
    session: DeskSession,
    Form(form): Form<OrganizationForm>,
) -> Result<Response, AppError> {
    let code = form.code.trim();
    if let Some(refused) = session
        .guard(
            &state,
            &form.csrf,
            Action::RegisterOrganization,
            json!({ "code": code }),
        )
        .await?
    {
        return Ok(refused);
    }
    let record = match OrganizationCode::parse(code) {
        Ok(_) => state
            .registry
            .organization(code)
            .await
            .map_err(|e| AppError::Registry(e.to_string()))?,
        Err(_) => None,
    };
    let numbers = organization::parse_representatives(&form.representative);
    let reps = accounts_of(&state, &numbers).await?;
    if let Err(refused) = organization::check_registration(code, record.as_ref(), &reps) {
        return Ok(session.message(organization_refusal(session.t(), &refused)));
    }
    let Some(record) = record else {
        return Ok(session.message(organization_refusal(
            session.t(),
            &OrganizationRefused::NotInRegistry,
        )));
    };
    let rep_ids: Vec<String> = reps
        .iter()
        .filter_map(|(_, a)| a.as_ref().map(|a| a.id.as_str().to_string()))
        .collect();
    let row = OrganizationRow {
        code: record.code.clone(),
        name: record.name.clone(),
        short_name: record.short_name.clone(),
        foreign_name: record.foreign_name.clone(),
        established_on: record.established_on.clone(),
        head_office_address: record.head_office_address.clone(),
        representative_account_id: rep_ids.first().cloned().unwrap_or_default(),
    };
    let o = session.officer();
    match state
        .store
        .create_organization(
            &row,
            &rep_ids,
            json!({ "officer": o.id.as_str(), "station": o.station }),
            state.now(),
        )
        .await
    {
        Ok(_) => Ok(session.message(format!("{} {}", session.t().org_registered, row.name))),
        Err(crate::store::StoreError::Duplicate(_)) => Ok(session.message(session.t().org_exists)),
        Err(e) => Err(e.into()),
    }
}

fn organization_refusal(t: &DeskTexts, refused: &OrganizationRefused) -> String {
    match refused {
        OrganizationRefused::NotLevel2(n) => format!("{} {n}", t.rep_needs_level2),
        OrganizationRefused::BadCode(_) => t.org_bad_code.into(),
        OrganizationRefused::NotInRegistry => t.org_not_in_registry.into(),
        OrganizationRefused::NotActive(s) => format!("{} {s}", t.org_not_active),
        OrganizationRefused::NoRepresentative => t.org_no_representative.into(),
        OrganizationRefused::LastRepresentative => t.org_last_representative.into(),
        OrganizationRefused::NotARepresentative(_) => t.org_not_a_representative.into(),
    }
}

/// The change-of-representative form: `change` is `add` or `remove`.
#[derive(Deserialize)]
pub struct RepresentativeForm {
    csrf: String,
    change: String,
    id_number: String,
}

/// `POST /desk/organizations/{code}/representatives`: adds or removes a representative
/// (supervisors), audited.
pub async fn organization_representative(
    State(state): State<AppState>,
    session: DeskSession,
    Path(code): Path<String>,
    Form(form): Form<RepresentativeForm>,
) -> Result<Response, AppError> {
    if let Some(refused) = session
        .guard(
            &state,
            &form.csrf,
            Action::ChangeRepresentatives,
            json!({ "code": code }),
        )
        .await?
    {
        return Ok(refused);
    }
    let Some(org) = state.store.organization_by_code(&code).await? else {
        return Ok(session.message(organization_refusal(
            session.t(),
            &OrganizationRefused::NotInRegistry,
        )));
    };
    let add = match form.change.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Ok(session.message(session.t().unknown_change)),
    };
    let number = form.id_number.trim().to_string();
    let account = accounts_of(&state, std::slice::from_ref(&number))
        .await?
        .pop()
        .and_then(|(_, a)| a);
    let current = state.store.representatives(&org.id).await?;
    let checked = match (&account, add) {
        (Some(a), true) => organization::may_represent(a),
        (Some(a), false) => organization::check_removal(&current, a.id.as_str()),
        (None, true) => Err(OrganizationRefused::NotLevel2(number.clone())),
        (None, false) => Err(OrganizationRefused::NotARepresentative(number.clone())),
    };
    if let Err(refused) = checked {
        return Ok(session.message(organization_refusal(session.t(), &refused)));
    }
    let Some(account) = account else {
        return Ok(session.message(session.t().no_such_account));
    };
    let o = session.officer();
    let changed = state
        .store
        .change_representative(
            &org.id,
            account.id.as_str(),
            add,
            json!({ "officer": o.id.as_str(), "station": o.station, "code": org.organization.code }),
            state.now(),
        )
        .await?;
    let t = session.t();
    Ok(session.message(if changed {
        format!("{} {}", t.representatives_updated, org.organization.name)
    } else {
        t.nothing_changed.to_string()
    }))
}

/// `POST /desk/organizations/{code}/status`: locks, unlocks, suspends or revokes the
/// organisation's own account (supervisors; the lifecycle's state machine, revoked is final).
pub async fn organization_status(
    State(state): State<AppState>,
    session: DeskSession,
    Path(code): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    if !session.csrf_ok(&form.csrf) {
        return Ok(Redirect::to("/desk").into_response());
    }
    let Some(wanted) = AccountStatus::parse(&form.status) else {
        return Ok(session.message(session.t().unknown_status));
    };
    let Some(org) = state.store.organization_by_code(&code).await? else {
        return Ok(session.message(organization_refusal(
            session.t(),
            &OrganizationRefused::NotInRegistry,
        )));
    };
    let current = AccountStatus::parse(&org.status).unwrap_or(AccountStatus::Revoked);
    match status_change(session.officer().role, current, wanted) {
        Err(StatusRefused::Forbidden(refused)) => {
            return session
                .forbidden(
                    &state,
                    refused,
                    json!({ "code": code, "status": wanted.as_str() }),
                )
                .await;
        }
        Err(StatusRefused::Final) => {
            return Ok(session.message(session.t().revoked_final));
        }
        Err(StatusRefused::Unchanged) => {
            return Ok(session.message(session.t().nothing_changed));
        }
        Ok(_) => {}
    }
    let o = session.officer();
    state
        .store
        .change_account_status(
            StatusChange {
                account_id: &org.id,
                from: current.as_str(),
                to: wanted.as_str(),
                detail: json!({ "officer": o.id.as_str(), "station": o.station, "code": code }),
                notice: None,
            },
            state.now(),
        )
        .await?;
    let t = session.t();
    Ok(session.message(format!(
        "{} {}: {}",
        t.org_status,
        org.organization.name,
        t.status(wanted)
    )))
}
