//! Access: one row per request from the load-balancer group and/or the nginx access group,
//! oldest first, or newest first ([`newest`]).

pub mod newest;

use newest::LocalDesc;

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use logdesk_core::record::RequestRecord;
use logdesk_core::useragent::{UaCache, UaSummary};
use serde::Serialize;

use crate::AppState;
use crate::csv;
use crate::engine;
use crate::error::ApiError;
use crate::group_read::{self, Key, read_group};
use crate::insights;
use crate::params::{self, Common, Order};
use crate::requests::{RequestFilter, Source, decode, groups, take_source};
use crate::respond::{CsvRow, Page, respond};

/// The cursor tags of a newest-first listing, through Logs Insights and the local engine.
const DESC_INSIGHTS: &str = "access:desc:insights";
const DESC_LOCAL: &str = "access:desc";

/// One row of `/v1/access`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AccessRow {
    /// Row id (stable; used by `linked`).
    pub id: String,
    /// When the request arrived, display zone.
    pub time: String,
    /// `alb`, `clb` or `nginx`.
    pub source: &'static str,
    /// Load balancer or server that logged it.
    pub server: Option<String>,
    /// Client IP.
    pub client_ip: Option<String>,
    /// Client port.
    pub client_port: Option<u16>,
    /// Host.
    pub host: Option<String>,
    /// HTTP method.
    pub method: Option<String>,
    /// Path and query.
    pub path: Option<String>,
    /// URL as logged.
    pub url: Option<String>,
    /// Protocol.
    pub protocol: Option<String>,
    /// The raw request line when it did not split.
    pub request: Option<String>,
    /// Status sent to the client (ELB status for ALB).
    pub status: Option<u16>,
    /// Status from the target (ALB/CLB).
    pub target_status: Option<u16>,
    /// Bytes sent.
    pub sent_bytes: Option<u64>,
    /// Bytes received.
    pub received_bytes: Option<u64>,
    /// Referer.
    pub referrer: Option<String>,
    /// User agent, full.
    pub user_agent: Option<String>,
    /// Summary of the user agent.
    #[schema(value_type = Object)]
    pub ua: Option<UaSummary>,
    /// Response time, seconds.
    pub response_time: Option<f64>,
    /// Of that, seconds spent behind it: the ALB's target processing time, or nginx's upstream
    /// response time (the application). Next to the linked row's `response_time` it tells the
    /// time in the load balancer, in nginx and in the application apart.
    pub target_time: Option<f64>,
    /// Trace id (`X-Amzn-Trace-Id`).
    pub trace_id: Option<String>,
    /// ALB error reason.
    pub error_reason: Option<String>,
    /// Ids of the other rows of this page with the same trace id (ALB ↔ nginx).
    pub linked: Vec<String>,
}

fn row_of(
    id: String,
    source: &'static str,
    r: RequestRecord,
    c: &Common,
    cache: &mut UaCache,
) -> AccessRow {
    // The summary's label in the requested language (「Googlebot（ボット）」).
    let ua = r.user_agent.as_deref().map(|u| {
        let mut s = cache.get(u).clone();
        s.label = s.label_in(c.lang);
        s
    });
    AccessRow {
        id,
        time: c.time(r.t),
        source,
        host: r.host_name().map(str::to_owned),
        path: r.path().map(str::to_owned),
        response_time: r.latency(),
        target_time: r.target_time,
        server: r.server,
        client_ip: r.client_ip,
        client_port: r.client_port,
        method: r.method,
        url: r.url,
        protocol: r.protocol,
        request: r.request_raw,
        status: r.status,
        target_status: r.target_status,
        sent_bytes: r.sent_bytes,
        received_bytes: r.received_bytes,
        referrer: r.referrer,
        user_agent: r.user_agent,
        ua,
        trace_id: r.trace_id,
        error_reason: r.error_reason,
        linked: Vec::new(),
    }
}

/// A row before it is shown: (row id, source name, record).
pub(crate) type Found = (String, &'static str, RequestRecord);

/// `GET /v1/access`: requests, oldest first (`order=desc`: newest first).
pub async fn list(State(st): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let (mut p, fingerprint, c) = params::paged(q.as_deref(), &st.config, 24)?;
    let source = take_source(&mut p)?;
    let filter = RequestFilter::take(&mut p)?;
    let order = p.take_order(Order::Asc)?;
    p.finish()?;
    let (engine, found, next, partial) = match (order, &st.insights) {
        // A value Insights cannot quote leaves the listing to the local engine.
        (Order::Desc, Some(client))
            if source == Source::Lb && insights::newest_query(&filter, 1).is_ok() =>
        {
            let at = params::decode_bound(DESC_INSIGHTS, &fingerprint, c.cursor.as_deref())?;
            let (found, next, partial) =
                newest::by_insights(&st, client, &c, &filter, at, &fingerprint).await?;
            let next = next.map(|k| params::encode_bound(DESC_INSIGHTS, &fingerprint, &k));
            (engine::LOGS_INSIGHTS, found, next, partial)
        }
        (Order::Desc, _) => {
            let after = params::decode_bound(DESC_LOCAL, &fingerprint, c.cursor.as_deref())?;
            if after
                .as_ref()
                .is_some_and(|a: &LocalDesc| !a.fits(&c, groups(&st, source).len()))
            {
                return Err(params::bad_cursor());
            }
            let (found, next, partial) =
                newest::locally(&st, &c, source, &filter, after, None).await?;
            let next = next.map(|k| params::encode_bound(DESC_LOCAL, &fingerprint, &k));
            (st.source.engine(), found, next, partial)
        }
        (Order::Asc, _) => {
            let (found, next, partial) = oldest(&st, &c, source, &filter, &fingerprint).await?;
            (st.source.engine(), found, next, partial)
        }
    };
    let mut cache = UaCache::new();
    let mut rows: Vec<AccessRow> = found
        .into_iter()
        .map(|(id, src, r)| row_of(id, src, r, &c, &mut cache))
        .collect();
    link_by_trace(&mut rows);
    let page = Page {
        engine,
        rows,
        next,
        partial,
        covered_to: None,
    };
    Ok(respond(&c, page))
}

impl CsvRow for AccessRow {
    const NAME: &'static str = "access";
    const COLUMNS: &'static [&'static str] = &[
        "time",
        "source",
        "server",
        "client_ip",
        "host",
        "method",
        "path",
        "protocol",
        "status",
        "target_status",
        "sent_bytes",
        "referrer",
        "user_agent",
        "ua",
        "response_time",
        "trace_id",
    ];

    fn csv_lines(self) -> Vec<Vec<String>> {
        let r = self;
        vec![vec![
            r.time,
            r.source.to_owned(),
            csv::opt(r.server),
            csv::opt(r.client_ip),
            csv::opt(r.host),
            csv::opt(r.method),
            csv::opt(r.path.or(r.request)),
            csv::opt(r.protocol),
            csv::opt(r.status),
            csv::opt(r.target_status),
            csv::opt(r.sent_bytes),
            csv::opt(r.referrer),
            csv::opt(r.user_agent),
            csv::opt(r.ua.map(|u| u.label)),
            csv::opt(r.response_time),
            csv::opt(r.trace_id),
        ]]
    }
}

/// Oldest first: each group read in order until the page is full, merged by [`Key`].
async fn oldest(
    st: &AppState,
    c: &Common,
    source: Source,
    filter: &RequestFilter,
    fingerprint: &str,
) -> Result<(Vec<Found>, Option<String>, bool), ApiError> {
    let after: Option<Key> = params::decode_bound("access", fingerprint, c.cursor.as_deref())?;
    let groups = groups(st, source);
    if after
        .as_ref()
        .is_some_and(|k| !k.fits(c.to_ms(), groups.len()))
    {
        return Err(params::bad_cursor());
    }
    let limits = st.limits();
    let mut reads = Vec::new();
    for (g, (group, nginx)) in groups.into_iter().enumerate() {
        let req = filter.fetch_request(c, group, nginx);
        let formats = &st.config.nginx_formats;
        let (from, to) = (c.from, c.to);
        let read = read_group(
            &*st.source,
            req,
            g as u8,
            after.as_ref(),
            Some(c.limit),
            limits,
            |e| {
                decode(e, nginx, formats)
                    .filter(|(_, r)| r.t >= from && r.t < to && filter.matches(r))
            },
        )
        .await?;
        reads.push(read);
    }
    let merged = group_read::merge(reads, c.limit);
    let next = merged
        .next
        .map(|k| params::encode_bound("access", fingerprint, &k));
    let found = merged
        .rows
        .into_iter()
        .map(|(k, (src, r))| (format!("{}:{}", k.g, k.id), src, r))
        .collect();
    Ok((found, next, merged.partial))
}

/// Links rows of different sources that carry the same trace id.
fn link_by_trace(rows: &mut [AccessRow]) {
    let mut by: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(t) = &r.trace_id {
            by.entry(t.clone()).or_default().push(i);
        }
    }
    for idx in by.values().filter(|v| v.len() > 1) {
        let ids: Vec<(usize, String)> = idx.iter().map(|&i| (i, rows[i].id.clone())).collect();
        for &i in idx {
            rows[i].linked = ids
                .iter()
                .filter(|(j, _)| *j != i)
                .map(|(_, id)| id.clone())
                .collect();
        }
    }
}
