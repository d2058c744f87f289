//! The Slack webhook URL read from Secrets Manager (a mocked client, aws-smithy-mocks): the
//! value is what Slack receives, it is read once per cache period, it never reaches a log
//! line, a failed read fails only the Slack delivery with a clear error, and notify works
//! without any secret.

mod support;

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_secretsmanager::operation::get_secret_value::{
    GetSecretValueError, GetSecretValueOutput,
};
use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
use aws_sdk_sns::operation::publish::PublishOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use logdesk_e2e::lambda_events::{self, batch_item_failures as failures};
use logdesk_notify::slack::{SlackClient, SlackPolicy};
use logdesk_notify::webhook::{PLACEHOLDER, SecretError, Webhook, WebhookSecret};
use logdesk_notify::{Config, Deps, handler};
use serde_json::Value;
use support::slack_stub::{Answer, SlackStub};

const BOUNCE: &str = include_str!("../../../shared/tests/data/ses-events/bounce.json");
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:logdesk-alerts";
const SECRET_ARN: &str =
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:logdesk/slack-webhook-AbCdEf";
const SECRET_PATH: &str = "/services/T0000/B0000/S3CR3TT0K3N";

/// One SQS record holding the bounce sample, as the SES events queue delivers it.
fn sqs_event(id: &str) -> Value {
    lambda_events::sqs_event(&[(id, lambda_events::sns_envelope("sns-1", BOUNCE))])
}

fn config() -> Config {
    Config::from_lookup(|k| match k {
        "ALERT_TOPIC_ARN" => Some(TOPIC.to_owned()),
        "SLACK_WEBHOOK_SECRET_ARN" => Some(SECRET_ARN.to_owned()),
        _ => None,
    })
    .unwrap()
}

fn sns() -> (aws_sdk_sns::Client, Rule) {
    let rule = mock!(aws_sdk_sns::Client::publish)
        .then_output(|| PublishOutput::builder().message_id("p-1").build());
    let client = mock_client!(aws_sdk_sns, RuleMode::MatchAny, [&rule]);
    (client, rule)
}

fn secret_value(value: &str) -> Rule {
    let value = value.to_owned();
    mock!(aws_sdk_secretsmanager::Client::get_secret_value)
        .match_requests(|r| r.secret_id() == Some(SECRET_ARN))
        .then_output(move || {
            GetSecretValueOutput::builder()
                .arn(SECRET_ARN)
                .secret_string(value.clone())
                .build()
        })
}

fn fast() -> SlackPolicy {
    SlackPolicy {
        max_attempts: 2,
        backoff: Duration::from_millis(10),
        min_interval: Duration::from_millis(10),
        alert_budget: Duration::from_secs(10),
        ..SlackPolicy::default()
    }
}

fn deps_with(rule: &Rule, ttl: Duration) -> (Deps, Rule) {
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [rule]);
    let secret = WebhookSecret::with_ttl(secrets, SECRET_ARN, ttl);
    let (sns, published) = sns();
    let deps = Deps {
        config: config(),
        sns,
        slack: Some(SlackClient::from_secret(secret, fast()).unwrap()),
    };
    (deps, published)
}

/// Every log line written while `f` runs (JSON, as the function logs).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn the_secret_value_is_the_url_slack_receives_and_is_never_logged() {
    let slack = SlackStub::start(vec![Answer::ok(), Answer::ok()], SECRET_PATH).await;
    let rule = secret_value(&slack.url);
    let (deps, published) = deps_with(&rule, Duration::from_secs(300));
    let (logs, _guard) = capture_logs();
    for id in ["m1", "m2"] {
        let response = handler(&deps, sqs_event(id)).await.unwrap();
        assert!(failures(&response).is_empty(), "{response}");
    }
    let received = slack.received();
    assert_eq!(received.len(), 2);
    assert!(received.iter().all(|r| r.path == SECRET_PATH));
    assert_eq!(published.num_calls(), 2);
    // Cached: one read for the two invocations.
    assert_eq!(rule.num_calls(), 1);
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains("read the Slack webhook secret"), "{text}");
    assert!(
        !text.contains("S3CR3TT0K3N"),
        "the webhook URL was logged: {text}"
    );
}

#[tokio::test]
async fn the_secret_is_read_again_once_the_cache_period_is_over() {
    let slack = SlackStub::start(vec![Answer::ok(), Answer::ok()], SECRET_PATH).await;
    let rule = secret_value(&slack.url);
    let (deps, _) = deps_with(&rule, Duration::ZERO);
    for id in ["m1", "m2"] {
        handler(&deps, sqs_event(id)).await.unwrap();
    }
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test]
async fn an_unreadable_secret_fails_slack_with_a_clear_error_and_email_still_goes() {
    let rule = mock!(aws_sdk_secretsmanager::Client::get_secret_value).then_error(|| {
        GetSecretValueError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Secrets Manager can't find the specified secret.")
                .build(),
        )
    });
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&rule]);
    let secret = WebhookSecret::new(secrets, SECRET_ARN);
    let err = secret.webhook().await.unwrap_err();
    assert!(matches!(err, SecretError::Read { .. }));
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "cannot read the Slack webhook secret {SECRET_ARN}:"
        )) && text.contains("can't find the specified secret"),
        "{text}"
    );

    let (deps, published) = deps_with(&rule, Duration::from_secs(300));
    let (logs, _guard) = capture_logs();
    let response = handler(&deps, sqs_event("m1")).await.unwrap();
    assert_eq!(failures(&response), BTreeSet::from(["m1".to_owned()]));
    assert_eq!(
        published.num_calls(),
        1,
        "the e-mail does not wait on Slack"
    );
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("cannot read the Slack webhook secret"),
        "{logged}"
    );
}

#[tokio::test]
async fn a_value_that_is_not_an_https_url_is_refused_without_showing_it() {
    let rule = secret_value("hooks.slack.com/services/T0/B0/S3CR3TT0K3N");
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&rule]);
    let err = WebhookSecret::new(secrets, SECRET_ARN)
        .webhook()
        .await
        .unwrap_err();
    assert!(matches!(err, SecretError::NotAUrl { .. }));
    assert!(!format!("{err} {err:?}").contains("S3CR3TT0K3N"));
    let rule = secret_value("http://hooks.slack.com/services/T0/B0/S3CR3TT0K3N");
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&rule]);
    let err = WebhookSecret::new(secrets, SECRET_ARN).webhook().await;
    assert!(
        matches!(err, Err(SecretError::NotAUrl { .. })),
        "plain http leaves the machine"
    );
}

#[tokio::test]
async fn the_placeholder_skips_slack_without_failing_the_batch() {
    let rule = secret_value(PLACEHOLDER);
    let secrets = mock_client!(aws_sdk_secretsmanager, RuleMode::MatchAny, [&rule]);
    let got = WebhookSecret::new(secrets, SECRET_ARN).webhook().await;
    assert_eq!(got.unwrap(), Webhook::NotFilledIn);
    let (deps, published) = deps_with(&rule, Duration::from_secs(300));
    let response = handler(&deps, sqs_event("m1")).await.unwrap();
    assert!(failures(&response).is_empty(), "{response}");
    assert_eq!(published.num_calls(), 1);
}

#[tokio::test]
async fn notify_works_with_no_secret_configured() {
    let plain =
        Config::from_lookup(|k| (k == "ALERT_TOPIC_ARN").then(|| TOPIC.to_owned())).unwrap();
    assert!(plain.slack_secret.is_none());
    let (client, published) = sns();
    let deps = Deps::new(plain, client).unwrap();
    assert!(deps.slack.is_none());
    let response = handler(&deps, sqs_event("m1")).await.unwrap();
    assert!(failures(&response).is_empty(), "{response}");
    assert_eq!(published.num_calls(), 1);
    // A secret named but no Secrets Manager client: refused, not silently ignored.
    let (client, _) = sns();
    assert!(Deps::new(config(), client).is_err());
}
