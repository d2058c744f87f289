//! The URL groups of `/v1/stats` from Logs Insights' rows per method and URL
//! ([`crate::insights::groups_query`]): each row's URL is grouped here with the local engine's
//! own [`UrlGrouper`] and host rule, so both engines name and order groups alike.
//!
//! Counts and error counts add up exactly, and so do a group's mean and maximum. Its
//! percentiles are Insights' own for a group of one URL; for a group merged from several URLs
//! (`/item/{id}` of `/item/1`, `/item/2`, …) they are estimated from each URL's summary
//! ([`merged_quantile`]) and the group says `"approximate": true`. A result cut at the 10,000
//! rows a query returns may miss the rarest URLs: the answer then lists `groups` in
//! `breakdowns.approximate`. `other_groups` is exact either way: every request of the range
//! not in a listed group.

use std::collections::HashMap;

use logdesk_core::record::to_microsecond;
use logdesk_core::stats::{GroupStats, Latency, MethodHost, busiest_first};
use logdesk_core::urlgroup::{UrlGrouper, host_of, path_of};

use crate::insights::{PathLatency, PathRow};

/// The groups part of the stats JSON.
#[derive(Default)]
pub(super) struct Groups {
    /// The top groups, busiest first, each with `approximate` when its percentiles are merged.
    pub(super) groups: Vec<serde_json::Value>,
    /// Distinct method, host and group triples seen.
    pub(super) group_count: u64,
    /// Requests not in a listed group (no URL, beyond `top`, or in rows Insights left out).
    pub(super) other_groups: u64,
}

/// What one group adds up from its rows.
#[derive(Default)]
struct Acc {
    count: u64,
    client: u64,
    server: u64,
    target_server: u64,
    lb_only: u64,
    latencies: Vec<PathLatency>,
}

/// The `top` busiest groups of `rows` under `grouper`, out of `total` requests in the range.
pub(super) fn from_rows(rows: &[PathRow], total: u64, grouper: &UrlGrouper, top: usize) -> Groups {
    let mut by: HashMap<(MethodHost, String), Acc> = HashMap::new();
    let mut buf = String::new();
    for r in rows {
        let Some(url) = r.url.as_deref() else {
            continue;
        };
        let host = host_of(url).map(str::to_owned);
        let group = grouper.group_into(path_of(url), &mut buf).to_owned();
        let g = by.entry(((r.method.clone(), host), group)).or_default();
        g.count += r.count;
        g.client += r.client_errors;
        g.server += r.server_errors;
        g.target_server += r.target_server_errors;
        g.lb_only += r.lb_only_server_errors;
        g.latencies.extend(r.latency);
    }
    let mut all: Vec<((MethodHost, String), Acc)> = by.into_iter().collect();
    all.sort_unstable_by(|(a, x), (b, y)| {
        busiest_first((x.count, &a.0, &a.1), (y.count, &b.0, &b.1))
    });
    let group_count = all.len() as u64;
    all.truncate(top);
    let listed: u64 = all.iter().map(|(_, g)| g.count).sum();
    let groups = all
        .into_iter()
        .map(|(((method, host), group), g)| {
            let latency = merged_latency(&g.latencies);
            let approximate = latency.as_ref().is_some_and(|(_, merged)| *merged);
            let stats = GroupStats {
                method,
                host,
                group,
                count: g.count,
                client_errors: g.client,
                server_errors: g.server,
                target_server_errors: g.target_server,
                lb_only_server_errors: g.lb_only,
                latency: latency.map(|(l, _)| l),
            };
            let mut v = serde_json::to_value(stats).unwrap_or_default();
            if approximate {
                v["approximate"] = true.into();
            }
            v
        })
        .collect();
    Groups {
        groups,
        group_count,
        other_groups: total.saturating_sub(listed),
    }
}

/// The latency of a group from its URLs' summaries, and whether its percentiles are estimated
/// (more than one URL had latencies). `None` when none had.
fn merged_latency(parts: &[PathLatency]) -> Option<(Latency, bool)> {
    // The median, 90th, 95th and 99th percentiles and the maximum.
    let summary = |count, mean, [median, p90, p95, p99, max]: [f64; 5]| Latency {
        count,
        mean,
        median,
        p90,
        p95,
        p99,
        max,
    };
    match parts {
        [] => None,
        [one] => {
            let [_, median, p90, p95, p99, max] = one.knots;
            Some((
                summary(one.count, one.mean, [median, p90, p95, p99, max]),
                false,
            ))
        }
        _ => {
            let n: u64 = parts.iter().map(|p| p.count).sum();
            let weighted: f64 = parts.iter().map(|p| p.mean * p.count as f64).sum();
            let q = |level| to_microsecond(merged_quantile(parts, level));
            let max = parts.iter().map(|p| p.knots[5]).fold(f64::MIN, f64::max);
            let values = [q(0.5), q(0.9), q(0.95), q(0.99), max];
            Some((summary(n, weighted / n.max(1) as f64, values), true))
        }
    }
}

/// The share of requests at or below each knot of a [`PathLatency`].
const LEVELS: [f64; 6] = [0.0, 0.5, 0.9, 0.95, 0.99, 1.0];

/// The share of one URL's requests with a latency at or below `x`, reading its summary as a
/// distribution that rises linearly from knot to knot (`knots` non-decreasing).
fn share_at_or_below(knots: &[f64; 6], x: f64) -> f64 {
    if x >= knots[5] {
        return 1.0;
    }
    if x < knots[0] {
        return 0.0;
    }
    // knots[0] <= x < knots[5], so some knot j < 5 is at or below x and knots[j + 1] > x.
    let j = knots.iter().rposition(|k| *k <= x).unwrap_or(0).min(4);
    let (k0, k1) = (knots[j], knots[j + 1]);
    if k1 <= k0 {
        return LEVELS[j + 1];
    }
    LEVELS[j] + (LEVELS[j + 1] - LEVELS[j]) * (x - k0) / (k1 - k0)
}

/// The estimated `level` quantile (0.5 for the median) of the requests of several URLs, from
/// each URL's count and summary: the smallest latency at or below which `level` of all their
/// requests fall, each URL's requests spread as [`share_at_or_below`] reads its summary. Exact
/// where the URLs do not overlap (a fast page and a slow one), close where they do.
fn merged_quantile(parts: &[PathLatency], level: f64) -> f64 {
    let monotone = |k: [f64; 6]| {
        let mut k = k;
        for i in 1..k.len() {
            k[i] = k[i].max(k[i - 1]);
        }
        k
    };
    let parts: Vec<(f64, [f64; 6])> = parts
        .iter()
        .map(|p| (p.count as f64, monotone(p.knots)))
        .collect();
    let total: f64 = parts.iter().map(|(n, _)| n).sum();
    let target = level * total;
    let below = |x: f64| -> f64 { parts.iter().map(|(n, k)| n * share_at_or_below(k, x)).sum() };
    let mut lo = parts.iter().map(|(_, k)| k[0]).fold(f64::MAX, f64::min);
    let mut hi = parts.iter().map(|(_, k)| k[5]).fold(f64::MIN, f64::max);
    if below(lo) >= target - 1e-9 * total {
        return lo;
    }
    for _ in 0..100 {
        let mid = lo + (hi - lo) / 2.0;
        if mid <= lo || mid >= hi {
            break;
        }
        if below(mid) >= target - 1e-9 * total {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lat(count: u64, mean: f64, knots: [f64; 6]) -> PathLatency {
        PathLatency { count, mean, knots }
    }

    fn path(
        method: &str,
        url: &str,
        count: u64,
        server: u64,
        latency: Option<PathLatency>,
    ) -> PathRow {
        PathRow {
            method: Some(method.to_owned()),
            url: Some(url.to_owned()),
            count,
            client_errors: 0,
            server_errors: server,
            target_server_errors: server,
            lb_only_server_errors: 0,
            latency,
        }
    }

    #[test]
    fn fast_and_slow_urls_merge_to_the_true_percentiles() {
        // 90 requests at 0.1 s and 10 at 1 s: the true median is 0.1 s, the p95 1 s.
        let fast = lat(90, 0.1, [0.1; 6]);
        let slow = lat(10, 1.0, [1.0; 6]);
        assert_eq!(merged_quantile(&[fast, slow], 0.5), 0.1);
        assert_eq!(to_microsecond(merged_quantile(&[fast, slow], 0.95)), 1.0);
        let (l, merged) = merged_latency(&[fast, slow]).unwrap();
        assert!(merged);
        assert_eq!((l.count, l.median, l.p95, l.max), (100, 0.1, 1.0, 1.0));
        assert!((l.mean - 0.19).abs() < 1e-12, "{}", l.mean);
    }

    #[test]
    fn one_url_keeps_its_own_summary() {
        let one = lat(4, 0.2, [0.1, 0.2, 0.3, 0.35, 0.39, 0.4]);
        let (l, merged) = merged_latency(&[one]).unwrap();
        assert!(!merged);
        assert_eq!((l.median, l.p90, l.p99, l.max), (0.2, 0.3, 0.39, 0.4));
        assert_eq!(merged_latency(&[]), None);
    }

    #[test]
    fn identical_urls_merge_to_their_common_percentiles() {
        let k = [0.01, 0.05, 0.2, 0.3, 0.8, 1.5];
        let parts = [lat(50, 0.1, k), lat(150, 0.1, k)];
        for (level, want) in [(0.5, 0.05), (0.9, 0.2), (0.95, 0.3), (0.99, 0.8)] {
            let got = to_microsecond(merged_quantile(&parts, level));
            assert!((got - want).abs() <= 1e-6, "{level}: {got} vs {want}");
        }
    }

    #[test]
    fn unordered_or_odd_summaries_never_panic_and_stay_in_range() {
        let odd = [
            lat(1, 0.0, [0.0; 6]),
            lat(3, 2.0, [5.0, 1.0, 3.0, 2.0, 9.0, 4.0]),
            lat(0, 0.0, [0.5; 6]),
        ];
        for level in [0.0, 0.5, 0.99, 1.0] {
            let q = merged_quantile(&odd, level);
            assert!((0.0..=9.0).contains(&q), "{level}: {q}");
        }
    }

    proptest::proptest! {
        /// Each URL's knot at a level is the exact quantile of its requests, so the estimate
        /// lies between the URLs' own quantiles at that level, as the true merged one does.
        #[test]
        fn estimates_lie_between_the_urls_own_quantiles(
            parts in proptest::collection::vec(
                (1u64..1000, proptest::collection::vec(0.0f64..30.0, 6)),
                2..8,
            )
        ) {
            let parts: Vec<PathLatency> = parts
                .into_iter()
                .map(|(n, mut k)| {
                    k.sort_by(f64::total_cmp);
                    lat(n, k[1], [k[0], k[1], k[2], k[3], k[4], k[5]])
                })
                .collect();
            for (i, level) in [(1, 0.5), (2, 0.9), (3, 0.95), (4, 0.99)] {
                let q = merged_quantile(&parts, level);
                let lo = parts.iter().map(|p| p.knots[i]).fold(f64::MAX, f64::min);
                let hi = parts.iter().map(|p| p.knots[i]).fold(f64::MIN, f64::max);
                proptest::prop_assert!(q >= lo - 1e-9 && q <= hi + 1e-9, "{level}: {q} not in {lo}..{hi}");
            }
        }
    }

    #[test]
    fn urls_are_grouped_by_method_host_and_pattern_busiest_first() {
        let grouper = UrlGrouper::new(&[]).unwrap();
        let rows = [
            path(
                "GET",
                "https://shop.example:443/item/1",
                3,
                1,
                Some(lat(3, 0.1, [0.1; 6])),
            ),
            path(
                "GET",
                "https://shop.example:443/item/2",
                2,
                0,
                Some(lat(2, 0.3, [0.3; 6])),
            ),
            path(
                "GET",
                "https://blog.example:443/",
                4,
                0,
                Some(lat(4, 0.05, [0.05; 6])),
            ),
            path("POST", "/login", 1, 0, None),
            PathRow {
                method: None,
                url: None,
                ..path("-", "-", 2, 0, None)
            },
        ];
        let g = from_rows(&rows, 15, &grouper, 2);
        assert_eq!(g.group_count, 3);
        // 15 requests: 5 + 4 listed, 1 beyond the top 2, 2 without a URL, 3 not in any row.
        assert_eq!(g.other_groups, 6);
        let item = &g.groups[0];
        assert_eq!(item["host"], "shop.example");
        assert_eq!(item["count"], 5);
        assert_eq!(item["server_errors"], 1);
        assert_eq!(item["approximate"], true);
        assert_eq!(item["latency"]["max"], 0.3);
        assert_eq!(g.groups[1]["group"], "/");
        assert_eq!(g.groups[1]["host"], "blog.example");
        assert!(g.groups[1].get("approximate").is_none());
    }
}
