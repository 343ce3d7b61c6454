//! `vneid-provider registry import FILE`: loads an operator's export (JSON array, JSON lines or
//! CSV) into the embedded registry. Every row is validated; one bad row and nothing is imported,
//! with a report that names each rejected row, field and reason.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use vneid_contract::{AccountKind, Document, Gender, PersonalIdNumber, TravelDocument};

use super::{IdentityCard, Modality, PermanentResidence, Relation, ResidenceCard, Template};
use crate::store::{RegistryDocumentRow, RegistryImport, RegistryPersonRow};

/// One person in an export.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryRecord {
    pub id_number: String,
    pub kind: String,
    pub family_name: String,
    #[serde(default)]
    pub middle_name: Option<String>,
    pub given_name: String,
    pub birthdate: String,
    pub gender: String,
    #[serde(default)]
    pub nationality: Option<String>,
    #[serde(default)]
    pub travel_document: Option<TravelDocument>,
    #[serde(default)]
    pub residence_card: Option<ResidenceCard>,
    #[serde(default)]
    pub documents: Vec<Document>,
    /// Enrolled templates by modality (`portrait`, `fingerprint:right_index`, ...).
    #[serde(default)]
    pub biometrics: BTreeMap<String, Vec<f32>>,
    /// The person's phone number on record (E.164, `+84...`).
    #[serde(default)]
    pub phone_number: Option<String>,
    /// The person's email address on record.
    #[serde(default)]
    pub email: Option<String>,
    /// Citizens: the identity card on record.
    #[serde(default)]
    pub identity_card: Option<IdentityCard>,
    /// Parents and guardians on record.
    #[serde(default)]
    pub relations: Vec<Relation>,
    /// The permanent residence on record.
    #[serde(default)]
    pub permanent_residence: Option<PermanentResidence>,
}

/// A rejected row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based row (line for JSON lines and CSV, element for a JSON array).
    pub row: usize,
    /// The field at fault (or `row` for the row as a whole).
    pub field: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "row {}: {}: {}", self.row, self.field, self.reason)
    }
}

/// Parses an export by its content: a JSON array, JSON lines, or CSV with a header row
/// (`documents`, `biometrics`, `travel_document`, `residence_card`, `permanent_residence`, ...
/// cells hold JSON).
pub fn parse(text: &str) -> Result<Vec<(usize, RegistryRecord)>, Vec<Rejection>> {
    let trimmed = text.trim_start();
    let mut rejected = Vec::new();
    let mut records = Vec::new();
    let bad = |row, reason: String| Rejection {
        row,
        field: "row".into(),
        reason,
    };
    if trimmed.starts_with('[') {
        let values: Vec<serde_json::Value> = serde_json::from_str(trimmed)
            .map_err(|e| vec![bad(0, format!("not a JSON array: {e}"))])?;
        for (i, v) in values.into_iter().enumerate() {
            match serde_json::from_value(v) {
                Ok(r) => records.push((i + 1, r)),
                Err(e) => rejected.push(bad(i + 1, e.to_string())),
            }
        }
    } else if trimmed.starts_with('{') {
        for (i, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            match serde_json::from_str(line) {
                Ok(r) => records.push((i + 1, r)),
                Err(e) => rejected.push(bad(i + 1, e.to_string())),
            }
        }
    } else {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| vec![bad(1, e.to_string())])?
            .clone();
        for (i, row) in reader.records().enumerate() {
            let line = i + 2;
            match row
                .map_err(|e| e.to_string())
                .and_then(|row| csv_record(&headers, &row))
            {
                Ok(r) => records.push((line, r)),
                Err(e) => rejected.push(bad(line, e)),
            }
        }
    }
    if rejected.is_empty() {
        Ok(records)
    } else {
        Err(rejected)
    }
}

/// A CSV row as a record: plain cells as strings, JSON cells parsed.
fn csv_record(
    headers: &csv::StringRecord,
    row: &csv::StringRecord,
) -> Result<RegistryRecord, String> {
    let mut object = serde_json::Map::new();
    for (name, cell) in headers.iter().zip(row.iter()) {
        if cell.is_empty() {
            continue;
        }
        let value = match name {
            "documents"
            | "biometrics"
            | "travel_document"
            | "residence_card"
            | "identity_card"
            | "relations"
            | "permanent_residence" => {
                serde_json::from_str(cell).map_err(|e| format!("{name}: not JSON: {e}"))?
            }
            _ => serde_json::Value::String(cell.to_string()),
        };
        object.insert(name.to_string(), value);
    }
    serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| e.to_string())
}

/// Checks every record; returns the rows to import or every rejection.
pub fn validate(
    records: &[(usize, RegistryRecord)],
) -> Result<Vec<RegistryImport>, Vec<Rejection>> {
    let mut seen = HashSet::new();
    let mut rejected = Vec::new();
    let mut rows = Vec::new();
    for (row, r) in records {
        let mut reject = |field: &str, reason: String| {
            rejected.push(Rejection {
                row: *row,
                field: field.into(),
                reason,
            })
        };
        if !seen.insert(r.id_number.clone()) {
            reject("id_number", "appears twice in the file".into());
            continue;
        }
        match check(r) {
            Ok(import) => rows.push(import),
            Err((field, reason)) => reject(field, reason),
        }
    }
    if rejected.is_empty() {
        Ok(rows)
    } else {
        Err(rejected)
    }
}

/// Checks what a person record holds, as the declared data of a registration is checked.
pub fn check_identity(
    kind: AccountKind,
    id_number: &str,
    birthdate: &str,
    gender: &str,
) -> Result<(time::Date, Gender), (&'static str, String)> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(birthdate, format)
        .map_err(|_| ("birthdate", "must be a date YYYY-MM-DD".to_string()))?;
    let gender =
        Gender::parse(gender).ok_or(("gender", "must be `male` or `female`".to_string()))?;
    match kind {
        AccountKind::Citizen => {
            let pin =
                PersonalIdNumber::parse(id_number).map_err(|e| ("id_number", e.to_string()))?;
            pin.check_against(date, gender)
                .map_err(|e| ("id_number", e.to_string()))?;
        }
        AccountKind::Foreigner => {
            let ok = (8..=20).contains(&id_number.len())
                && id_number.bytes().all(|b| b.is_ascii_alphanumeric());
            if !ok {
                return Err((
                    "id_number",
                    "a foreigner's identification number has 8 to 20 letters or digits".into(),
                ));
            }
        }
        AccountKind::Organization => {
            return Err(("kind", "organisations are not registry people".into()));
        }
    }
    Ok((date, gender))
}

fn check(r: &RegistryRecord) -> Result<RegistryImport, (&'static str, String)> {
    let kind = AccountKind::parse(&r.kind)
        .ok_or(("kind", "must be `citizen` or `foreigner`".to_string()))?;
    check_identity(kind, &r.id_number, &r.birthdate, &r.gender)?;
    for (field, value) in [
        ("family_name", &r.family_name),
        ("given_name", &r.given_name),
    ] {
        if value.trim().is_empty() || value.len() > 100 {
            return Err((field, "must be 1 to 100 characters".into()));
        }
    }
    if kind == AccountKind::Foreigner {
        let nationality = r.nationality.as_deref().unwrap_or("");
        if nationality.len() != 2 || !nationality.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err((
                "nationality",
                "a foreigner needs an ISO 3166-1 alpha-2 nationality".into(),
            ));
        }
        if r.travel_document.is_none() {
            return Err((
                "travel_document",
                "a foreigner needs a passport or travel document".into(),
            ));
        }
    }
    let phone_number = r.phone_number.clone().filter(|p| !p.trim().is_empty());
    if phone_number
        .as_deref()
        .is_some_and(|p| !crate::accounts::contact::is_phone(p))
    {
        return Err((
            "phone_number",
            "must be a Vietnamese number in E.164 form, +84 and 9 or 10 digits".into(),
        ));
    }
    let email = r.email.clone().filter(|e| !e.trim().is_empty());
    if email
        .as_deref()
        .is_some_and(|e| !crate::accounts::contact::is_email(e))
    {
        return Err(("email", "is not an email address".into()));
    }
    if let Some(card) = &r.identity_card {
        if kind != AccountKind::Citizen {
            return Err((
                "identity_card",
                "only a citizen holds an identity card".into(),
            ));
        }
        super::card::check_card(card).map_err(|e| ("identity_card", e))?;
    }
    for relation in &r.relations {
        if relation.id_number == r.id_number
            || relation.id_number.is_empty()
            || relation.id_number.len() > 20
            || !relation
                .id_number
                .bytes()
                .all(|b| b.is_ascii_alphanumeric())
        {
            return Err((
                "relations",
                "a relation's id_number is 1 to 20 letters or digits, not the person's own".into(),
            ));
        }
    }
    if let Some(residence) = &r.permanent_residence {
        let address = residence.address.trim();
        if address.is_empty() || address.chars().count() > 300 {
            return Err((
                "permanent_residence",
                "the address must be 1 to 300 characters".into(),
            ));
        }
        if vneid_contract::Province::of_record(&residence.province).is_none() {
            return Err((
                "permanent_residence",
                format!(
                    "`{}` is not a province code or name (current or before 1 July 2025)",
                    residence.province
                ),
            ));
        }
    }
    let mut templates = Vec::new();
    for (modality, values) in &r.biometrics {
        let m = Modality::parse(modality)
            .ok_or(("biometrics", format!("unknown modality `{modality}`")))?;
        let t = Template::new(values.clone())
            .map_err(|e| ("biometrics", format!("{modality}: {e}")))?;
        templates.push((
            m.as_string(),
            serde_json::to_string(&t).map_err(|e| ("biometrics", e.to_string()))?,
        ));
    }
    Ok(RegistryImport {
        person: RegistryPersonRow {
            id_number: r.id_number.clone(),
            kind: kind.as_str().into(),
            family_name: r.family_name.trim().into(),
            middle_name: r.middle_name.clone().filter(|m| !m.trim().is_empty()),
            given_name: r.given_name.trim().into(),
            birthdate: r.birthdate.clone(),
            gender: r.gender.clone(),
            nationality: r.nationality.clone(),
            travel_document: r.travel_document.as_ref().map(to_json),
            residence_card: r.residence_card.as_ref().map(to_json),
            phone_number,
            email,
            identity_card: r.identity_card.as_ref().map(to_json),
            relations: (!r.relations.is_empty()).then(|| to_json(&r.relations)),
            permanent_residence: r.permanent_residence.as_ref().map(to_json),
        },
        documents: r
            .documents
            .iter()
            .map(|d| RegistryDocumentRow {
                doc_type: d.doc_type.as_str().into(),
                number: d.number.clone(),
                issued_on: d.issued_on.clone(),
                expires_on: d.expires_on.clone(),
                issuer: d.issuer.clone(),
                details: (!d.details.is_empty()).then(|| to_json(&d.details)),
            })
            .collect(),
        templates,
    })
}

/// JSON text of a value that always serialises (plain data).
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> String {
        format!(
            "[{}]",
            (0..32)
                .map(|i| (i as f32 / 10.0).to_string())
                .collect::<Vec<_>>()
                .join(",")
        )
    }

    #[test]
    fn json_csv_and_json_lines_parse_and_validate() {
        let t = template();
        let json = format!(
            r#"[{{"id_number":"001301000123","kind":"citizen","family_name":"Lê","given_name":"Châu","birthdate":"2001-04-02","gender":"female","biometrics":{{"portrait":{t}}}}}]"#
        );
        let rows = validate(&parse(&json).unwrap()).unwrap();
        assert_eq!(rows[0].templates.len(), 1);
        let csv = "id_number,kind,family_name,middle_name,given_name,birthdate,gender,phone_number,documents\n\
                   001095000009,citizen,Phạm,Văn,Dũng,1995-01-01,male,+84912000009,\"[{\"\"type\"\":\"\"passport\"\",\"\"number\"\":\"\"C7654321\"\"}]\"\n";
        let rows = validate(&parse(csv).unwrap()).unwrap();
        assert_eq!(rows[0].documents[0].doc_type, "passport");
        assert_eq!(rows[0].person.phone_number.as_deref(), Some("+84912000009"));
        let lines = r#"{"id_number":"001095000009","kind":"citizen","family_name":"A","given_name":"B","birthdate":"1995-01-01","gender":"male","email":"b@example.vn"}"#;
        let rows = validate(&parse(lines).unwrap()).unwrap();
        assert_eq!(rows[0].person.email.as_deref(), Some("b@example.vn"));
        let moved = r#"{"id_number":"001095000009","kind":"citizen","family_name":"A","given_name":"B","birthdate":"1995-01-01","gender":"male","permanent_residence":{"address":"1 Nguyễn Trãi, Hà Giang","province":"02"}}"#;
        let rows = validate(&parse(moved).unwrap()).unwrap();
        assert!(rows[0].person.permanent_residence.is_some());
        let nowhere = moved.replace("\"02\"", "\"03\"");
        assert_eq!(
            validate(&parse(&nowhere).unwrap()).unwrap_err()[0].field,
            "permanent_residence"
        );
        let bad = r#"{"id_number":"001095000009","kind":"citizen","family_name":"A","given_name":"B","birthdate":"1995-01-01","gender":"male","phone_number":"0912"}"#;
        assert_eq!(
            validate(&parse(bad).unwrap()).unwrap_err()[0].field,
            "phone_number"
        );
    }

    #[test]
    fn every_bad_row_is_reported() {
        let csv = "id_number,kind,family_name,given_name,birthdate,gender\n\
                   001095000009,citizen,A,B,1995-01-01,male\n\
                   001095000009,citizen,A,B,1995-01-01,male\n\
                   001195000010,citizen,A,B,1995-01-01,male\n\
                   903095000011,citizen,A,B,1995-01-01,male\n\
                   001095000012,citizen,A,B,1995-13-01,male\n";
        let rejected = validate(&parse(csv).unwrap()).unwrap_err();
        let summary: Vec<(usize, &str)> =
            rejected.iter().map(|r| (r.row, r.field.as_str())).collect();
        assert_eq!(
            summary,
            vec![(3, "id_number"), (4, "id_number"), (6, "birthdate")]
        );
        assert!(rejected[1].reason.contains("4th digit"), "{}", rejected[1]);
    }
}
