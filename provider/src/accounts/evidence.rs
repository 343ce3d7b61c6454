//! The evidence of `verified_claims` (OpenID Connect for Identity Assurance 1.0): what is
//! stored about a verification, and the part of it a relying party may see.
//!
//! A relying party learns how the identity was verified (the evidence type, each check method,
//! when, and the kind of document or record checked), never who checked it, where, with which
//! device, or how close a biometric score came to its threshold. [`released`] is an allow-list
//! over whatever is stored, so evidence written before this rule (or by another path) is cut
//! down the same way.

use serde_json::{Map, Value, json};

/// The IDA evidence a relying party may see, from the stored evidence (a JSON array of evidence
/// objects, or one object). Keeps only `type`, `check_details[].check_method` (and its `time`),
/// `time`, `record.type` and `document_details.type`; anything unreadable releases `[]`.
pub fn released(stored: &str) -> Value {
    let items = match serde_json::from_str::<Value>(stored) {
        Ok(Value::Array(items)) => items,
        Ok(item @ Value::Object(_)) => vec![item],
        _ => Vec::new(),
    };
    Value::Array(items.iter().filter_map(released_item).collect())
}

fn released_item(item: &Value) -> Option<Value> {
    let item = item.as_object()?;
    let mut out = Map::new();
    out.insert("type".into(), Value::String(text(item.get("type"))?));
    let checks: Vec<Value> = item
        .get("check_details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|check| {
            let check = check.as_object()?;
            let mut kept = Map::new();
            kept.insert(
                "check_method".into(),
                Value::String(text(check.get("check_method"))?),
            );
            if let Some(time) = time(check.get("time")) {
                kept.insert("time".into(), Value::String(time));
            }
            Some(Value::Object(kept))
        })
        .collect();
    if !checks.is_empty() {
        out.insert("check_details".into(), Value::Array(checks));
    }
    if let Some(time) = time(item.get("time")) {
        out.insert("time".into(), Value::String(time));
    }
    for key in ["record", "document_details"] {
        if let Some(kind) = item.get(key).and_then(|v| text(v.get("type"))) {
            out.insert(key.into(), json!({ "type": kind }));
        }
    }
    Some(Value::Object(out))
}

/// A short token-like string (an IDA code such as `electronic_record` or `bvr`).
fn text(value: Option<&Value>) -> Option<String> {
    value
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .filter(|s| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b':')
        })
        .map(str::to_string)
}

/// A time as IDA writes it (RFC 3339); Unix seconds are converted.
fn time(value: Option<&Value>) -> Option<String> {
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    match value? {
        Value::Number(n) => rfc3339_of(n.as_i64()?),
        Value::String(s) => time::OffsetDateTime::parse(s, rfc3339)
            .ok()
            .and_then(|t| t.format(rfc3339).ok()),
        _ => None,
    }
}

fn rfc3339_of(unix: i64) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
}

/// The evidence kept on an account enrolled at Level 2 at the desk: the person was seen in
/// person (`vpip`) and their portrait and fingerprint were verified biometrically (`bvr`)
/// against the identity-card register, at `now`. Who, where and the scores stay in the desk's
/// own records and the audit log.
pub fn desk_level2(now: i64) -> String {
    let time = rfc3339_of(now);
    json!([{
        "type": "electronic_record",
        "check_details": [
            { "check_method": "vpip", "time": time },
            { "check_method": "bvr", "time": time }
        ],
        "time": time,
        "record": { "type": "identity_card_register" },
    }])
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every key and every string anywhere in a JSON value.
    fn walk<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    out.push(k);
                    walk(v, out);
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            Value::String(s) => out.push(s),
            _ => {}
        }
    }

    #[test]
    fn the_desk_evidence_of_old_releases_no_officer_station_device_or_score() {
        // What the desk stored before issue 7 (and what Level 1 registration stores).
        let stored = json!([{
            "type": "electronic_record",
            "check_details": [
                { "check_method": "bvr", "organization": "Công an phường Bến Nghé" },
                { "check_method": "fingerprint_match", "organization": "Công an phường Bến Nghé", "txn": "t-1" }
            ],
            "record": { "type": "identity_card_register", "source": { "name": "CSDL", "country_code": "VN" } },
            "desk": { "officer": "officer-7", "station": "Công an phường Bến Nghé", "device": "scanner-3",
                      "checks": [{ "score": 0.973, "threshold": 0.8 }], "time": 1_700_000_000 },
            "checks": [{ "score": 0.91, "device": "phone-1" }],
            "time": 1_700_000_000
        }])
        .to_string();
        let out = released(&stored);
        let mut seen = Vec::new();
        walk(&out, &mut seen);
        for forbidden in [
            "officer",
            "officer-7",
            "station",
            "Công an phường Bến Nghé",
            "device",
            "scanner-3",
            "phone-1",
            "score",
            "threshold",
            "organization",
            "desk",
            "checks",
            "txn",
            "source",
        ] {
            assert!(!seen.contains(&forbidden), "{forbidden} in {out}");
        }
        let text = out.to_string();
        assert!(!text.contains("0.9") && !text.contains("0.8"), "{text}");
        assert_eq!(
            out,
            json!([{
                "type": "electronic_record",
                "check_details": [{ "check_method": "bvr" }, { "check_method": "fingerprint_match" }],
                "time": "2023-11-14T22:13:20Z",
                "record": { "type": "identity_card_register" }
            }])
        );
    }

    #[test]
    fn what_the_desk_stores_now_is_released_whole() {
        let stored = desk_level2(1_700_000_000);
        let out = released(&stored);
        assert_eq!(out, serde_json::from_str::<Value>(&stored).unwrap());
        assert_eq!(out[0]["check_details"][1]["check_method"], "bvr");
    }

    #[test]
    fn a_free_text_method_or_unreadable_evidence_releases_nothing_of_it() {
        assert_eq!(released("not json"), json!([]));
        assert_eq!(released("42"), json!([]));
        let stored = json!({ "type": "Officer Nguyen at Ben Nghe", "record": { "type": "x" } });
        assert_eq!(released(&stored.to_string()), json!([]));
        let stored = json!({ "type": "document", "check_details": [{ "check_method": "score 0.97" }],
                             "document_details": { "type": "idcard", "personal_number": "001301000123" } });
        assert_eq!(
            released(&stored.to_string()),
            json!([{ "type": "document", "document_details": { "type": "idcard" } }])
        );
    }
}
