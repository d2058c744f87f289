//! Logs Insights: the engine for stats and visitor lists over busy ranges. StartQuery, then
//! GetQueryResults polled with backoff until the query completes or the time budget runs out.
//! A query still running then is not stopped: Insights runs it on and keeps its results for
//! 7 days, so the answer is `partial` with a cursor that carries the query's [`Part`] (its
//! range and id), and the request with that cursor reads the query by id instead of starting
//! it again ([`run_part`]). Raw-row queries ([`run_split`]) are split in two wherever one would
//! pass the 10,000 rows a query returns, with a few queries at a time, and StartQuery refused
//! for too many running queries (LimitExceededException) is retried with backoff. One second
//! that still answers 10,000 rows cannot be split: it is left to the caller to read another way
//! ([`Got::Local`]; `/v1/visits` reads it through the local engine's FilterLogEvents).
//!
//! Progress, and no endless loop: a query read by id either completes, runs on (Insights times
//! a query out after 60 minutes), or is lost (its id unknown or expired, or it ended Failed,
//! Cancelled or Timeout); a lost query is started again once ([`Part::r`]), and lost again it is
//! an error. A cursor carries at most [`MAX_PARTS`] parts.
//!
//! Queries are built as text from filters that Insights can express exactly (client IP, status,
//! trace id); user values go in as escaped string literals or numbers, never as query text.
//! A filter it cannot express (host or path substrings) sends the request to the local engine,
//! because aggregated rows cannot be re-checked afterwards.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use crate::requests::{RequestFilter, StatusFilter};
use crate::source::SourceError;

/// Longest user value put into a query.
const MAX_VALUE: usize = 200;

/// A double-quoted Insights string literal, or `None` for values that should not go into a
/// query at all (control characters, too long).
pub fn string_literal(v: &str) -> Option<String> {
    if v.is_empty() || v.len() > MAX_VALUE || v.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

/// The `filter` commands for `filter`, or `None` when a filter cannot be expressed exactly.
fn filters(filter: &RequestFilter) -> Option<String> {
    if filter.host.is_some() || filter.path.is_some() {
        return None;
    }
    narrowing(filter)
}

/// The `filter` commands for what of `filter` Insights expresses exactly (client IP, status,
/// trace id); host and path are left out, for queries whose rows are re-checked here. `None`
/// when a value cannot go into a query (then nothing is narrowed server-side).
fn narrowing(filter: &RequestFilter) -> Option<String> {
    let mut out = String::from("filter k = \"alb\" or k = \"clb\"\n");
    if let Some(ip) = &filter.ip {
        out.push_str(&format!("| filter ip = {}\n", string_literal(ip)?));
    }
    out.push_str(&status_and_trace(filter)?);
    Some(out)
}

/// [`narrowing`] for queries whose rows are all re-checked here (listings): natively delivered
/// ALB records (`alb_native`, no `k`, other keys) pass every filter too.
fn listing_narrowing(filter: &RequestFilter) -> Option<String> {
    let native = " or ispresent(request_line)";
    let mut out = format!("filter k = \"alb\" or k = \"clb\"{native}\n");
    if let Some(ip) = &filter.ip {
        out.push_str(&format!("| filter ip = {}{native}\n", string_literal(ip)?));
    }
    for clause in status_and_trace(filter)?.lines() {
        out.push_str(clause);
        out.push_str(native);
        out.push('\n');
    }
    Some(out)
}

/// The status and trace-id `filter` commands of [`narrowing`].
fn status_and_trace(filter: &RequestFilter) -> Option<String> {
    let mut out = String::new();
    if !filter.status.is_empty() {
        let parts: Vec<String> = filter
            .status
            .iter()
            .map(|s| {
                let (lo, hi) = match s {
                    StatusFilter::Code(c) => (*c, *c),
                    StatusFilter::Class(k) => (k * 100, k * 100 + 99),
                };
                format!("(s >= {lo} and s <= {hi}) or (ts >= {lo} and ts <= {hi})")
            })
            .collect();
        out.push_str(&format!("| filter {}\n", parts.join(" or ")));
    }
    if let Some(t) = &filter.trace_id {
        let lit = string_literal(t)?;
        out.push_str(&format!("| filter tr like {lit} or cid = {lit}\n"));
    }
    Some(out)
}

/// Per-record values the stats commands use: latency as `RequestRecord::latency` computes it,
/// and 0/1 flags for the status classes.
const FIELDS: &str = "| fields coalesce(d, dq + dt + dr, dt) as lat, \
(s >= 400 and s <= 499) as e4, (s >= 500 and s <= 599) as e5, (ts >= 500 and ts <= 599) as t5\n";

/// Totals over the range: count, error counts and latency percentiles.
pub fn totals_query(filter: &RequestFilter) -> Option<String> {
    Some(format!(
        "{}{FIELDS}| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, \
sum(t5) as target_server_errors, avg(lat) as mean, pct(lat, 50) as median, pct(lat, 90) as p90, \
pct(lat, 95) as p95, pct(lat, 99) as p99, max(lat) as max",
        filters(filter)?
    ))
}

/// The time series: the same numbers per `bucket_seconds` bin.
pub fn series_query(filter: &RequestFilter, bucket_seconds: i64) -> Option<String> {
    Some(format!(
        "{}{FIELDS}| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, \
pct(lat, 50) as p50, pct(lat, 95) as p95, max(lat) as max by bin({bucket_seconds}s) as bucket\n\
| sort bucket asc",
        filters(filter)?
    ))
}

/// One result row: field → value.
pub type Row = BTreeMap<String, String>;

/// Most rows one Logs Insights query returns.
pub const MAX_ROWS: usize = 10_000;

/// The query for raw request records (newest first): `@timestamp`, `@ptr` and `@message` of every
/// load-balancer record the filters Insights can express let through. Rows are decoded and
/// re-checked against the whole filter here.
pub fn messages_query(filter: &RequestFilter) -> String {
    newest_query(filter, MAX_ROWS)
}

/// The newest-first listing of `/v1/access?order=desc`: `@timestamp`, `@message` and `@ptr` of
/// the newest `limit` (1 to [`MAX_ROWS`]) load-balancer records that what of `filter` Insights
/// expresses lets through (client IP, status, trace id, as escaped literals and numbers; a
/// value that cannot go into a query narrows nothing). Host and path are left out: every row
/// is re-checked with [`RequestFilter::matches`].
pub fn newest_query(filter: &RequestFilter, limit: usize) -> String {
    let narrow = listing_narrowing(filter).unwrap_or_else(|| {
        "filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n".to_owned()
    });
    let limit = limit.clamp(1, MAX_ROWS);
    format!("fields @timestamp, @message, @ptr\n| {narrow}| sort @timestamp desc\n| limit {limit}")
}

/// Most parts a cursor carries: a cursor stays well within the longest accepted value (each
/// part is some 90 bytes of base64 with its query id). Parts past it are merged into one not
/// yet started ([`cap`]).
pub const MAX_PARTS: usize = 24;

/// One query of a read that may outlive the request that started it: its range in whole
/// seconds (both ends included) and, once started, its id.
///
/// Logs Insights runs a query to the end (up to 60 minutes) whether or not anybody polls, and
/// keeps its results readable by id for 7 days. So a request that runs out of time does not
/// stop its queries: its cursor carries their parts, and the next request reads them by id
/// (GetQueryResults) instead of starting them again, starting only the parts not yet started.
/// The short keys keep cursors small.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Part {
    /// First second.
    pub s: i64,
    /// Last second (included).
    pub e: i64,
    /// The query's id; absent: not started yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// The part's first query was lost (unknown or expired id, Failed, Cancelled, Timeout) and
    /// it was started again; a part is restarted at most once, then losing it is an error.
    #[serde(default, skip_serializing_if = "is_false")]
    pub r: bool,
    /// One second whose query answered [`MAX_ROWS`] rows (it may hold more, and a second
    /// cannot be split): it is read another way, never queried again ([`Got::Local`]).
    #[serde(default, skip_serializing_if = "is_false")]
    pub l: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Part {
    /// A part not started yet.
    pub fn new(s: i64, e: i64) -> Part {
        Part {
            s,
            e,
            q: None,
            r: false,
            l: false,
        }
    }

    /// Second `s`, to be read another way than by a query (see [`Part::l`]).
    pub fn local(s: i64) -> Part {
        Part {
            l: true,
            ..Part::new(s, s)
        }
    }

    /// Whether a part read from a cursor is well-formed: `s <= e`, times a timestamp can hold,
    /// an id of at most 64 letters, digits and dashes (a query id is a UUID), and a part read
    /// another way ([`Part::l`]) one second without a query.
    pub fn valid(&self) -> bool {
        let second = |v: i64| jiff::Timestamp::from_second(v).is_ok();
        second(self.s)
            && second(self.e)
            && self.s <= self.e
            && (!self.l || (self.s == self.e && self.q.is_none()))
            && self.q.as_ref().is_none_or(|q| {
                !q.is_empty()
                    && q.len() <= 64
                    && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    }
}

/// Whether `parts` (from a cursor) split `[start_s, end_s]` into consecutive parts, oldest
/// first, at most [`MAX_PARTS`] of them, each [`Part::valid`].
pub fn tiles(parts: &[Part], start_s: i64, end_s: i64) -> bool {
    parts.len() <= MAX_PARTS
        && parts.first().is_some_and(|p| p.s == start_s)
        && parts.last().is_some_and(|p| p.e == end_s)
        && parts.iter().all(Part::valid)
        && parts
            .windows(2)
            .all(|w| w[0].e.checked_add(1) == Some(w[1].s))
}

/// `parts` (consecutive, oldest first) cut to [`MAX_PARTS`]: the last ones merged into one part
/// not started yet (their queries, if any, are left to run out unread).
pub fn cap(mut parts: Vec<Part>) -> Vec<Part> {
    if parts.len() > MAX_PARTS {
        let e = parts.last().map_or(0, |p| p.e);
        parts.truncate(MAX_PARTS);
        if let Some(last) = parts.last_mut() {
            *last = Part::new(last.s, e);
        }
    }
    parts
}

/// How a read runs its queries.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    /// Queries of one request running at once (the account allows 30 in all).
    pub concurrency: usize,
    /// Polling.
    pub backoff: Backoff,
    /// Retries of StartQuery refused with LimitExceededException (too many running queries).
    pub retry: crate::source::Retry,
    /// Answer with what there is (the rest pending) at this instant.
    pub deadline: Instant,
}

impl Split {
    /// The defaults (3 queries at once, default polling and retries) until `deadline`.
    pub fn until(deadline: Instant) -> Split {
        Split {
            concurrency: 3,
            backoff: Backoff::default(),
            retry: crate::source::Retry::default(),
            deadline,
        }
    }
}

/// What a split read got for one part.
#[derive(Debug, Clone, PartialEq)]
pub enum Got {
    /// Its query completed with fewer than [`MAX_ROWS`] rows: every row of the part (newest
    /// first).
    Rows(Vec<Row>),
    /// One second with [`MAX_ROWS`] rows or more ([`Part::l`]): no query answers it completely,
    /// so the caller reads it another way.
    Local,
    /// Its query was still running, or not started, at the deadline.
    Pending,
}

/// Rows of a split read.
#[derive(Debug, Default)]
pub struct SplitRows {
    /// Every part, consecutive and oldest first, with what was got for it.
    pub parts: Vec<(Part, Got)>,
}

impl SplitRows {
    /// How many parts from the first one on are complete or to be read another way, at most
    /// `most`: the queries' rows are complete before the next one's first second.
    pub fn complete_prefix(&self, most: usize) -> usize {
        self.parts
            .iter()
            .take(most)
            .take_while(|p| p.1 != Got::Pending)
            .count()
    }
}

/// Reads `query` (which must end in `limit MAX_ROWS`) over `parts` (consecutive, oldest first:
/// a fresh read is one part), reading the parts whose query was started by an earlier request
/// by id, and splitting a part in two whenever it answers [`MAX_ROWS`] rows (it may have had
/// more), with at most `split.concurrency` queries at once. A part of one second that answers
/// [`MAX_ROWS`] rows becomes a [`Part::local`] ([`Got::Local`]), and so does one given as such
/// (no query). At the deadline the parts not complete are left as they are (running, or not
/// started), to be continued.
pub async fn run_split(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    parts: Vec<Part>,
    query: &str,
    split: Split,
) -> Result<SplitRows, SourceError> {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    let mut out = SplitRows::default();
    let mut todo: std::collections::VecDeque<Part> = parts.into();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < split.concurrency.max(1)
            && let Some(part) = todo.pop_front()
        {
            if part.l {
                out.parts.push((part, Got::Local));
                continue;
            }
            if Instant::now() >= split.deadline {
                out.parts.push((part, Got::Pending));
                continue;
            }
            running.push(run_part(client, groups, part, query, split));
        }
        let Some(got) = running.next().await else {
            break;
        };
        match got? {
            Ran::Complete { part, rows } if rows.len() >= MAX_ROWS && part.e > part.s => {
                // Maybe more than one query returns: split, older half first.
                let mid = part.s + (part.e - part.s) / 2;
                todo.push_front(Part::new(mid + 1, part.e));
                todo.push_front(Part::new(part.s, mid));
            }
            Ran::Complete { part, rows } if rows.len() >= MAX_ROWS => {
                // One second, maybe with more rows than a query returns: read another way.
                out.parts.push((Part::local(part.s), Got::Local));
            }
            Ran::Complete { part, rows } => out.parts.push((part, Got::Rows(rows))),
            Ran::Pending(part) => out.parts.push((part, Got::Pending)),
        }
    }
    out.parts.sort_by_key(|p| p.0.s);
    Ok(out)
}

/// What became of a part's query.
#[derive(Debug, Clone, PartialEq)]
pub enum Ran {
    /// It completed: its rows, in the order returned.
    Complete {
        /// The part, with its query's id.
        part: Part,
        /// The rows, field → value.
        rows: Vec<Row>,
    },
    /// Still running at the deadline (with its id; it runs on), or not started (no id: too
    /// many queries running in the account until the deadline).
    Pending(Part),
}

/// Runs `query` for `part` until it completes or `split.deadline` comes: starts it (StartQuery
/// refused for too many running queries is retried with backoff) unless the part has a query
/// already, then polls GetQueryResults with backoff. A query that runs past the deadline is not
/// stopped: it answers [`Ran::Pending`] with the id. A part's query from an earlier request
/// that was lost (its id unknown or expired, or it ended Failed, Cancelled or Timeout) is
/// started again once; a query lost after that, or one this request started, is an error.
pub async fn run_part(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    mut part: Part,
    query: &str,
    split: Split,
) -> Result<Ran, SourceError> {
    let mut carried = part.q.is_some();
    loop {
        let id = match &part.q {
            Some(id) => id.clone(),
            None => match start(client, groups, &part, query, split).await? {
                Some(id) => {
                    part.q = Some(id.clone());
                    id
                }
                None => return Ok(Ran::Pending(part)),
            },
        };
        match poll(client, &id, split.backoff, split.deadline, carried).await? {
            Polled::Complete(rows) => return Ok(Ran::Complete { part, rows }),
            Polled::Running => return Ok(Ran::Pending(part)),
            Polled::Lost(status) if carried && !part.r => {
                tracing::info!(query_id = %id, %status, "Logs Insights query lost; starting it again");
                part.q = None;
                part.r = true;
                carried = false;
            }
            Polled::Lost(status) => return Err(SourceError::Query { id, status }),
        }
    }
}

/// StartQuery for `part`, retried with backoff while the account has too many queries running
/// (LimitExceededException), until `split.deadline`: the query id, or `None` when it could not
/// be started in time.
async fn start(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    part: &Part,
    query: &str,
    split: Split,
) -> Result<Option<String>, SourceError> {
    use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let sent = client
            .start_query()
            .set_log_group_names(Some(groups.to_vec()))
            .start_time(part.s)
            .end_time(part.e)
            .query_string(query)
            .limit(MAX_ROWS as i32)
            .send()
            .await;
        match sent {
            Ok(out) => return Ok(Some(out.query_id().unwrap_or_default().to_owned())),
            Err(e) if crate::source::is_throttling(e.code()) => {
                let wait = split.retry.wait(attempt);
                if attempt >= split.retry.max_attempts || Instant::now() + wait >= split.deadline {
                    return Ok(None);
                }
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(aws_error("StartQuery", e)),
        }
    }
}

/// How to poll.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// First wait.
    pub initial: Duration,
    /// Longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        }
    }
}

/// What polling a query found.
enum Polled {
    /// Complete, with its rows.
    Complete(Vec<Row>),
    /// Still running (or scheduled) at the deadline.
    Running,
    /// Ended without results (`Failed`, `Cancelled`, `Timeout`, `Unknown`), or, for an id from
    /// an earlier request, an id Insights does not know (`unknown`: expired after 7 days).
    Lost(String),
}

/// Error codes of GetQueryResults for a query id Insights does not know.
fn unknown_query(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ResourceNotFoundException" | "InvalidParameterException")
    )
}

/// Polls GetQueryResults for `id` with `backoff` until the query ends or `deadline` comes.
/// `carried`: the id comes from an earlier request, so an unknown id is a lost query rather
/// than an error.
async fn poll(
    client: &aws_sdk_cloudwatchlogs::Client,
    id: &str,
    backoff: Backoff,
    deadline: Instant,
    carried: bool,
) -> Result<Polled, SourceError> {
    use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
    let mut wait = backoff.initial;
    loop {
        let out = match client.get_query_results().query_id(id).send().await {
            Ok(out) => out,
            Err(e) if carried && unknown_query(e.code()) => {
                return Ok(Polled::Lost("unknown".to_owned()));
            }
            Err(e) => return Err(aws_error("GetQueryResults", e)),
        };
        match out.status() {
            Some(QueryStatus::Complete) => {
                let rows = out
                    .results()
                    .iter()
                    .map(|r| {
                        r.iter()
                            .filter_map(|f| Some((f.field()?.to_owned(), f.value()?.to_owned())))
                            .collect()
                    })
                    .collect();
                return Ok(Polled::Complete(rows));
            }
            Some(QueryStatus::Running | QueryStatus::Scheduled) | None => {}
            Some(other) => return Ok(Polled::Lost(other.as_str().to_owned())),
        }
        if Instant::now() + wait >= deadline {
            // Out of time: the query runs on, and the cursor carries its id.
            return Ok(Polled::Running);
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(backoff.max);
    }
}

fn aws_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    operation: &'static str,
    e: aws_sdk_cloudwatchlogs::error::SdkError<E, R>,
) -> SourceError {
    SourceError::Aws {
        operation,
        message: aws_sdk_cloudwatchlogs::error::DisplayErrorContext(&e).to_string(),
    }
}

/// A field as a number.
pub fn num(row: &BTreeMap<String, String>, field: &str) -> Option<f64> {
    row.get(field)?.parse().ok()
}

/// A field of seconds (a latency), to the microsecond as the local engine gives it: Insights
/// sums the three processing times in floating point (0.0030000000000000005).
pub fn seconds(row: &BTreeMap<String, String>, field: &str) -> Option<f64> {
    num(row, field).map(logdesk_core::record::to_microsecond)
}

/// A `bin()` value (`2026-11-20 00:05:00.000`, UTC) in µs.
pub fn bin_time(v: &str) -> Option<i64> {
    let dt: DateTime = v.replacen(' ', "T", 1).parse().ok()?;
    dt.to_zoned(jiff::tz::TimeZone::UTC)
        .ok()
        .map(|z| z.timestamp().as_microsecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_are_read_to_the_microsecond() {
        let row = BTreeMap::from([
            ("p95".to_owned(), "0.0030000000000000005".to_owned()),
            ("count".to_owned(), "12".to_owned()),
        ]);
        assert_eq!(seconds(&row, "p95"), Some(0.003));
        assert_eq!(seconds(&row, "max"), None);
        assert_eq!(num(&row, "count"), Some(12.0));
    }

    #[test]
    fn golden_queries() {
        let f = RequestFilter {
            ip: Some("203.0.113.5".to_owned()),
            status: vec![StatusFilter::Class(5)],
            ..Default::default()
        };
        assert_eq!(
            series_query(&f, 300).unwrap(),
            "filter k = \"alb\" or k = \"clb\"\n\
| filter ip = \"203.0.113.5\"\n\
| filter (s >= 500 and s <= 599) or (ts >= 500 and ts <= 599)\n\
| fields coalesce(d, dq + dt + dr, dt) as lat, (s >= 400 and s <= 499) as e4, (s >= 500 and s <= 599) as e5, (ts >= 500 and ts <= 599) as t5\n\
| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, pct(lat, 50) as p50, pct(lat, 95) as p95, max(lat) as max by bin(300s) as bucket\n\
| sort bucket asc"
        );
        assert_eq!(
            totals_query(&RequestFilter::default()).unwrap(),
            "filter k = \"alb\" or k = \"clb\"\n\
| fields coalesce(d, dq + dt + dr, dt) as lat, (s >= 400 and s <= 499) as e4, (s >= 500 and s <= 599) as e5, (ts >= 500 and ts <= 599) as t5\n\
| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, sum(t5) as target_server_errors, avg(lat) as mean, pct(lat, 50) as median, pct(lat, 90) as p90, pct(lat, 95) as p95, pct(lat, 99) as p99, max(lat) as max"
        );
    }

    #[test]
    fn injection_attempts_stay_inside_a_literal_or_out() {
        let f = RequestFilter {
            trace_id: Some(r#"x" | stats count(*) by ip | filter "a"#.to_owned()),
            ..Default::default()
        };
        let q = totals_query(&f).unwrap();
        assert!(
            q.contains(r#"| filter tr like "x\" | stats count(*) by ip | filter \"a" or cid = "x\" | stats count(*) by ip | filter \"a""#),
            "{q}"
        );
        assert_eq!(string_literal(r"a\b").as_deref(), Some(r#""a\\b""#));
        assert_eq!(string_literal("a\nb"), None);
        let f = RequestFilter {
            ip: Some("1.2.3.4\n| stats".to_owned()),
            ..Default::default()
        };
        assert_eq!(totals_query(&f), None);
        let f = RequestFilter {
            host: Some("example".to_owned()),
            ..Default::default()
        };
        assert_eq!(series_query(&f, 60), None);
    }

    #[test]
    fn golden_messages_query() {
        let f = RequestFilter {
            ip: Some("203.0.113.5".to_owned()),
            path: Some("/apply".to_owned()),
            ..Default::default()
        };
        // Natively delivered ALB records (no `k`) pass each filter: their rows are re-checked.
        assert_eq!(
            messages_query(&f),
            "fields @timestamp, @message, @ptr\n\
| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n\
| filter ip = \"203.0.113.5\" or ispresent(request_line)\n\
| sort @timestamp desc\n\
| limit 10000"
        );
        // A value that cannot go into a query narrows nothing (the rows are re-checked).
        let f = RequestFilter {
            ip: Some("1.2.3.4\n| fields @logStream".to_owned()),
            ..Default::default()
        };
        assert_eq!(
            messages_query(&f),
            "fields @timestamp, @message, @ptr\n| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n| sort @timestamp desc\n| limit 10000"
        );
        let f = RequestFilter {
            trace_id: Some(r#"Root=1-x" or ip like /./ | display @message"#.to_owned()),
            ..Default::default()
        };
        assert!(messages_query(&f).contains(
            r#"| filter tr like "Root=1-x\" or ip like /./ | display @message" or cid = "Root=1-x\" or ip like /./ | display @message" or ispresent(request_line)"#
        ));
    }

    #[test]
    fn golden_newest_first_query() {
        let f = RequestFilter {
            ip: Some("203.0.113.5".to_owned()),
            status: vec![StatusFilter::Code(404), StatusFilter::Class(5)],
            host: Some("example".to_owned()),
            ..Default::default()
        };
        assert_eq!(
            newest_query(&f, 101),
            "fields @timestamp, @message, @ptr\n\
| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n\
| filter ip = \"203.0.113.5\" or ispresent(request_line)\n\
| filter (s >= 404 and s <= 404) or (ts >= 404 and ts <= 404) or (s >= 500 and s <= 599) or (ts >= 500 and ts <= 599) or ispresent(request_line)\n\
| sort @timestamp desc\n\
| limit 101"
        );
        assert!(newest_query(&RequestFilter::default(), 0).ends_with("| limit 1"));
        assert!(newest_query(&RequestFilter::default(), 50_000).ends_with("| limit 10000"));
        // Injection attempts stay inside a literal, or the value narrows nothing.
        let f = RequestFilter {
            ip: Some(r#"1.2.3.4" | sort @timestamp asc | limit 10000 | filter ip = "x"#.to_owned()),
            ..Default::default()
        };
        assert_eq!(
            newest_query(&f, 5),
            "fields @timestamp, @message, @ptr\n\
| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n\
| filter ip = \"1.2.3.4\\\" | sort @timestamp asc | limit 10000 | filter ip = \\\"x\" or ispresent(request_line)\n\
| sort @timestamp desc\n\
| limit 5"
        );
        let f = RequestFilter {
            trace_id: Some("Root=1-x\n| display @logStream".to_owned()),
            ..Default::default()
        };
        assert_eq!(
            newest_query(&f, 5),
            "fields @timestamp, @message, @ptr\n| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n| sort @timestamp desc\n| limit 5"
        );
    }

    #[test]
    fn parts_tile_a_range_and_cap_keeps_the_first_ones_intact() {
        let id = |p: Part, q: &str| Part {
            q: Some(q.to_owned()),
            ..p
        };
        let parts = vec![
            id(Part::new(100, 149), "a-1"),
            Part::new(150, 199),
            id(Part::new(200, 299), "c"),
        ];
        assert!(tiles(&parts, 100, 299));
        assert!(!tiles(&parts, 100, 300), "short of the end");
        assert!(!tiles(&parts[1..], 100, 299), "short of the start");
        assert!(
            !tiles(&[parts[0].clone(), parts[2].clone()], 100, 299),
            "a gap"
        );
        assert!(!tiles(&[], 100, 299));
        for bad in [
            id(Part::new(100, 299), ""),
            id(Part::new(100, 299), "a\" | filter"),
            id(Part::new(100, 299), &"x".repeat(65)),
            Part::new(300, 100),
            Part::new(i64::MIN, 299),
            Part::new(100, i64::MAX),
            // Read another way: one second, and no query.
            Part {
                l: true,
                ..Part::new(100, 299)
            },
            id(Part::local(100), "q"),
        ] {
            assert!(!bad.valid(), "{bad:?}");
            assert!(!tiles(std::slice::from_ref(&bad), bad.s, bad.e), "{bad:?}");
        }
        assert!(Part::local(100).valid());
        assert!(tiles(
            &[Part::new(99, 99), Part::local(100), Part::new(101, 299)],
            99,
            299
        ));
        // Up to MAX_PARTS, unchanged; past it, the last ones become one part not started.
        let many: Vec<Part> = (0..40)
            .map(|i| id(Part::new(i * 10, i * 10 + 9), &format!("q{i}")))
            .collect();
        assert_eq!(cap(many[..MAX_PARTS].to_vec()), many[..MAX_PARTS].to_vec());
        let capped = cap(many.clone());
        assert_eq!(capped.len(), MAX_PARTS);
        assert_eq!(capped[..MAX_PARTS - 1], many[..MAX_PARTS - 1]);
        assert_eq!(
            capped[MAX_PARTS - 1],
            Part::new((MAX_PARTS as i64 - 1) * 10, 399)
        );
        assert!(tiles(&capped, 0, 399));
        // Serialised briefly: a cursor of MAX_PARTS parts with UUIDs stays well within its
        // longest accepted length.
        let uuids: Vec<Part> = (0..MAX_PARTS as i64)
            .map(|i| {
                id(
                    Part::new(1_795_132_800 + i * 1000, 1_795_132_800 + i * 1000 + 999),
                    "8b3c0a4e-1d2f-4a5b-9c6d-7e8f9a0b1c2d",
                )
            })
            .collect();
        let json = serde_json::to_string(&uuids).unwrap();
        assert!(json.len() * 4 / 3 < 4096, "{}", json.len());
    }

    #[test]
    fn bin_values() {
        assert_eq!(
            bin_time("2026-11-20 00:05:00.000"),
            Some(1_795_133_100_000_000)
        );
        assert_eq!(bin_time("soon"), None);
    }
}
