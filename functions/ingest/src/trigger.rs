//! What invoked the function: S3 event notifications (any `ObjectCreated:*`), S3 events through
//! EventBridge (`Object Created`), or the `s3:TestEvent` S3 sends once when notifications are
//! configured.

use aws_lambda_events::s3::S3Event;
use serde::Deserialize;
use serde_json::Value;

/// One S3 object to ingest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Object key, URL-decoded.
    pub key: String,
}

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// Ingest these objects (other S3 event kinds in the same batch are left out).
    Objects(Vec<ObjectRef>),
    /// S3's `s3:TestEvent`: acknowledged, nothing to do.
    Test,
}

/// An event this function does not understand.
#[derive(Debug, thiserror::Error)]
pub enum TriggerError {
    /// The JSON looked like an S3 notification but did not deserialize as one.
    #[error("malformed S3 event notification: {0}")]
    S3(serde_json::Error),
    /// The JSON looked like an EventBridge event but lacked the bucket or key.
    #[error("malformed EventBridge S3 event: {0}")]
    EventBridge(serde_json::Error),
    /// Neither an S3 notification, an EventBridge S3 event nor the S3 test event.
    #[error(
        "unrecognised event (not S3 ObjectCreated, EventBridge Object Created or s3:TestEvent)"
    )]
    Unknown,
}

#[derive(Deserialize)]
struct LenientS3Event {
    #[serde(rename = "Records")]
    records: Vec<LenientS3Record>,
}

#[derive(Deserialize)]
struct LenientS3Record {
    #[serde(rename = "eventName")]
    event_name: Option<String>,
    s3: LenientS3Entity,
}

#[derive(Deserialize)]
struct LenientS3Entity {
    bucket: LenientName,
    object: LenientKey,
}

#[derive(Deserialize)]
struct LenientName {
    name: Option<String>,
}

#[derive(Deserialize)]
struct LenientKey {
    key: Option<String>,
}

#[derive(Deserialize)]
struct EventBridgeDetail {
    bucket: EventBridgeBucket,
    object: EventBridgeObject,
}

#[derive(Deserialize)]
struct EventBridgeBucket {
    name: String,
}

#[derive(Deserialize)]
struct EventBridgeObject {
    key: String,
}

/// Reads the invocation event.
pub fn parse_trigger(event: &Value) -> Result<Trigger, TriggerError> {
    if event.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Trigger::Test);
    }
    if event.get("Records").is_some() {
        let records: Vec<(Option<String>, Option<String>, Option<String>)> =
            match serde_json::from_value::<S3Event>(event.clone()) {
                Ok(s3) => s3
                    .records
                    .into_iter()
                    .map(|r| (r.event_name, r.s3.bucket.name, r.s3.object.key))
                    .collect(),
                // Hand-made events (tests, replays) often leave out fields the crate requires;
                // the three that matter are enough.
                Err(strict) => serde_json::from_value::<LenientS3Event>(event.clone())
                    .map_err(|_| TriggerError::S3(strict))?
                    .records
                    .into_iter()
                    .map(|r| (r.event_name, r.s3.bucket.name, r.s3.object.key))
                    .collect(),
            };
        let objects = records
            .into_iter()
            .filter(|(name, _, _)| {
                name.as_deref()
                    .is_some_and(|n| n.starts_with("ObjectCreated:"))
            })
            .filter_map(|(_, bucket, key)| {
                Some(ObjectRef {
                    bucket: bucket?,
                    key: decode_key(&key?),
                })
            })
            .collect();
        return Ok(Trigger::Objects(objects));
    }
    if let Some(detail_type) = event.get("detail-type").and_then(Value::as_str) {
        if detail_type != "Object Created" {
            return Ok(Trigger::Objects(Vec::new()));
        }
        let detail: EventBridgeDetail =
            serde_json::from_value(event.get("detail").cloned().unwrap_or(Value::Null))
                .map_err(TriggerError::EventBridge)?;
        // EventBridge keys are URL-encoded like notification keys; decoding is the same.
        return Ok(Trigger::Objects(vec![ObjectRef {
            bucket: detail.bucket.name,
            key: decode_key(&detail.object.key),
        }]));
    }
    Err(TriggerError::Unknown)
}

/// Decodes an S3 notification key (`application/x-www-form-urlencoded`: `+` is a space, `%XX` a
/// byte). Malformed escapes are kept literally; invalid UTF-8 is replaced.
pub fn decode_key(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                    std::str::from_utf8(h)
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                });
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_decoding_table() {
        for (raw, decoded) in [
            ("red+flower.jpg", "red flower.jpg"),
            ("Happy%20Face.jpg", "Happy Face.jpg"),
            ("c%2B%2B.log", "c++.log"),
            ("a%3Ab%2Fc", "a:b/c"),
            ("%E4%BB%B6.log", "件.log"),
            ("bad%zz%", "bad%zz%"),
            ("trailing%4", "trailing%4"),
            ("plain/AWSLogs/x.log.gz", "plain/AWSLogs/x.log.gz"),
        ] {
            assert_eq!(decode_key(raw), decoded, "{raw}");
        }
    }

    fn s3_event(name: &str, key: &str) -> Value {
        json!({"Records": [{
            "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
            "eventTime": "2026-01-01T00:00:00.000Z", "eventName": name,
            "userIdentity": {"principalId": "x"}, "requestParameters": {"sourceIPAddress": "1.2.3.4"},
            "responseElements": {"x-amz-request-id": "r", "x-amz-id-2": "i"},
            "s3": {"s3SchemaVersion": "1.0", "configurationId": "c",
                   "bucket": {"name": "logs", "ownerIdentity": {"principalId": "x"}, "arn": "arn:aws:s3:::logs"},
                   "object": {"key": key, "size": 10, "eTag": "e", "sequencer": "0A"}}
        }]})
    }

    #[test]
    fn every_object_created_kind_is_taken() {
        for name in [
            "ObjectCreated:Put",
            "ObjectCreated:Post",
            "ObjectCreated:CompleteMultipartUpload",
            "ObjectCreated:Copy",
        ] {
            assert_eq!(
                parse_trigger(&s3_event(name, "a+b%2Bc")).unwrap(),
                Trigger::Objects(vec![ObjectRef {
                    bucket: "logs".into(),
                    key: "a b+c".into()
                }]),
                "{name}"
            );
        }
        assert_eq!(
            parse_trigger(&s3_event("ObjectRemoved:Delete", "k")).unwrap(),
            Trigger::Objects(vec![])
        );
    }

    #[test]
    fn reference_put_event_parses() {
        let text = include_str!("../tests/data/s3-objectcreated-put.json");
        let event: Value = serde_json::from_str(text).unwrap();
        let Trigger::Objects(objects) = parse_trigger(&event).unwrap() else {
            panic!("not objects")
        };
        assert_eq!(objects.len(), 1);
    }

    #[test]
    fn test_event_is_acknowledged() {
        let text = include_str!("../tests/data/s3-test-event.json");
        let event: Value = serde_json::from_str(text).unwrap();
        assert_eq!(parse_trigger(&event).unwrap(), Trigger::Test);
    }

    #[test]
    fn eventbridge_object_created() {
        let event = json!({
            "version": "0", "id": "1", "detail-type": "Object Created", "source": "aws.s3",
            "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
            "resources": ["arn:aws:s3:::logs"],
            "detail": {"version": "0", "bucket": {"name": "logs"},
                       "object": {"key": "AWSLogs/1/x+y.log.gz", "size": 5, "etag": "e", "sequencer": "1"},
                       "request-id": "r", "requester": "1", "reason": "PutObject"}
        });
        assert_eq!(
            parse_trigger(&event).unwrap(),
            Trigger::Objects(vec![ObjectRef {
                bucket: "logs".into(),
                key: "AWSLogs/1/x y.log.gz".into()
            }])
        );
        let mut deleted = event.clone();
        deleted["detail-type"] = json!("Object Deleted");
        assert_eq!(parse_trigger(&deleted).unwrap(), Trigger::Objects(vec![]));
        let mut broken = event;
        broken["detail"] = json!({});
        assert!(matches!(
            parse_trigger(&broken),
            Err(TriggerError::EventBridge(_))
        ));
    }

    #[test]
    fn unknown_event_is_an_error() {
        assert!(matches!(
            parse_trigger(&json!({"hello": 1})),
            Err(TriggerError::Unknown)
        ));
    }

    #[test]
    fn sample_events_parse() {
        for (text, n) in [
            (include_str!("../../../events/ingest/s3-alb-put.json"), 1),
            (
                include_str!("../../../events/ingest/eventbridge-ses-object-created.json"),
                1,
            ),
            (include_str!("../../../events/ingest/s3-test-event.json"), 0),
        ] {
            let event: Value = serde_json::from_str(text).unwrap();
            let got = match parse_trigger(&event).unwrap() {
                Trigger::Objects(o) => o.len(),
                Trigger::Test => 0,
            };
            assert_eq!(got, n);
        }
    }
}
