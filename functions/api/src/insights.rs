//! Logs Insights: the engine for stats and visitor lists over busy ranges. StartQuery, then
//! GetQueryResults polled with backoff until the query completes or the time budget runs out
//! (then the query is stopped and the answer is `partial`). Raw-row queries ([`run_split`]) are
//! split in two wherever one would pass the 10,000 rows a query returns, with a few queries at a
//! time, and StartQuery refused for too many running queries (LimitExceededException) is retried
//! with backoff.
//!
//! Queries are built as text from filters that Insights can express exactly (client IP, status,
//! trace id); user values go in as escaped string literals or numbers, never as query text.
//! A filter it cannot express (host or path substrings) sends the request to the local engine,
//! because aggregated rows cannot be re-checked afterwards.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::types::QueryStatus;
use jiff::civil::DateTime;

use crate::access::{RequestFilter, StatusFilter};
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
    let narrow =
        narrowing(filter).unwrap_or_else(|| "filter k = \"alb\" or k = \"clb\"\n".to_owned());
    let limit = limit.clamp(1, MAX_ROWS);
    format!("fields @timestamp, @message, @ptr\n| {narrow}| sort @timestamp desc\n| limit {limit}")
}

/// How a split read runs its queries.
#[derive(Debug, Clone, Copy)]
pub struct Split {
    /// Queries of one request running at once (the account allows 30 in all).
    pub concurrency: usize,
    /// Polling.
    pub backoff: Backoff,
    /// Retries of StartQuery refused with LimitExceededException (too many running queries).
    pub retry: crate::source::Retry,
    /// Give up (partial) at this instant.
    pub deadline: Instant,
}

/// Rows of a split read.
#[derive(Debug, Default)]
pub struct SplitRows {
    /// The rows of every part, newest part first.
    pub rows: Vec<BTreeMap<String, String>>,
    /// Some part was cut (time ran out, or one second held more than [`MAX_ROWS`] rows).
    pub partial: bool,
    /// Queries run.
    pub queries: usize,
}

/// Runs `query` (which must end in `limit MAX_ROWS`) over `[start_s, end_s]` (whole seconds,
/// both ends included), splitting the range in two whenever a part answers [`MAX_ROWS`] rows
/// (it may have had more), with at most `split.concurrency` queries running at once.
pub async fn run_split(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    start_s: i64,
    end_s: i64,
    query: &str,
    split: Split,
) -> Result<SplitRows, SourceError> {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    let mut out = SplitRows::default();
    let mut parts: Vec<(i64, i64, Vec<Row>)> = Vec::new();
    let mut todo: std::collections::VecDeque<(i64, i64)> = [(start_s, end_s)].into();
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < split.concurrency.max(1)
            && let Some((s, e)) = todo.pop_front()
        {
            out.queries += 1;
            running.push(async move {
                let got = start_and_run(client, groups, s, e, query, split).await;
                (s, e, got)
            });
        }
        let Some((s, e, got)) = running.next().await else {
            break;
        };
        let got = got?;
        if got.rows.len() >= MAX_ROWS && !got.partial && e > s {
            // Maybe more than one query returns: split, newer half first.
            let mid = s + (e - s) / 2;
            todo.push_front((s, mid));
            todo.push_front((mid + 1, e));
            continue;
        }
        out.partial |= got.partial || got.rows.len() >= MAX_ROWS;
        parts.push((s, e, got.rows));
    }
    parts.sort_by_key(|p| std::cmp::Reverse(p.0));
    out.rows = parts.into_iter().flat_map(|p| p.2).collect();
    Ok(out)
}

/// [`run_query`] whose StartQuery is retried with backoff while the account has too many
/// queries running (LimitExceededException), until `split.deadline`.
async fn start_and_run(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    start_s: i64,
    end_s: i64,
    query: &str,
    split: Split,
) -> Result<QueryRows, SourceError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match run_query(
            client,
            groups,
            start_s,
            end_s,
            query,
            split.backoff,
            split.deadline,
        )
        .await
        {
            Err(SourceError::Throttled { .. }) => {
                let wait = split.retry.wait(attempt);
                if attempt >= split.retry.max_attempts || Instant::now() + wait >= split.deadline {
                    return Ok(QueryRows {
                        rows: Vec::new(),
                        partial: true,
                    });
                }
                tokio::time::sleep(wait).await;
            }
            other => return other,
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

/// The rows of a query, each as field → value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryRows {
    /// Rows in the order returned.
    pub rows: Vec<BTreeMap<String, String>>,
    /// The query did not complete before the deadline (it was stopped).
    pub partial: bool,
}

/// Runs `query` over `groups` between `start_s` and `end_s` (seconds), polling with `backoff`
/// until it completes or `deadline` passes.
pub async fn run_query(
    client: &aws_sdk_cloudwatchlogs::Client,
    groups: &[String],
    start_s: i64,
    end_s: i64,
    query: &str,
    backoff: Backoff,
    deadline: Instant,
) -> Result<QueryRows, SourceError> {
    let started = client
        .start_query()
        .set_log_group_names(Some(groups.to_vec()))
        .start_time(start_s)
        .end_time(end_s)
        .query_string(query)
        .limit(10_000)
        .send()
        .await
        .map_err(|e| {
            use aws_sdk_cloudwatchlogs::error::ProvideErrorMetadata as _;
            if crate::source::is_throttling(e.code()) {
                SourceError::Throttled {
                    operation: "StartQuery",
                    attempts: 1,
                }
            } else {
                aws_error("StartQuery", e)
            }
        })?;
    let id = started.query_id().unwrap_or_default().to_owned();
    let mut wait = backoff.initial;
    loop {
        let out = client
            .get_query_results()
            .query_id(&id)
            .send()
            .await
            .map_err(|e| aws_error("GetQueryResults", e))?;
        let rows = || {
            out.results()
                .iter()
                .map(|r| {
                    r.iter()
                        .filter_map(|f| Some((f.field()?.to_owned(), f.value()?.to_owned())))
                        .collect()
                })
                .collect()
        };
        match out.status() {
            Some(QueryStatus::Complete) => {
                return Ok(QueryRows {
                    rows: rows(),
                    partial: false,
                });
            }
            Some(QueryStatus::Running | QueryStatus::Scheduled) | None => {}
            Some(other) => {
                return Err(SourceError::Query {
                    id,
                    status: other.as_str().to_owned(),
                });
            }
        }
        if Instant::now() + wait >= deadline {
            // Out of time: stop the query (best effort) and answer with what there is.
            let _ = client.stop_query().query_id(&id).send().await;
            return Ok(QueryRows {
                rows: rows(),
                partial: true,
            });
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
        assert_eq!(
            messages_query(&f),
            "fields @timestamp, @message, @ptr\n\
| filter k = \"alb\" or k = \"clb\"\n\
| filter ip = \"203.0.113.5\"\n\
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
            "fields @timestamp, @message, @ptr\n| filter k = \"alb\" or k = \"clb\"\n| sort @timestamp desc\n| limit 10000"
        );
        let f = RequestFilter {
            trace_id: Some(r#"Root=1-x" or ip like /./ | display @message"#.to_owned()),
            ..Default::default()
        };
        assert!(messages_query(&f).contains(
            r#"| filter tr like "Root=1-x\" or ip like /./ | display @message" or cid = "Root=1-x\" or ip like /./ | display @message""#
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
| filter k = \"alb\" or k = \"clb\"\n\
| filter ip = \"203.0.113.5\"\n\
| filter (s >= 404 and s <= 404) or (ts >= 404 and ts <= 404) or (s >= 500 and s <= 599) or (ts >= 500 and ts <= 599)\n\
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
| filter k = \"alb\" or k = \"clb\"\n\
| filter ip = \"1.2.3.4\\\" | sort @timestamp asc | limit 10000 | filter ip = \\\"x\"\n\
| sort @timestamp desc\n\
| limit 5"
        );
        let f = RequestFilter {
            trace_id: Some("Root=1-x\n| display @logStream".to_owned()),
            ..Default::default()
        };
        assert_eq!(
            newest_query(&f, 5),
            "fields @timestamp, @message, @ptr\n| filter k = \"alb\" or k = \"clb\"\n| sort @timestamp desc\n| limit 5"
        );
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
