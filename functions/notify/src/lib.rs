//! # logdesk-notify
//!
//! Bounce and complaint alerts by e-mail (an SNS topic) and Slack (an incoming webhook), in
//! plain Japanese or English, one digest per invocation batch.
//!
//! Triggered by SNS directly or by SQS (SNS → SQS with a batching window, so a bounce storm
//! becomes one digest). Each message is an SES event-publishing record or an identity
//! notification, wrapped in an SNS notification or not (raw message delivery).
//!
//! What it promises:
//! - A message that is not an SES event (or is malformed) is logged with its message id and
//!   acknowledged: never retried forever, never a reason to fail the batch.
//! - With SQS, a failed delivery reports exactly the ids of the messages whose events were in
//!   the failed alert ([`SqsBatchResponse`]), so a retry does not alert twice for the others.
//!   (When one destination succeeded and the other failed, the retry repeats the alert on the
//!   destination that had succeeded: a duplicate is better than a lost alert.)
//! - With SNS, a failed delivery fails the invocation, so Lambda retries it.
//! - The Slack webhook URL never appears in a log line, an error or the environment: it is
//!   read from AWS Secrets Manager ([`webhook`]) at the first alert and kept for five minutes.
//! - CloudWatch alarm notifications (an SNS topic subscribed to the function) become a
//!   Japanese-then-English message on the same e-mail topic and Slack ([`alarm`]).
//!
//! - The same event delivered twice (SNS and SQS deliver at least once) is listed once.
//!
//! Environment (set by the SAM template):
//!
//! | variable | meaning |
//! |---|---|
//! | `ALERT_TOPIC_ARN` | SNS topic for e-mail alerts; empty or unset: no e-mail |
//! | `SLACK_WEBHOOK_SECRET_ARN` | Secrets Manager secret holding the Slack incoming-webhook URL; empty or unset: no Slack. (`SLACK_WEBHOOK_URL` is refused: a secret does not belong in the environment.) |
//! | `ALERT_TYPES` | comma list, default `Bounce,Complaint`; also `Reject`, `DeliveryDelay`, `Rendering Failure` |
//! | `ALERT_LANG` | `ja` (default) or `en` |
//! | `DISPLAY_TZ` | IANA zone of the times shown, default `Asia/Tokyo` |
//!
//! [`handler`] is the entry point; [`alert`] renders the mail-event text, [`alarm`] the
//! alarm text; [`slack`] posts it.
#![forbid(unsafe_code)]

pub mod alarm;
pub mod alert;
pub mod config;
pub mod slack;
pub mod webhook;

use std::collections::{BTreeSet, HashSet};

use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde_json::Value;

use crate::alarm::AlarmMessage;
use crate::alert::{Alert, AlertEvent, SlackMessage};
pub use crate::config::Config;
use crate::slack::{SlackClient, SlackPolicy};
use crate::webhook::WebhookSecret;

/// What the handler needs, built once per Lambda instance.
#[derive(Debug)]
pub struct Deps {
    /// Settings from the environment.
    pub config: Config,
    /// SNS client for the alerts topic (used only when `config.topic_arn` is set).
    pub sns: aws_sdk_sns::Client,
    /// Slack webhook client, when `config.slack_secret` is set.
    pub slack: Option<SlackClient>,
}

impl Deps {
    /// For a configuration without Slack: `SLACK_WEBHOOK_SECRET_ARN` set is an error here
    /// (use [`Deps::with_secrets`]).
    pub fn new(config: Config, sns: aws_sdk_sns::Client) -> Result<Deps, NotifyError> {
        if config.slack_secret.is_some() {
            return Err(NotifyError::NeedsSecretsManager);
        }
        Ok(Deps {
            config,
            sns,
            slack: None,
        })
    }

    /// Builds the Slack client (default policy) reading the webhook secret through `secrets`,
    /// when the configuration names one.
    pub fn with_secrets(
        config: Config,
        sns: aws_sdk_sns::Client,
        secrets: aws_sdk_secretsmanager::Client,
    ) -> Result<Deps, NotifyError> {
        let slack = match &config.slack_secret {
            Some(id) => Some(SlackClient::from_secret(
                WebhookSecret::new(secrets, id.clone()),
                SlackPolicy::default(),
            )?),
            None => None,
        };
        Ok(Deps { config, sns, slack })
    }
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// The event is neither an SNS nor an SQS event.
    #[error("not an SNS or SQS event: {0}")]
    UnknownEvent(String),
    /// The alert could not be published to the SNS topic.
    #[error("SNS Publish to the alerts topic failed: {0}")]
    Publish(String),
    /// The alert could not be posted to Slack.
    #[error(transparent)]
    Slack(#[from] slack::SlackError),
    /// Some alerts of an SNS-triggered batch could not be delivered.
    #[error("{0} of the alert deliveries failed")]
    Delivery(usize),
    /// A Slack secret is configured but no Secrets Manager client was given.
    #[error("SLACK_WEBHOOK_SECRET_ARN is set: build the dependencies with Deps::with_secrets")]
    NeedsSecretsManager,
}

/// One message of the batch: an SNS record or an SQS message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceMessage {
    /// The id to log and to report as a batch failure (SNS `MessageId` or SQS `messageId`).
    pub id: String,
    /// For an SQS message carrying an SNS notification, the SNS `MessageId`.
    pub sns_id: Option<String>,
    /// The message body.
    pub body: String,
}

impl SourceMessage {
    /// The messages of an SNS event.
    pub fn from_sns(event: &SnsEvent) -> Vec<SourceMessage> {
        event
            .records
            .iter()
            .map(|r| SourceMessage {
                id: r.sns.message_id.clone(),
                sns_id: Some(r.sns.message_id.clone()),
                body: r.sns.message.clone(),
            })
            .collect()
    }

    /// The messages of an SQS event (raw delivery or SNS-wrapped).
    pub fn from_sqs(event: &SqsEvent) -> Vec<SourceMessage> {
        event
            .records
            .iter()
            .map(|m| {
                let body = m.body.clone().unwrap_or_default();
                let sns_id = serde_json::from_str::<Value>(&body).ok().and_then(|v| {
                    v.get("MessageId")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                });
                SourceMessage {
                    id: m.message_id.clone().unwrap_or_default(),
                    sns_id,
                    body,
                }
            })
            .collect()
    }
}

/// The events of a batch that alert. Messages that cannot be read are logged (with their ids)
/// and skipped.
pub fn alert_events(config: &Config, messages: &[SourceMessage]) -> Vec<AlertEvent> {
    let mut events = Vec::new();
    let mut seen = HashSet::new();
    for (source, message) in messages.iter().enumerate() {
        match logdesk_core::ses::parse_event(&message.body) {
            Ok(records) => {
                let before = events.len();
                for record in records {
                    if !config.alert_types.alerts(&record.event) {
                        continue;
                    }
                    let key = (
                        record.message_id.clone(),
                        record.recipient.clone(),
                        record.event.clone(),
                        record.t,
                        record.feedback_id.clone(),
                    );
                    if !seen.insert(key) {
                        tracing::info!(message_id = %message.id, "duplicate event skipped");
                        continue;
                    }
                    events.push(AlertEvent { source, record });
                }
                tracing::debug!(
                    message_id = %message.id,
                    sns_message_id = message.sns_id.as_deref(),
                    alerts = events.len() - before,
                    "read SES message"
                );
            }
            Err(error) => {
                let head: String = message.body.chars().take(200).collect();
                tracing::warn!(
                    message_id = %message.id,
                    sns_message_id = message.sns_id.as_deref(),
                    %error,
                    body_start = %head,
                    "not an SES event: acknowledged without alert"
                );
            }
        }
    }
    events
}

/// What became of one batch's alert.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Events alerted about.
    pub events: usize,
    /// Whether an e-mail was published.
    pub email_sent: bool,
    /// Slack messages posted.
    pub slack_sent: usize,
    /// Deliveries that failed (the e-mail, or a Slack message).
    pub failures: usize,
    /// Source indexes whose events were in a failed delivery.
    pub failed_sources: BTreeSet<usize>,
}

/// Renders and delivers one digest for `messages`.
pub async fn notify(deps: &Deps, messages: &[SourceMessage]) -> Outcome {
    let config = &deps.config;
    let events = alert_events(config, messages);
    let alert = Alert::new(events, config.lang, config.tz.clone());
    let mut outcome = Outcome {
        events: alert.events().len(),
        ..Outcome::default()
    };
    if alert.is_empty() {
        tracing::info!(messages = messages.len(), "nothing to alert about");
        return outcome;
    }
    if let Some(topic) = &config.topic_arn {
        match publish(&deps.sns, topic, &alert).await {
            Ok(()) => outcome.email_sent = true,
            Err(error) => {
                tracing::error!(%error, "alert e-mail not sent");
                outcome.failures += 1;
                outcome.failed_sources.extend(alert.sources());
            }
        }
    }
    if let Some(slack) = &deps.slack {
        deliver_slack(slack, alert.slack(), &mut outcome).await;
    }
    tracing::info!(
        messages = messages.len(),
        events = outcome.events,
        email_sent = outcome.email_sent,
        slack_sent = outcome.slack_sent,
        failures = outcome.failures,
        "alert done"
    );
    outcome
}

/// Posts `messages` to Slack in order, counting failures into `outcome`. A secret that is not
/// filled in yet skips Slack with a warning; a secret that cannot be read fails every message.
async fn deliver_slack(slack: &SlackClient, messages: Vec<SlackMessage>, outcome: &mut Outcome) {
    let url = match slack.webhook().await {
        Ok(Some(url)) => url,
        Ok(None) => {
            tracing::warn!("the Slack webhook secret still holds the placeholder: Slack skipped");
            return;
        }
        Err(error) => {
            tracing::error!(%error, "Slack alert not sent");
            for message in messages {
                outcome.failures += 1;
                outcome.failed_sources.extend(message.sources);
            }
            return;
        }
    };
    let mut broken = false;
    let deadline = tokio::time::Instant::now() + slack.policy().alert_budget;
    for message in messages {
        // Once Slack has failed after its retries, the rest would only wait and fail too.
        if !broken {
            match slack.post_to(&url, &message.payload, deadline).await {
                Ok(()) => {
                    outcome.slack_sent += 1;
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, "Slack alert not sent");
                    broken = true;
                }
            }
        }
        outcome.failures += 1;
        outcome.failed_sources.extend(message.sources);
    }
}

/// Delivers one message per alarm state change (e-mail and Slack, like the mail alerts).
pub async fn notify_alarms(deps: &Deps, alarms: &[(usize, AlarmMessage)]) -> Outcome {
    let config = &deps.config;
    let mut outcome = Outcome::default();
    for (source, alarm) in alarms {
        tracing::info!(alarm = %alarm.name, state = alarm.state.code(), "alarm state change");
        if let Some(topic) = &config.topic_arn {
            let email = alarm.email(config.lang, &config.tz);
            match publish_email(&deps.sns, topic, email).await {
                Ok(()) => outcome.email_sent = true,
                Err(error) => {
                    tracing::error!(%error, "alarm e-mail not sent");
                    outcome.failures += 1;
                    outcome.failed_sources.insert(*source);
                }
            }
        }
        if let Some(slack) = &deps.slack {
            let message = SlackMessage {
                payload: alarm.slack(config.lang, &config.tz),
                sources: BTreeSet::from([*source]),
            };
            deliver_slack(slack, vec![message], &mut outcome).await;
        }
    }
    outcome
}

async fn publish(sns: &aws_sdk_sns::Client, topic: &str, alert: &Alert) -> Result<(), NotifyError> {
    publish_email(sns, topic, alert.email()).await
}

async fn publish_email(
    sns: &aws_sdk_sns::Client,
    topic: &str,
    email: alert::Email,
) -> Result<(), NotifyError> {
    sns.publish()
        .topic_arn(topic)
        .subject(email.subject)
        .message(email.body)
        .send()
        .await
        .map_err(|e| {
            NotifyError::Publish(aws_sdk_sns::error::DisplayErrorContext(e).to_string())
        })?;
    Ok(())
}

/// An SQS batch: the ids of messages whose alerts were not delivered are reported as batch
/// item failures.
pub async fn handle_sqs(deps: &Deps, event: &SqsEvent) -> SqsBatchResponse {
    let messages = SourceMessage::from_sqs(event);
    let outcome = notify(deps, &messages).await;
    let mut response = SqsBatchResponse::default();
    for source in outcome.failed_sources {
        if let Some(message) = messages.get(source)
            && !message.id.is_empty()
        {
            response.add_failure(message.id.clone());
        }
    }
    response
}

/// An SNS event: a failed delivery fails the invocation (Lambda retries asynchronous
/// invocations).
///
/// CloudWatch alarm notifications in the event are delivered one by one; the other messages
/// as one mail-event digest.
pub async fn handle_sns(deps: &Deps, event: &SnsEvent) -> Result<(), NotifyError> {
    let (alarms, messages): (Vec<_>, Vec<_>) = SourceMessage::from_sns(event)
        .into_iter()
        .map(|m| (alarm::parse(&m.body), m))
        .partition(|(a, _)| a.is_some());
    let alarms: Vec<(usize, AlarmMessage)> = alarms
        .into_iter()
        .enumerate()
        .filter_map(|(i, (a, _))| a.map(|a| (i, a)))
        .collect();
    let messages: Vec<SourceMessage> = messages.into_iter().map(|(_, m)| m).collect();
    let mut failures = 0;
    if !alarms.is_empty() {
        failures += notify_alarms(deps, &alarms).await.failures;
    }
    if !messages.is_empty() {
        failures += notify(deps, &messages).await.failures;
    }
    if failures > 0 {
        return Err(NotifyError::Delivery(failures));
    }
    Ok(())
}

/// The Lambda entry point: an SNS or SQS event as JSON. Returns the SQS batch response (or
/// `null` for SNS).
pub async fn handler(deps: &Deps, event: Value) -> Result<Value, NotifyError> {
    let source = event
        .pointer("/Records/0/EventSource")
        .or_else(|| event.pointer("/Records/0/eventSource"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match source.as_str() {
        "aws:sqs" => {
            let event: SqsEvent = serde_json::from_value(event)
                .map_err(|e| NotifyError::UnknownEvent(e.to_string()))?;
            let response = handle_sqs(deps, &event).await;
            serde_json::to_value(response).map_err(|e| NotifyError::UnknownEvent(e.to_string()))
        }
        "aws:sns" => {
            let event: SnsEvent = serde_json::from_value(event)
                .map_err(|e| NotifyError::UnknownEvent(e.to_string()))?;
            handle_sns(deps, &event).await?;
            Ok(Value::Null)
        }
        other => Err(NotifyError::UnknownEvent(format!(
            "Records[0].EventSource is {other:?}, expected aws:sns or aws:sqs"
        ))),
    }
}
