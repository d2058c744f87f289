//! Analysis over a day of traffic held in memory: 1,000,000 ALB request records from about 2,000
//! visitors with 20 distinct user agents, 200 URL shapes and mixed statuses and latencies.
//! Budget: each of `stats::compute` (URL groups, 5-minute buckets) and `build_visits` under 1 s
//! on one core.
//!
//! `cargo bench -p logdesk-core --bench analysis`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use logdesk_core::record::{RequestRecord, SCHEMA_VERSION};
use logdesk_core::stats::{self, StatsOptions};
use logdesk_core::urlgroup::UrlGrouper;
use logdesk_core::visits::{VisitOptions, build_visits};

const RECORDS: usize = 1_000_000;
const VISITORS: u64 = 2_000;
const DAY_START: i64 = 1_714_521_600_000_000; // 2024-05-01T00:00:00Z

/// SplitMix64: deterministic, good enough, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

const UAS: [&str; 20] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.14.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "curl/8.4.0",
    "ELB-HealthChecker/2.0",
];

/// 200 URL shapes: 40 templates × 5 variants, ids filled in per request.
fn url(rng: &mut Rng, shape: u64) -> String {
    let id = rng.below(100_000);
    let v = shape % 5;
    let base = "https://www.example.com:443";
    match shape / 5 {
        0 => format!("{base}/"),
        1 => format!("{base}/users/{id}"),
        2 => format!("{base}/users/{id}/posts/{:032x}", rng.next() as u128 * 7919),
        3 => format!("{base}/products/{id}/reviews?page={v}"),
        4 => format!(
            "{base}/api/v1/orders/{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            rng.next() as u32,
            id & 0xffff,
            v,
            id & 0xfff,
            rng.next() >> 16
        ),
        5 => format!("{base}/static/js/app{v}.js"),
        6 => format!("{base}/static/css/site{v}.css"),
        7 => format!("{base}/img/photo{id}.jpg"),
        8 => format!("{base}/search?q=term{id}"),
        9 => format!("{base}/favicon.ico"),
        n => format!("{base}/section{n}/page{v}"),
    }
}

fn generate() -> Vec<RequestRecord> {
    let mut rng = Rng(42);
    let mut out = Vec::with_capacity(RECORDS);
    for _ in 0..RECORDS {
        let visitor = rng.below(VISITORS);
        // Most visitors keep one browser; a few switch between two.
        let ua = (visitor * 7 + rng.below(if visitor.is_multiple_of(10) { 2 } else { 1 }))
            % UAS.len() as u64;
        let ip = format!("198.51.{}.{}", visitor / 250, visitor % 250);
        // Visitors come back several times a day: their requests cluster around a few hours.
        let session = rng.below(4);
        let t = DAY_START
            + ((visitor * 997 + session * 21_601) % 86_400) as i64 * 1_000_000
            + rng.below(1_800_000_000) as i64;
        let shape = rng.below(200);
        let roll = rng.below(1000);
        let (status, target_status) = match roll {
            0..=899 => (200, Some(200)),
            900..=929 => (304, Some(304)),
            930..=969 => (404, Some(404)),
            970..=979 => (403, Some(403)),
            980..=994 => (500, Some(500)),
            995..=997 => (502, None),
            _ => (504, None),
        };
        let target_time = target_status.map(|_| -(1.0 - rng.unit()).ln() * 0.08);
        out.push(RequestRecord {
            v: SCHEMA_VERSION,
            t,
            end: Some(t + 50_000),
            kind: Some("https".into()),
            server: Some("app/my-alb/50dc6c495c0c9188".into()),
            client_ip: Some(ip),
            client_port: Some(40_000 + rng.below(20_000) as u16),
            target_ip: target_status.map(|_| "10.0.0.1".into()),
            target_port: target_status.map(|_| 80),
            method: Some(
                if roll.is_multiple_of(10) {
                    "POST"
                } else {
                    "GET"
                }
                .into(),
            ),
            url: Some(url(&mut rng, shape)),
            protocol: Some("HTTP/1.1".into()),
            status: Some(status),
            target_status,
            received_bytes: Some(300),
            sent_bytes: Some(5_000),
            user_agent: Some(UAS[ua as usize].into()),
            request_time: Some(0.001),
            target_time,
            response_time: target_status.map(|_| 0.0),
            ..Default::default()
        });
    }
    out
}

fn analysis(c: &mut Criterion) {
    let records = generate();
    let grouper = UrlGrouper::new(&["^/section1[0-9]/", "^/search$"]).unwrap_or_default();
    let opts = StatsOptions {
        bucket_seconds: 300,
        utc_offset_seconds: 0,
        url_groups: Some(&grouper),
        top_groups: 50,
    };
    let mut group = c.benchmark_group("analysis_1m");
    // Each iteration takes a few hundred milliseconds: ten samples are plenty and keep the
    // whole run near a minute.
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(8));
    group.bench_function("stats_compute", |b| {
        b.iter(|| black_box(stats::compute(black_box(&records), &opts)))
    });
    group.bench_function("build_visits", |b| {
        b.iter(|| black_box(build_visits(black_box(&records), &VisitOptions::default())))
    });
    group.finish();

    // The build machine is shared, so wall time includes waiting for a core; on-CPU time
    // (Linux schedstat) is the figure to hold against the one-second budget.
    let mut s = None;
    let stats_cpu = best_cpu_ms(|| s = Some(stats::compute(&records, &opts)));
    let mut pages = 0;
    let mut visits = 0;
    let visits_cpu = best_cpu_ms(|| {
        let v = build_visits(&records, &VisitOptions::default());
        visits = v.len();
        pages = v.iter().map(|v| v.pages.len()).sum::<usize>();
    });
    let (groups, buckets) = s.map_or((0, 0), |s| (s.group_count, s.buckets.len()));
    println!(
        "{RECORDS} records: stats {groups} groups, {buckets} buckets, best on-CPU {stats_cpu}; \
         visits {visits} with {pages} pages, best on-CPU {visits_cpu}"
    );
}

/// The least on-CPU time of three runs of `f`, from /proc/thread-self/schedstat.
fn best_cpu_ms(mut f: impl FnMut()) -> String {
    fn on_cpu_ns() -> Option<u64> {
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        text.split_whitespace().next()?.parse().ok()
    }
    let mut best: Option<u64> = None;
    for _ in 0..3 {
        let before = on_cpu_ns();
        f();
        if let (Some(a), Some(b)) = (before, on_cpu_ns()) {
            best = Some(best.map_or(b - a, |m| m.min(b - a)));
        }
    }
    best.map_or_else(
        || "n/a".to_owned(),
        |ns| format!("{:.0} ms", ns as f64 / 1e6),
    )
}

criterion_group!(benches, analysis);
criterion_main!(benches);
