//! Vended ALB records (CloudWatch Logs delivery, JSON output) read into the same records as
//! the S3 lines of the same requests.
//!
//! AWS documents the record fields but shows no sample record: the fixtures
//! (`data/alb-native-*.jsonl`) are the official S3 example lines of `data/alb-samples.log` and
//! `data/alb-connection-samples.log` rewritten field by field under the documented names,
//! numbers as JSON numbers except the decimals (written as strings, the way the S3 line has
//! them). See `shared/src/alb_native.rs` for why the names are what they are.

use logdesk_core::alb_native::{Native, may_be_native, parse_record};
use logdesk_core::record::Record;
use logdesk_core::{ParseError, alb, alb_connection};
use serde_json::{Value, json};

const ACCESS_S3: &str = include_str!("data/alb-samples.log");
const ACCESS_NATIVE: &str = include_str!("data/alb-native-access.jsonl");
const CONNECTION_S3: &str = include_str!("data/alb-connection-samples.log");
const CONNECTION_NATIVE: &str = include_str!("data/alb-native-connection.jsonl");

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter(|l| !l.trim().is_empty())
}

#[test]
fn access_fixtures_read_as_their_s3_lines() {
    let mut n = 0;
    for (s3, native) in lines(ACCESS_S3).zip(lines(ACCESS_NATIVE)) {
        let want = alb::parse_record(s3).unwrap();
        assert!(matches!(want, Record::Alb(_)));
        assert!(may_be_native(native));
        assert_eq!(parse_record(native), Ok(want), "{native}");
        n += 1;
    }
    assert_eq!(n, 7);
}

#[test]
fn connection_fixtures_read_as_their_s3_lines() {
    let mut n = 0;
    for (s3, native) in lines(CONNECTION_S3).zip(lines(CONNECTION_NATIVE)) {
        let want = alb_connection::parse_record(s3).unwrap();
        assert_eq!(parse_record(native), Ok(want), "{native}");
        n += 1;
    }
    assert_eq!(n, 5);
}

/// The first access fixture as a JSON object, to vary one thing at a time.
fn access() -> serde_json::Map<String, Value> {
    let first = lines(ACCESS_NATIVE).next().unwrap();
    serde_json::from_str(first).unwrap()
}

fn record(fields: &serde_json::Map<String, Value>) -> Result<Record, ParseError> {
    parse_record(&Value::Object(fields.clone()).to_string())
}

fn alb_record(fields: &serde_json::Map<String, Value>) -> logdesk_core::record::RequestRecord {
    match record(fields) {
        Ok(Record::Alb(r)) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn numbers_as_strings_or_numbers_read_the_same() {
    let base = alb_record(&access());
    let mut strings = access();
    for (k, v) in strings.iter_mut() {
        if v.is_number() {
            *v = Value::String(v.to_string());
        }
        assert!(v.is_string(), "{k}");
    }
    assert_eq!(alb_record(&strings), base);
}

#[test]
fn fields_the_delivery_did_not_select_are_absent() {
    let mut f = access();
    for k in [
        "user_agent",
        "target_group_arn",
        "classification",
        "actions_executed",
    ] {
        f.remove(k);
    }
    let r = alb_record(&f);
    assert_eq!(r.user_agent, None);
    assert_eq!(r.target_group, None);
    assert_eq!(r.actions, None);
    assert_eq!(r.status, Some(200));
    // null is "not there" too.
    let mut f = access();
    f.insert("trace_id".into(), Value::Null);
    assert_eq!(alb_record(&f).trace_id, None);
}

#[test]
fn other_spellings_of_the_combined_fields() {
    let base = alb_record(&access());
    let mut f = access();
    let client = f.remove("client:port").unwrap();
    f.insert("client_port".into(), client);
    let line = f.remove("request_line").unwrap();
    f.insert("request".into(), line);
    assert_eq!(alb_record(&f), base);
}

#[test]
fn quotes_backslashes_and_controls_in_quoted_fields() {
    let mut f = access();
    f.insert("user_agent".into(), json!("Bot \"x\" \\ y\tz 日本"));
    f.insert(
        "request_line".into(),
        json!("GET http://www.example.com:80/a b?q=\"1\" HTTP/1.1"),
    );
    let r = alb_record(&f);
    assert_eq!(r.user_agent.as_deref(), Some("Bot \"x\" \\ y\tz 日本"));
    assert_eq!(
        r.url.as_deref(),
        Some("http://www.example.com:80/a b?q=\"1\"")
    );
}

#[test]
fn what_is_not_a_native_record() {
    // Our own records carry "k".
    let ours = r#"{"k":"alb","v":1,"t":5,"elb":"x","request":"GET / HTTP/1.1"}"#;
    assert!(!may_be_native(ours));
    assert!(parse_record(ours).is_err());
    let map: serde_json::Map<String, Value> = serde_json::from_str(ours).unwrap();
    assert_eq!(Native::recognise(&map), None);
    assert_eq!(Native::recognise(&access()), Some(Native::Access));
    // Not JSON, another shape, a space in an unquoted field, a missing time.
    assert!(matches!(
        parse_record("plain text"),
        Err(ParseError::Format(_))
    ));
    assert!(matches!(
        parse_record(r#"{"foo":1}"#),
        Err(ParseError::Format(_))
    ));
    let mut f = access();
    f.insert("elb".into(), json!("app/my lb/1"));
    assert_eq!(
        record(&f),
        Err(ParseError::InvalidField {
            field: "elb",
            value: "app/my lb/1".into()
        })
    );
    let mut f = access();
    f.remove("time");
    assert!(record(&f).is_err());
}
