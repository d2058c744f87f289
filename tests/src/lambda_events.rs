//! The Lambda events the notify function receives, built for tests: an SNS notification as
//! SNS delivers it to SQS, the SQS and SNS events Lambda hands the function, and the SQS
//! partial-batch answer read back. Shapes follow the samples of `events/` and the
//! `aws_lambda_events` types; ids, ARNs and times are fixed placeholders.

use std::collections::BTreeSet;

use serde_json::{Value, json};

/// An SNS notification carrying `message` as SNS delivers it to SQS (raw message delivery off):
/// the JSON text an SQS record's `body` holds.
pub fn sns_envelope(sns_id: &str, message: &str) -> String {
    json!({
        "Type": "Notification",
        "MessageId": sns_id,
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
        "Subject": "Amazon SES Email Event Notification",
        "Message": format!("{message}\n"),
        "Timestamp": "2026-11-22T01:15:00.000Z",
        "SignatureVersion": "1",
        "Signature": "EXAMPLE",
        "SigningCertURL": "https://sns.us-east-1.amazonaws.com/cert.pem",
        "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
    })
    .to_string()
}

/// An SQS event with one record per `(messageId, body)`.
pub fn sqs_event(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "receiptHandle": "AQEB",
                "body": body,
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:logdesk-notify",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    json!({ "Records": records })
}

/// An SNS event (the function subscribed to the topic) with one record per
/// `(MessageId, Message)`.
pub fn sns_event(messages: &[(&str, String)]) -> Value {
    let records: Vec<Value> = messages
        .iter()
        .map(|(id, message)| {
            json!({
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:ses-events:1",
                "EventSource": "aws:sns",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": id,
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
                    "Subject": null,
                    "Message": message,
                    "Timestamp": "2026-11-22T01:15:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "https://sns.us-east-1.amazonaws.com/cert.pem",
                    "UnsubscribeUrl": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
                    "MessageAttributes": {}
                }
            })
        })
        .collect();
    json!({ "Records": records })
}

/// The message ids of an SQS partial-batch answer (`batchItemFailures[].itemIdentifier`).
///
/// # Panics
/// When the answer is not that shape: the test that asked then fails, as it should.
pub fn batch_item_failures(response: &Value) -> BTreeSet<String> {
    response["batchItemFailures"]
        .as_array()
        .expect("a batchItemFailures array")
        .iter()
        .map(|f| {
            f["itemIdentifier"]
                .as_str()
                .expect("an itemIdentifier string")
                .to_owned()
        })
        .collect()
}
