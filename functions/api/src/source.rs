//! Where log events come from: CloudWatch Logs (FilterLogEvents) on AWS, or memory in tests and
//! benchmarks. This is the one trait in the crate, because it has two real implementations.
//!
//! A source answers one page at a time, oldest first, like FilterLogEvents. The filter pattern is
//! only a way to read less: a source may ignore it (the in-memory one does, and so does the local
//! emulator), and the API re-checks every row it returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// One log event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// The event's timestamp, milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The event id (unique within the log group).
    pub id: Arc<str>,
    /// The message: a logdesk record as JSON, or a raw nginx line (shared, so an in-memory
    /// source hands out pages without copying text).
    pub message: Arc<str>,
}

/// What to read from one log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchRequest {
    /// Log group name.
    pub group: String,
    /// Inclusive start, milliseconds.
    pub start_ms: i64,
    /// Exclusive end, milliseconds.
    pub end_ms: i64,
    /// Server-side filter pattern, if one can narrow the read.
    pub pattern: Option<String>,
    /// The token of the next page, from the previous [`Page`].
    pub next: Option<String>,
}

/// One page of events, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    /// The events.
    pub events: Vec<LogEvent>,
    /// Token for the next page; `None` when the range is exhausted.
    pub next: Option<String>,
}

/// Why a read failed.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The CloudWatch Logs call failed (after the SDK's own retries).
    #[error("CloudWatch Logs {operation}: {message}")]
    Aws {
        /// The API operation.
        operation: &'static str,
        /// The SDK's error, rendered.
        message: String,
    },
    /// A Logs Insights query ended in a state other than Complete.
    #[error("Logs Insights query {id} ended as {status}")]
    Query {
        /// The query id.
        id: String,
        /// The final status.
        status: String,
    },
}

/// A boxed future, so the trait can be used as `dyn LogSource`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Reads pages of log events.
pub trait LogSource: Send + Sync {
    /// Reads one page of `req`.
    fn fetch<'a>(&'a self, req: &'a FetchRequest) -> BoxFuture<'a, Result<Page, SourceError>>;
    /// The engine name reported in responses (`filter_log_events`, `memory`).
    fn engine(&self) -> &'static str;
}

/// Events held in memory, by log group (tests and the benchmark).
#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    groups: std::collections::HashMap<String, Vec<LogEvent>>,
    page_size: usize,
}

impl MemorySource {
    /// An empty source answering pages of up to `page_size` events (at least 1).
    pub fn new(page_size: usize) -> MemorySource {
        MemorySource {
            groups: Default::default(),
            page_size: page_size.max(1),
        }
    }

    /// Adds a message to `group`; ids are assigned in insertion order.
    pub fn push(&mut self, group: &str, timestamp: i64, message: impl Into<String>) {
        let events = self.groups.entry(group.to_owned()).or_default();
        let id = format!("{:020}", events.len()).into();
        events.push(LogEvent {
            timestamp,
            id,
            message: message.into().into(),
        });
    }

    /// Sorts every group by time (call after pushing out of order).
    pub fn sort(&mut self) {
        for events in self.groups.values_mut() {
            events.sort_by_key(|e| e.timestamp);
        }
    }
}

impl LogSource for MemorySource {
    fn fetch<'a>(&'a self, req: &'a FetchRequest) -> BoxFuture<'a, Result<Page, SourceError>> {
        Box::pin(async move {
            let Some(events) = self.groups.get(&req.group) else {
                return Ok(Page::default());
            };
            let skip: usize = req
                .next
                .as_deref()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let mut out = Vec::new();
            let mut i = skip;
            while i < events.len() && out.len() < self.page_size {
                let e = &events[i];
                if e.timestamp >= req.start_ms && e.timestamp < req.end_ms {
                    out.push(e.clone());
                }
                i += 1;
            }
            let next = (i < events.len()).then(|| i.to_string());
            Ok(Page { events: out, next })
        })
    }

    fn engine(&self) -> &'static str {
        "memory"
    }
}

/// CloudWatch Logs through FilterLogEvents.
#[derive(Debug, Clone)]
pub struct CloudWatchSource {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl CloudWatchSource {
    /// A source reading with `client`.
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> CloudWatchSource {
        CloudWatchSource { client }
    }

    /// The client (shared with the Logs Insights engine).
    pub fn client(&self) -> &aws_sdk_cloudwatchlogs::Client {
        &self.client
    }
}

impl LogSource for CloudWatchSource {
    fn fetch<'a>(&'a self, req: &'a FetchRequest) -> BoxFuture<'a, Result<Page, SourceError>> {
        Box::pin(async move {
            let out = self
                .client
                .filter_log_events()
                .log_group_name(&req.group)
                .start_time(req.start_ms)
                .end_time(req.end_ms.saturating_sub(1).max(req.start_ms))
                .set_filter_pattern(req.pattern.clone())
                .set_next_token(req.next.clone())
                .send()
                .await
                .map_err(|e| SourceError::Aws {
                    operation: "FilterLogEvents",
                    message: aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e).to_string(),
                })?;
            let events = out
                .events()
                .iter()
                .filter_map(|e| {
                    Some(LogEvent {
                        timestamp: e.timestamp()?,
                        id: e.event_id().unwrap_or_default().into(),
                        message: e.message()?.into(),
                    })
                })
                .collect();
            // An empty token (seen from some emulators) means the end, like an absent one.
            let next = out
                .next_token()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            Ok(Page { events, next })
        })
    }

    fn engine(&self) -> &'static str {
        "filter_log_events"
    }
}
