//! Stats: totals, latency percentiles, a time series and top URL groups over the requests of
//! a range (`logdesk_core::stats`), counted here or by Logs Insights.

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use logdesk_core::record::RequestRecord;
use logdesk_core::stats::{BreakdownAccumulator, Bucket, StatsAccumulator, StatsOptions};
use logdesk_core::urlgroup::UrlGrouper;
use serde::Serialize;

use crate::csv;
use crate::engine::{Engine, INSIGHTS_FROM_US, LOGS_INSIGHTS};
use crate::error::ApiError;
use crate::insights::{self, Part};
use crate::params::{self, Common, Format, Params};
use crate::requests::{RequestFilter, Source, for_each_request, take_source};
use crate::source::SourceError;
use crate::{AppState, now_us};

mod breakdowns;
mod groups;

/// Most URL-group patterns accepted.
const MAX_URL_GROUPS: usize = 50;

/// A stats accumulator per time bucket, so that an answer cut by the budget can keep whole
/// buckets only: two consecutive answers' series then concatenate.
struct BucketAccs<'a> {
    opts: StatsOptions<'a>,
    bucket_us: i64,
    offset_us: i64,
    accs: std::collections::BTreeMap<i64, StatsAccumulator<'a>>,
    /// Status, browser, referrer and visitor counts per bucket, cut like `accs`.
    breakdowns: std::collections::BTreeMap<i64, BreakdownAccumulator>,
}

impl<'a> BucketAccs<'a> {
    fn new(opts: StatsOptions<'a>) -> BucketAccs<'a> {
        BucketAccs {
            bucket_us: opts.bucket_seconds.max(1).saturating_mul(1_000_000),
            offset_us: opts.utc_offset_seconds.saturating_mul(1_000_000),
            opts,
            accs: std::collections::BTreeMap::new(),
            breakdowns: std::collections::BTreeMap::new(),
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
        self.breakdowns.entry(key).or_default().push(r);
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
    fn finish(self, until: i64, end: i64) -> (StatsAccumulator<'a>, BreakdownAccumulator) {
        let mut all = StatsAccumulator::new(&self.opts);
        let mut shares = BreakdownAccumulator::new();
        let first_left_out = self.key(until);
        let kept = |k: i64| until >= end || k < first_left_out;
        for (k, acc) in self.accs {
            if kept(k) {
                all.merge(acc);
            }
        }
        for (k, acc) in self.breakdowns {
            if kept(k) {
                shares.merge(acc);
            }
        }
        (all, shares)
    }
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

/// Reads `interval` (by default 5-minute buckets, hourly ones past two days): its text and
/// its width in seconds.
fn take_interval(p: &mut Params, c: &Common) -> Result<(String, i64), ApiError> {
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
    Ok((interval, bucket_seconds))
}

/// Reads `url_groups`: regular expressions separated by white space.
fn take_url_groups(p: &mut Params) -> Result<UrlGrouper, ApiError> {
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
    UrlGrouper::new(&refs)
        .map_err(|e| ApiError::bad("url_groups", format!("not a regular expression: {e}")))
}

/// Reads `top`: how many URL groups to list (50 by default).
fn take_top(p: &mut Params) -> Result<usize, ApiError> {
    match p.take("top") {
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=500).contains(n))
            .ok_or_else(|| ApiError::bad("top", "expected a whole number from 1 to 500")),
        None => Ok(50),
    }
}

/// The queries of Logs Insights, when it can answer (`source=lb` and filters it can
/// express), in the order a cursor carries their parts: totals, series, one per
/// [`insights::Breakdown`] (status, User-Agent, referrer), then the URL groups.
/// `Err(Some(_))` names a value it cannot quote.
fn insights_queries(
    source: Source,
    filter: &RequestFilter,
    bins: insights::Bins,
) -> Result<Vec<String>, Option<insights::Unquotable>> {
    let all = || -> Result<Vec<String>, insights::Inexpressible> {
        let mut q = vec![
            insights::totals_query(filter)?,
            insights::series_query(filter, bins)?,
        ];
        for b in insights::Breakdown::ALL {
            q.push(insights::breakdown_query(filter, b)?);
        }
        q.push(insights::groups_query(filter)?);
        Ok(q)
    };
    match all() {
        Ok(q) if source == Source::Lb => Ok(q),
        Err(insights::Inexpressible::Value(e)) => Err(Some(e)),
        _ => Err(None),
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
    let (interval, bucket_seconds) = take_interval(&mut p, &c)?;
    let grouper = take_url_groups(&mut p)?;
    let top_groups = take_top(&mut p)?;
    let engine = p.take("engine");
    p.finish()?;
    let engine = Engine::parse(engine.as_deref())?;
    // Buckets are aligned as the whole range's first answer aligned them.
    let offset = Timestamp::from_microsecond(c.origin)
        .map(|t| i64::from(c.tz.to_offset(t).seconds()))
        .unwrap_or(0);
    let bins = insights::Bins {
        width_s: bucket_seconds,
        offset_s: offset,
    };
    let insights_queries = insights_queries(source, &filter, bins);
    // A value Insights cannot quote: the automatic engine reads locally, and asking for
    // Insights is a 400 naming the parameter.
    if let (Engine::Insights, Err(Some(e))) = (engine, &insights_queries) {
        return Err(ApiError::bad(e.parameter, e.to_string()));
    }
    // A continuation through Logs Insights carries its queries (totals, series, breakdowns); any
    // other cursor continues with the local engine, which also answers one whose queries
    // Insights cannot read here (`engine=local`, or no Insights).
    let pending = !resumed.parts.is_empty();
    let use_insights = engine.use_insights(
        st.insights.is_some() && insights_queries.is_ok(),
        c.to - c.origin >= INSIGHTS_FROM_US && (c.cursor.is_none() || pending),
        "Logs Insights answers source=lb with ip, status and trace_id filters only (and only on AWS)",
    )?;
    if resumed.after.is_some() {
        return Err(params::bad_cursor());
    }
    let opts = StatsOptions {
        bucket_seconds,
        utc_offset_seconds: offset,
        url_groups: Some(&grouper),
        top_groups,
    };
    if let (true, Some(client), Ok(queries)) = (use_insights, &st.insights, insights_queries) {
        let read = InsightsStats {
            interval: &interval,
            bins,
            queries: &queries,
            parts: resumed.parts,
            fingerprint: &fingerprint,
        };
        return stats_by_insights(&st, client, &c, read, &opts).await;
    }
    let read = LocalStats {
        source,
        filter: &filter,
        interval,
        fingerprint: &fingerprint,
    };
    stats_locally(&st, &c, read, opts).await
}

/// A `/v1/stats` read through the local engine.
struct LocalStats<'a> {
    source: Source,
    filter: &'a RequestFilter,
    interval: String,
    fingerprint: &'a str,
}

/// `/v1/stats` answered by the local engine: every request of the range read and counted
/// here; an answer cut by the budget keeps whole buckets, and its cursor asks for the rest.
async fn stats_locally(
    st: &AppState,
    c: &Common,
    read: LocalStats<'_>,
    opts: StatsOptions<'_>,
) -> Result<Response, ApiError> {
    let mut accs = BucketAccs::new(opts);
    let covered = for_each_request(st, c, read.source, read.filter, |r| accs.push(r)).await?;
    // A cut answer keeps whole buckets only, so consecutive answers' series concatenate.
    let covered = accs.cut(c.from, c.to, covered);
    let (stats, shares) = accs.finish(covered, c.to);
    let stats = stats.finish();
    let partial = covered < c.to;
    let next = params::next_cursor::<()>("stats", read.fingerprint, c, covered, None, Vec::new());
    if c.format == Format::Csv {
        return Ok(stats_csv(c, &stats.buckets, next.as_deref(), partial));
    }
    let mut value = serde_json::to_value(&stats).unwrap_or_default();
    with_times(c, &mut value, &stats.buckets);
    // The local engine reads every request, so its breakdowns (top 10 each) are exact.
    value["breakdowns"] = serde_json::to_value(shares.finish(10)).unwrap_or_default();
    value["breakdowns"]["approximate"] = serde_json::json!([]);
    Ok(stats_json(
        c,
        st.source.engine(),
        read.interval,
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
        &crate::csv_header::titles(&STATS_CSV, c.csv_for),
        buckets.iter().map(|b| {
            vec![
                crate::csv_header::cell(c.time(b.start), c.csv_for.is_some()),
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
    /// The [`insights_queries`]: totals, series, breakdowns, URL groups.
    queries: &'a [String],
    /// From a cursor: the parts of the queries, in the same order, over the range.
    parts: Vec<Part>,
    fingerprint: &'a str,
}

/// `/v1/stats` answered by Logs Insights: totals, the series, the breakdowns and the URL
/// groups, in the local answer's shape (percentiles are Insights' approximations, unique
/// visitors its `count_distinct`, a URL group's percentiles estimated when it merges several
/// URLs, see [`groups`]); with `format=csv`, the series as the local answer's CSV
/// ([`stats_csv`]).
///
/// The queries cover the whole range, so there is no exact answer before all complete. When
/// the time runs out first, the answer covers nothing (`covered_to` = `from`, the numbers of an
/// empty range; as CSV, the header alone) and its cursor (`x-next-cursor` of CSV) carries the
/// queries (not stopped): the request with it reads them by id, and answers the whole range
/// once they are complete.
async fn stats_by_insights(
    st: &AppState,
    client: &aws_sdk_cloudwatchlogs::Client,
    c: &Common,
    read: InsightsStats<'_>,
    opts: &StatsOptions<'_>,
) -> Result<Response, ApiError> {
    let carried = read.parts.clone();
    let deadline = st.limits().deadline;
    let ran = insights::run_over_request(
        client,
        &st.config.lb_group,
        read.queries,
        carried,
        c,
        deadline,
    );
    let rows = match ran.await? {
        insights::Whole::Complete(rows) => rows,
        insights::Whole::Pending(parts) => return Ok(insights_pending(c, &read, parts, opts)),
    };
    let (buckets, mut stats) = read_insights_stats(&rows, read.bins, opts)?;
    if c.format == Format::Csv {
        return Ok(stats_csv(c, &buckets, None, false));
    }
    with_times(c, &mut stats, &buckets);
    Ok(stats_json(
        c,
        LOGS_INSIGHTS,
        read.interval.to_owned(),
        c.to,
        None,
        stats,
    ))
}

/// The answer of a Logs Insights read whose queries are not all complete: it covers nothing,
/// and its cursor carries every query's part (with its id) to be read on.
fn insights_pending(
    c: &Common,
    read: &InsightsStats<'_>,
    parts: Vec<Part>,
    opts: &StatsOptions<'_>,
) -> Response {
    let next = params::next_cursor::<()>("stats", read.fingerprint, c, c.from, None, parts);
    if c.format == Format::Csv {
        return stats_csv(c, &[], next.as_deref(), true);
    }
    // `c.from < c.to` always: the answer is partial and covers nothing.
    let empty = StatsAccumulator::new(opts).finish();
    stats_json(
        c,
        LOGS_INSIGHTS,
        read.interval.to_owned(),
        c.from,
        next,
        serde_json::to_value(&empty).unwrap_or_default(),
    )
}

/// The rows of the [`insights_queries`] as the stats answer's buckets and JSON.
/// Rows that are not what the queries produce are an error (a 502), never zeros.
fn read_insights_stats(
    rows: &[Vec<insights::Row>],
    bins: insights::Bins,
    opts: &StatsOptions<'_>,
) -> Result<(Vec<Bucket>, serde_json::Value), SourceError> {
    let [totals, series, status, agents, referrers, paths] = rows else {
        return Err(insights::ResultError::Rows { rows: rows.len() }.into());
    };
    let totals = insights::Totals::read(totals)?;
    let buckets: Vec<Bucket> = insights::SeriesBin::read_all(series, bins)?
        .into_iter()
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
    let shares = [
        insights::Shares::read(status, insights::Breakdown::Status)?,
        insights::Shares::read(agents, insights::Breakdown::UserAgent)?,
        insights::Shares::read(referrers, insights::Breakdown::Referrer)?,
    ];
    let count = totals.count;
    let groups = match opts.url_groups {
        Some(grouper) => groups::from_rows(
            &insights::PathRow::read_all(paths)?,
            count,
            grouper,
            opts.top_groups,
        ),
        // Not asked for (as the local engine, which then counts no group).
        None => groups::Groups::default(),
    };
    let breakdowns = breakdowns::from_insights(&totals, shares, paths.len() >= insights::MAX_ROWS);
    let rate = |n: u64| (count > 0).then(|| n as f64 / count as f64);
    let stats = serde_json::json!({
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
        "groups": groups.groups,
        "group_count": groups.group_count,
        "other_groups": groups.other_groups,
        "breakdowns": breakdowns,
    });
    Ok((buckets, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, String)]) -> insights::Row {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    /// A per-URL result cut at the rows a query returns: the groups are listed, marked
    /// approximate as a whole, and the requests of the rows left out are in `other_groups`.
    #[test]
    fn a_cut_per_url_result_marks_the_groups_approximate() {
        let n = insights::MAX_ROWS;
        let totals = vec![row(&[
            ("count", (n as u64 + 500).to_string()),
            ("client_errors", "0".into()),
            ("server_errors", "0".into()),
            ("target_server_errors", "0".into()),
            ("visitors", "1".into()),
        ])];
        let paths: Vec<insights::Row> = (0..n)
            .map(|i| {
                row(&[
                    ("gm", "GET".into()),
                    ("gu", format!("https://h.example:443/p{i}")),
                    ("count", "1".into()),
                    ("client_errors", "0".into()),
                    ("server_errors", "0".into()),
                    ("target_server_errors", "0".into()),
                    ("both_server_errors", "0".into()),
                    ("timed", "0".into()),
                ])
            })
            .collect();
        let rows = vec![totals, vec![], vec![], vec![], vec![], paths];
        let grouper = UrlGrouper::new(&[]).unwrap();
        let opts = StatsOptions {
            url_groups: Some(&grouper),
            top_groups: 50,
            ..StatsOptions::default()
        };
        let bins = insights::Bins {
            width_s: 300,
            offset_s: 0,
        };
        let (_, v) = read_insights_stats(&rows, bins, &opts).unwrap();
        assert_eq!(v["groups"].as_array().unwrap().len(), 50);
        assert_eq!(v["group_count"], n as u64);
        assert_eq!(v["other_groups"], n as u64 + 500 - 50);
        assert_eq!(
            v["breakdowns"]["approximate"],
            serde_json::json!(["unique_visitors", "groups"])
        );
        // Five results instead of six: not what the queries produce.
        assert!(read_insights_stats(&rows[..5], bins, &opts).is_err());
    }
}
