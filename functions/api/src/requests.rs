//! The requests of the load-balancer and nginx access groups, as access, stats and visits
//! read them: which groups a `source` names, the filters every request endpoint takes, and the
//! decoding of one event into a request record.

use logdesk_core::Record;
use logdesk_core::nginx::LogFormat;
use logdesk_core::record::RequestRecord;

use crate::AppState;
use crate::error::ApiError;
use crate::group_read::{self, read_group};
use crate::params::{Common, Params};
use crate::pattern::{self, JsonCond};
use crate::request_view::Scratch;
use crate::source::{FetchRequest, LogEvent};

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

/// Reads every request of the range that passes `filter`, handing each to `push`; returns
/// where the read is complete (µs): `c.to`, or earlier when it stopped on the budget. Records
/// at or after that point may have been pushed too; an exact answer drops them.
pub async fn for_each_request(
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
        covered = covered.min(group_read::covered(
            c.from,
            c.to,
            read.cut,
            read.frontier.as_ref(),
        ));
    }
    Ok(covered)
}
