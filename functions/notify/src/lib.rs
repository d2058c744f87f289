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
//! - The Slack webhook URL never appears in a log line or an error.
//!
//! - The same event delivered twice (SNS and SQS deliver at least once) is listed once.
//!
//! Environment (set by the SAM template):
//!
//! | variable | meaning |
//! |---|---|
//! | `ALERT_TOPIC_ARN` | SNS topic for e-mail alerts; empty or unset: no e-mail |
//! | `SLACK_WEBHOOK_URL` | Slack incoming webhook (a secret); empty or unset: no Slack |
//! | `ALERT_TYPES` | comma list, default `Bounce,Complaint`; also `Reject`, `DeliveryDelay`, `Rendering Failure` |
//! | `ALERT_LANG` | `ja` (default) or `en` |
//! | `DISPLAY_TZ` | IANA zone of the times shown, default `Asia/Tokyo` |
//!
//! [`handler`] is the entry point; [`alert`] renders the text; [`slack`] posts it.

pub mod alert;
pub mod config;
pub mod slack;

use std::collections::{BTreeSet, HashSet};

use aws_lambda_events::event::sns::SnsEvent;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde_json::Value;

use crate::alert::{Alert, AlertEvent};
pub use crate::config::Config;
use crate::slack::SlackClient;

/// What the handler needs, built once per Lambda instance.
#[derive(Debug)]
pub struct Deps {
    /// Settings from the environment.
    pub config: Config,
    /// SNS client for the alerts topic (used only when `config.topic_arn` is set).
    pub sns: aws_sdk_sns::Client,
    /// Slack webhook client, when `config.slack_webhook` is set.
    pub slack: Option<SlackClient>,
}

impl Deps {
    /// Builds the Slack client from the configuration (with the default policy).
    pub fn new(config: Config, sns: aws_sdk_sns::Client) -> Result<Deps, NotifyError> {
        let slack = match &config.slack_webhook {
            Some(url) => Some(SlackClient::new(url.clone())?),
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
        let mut broken = false;
        let deadline = tokio::time::Instant::now() + slack.policy().alert_budget;
        for message in alert.slack() {
            // Once Slack has failed after its retries, the rest would only wait and fail too.
            if !broken {
                match slack.post_until(&message.payload, deadline).await {
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

async fn publish(sns: &aws_sdk_sns::Client, topic: &str, alert: &Alert) -> Result<(), NotifyError> {
    let email = alert.email();
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
pub async fn handle_sns(deps: &Deps, event: &SnsEvent) -> Result<(), NotifyError> {
    let messages = SourceMessage::from_sns(event);
    let outcome = notify(deps, &messages).await;
    if outcome.failures > 0 {
        return Err(NotifyError::Delivery(outcome.failures));
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
