//! Stats and visits on small hand-made record sets with exact expected values, plus properties
//! on arbitrary records.

use std::borrow::Cow;

use logdesk_core::record::{Record, RequestRecord};
use logdesk_core::stats::{
    self, Bucket, GroupStats, Latency, Stats, StatsAccumulator, StatsOptions, StatusCounts,
};
use logdesk_core::urlgroup::{UrlGrouper, path_of};
use logdesk_core::useragent::{UaSummary, summarize};
use logdesk_core::visits::{PageView, Visit, VisitOptions, build_visits, is_static_asset};
use proptest::prelude::*;

fn load(text: &str) -> Vec<RequestRecord> {
    text.lines()
        .map(|l| match Record::from_json(l) {
            Ok(r) => r.as_request().cloned().unwrap_or_default(),
            Err(e) => panic!("fixture line {l}: {e}"),
        })
        .collect()
}

const STATS_T0: i64 = 1_714_521_600_000_000; // 2024-05-01T00:00:00Z
const VISITS_T0: i64 = 1_714_554_000_000_000; // 2024-05-01T09:00:00Z

fn latency(values: &[f64]) -> Latency {
    // The implementation sums whole nanoseconds.
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = |p: usize| sorted[(p * sorted.len()).div_ceil(100).max(1) - 1];
    Latency {
        count: sorted.len() as u64,
        mean: sorted
            .iter()
            .map(|v| (v * 1e9).round() as i128)
            .sum::<i128>() as f64
            / sorted.len() as f64
            / 1e9,
        median: rank(50),
        p90: rank(90),
        p95: rank(95),
        p99: rank(99),
        max: sorted[sorted.len() - 1],
    }
}

#[test]
fn stats_on_hand_made_alb_records() {
    let records = load(include_str!("data/analysis/stats-requests.jsonl"));
    let grouper = UrlGrouper::new(&["^/api/"]).unwrap();
    let opts = StatsOptions {
        bucket_seconds: 300,
        utc_offset_seconds: 0,
        url_groups: Some(&grouper),
        top_groups: 3,
    };
    let got = stats::compute(&records, &opts);

    let want = Stats {
        count: 13,
        first: Some(STATS_T0),
        last: Some(STATS_T0 + 710_000_000),
        span_seconds: 710.0,
        per_second: 13.0 / 710.0,
        // 404, 401 and the ALB-only 460; 500 from the target, 502 and 503 from the ALB alone.
        lb: StatusCounts {
            known: 13,
            client_errors: 3,
            server_errors: 3,
            client_error_rate: Some(3.0 / 13.0),
            server_error_rate: Some(3.0 / 13.0),
        },
        target: StatusCounts {
            known: 10,
            client_errors: 2,
            server_errors: 1,
            client_error_rate: Some(0.2),
            server_error_rate: Some(0.1),
        },
        lb_only_server_errors: 2,
        latency: Some(Latency {
            count: 10,
            mean: 0.55,
            median: 0.5,
            p90: 0.9,
            p95: 1.0,
            p99: 1.0,
            max: 1.0,
        }),
        bucket_seconds: 300,
        buckets: vec![
            Bucket {
                start: STATS_T0,
                count: 7,
                success: 4,
                client_errors: 1,
                server_errors: 2,
                p50: Some(0.3),
                p95: Some(0.6),
                max: Some(0.6),
            },
            Bucket {
                start: STATS_T0 + 300_000_000,
                count: 2,
                success: 1,
                client_errors: 0,
                server_errors: 1,
                p50: Some(0.7),
                p95: Some(0.7),
                max: Some(0.7),
            },
            Bucket {
                start: STATS_T0 + 600_000_000,
                count: 4,
                success: 2,
                client_errors: 2,
                server_errors: 0,
                p50: Some(0.9),
                p95: Some(1.0),
                max: Some(1.0),
            },
        ],
        groups: vec![
            GroupStats {
                method: Some("GET".into()),
                host: Some("www.example.com".into()),
                group: "/users/*".into(),
                count: 7,
                client_errors: 1,
                server_errors: 3,
                target_server_errors: 1,
                lb_only_server_errors: 2,
                latency: Some(latency(&[0.1, 0.2, 0.3, 0.6, 0.9])),
            },
            GroupStats {
                method: Some("POST".into()),
                host: Some("www.example.com".into()),
                group: "/login".into(),
                count: 2,
                client_errors: 0,
                server_errors: 0,
                target_server_errors: 0,
                lb_only_server_errors: 0,
                latency: Some(latency(&[0.4, 1.0])),
            },
            GroupStats {
                method: Some("GET".into()),
                host: Some("www.example.com".into()),
                group: "/missing".into(),
                count: 1,
                client_errors: 1,
                server_errors: 0,
                target_server_errors: 0,
                lb_only_server_errors: 0,
                latency: Some(latency(&[0.5])),
            },
        ],
        group_count: 6,
        other_groups: 3,
    };
    assert_eq!(got, want);
    // The pinned group latency values, so the helper above is not the only witness.
    assert_eq!(
        want.groups[0]
            .latency
            .as_ref()
            .map(|l| (l.median, l.p90, l.max)),
        Some((0.3, 0.9, 0.9))
    );

    // All groups listed: the ones cut above are the 1-request groups in name order, the
    // user pattern's text naming its group.
    let all = stats::compute(
        &records,
        &StatsOptions {
            top_groups: 100,
            ..opts
        },
    );
    let names: Vec<(&str, &str)> = all
        .groups
        .iter()
        .map(|g| (g.method.as_deref().unwrap_or("-"), g.group.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("GET", "/users/*"),
            ("POST", "/login"),
            ("GET", "/missing"),
            ("GET", "/search"),
            ("GET", "/slow"),
            ("GET", "^/api/"),
        ]
    );
    assert_eq!(all.other_groups, 0);
    assert_eq!(all.groups[4].latency, None);
}

#[test]
fn stats_accumulator_pages_and_merge_match_compute() {
    let records = load(include_str!("data/analysis/stats-requests.jsonl"));
    let grouper = UrlGrouper::default();
    let opts = StatsOptions {
        url_groups: Some(&grouper),
        ..Default::default()
    };
    let whole = stats::compute(&records, &opts);

    let (a, b) = records.split_at(5);
    let mut first = StatsAccumulator::new(&opts);
    a.iter().for_each(|r| first.push(r));
    let mut second = StatsAccumulator::new(&opts);
    b.iter().for_each(|r| second.push(r));
    first.merge(second);
    let merged = first.finish();
    assert_eq!(merged, whole);
}

#[test]
fn stats_of_nothing() {
    let got = stats::compute(&[], &StatsOptions::default());
    assert_eq!(
        got,
        Stats {
            count: 0,
            first: None,
            last: None,
            span_seconds: 0.0,
            per_second: 0.0,
            lb: StatusCounts::default(),
            target: StatusCounts::default(),
            lb_only_server_errors: 0,
            latency: None,
            bucket_seconds: 300,
            buckets: vec![],
            groups: vec![],
            group_count: 0,
            other_groups: 0,
        }
    );
}

#[test]
fn stats_single_request_counts_a_one_second_span() {
    let r = RequestRecord {
        t: 5,
        status: Some(200),
        ..Default::default()
    };
    let got = stats::compute([&r], &StatsOptions::default());
    assert_eq!((got.span_seconds, got.per_second), (0.0, 1.0));
}

#[test]
fn stats_day_buckets_aligned_to_japan_midnight() {
    // 2024-05-01T14:59:59Z is 23:59:59 JST; one second later is the next JST day.
    let t = 1_714_575_599_000_000;
    let records: Vec<RequestRecord> = [t, t + 1_000_000]
        .into_iter()
        .map(|t| RequestRecord {
            t,
            ..Default::default()
        })
        .collect();
    let opts = StatsOptions {
        bucket_seconds: 86_400,
        utc_offset_seconds: 9 * 3600,
        ..Default::default()
    };
    let got = stats::compute(&records, &opts);
    let starts: Vec<(i64, u64)> = got.buckets.iter().map(|b| (b.start, b.count)).collect();
    // Midnight JST 2024-05-01 is 2024-04-30T15:00:00Z.
    assert_eq!(
        starts,
        [(1_714_489_200_000_000, 1), (1_714_575_600_000_000, 1)]
    );
}

fn page(
    t_seconds: f64,
    method: &str,
    path: &'static str,
    status: u16,
    dwell: Option<f64>,
) -> PageView<'static> {
    PageView {
        t: VISITS_T0 + (t_seconds * 1e6).round() as i64,
        method: Some(Cow::Borrowed(match method {
            "POST" => "POST",
            _ => "GET",
        })),
        path: Cow::Borrowed(path),
        status: Some(status),
        dwell_seconds: dwell,
    }
}

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.51";
const ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

fn visit(ip: &'static str, ua: &'static str, pages: Vec<PageView<'static>>) -> Visit<'static> {
    Visit {
        ip: Cow::Borrowed(ip),
        user_agent: Some(Cow::Borrowed(ua)),
        ua: summarize(ua),
        start: pages.first().map_or(0, |p| p.t),
        end: pages.last().map_or(0, |p| p.t),
        pages,
    }
}

#[test]
fn visits_default_unordered_input_gap_dwell_no_assets_no_bots() {
    let records = load(include_str!("data/analysis/visits-requests.jsonl"));
    let got = build_visits(&records, &VisitOptions::default());
    let want = vec![
        visit(
            "198.51.100.7",
            IPHONE,
            vec![
                page(0.0, "GET", "/", 200, Some(30.0)),
                page(30.0, "GET", "/products/12", 200, Some(65.5)),
                page(95.5, "GET", "/cart", 200, None),
            ],
        ),
        // Same IP, other browser: another visitor.
        visit(
            "198.51.100.7",
            EDGE,
            vec![
                page(10.0, "GET", "/about", 200, Some(60.0)),
                page(70.0, "GET", "/contact", 200, None),
            ],
        ),
        // Exactly 30 minutes apart: not more than the gap, so one visit.
        visit(
            "192.0.2.1",
            ANDROID,
            vec![
                page(100.0, "GET", "/a", 200, Some(1800.0)),
                page(1900.0, "GET", "/b", 200, None),
            ],
        ),
        // 40 minutes after /cart: a new visit.
        visit(
            "198.51.100.7",
            IPHONE,
            vec![
                page(2495.5, "GET", "/", 200, Some(60.0)),
                page(2555.5, "POST", "/checkout", 302, None),
            ],
        ),
    ];
    assert_eq!(got, want);
    assert_eq!(got[0].ua.label, "iPhone iOS 17 + Safari");
}

#[test]
fn visits_with_assets_and_bots() {
    let records = load(include_str!("data/analysis/visits-requests.jsonl"));
    let opts = VisitOptions {
        include_assets: true,
        include_bots: true,
        ..Default::default()
    };
    let got = build_visits(&records, &opts);
    // (start offset in seconds, UA label, [(path, dwell)]) per visit.
    type VisitSummary<'a> = (f64, &'a str, Vec<(&'a str, Option<f64>)>);
    let summary: Vec<VisitSummary<'_>> = got
        .iter()
        .map(|v| {
            (
                (v.start - VISITS_T0) as f64 / 1e6,
                v.ua.label.as_str(),
                v.pages
                    .iter()
                    .map(|p| (p.path.as_ref(), p.dwell_seconds))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                0.0,
                "iPhone iOS 17 + Safari",
                vec![
                    ("/", Some(0.5)),
                    ("/static/app.css?v=3", Some(29.5)),
                    ("/products/12", Some(65.5)),
                    ("/cart", None),
                ]
            ),
            (
                5.0,
                "Googlebot (bot)",
                vec![("/robots.txt", Some(1.0)), ("/products/12", None)]
            ),
            (
                10.0,
                "Windows 10 (or later) + Edge 114",
                vec![("/about", Some(60.0)), ("/contact", None)]
            ),
            (
                100.0,
                "Android 14 + Chrome 120",
                vec![("/a", Some(1800.0)), ("/b", None)]
            ),
            (
                2495.5,
                "iPhone iOS 17 + Safari",
                vec![
                    ("/", Some(5.0)),
                    ("/favicon.ico", Some(55.0)),
                    ("/checkout", None)
                ]
            ),
        ]
    );
    // The bot alone, without assets: robots.txt goes, the page stays.
    let bots_only = build_visits(
        &records,
        &VisitOptions {
            include_bots: true,
            ..Default::default()
        },
    );
    assert_eq!(bots_only[1].ua.label, "Googlebot (bot)");
    assert_eq!(bots_only[1].pages.len(), 1);
}

#[test]
fn visits_shorter_gap_splits_more_and_json_round_trips() {
    let records = load(include_str!("data/analysis/visits-requests.jsonl"));
    let got = build_visits(
        &records,
        &VisitOptions {
            gap_seconds: 60,
            ..Default::default()
        },
    );
    // iPhone: / +30 /products +65.5 /cart | / +60 /checkout → 2 + 1 + 1 visits (65.5 > 60);
    // Edge 60 s apart stays one; Android 1800 s apart splits in two.
    assert_eq!(got.len(), 6);
    let owned: Vec<Visit<'static>> = got.iter().cloned().map(Visit::into_owned).collect();
    let json = serde_json::to_string(&owned).unwrap();
    let back: Vec<Visit<'_>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, got);
}

// ---- properties ----

const IPS: &[&str] = &["198.51.100.1", "198.51.100.2", "2001:db8::1"];
const UAS: &[&str] = &[IPHONE, EDGE, GOOGLEBOT, "curl/8.4.0", "-", ""];
const URLS: &[&str] = &[
    "/",
    "/users/12",
    "/users/13?x=1",
    "/app.css",
    "/favicon.ico",
    "https://www.example.com:443/p/550e8400-e29b-41d4-a716-446655440000",
    "http://[2001:db8::1]:80",
    "",
];

prop_compose! {
    fn arb_record(t_range: std::ops::Range<i64>)(
        t in t_range,
        ip in proptest::option::weighted(0.9, proptest::sample::select(IPS)),
        ua in proptest::option::weighted(0.9, proptest::sample::select(UAS)),
        url in proptest::option::weighted(0.9, prop_oneof![proptest::sample::select(URLS).prop_map(str::to_owned), "\\PC{0,30}"]),
        method in proptest::option::of(prop_oneof![Just("GET".to_owned()), Just("POST".to_owned()), "\\PC{0,5}"]),
        status in proptest::option::of(0u16..1000),
        target_status in proptest::option::of(0u16..1000),
        duration in proptest::option::of(prop_oneof![0.0f64..30.0, any::<f64>()]),
        target_time in proptest::option::of(0.0f64..30.0),
    ) -> RequestRecord {
        RequestRecord {
            v: 1,
            t,
            client_ip: ip.map(str::to_owned),
            user_agent: ua.map(str::to_owned),
            url,
            method,
            status,
            target_status,
            duration,
            target_time,
            ..Default::default()
        }
    }
}

fn arb_records() -> impl Strategy<Value = Vec<RequestRecord>> {
    prop_oneof![
        // Realistic: within a few hours.
        proptest::collection::vec(arb_record(0..4 * 3_600_000_000), 0..60),
        // Anywhere in i64.
        proptest::collection::vec(arb_record(i64::MIN..i64::MAX), 0..20),
    ]
}

fn counted_in_visits(r: &RequestRecord, opts: &VisitOptions) -> bool {
    let (Some(_), Some(path)) = (r.client_ip.as_deref(), r.url.as_deref().map(path_of)) else {
        return false;
    };
    (opts.include_assets || !is_static_asset(path))
        && (opts.include_bots || !summarize(r.user_agent.as_deref().unwrap_or("")).is_bot)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn stats_counts_add_up(records in arb_records(), bucket_seconds in -5i64..4000, top in 0usize..5) {
        let grouper = UrlGrouper::new(&["^/users/"]).unwrap();
        let opts = StatsOptions { bucket_seconds, utc_offset_seconds: 9 * 3600, url_groups: Some(&grouper), top_groups: top };
        let s = stats::compute(&records, &opts);
        prop_assert_eq!(s.count, records.len() as u64);
        prop_assert_eq!(s.buckets.iter().map(|b| b.count).sum::<u64>(), s.count);
        prop_assert!(s.buckets.len() <= stats::MAX_BUCKETS + 1);
        prop_assert_eq!(s.groups.iter().map(|g| g.count).sum::<u64>() + s.other_groups, s.count);
        prop_assert!(s.groups.len() <= top);
        prop_assert!(s.lb.client_errors + s.lb.server_errors <= s.lb.known);
        for b in &s.buckets {
            prop_assert!(b.success + b.client_errors + b.server_errors <= b.count);
        }
        if let Some(l) = &s.latency {
            prop_assert!(l.median <= l.p90 && l.p90 <= l.p95 && l.p95 <= l.p99 && l.p99 <= l.max);
        }
    }

    #[test]
    fn visits_count_every_kept_request_once(
        records in arb_records(),
        gap_seconds in -10i64..4000,
        include_assets in any::<bool>(),
        include_bots in any::<bool>(),
    ) {
        let opts = VisitOptions { gap_seconds, include_assets, include_bots };
        let visits = build_visits(&records, &opts);
        let kept = records.iter().filter(|r| counted_in_visits(r, &opts)).count();
        prop_assert_eq!(visits.iter().map(|v| v.pages.len()).sum::<usize>(), kept);
        for v in &visits {
            prop_assert!(!v.pages.is_empty());
            prop_assert_eq!(v.start, v.pages[0].t);
            prop_assert_eq!(v.end, v.pages[v.pages.len() - 1].t);
            prop_assert!(v.pages.windows(2).all(|w| w[0].t <= w[1].t && w[0].dwell_seconds.is_some()));
            prop_assert_eq!(v.pages[v.pages.len() - 1].dwell_seconds, None);
        }
        prop_assert!(visits.windows(2).all(|w| w[0].start <= w[1].start));

        // Input order does not matter.
        let reversed: Vec<&RequestRecord> = records.iter().rev().collect();
        prop_assert_eq!(build_visits(reversed, &opts), visits);
    }
}

#[test]
fn ua_summary_is_what_visits_carry() {
    // A visit's summary is the plain summarize() of its string (the cache changes nothing).
    let r = RequestRecord {
        t: 1,
        client_ip: Some("192.0.2.9".into()),
        user_agent: None,
        url: Some("/x".into()),
        ..Default::default()
    };
    let v = build_visits([&r], &VisitOptions::default());
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].ua, summarize(""));
    assert_eq!(
        v[0].ua,
        UaSummary {
            label: "unknown".into(),
            ..summarize("-")
        }
    );
}
