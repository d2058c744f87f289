//! Where log events come from: CloudWatch Logs (FilterLogEvents) on AWS, or memory in tests and
//! benchmarks. This is the one trait in the crate, because it has two real implementations.
//!
//! A source answers one page at a time, oldest first, like FilterLogEvents. The filter pattern is
//! only a way to read less: a source may ignore it (the in-memory one does, and so does the local
//! emulator), and the API re-checks every row it returns.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Shared, immutable text: a range of a reference-counted buffer. Cloning is a reference-count
/// increment; several events may share one buffer (the in-memory source keeps a million messages
/// in a few hundred large blocks instead of a million small allocations).
#[derive(Clone)]
pub struct Text {
    buf: Arc<str>,
    start: u32,
    end: u32,
}

impl Text {
    /// `buf[range]`, when the range is inside `buf`, on character boundaries and under 4 GiB.
    pub fn slice(buf: Arc<str>, range: std::ops::Range<usize>) -> Option<Text> {
        buf.get(range.clone())?;
        Some(Text {
            start: u32::try_from(range.start).ok()?,
            end: u32::try_from(range.end).ok()?,
            buf,
        })
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // The range was checked when the text was made, and the buffer never changes.
        self.buf
            .get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::from(Arc::<str>::from(s))
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(Arc::<str>::from(s))
    }
}

impl From<Arc<str>> for Text {
    fn from(buf: Arc<str>) -> Text {
        let end = u32::try_from(buf.len()).unwrap_or(0);
        Text { buf, start: 0, end }
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// One log event as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// The event's timestamp, milliseconds since the Unix epoch.
    pub timestamp: i64,
    /// The event id (unique within the log group).
    pub id: Text,
    /// The message: a logdesk record as JSON, or a raw nginx line (shared, so an in-memory
    /// source hands out pages without copying text).
    pub message: Text,
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
    /// CloudWatch Logs kept answering ThrottlingException (or LimitExceededException) until the
    /// retries or the request's time ran out. Readers answer what they have as `partial`.
    #[error("CloudWatch Logs {operation} throttled after {attempts} attempts")]
    Throttled {
        /// The API operation.
        operation: &'static str,
        /// Calls made.
        attempts: u32,
    },
    /// Logs Insights answered rows that are not what the query produces (a field missing, or
    /// a value of the wrong shape): answered as a 502, never read as zeros.
    #[error(transparent)]
    Result(#[from] crate::insights::ResultError),
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

/// Bytes of messages per shared block of a [`MemorySource`].
const BLOCK: usize = 4 << 20;

/// Where one event of a [`MemorySource`] is.
#[derive(Debug, Clone, Copy)]
struct Stored {
    timestamp: i64,
    /// Insertion number (the event id).
    seq: u32,
    /// Block index; `blocks.len()` is the unsealed tail.
    block: u32,
    start: u32,
    len: u32,
}

/// One group's events: messages packed into shared blocks, and an index in time order.
#[derive(Debug, Default, Clone)]
struct Store {
    blocks: Vec<Arc<str>>,
    tail: String,
    index: Vec<Stored>,
}

impl Store {
    fn push(&mut self, timestamp: i64, message: &str) {
        if !self.tail.is_empty() && self.tail.len() + message.len() > BLOCK {
            let sealed = std::mem::replace(&mut self.tail, String::with_capacity(BLOCK));
            self.blocks.push(Arc::from(sealed));
        }
        let (Ok(seq), Ok(block), Ok(start), Ok(len)) = (
            u32::try_from(self.index.len()),
            u32::try_from(self.blocks.len()),
            u32::try_from(self.tail.len()),
            u32::try_from(message.len()),
        ) else {
            // Over four billion events or a 4 GiB message: more than memory holds anyway.
            return;
        };
        self.index.push(Stored {
            timestamp,
            seq,
            block,
            start,
            len,
        });
        self.tail.push_str(message);
    }

    fn message(&self, s: &Stored) -> Text {
        let range = s.start as usize..(s.start as usize + s.len as usize);
        match self.blocks.get(s.block as usize) {
            Some(b) => Text::slice(b.clone(), range).unwrap_or_else(|| Text::from("")),
            // The unsealed tail is still growing: copy.
            None => Text::from(self.tail.get(range).unwrap_or_default()),
        }
    }
}

/// Events held in memory, by log group (tests and the benchmark). Messages are packed into
/// shared 4 MiB blocks, so a million events cost their text plus 24 bytes each.
#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    groups: std::collections::HashMap<String, Store>,
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
    pub fn push(&mut self, group: &str, timestamp: i64, message: impl AsRef<str>) {
        let store = match self.groups.get_mut(group) {
            Some(s) => s,
            None => self.groups.entry(group.to_owned()).or_default(),
        };
        store.push(timestamp, message.as_ref());
    }

    /// Sorts every group by time (call after pushing out of order).
    pub fn sort(&mut self) {
        for store in self.groups.values_mut() {
            store.index.sort_by_key(|e| e.timestamp);
        }
    }
}

impl LogSource for MemorySource {
    fn fetch<'a>(&'a self, req: &'a FetchRequest) -> BoxFuture<'a, Result<Page, SourceError>> {
        Box::pin(async move {
            let Some(store) = self.groups.get(&req.group) else {
                return Ok(Page::default());
            };
            let events = &store.index;
            let skip: usize = req
                .next
                .as_deref()
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let mut picked = Vec::new();
            let mut i = skip;
            while i < events.len() && picked.len() < self.page_size {
                let e = &events[i];
                if e.timestamp >= req.start_ms && e.timestamp < req.end_ms {
                    picked.push(e);
                }
                i += 1;
            }
            // The page's ids share one buffer: 20 digits each, so they sort as numbers.
            let mut ids = String::with_capacity(picked.len() * 20);
            for e in &picked {
                let mut digits = [b'0'; 20];
                let (mut n, mut i) = (e.seq, digits.len());
                while n > 0 && i > 0 {
                    i -= 1;
                    digits[i] = b'0' + (n % 10) as u8;
                    n /= 10;
                }
                ids.push_str(std::str::from_utf8(&digits).unwrap_or_default());
            }
            let ids: Arc<str> = Arc::from(ids);
            let out = picked
                .iter()
                .enumerate()
                .map(|(n, e)| LogEvent {
                    timestamp: e.timestamp,
                    id: Text::slice(ids.clone(), n * 20..n * 20 + 20)
                        .unwrap_or_else(|| Text::from("")),
                    message: store.message(e),
                })
                .collect();
            let next = (i < events.len()).then(|| i.to_string());
            Ok(Page { events: out, next })
        })
    }

    fn engine(&self) -> &'static str {
        "memory"
    }
}

/// A token bucket pacing calls in this process: on average at most `rate` calls a second,
/// bursts of up to `burst`. Calls reserve their turn (the bucket may go below zero), so waiting
/// callers go in the order they asked.
#[derive(Debug)]
pub struct Pacer {
    rate: f64,
    burst: f64,
    /// Tokens left and when they were counted.
    state: std::sync::Mutex<(f64, Instant)>,
}

impl Pacer {
    /// A full bucket of `burst` tokens refilled at `rate` a second (both at least a small
    /// positive number).
    pub fn new(rate: f64, burst: f64) -> Pacer {
        let rate = if rate.is_finite() {
            rate.max(0.01)
        } else {
            5.0
        };
        let burst = if burst.is_finite() {
            burst.max(1.0)
        } else {
            1.0
        };
        Pacer {
            rate,
            burst,
            state: std::sync::Mutex::new((burst, Instant::now())),
        }
    }

    /// Takes a token and says how long to wait before using it.
    pub fn reserve(&self) -> Duration {
        let mut s = match self.state.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let now = Instant::now();
        let (tokens, since) = *s;
        let tokens = (tokens + now.saturating_duration_since(since).as_secs_f64() * self.rate)
            .min(self.burst)
            - 1.0;
        *s = (tokens, now);
        if tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-tokens / self.rate)
        }
    }

    /// Waits for a token.
    pub async fn acquire(&self) {
        let wait = self.reserve();
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// Retries of throttled calls: exponential backoff with full jitter.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    /// Most calls in all (the first one included).
    pub max_attempts: u32,
    /// Longest wait before the first retry.
    pub base: Duration,
    /// Longest wait before any retry.
    pub cap: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: 8,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(5),
        }
    }
}

impl Retry {
    /// The wait before retry number `n` (1 = the first retry): a random time up to
    /// `min(cap, base · 2^(n-1))`.
    pub fn wait(&self, n: u32) -> Duration {
        let top = self
            .base
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(self.cap);
        top.mul_f64(jitter())
    }
}

/// A number in [0, 1) that differs from call to call (spreads out retries of concurrent
/// requests; not for anything that needs real randomness).
fn jitter() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut x = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ seed;
    // splitmix64
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether an AWS error code means "slow down".
pub fn is_throttling(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "ThrottlingException"
                | "Throttling"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "LimitExceededException"
        )
    )
}

/// FilterLogEvents allows 5 calls a second per account and Region, shared with everything else
/// in the account: this process keeps well under it.
pub const FILTER_LOG_EVENTS_PER_SECOND: f64 = 4.0;

/// CloudWatch Logs through FilterLogEvents, paced by a [`Pacer`] shared by every request of the
/// process, with throttled calls retried ([`Retry`]) until the request's deadline.
#[derive(Debug, Clone)]
pub struct CloudWatchSource {
    client: aws_sdk_cloudwatchlogs::Client,
    pacer: Arc<Pacer>,
    retry: Retry,
}

impl CloudWatchSource {
    /// A source reading with `client` at [`FILTER_LOG_EVENTS_PER_SECOND`].
    pub fn new(client: aws_sdk_cloudwatchlogs::Client) -> CloudWatchSource {
        CloudWatchSource {
            client,
            pacer: Arc::new(Pacer::new(FILTER_LOG_EVENTS_PER_SECOND, 2.0)),
            retry: Retry::default(),
        }
    }

    /// The same source with another pace and retry policy.
    pub fn with_pacing(mut self, pacer: Arc<Pacer>, retry: Retry) -> CloudWatchSource {
        self.pacer = pacer;
        self.retry = retry;
        self
    }

    /// The client (shared with the Logs Insights engine).
    pub fn client(&self) -> &aws_sdk_cloudwatchlogs::Client {
        &self.client
    }
}

impl LogSource for CloudWatchSource {
    fn fetch<'a>(&'a self, req: &'a FetchRequest) -> BoxFuture<'a, Result<Page, SourceError>> {
        Box::pin(async move {
            use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
            let deadline = crate::budget::current();
            let mut attempt = 0u32;
            let out = loop {
                attempt += 1;
                self.pacer.acquire().await;
                let sent = self
                    .client
                    .filter_log_events()
                    .log_group_name(&req.group)
                    .start_time(req.start_ms)
                    // The exclusive end the request means: whether FilterLogEvents includes an
                    // event at endTime itself is not settled (aws-cli#4262), so the rows are
                    // re-checked below instead of the bound guessed.
                    .end_time(req.end_ms)
                    .set_filter_pattern(req.pattern.clone())
                    .set_next_token(req.next.clone())
                    .send()
                    .await;
                match sent {
                    Ok(out) => break out,
                    Err(e) if is_throttling(e.code()) => {
                        let wait = self.retry.wait(attempt);
                        let late = deadline.is_some_and(|d| Instant::now() + wait >= d);
                        if attempt >= self.retry.max_attempts || late {
                            return Err(SourceError::Throttled {
                                operation: "FilterLogEvents",
                                attempts: attempt,
                            });
                        }
                        tracing::warn!(
                            attempt,
                            wait_ms = wait.as_millis() as u64,
                            "FilterLogEvents throttled"
                        );
                        tokio::time::sleep(wait).await;
                    }
                    Err(e) => {
                        return Err(SourceError::Aws {
                            operation: "FilterLogEvents",
                            message: aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e)
                                .to_string(),
                        });
                    }
                }
            };
            let range = req.start_ms..req.end_ms;
            let events = out
                .events()
                .iter()
                .filter_map(|e| {
                    Some(LogEvent {
                        timestamp: e.timestamp().filter(|t| range.contains(t))?,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_paces_after_the_burst() {
        let p = Pacer::new(10.0, 3.0);
        let waits: Vec<Duration> = (0..6).map(|_| p.reserve()).collect();
        assert!(waits[..3].iter().all(|w| w.is_zero()), "{waits:?}");
        // Each call after the burst waits one more tenth of a second.
        for (i, w) in waits[3..].iter().enumerate() {
            let want = 0.1 * (i + 1) as f64;
            assert!((w.as_secs_f64() - want).abs() < 0.02, "{waits:?}");
        }
    }

    #[test]
    fn retry_waits_grow_and_stay_under_the_cap() {
        let r = Retry {
            max_attempts: 10,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(800),
        };
        for n in 1..12 {
            let top = Duration::from_millis((100u64 << (n - 1).min(3)).min(800));
            for _ in 0..50 {
                assert!(r.wait(n) <= top);
            }
        }
        let spread: std::collections::HashSet<u128> =
            (0..50).map(|_| r.wait(4).as_micros()).collect();
        assert!(spread.len() > 10, "jitter spreads the waits");
    }
}
