//! Stats and visits over the requests of a range (`logdesk_core::stats`, `logdesk_core::visits`).

use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use logdesk_core::record::RequestRecord;
use logdesk_core::stats::{Bucket, StatsAccumulator, StatsOptions};
use logdesk_core::urlgroup::UrlGrouper;
use logdesk_core::visits::{VisitOptions, build_visits};
use serde::Serialize;

use crate::access::{RequestFilter, Source, groups, take_source};
use crate::csv;
use crate::error::ApiError;
use crate::insights::{self, Got, Part, Ran};
use crate::light::{self, Scratch};
use crate::params::{self, Common, Format, Params};
use crate::scan::{self, read_group};
use crate::source::SourceError;
use crate::{AppState, now_us};

/// `engine=auto` uses Logs Insights for ranges at least this long (µs): six hours.
const INSIGHTS_FROM_US: i64 = 6 * 3_600_000_000;

/// Most URL-group patterns accepted.
const MAX_URL_GROUPS: usize = 50;

/// Reads every request of the range that passes `filter`, handing each to `push`; returns
/// where the read is complete (µs): `c.to`, or earlier when it stopped on the budget. Records
/// at or after that point may have been pushed too; an exact answer drops them.
async fn for_each_request(
    st: &AppState,
    c: &Common,
    source: Source,
    filter: &RequestFilter,
    mut push: impl FnMut(&RequestRecord),
) -> Result<i64, ApiError> {
    let limits = st.limits();
    let mut covered = c.to;
    for (g, (group, nginx)) in groups(st, source).into_iter().enumerate() {
        let req = filter.fetch_request(c, group, nginx);
        let formats = &st.config.nginx_formats;
        let mut scratch = Scratch::new();
        let read = read_group(&*st.source, req, g as u8, None, None, limits, |e| {
            if let Some(r) = scratch.read(e, nginx, formats, (c.from, c.to), filter) {
                push(r);
            }
            None::<()>
        })
        .await?;
        covered = covered.min(scan::covered(
            c.from,
            c.to,
            read.cut,
            read.frontier.as_ref(),
        ));
    }
    Ok(covered)
}

/// A stats accumulator per time bucket, so that an answer cut by the budget can keep whole
/// buckets only: two consecutive answers' series then concatenate.
struct BucketAccs<'a> {
    opts: StatsOptions<'a>,
    bucket_us: i64,
    offset_us: i64,
    accs: std::collections::BTreeMap<i64, StatsAccumulator<'a>>,
}

impl<'a> BucketAccs<'a> {
    fn new(opts: StatsOptions<'a>) -> BucketAccs<'a> {
        BucketAccs {
            bucket_us: opts.bucket_seconds.max(1).saturating_mul(1_000_000),
            offset_us: opts.utc_offset_seconds.saturating_mul(1_000_000),
            opts,
            accs: std::collections::BTreeMap::new(),
        }
    }

    /// The bucket of a time, as `StatsAccumulator` keys them.
    fn key(&self, t: i64) -> i64 {
        t.saturating_add(self.offset_us).div_euclid(self.bucket_us)
    }

    fn push(&mut self, r: &RequestRecord) {
        let key = self.key(r.t);
        let opts = &self.opts;
        self.accs
            .entry(key)
            .or_insert_with(|| StatsAccumulator::new(opts))
            .push(r);
    }

    /// The last bucket boundary at or before `covered` that is after `start` (or `covered`
    /// itself when it is `end`): where an exact answer of whole buckets stops. `start` when no
    /// bucket was finished.
    fn cut(&self, start: i64, end: i64, covered: i64) -> i64 {
        if covered >= end {
            return end;
        }
        let boundary = self
            .key(covered)
            .saturating_mul(self.bucket_us)
            .saturating_sub(self.offset_us);
        if boundary > start { boundary } else { start }
    }

    /// Everything pushed before `until`: a bucket boundary from [`BucketAccs::cut`], or at
    /// least `end`, the end of the range (then everything).
    fn finish(self, until: i64, end: i64) -> StatsAccumulator<'a> {
        let mut all = StatsAccumulator::new(&self.opts);
        let first_left_out = self.key(until);
        for (k, acc) in self.accs {
            if until >= end || k < first_left_out {
                all.merge(acc);
            }
        }
        all
    }
}

/// What a read of requests through Logs Insights found.
struct InsightsRead {
    /// The read is complete before this instant (µs): the range's end, the start of the first
    /// part whose query did not complete in time, or where the read of a second too busy for a
    /// query stopped.
    covered: i64,
    /// The parts read, with their queries' ids (to carry in a cursor).
    parts: Vec<Part>,
}

/// The requests of `[from, to)` (µs, within one second) that pass `filter`, read through the
/// local engine (FilterLogEvents, every row re-checked): a second that holds more rows than a
/// Logs Insights query returns. `None` when the time was up before it started; else the records
/// (the keys of the view) before the point where the read is complete, and that point: `to`,
/// or earlier when the read stopped on the budget or the read cap.
async fn read_second(
    st: &AppState,
    c: &Common,
    filter: &RequestFilter,
    (from, to): (i64, i64),
) -> Result<Option<(Vec<RequestRecord>, i64)>, ApiError> {
    if from >= to {
        return Ok(Some((Vec::new(), to)));
    }
    if Instant::now() >= st.limits().deadline {
        return Ok(None);
    }
    let mut second = c.clone();
    (second.from, second.to) = (from, to);
    let mut records = Vec::new();
    let covered = for_each_request(st, &second, Source::Lb, filter, |r| {
        records.push(light::keep(r))
    })
    .await?;
    records.retain(|r| r.t < covered);
    Ok(Some((records, covered)))
}

/// Where `part`'s seconds meet `c`'s range (µs, end excluded).
fn within(c: &Common, part: &Part) -> (i64, i64) {
    let us = |s: i64| s.saturating_mul(1_000_000).clamp(c.from, c.to);
    (us(part.s), us(part.e.saturating_add(1)))
}

/// Reads the load-balancer requests of `c`'s range that pass `filter` through Logs Insights
/// (raw records, from the queries of `parts`, which tile the range: a part's query is read by
/// id when an earlier request started it), re-checking each here and handing those before
/// `covered` to `push` (only parts complete from the first one on are used, at most
/// `MAX_PARTS - 1` of them, so the answer is exact for `[c.from, covered)`).
///
/// A second that holds more rows than a query returns ([`Part::l`]) is read through the local
/// engine instead ([`read_second`]), under the same deadline; when that read stops early,
/// `covered` is where it stopped (exact to the millisecond), and the cursor's first part is that
/// second again. Such seconds carried by a cursor are read at once, beside the queries, so that
/// a continuation gets on with them however long the queries of later parts take.
async fn requests_by_insights(
    st: &AppState,
    client: &aws_sdk_cloudwatchlogs::Client,
    c: &Common,
    filter: &RequestFilter,
    parts: Vec<Part>,
    mut push: impl FnMut(&RequestRecord),
) -> Result<InsightsRead, ApiError> {
    let busy: Vec<(i64, (i64, i64))> = parts
        .iter()
        .filter(|p| p.l)
        .map(|p| (p.s, within(c, p)))
        .collect();
    let read_busy = async {
        let mut out = std::collections::HashMap::new();
        for (s, range) in busy {
            let read = read_second(st, c, filter, range).await?;
            // Past a second read in part (or not at all), nothing is used.
            let stop = read.as_ref().is_none_or(|r| r.1 < range.1);
            out.insert(s, read);
            if stop {
                break;
            }
        }
        Ok::<_, ApiError>(out)
    };
    let query =
        insights::messages_query(filter).map_err(|e| ApiError::bad(e.parameter, e.to_string()))?;
    let (got, early) = tokio::join!(
        insights::run_split(
            client,
            std::slice::from_ref(&st.config.lb_group),
            parts,
            &query,
            insights::Split::until(st.limits().deadline).within(c.from_ms(), c.to_ms()),
        ),
        read_busy,
    );
    let (got, mut early) = (got?, early?);
    // The answer keeps the complete parts from the first one on, and no more than a cursor
    // carries intact ([`insights::cap`]), so that its pages read their parts by id.
    let k = got.complete_prefix(insights::MAX_PARTS - 1);
    let mut covered = got.parts.get(k).map_or(c.to, |p| within(c, &p.0).0);
    let mut scratch = Scratch::new();
    let formats = &st.config.nginx_formats;
    for (part, got) in got.parts.iter().take(k) {
        let range = within(c, part);
        match got {
            Got::Rows(rows) => {
                for row in rows {
                    // A row without its message is not what the query produces: an error.
                    let m = row.get("@message").ok_or(SourceError::from(
                        insights::ResultError::Missing { field: "@message" },
                    ))?;
                    if let Some(r) = scratch.read_message(m, false, formats, range, filter) {
                        push(r);
                    }
                }
            }
            Got::Local => {
                let read = match early.remove(&part.s) {
                    Some(read) => read,
                    None => read_second(st, c, filter, range).await?,
                };
                let done = read.as_ref().map_or(range.0, |r| r.1);
                for r in read.iter().flat_map(|r| &r.0) {
                    push(r);
                }
                if done < range.1 {
                    covered = done;
                    break;
                }
            }
            // None of the first `k` parts is pending: `complete_prefix` stops at the first.
            Got::Pending => {}
        }
    }
    Ok(InsightsRead {
        covered,
        parts: got.parts.into_iter().map(|(p, _)| p).collect(),
    })
}

/// `GET /v1/stats`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StatsResponse {
    /// Which engine answered.
    pub engine: &'static str,
    /// Stopped early (budget or read cap): the numbers cover part of the range.
    pub partial: bool,
    /// Start of the range, display zone.
    pub from: String,
    /// End of the range, display zone.
    pub to: String,
    /// The display zone.
    pub tz: String,
    /// A partial answer covers exactly `[from, covered_to)`: the local engine's is cut at a
    /// bucket boundary (nothing read at or after it is counted), so the series of consecutive
    /// answers concatenate; Logs Insights' covers nothing (`covered_to` = `from`: its queries
    /// were still running). Absent when the answer reaches `to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covered_to: Option<String>,
    /// Asks for `[covered_to, to)` with the same parameters (through Logs Insights, it reads
    /// the running queries by id instead of starting them again). Absent when the answer
    /// reaches `to`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Requested bucket width (`1m`, `5m`, `1h`, `1d`).
    pub interval: String,
    /// The statistics (`logdesk_core::stats::Stats`; times in µs, plus `time` on each bucket).
    #[schema(value_type = Object)]
    pub stats: serde_json::Value,
}

fn interval_seconds(v: &str) -> Option<i64> {
    match v {
        "1m" => Some(60),
        "5m" => Some(300),
        "1h" => Some(3600),
        "1d" => Some(86_400),
        _ => None,
    }
}

/// `GET /v1/stats`: totals, latency percentiles, time series and top URL groups.
pub async fn stats(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let mut p = Params::parse(q.as_deref())?;
    let fingerprint = p.fingerprint();
    let mut c = params::common(&mut p, &st.config, now_us(), 24)?;
    let resumed = params::resume::<()>("stats", &fingerprint, &mut c)?;
    let source = take_source(&mut p)?;
    let filter = RequestFilter::take(&mut p)?;
    let interval = p.take("interval").unwrap_or_else(|| {
        if c.to - c.origin > 2 * 86_400_000_000 {
            "1h"
        } else {
            "5m"
        }
        .to_owned()
    });
    let bucket_seconds = interval_seconds(&interval)
        .ok_or_else(|| ApiError::bad("interval", "expected 1m, 5m, 1h or 1d"))?;
    let patterns: Vec<String> = p
        .take("url_groups")
        .map(|v| v.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if patterns.len() > MAX_URL_GROUPS {
        return Err(ApiError::bad(
            "url_groups",
            format!("at most {MAX_URL_GROUPS} patterns"),
        ));
    }
    let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
    let grouper = UrlGrouper::new(&refs)
        .map_err(|e| ApiError::bad("url_groups", format!("not a regular expression: {e}")))?;
    let top_groups = match p.take("top") {
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::bad("top", "expected a whole number from 1 to 500"))?,
        None => 50,
    };
    let engine = p.take("engine").unwrap_or_else(|| "auto".to_owned());
    p.finish()?;
    // Buckets are aligned as the whole range's first answer aligned them.
    let offset = Timestamp::from_microsecond(c.origin)
        .map(|t| i64::from(c.tz.to_offset(t).seconds()))
        .unwrap_or(0);
    let bins = insights::Bins {
        width_s: bucket_seconds,
        offset_s: offset,
    };
    // A value Insights cannot quote leaves the request to the local engine (a 400 naming the
    // parameter when Insights was asked for).
    let insights_queries = match (
        insights::totals_query(&filter),
        insights::series_query(&filter, bins),
    ) {
        (Ok(t), Ok(s)) if source == Source::Lb => Ok((t, s)),
        (Err(insights::Inexpressible::Value(e)), _) => Err(Some(e)),
        _ => Err(None),
    };
    // A continuation through Logs Insights carries its two queries (totals, series); any
    // other cursor continues with the local engine, which also answers one whose queries
    // Insights cannot read here (`engine=local`, or no Insights).
    let pending = !resumed.parts.is_empty();
    let use_insights = match engine.as_str() {
        "local" => false,
        "auto" => {
            st.insights.is_some()
                && insights_queries.is_ok()
                && c.to - c.origin >= INSIGHTS_FROM_US
                && (c.cursor.is_none() || pending)
        }
        "insights" if st.insights.is_some() && insights_queries.is_ok() => true,
        "insights"
            if st.insights.is_some()
                && let Err(Some(e)) = insights_queries =>
        {
            return Err(ApiError::bad(e.parameter, e.to_string()));
        }
        "insights" => {
            return Err(ApiError::bad(
                "engine",
                "Logs Insights answers source=lb with ip, status and trace_id filters only (and only on AWS)",
            ));
        }
        _ => return Err(ApiError::bad("engine", "expected auto, insights or local")),
    };
    if resumed.after.is_some() {
        return Err(params::bad_cursor());
    }
    let opts = StatsOptions {
        bucket_seconds,
        utc_offset_seconds: offset,
        url_groups: Some(&grouper),
        top_groups,
    };
    if let (true, Some(client), Ok((totals, series))) =
        (use_insights, &st.insights, insights_queries)
    {
        let read = InsightsStats {
            interval: &interval,
            bins,
            totals: &totals,
            series: &series,
            parts: resumed.parts,
            fingerprint: &fingerprint,
        };
        return stats_by_insights(&st, client, &c, read, &opts).await;
    }
    let mut accs = BucketAccs::new(opts);
    let covered = for_each_request(&st, &c, source, &filter, |r| accs.push(r)).await?;
    // A cut answer keeps whole buckets only, so consecutive answers' series concatenate.
    let covered = accs.cut(c.from, c.to, covered);
    let stats = accs.finish(covered, c.to).finish();
    let partial = covered < c.to;
    let next = params::next_cursor::<()>("stats", &fingerprint, &c, covered, None, Vec::new());
    if c.format == Format::Csv {
        return Ok(stats_csv(&c, &stats.buckets, next.as_deref(), partial));
    }
    let mut value = serde_json::to_value(&stats).unwrap_or_default();
    with_times(&c, &mut value, &stats.buckets);
    Ok(stats_json(
        &c,
        st.source.engine(),
        interval,
        covered,
        next,
        value,
    ))
}

/// The JSON answer of `/v1/stats` by `engine` that covers `[c.from, covered)`, with the
/// cursor for the rest when it is short of `c.to`.
fn stats_json(
    c: &Common,
    engine: &'static str,
    interval: String,
    covered: i64,
    next_cursor: Option<String>,
    stats: serde_json::Value,
) -> Response {
    let partial = covered < c.to;
    axum::Json(StatsResponse {
        engine,
        partial,
        from: c.time(c.from),
        to: c.time(c.to),
        tz: c.tz_name.clone(),
        covered_to: partial.then(|| c.time(covered)),
        next_cursor,
        interval,
        stats,
    })
    .into_response()
}

/// The columns of `/v1/stats?format=csv`: one row per time bucket.
const STATS_CSV: [&str; 8] = [
    "time",
    "count",
    "success",
    "client_errors",
    "server_errors",
    "p50",
    "p95",
    "max",
];

/// `/v1/stats?format=csv`: the time series, one row per bucket, whichever engine answered
/// (a value the engine did not compute is an empty cell), with the answer's cursor and
/// partial flag in the `x-next-cursor` and `x-partial` headers.
fn stats_csv(c: &Common, buckets: &[Bucket], next: Option<&str>, partial: bool) -> Response {
    let body = csv::render(
        &STATS_CSV,
        buckets.iter().map(|b| {
            vec![
                c.time(b.start),
                b.count.to_string(),
                b.success.to_string(),
                b.client_errors.to_string(),
                b.server_errors.to_string(),
                csv::opt(b.p50),
                csv::opt(b.p95),
                csv::opt(b.max),
            ]
        }),
    );
    csv::response("stats", body, next, partial)
}

/// Adds each bucket's start in the display zone (`time`) to the JSON of the stats `value`.
fn with_times(c: &Common, value: &mut serde_json::Value, buckets: &[Bucket]) {
    if let Some(out) = value.get_mut("buckets").and_then(|b| b.as_array_mut()) {
        for (b, s) in out.iter_mut().zip(buckets) {
            if let Some(obj) = b.as_object_mut() {
                obj.insert("time".to_owned(), c.time(s.start).into());
            }
        }
    }
}

/// A `/v1/stats` read through Logs Insights.
struct InsightsStats<'a> {
    interval: &'a str,
    /// The series query's buckets.
    bins: insights::Bins,
    /// The totals query.
    totals: &'a str,
    /// The series query.
    series: &'a str,
    /// From a cursor: the totals and the series queries, in that order, over the range.
    parts: Vec<Part>,
    fingerprint: &'a str,
}

/// `/v1/stats` answered by Logs Insights: totals and the series, in the local answer's shape
/// (percentiles are Insights' approximations; per-URL groups are not computed); with
/// `format=csv`, the series as the local answer's CSV ([`stats_csv`]).
///
/// The two queries cover the whole range, so there is no exact answer before both complete.
/// When the time runs out first, the answer covers nothing (`covered_to` = `from`, the numbers
/// of an empty range; as CSV, the header alone) and its cursor (`x-next-cursor` of CSV)
/// carries both queries (not stopped): the request with it reads them by id, and answers the
/// whole range once they are complete.
async fn stats_by_insights(
    st: &AppState,
    client: &aws_sdk_cloudwatchlogs::Client,
    c: &Common,
    read: InsightsStats<'_>,
    opts: &StatsOptions<'_>,
) -> Result<Response, ApiError> {
    let groups = vec![st.config.lb_group.clone()];
    let (start_s, end_s) = c.seconds();
    let (totals_part, series_part) = match read.parts.as_slice() {
        [] => (Part::new(start_s, end_s), Part::new(start_s, end_s)),
        [t, s] if [t, s].iter().all(|p| p.s == start_s && p.e == end_s) => (t.clone(), s.clone()),
        _ => return Err(params::bad_cursor()),
    };
    let split = insights::Split::until(st.limits().deadline).within(c.from_ms(), c.to_ms());
    let (t, s) = tokio::join!(
        insights::run_part(client, &groups, totals_part, read.totals, split),
        insights::run_part(client, &groups, series_part, read.series, split),
    );
    let (t, s) = match (t?, s?) {
        (Ran::Complete { rows: t, .. }, Ran::Complete { rows: s, .. }) => (t, s),
        (t, s) => {
            let part = |r: Ran| match r {
                Ran::Complete { part, .. } | Ran::Pending(part) => part,
            };
            let next = params::next_cursor::<()>(
                "stats",
                read.fingerprint,
                c,
                c.from,
                None,
                vec![part(t), part(s)],
            );
            if c.format == Format::Csv {
                return Ok(stats_csv(c, &[], next.as_deref(), true));
            }
            // `c.from < c.to` always: the answer is partial and covers nothing.
            let empty = StatsAccumulator::new(opts).finish();
            return Ok(stats_json(
                c,
                "logs_insights",
                read.interval.to_owned(),
                c.from,
                next,
                serde_json::to_value(&empty).unwrap_or_default(),
            ));
        }
    };
    // Rows that are not what the queries produce are an error, never zeros.
    let totals = insights::Totals::read(&t).map_err(SourceError::from)?;
    let series = insights::SeriesBin::read_all(&s, read.bins).map_err(SourceError::from)?;
    let count = totals.count;
    let rate = |n: u64| (count > 0).then(|| n as f64 / count as f64);
    let buckets: Vec<Bucket> = series
        .iter()
        .map(|b| Bucket {
            start: b.start_us,
            count: b.count,
            success: b.count.saturating_sub(b.client_errors + b.server_errors),
            client_errors: b.client_errors,
            server_errors: b.server_errors,
            p50: b.p50,
            p95: b.p95,
            max: b.max,
        })
        .collect();
    if c.format == Format::Csv {
        return Ok(stats_csv(c, &buckets, None, false));
    }
    let mut stats = serde_json::json!({
        "count": count,
        "lb": {
            "known": count,
            "client_errors": totals.client_errors,
            "server_errors": totals.server_errors,
            "client_error_rate": rate(totals.client_errors),
            "server_error_rate": rate(totals.server_errors),
        },
        "target": { "server_errors": totals.target_server_errors },
        "latency": totals.latency.map(|l| serde_json::json!({
            "mean": l.mean, "median": l.median, "p90": l.p90, "p95": l.p95, "p99": l.p99,
            "max": l.max,
        })),
        "bucket_seconds": opts.bucket_seconds,
        "buckets": buckets,
        "groups": [],
    });
    with_times(c, &mut stats, &buckets);
    Ok(stats_json(
        c,
        "logs_insights",
        read.interval.to_owned(),
        c.to,
        None,
        stats,
    ))
}

/// One page of a visit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PageRow {
    /// Request time, display zone.
    pub time: String,
    /// Method.
    pub method: Option<String>,
    /// Path and query.
    pub path: String,
    /// Status sent to the client.
    pub status: Option<u16>,
    /// Seconds until the next page of the visit; absent for the last page.
    pub dwell_seconds: Option<f64>,
}

/// One visit.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VisitRow {
    /// Client IP.
    pub ip: String,
    /// User agent, full.
    pub user_agent: Option<String>,
    /// User-agent summary ("Windows 10 (or later) + Edge 114").
    pub ua: String,
    /// Device kind.
    pub device: String,
    /// First request, display zone.
    pub first: String,
    /// Last request, display zone.
    pub last: String,
    /// Pages, oldest first.
    pub pages: Vec<PageRow>,
    #[serde(skip)]
    key: (i64, String, Option<String>),
}

/// `GET /v1/visits`: visitors (IP + user agent) and their path through the site, oldest
/// visit first. Filters: `ip`, `host`, `path`, `status`; `assets` and `bots` include what is
/// left out by default.
///
/// An answer that runs out of time covers `[from, covered_to)` only: visits are built from the
/// requests of that sub-range, and `next_cursor` asks for `[covered_to, to)` (a visit that
/// straddles `covered_to` shows as two: its pages before, then its pages after). Through Logs
/// Insights, `covered_to` is the start of the first part of the range whose query did not
/// complete in time; the queries are not stopped, and the cursor carries them (see
/// [`params::Resume`]), as a page cursor carries the queries its pages read. A second with more
/// rows than a query returns is read through FilterLogEvents (see `requests_by_insights`); when
/// that read runs out of time, `covered_to` is where it stopped, and the cursor goes on from
/// there.
pub async fn visits(
    State(st): State<AppState>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let mut p = Params::parse(q.as_deref())?;
    let fingerprint = p.fingerprint();
    let mut c = params::common(&mut p, &st.config, now_us(), 24)?;
    let source = take_source(&mut p)?;
    let filter = RequestFilter::take(&mut p)?;
    let opts = VisitOptions {
        include_assets: p.take_bool("assets", false)?,
        include_bots: p.take_bool("bots", false)?,
        ..VisitOptions::default()
    };
    let engine = p.take("engine").unwrap_or_else(|| "auto".to_owned());
    p.finish()?;
    type VisitKey = (i64, String, Option<String>);
    let window = params::resume::<VisitKey>("visits", &fingerprint, &mut c)?;
    let after = window.after;
    // The part of the range this request reads: a later page re-reads its page's part.
    let mut part = c.clone();
    part.to = window.end;
    // Visits span sources: an ALB row and the nginx row of one request would be two page
    // views, so `all` reads the load balancer only when both are configured.
    let source = if source == Source::All {
        Source::Lb
    } else {
        source
    };
    let insights_client = match engine.as_str() {
        "local" => None,
        // A value Insights cannot quote leaves the request to the local engine (a 400 naming
        // the parameter when Insights was asked for).
        "auto"
            if source == Source::Lb
                && c.to - c.origin >= INSIGHTS_FROM_US
                && insights::messages_query(&filter).is_ok() =>
        {
            st.insights.as_ref()
        }
        "auto" => None,
        "insights" if source == Source::Lb && st.insights.is_some() => st.insights.as_ref(),
        "insights" => {
            return Err(ApiError::bad(
                "engine",
                "Logs Insights answers source=lb only (and only on AWS)",
            ));
        }
        _ => return Err(ApiError::bad("engine", "expected auto, insights or local")),
    };
    // A later page re-reads its part as the answer before read it: through Insights (its
    // cursor carries the queries), or locally. A continuation whose queries cannot be read
    // here (`engine=local`, or no Insights) is read locally.
    let insights_client = insights_client.filter(|_| after.is_none() || !window.parts.is_empty());
    let mut records: Vec<RequestRecord> = Vec::new();
    let (covered, engine, parts) = match insights_client {
        Some(client) => {
            let (start_s, end_s) = c.seconds();
            let mut parts = if window.parts.is_empty() {
                vec![Part::new(start_s, end_s)]
            } else {
                window.parts
            };
            if !insights::tiles(&parts, start_s, end_s) {
                return Err(params::bad_cursor());
            }
            // A later page reads the queries of its part only (complete when its cursor was
            // made); those of the rest of the range wait in the cursor.
            let later = match after {
                Some(_) => {
                    let i = parts
                        .iter()
                        .position(|p| p.s.saturating_mul(1_000_000) >= window.end)
                        .unwrap_or(parts.len());
                    parts.split_off(i)
                }
                None => Vec::new(),
            };
            let read = requests_by_insights(&st, client, &part, &filter, parts, |r| {
                records.push(light::keep(r))
            })
            .await?;
            let mut parts = read.parts;
            parts.extend(later);
            (read.covered, "logs_insights", parts)
        }
        None => {
            let covered = for_each_request(&st, &part, source, &filter, |r| {
                records.push(light::keep(r))
            })
            .await?;
            // Exact for `[from, covered)`: what was read after it is left to the next answer.
            records.retain(|r| r.t < covered);
            (covered, st.source.engine(), Vec::new())
        }
    };
    let partial = covered < c.to;
    if after.is_some() && covered < window.end {
        // A later page whose part could not be read again in time (earlier pages showed visits
        // up to the part's end): nothing this time, and the same cursor (with the queries as
        // they are now) tries again.
        let again = params::next_cursor("visits", &fingerprint, &c, window.end, after, parts);
        return Ok(crate::ListResponse::json_covered(
            engine,
            &c,
            Vec::<VisitRow>::new(),
            again,
            true,
            Some(c.from),
        ));
    }
    let mut rows: Vec<VisitRow> = build_visits(&records, &opts)
        .into_iter()
        .map(|v| VisitRow {
            key: (
                v.start,
                v.ip.to_string(),
                v.user_agent.as_ref().map(|u| u.to_string()),
            ),
            ip: v.ip.to_string(),
            user_agent: v.user_agent.map(|u| u.to_string()),
            ua: v.ua.label.clone(),
            device: serde_json::to_value(v.ua.device)
                .ok()
                .and_then(|d| d.as_str().map(str::to_owned))
                .unwrap_or_default(),
            first: c.time(v.start),
            last: c.time(v.end),
            pages: v
                .pages
                .into_iter()
                .map(|pg| PageRow {
                    time: c.time(pg.t),
                    method: pg.method.map(|m| m.to_string()),
                    path: pg.path.to_string(),
                    status: pg.status,
                    dwell_seconds: pg.dwell_seconds,
                })
                .collect(),
        })
        .filter(|v| after.as_ref().is_none_or(|a| &v.key > a))
        .collect();
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    let more = if rows.len() > c.limit {
        rows.truncate(c.limit);
        rows.last().map(|r| r.key.clone())
    } else {
        None
    };
    let next = params::next_cursor("visits", &fingerprint, &c, covered, more, parts);
    if c.format == Format::Csv {
        return Ok(csv::stream_response(
            "visits",
            &[
                "visit_first",
                "ip",
                "ua",
                "user_agent",
                "time",
                "method",
                "path",
                "status",
                "dwell_seconds",
            ],
            rows.into_iter().flat_map(|v| {
                let VisitRow {
                    first,
                    ip,
                    ua,
                    user_agent,
                    pages,
                    ..
                } = v;
                pages.into_iter().map(move |pg| {
                    vec![
                        first.clone(),
                        ip.clone(),
                        ua.clone(),
                        csv::opt(user_agent.clone()),
                        pg.time,
                        csv::opt(pg.method),
                        pg.path,
                        csv::opt(pg.status),
                        csv::opt(pg.dwell_seconds),
                    ]
                })
            }),
            next.as_deref(),
            partial,
        ));
    }
    Ok(crate::ListResponse::json_covered(
        engine,
        &c,
        rows,
        next,
        partial,
        partial.then_some(covered),
    ))
}
