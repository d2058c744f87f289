//! Where the Slack webhook URL comes from: an AWS Secrets Manager secret, read on first use
//! (the cold start) and kept for a few minutes, so that a changed secret is picked up without a
//! deploy and a warm function does not call Secrets Manager for every alert. The URL is a
//! secret: it is never logged, and no error carries it.

use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::config::WebhookUrl;

/// What the stack stores in a secret it creates, until someone puts the real URL there.
pub const PLACEHOLDER: &str = "REPLACE-WITH-SLACK-WEBHOOK-URL";

/// How long a read value is used before the secret is read again.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// Why the webhook URL could not be had. Never contains the secret's value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// GetSecretValue failed (no permission, no such secret, network).
    #[error("cannot read the Slack webhook secret {secret_id}: {message}")]
    Read {
        /// The secret's ARN or name (not its value).
        secret_id: String,
        /// The SDK's error, with its context.
        message: String,
    },
    /// The secret has no string value (a binary secret).
    #[error("the Slack webhook secret {secret_id} has no SecretString")]
    NoString {
        /// The secret's ARN or name.
        secret_id: String,
    },
    /// The value is neither the placeholder nor an https URL (the value is not shown).
    #[error("the Slack webhook secret {secret_id} does not hold an https:// URL")]
    NotAUrl {
        /// The secret's ARN or name.
        secret_id: String,
    },
}

/// An https URL, or plain http to this machine (a local test server); plain http elsewhere
/// would send the secret in clear text.
pub fn is_allowed_url(value: &str) -> bool {
    value.starts_with("https://")
        || value.starts_with("http://127.0.0.1:")
        || value.starts_with("http://localhost:")
}

/// The secret's value, as far as notify cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Webhook {
    /// An https URL to post to.
    Url(WebhookUrl),
    /// The secret still holds [`PLACEHOLDER`] (or is blank): Slack is not set up yet.
    NotFilledIn,
}

/// Reads the webhook URL from one Secrets Manager secret, with a cache.
#[derive(Debug)]
pub struct WebhookSecret {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    ttl: Duration,
    cached: Mutex<Option<(Instant, Webhook)>>,
}

impl WebhookSecret {
    /// A reader of `secret_id` (ARN or name) keeping a value for [`DEFAULT_TTL`].
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: impl Into<String>) -> Self {
        WebhookSecret::with_ttl(client, secret_id, DEFAULT_TTL)
    }

    /// A reader keeping a value for `ttl`.
    pub fn with_ttl(
        client: aws_sdk_secretsmanager::Client,
        secret_id: impl Into<String>,
        ttl: Duration,
    ) -> Self {
        WebhookSecret {
            client,
            secret_id: secret_id.into(),
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The secret's ARN or name.
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The webhook, from the cache while it is fresh, else from Secrets Manager. A failed read
    /// is not cached: the next alert tries again.
    pub async fn webhook(&self) -> Result<Webhook, SecretError> {
        let mut cached = self.cached.lock().await;
        if let Some((read_at, value)) = cached.as_ref()
            && read_at.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let value = self.read().await?;
        *cached = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    async fn read(&self) -> Result<Webhook, SecretError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| SecretError::Read {
                secret_id: self.secret_id.clone(),
                message: aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
            })?;
        let value = output
            .secret_string()
            .ok_or_else(|| SecretError::NoString {
                secret_id: self.secret_id.clone(),
            })?;
        let value = value.trim();
        if value.is_empty() || value == PLACEHOLDER {
            return Ok(Webhook::NotFilledIn);
        }
        if !is_allowed_url(value) {
            return Err(SecretError::NotAUrl {
                secret_id: self.secret_id.clone(),
            });
        }
        tracing::info!(secret_id = %self.secret_id, "read the Slack webhook secret");
        Ok(Webhook::Url(WebhookUrl::new(value)))
    }
}
