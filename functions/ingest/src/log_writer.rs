//! Writing batches to CloudWatch Logs: one stream per object, PutLogEvents with a retry of our
//! own (on top of the SDK's) for throttling and server errors, rejected events counted.

use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::http::HttpResponse;
use aws_sdk_cloudwatchlogs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::put_log_events::PutLogEventsError;
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, RejectedLogEventsInfo};

use crate::batch::Event;

/// How often and how patiently a failed batch is retried.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per batch, the first included.
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time, plus up to 50% jitter.
    pub base_delay: Duration,
    /// Longest wait between attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        capped + capped.mul_f64(f64::from(nanos % 1000) / 2000.0)
    }
}

/// A CloudWatch Logs call failed for good.
#[derive(Debug, thiserror::Error)]
#[error(
    "CloudWatch Logs {operation} on {group}/{stream} failed after {attempts} attempt(s): {message}"
)]
pub struct WriteError {
    /// The API operation.
    pub operation: &'static str,
    /// Log group.
    pub group: String,
    /// Log stream.
    pub stream: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last error, with its context.
    pub message: String,
}

/// Whether an error is worth retrying: throttling, server errors, timeouts and network failures.
pub fn is_retryable<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => {
            let status = e.raw().status().as_u16();
            let code = e.err().code().unwrap_or("");
            status >= 500
                || status == 429
                || matches!(
                    code,
                    "ThrottlingException"
                        | "Throttling"
                        | "ServiceUnavailableException"
                        | "ServiceUnavailable"
                        | "InternalFailure"
                        | "RequestLimitExceeded"
                        | "SlowDown"
                )
        }
        _ => false,
    }
}

/// Writes one object's events into its own stream.
pub struct LogWriter<'a> {
    client: &'a Client,
    group: String,
    stream: String,
    retry: RetryPolicy,
}

impl<'a> LogWriter<'a> {
    /// A writer for `group`/`stream`.
    pub fn new(client: &'a Client, group: &str, stream: &str, retry: RetryPolicy) -> Self {
        LogWriter {
            client,
            group: group.to_string(),
            stream: stream.to_string(),
            retry,
        }
    }

    fn error(&self, operation: &'static str, attempts: u32, message: String) -> WriteError {
        WriteError {
            operation,
            group: self.group.clone(),
            stream: self.stream.clone(),
            attempts,
            message,
        }
    }

    /// Makes the stream exist and be empty: creates it, or deletes and recreates a stream left
    /// by an earlier attempt that did not finish (the caller holds the object's lock).
    pub async fn reset_stream(&self) -> Result<(), WriteError> {
        for attempt in 1..=self.retry.attempts.max(1) {
            let created = self
                .client
                .create_log_stream()
                .log_group_name(&self.group)
                .log_stream_name(&self.stream)
                .send()
                .await;
            let err = match created {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            if err.code() == Some("ResourceAlreadyExistsException") {
                let deleted = self
                    .client
                    .delete_log_stream()
                    .log_group_name(&self.group)
                    .log_stream_name(&self.stream)
                    .send()
                    .await;
                match deleted {
                    Ok(_) => continue,
                    Err(e) if e.code() == Some("ResourceNotFoundException") => continue,
                    Err(e) if is_retryable(&e) && attempt < self.retry.attempts => {}
                    Err(e) => {
                        return Err(self.error(
                            "DeleteLogStream",
                            attempt,
                            DisplayErrorContext(&e).to_string(),
                        ));
                    }
                }
            } else if !(is_retryable(&err) || err.code() == Some("OperationAbortedException"))
                || attempt == self.retry.attempts
            {
                return Err(self.error(
                    "CreateLogStream",
                    attempt,
                    DisplayErrorContext(&err).to_string(),
                ));
            }
            tokio::time::sleep(self.retry.delay(attempt)).await;
        }
        Err(self.error(
            "CreateLogStream",
            self.retry.attempts,
            "stream kept reappearing".into(),
        ))
    }

    /// Puts one batch (in time order, within the limits; see [`crate::batch`]). Returns how
    /// many events CloudWatch rejected, and why.
    pub async fn put(&self, batch: Vec<Event>) -> Result<Rejected, WriteError> {
        let n = batch.len();
        let events: Vec<InputLogEvent> = batch
            .into_iter()
            .filter_map(|e| {
                InputLogEvent::builder()
                    .timestamp(e.timestamp)
                    .message(e.message)
                    .build()
                    .ok()
            })
            .collect();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = self
                .client
                .put_log_events()
                .log_group_name(&self.group)
                .log_stream_name(&self.stream)
                .set_log_events(Some(events.clone()))
                .send()
                .await;
            match result {
                Ok(out) => return Ok(rejected(out.rejected_log_events_info(), n)),
                Err(e)
                    if (is_retryable(&e)
                        || matches!(
                            e.as_service_error(),
                            Some(PutLogEventsError::ServiceUnavailableException(_))
                        ))
                        && attempt < self.retry.attempts =>
                {
                    tracing::warn!(
                        group = %self.group,
                        stream = %self.stream,
                        attempt,
                        error = %DisplayErrorContext(&e),
                        "PutLogEvents failed, retrying"
                    );
                    tokio::time::sleep(self.retry.delay(attempt)).await;
                }
                Err(e) => {
                    return Err(self.error(
                        "PutLogEvents",
                        attempt,
                        DisplayErrorContext(&e).to_string(),
                    ));
                }
            }
        }
    }
}

/// Events of a batch CloudWatch Logs refused, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rejected {
    /// Older than 14 days, or than the log group's retention ("expired"): these are never
    /// accepted; the object stays in S3, where Athena reads them.
    pub too_old: u64,
    /// More than two hours in the future.
    pub too_new: u64,
}

impl Rejected {
    /// All refused events.
    pub fn total(self) -> u64 {
        self.too_old + self.too_new
    }
}

/// Which of `n` events a PutLogEvents response says were rejected. The indexes are inclusive
/// ("the index of the last log event that is too old"); too-old and expired events are both
/// at the start of the (time-ordered) batch, too-new ones at the end.
pub fn rejected(info: Option<&RejectedLogEventsInfo>, n: usize) -> Rejected {
    let Some(info) = info else {
        return Rejected::default();
    };
    let n = n as i64;
    let old_end = [
        info.too_old_log_event_end_index(),
        info.expired_log_event_end_index(),
    ]
    .into_iter()
    .flatten()
    .map(|i| i64::from(i) + 1)
    .max()
    .unwrap_or(0)
    .clamp(0, n);
    let new_start = info
        .too_new_log_event_start_index()
        .map_or(n, i64::from)
        .clamp(old_end, n);
    Rejected {
        too_old: old_end as u64,
        too_new: (n - new_start) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(old: Option<i32>, expired: Option<i32>, new: Option<i32>) -> RejectedLogEventsInfo {
        RejectedLogEventsInfo::builder()
            .set_too_old_log_event_end_index(old)
            .set_expired_log_event_end_index(expired)
            .set_too_new_log_event_start_index(new)
            .build()
    }

    #[test]
    fn rejected_counts_table() {
        for (name, i, n, want) in [
            ("none", info(None, None, None), 10, 0),
            ("first_too_old", info(Some(0), None, None), 10, 1),
            ("three_old_two_new", info(Some(2), None, Some(8)), 10, 5),
            ("expired_beyond_old", info(Some(1), Some(4), None), 10, 5),
            ("all_new", info(None, None, Some(0)), 10, 10),
            ("overlap_is_clamped", info(Some(7), None, Some(3)), 10, 10),
            ("index_past_end", info(Some(50), None, None), 10, 10),
        ] {
            assert_eq!(rejected(Some(&i), n).total(), want, "{name}");
        }
        assert_eq!(rejected(None, 10), Rejected::default());
        let split = rejected(Some(&info(Some(2), None, Some(8))), 10);
        assert_eq!(
            split,
            Rejected {
                too_old: 3,
                too_new: 2
            }
        );
    }

    #[test]
    fn delays_grow_and_cap() {
        let p = RetryPolicy::default();
        assert!(p.delay(1) >= Duration::from_millis(200));
        assert!(p.delay(3) >= Duration::from_millis(800));
        assert!(p.delay(30) <= Duration::from_millis(7_500));
    }
}
