//! notify end to end against the emulator: an SQS batch of SNS-wrapped SES events goes through
//! the handler; the alerts topic (real SNS Publish to moto) receives exactly one message, read
//! back through an SQS queue subscribed to it; Slack is a local stub on 127.0.0.1 that answers
//! 429 (Retry-After: 1) and 500.

#[path = "../../functions/notify/tests/support/slack_stub.rs"]
mod slack_stub;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_config::SdkConfig;
use logdesk_e2e::Emulator;
use logdesk_e2e::lambda_events::{batch_item_failures as failures, sns_envelope, sqs_event};
use logdesk_notify::config::WebhookUrl;
use logdesk_notify::slack::{SlackClient, SlackPolicy};
use logdesk_notify::{Config, Deps, handler};
use serde_json::Value;
use slack_stub::{Answer, SlackStub};

const BOUNCE: &str = include_str!("../../shared/tests/data/ses-events/bounce.json");
const COMPLAINT: &str = include_str!("../../shared/tests/data/ses-events/complaint.json");
const BOUNCE_NOTIFICATION: &str =
    include_str!("../../shared/tests/data/ses-notifications/bounce-with-dsn.json");
const DELIVERY: &str = include_str!("../../shared/tests/data/ses-events/delivery.json");

async fn aws(emulator: &Emulator) -> SdkConfig {
    emulator.sdk_config().await
}

/// The alerts topic and a queue subscribed to it (raw delivery off, as an e-mail-like reader).
async fn alerts_topic(aws: &SdkConfig, name: &str) -> (String, String) {
    let sns = aws_sdk_sns::Client::new(aws);
    let sqs = aws_sdk_sqs::Client::new(aws);
    let topic = sns.create_topic().name(name).send().await.unwrap();
    let topic_arn = topic.topic_arn().unwrap().to_owned();
    let queue = sqs
        .create_queue()
        .queue_name(format!("{name}-readback"))
        .send()
        .await
        .unwrap();
    let queue_url = queue.queue_url().unwrap().to_owned();
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn = attrs
        .attributes()
        .unwrap()
        .get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .unwrap()
        .clone();
    sns.subscribe()
        .topic_arn(&topic_arn)
        .protocol("sqs")
        .endpoint(queue_arn)
        .send()
        .await
        .unwrap();
    (topic_arn, queue_url)
}

/// Every message in the queue (bounded: stops after an empty receive).
async fn drain(aws: &SdkConfig, queue_url: &str) -> Vec<Value> {
    let sqs = aws_sdk_sqs::Client::new(aws);
    let mut out = Vec::new();
    for _ in 0..10 {
        let got = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if got.messages().is_empty() {
            break;
        }
        for m in got.messages() {
            out.push(serde_json::from_str(m.body().unwrap()).unwrap());
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    out
}

fn batch() -> Value {
    sqs_event(&[
        ("m-bounce", sns_envelope("sns-1", BOUNCE)),
        ("m-complaint", sns_envelope("sns-2", COMPLAINT)),
        ("m-notification", sns_envelope("sns-3", BOUNCE_NOTIFICATION)),
        ("m-delivery", sns_envelope("sns-4", DELIVERY)),
        (
            "m-garbage",
            "{\"Type\":\"Notification\",\"MessageId\":\"sns-5\",\"Message\":\"oops\"}".into(),
        ),
    ])
}

fn deps(aws: &SdkConfig, topic_arn: &str, slack: &SlackStub) -> Deps {
    let topic = topic_arn.to_owned();
    let config = Config::from_lookup(|k| (k == "ALERT_TOPIC_ARN").then(|| topic.clone())).unwrap();
    let policy = SlackPolicy {
        max_attempts: 3,
        backoff: Duration::from_millis(20),
        min_interval: Duration::from_millis(50),
        ..SlackPolicy::default()
    };
    let slack = SlackClient::with_policy(WebhookUrl::new(slack.url.clone()), policy).unwrap();
    Deps {
        config,
        sns: aws_sdk_sns::Client::new(aws),
        slack: Some(slack),
    }
}

#[tokio::test]
async fn sqs_batch_becomes_one_email_and_one_slack_message_after_a_429() {
    let emulator = Emulator::start().expect("start emulator");
    let aws = aws(&emulator).await;
    let (topic_arn, queue_url) = alerts_topic(&aws, "logdesk-alerts").await;
    let slack = SlackStub::start(
        vec![Answer::rate_limited(1), Answer::ok()],
        "/services/T0/B0/e2e",
    )
    .await;
    let deps = deps(&aws, &topic_arn, &slack);

    let response = handler(&deps, batch()).await.unwrap();
    assert!(failures(&response).is_empty(), "{response}");

    let received = drain(&aws, &queue_url).await;
    assert_eq!(received.len(), 1, "one alert per batch: {received:?}");
    let alert = &received[0];
    assert_eq!(alert["Type"], "Notification");
    assert_eq!(alert["Subject"], "[logdesk] 2 bounces, 1 complaint");
    let body = alert["Message"].as_str().unwrap();
    assert!(body.starts_with("不達 2件・迷惑メール報告 1件\n"), "{body}");
    // Permanent bounces first, complaint last; event publishing and notification alike.
    assert!(body.contains("■ 1. 【不達（恒久的）】"), "{body}");
    assert!(body.contains("■ 2. 【不達（恒久的）】"), "{body}");
    assert!(body.contains("■ 3. 【迷惑メール報告】"), "{body}");
    for to in ["recipient@example.com", "jane@example.com"] {
        assert!(body.contains(&format!("宛先：{to}")), "{to} in {body}");
    }

    let requests = slack.received();
    assert_eq!(requests.len(), 2, "429 then the same message again");
    assert!(requests[1].at - requests[0].at >= Duration::from_millis(950));
    let payload: Value = serde_json::from_str(&requests[1].body).unwrap();
    assert_eq!(payload["text"], "不達 2件・迷惑メール報告 1件");
}

#[tokio::test]
async fn slack_down_reports_partial_failures_and_the_retry_sends_only_those() {
    let emulator = Emulator::start().expect("start emulator");
    let aws = aws(&emulator).await;
    let (topic_arn, queue_url) = alerts_topic(&aws, "logdesk-alerts-2").await;
    let down = SlackStub::start(vec![Answer::server_error()], "/services/T0/B0/down").await;
    let deps_down = deps(&aws, &topic_arn, &down);

    let response = handler(&deps_down, batch()).await.unwrap();
    let failed = failures(&response);
    // The delivery and garbage messages carried no alert: they are acknowledged.
    let expected: BTreeSet<String> = ["m-bounce", "m-complaint", "m-notification"]
        .map(String::from)
        .into();
    assert_eq!(failed, expected);
    assert_eq!(down.received().len(), 3, "retried up to max_attempts");
    assert_eq!(
        drain(&aws, &queue_url).await.len(),
        1,
        "the e-mail went out"
    );

    // SQS redelivers only the failed messages; Slack is back.
    let up = SlackStub::start(vec![Answer::ok()], "/services/T0/B0/up").await;
    let deps_up = deps(&aws, &topic_arn, &up);
    let Value::Object(mut event) = batch() else {
        unreachable!()
    };
    let records: Vec<Value> = event["Records"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| failed.contains(r["messageId"].as_str().unwrap()))
        .cloned()
        .collect();
    event.insert("Records".into(), Value::Array(records));
    let response = handler(&deps_up, Value::Object(event)).await.unwrap();
    assert!(failures(&response).is_empty());
    assert_eq!(up.received().len(), 1);
    assert_eq!(drain(&aws, &queue_url).await.len(), 1);
}
