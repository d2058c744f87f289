//! The handler end to end inside the crate: SNS and SQS events in, the e-mail through a mocked
//! SNS client (aws-smithy-mocks, for exact failure injection) and Slack through a local stub
//! webhook that can answer 429 and 500.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use logdesk_e2e::lambda_events::{
    batch_item_failures as failures, sns_envelope, sns_event, sqs_event,
};
use logdesk_notify::config::WebhookUrl;
use logdesk_notify::slack::{SlackClient, SlackPolicy};
use logdesk_notify::{Config, Deps, handler};
use serde_json::{Value, json};
use support::slack_stub::{Answer, SlackStub};

const BOUNCE: &str = include_str!("../../../shared/tests/data/ses-events/bounce.json");
const COMPLAINT_NOTIFICATION: &str = include_str!(
    "../../../shared/tests/data/ses-notifications/complaint-without-feedback-report.json"
);
const DELIVERY: &str = include_str!("../../../shared/tests/data/ses-events/delivery.json");
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:logdesk-alerts";
const SECRET_PATH: &str = "/services/T0000/B0000/S3CR3TT0K3N";

/// The bounce sample for another recipient, `minute` minutes later.
fn bounce_for(recipient: &str, minute: u32) -> String {
    let mut v: Value = serde_json::from_str(BOUNCE).unwrap();
    v["mail"]["destination"] = json!([recipient]);
    v["bounce"]["bouncedRecipients"][0]["emailAddress"] = json!(recipient);
    v["bounce"]["timestamp"] = json!(format!("2026-11-22T01:{minute:02}:00.000Z"));
    v.to_string()
}

fn fast_policy() -> SlackPolicy {
    SlackPolicy {
        max_attempts: 3,
        timeout: Duration::from_secs(5),
        backoff: Duration::from_millis(10),
        max_retry_after: Duration::from_secs(5),
        default_retry_after: Duration::from_millis(10),
        min_interval: Duration::from_millis(20),
        alert_budget: Duration::from_secs(20),
    }
}

fn config(extra: &[(&str, &str)]) -> Config {
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("ALERT_TOPIC_ARN".into(), TOPIC.into());
    for (k, v) in extra {
        map.insert(k.to_string(), v.to_string());
    }
    Config::from_lookup(|k| map.get(k).cloned()).unwrap()
}

type Published = Arc<Mutex<Vec<(String, String)>>>;

/// An SNS client whose Publish succeeds and records (subject, message).
fn recording_sns() -> (aws_sdk_sns::Client, Published) {
    let published: Published = Arc::default();
    let log = published.clone();
    let rule = mock!(aws_sdk_sns::Client::publish).then_compute_output(move |req| {
        assert_eq!(req.topic_arn(), Some(TOPIC));
        log.lock().unwrap().push((
            req.subject().unwrap_or_default().to_owned(),
            req.message().unwrap_or_default().to_owned(),
        ));
        PublishOutput::builder().message_id("published-1").build()
    });
    (
        mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]),
        published,
    )
}

fn deps(config: Config, sns: aws_sdk_sns::Client, slack: Option<&SlackStub>) -> Deps {
    let slack = slack
        .map(|s| SlackClient::with_policy(WebhookUrl::new(s.url.clone()), fast_policy()).unwrap());
    Deps { config, sns, slack }
}

#[tokio::test]
async fn sns_event_sends_one_email_and_one_slack_message() {
    let slack = SlackStub::start(vec![Answer::ok()], SECRET_PATH).await;
    let (sns, published) = recording_sns();
    let deps = deps(config(&[]), sns, Some(&slack));
    let event = sns_event(&[("sns-1", format!("{BOUNCE}\n"))]);
    let response = handler(&deps, event).await.unwrap();
    assert_eq!(response, Value::Null);

    let published = published.lock().unwrap().clone();
    assert_eq!(published.len(), 1);
    let (subject, body) = &published[0];
    assert_eq!(subject, "[logdesk] 1 bounce: recipient@example.com");
    assert!(body.starts_with("不達 1件\n"), "{body}");
    assert!(body.contains("宛先：recipient@example.com"));
    assert!(body.contains("発生日時：2017-08-05 09:41（JST）"));

    let bodies = slack.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["text"], "不達 1件");
    assert_eq!(slack.received()[0].path, SECRET_PATH);
}

#[tokio::test]
async fn sqs_batch_mixes_wrapped_raw_and_garbage_into_one_digest() {
    let slack = SlackStub::start(vec![Answer::ok()], SECRET_PATH).await;
    let (sns, published) = recording_sns();
    let deps = deps(config(&[("ALERT_LANG", "en")]), sns, Some(&slack));
    let subscription = json!({
        "Type": "SubscriptionConfirmation", "MessageId": "sub-1",
        "Message": "You have chosen to subscribe", "SubscribeURL": "https://example.com"
    })
    .to_string();
    let event = sqs_event(&[
        (
            "m-wrapped",
            sns_envelope("sns-1", &bounce_for("a@example.jp", 10)),
        ),
        ("m-raw", COMPLAINT_NOTIFICATION.to_owned()),
        ("m-garbage", "{not json".to_owned()),
        ("m-subscription", subscription),
        ("m-delivery", sns_envelope("sns-2", DELIVERY)),
    ]);
    let response = handler(&deps, event).await.unwrap();
    assert!(failures(&response).is_empty(), "{response}");
    let published = published.lock().unwrap().clone();
    assert_eq!(published.len(), 1, "one digest per batch");
    assert_eq!(published[0].0, "[logdesk] 1 bounce, 1 complaint");
    assert_eq!(slack.bodies().len(), 1);
    assert_eq!(slack.bodies()[0]["text"], "1 bounce, 1 complaint");
}

#[tokio::test]
async fn nothing_to_alert_sends_nothing() {
    let slack = SlackStub::start(vec![Answer::ok()], SECRET_PATH).await;
    let (sns, published) = recording_sns();
    let deps = deps(config(&[]), sns, Some(&slack));
    let event = sqs_event(&[("m-delivery", sns_envelope("sns-2", DELIVERY))]);
    let response = handler(&deps, event).await.unwrap();
    assert!(failures(&response).is_empty());
    assert!(published.lock().unwrap().is_empty());
    assert!(slack.received().is_empty());
}

#[tokio::test]
async fn slack_429_waits_for_retry_after_then_succeeds() {
    let slack = SlackStub::start(vec![Answer::rate_limited(1), Answer::ok()], SECRET_PATH).await;
    let (sns, _) = recording_sns();
    let deps = deps(config(&[]), sns, Some(&slack));
    let event = sqs_event(&[("m1", sns_envelope("sns-1", BOUNCE))]);
    let response = handler(&deps, event).await.unwrap();
    assert!(failures(&response).is_empty());
    let received = slack.received();
    assert_eq!(received.len(), 2);
    let waited = received[1].at - received[0].at;
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
    assert_eq!(received[0].body, received[1].body, "the same message again");
}

#[tokio::test]
async fn slack_failing_reports_the_messages_as_batch_failures() {
    let slack = SlackStub::start(vec![Answer::server_error()], SECRET_PATH).await;
    let (sns, published) = recording_sns();
    let deps = deps(config(&[]), sns, Some(&slack));
    let event = sqs_event(&[
        ("m1", sns_envelope("sns-1", &bounce_for("a@example.jp", 1))),
        ("m2", sns_envelope("sns-2", &bounce_for("b@example.jp", 2))),
        ("m-garbage", "nope".to_owned()),
    ]);
    let response = handler(&deps, event).await.unwrap();
    assert_eq!(
        failures(&response),
        BTreeSet::from(["m1".into(), "m2".into()])
    );
    assert_eq!(slack.received().len(), 3, "max_attempts");
    assert_eq!(published.lock().unwrap().len(), 1, "e-mail still sent");
}

#[tokio::test]
async fn split_digest_reports_only_the_messages_of_failed_slack_parts() {
    // 50 bounces, one per SQS message: Slack parts of 20, 20 and 10 events. The second part
    // is refused (400, not retried), so the third is not attempted either.
    let slack = SlackStub::start(vec![Answer::ok(), Answer::bad_request()], SECRET_PATH).await;
    let (sns, _) = recording_sns();
    let deps = deps(config(&[]), sns, Some(&slack));
    let messages: Vec<(String, String)> = (0..50)
        .map(|i| {
            (
                format!("m{i:02}"),
                sns_envelope(
                    &format!("sns-{i}"),
                    &bounce_for(&format!("s{i:02}@example.jp"), i),
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, String)> = messages
        .iter()
        .map(|(id, b)| (id.as_str(), b.clone()))
        .collect();
    let started = Instant::now();
    let response = handler(&deps, sqs_event(&refs)).await.unwrap();
    let failed = failures(&response);
    // Same bounce type for all: the digest is in time order, i.e. message order.
    let expected: BTreeSet<String> = (20..50).map(|i| format!("m{i:02}")).collect();
    assert_eq!(failed, expected);
    assert_eq!(slack.received().len(), 2);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn sns_publish_failure_fails_every_message_with_events_but_slack_still_goes_out() {
    let slack = SlackStub::start(vec![Answer::ok()], SECRET_PATH).await;
    let rule = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_status(
            500,
            Some("<ErrorResponse><Error><Code>InternalError</Code></Error></ErrorResponse>".into()),
        )
        .repeatedly()
        .build();
    let sns = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
    let deps = deps(config(&[]), sns, Some(&slack));
    let event = sqs_event(&[
        ("m1", sns_envelope("sns-1", BOUNCE)),
        ("m-delivery", sns_envelope("sns-2", DELIVERY)),
    ]);
    let response = handler(&deps, event).await.unwrap();
    assert_eq!(failures(&response), BTreeSet::from(["m1".into()]));
    assert!(rule.num_calls() >= 1);
    assert_eq!(slack.received().len(), 1);
}

#[tokio::test]
async fn sns_trigger_fails_the_invocation_when_delivery_fails() {
    let rule = mock!(aws_sdk_sns::Client::publish)
        .sequence()
        .http_status(400, Some("<ErrorResponse><Error><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>".into()))
        .repeatedly()
        .build();
    let sns = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
    let deps = deps(config(&[]), sns, None);
    let event = sns_event(&[("sns-1", BOUNCE.to_owned())]);
    let err = handler(&deps, event).await.unwrap_err();
    assert!(err.to_string().contains("failed"), "{err}");
}

#[tokio::test]
async fn no_destinations_is_fine() {
    let (sns, published) = recording_sns();
    let config = Config::from_lookup(|_| None).unwrap();
    let deps = deps(config, sns, None);
    let event = sqs_event(&[("m1", BOUNCE.to_owned())]);
    let response = handler(&deps, event).await.unwrap();
    assert!(failures(&response).is_empty());
    assert!(published.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_event_is_an_error_not_a_panic() {
    let (sns, _) = recording_sns();
    let deps = deps(config(&[]), sns, None);
    assert!(handler(&deps, json!({"hello": "world"})).await.is_err());
    assert!(
        handler(&deps, json!({"Records": [{"EventSource": "aws:sns"}]}))
            .await
            .is_err()
    );
}

/// Captures log output for the current thread.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn webhook_url_never_appears_in_logs_or_errors() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    // A server that fails, and a port where nothing listens (connection refused).
    let failing = SlackStub::start(vec![Answer::server_error()], SECRET_PATH).await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}{SECRET_PATH}", l.local_addr().unwrap())
    };
    for url in [failing.url.clone(), closed] {
        let client = SlackClient::with_policy(WebhookUrl::new(url), fast_policy()).unwrap();
        let err = client.post(&json!({"text": "x"})).await.unwrap_err();
        assert!(!err.to_string().contains("S3CR3T"), "{err}");
        assert!(!format!("{err:?}").contains("S3CR3T"), "{err:?}");
        assert!(!format!("{client:?}").contains("S3CR3T"));
    }
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("Slack"), "logs were captured: {logs}");
    assert!(!logs.contains("S3CR3T"), "{logs}");
}

#[tokio::test]
async fn the_same_event_delivered_twice_is_listed_once() {
    let (sns, published) = recording_sns();
    let deps = deps(config(&[]), sns, None);
    let event = sqs_event(&[
        ("m1", sns_envelope("sns-1", BOUNCE)),
        ("m2", sns_envelope("sns-1", BOUNCE)),
    ]);
    let response = handler(&deps, event).await.unwrap();
    assert!(failures(&response).is_empty());
    let published = published.lock().unwrap().clone();
    assert_eq!(published[0].0, "[logdesk] 1 bounce: recipient@example.com");
}

#[tokio::test]
async fn slack_waits_never_outlast_the_alert_budget() {
    // Retry-After 3 s is allowed per wait (max 5 s) but not within a 1 s budget.
    let slack = SlackStub::start(vec![Answer::rate_limited(3)], SECRET_PATH).await;
    let (sns, _) = recording_sns();
    let policy = SlackPolicy {
        alert_budget: Duration::from_secs(1),
        ..fast_policy()
    };
    let client = SlackClient::with_policy(WebhookUrl::new(slack.url.clone()), policy).unwrap();
    let deps = Deps {
        config: config(&[]),
        sns,
        slack: Some(client),
    };
    let started = Instant::now();
    let event = sqs_event(&[("m1", sns_envelope("sns-1", BOUNCE))]);
    let response = handler(&deps, event).await.unwrap();
    assert_eq!(failures(&response), BTreeSet::from(["m1".into()]));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(slack.received().len(), 1);
}
