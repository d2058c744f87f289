//! ALB access and connection logs delivered straight to CloudWatch Logs as vended logs
//! (`AWS::Logs::DeliverySource` with log type `ALB_ACCESS_LOGS` or `ALB_CONNECTION_LOGS`, JSON
//! output), read into the same records as the S3 log lines.
//!
//! A native record is one JSON object per event, keyed by field name, in the log group the
//! delivery writes to (the stack's load-balancer group, next to the records ingest writes). It
//! is told from ours by its shape ([`Native::recognise`]): ours carry `"k"`, a native access
//! record carries `elb` and a request line, a native connection record `listener_port` or
//! `tls_handshake_latency`.
//!
//! The mapping is deliberately thin: each record is written back as the line it would be in
//! S3, in the documented field order, and read by [`crate::alb`] or [`crate::alb_connection`].
//! So one parser decides what every field means, and a native record becomes exactly the
//! record an S3 line of the same request becomes (same rows, filters and statistics).
//!
//! Field names: AWS documents the record fields a delivery may select (the CloudWatch Logs
//! delivery configuration, as listed by the CDK's `CfnLoadBalancerAlbAccessLogsRecordFields`
//! and `…AlbConnectionLogsRecordFields`, 2026) but shows no sample JSON record. The native
//! keys, a column of each format's field table (`alb.rs`, `alb_connection.rs`), are the S3
//! field names those entries are derived from (`CLIENT_PORT` ← `client:port`,
//! `REQUEST_LINE` ← `request_line`, `TIME` ← `time` for the connection log's `timestamp`);
//! where the derivation is ambiguous the other plausible spellings are accepted too, and
//! values may be JSON strings or numbers. The fixtures in `shared/tests/data/alb-native-*.jsonl`
//! are built from that list; the first real record will confirm or correct them.

use serde_json::{Map, Value};

use crate::elb_format::FieldSpec;
use crate::error::ParseError;
use crate::record::Record;
use crate::{alb, alb_connection};

/// The access log's fields 1–33 in S3 order, with their native keys (`crate::alb`'s table).
const ACCESS: [FieldSpec; 33] = alb::FIELDS;

/// The connection log's fields 1–15 in S3 order, with their native keys
/// (`crate::alb_connection`'s table).
const CONNECTION: [FieldSpec; 15] = alb_connection::FIELDS;

/// The kind of a native record, as its shape tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Native {
    /// A vended ALB access-log record (`ALB_ACCESS_LOGS`).
    Access,
    /// A vended ALB connection-log record (`ALB_CONNECTION_LOGS`).
    Connection,
}

impl Native {
    /// The kind of native record `fields` is, or `None` for anything else (our own records,
    /// which carry `"k"`, included).
    pub fn recognise(fields: &Map<String, Value>) -> Option<Native> {
        if fields.contains_key("k") {
            return None;
        }
        let has = |keys: &[&str]| keys.iter().any(|k| fields.contains_key(*k));
        if has(&["elb"]) && has(&["request_line", "request"]) {
            Some(Native::Access)
        } else if has(&["listener_port", "tls_handshake_latency"]) && has(&["client_ip"]) {
            Some(Native::Connection)
        } else {
            None
        }
    }
}

/// Whether a log event's message may be a native record: cheap enough to ask of every event
/// before parsing it as JSON (ours start with `{"k":`).
pub fn may_be_native(message: &str) -> bool {
    let m = message.trim_start();
    m.starts_with('{') && !m.starts_with("{\"k\":")
}

/// Reads one native record (the message of one log event) into the record its S3 line gives:
/// [`Record::Alb`] for an access record, [`Record::AlbConnection`] for a connection record.
pub fn parse_record(message: &str) -> Result<Record, ParseError> {
    let fields: Map<String, Value> = serde_json::from_str(message.trim())
        .map_err(|e| ParseError::Format(format!("not a JSON object: {e}")))?;
    match Native::recognise(&fields) {
        Some(Native::Access) => alb::parse_record(&s3_line(&fields, &ACCESS)?),
        Some(Native::Connection) => alb_connection::parse_record(&s3_line(&fields, &CONNECTION)?),
        None => Err(ParseError::Format(
            "not an ALB access or connection record".to_owned(),
        )),
    }
}

/// The S3 line of a native record: every field in order, `-` for one the delivery did not
/// select, quoted fields escaped the way ALB escapes them (`\xNN`).
fn s3_line(fields: &Map<String, Value>, specs: &[FieldSpec]) -> Result<String, ParseError> {
    let mut line = String::with_capacity(512);
    for (i, (name, keys, quoted)) in specs.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let value = keys.iter().find_map(|k| fields.get(*k)).map(text);
        let value = value.as_deref().filter(|v| !v.is_empty()).unwrap_or("-");
        if *quoted {
            line.push('"');
            escape_into(&mut line, value);
            line.push('"');
        } else if value.contains(|c: char| c.is_whitespace() || c == '"') {
            return Err(ParseError::invalid(name, value));
        } else {
            line.push_str(value);
        }
    }
    Ok(line)
}

/// A value as the S3 line writes it: strings as they are, numbers as JSON writes them, `-`
/// for null.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}

/// ALB's escaping inside quoted fields: `"`, `\` and control characters as `\xNN` (which
/// [`crate::alb`] decodes); everything else as it is.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        if c == '"' || c == '\\' || c.is_ascii_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Arbitrary text never panics, and an arbitrary object with the access shape either
        /// reads or fails with an error value.
        #[test]
        fn never_panics(s in "\\PC{0,300}", ua in "\\PC{0,60}", t in "\\PC{0,30}") {
            let _ = parse_record(&s);
            let obj = serde_json::json!({
                "type": "h2", "time": t, "elb": "app/x/1", "request_line": s, "user_agent": ua,
            });
            let _ = parse_record(&obj.to_string());
        }
    }
}
