//! The Slack incoming-webhook client: a timeout on every request, at most about one message
//! per second, 429 answered by waiting `Retry-After` (bounded), 5xx and connection errors
//! retried a few times with backoff. The webhook URL is a secret: it never appears in an error
//! or a log line.

use std::time::Duration;

use serde_json::Value;
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::WebhookUrl;
use crate::webhook::{SecretError, Webhook, WebhookSecret};

/// How hard to try.
#[derive(Debug, Clone)]
pub struct SlackPolicy {
    /// Attempts per message, the first included.
    pub max_attempts: u32,
    /// Time limit of one request.
    pub timeout: Duration,
    /// First backoff after a 5xx or a connection error; doubled each time.
    pub backoff: Duration,
    /// The longest `Retry-After` worth waiting for; longer ones fail the message at once.
    pub max_retry_after: Duration,
    /// Wait used when a 429 has no readable `Retry-After`.
    pub default_retry_after: Duration,
    /// Least time between two messages (Slack: about one per second per webhook).
    pub min_interval: Duration,
    /// Time allowed for all the Slack messages of one alert, waits included, so that a slow
    /// Slack cannot run the function into its Lambda timeout (which would redeliver the whole
    /// batch, e-mail included). Keep the function's timeout above this plus the e-mail.
    pub alert_budget: Duration,
}

impl Default for SlackPolicy {
    fn default() -> SlackPolicy {
        SlackPolicy {
            max_attempts: 4,
            timeout: Duration::from_secs(10),
            backoff: Duration::from_millis(500),
            max_retry_after: Duration::from_secs(30),
            default_retry_after: Duration::from_secs(1),
            min_interval: Duration::from_secs(1),
            alert_budget: Duration::from_secs(40),
        }
    }
}

/// Why a Slack message was not delivered. Never contains the webhook URL.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    /// Slack answered with an error status (after retries, for 429 and 5xx).
    #[error("Slack answered HTTP {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of Slack's answer (`invalid_blocks`, `no_service`, …).
        body: String,
    },
    /// The alert's time budget ran out before Slack accepted the message.
    #[error("Slack: out of time for this alert (last problem: {0})")]
    OutOfTime(String),
    /// Slack asked us to wait longer than we are willing to.
    #[error("Slack rate limit: Retry-After {0:?} is longer than the wait allowed")]
    RetryAfterTooLong(Duration),
    /// The request could not be sent or timed out (after retries).
    #[error("Slack request failed: {0}")]
    Transport(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// The webhook secret could not be read.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The webhook secret still holds the placeholder.
    #[error("the Slack webhook secret is not filled in yet")]
    NotFilledIn,
}

/// Where the client finds its webhook URL.
#[derive(Debug)]
enum Source {
    /// Given when the client was built.
    Fixed(WebhookUrl),
    /// Read from Secrets Manager (cached).
    Secret(WebhookSecret),
}

/// Posts messages to one incoming webhook.
#[derive(Debug)]
pub struct SlackClient {
    http: reqwest::Client,
    source: Source,
    policy: SlackPolicy,
    last_sent: Mutex<Option<Instant>>,
}

impl SlackClient {
    /// A client for `url` with the default policy.
    pub fn new(url: WebhookUrl) -> Result<SlackClient, SlackError> {
        SlackClient::with_policy(url, SlackPolicy::default())
    }

    /// A client for `url` with `policy` (tests shorten the waits).
    pub fn with_policy(url: WebhookUrl, policy: SlackPolicy) -> Result<SlackClient, SlackError> {
        SlackClient::build(Source::Fixed(url), policy)
    }

    /// A client whose URL is the value of a Secrets Manager secret.
    pub fn from_secret(
        secret: WebhookSecret,
        policy: SlackPolicy,
    ) -> Result<SlackClient, SlackError> {
        SlackClient::build(Source::Secret(secret), policy)
    }

    fn build(source: Source, policy: SlackPolicy) -> Result<SlackClient, SlackError> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            // hooks.slack.com never redirects; a redirect would only leak the URL elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SlackError::Client(e.without_url().to_string()))?;
        Ok(SlackClient {
            http,
            source,
            policy,
            last_sent: Mutex::new(None),
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &SlackPolicy {
        &self.policy
    }

    /// The webhook URL: `None` when the secret is not filled in yet.
    pub async fn webhook(&self) -> Result<Option<WebhookUrl>, SlackError> {
        match &self.source {
            Source::Fixed(url) => Ok(Some(url.clone())),
            Source::Secret(secret) => match secret.webhook().await? {
                Webhook::Url(url) => Ok(Some(url)),
                Webhook::NotFilledIn => Ok(None),
            },
        }
    }

    /// Posts one message, retrying as the policy says, within the default budget.
    pub async fn post(&self, payload: &Value) -> Result<(), SlackError> {
        self.post_until(payload, Instant::now() + self.policy.alert_budget)
            .await
    }

    /// Posts one message, retrying as the policy says, giving up when a wait would end after
    /// `deadline`.
    pub async fn post_until(&self, payload: &Value, deadline: Instant) -> Result<(), SlackError> {
        let url = self.webhook().await?.ok_or(SlackError::NotFilledIn)?;
        self.post_to(&url, payload, deadline).await
    }

    /// Posts one message to `url` (from [`SlackClient::webhook`]), retrying as the policy
    /// says, giving up when a wait would end after `deadline`.
    pub async fn post_to(
        &self,
        url: &WebhookUrl,
        payload: &Value,
        deadline: Instant,
    ) -> Result<(), SlackError> {
        let body = payload.to_string();
        let mut backoff = self.policy.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.pace().await;
            let last = attempt >= self.policy.max_attempts;
            let result = self
                .http
                .post(url.expose())
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            let response = match result {
                Ok(r) => r,
                Err(e) => {
                    let message = e.without_url().to_string();
                    tracing::warn!(attempt, error = %message, "Slack request failed");
                    if last {
                        return Err(SlackError::Transport(message));
                    }
                    wait_until(deadline, backoff, &message).await?;
                    backoff *= 2;
                    continue;
                }
            };
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = response.text().await.unwrap_or_default();
            let body: String = text.chars().take(200).collect();
            tracing::warn!(attempt, status = status.as_u16(), body = %body, "Slack refused a message");
            let error = SlackError::Status {
                status: status.as_u16(),
                body,
            };
            if status.as_u16() == 429 {
                let wait = retry_after.unwrap_or(self.policy.default_retry_after);
                if wait > self.policy.max_retry_after {
                    return Err(SlackError::RetryAfterTooLong(wait));
                }
                if last {
                    return Err(error);
                }
                wait_until(deadline, wait, &error.to_string()).await?;
            } else if status.is_server_error() {
                if last {
                    return Err(error);
                }
                wait_until(deadline, backoff, &error.to_string()).await?;
                backoff *= 2;
            } else {
                // 4xx: the message or the webhook is wrong; sending it again changes nothing.
                return Err(error);
            }
        }
    }

    /// Waits until `min_interval` has passed since the previous request.
    async fn pace(&self) {
        let mut last = self.last_sent.lock().await;
        if let Some(previous) = *last {
            tokio::time::sleep_until(previous + self.policy.min_interval).await;
        }
        *last = Some(Instant::now());
    }
}

/// Sleeps for `wait`, unless that would end after `deadline`.
async fn wait_until(deadline: Instant, wait: Duration, last: &str) -> Result<(), SlackError> {
    if Instant::now() + wait > deadline {
        return Err(SlackError::OutOfTime(last.to_owned()));
    }
    tokio::time::sleep(wait).await;
    Ok(())
}
