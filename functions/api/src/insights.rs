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
//! The parts: [`query`] builds the query text (only documented syntax; values needing an escape
//! are refused, [`Unquotable`]), this module runs queries (every GetQueryResults page read,
//! each query kept to its part's milliseconds), and [`results`] reads rows into typed values,
//! refusing rows that lack what their query produces ([`ResultError`]: a 502, never zeros).

use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use serde::{Deserialize, Serialize};

use crate::source::SourceError;

pub mod mail;
pub mod query;
pub mod results;

pub use query::{
    Bins, Breakdown, Inexpressible, MAX_ROWS, Unquotable, bounded, breakdown_query, groups_query,
    messages_query, newest_query, series_query, string_literal, totals_query,
};
pub use results::{
    Latency, Message, PathLatency, PathRow, ResultError, Row, SeriesBin, Shares, Totals,
    timestamp_ms,
};

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
    /// The request's range in milliseconds, `[from, to)`: queries keep to it even where a
    /// part's whole seconds reach past it ([`Split::within`]); `None`: the parts' seconds.
    pub range_ms: Option<(i64, i64)>,
}

impl Split {
    /// The defaults (3 queries at once, default polling and retries) until `deadline`.
    pub fn until(deadline: Instant) -> Split {
        Split {
            concurrency: 3,
            backoff: Backoff::default(),
            retry: crate::source::Retry::default(),
            deadline,
            range_ms: None,
        }
    }

    /// The same, with queries kept to `[from_ms, to_ms)` (the request's exact range).
    pub fn within(self, from_ms: i64, to_ms: i64) -> Split {
        Split {
            range_ms: Some((from_ms, to_ms)),
            ..self
        }
    }

    /// The milliseconds `[from, to)` a query of `part` keeps to: the part's whole seconds,
    /// cut to the request's range when one is given.
    fn bounds_ms(&self, part: &Part) -> (i64, i64) {
        let from = part.s.saturating_mul(1000);
        let to = part.e.saturating_add(1).saturating_mul(1000);
        match self.range_ms {
            Some((lo, hi)) => (from.max(lo), to.min(hi)),
            None => (from, to),
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

/// What a read of queries that each cover the whole range got ([`run_whole`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Whole {
    /// Every query completed: their rows, in the order of the queries.
    Complete(Vec<Vec<Row>>),
    /// Some query was still running (or not started) at the deadline: every query's part,
    /// in order, for a cursor (nothing is stopped).
    Pending(Vec<Part>),
}

/// The parts of `n` queries over the whole of `[start_s, end_s]`: fresh ones when `carried`
/// (from a cursor) is empty, else `carried` when it is `n` such parts; `None` for anything
/// else (a cursor of another read).
pub fn whole_parts(carried: Vec<Part>, n: usize, start_s: i64, end_s: i64) -> Option<Vec<Part>> {
    if carried.is_empty() {
        return Some(vec![Part::new(start_s, end_s); n]);
    }
    (carried.len() == n && carried.iter().all(|p| p.s == start_s && p.e == end_s))
        .then_some(carried)
}

/// The whole-range read of an aggregate endpoint (`/v1/stats`, `/v1/mail/stats`): `queries`
/// over `[c.from, c.to)` of `group`, each from its part of `carried` (a cursor's, or fresh
/// ones when empty), until they complete or `deadline` comes. Carried parts of another read
/// are the 400 of a foreign cursor.
pub async fn run_over_request(
    client: &aws_sdk_cloudwatchlogs::Client,
    group: &str,
    queries: &[String],
    carried: Vec<Part>,
    c: &crate::params::Common,
    deadline: Instant,
) -> Result<Whole, crate::error::ApiError> {
    let (start_s, end_s) = c.seconds();
    let parts = whole_parts(carried, queries.len(), start_s, end_s)
        .ok_or_else(crate::params::bad_cursor)?;
    let split = Split::until(deadline).within(c.from_ms(), c.to_ms());
    Ok(run_whole(client, &[group.to_owned()], queries, parts, split).await?)
}

/// Runs each of `queries` over its part of `parts` (see [`whole_parts`]), all at once, until
/// they complete or the deadline of `split` comes.
pub async fn run_whole(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    queries: &[String],
    parts: Vec<Part>,
    split: Split,
) -> Result<Whole, SourceError> {
    let ran = futures_util::future::join_all(
        parts
            .into_iter()
            .zip(queries)
            .map(|(part, q)| run_part(client, groups, part, q, split)),
    )
    .await
    .into_iter()
    .collect::<Result<Vec<Ran>, _>>()?;
    if ran.iter().all(|r| matches!(r, Ran::Complete { .. })) {
        return Ok(Whole::Complete(
            ran.into_iter()
                .map(|r| match r {
                    Ran::Complete { rows, .. } => rows,
                    Ran::Pending(_) => Vec::new(),
                })
                .collect(),
        ));
    }
    Ok(Whole::Pending(
        ran.into_iter()
            .map(|r| match r {
                Ran::Complete { part, .. } | Ran::Pending(part) => part,
            })
            .collect(),
    ))
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
    let (from_ms, to_ms) = split.bounds_ms(part);
    let mut attempt = 0;
    loop {
        attempt += 1;
        // `endTime` is whole seconds and its last second is not wholly included (aws/aws-sdk
        // #280): the range sent reaches the next second, and the query itself keeps exactly
        // the part's milliseconds.
        let sent = client
            .start_query()
            .set_log_group_names(Some(groups.to_vec()))
            .start_time(part.s)
            .end_time(part.e.saturating_add(1))
            .query_string(bounded(query, from_ms, to_ms))
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
                let mut rows = rows_of(&out);
                let mut token = out.next_token().map(str::to_owned);
                while let Some(t) = token {
                    let page = client
                        .get_query_results()
                        .query_id(id)
                        .next_token(t)
                        .send()
                        .await
                        .map_err(|e| aws_error("GetQueryResults", e))?;
                    rows.extend(rows_of(&page));
                    token = page.next_token().map(str::to_owned);
                }
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

/// The rows of one GetQueryResults page, field → value (a field without a value is left out,
/// as Insights leaves out nulls).
fn rows_of(
    out: &aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput,
) -> Vec<Row> {
    out.results()
        .iter()
        .map(|r| {
            r.iter()
                .filter_map(|f| Some((f.field()?.to_owned(), f.value()?.to_owned())))
                .collect()
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
