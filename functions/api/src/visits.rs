//! Visits: visitors (IP + user agent) and their path through the site (`logdesk_core::visits`),
//! from the requests of a range read here or through Logs Insights.

use std::time::Instant;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use logdesk_core::record::RequestRecord;
use logdesk_core::visits::{VisitOptions, build_visits};
use serde::Serialize;

use crate::AppState;
use crate::csv;
use crate::engine::{Engine, INSIGHTS_FROM_US, LOGS_INSIGHTS};
use crate::error::ApiError;
use crate::insights::{self, Got, Part};
use crate::params::{self, Common, Order, Params};
use crate::request_view::{self, Scratch};
use crate::requests::{RequestFilter, Source, for_each_request, take_source};
use crate::respond::{CsvRow, Page, respond, respond_counted};
use crate::source::SourceError;

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
        records.push(request_view::keep(r))
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
    key: VisitKey,
}

/// `GET /v1/visits`: visitors (IP + user agent) and their path through the site, oldest
/// visit first (`order=desc`: newest visit first; a visit's own pages stay in time order). Filters: `ip`, `host`, `path`, `status`; `assets` and `bots` include what is
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
    let (p, fingerprint, mut c) = params::paged(q.as_deref(), &st.config, 24)?;
    let VisitParams {
        source,
        filter,
        opts,
        engine,
        order,
    } = VisitParams::take(p)?;
    // The order has its own cursors: a cursor of one order is refused by the other.
    let tag = match order {
        Order::Asc => "visits",
        Order::Desc => "visits:desc",
    };
    let window = params::resume::<VisitKey>(tag, &fingerprint, &mut c)?;
    // A value Insights cannot quote: the automatic engine reads locally, and asking for
    // Insights is a 400 naming the parameter.
    let quotable = insights::messages_query(&filter);
    if let (Engine::Insights, Err(e)) = (engine, &quotable) {
        return Err(ApiError::bad(e.parameter, e.to_string()));
    }
    let use_insights = engine.use_insights(
        source == Source::Lb && st.insights.is_some(),
        source == Source::Lb && c.to - c.origin >= INSIGHTS_FROM_US && quotable.is_ok(),
        "Logs Insights answers source=lb only (and only on AWS)",
    )?;
    // A later page re-reads its part as the answer before read it: through Insights (its
    // cursor carries the queries), or locally. A continuation whose queries cannot be read
    // here (`engine=local`, or no Insights) is read locally.
    let client = st
        .insights
        .as_ref()
        .filter(|_| use_insights && (window.after.is_none() || !window.parts.is_empty()));
    let after = window.after.clone();
    let end = window.end;
    let read = read_requests(&st, client, &c, source, &filter, window).await?;
    let (engine, covered) = (read.engine, read.covered);
    if after.is_some() && covered < end {
        // A later page whose part could not be read again in time (earlier pages showed visits
        // up to the part's end): nothing this time, and the same cursor (with the queries as
        // they are now) tries again.
        let again = params::next_cursor(tag, &fingerprint, &c, end, after, read.parts);
        return Ok(respond(&c, empty_page(engine, again, c.from)));
    }
    let (rows, more, count) = visit_rows(&read.records, &opts, &c, after.as_ref(), order);
    let next = params::next_cursor(tag, &fingerprint, &c, covered, more, read.parts);
    let partial = covered < c.to;
    // Every visit of the part is at hand, so the total is free when the range is one part.
    let total = read_whole(&c, covered).then_some(count);
    let page = Page {
        engine,
        rows,
        next,
        partial,
        covered_to: partial.then_some(covered),
    };
    Ok(respond_counted(&c, page, total))
}

/// The parameters of `/v1/visits` besides the common and paging ones.
struct VisitParams {
    source: Source,
    filter: RequestFilter,
    opts: VisitOptions,
    engine: Engine,
    order: Order,
}

impl VisitParams {
    /// Reads them, and refuses any parameter left over.
    fn take(mut p: Params) -> Result<VisitParams, ApiError> {
        // Visits span sources: an ALB row and the nginx row of one request would be two page
        // views, so `all` reads the load balancer only when both are configured.
        let source = match take_source(&mut p)? {
            Source::All => Source::Lb,
            source => source,
        };
        let filter = RequestFilter::take(&mut p)?;
        let opts = VisitOptions {
            include_assets: p.take_bool("assets", false)?,
            include_bots: p.take_bool("bots", false)?,
            ..VisitOptions::default()
        };
        let engine = p.take("engine");
        let order = p.take_order(Order::Asc)?;
        p.finish()?;
        let engine = Engine::parse(engine.as_deref())?;
        Ok(VisitParams {
            source,
            filter,
            opts,
            engine,
            order,
        })
    }
}

/// A page with no visits that covers nothing past `covered_to`, with the cursor `next`.
fn empty_page(engine: &'static str, next: Option<String>, covered_to: i64) -> Page<VisitRow> {
    Page {
        engine,
        rows: Vec::new(),
        next,
        partial: true,
        covered_to: Some(covered_to),
    }
}

/// Whether one answer read the whole range (the first part of it, to its end).
fn read_whole(c: &Common, covered: i64) -> bool {
    c.from == c.origin && covered >= c.to
}

/// Position of a visit in a page: (first request µs, [`params::digest`] of the IP and the user
/// agent), so that a cursor holds neither.
type VisitKey = (i64, String);

/// The requests one answer of `/v1/visits` builds its visits from.
struct Requests {
    /// Which engine read them.
    engine: &'static str,
    /// The requests of `[c.from, covered)`.
    records: Vec<RequestRecord>,
    /// Where the read is complete (µs).
    covered: i64,
    /// The Logs Insights queries of the range (to carry in a cursor); empty for the local
    /// engine.
    parts: Vec<Part>,
}

/// Reads the requests of the part of the range `window` names (a later page re-reads its
/// page's part), through Logs Insights when `client` is given, else locally.
async fn read_requests(
    st: &AppState,
    client: Option<&aws_sdk_cloudwatchlogs::Client>,
    c: &Common,
    source: Source,
    filter: &RequestFilter,
    window: params::Window<VisitKey>,
) -> Result<Requests, ApiError> {
    let mut part = c.clone();
    part.to = window.end;
    let mut records: Vec<RequestRecord> = Vec::new();
    let Some(client) = client else {
        let covered = for_each_request(st, &part, source, filter, |r| {
            records.push(request_view::keep(r))
        })
        .await?;
        // Exact for `[from, covered)`: what was read after it is left to the next answer.
        records.retain(|r| r.t < covered);
        return Ok(Requests {
            engine: st.source.engine(),
            records,
            covered,
            parts: Vec::new(),
        });
    };
    let (start_s, end_s) = c.seconds();
    let mut parts = if window.parts.is_empty() {
        vec![Part::new(start_s, end_s)]
    } else {
        window.parts
    };
    if !insights::tiles(&parts, start_s, end_s) {
        return Err(params::bad_cursor());
    }
    // A later page reads the queries of its part only (complete when its cursor was made);
    // those of the rest of the range wait in the cursor.
    let later = match window.after {
        Some(_) => {
            let i = parts
                .iter()
                .position(|p| p.s.saturating_mul(1_000_000) >= window.end)
                .unwrap_or(parts.len());
            parts.split_off(i)
        }
        None => Vec::new(),
    };
    let read = requests_by_insights(st, client, &part, filter, parts, |r| {
        records.push(request_view::keep(r))
    })
    .await?;
    let mut parts = read.parts;
    parts.extend(later);
    Ok(Requests {
        engine: LOGS_INSIGHTS,
        records,
        covered: read.covered,
        parts,
    })
}

/// The visits of `records` after `after`, in key order (`Desc`: reversed), at most `c.limit`,
/// with the key of the last one when more are left, and how many visits `records` make.
fn visit_rows(
    records: &[RequestRecord],
    opts: &VisitOptions,
    c: &Common,
    after: Option<&VisitKey>,
    order: Order,
) -> (Vec<VisitRow>, Option<VisitKey>, usize) {
    let mut rows: Vec<VisitRow> = build_visits(records, opts)
        .into_iter()
        .map(|v| VisitRow {
            key: (
                v.start,
                params::digest(&[Some(v.ip.as_ref()), v.user_agent.as_deref()]),
            ),
            ip: v.ip.to_string(),
            user_agent: v.user_agent.map(|u| u.to_string()),
            ua: v.ua.label_in(c.lang),
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
        .collect();
    let count = rows.len();
    rows.retain(|v| {
        after.is_none_or(|a| match order {
            Order::Asc => &v.key > a,
            Order::Desc => &v.key < a,
        })
    });
    rows.sort_by(|a, b| a.key.cmp(&b.key));
    if order == Order::Desc {
        rows.reverse();
    }
    let more = if rows.len() > c.limit {
        rows.truncate(c.limit);
        rows.last().map(|r| r.key.clone())
    } else {
        None
    };
    (rows, more, count)
}

impl CsvRow for VisitRow {
    const NAME: &'static str = "visits";
    const COLUMNS: &'static [&'static str] = &[
        "visit_first",
        "ip",
        "ua",
        "user_agent",
        "time",
        "method",
        "path",
        "status",
        "dwell_seconds",
    ];

    fn csv_lines(self) -> Vec<Vec<String>> {
        let VisitRow {
            first,
            ip,
            ua,
            user_agent,
            pages,
            ..
        } = self;
        pages
            .into_iter()
            .map(|pg| {
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
            .collect()
    }
}
