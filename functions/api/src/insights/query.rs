//! The text of the Logs Insights queries the API sends, built only from what AWS documents
//! (docs/insights-queries.md lists every shape with the sentence it relies on):
//!
//! - user values go in as double-quoted string literals, and only values that need no escape:
//!   AWS documents no escape sequence inside a literal, and `#` starts a comment, so a value
//!   with `"`, `\`, `#` or a control character is refused ([`Unquotable`], a 400 naming the
//!   parameter) instead of escaped;
//! - 0/1 flags through the documented `if(condition, 1, 0)`, not comparisons inside `fields`;
//! - time buckets through `floor((toMillis(@timestamp) + offset) / width)` ([`Bins`]), so that
//!   buckets start where the local engine's do (midnight in the display zone, not in UTC), and
//!   no `bin()` unit cap (60 for `s`) can silently change their width;
//! - each query bounded to its part's milliseconds ([`bounded`]), because StartQuery's
//!   `endTime` (whole seconds) is not a documented exclusive bound.

use crate::requests::{RequestFilter, StatusFilter};

/// Longest user value put into a query.
const MAX_VALUE: usize = 200;

/// A user value that cannot go into a query literal: it has `"`, `\`, `#` or a control
/// character, is empty or is longer than 200 bytes. Answered as a 400 naming the parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{parameter}` cannot be searched with Logs Insights: it is empty, longer than 200 bytes, or \
     has a double quote, backslash, # or control character"
)]
pub struct Unquotable {
    /// The query parameter the value came from.
    pub parameter: &'static str,
}

/// Why a stats query cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Inexpressible {
    /// A host or path substring: Insights could express it only approximately, and aggregated
    /// rows cannot be re-checked, so the local engine answers.
    #[error("host and path filters are computed by the local engine")]
    HostOrPath,
    /// A value that cannot go into a literal.
    #[error(transparent)]
    Value(#[from] Unquotable),
}

/// A double-quoted Insights string literal of `v` (from query parameter `parameter`), with
/// nothing escaped: values that would need an escape are refused.
pub fn string_literal(parameter: &'static str, v: &str) -> Result<String, Unquotable> {
    let refused = |c: char| c == '"' || c == '\\' || c == '#' || c.is_control();
    if v.is_empty() || v.len() > MAX_VALUE || v.chars().any(refused) {
        return Err(Unquotable { parameter });
    }
    Ok(format!("\"{v}\""))
}

/// The load-balancer records: the two kinds ingest writes to the group (listings add native
/// records clause by clause, [`listing_narrowing`]).
const LB_KINDS: &str = "filter k = \"alb\" or k = \"clb\"\n";

/// The load-balancer records of aggregate queries, ours and natively delivered ALB records
/// alike, with what the stats read under one name each: `st`/`tgt_st` (load-balancer and
/// target status), `cip` (client IP; a native record's from `client:port`), `agent`
/// (User-Agent, `-` for none), `dur_req`/`dur_tgt`/`dur_rsp` (the three processing times,
/// absent where ALB wrote `-1`), then the `filter` commands for `filter` on those names. No
/// name is a key of a record (ours have `pr`, the protocol, and `tst`, ALB's transform
/// status), so no query depends on an alias replacing a record's own field. Host and path
/// cannot be expressed
/// exactly ([`Inexpressible::HostOrPath`]).
fn filters(filter: &RequestFilter) -> Result<String, Inexpressible> {
    if filter.host.is_some() || filter.path.is_some() {
        return Err(Inexpressible::HostOrPath);
    }
    let mut out = String::from(LB_RECORDS);
    out.push_str(NATIVE_AS_OURS);
    if let Some(ip) = &filter.ip {
        out.push_str(&format!("| filter cip = {}\n", string_literal("ip", ip)?));
    }
    if let Some(status) = status_clause(&filter.status, "st", "tgt_st") {
        out.push_str(&format!("| filter {status}\n"));
    }
    if let Some(t) = &filter.trace_id {
        let lit = string_literal("trace_id", t)?;
        out.push_str(&format!(
            "| filter tr like {lit} or cid = {lit} or trace_id like {lit} or conn_trace_id = {lit}\n"
        ));
    }
    Ok(out)
}

/// Our load-balancer records and natively delivered ALB access records (no `k`, a
/// `request_line`; see `shared/src/alb_native.rs`).
const LB_RECORDS: &str = "filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n";

/// Native records' values under the names the stats read (see [`filters`]). The client IP of
/// a native record is `client:port` without its port (IPv6 in brackets or not); a processing
/// time of `-1` (not measured) is left absent, as ingest leaves it for ours.
const NATIVE_AS_OURS: &str = "| fields coalesce(`client:port`, client_port) as cport\n\
| parse cport /^\\[?(?<nip>[0-9A-Fa-f.:]*[0-9A-Fa-f.])\\]?:[0-9]+$/\n\
| fields coalesce(s, elb_status_code) as st, coalesce(ts, target_status_code) as tgt_st, \
coalesce(ip, nip, \"-\") as cip, coalesce(ua, user_agent, \"-\") as agent, \
if(request_processing_time >= 0, request_processing_time, dq) as dur_req, \
if(target_processing_time >= 0, target_processing_time, dt) as dur_tgt, \
if(response_processing_time >= 0, response_processing_time, dr) as dur_rsp\n";

/// The condition for `status` (codes and classes) on the fields `lb` and `target`; `None`
/// for no status filter.
fn status_clause(status: &[StatusFilter], lb: &str, target: &str) -> Option<String> {
    let parts: Vec<String> = status
        .iter()
        .map(|s| {
            let (lo, hi) = match s {
                StatusFilter::Code(c) => (*c, *c),
                StatusFilter::Class(k) => (k * 100, k * 100 + 99),
            };
            format!("({lb} >= {lo} and {lb} <= {hi}) or ({target} >= {lo} and {target} <= {hi})")
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(" or "))
}

/// The `filter` commands for what of `filter` Insights expresses exactly (client IP, status,
/// trace id); host and path are left out, for queries whose rows are re-checked here.
fn narrowing(filter: &RequestFilter) -> Result<String, Unquotable> {
    let mut out = String::from(LB_KINDS);
    if let Some(ip) = &filter.ip {
        out.push_str(&format!("| filter ip = {}\n", string_literal("ip", ip)?));
    }
    if let Some(status) = status_clause(&filter.status, "s", "ts") {
        out.push_str(&format!("| filter {status}\n"));
    }
    if let Some(t) = &filter.trace_id {
        let lit = string_literal("trace_id", t)?;
        out.push_str(&format!("| filter tr like {lit} or cid = {lit}\n"));
    }
    Ok(out)
}

/// [`narrowing`] for queries whose rows are all re-checked here (listings): natively
/// delivered ALB records (`alb_native`: no `k`, their own keys) pass every clause too.
fn listing_narrowing(filter: &RequestFilter) -> Result<String, Unquotable> {
    const NATIVE: &str = " or ispresent(request_line)";
    let mut out = String::new();
    for clause in narrowing(filter)?.lines() {
        out.push_str(clause);
        out.push_str(NATIVE);
        out.push('\n');
    }
    Ok(out)
}

/// Per-record values the stats commands use: latency as `RequestRecord::latency` computes it,
/// 0/1 flags for the status classes through the documented `if(condition, 1, 0)`, and the
/// visitor (client IP and User-Agent, as the local engine pairs them).
const FIELDS: &str = "| fields coalesce(d, dur_req + dur_tgt + dur_rsp, dur_tgt) as lat, \
if(st >= 400 and st <= 499, 1, 0) as e4, if(st >= 500 and st <= 599, 1, 0) as e5, \
if(tgt_st >= 500 and tgt_st <= 599, 1, 0) as t5, concat(cip, \" \", agent) as visitor";

/// Totals over the range: count, error counts and latency percentiles (read by
/// [`super::Totals::read`]).
pub fn totals_query(filter: &RequestFilter) -> Result<String, Inexpressible> {
    Ok(format!(
        "{}{FIELDS}\n| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, \
sum(t5) as target_server_errors, avg(lat) as mean, pct(lat, 50) as median, pct(lat, 90) as p90, \
pct(lat, 95) as p95, pct(lat, 99) as p99, max(lat) as max, count_distinct(visitor) as visitors",
        filters(filter)?
    ))
}

/// Time buckets as the local engine cuts them: `width_s` seconds, counted from the Unix epoch
/// shifted by the display zone's offset (`offset_s`, e.g. 32400 for Japan), so day buckets
/// start at midnight in the display zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bins {
    /// Bucket width in seconds (60, 300, 3600, 86400).
    pub width_s: i64,
    /// The display zone's offset from UTC in seconds.
    pub offset_s: i64,
}

impl Bins {
    /// The bucket key expression: `floor((toMillis(@timestamp) + offset) / width)`, in ms.
    pub(crate) fn key_expr(self) -> String {
        format!(
            "floor((toMillis(@timestamp) + {}) / {})",
            self.offset_s.saturating_mul(1000),
            self.width_s.max(1).saturating_mul(1000)
        )
    }

    /// The start (µs) of the bucket with key `key`, as the local engine computes it.
    pub fn start_us(self, key: i64) -> i64 {
        key.saturating_mul(self.width_s.max(1).saturating_mul(1_000_000))
            .saturating_sub(self.offset_s.saturating_mul(1_000_000))
    }
}

/// The time series: the same numbers per bucket of `bins` (read by
/// [`super::SeriesBin::read_all`]).
pub fn series_query(filter: &RequestFilter, bins: Bins) -> Result<String, Inexpressible> {
    Ok(format!(
        "{}{FIELDS}, {} as bucket\n\
| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, \
pct(lat, 50) as p50, pct(lat, 95) as p95, max(lat) as max by bucket\n\
| sort bucket asc",
        filters(filter)?,
        bins.key_expr()
    ))
}

/// A breakdown of `/v1/stats` that Logs Insights counts by raw value, finished here (status
/// codes as they are, User-Agents parsed, referrers cut to their host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakdown {
    /// Requests by load-balancer status code (`st`).
    Status,
    /// Requests by User-Agent (`agent`, `-` for none).
    UserAgent,
    /// Requests by Referer (`referrer`, `-` for none).
    Referrer,
}

impl Breakdown {
    /// All three, in the order their queries are carried in a cursor.
    pub const ALL: [Breakdown; 3] = [Breakdown::Status, Breakdown::UserAgent, Breakdown::Referrer];

    /// The field its rows are grouped by.
    pub fn key(self) -> &'static str {
        match self {
            Breakdown::Status => "st",
            Breakdown::UserAgent => "agent",
            Breakdown::Referrer => "referrer",
        }
    }
}

/// The query of one breakdown: records counted per raw value, most first, so that a result
/// cut at [`MAX_ROWS`] rows keeps the largest (read by [`super::Shares::read`]).
pub fn breakdown_query(filter: &RequestFilter, which: Breakdown) -> Result<String, Inexpressible> {
    let referrer = match which {
        Breakdown::Referrer => "| fields coalesce(rf, \"-\") as referrer\n",
        _ => "",
    };
    Ok(format!(
        "{}{referrer}| stats count(*) as count by {}\n| sort count desc",
        filters(filter)?,
        which.key()
    ))
}

/// Method and URL of every load-balancer record, as the local engine groups them: `gm` is
/// `m`, or the method of a native record's `request_line` (`METHOD URL HTTP/x`, split as
/// `logdesk_core::alb` splits it); `gu` is `u` or that line's URL, without its query (the URL
/// group never includes it). `-` for a record without one.
const METHOD_AND_URL: &str = "| parse request_line /^(?<nm>[^ ]+) (?<nu>.+) HTTP\\/[^ ]*$/\n\
| fields coalesce(m, nm, \"-\") as gm, coalesce(u, nu, \"-\") as gurl\n\
| parse gurl /^(?<gu>[^?]*)/\n";

/// Per method and URL without its query: counts, error counts and the latency summary the
/// URL groups are merged from ([`super::PathRow`]), most requests first, so that a result
/// cut at [`MAX_ROWS`] rows keeps the busiest. `lb_only_server_errors` is `server_errors −
/// both_server_errors` (a 5xx of the load balancer without one of the target).
pub fn groups_query(filter: &RequestFilter) -> Result<String, Inexpressible> {
    Ok(format!(
        "{}{METHOD_AND_URL}{FIELDS}, \
if(st >= 500 and st <= 599 and tgt_st >= 500 and tgt_st <= 599, 1, 0) as e55\n\
| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, \
sum(t5) as target_server_errors, sum(e55) as both_server_errors, count(lat) as timed, \
avg(lat) as mean, min(lat) as min, pct(lat, 50) as p50, pct(lat, 90) as p90, \
pct(lat, 95) as p95, pct(lat, 99) as p99, max(lat) as max by gm, gu\n\
| sort count desc",
        filters(filter)?
    ))
}

/// Most rows one Logs Insights query returns here (StartQuery's `limit`).
pub const MAX_ROWS: usize = 10_000;

/// The query for raw request records (newest first): `@timestamp`, `@ptr` and `@message` of every
/// load-balancer record the filters Insights can express let through. Rows are decoded and
/// re-checked against the whole filter here.
pub fn messages_query(filter: &RequestFilter) -> Result<String, Unquotable> {
    newest_query(filter, MAX_ROWS)
}

/// The newest-first listing of `/v1/access?order=desc`: `@timestamp`, `@message` and `@ptr` of
/// the newest `limit` (1 to [`MAX_ROWS`]) load-balancer records that what of `filter` Insights
/// expresses lets through (client IP, status, trace id). Host and path are left out: every row
/// is re-checked with [`RequestFilter::matches`].
pub fn newest_query(filter: &RequestFilter, limit: usize) -> Result<String, Unquotable> {
    let narrow = listing_narrowing(filter)?;
    let limit = limit.clamp(1, MAX_ROWS);
    Ok(format!(
        "fields @timestamp, @message, @ptr\n| {narrow}| sort @timestamp desc\n| limit {limit}"
    ))
}

/// `query` bounded to `[from_ms, to_ms)`: a `filter` on `toMillis(@timestamp)` in front, so
/// the query's own range is exact whatever StartQuery does at the edges of its whole seconds.
pub fn bounded(query: &str, from_ms: i64, to_ms: i64) -> String {
    format!(
        "filter toMillis(@timestamp) >= {from_ms} and toMillis(@timestamp) < {to_ms}\n| {query}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const JST: Bins = Bins {
        width_s: 86_400,
        offset_s: 32_400,
    };

    /// What every aggregate query starts with: our records and native ones, under one name
    /// each.
    const PREFIX: &str = "filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n\
| fields coalesce(`client:port`, client_port) as cport\n\
| parse cport /^\\[?(?<nip>[0-9A-Fa-f.:]*[0-9A-Fa-f.])\\]?:[0-9]+$/\n\
| fields coalesce(s, elb_status_code) as st, coalesce(ts, target_status_code) as tgt_st, coalesce(ip, nip, \"-\") as cip, coalesce(ua, user_agent, \"-\") as agent, if(request_processing_time >= 0, request_processing_time, dq) as dur_req, if(target_processing_time >= 0, target_processing_time, dt) as dur_tgt, if(response_processing_time >= 0, response_processing_time, dr) as dur_rsp\n";

    #[test]
    fn golden_series_and_totals_queries() {
        let f = RequestFilter {
            ip: Some("203.0.113.5".to_owned()),
            status: vec![StatusFilter::Class(5)],
            trace_id: Some("Root=1-ab".to_owned()),
            ..Default::default()
        };
        let five_minutes = Bins {
            width_s: 300,
            offset_s: 32_400,
        };
        assert_eq!(
            series_query(&f, five_minutes).unwrap(),
            format!(
                "{PREFIX}\
| filter cip = \"203.0.113.5\"\n\
| filter (st >= 500 and st <= 599) or (tgt_st >= 500 and tgt_st <= 599)\n\
| filter tr like \"Root=1-ab\" or cid = \"Root=1-ab\" or trace_id like \"Root=1-ab\" or conn_trace_id = \"Root=1-ab\"\n\
| fields coalesce(d, dur_req + dur_tgt + dur_rsp, dur_tgt) as lat, if(st >= 400 and st <= 499, 1, 0) as e4, if(st >= 500 and st <= 599, 1, 0) as e5, if(tgt_st >= 500 and tgt_st <= 599, 1, 0) as t5, concat(cip, \" \", agent) as visitor, floor((toMillis(@timestamp) + 32400000) / 300000) as bucket\n\
| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, pct(lat, 50) as p50, pct(lat, 95) as p95, max(lat) as max by bucket\n\
| sort bucket asc"
            )
        );
        assert_eq!(
            totals_query(&RequestFilter::default()).unwrap(),
            format!(
                "{PREFIX}\
| fields coalesce(d, dur_req + dur_tgt + dur_rsp, dur_tgt) as lat, if(st >= 400 and st <= 499, 1, 0) as e4, if(st >= 500 and st <= 599, 1, 0) as e5, if(tgt_st >= 500 and tgt_st <= 599, 1, 0) as t5, concat(cip, \" \", agent) as visitor\n\
| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, sum(t5) as target_server_errors, avg(lat) as mean, pct(lat, 50) as median, pct(lat, 90) as p90, pct(lat, 95) as p95, pct(lat, 99) as p99, max(lat) as max, count_distinct(visitor) as visitors"
            )
        );
        // No `bin()` and no `s` unit anywhere: nothing for a unit cap to change.
        assert!(!series_query(&f, JST).unwrap().contains("bin("));
    }

    #[test]
    fn golden_breakdown_queries() {
        let d = RequestFilter::default();
        assert_eq!(
            breakdown_query(&d, Breakdown::Status).unwrap(),
            format!("{PREFIX}| stats count(*) as count by st\n| sort count desc")
        );
        assert_eq!(
            breakdown_query(&d, Breakdown::UserAgent).unwrap(),
            format!("{PREFIX}| stats count(*) as count by agent\n| sort count desc")
        );
        assert_eq!(
            breakdown_query(&d, Breakdown::Referrer).unwrap(),
            format!(
                "{PREFIX}| fields coalesce(rf, \"-\") as referrer\n\
| stats count(*) as count by referrer\n| sort count desc"
            )
        );
        let host = RequestFilter {
            host: Some("example".to_owned()),
            ..Default::default()
        };
        for b in Breakdown::ALL {
            assert_eq!(breakdown_query(&host, b), Err(Inexpressible::HostOrPath));
        }
    }

    #[test]
    fn golden_groups_query() {
        assert_eq!(
            groups_query(&RequestFilter::default()).unwrap(),
            format!(
                "{PREFIX}\
| parse request_line /^(?<nm>[^ ]+) (?<nu>.+) HTTP\\/[^ ]*$/\n\
| fields coalesce(m, nm, \"-\") as gm, coalesce(u, nu, \"-\") as gurl\n\
| parse gurl /^(?<gu>[^?]*)/\n\
| fields coalesce(d, dur_req + dur_tgt + dur_rsp, dur_tgt) as lat, if(st >= 400 and st <= 499, 1, 0) as e4, if(st >= 500 and st <= 599, 1, 0) as e5, if(tgt_st >= 500 and tgt_st <= 599, 1, 0) as t5, concat(cip, \" \", agent) as visitor, if(st >= 500 and st <= 599 and tgt_st >= 500 and tgt_st <= 599, 1, 0) as e55\n\
| stats count(*) as count, sum(e4) as client_errors, sum(e5) as server_errors, sum(t5) as target_server_errors, sum(e55) as both_server_errors, count(lat) as timed, avg(lat) as mean, min(lat) as min, pct(lat, 50) as p50, pct(lat, 90) as p90, pct(lat, 95) as p95, pct(lat, 99) as p99, max(lat) as max by gm, gu\n\
| sort count desc"
            )
        );
        let path = RequestFilter {
            path: Some("/apply".to_owned()),
            ..Default::default()
        };
        assert_eq!(groups_query(&path), Err(Inexpressible::HostOrPath));
    }

    #[test]
    fn day_buckets_start_at_midnight_in_the_display_zone() {
        // 2026-11-20T00:00:00+09:00 = 2026-11-19T15:00:00Z.
        let midnight_jst_us: i64 = 1_795_100_400_000_000;
        let key = (midnight_jst_us / 1000 + 32_400_000).div_euclid(86_400_000);
        assert_eq!(JST.start_us(key), midnight_jst_us);
        let utc = Bins {
            width_s: 3600,
            offset_s: 0,
        };
        assert_eq!(utc.start_us(498_648), 1_795_132_800_000_000);
    }

    #[test]
    fn values_needing_an_escape_are_refused_naming_the_parameter() {
        for (value, ok) in [
            ("203.0.113.5", true),
            ("Root=1-5f84c7a9-0123456789abcdef01234567", true),
            ("2001:db8::1", true),
            (r#"x" | stats count(*) by ip | filter "a"#, false),
            (r"a\b", false),
            ("a # comment", false),
            ("a\nb", false),
            ("a\u{7f}b", false),
            ("", false),
        ] {
            assert_eq!(string_literal("ip", value).is_ok(), ok, "{value:?}");
        }
        let long = "1".repeat(201);
        assert_eq!(
            string_literal("trace_id", &long),
            Err(Unquotable {
                parameter: "trace_id"
            })
        );
        let f = RequestFilter {
            trace_id: Some(r#"Root=1-x" or ip like /./ | display @message"#.to_owned()),
            ..Default::default()
        };
        assert_eq!(
            newest_query(&f, 5),
            Err(Unquotable {
                parameter: "trace_id"
            })
        );
        assert_eq!(
            totals_query(&f),
            Err(Inexpressible::Value(Unquotable {
                parameter: "trace_id"
            }))
        );
        let f = RequestFilter {
            ip: Some("1.2.3.4 # | stats".to_owned()),
            ..Default::default()
        };
        assert_eq!(messages_query(&f), Err(Unquotable { parameter: "ip" }));
        let f = RequestFilter {
            host: Some("example".to_owned()),
            ..Default::default()
        };
        assert_eq!(series_query(&f, JST), Err(Inexpressible::HostOrPath));
    }

    #[test]
    fn golden_newest_first_and_messages_queries() {
        let f = RequestFilter {
            ip: Some("203.0.113.5".to_owned()),
            status: vec![StatusFilter::Code(404), StatusFilter::Class(5)],
            host: Some("example".to_owned()),
            path: Some("/apply".to_owned()),
            trace_id: None,
        };
        assert_eq!(
            newest_query(&f, 101).unwrap(),
            "fields @timestamp, @message, @ptr\n\
| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n\
| filter ip = \"203.0.113.5\" or ispresent(request_line)\n\
| filter (s >= 404 and s <= 404) or (ts >= 404 and ts <= 404) or (s >= 500 and s <= 599) or (ts >= 500 and ts <= 599) or ispresent(request_line)\n\
| sort @timestamp desc\n\
| limit 101"
        );
        let d = RequestFilter::default();
        assert!(newest_query(&d, 0).unwrap().ends_with("| limit 1"));
        assert!(newest_query(&d, 50_000).unwrap().ends_with("| limit 10000"));
        assert_eq!(
            messages_query(&d).unwrap(),
            "fields @timestamp, @message, @ptr\n| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n| sort @timestamp desc\n| limit 10000"
        );
        let f = RequestFilter {
            trace_id: Some("Root=1-ab".to_owned()),
            ..Default::default()
        };
        assert!(newest_query(&f, 5).unwrap().contains(
            "| filter tr like \"Root=1-ab\" or cid = \"Root=1-ab\" or ispresent(request_line)\n"
        ));
    }

    #[test]
    fn golden_bounded_query() {
        assert_eq!(
            bounded("stats count(*)", 1_795_132_800_000, 1_795_132_860_000),
            "filter toMillis(@timestamp) >= 1795132800000 and toMillis(@timestamp) < 1795132860000\n\
| stats count(*)"
        );
    }

    /// docs/insights-queries.md shows the queries sent, and a script runs its blocks against a
    /// real log group: every block must be what the code sends for the values shown.
    #[test]
    fn the_documented_queries_are_the_ones_sent() {
        let doc = include_str!("../../../../docs/insights-queries.md");
        let blocks: Vec<&str> = doc
            .split("```insights\n")
            .skip(1)
            .filter_map(|b| b.split("\n```").next())
            .collect();
        let hour_jst = Bins {
            width_s: 3600,
            offset_s: 32_400,
        };
        let five_min_jst = Bins {
            width_s: 300,
            offset_s: 32_400,
        };
        let ip_5xx = RequestFilter {
            ip: Some("203.0.113.5".to_owned()),
            status: vec![StatusFilter::Class(5)],
            ..Default::default()
        };
        let trace = RequestFilter {
            ip: Some("203.0.113.5".to_owned()),
            status: vec![StatusFilter::Code(404)],
            trace_id: Some("Root=1-5f84c7a9-0123456789abcdef01234567".to_owned()),
            ..Default::default()
        };
        let d = RequestFilter::default();
        let sent = [
            totals_query(&d).unwrap(),
            series_query(&d, hour_jst).unwrap(),
            series_query(&ip_5xx, five_min_jst).unwrap(),
            breakdown_query(&d, Breakdown::Status).unwrap(),
            breakdown_query(&d, Breakdown::UserAgent).unwrap(),
            breakdown_query(&d, Breakdown::Referrer).unwrap(),
            groups_query(&d).unwrap(),
            super::super::mail::buckets_query(Bins {
                width_s: 86_400,
                offset_s: 32_400,
            }),
            super::super::mail::domains_query(),
            super::super::mail::reasons_query(),
            newest_query(&d, 100).unwrap(),
            messages_query(&trace).unwrap(),
        ];
        assert_eq!(blocks, sent.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
