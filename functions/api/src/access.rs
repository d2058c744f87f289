//! Access: one row per request from the load-balancer group and/or the nginx access group.

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use logdesk_core::Record;
use logdesk_core::nginx::LogFormat;
use logdesk_core::record::RequestRecord;
use logdesk_core::useragent::{UaCache, UaSummary};
use serde::Serialize;

use crate::csv;
use crate::error::ApiError;
use crate::params::{self, Common, Format, Params};
use crate::pattern::{self, JsonCond};
use crate::scan::{self, Key, read_group};
use crate::source::{FetchRequest, LogEvent};
use crate::{AppState, ListResponse, now_us};

/// Which groups to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The load-balancer records group.
    Lb,
    /// The nginx access group.
    Nginx,
    /// Both.
    All,
}

/// A status filter: exact codes or classes (`5xx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusFilter {
    /// One code.
    Code(u16),
    /// A class: 1 to 5 (`5xx`).
    Class(u16),
}

impl StatusFilter {
    fn matches(&self, s: Option<u16>) -> bool {
        match (self, s) {
            (StatusFilter::Code(c), Some(s)) => *c == s,
            (StatusFilter::Class(k), Some(s)) => s / 100 == *k,
            _ => false,
        }
    }
}

/// The request filters shared by access, stats and visits.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// Client IP, exact.
    pub ip: Option<String>,
    /// Host, case-insensitive substring (lowercased).
    pub host: Option<String>,
    /// Path: a prefix when it starts with `/`, else a substring.
    pub path: Option<String>,
    /// Status codes or classes (any of them; matches the ELB or the target status).
    pub status: Vec<StatusFilter>,
    /// Trace id (`X-Amzn-Trace-Id`) or connection trace id, exact.
    pub trace_id: Option<String>,
}

impl RequestFilter {
    /// Reads `ip`, `host`, `path`, `status` and `trace_id`.
    pub fn take(p: &mut Params) -> Result<RequestFilter, ApiError> {
        let status = match p.take("status") {
            None => Vec::new(),
            Some(v) => v
                .split(',')
                .map(|s| {
                    let s = s.trim().to_ascii_lowercase();
                    let bad = || {
                        ApiError::bad(
                            "status",
                            "expected codes or classes such as 500, 404, 5xx (comma-separated)",
                        )
                    };
                    if let Some(d) = s.strip_suffix("xx") {
                        match d.parse::<u16>() {
                            Ok(k @ 1..=5) if d.len() == 1 => Ok(StatusFilter::Class(k)),
                            _ => Err(bad()),
                        }
                    } else {
                        match s.parse::<u16>() {
                            Ok(c @ 100..=599) => Ok(StatusFilter::Code(c)),
                            _ => Err(bad()),
                        }
                    }
                })
                .collect::<Result<_, _>>()?,
        };
        Ok(RequestFilter {
            ip: p.take("ip").map(|v| v.trim().to_owned()),
            host: p.take("host").map(|v| v.to_lowercase()),
            path: p.take("path"),
            status,
            trace_id: p.take("trace_id"),
        })
    }

    /// Whether a record passes every filter.
    pub fn matches(&self, r: &RequestRecord) -> bool {
        if let Some(ip) = &self.ip
            && r.client_ip.as_deref() != Some(ip.as_str())
        {
            return false;
        }
        if let Some(h) = &self.host
            && !r
                .host_name()
                .is_some_and(|x| x.to_lowercase().contains(h.as_str()))
        {
            return false;
        }
        if let Some(want) = &self.path {
            let path = r.path().or(r.request_raw.as_deref()).unwrap_or("");
            let ok = if want.starts_with('/') {
                path.starts_with(want.as_str())
            } else {
                path.contains(want.as_str())
            };
            if !ok {
                return false;
            }
        }
        if !self.status.is_empty()
            && !self
                .status
                .iter()
                .any(|s| s.matches(r.status) || s.matches(r.target_status))
        {
            return false;
        }
        if let Some(t) = &self.trace_id {
            let hit = r
                .trace_id
                .as_deref()
                .is_some_and(|x| x.contains(t.as_str()))
                || r.conn_trace_id.as_deref() == Some(t.as_str());
            if !hit {
                return false;
            }
        }
        true
    }

    /// A JSON pattern for the load-balancer group.
    pub fn lb_pattern(&self) -> Option<String> {
        let mut conds = Vec::new();
        if let Some(ip) = &self.ip {
            conds.push(JsonCond::Eq("ip", ip));
        }
        if let [s] = self.status.as_slice() {
            // The filter matches the ELB or the target status, and so does the pattern.
            let (lo, hi) = match s {
                StatusFilter::Code(c) => (i64::from(*c), i64::from(*c)),
                StatusFilter::Class(k) => (i64::from(*k) * 100, i64::from(*k) * 100 + 99),
            };
            conds.push(JsonCond::EitherRange("s", "ts", lo, hi));
        }
        if let Some(t) = &self.trace_id {
            if t.starts_with("TID_") {
                conds.push(JsonCond::Eq("cid", t));
            } else {
                conds.push(JsonCond::Contains("tr", t));
            }
        }
        pattern::json(&conds)
    }

    /// A term pattern for raw nginx lines.
    pub fn nginx_pattern(&self) -> Option<String> {
        self.ip.as_deref().and_then(pattern::term)
    }

    /// The first read of `group` over the range of `c`, narrowed by this filter's pattern for
    /// that kind of group (raw nginx lines or load-balancer records).
    pub fn fetch_request(&self, c: &Common, group: String, nginx: bool) -> FetchRequest {
        FetchRequest {
            group,
            start_ms: c.from_ms(),
            end_ms: c.to_ms(),
            pattern: if nginx {
                self.nginx_pattern()
            } else {
                self.lb_pattern()
            },
            next: None,
        }
    }
}

/// Reads the `source` parameter.
pub fn take_source(p: &mut Params) -> Result<Source, ApiError> {
    match p.take("source").as_deref() {
        None | Some("all") => Ok(Source::All),
        Some("lb") => Ok(Source::Lb),
        Some("nginx") => Ok(Source::Nginx),
        Some(_) => Err(ApiError::bad("source", "expected lb, nginx or all")),
    }
}

/// Turns one event into a request record: a logdesk record from the LB group, or a raw line
/// from the nginx group read with the configured formats.
pub fn decode(
    e: &LogEvent,
    nginx: bool,
    formats: &[LogFormat],
) -> Option<(&'static str, RequestRecord)> {
    if nginx {
        // The agent may ship a logdesk record too (a backfill through ingest), so try JSON first.
        if e.message.starts_with('{')
            && let Ok(Record::Nginx(r)) = Record::from_json(&e.message)
        {
            return Some(("nginx", r));
        }
        formats
            .iter()
            .find_map(|f| f.parse_line(&e.message).ok())
            .map(|r| ("nginx", r))
    } else {
        match Record::from_json(&e.message).ok()? {
            Record::Alb(r) => Some(("alb", r)),
            Record::Clb(r) => Some(("clb", r)),
            Record::Nginx(r) => Some(("nginx", r)),
            _ => None,
        }
    }
}

/// The groups `source` names, with whether each holds raw nginx lines.
pub fn groups(st: &AppState, source: Source) -> Vec<(String, bool)> {
    let cfg = &st.config;
    match source {
        Source::Lb => vec![(cfg.lb_group.clone(), false)],
        Source::Nginx => vec![(cfg.nginx_access_group.clone(), true)],
        Source::All => vec![
            (cfg.lb_group.clone(), false),
            (cfg.nginx_access_group.clone(), true),
        ],
    }
}

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
    let ua = r.user_agent.as_deref().map(|u| cache.get(u).clone());
    AccessRow {
        id,
        time: c.time(r.t),
        source,
        host: r.host_name().map(str::to_owned),
        path: r.path().map(str::to_owned),
        response_time: r.latency(),
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

/// `GET /v1/access`: requests, oldest first.
pub async fn list(State(st): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let mut p = Params::parse(q.as_deref())?;
    let c = params::common(&mut p, &st.config, now_us(), 24)?;
    let source = take_source(&mut p)?;
    let filter = RequestFilter::take(&mut p)?;
    p.finish()?;
    let after: Option<Key> = params::decode_cursor("access", c.cursor.as_deref())?;
    let limits = st.limits();
    let mut reads = Vec::new();
    for (g, (group, nginx)) in groups(&st, source).into_iter().enumerate() {
        let req = filter.fetch_request(&c, group, nginx);
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
    let merged = scan::merge(reads, c.limit);
    let mut cache = UaCache::new();
    let mut rows: Vec<AccessRow> = merged
        .rows
        .into_iter()
        .map(|(k, (src, r))| row_of(format!("{}:{}", k.g, k.id), src, r, &c, &mut cache))
        .collect();
    link_by_trace(&mut rows);
    let next = merged.next.map(|k| params::encode_cursor("access", &k));
    if c.format == Format::Csv {
        return Ok(csv::stream_response(
            "access",
            &[
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
            ],
            rows.into_iter().map(|r| {
                vec![
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
                ]
            }),
            next.as_deref(),
            merged.partial,
        ));
    }
    Ok(ListResponse::json(
        st.source.engine(),
        &c,
        rows,
        next,
        merged.partial,
    ))
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
