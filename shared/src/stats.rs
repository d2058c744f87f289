//! Request statistics: how many, how fast, how many failed, over time and per URL group.
//!
//! Two status codes are counted separately, because they answer different questions:
//! - the **load-balancer status** ([`RequestRecord::status`], ALB `elb_status_code`, nginx
//!   `$status`): what the client got;
//! - the **target status** ([`RequestRecord::target_status`]): what the application answered.
//!
//! A 502 or 504 from the load balancer with no target status (or a non-5xx one) is the load
//! balancer's own error — the target closed the connection, timed out or could not be reached —
//! and is counted in `lb_only_server_errors`. nginx records carry no target status, so for them
//! every 5xx lands there too: the field means something for load-balancer records only.
//!
//! Latency is [`RequestRecord::latency`] in seconds. Percentiles are exact, by the nearest-rank
//! method on all values (the p-th percentile of n sorted values is the ⌈p·n/100⌉-th), so the
//! median of an even count is the lower middle value and every reported value is one that was
//! observed. Non-finite latencies are ignored.
//!
//! Time buckets are aligned to multiples of the bucket width counted from the Unix epoch, shifted
//! by [`StatsOptions::utc_offset_seconds`]: with no offset, hour and day buckets start on UTC
//! hours and midnights; with 32400 day buckets start at midnight in Japan (a fixed offset, so in
//! a zone with daylight saving the alignment is off by an hour for part of the year). Buckets
//! run from the first request's to the last request's, empty ones included, so a chart can draw
//! them as they come; when that would be more than [`MAX_BUCKETS`], the width is multiplied until
//! it fits and [`Stats::bucket_seconds`] says the width used.
//!
//! [`compute`] takes records in any order. [`StatsAccumulator`] is the same computation fed one
//! record at a time (for results read page by page) and mergeable.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::record::RequestRecord;
use crate::urlgroup::UrlGrouper;

/// The most time buckets a result holds before the bucket width is widened.
pub const MAX_BUCKETS: usize = 10_000;

/// What to compute.
#[derive(Debug, Clone, Copy)]
pub struct StatsOptions<'a> {
    /// Width of a time-series bucket in seconds (values below 1 are taken as 1).
    pub bucket_seconds: i64,
    /// Shift of bucket boundaries from UTC, in seconds (32400 aligns day buckets to JST).
    pub utc_offset_seconds: i64,
    /// Group requests by method and URL group with this grouper; `None` skips per-group stats.
    pub url_groups: Option<&'a UrlGrouper>,
    /// How many groups to list, busiest first; the rest are summed in [`Stats::other_groups`].
    pub top_groups: usize,
}

impl Default for StatsOptions<'_> {
    /// Five-minute UTC buckets, no URL groups, top 50 groups.
    fn default() -> Self {
        StatsOptions {
            bucket_seconds: 300,
            utc_offset_seconds: 0,
            url_groups: None,
            top_groups: 50,
        }
    }
}

/// The statistics of a set of requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Number of requests.
    pub count: u64,
    /// Time of the earliest request, µs.
    pub first: Option<i64>,
    /// Time of the latest request, µs.
    pub last: Option<i64>,
    /// Seconds from the first request to the last.
    pub span_seconds: f64,
    /// Requests per second: `count` over `span_seconds`, the span taken as at least 1 s.
    pub per_second: f64,
    /// Errors by the status sent to the client (ALB `elb_status_code`, nginx `$status`).
    pub lb: StatusCounts,
    /// Errors by the target's status (ALB `target_status_code`); nginx records have none.
    pub target: StatusCounts,
    /// Requests the load balancer answered with 5xx while the target gave no 5xx (or no
    /// answer): the load balancer's own errors, such as 502 on a closed connection or 504.
    pub lb_only_server_errors: u64,
    /// Latency over the requests that have one; `None` when none has.
    pub latency: Option<Latency>,
    /// Width of the time buckets actually used, seconds.
    pub bucket_seconds: i64,
    /// Time series from the first request's bucket to the last's, oldest first.
    pub buckets: Vec<Bucket>,
    /// Per method and URL group, busiest first (at most `top_groups`; empty without a grouper).
    pub groups: Vec<GroupStats>,
    /// Number of distinct method and URL group pairs seen.
    pub group_count: u64,
    /// Requests in groups not listed in `groups` (beyond `top_groups`, or without a URL).
    pub other_groups: u64,
}

/// Client and server error counts by one of the two status codes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusCounts {
    /// Requests that have this status code at all.
    pub known: u64,
    /// Requests with a 4xx status.
    pub client_errors: u64,
    /// Requests with a 5xx status.
    pub server_errors: u64,
    /// `client_errors / known`; `None` when `known` is 0.
    pub client_error_rate: Option<f64>,
    /// `server_errors / known`; `None` when `known` is 0.
    pub server_error_rate: Option<f64>,
}

/// Latency summary in seconds (exact nearest-rank percentiles, see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Number of requests with a latency.
    pub count: u64,
    /// Arithmetic mean (summed in whole nanoseconds, so independent of order).
    pub mean: f64,
    /// 50th percentile (the lower middle value for an even count).
    pub median: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest value.
    pub max: f64,
}

/// One time bucket of the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket, µs (inclusive; the bucket ends where the next starts).
    pub start: i64,
    /// Requests in the bucket.
    pub count: u64,
    /// Requests with a load-balancer status below 400.
    pub success: u64,
    /// Requests with a 4xx load-balancer status.
    pub client_errors: u64,
    /// Requests with a 5xx load-balancer status.
    pub server_errors: u64,
    /// Median latency, seconds.
    pub p50: Option<f64>,
    /// 95th-percentile latency, seconds.
    pub p95: Option<f64>,
    /// Largest latency, seconds.
    pub max: Option<f64>,
}

/// Statistics of one method and URL group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// HTTP method (`None` when the request line had none).
    pub method: Option<String>,
    /// The host asked for (`Host` header, or the URL's host); groups of different hosts are
    /// counted apart, so `/` of the shop and `/` of the blog are two rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The URL group ([`UrlGrouper::group`]).
    pub group: String,
    /// Requests in the group.
    pub count: u64,
    /// Requests with a 4xx load-balancer status.
    pub client_errors: u64,
    /// Requests with a 5xx load-balancer status.
    pub server_errors: u64,
    /// Requests with a 5xx target status.
    pub target_server_errors: u64,
    /// 5xx from the load balancer without a 5xx from the target (see [`Stats`]).
    pub lb_only_server_errors: u64,
    /// Latency of the group's requests.
    pub latency: Option<Latency>,
}

/// Computes the statistics of `records` (in any order).
pub fn compute<'r>(
    records: impl IntoIterator<Item = &'r RequestRecord>,
    opts: &StatsOptions<'_>,
) -> Stats {
    let mut acc = StatsAccumulator::new(opts);
    for r in records {
        acc.push(r);
    }
    acc.finish()
}

fn is_client_error(s: u16) -> bool {
    (400..500).contains(&s)
}

fn is_server_error(s: u16) -> bool {
    (500..600).contains(&s)
}

/// Running counts for one status code.
#[derive(Debug, Clone, Default)]
struct StatusAcc {
    known: u64,
    client: u64,
    server: u64,
}

impl StatusAcc {
    fn push(&mut self, status: Option<u16>) {
        if let Some(s) = status {
            self.known += 1;
            self.client += u64::from(is_client_error(s));
            self.server += u64::from(is_server_error(s));
        }
    }

    fn merge(&mut self, o: &StatusAcc) {
        self.known += o.known;
        self.client += o.client;
        self.server += o.server;
    }

    fn finish(&self) -> StatusCounts {
        let rate = |n: u64| (self.known > 0).then(|| n as f64 / self.known as f64);
        StatusCounts {
            known: self.known,
            client_errors: self.client,
            server_errors: self.server,
            client_error_rate: rate(self.client),
            server_error_rate: rate(self.server),
        }
    }
}

#[derive(Debug, Clone, Default)]
struct BucketAcc {
    count: u64,
    success: u64,
    client: u64,
    server: u64,
    latencies: Vec<f64>,
}

impl BucketAcc {
    fn merge(&mut self, o: BucketAcc) {
        self.count += o.count;
        self.success += o.success;
        self.client += o.client;
        self.server += o.server;
        self.latencies.extend(o.latencies);
    }
}

#[derive(Debug, Clone, Default)]
struct GroupAcc {
    count: u64,
    client: u64,
    server: u64,
    target_server: u64,
    lb_only: u64,
    latencies: Vec<f64>,
}

impl GroupAcc {
    fn merge(&mut self, o: GroupAcc) {
        self.count += o.count;
        self.client += o.client;
        self.server += o.server;
        self.target_server += o.target_server;
        self.lb_only += o.lb_only;
        self.latencies.extend(o.latencies);
    }
}

/// A group's method and host.
pub type MethodHost = (Option<String>, Option<String>);

/// The order of [`Stats::groups`], on each group's (requests, method and host, group): most
/// requests first; ties by method, host, then group, so the order never depends on hashing.
pub fn busiest_first(
    a: (u64, &MethodHost, &str),
    b: (u64, &MethodHost, &str),
) -> std::cmp::Ordering {
    b.0.cmp(&a.0)
        .then_with(|| a.1.cmp(b.1))
        .then_with(|| a.2.cmp(b.2))
}

/// Groups of one method and host (few of each, so they are searched in a short list).
type MethodGroups = (MethodHost, HashMap<Box<str>, GroupAcc>);

/// [`compute`] one record at a time: [`push`](StatsAccumulator::push) each record, then
/// [`finish`](StatsAccumulator::finish). Accumulators built with the same options can be
/// [`merge`](StatsAccumulator::merge)d.
#[derive(Debug, Clone)]
pub struct StatsAccumulator<'a> {
    bucket_us: i64,
    offset_us: i64,
    grouper: Option<&'a UrlGrouper>,
    top_groups: usize,
    count: u64,
    first: Option<i64>,
    last: Option<i64>,
    lb: StatusAcc,
    target: StatusAcc,
    lb_only: u64,
    /// Buckets by key (`(t + offset) / width`, floored); every record lands in exactly one.
    buckets: Vec<(i64, BucketAcc)>,
    /// Where each key's bucket is in `buckets`.
    bucket_index: HashMap<i64, usize>,
    /// The last bucket used, as (key, index): records mostly come in time order.
    last_bucket: Option<(i64, usize)>,
    groups: Vec<MethodGroups>,
    /// Reused for collapsed URL groups, so grouping allocates only for new groups.
    group_buf: String,
    /// Records that had no URL and so no group.
    ungrouped: u64,
}

impl<'a> StatsAccumulator<'a> {
    /// An empty accumulator.
    pub fn new(opts: &StatsOptions<'a>) -> Self {
        StatsAccumulator {
            bucket_us: opts.bucket_seconds.max(1).saturating_mul(1_000_000),
            offset_us: opts.utc_offset_seconds.saturating_mul(1_000_000),
            grouper: opts.url_groups,
            top_groups: opts.top_groups,
            count: 0,
            first: None,
            last: None,
            lb: StatusAcc::default(),
            target: StatusAcc::default(),
            lb_only: 0,
            buckets: Vec::new(),
            bucket_index: HashMap::new(),
            last_bucket: None,
            groups: Vec::new(),
            group_buf: String::new(),
            ungrouped: 0,
        }
    }

    /// Adds one request.
    pub fn push(&mut self, r: &RequestRecord) {
        self.count += 1;
        self.first = Some(self.first.map_or(r.t, |f| f.min(r.t)));
        self.last = Some(self.last.map_or(r.t, |l| l.max(r.t)));
        self.lb.push(r.status);
        self.target.push(r.target_status);
        let lb_server = r.status.is_some_and(is_server_error);
        let lb_only = lb_server && !r.target_status.is_some_and(is_server_error);
        self.lb_only += u64::from(lb_only);
        let latency = r.latency().filter(|l| l.is_finite());

        let key =
            r.t.saturating_add(self.offset_us)
                .div_euclid(self.bucket_us);
        let b = self.bucket(key);
        b.count += 1;
        if let Some(s) = r.status {
            b.success += u64::from(s < 400);
            b.client += u64::from(is_client_error(s));
            b.server += u64::from(is_server_error(s));
        }
        if let Some(l) = latency {
            b.latencies.push(l);
        }

        let Some(grouper) = self.grouper else { return };
        let Some(path) = r.url.as_deref().map(crate::urlgroup::path_of) else {
            self.ungrouped += 1;
            return;
        };
        let group = grouper.group_into(path, &mut self.group_buf);
        let method = r.method.as_deref();
        let host = r.host_name();
        let groups = match self
            .groups
            .iter()
            .position(|((m, h), _)| m.as_deref() == method && h.as_deref() == host)
        {
            Some(i) => &mut self.groups[i].1,
            None => {
                self.groups.push((
                    (method.map(str::to_owned), host.map(str::to_owned)),
                    HashMap::new(),
                ));
                // Just pushed, so the list is not empty.
                let Some(last) = self.groups.last_mut() else {
                    return;
                };
                &mut last.1
            }
        };
        let g = match groups.get_mut(group) {
            Some(g) => g,
            None => groups.entry(group.into()).or_default(),
        };
        g.count += 1;
        if let Some(s) = r.status {
            g.client += u64::from(is_client_error(s));
            g.server += u64::from(is_server_error(s));
        }
        g.target_server += u64::from(r.target_status.is_some_and(is_server_error));
        g.lb_only += u64::from(lb_only);
        if let Some(l) = latency {
            g.latencies.push(l);
        }
    }

    /// The bucket for `key`, created on first use.
    fn bucket(&mut self, key: i64) -> &mut BucketAcc {
        let i = match self.last_bucket {
            Some((k, i)) if k == key => i,
            _ => {
                let next = self.buckets.len();
                let i = *self.bucket_index.entry(key).or_insert(next);
                if i == next {
                    self.buckets.push((key, BucketAcc::default()));
                }
                self.last_bucket = Some((key, i));
                i
            }
        };
        // Indexes come from `bucket_index`, which only holds positions already pushed.
        &mut self.buckets[i].1
    }

    /// Adds everything another accumulator has seen. Both should have been built with the same
    /// options; the bucket width, offset and grouper of `self` are kept.
    pub fn merge(&mut self, other: StatsAccumulator<'_>) {
        self.count += other.count;
        self.first = match (self.first, other.first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last = match (self.last, other.last) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.lb.merge(&other.lb);
        self.target.merge(&other.target);
        self.lb_only += other.lb_only;
        for (k, b) in other.buckets {
            self.bucket(k).merge(b);
        }
        for (method, groups) in other.groups {
            let i = match self.groups.iter().position(|(m, _)| *m == method) {
                Some(i) => i,
                None => {
                    self.groups.push((method, HashMap::new()));
                    self.groups.len() - 1
                }
            };
            for (name, g) in groups {
                self.groups[i].1.entry(name).or_default().merge(g);
            }
        }
        self.ungrouped += other.ungrouped;
    }

    /// The statistics of everything pushed.
    pub fn finish(self) -> Stats {
        let span_us = match (self.first, self.last) {
            (Some(f), Some(l)) => l.saturating_sub(f),
            _ => 0,
        };
        let span_seconds = span_us as f64 / 1e6;
        let per_second = if self.count == 0 {
            0.0
        } else {
            self.count as f64 / span_seconds.max(1.0)
        };

        let (bucket_us, buckets, mut all_latencies) = finish_buckets(
            self.buckets.into_iter().collect(),
            self.bucket_us,
            self.offset_us,
        );
        let latency = latency_summary(&mut all_latencies);

        let mut groups: Vec<(MethodHost, Box<str>, GroupAcc)> = self
            .groups
            .into_iter()
            .flat_map(|(m, gs)| gs.into_iter().map(move |(g, acc)| (m.clone(), g, acc)))
            .collect();
        let group_count = groups.len() as u64;
        groups.sort_unstable_by(|a, b| {
            busiest_first((a.2.count, &a.0, &a.1), (b.2.count, &b.0, &b.1))
        });
        let rest = groups.split_off(self.top_groups.min(groups.len()));
        let other_groups = self.ungrouped + rest.iter().map(|g| g.2.count).sum::<u64>();
        let groups = groups
            .into_iter()
            .map(|((method, host), group, mut g)| GroupStats {
                method,
                host,
                group: group.into(),
                count: g.count,
                client_errors: g.client,
                server_errors: g.server,
                target_server_errors: g.target_server,
                lb_only_server_errors: g.lb_only,
                latency: latency_summary(&mut g.latencies),
            })
            .collect();

        Stats {
            count: self.count,
            first: self.first,
            last: self.last,
            span_seconds,
            per_second,
            lb: self.lb.finish(),
            target: self.target.finish(),
            lb_only_server_errors: self.lb_only,
            latency,
            bucket_seconds: bucket_us / 1_000_000,
            buckets,
            groups,
            group_count,
            other_groups,
        }
    }
}

/// Dense buckets from the first to the last, widened to at most [`MAX_BUCKETS`]; also returns
/// the width used (µs) and every latency (for the overall summary, so it is stored once).
fn finish_buckets(
    map: HashMap<i64, BucketAcc>,
    width_us: i64,
    offset_us: i64,
) -> (i64, Vec<Bucket>, Vec<f64>) {
    let (Some(&min), Some(&max)) = (map.keys().min(), map.keys().max()) else {
        return (width_us, Vec::new(), Vec::new());
    };
    let n = i128::from(max) - i128::from(min) + 1;
    // Widen by a whole factor so new buckets still start on multiples of the width.
    let factor = (n + MAX_BUCKETS as i128 - 1) / MAX_BUCKETS as i128;
    let factor = i64::try_from(factor.max(1)).unwrap_or(i64::MAX);
    let (mut map, width_us) = if factor > 1 {
        let mut wide: HashMap<i64, BucketAcc> = HashMap::new();
        for (k, b) in map {
            wide.entry(k.div_euclid(factor)).or_default().merge(b);
        }
        (wide, width_us.saturating_mul(factor))
    } else {
        (map, width_us)
    };
    let (min, max) = (min.div_euclid(factor), max.div_euclid(factor));

    let mut all = Vec::with_capacity(map.values().map(|b| b.latencies.len()).sum());
    let mut out = Vec::with_capacity(usize::try_from(max - min + 1).unwrap_or(0));
    for key in min..=max {
        let start = key.saturating_mul(width_us).saturating_sub(offset_us);
        let Some(mut b) = map.remove(&key) else {
            out.push(Bucket {
                start,
                count: 0,
                success: 0,
                client_errors: 0,
                server_errors: 0,
                p50: None,
                p95: None,
                max: None,
            });
            continue;
        };
        let [p50, p95, max] = match percentiles(&mut b.latencies, [50, 95, 100]) {
            Some([a, b, c]) => [Some(a), Some(b), Some(c)],
            None => [None; 3],
        };
        out.push(Bucket {
            start,
            count: b.count,
            success: b.success,
            client_errors: b.client,
            server_errors: b.server,
            p50,
            p95,
            max,
        });
        all.extend_from_slice(&b.latencies);
    }
    (width_us, out, all)
}

/// The nearest-rank `ps`-th percentiles (ascending, at most 100) of `values`: the
/// ⌈p·n/100⌉-th smallest value each. Found by selection rather than a full sort (a few linear
/// passes instead of n·log n); `values` is left reordered. `None` when empty.
fn percentiles<const N: usize>(values: &mut [f64], ps: [usize; N]) -> Option<[f64; N]> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mut out = [0.0; N];
    // values[..done] are all ≤ the value selected last, at index done - 1.
    let mut done = 0;
    let mut last = f64::NAN;
    for (o, p) in out.iter_mut().zip(ps) {
        let k = p.min(100).saturating_mul(n).div_ceil(100).clamp(1, n) - 1;
        if k + 1 > done {
            let rest = values.get_mut(done..)?;
            let (_, v, _) = rest.select_nth_unstable_by(k - done, f64::total_cmp);
            last = *v;
            done = k + 1;
        }
        *o = last;
    }
    Some(out)
}

/// Summarises `values` (reordering them); `None` when empty.
///
/// The mean is summed in whole nanoseconds, so it does not depend on the order values came in.
fn latency_summary(values: &mut [f64]) -> Option<Latency> {
    let [median, p90, p95, p99, max] = percentiles(values, [50, 90, 95, 99, 100])?;
    let ns = values
        .iter()
        .map(|v| (v * 1e9).round() as i128)
        .fold(0i128, i128::saturating_add);
    Some(Latency {
        count: values.len() as u64,
        mean: ns as f64 / values.len() as f64 / 1e9,
        median,
        p90,
        p95,
        p99,
        max,
    })
}

/// One row of a breakdown: a name and how many requests had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    /// The status code, browser, OS, device or referrer host (empty: no referrer).
    pub key: String,
    /// Requests with it.
    pub count: u64,
}

/// What GoAccess users expect beside the totals: requests by status code, browser, OS, device
/// and referrer host, and the number of unique visitors (distinct client address and
/// User-Agent pairs, as GoAccess counts them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breakdowns {
    /// Distinct (client IP, User-Agent) pairs.
    pub unique_visitors: u64,
    /// By load-balancer status code, most first.
    pub status: Vec<Share>,
    /// By browser (or crawler, tool) name, most first.
    pub browser: Vec<Share>,
    /// By operating system, most first.
    pub os: Vec<Share>,
    /// By kind of device (`desktop`, `phone`, `tablet`, `bot`, `other`), most first.
    pub device: Vec<Share>,
    /// By the referrer's host, most first; `""` for requests without a referrer.
    pub referrer: Vec<Share>,
}

/// [`Breakdowns`] one record at a time; mergeable like [`StatsAccumulator`]. User agents are
/// counted as strings and summarised once each in [`finish`](BreakdownAccumulator::finish).
#[derive(Debug, Clone, Default)]
pub struct BreakdownAccumulator {
    status: HashMap<u16, u64>,
    user_agents: HashMap<String, u64>,
    referrers: HashMap<String, u64>,
    visitors: std::collections::HashSet<u64>,
}

/// The host of a referrer URL, lower case; `""` for none (`-` or empty).
fn referrer_host(referrer: Option<&str>) -> String {
    let r = referrer.unwrap_or("").trim();
    if r.is_empty() || r == "-" {
        return String::new();
    }
    let rest = r.split_once("://").map_or(r, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    host.to_ascii_lowercase()
}

fn top_shares(map: HashMap<String, u64>, top: usize) -> Vec<Share> {
    let mut out: Vec<Share> = map
        .into_iter()
        .map(|(key, count)| Share { key, count })
        .collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    out.truncate(top);
    out
}

impl BreakdownAccumulator {
    /// An empty accumulator.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one request.
    pub fn push(&mut self, r: &RequestRecord) {
        if let Some(s) = r.status {
            *self.status.entry(s).or_default() += 1;
        }
        let ua = r.user_agent.as_deref().unwrap_or("");
        match self.user_agents.get_mut(ua) {
            Some(n) => *n += 1,
            None => {
                self.user_agents.insert(ua.to_owned(), 1);
            }
        }
        *self
            .referrers
            .entry(referrer_host(r.referrer.as_deref()))
            .or_default() += 1;
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        r.client_ip.hash(&mut h);
        ua.hash(&mut h);
        self.visitors.insert(h.finish());
    }

    /// Adds `n` requests answered with `status` (counted elsewhere, e.g. by Logs Insights).
    pub fn add_status(&mut self, status: u16, n: u64) {
        *self.status.entry(status).or_default() += n;
    }

    /// Adds `n` requests with User-Agent `ua` (`""`: none), counted elsewhere.
    pub fn add_user_agent(&mut self, ua: &str, n: u64) {
        *self.user_agents.entry(ua.to_owned()).or_default() += n;
    }

    /// Adds `n` requests with Referer `referrer`, counted elsewhere; its host is taken as
    /// [`BreakdownAccumulator::push`] takes it.
    pub fn add_referrer(&mut self, referrer: Option<&str>, n: u64) {
        *self.referrers.entry(referrer_host(referrer)).or_default() += n;
    }

    /// Adds everything another accumulator has seen.
    pub fn merge(&mut self, other: BreakdownAccumulator) {
        for (k, n) in other.status {
            *self.status.entry(k).or_default() += n;
        }
        for (k, n) in other.user_agents {
            *self.user_agents.entry(k).or_default() += n;
        }
        for (k, n) in other.referrers {
            *self.referrers.entry(k).or_default() += n;
        }
        self.visitors.extend(other.visitors);
    }

    /// The breakdowns, each cut to its `top` largest rows.
    pub fn finish(self, top: usize) -> Breakdowns {
        let mut browser: HashMap<String, u64> = HashMap::new();
        let mut os: HashMap<String, u64> = HashMap::new();
        let mut device: HashMap<String, u64> = HashMap::new();
        for (ua, n) in &self.user_agents {
            let s = crate::useragent::summarize(ua);
            let unknown = || "unknown".to_owned();
            *browser
                .entry(s.browser.unwrap_or_else(unknown))
                .or_default() += n;
            *os.entry(s.os.unwrap_or_else(unknown)).or_default() += n;
            let d = serde_json::to_value(s.device)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(unknown);
            *device.entry(d).or_default() += n;
        }
        let status = self
            .status
            .into_iter()
            .map(|(k, n)| (k.to_string(), n))
            .collect();
        Breakdowns {
            unique_visitors: self.visitors.len() as u64,
            status: top_shares(status, top),
            browser: top_shares(browser, top),
            os: top_shares(os, top),
            device: top_shares(device, top),
            referrer: top_shares(self.referrers, top),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_on_known_arrays() {
        // Shuffled on purpose: selection must not rely on sorted input.
        let ten = [7.0, 3.0, 10.0, 1.0, 9.0, 2.0, 8.0, 5.0, 4.0, 6.0];
        let hundred: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        type Case<'a> = (&'a str, &'a [f64], [usize; 3], Option<[f64; 3]>);
        let cases: [Case<'_>; 8] = [
            ("empty", &[], [50, 95, 100], None),
            ("single", &[7.0], [0, 99, 100], Some([7.0; 3])),
            (
                "even_count_median_is_lower_middle",
                &[4.0, 1.0, 3.0, 2.0],
                [50, 50, 100],
                Some([2.0, 2.0, 4.0]),
            ),
            (
                "odd_count_median_is_middle",
                &[3.0, 1.0, 2.0],
                [50, 90, 100],
                Some([2.0, 3.0, 3.0]),
            ),
            (
                "p90_p95_p99_of_ten_round_rank_up",
                &ten,
                [90, 95, 99],
                Some([9.0, 10.0, 10.0]),
            ),
            (
                "p0_and_p10_of_ten",
                &ten,
                [0, 10, 11],
                Some([1.0, 1.0, 2.0]),
            ),
            ("hundred", &hundred, [50, 95, 99], Some([50.0, 95.0, 99.0])),
            (
                "ties",
                &[1.0, 1.0, 1.0, 5.0],
                [50, 75, 76],
                Some([1.0, 1.0, 5.0]),
            ),
        ];
        for (name, values, ps, want) in cases {
            let mut v = values.to_vec();
            assert_eq!(percentiles(&mut v, ps), want, "case {name}");
        }
    }

    #[test]
    fn mean_does_not_depend_on_order() {
        let mut a = [0.1, 0.2, 0.3, 1e-7, 12.5];
        let mut b = [12.5, 1e-7, 0.3, 0.2, 0.1];
        let (a, b) = (latency_summary(&mut a), latency_summary(&mut b));
        assert_eq!(a, b);
        assert_eq!(a.map(|l| l.mean), Some(13_100_000_100.0 / 5.0 / 1e9));
    }

    #[test]
    fn widened_buckets_stay_aligned_and_bounded() {
        let records: Vec<RequestRecord> = [0i64, 86_400 * 365 * 1_000_000]
            .into_iter()
            .map(|t| RequestRecord {
                t,
                status: Some(200),
                ..Default::default()
            })
            .collect();
        let stats = compute(
            &records,
            &StatsOptions {
                bucket_seconds: 60,
                ..Default::default()
            },
        );
        assert!(stats.buckets.len() <= MAX_BUCKETS);
        assert_eq!(stats.bucket_seconds % 60, 0);
        assert_eq!(stats.buckets.iter().map(|b| b.count).sum::<u64>(), 2);
        assert!(
            stats
                .buckets
                .iter()
                .all(|b| b.start % (stats.bucket_seconds * 1_000_000) == 0)
        );
    }

    #[test]
    fn breakdowns_count_statuses_browsers_referrers_and_visitors() {
        let rec = |ip: &str, status: u16, ua: &str, referrer: Option<&str>| {
            let mut r: RequestRecord = serde_json::from_value(serde_json::json!({"v": 1, "t": 0}))
                .unwrap_or_else(|e| panic!("test record: {e}"));
            r.client_ip = Some(ip.to_owned());
            r.status = Some(status);
            r.user_agent = Some(ua.to_owned());
            r.referrer = referrer.map(str::to_owned);
            r
        };
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
        let bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        let mut a = BreakdownAccumulator::new();
        a.push(&rec(
            "192.0.2.1",
            200,
            chrome,
            Some("https://www.Google.com/search?q=x"),
        ));
        a.push(&rec("192.0.2.1", 200, chrome, Some("-")));
        let mut b = BreakdownAccumulator::new();
        b.push(&rec("192.0.2.2", 404, bot, None));
        b.push(&rec(
            "192.0.2.1",
            500,
            chrome,
            Some("https://shop.example.jp/cart"),
        ));
        a.merge(b);
        let d = a.finish(10);
        assert_eq!(d.unique_visitors, 2);
        assert_eq!(
            d.status[0],
            Share {
                key: "200".into(),
                count: 2
            }
        );
        assert_eq!(
            d.browser[0],
            Share {
                key: "Chrome".into(),
                count: 3
            }
        );
        assert!(
            d.device.iter().any(|s| s.key == "bot" && s.count == 1),
            "{:?}",
            d.device
        );
        assert_eq!(
            d.referrer[0],
            Share {
                key: String::new(),
                count: 2
            }
        );
        assert!(d.referrer.iter().any(|s| s.key == "www.google.com"));
        assert_eq!(
            referrer_host(Some("android-app://com.google.android.gm/")),
            "com.google.android.gm"
        );
    }
}
