//! CloudWatch alarm notifications through the handler: an SNS event from the alarms topic
//! becomes one e-mail (mocked SNS) and one Slack message (local stub webhook), Japanese first;
//! a failed delivery fails the invocation so Lambda retries it.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use logdesk_notify::config::WebhookUrl;
use logdesk_notify::slack::{SlackClient, SlackPolicy};
use logdesk_notify::{Config, Deps, handler};
use serde_json::{Value, json};
use support::slack_stub::{Answer, SlackStub};

const ALARM_EVENT: &str = include_str!("data/sns-cloudwatch-alarm.json");
const BOUNCE: &str = include_str!("../../../shared/tests/data/ses-events/bounce.json");
const TOPIC: &str = "arn:aws:sns:ap-northeast-1:123456789012:logdesk-alerts";

type Published = Arc<Mutex<Vec<(String, String)>>>;

fn deps(slack: &SlackStub, lang: &str) -> (Deps, Published) {
    let lang = lang.to_owned();
    let config = Config::from_lookup(|k| match k {
        "ALERT_TOPIC_ARN" => Some(TOPIC.to_owned()),
        "ALERT_LANG" => Some(lang.clone()),
        _ => None,
    })
    .unwrap();
    let published: Published = Arc::default();
    let log = published.clone();
    let rule = mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
        log.lock().unwrap().push((
            req.subject().unwrap_or_default().to_owned(),
            req.message().unwrap_or_default().to_owned(),
        ));
        PublishOutput::builder().message_id("p").build()
    });
    let sns = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
    let policy = SlackPolicy {
        max_attempts: 1,
        min_interval: Duration::from_millis(10),
        ..SlackPolicy::default()
    };
    let slack = SlackClient::with_policy(WebhookUrl::new(slack.url.clone()), policy).unwrap();
    let deps = Deps {
        config,
        sns,
        slack: Some(slack),
    };
    (deps, published)
}

#[tokio::test]
async fn an_alarm_becomes_one_email_and_one_slack_message_japanese_first() {
    let slack = SlackStub::start(vec![Answer::ok()], "/services/T0/B0/alarm").await;
    let (deps, published) = deps(&slack, "ja");
    let event: Value = serde_json::from_str(ALARM_EVENT).unwrap();
    let response = handler(&deps, event).await.unwrap();
    assert_eq!(response, Value::Null);

    let published = published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    let (subject, body) = &published[0];
    assert_eq!(subject, "[logdesk] ALARM: Bounce rate rising");
    assert!(subject.is_ascii());
    let ja = body.find("【警報】不達率の上昇").expect(body);
    let en = body.find("[ALARM] Bounce rate rising").expect(body);
    assert!(ja < en);
    assert!(
        body.contains("日時：2026年11月22日 10:05（Asia/Tokyo）"),
        "{body}"
    );
    assert!(body.contains("Metric: AWS/SES / Reputation.BounceRate"));

    let bodies = slack.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["text"], "【警報】不達率の上昇");
    let text = bodies[0]["blocks"][1]["text"]["text"].as_str().unwrap();
    assert!(
        text.contains("10%を超えると送信を止めることがあります。"),
        "{text}"
    );
}

#[tokio::test]
async fn english_alone_when_the_language_is_english() {
    let slack = SlackStub::start(vec![Answer::ok()], "/services/T0/B0/alarm").await;
    let (deps, published) = deps(&slack, "en");
    handler(&deps, serde_json::from_str(ALARM_EVENT).unwrap())
        .await
        .unwrap();
    let body = published.lock().unwrap()[0].1.clone();
    assert!(!body.contains("【警報】") && body.contains("[ALARM] Bounce rate rising"));
    assert_eq!(slack.bodies()[0]["text"], "[ALARM] Bounce rate rising");
}

#[tokio::test]
async fn alarms_and_mail_events_in_one_sns_event_are_both_delivered() {
    let slack = SlackStub::start(vec![Answer::ok(), Answer::ok()], "/services/T0/B0/both").await;
    let (deps, published) = deps(&slack, "ja");
    let mut event: Value = serde_json::from_str(ALARM_EVENT).unwrap();
    let mut ses = event["Records"][0].clone();
    ses["Sns"]["MessageId"] = json!("ses-1");
    ses["Sns"]["Message"] = json!(BOUNCE);
    event["Records"].as_array_mut().unwrap().push(ses);
    handler(&deps, event).await.unwrap();
    let subjects: Vec<String> = published
        .lock()
        .unwrap()
        .iter()
        .map(|(s, _)| s.clone())
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects[0].starts_with("[logdesk] ALARM:"));
    assert_eq!(slack.bodies().len(), 2);
}

#[tokio::test]
async fn a_failed_slack_delivery_fails_the_invocation_for_a_retry() {
    let slack = SlackStub::start(vec![Answer::bad_request()], "/services/T0/B0/alarm").await;
    let (deps, _) = deps(&slack, "ja");
    let err = handler(&deps, serde_json::from_str(ALARM_EVENT).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "1 of the alert deliveries failed");
}
