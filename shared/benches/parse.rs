//! ALB access log throughput: parsing, parsing into JSON records, and the gunzip that every
//! ingest pays anyway, side by side on the same realistic data.
//!
//! `LOGDESK_BENCH_MB` sets the size of the generated log (default 100);
//! `LOGDESK_BENCH_SUMMARY_ONLY=1` prints the side-by-side summary and skips criterion's runs
//! (for a profiler); `LOGDESK_BENCH_ONLY_LINE_TO_JSON=1` runs only `alb::line_to_json`. Throughput is in bytes of plain log text. Targets: parse_line ≥ 300 MB/s
//! on one core, and parse + record + JSON at least as fast as gunzip, so that parsing never
//! becomes the bottleneck of ingest.

use std::hint::black_box;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;
use logdesk_core::Record;
use logdesk_core::alb;

/// splitmix64: deterministic and good enough to vary log fields.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }
}

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36 Edg/127.0.2651.105",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; SH-M26 Build/S1234) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.6613.88 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:129.0) Gecko/20100101 Firefox/129.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Line/14.12.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "ELB-HealthChecker/2.0",
    "curl/8.5.0",
    "-",
];

const PATHS: &[&str] = &[
    "/",
    "/products",
    "/products/{id}",
    "/products/{id}/reviews",
    "/api/v1/cart/{id}/items",
    "/api/v2/search",
    "/static/js/app.{hex}.js",
    "/static/css/main.{hex}.css",
    "/images/items/{id}/large.webp",
    "/users/{id}/orders/{id}",
    "/login",
    "/favicon.ico",
];

const QUERIES: &[&str] = &[
    "",
    "",
    "?page={id}",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=autumn_sale_2025&utm_content=hero_banner",
    "?q=\\xE3\\x82\\xB7\\xE3\\x83\\xA3\\xE3\\x83\\x84&sort=price_asc&page={id}",
    "?session={hex}&lang=ja&ref=top",
    "?fbclid=IwAR{hex}{hex}&gclid={hex}",
];

fn time_text(us: i64) -> String {
    let ts = jiff::Timestamp::from_microsecond(us).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn fill(template: &str, rng: &mut Rng) -> String {
    let mut out = template.to_string();
    while let Some(at) = out.find("{id}") {
        out.replace_range(at..at + 4, &rng.below(100_000).to_string());
    }
    while let Some(at) = out.find("{hex}") {
        out.replace_range(at..at + 5, &rng.hex(16));
    }
    out
}

/// One realistic ALB line (no newline).
fn line(rng: &mut Rng, time_us: i64) -> String {
    let kind = match rng.below(100) {
        0..20 => "http",
        20..65 => "https",
        65..98 => "h2",
        98 => "wss",
        _ => "grpcs",
    };
    let tls = kind != "http";
    let client = if rng.chance(30) {
        format!(
            "2400:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{:x}:{}",
            rng.below(0xffff),
            rng.below(0xffff),
            rng.below(0xffff),
            rng.below(0xffff),
            rng.below(0xffff),
            rng.below(0xffff),
            rng.below(0xffff),
            rng.below(65536)
        )
    } else {
        format!(
            "{}.{}.{}.{}:{}",
            1 + rng.below(223),
            rng.below(256),
            rng.below(256),
            rng.below(256),
            1024 + rng.below(64000)
        )
    };
    let failed = rng.chance(2);
    let target_ip = format!("10.0.{}.{}:8080", rng.below(4), 10 + rng.below(40));
    let target = if failed { "-".to_string() } else { target_ip };
    let (rq, tt, rs) = if failed {
        ("-1".to_string(), "-1".to_string(), "-1".to_string())
    } else {
        (
            format!("{:.3}", rng.below(3) as f64 / 1000.0),
            format!("{:.3}", rng.below(800) as f64 / 1000.0),
            format!("{:.3}", rng.below(2) as f64 / 1000.0),
        )
    };
    let status = if failed {
        "502"
    } else {
        rng.pick(&[
            "200", "200", "200", "200", "200", "304", "301", "404", "500",
        ])
    };
    let target_status = if failed { "-" } else { status };
    let method = rng.pick(&["GET", "GET", "GET", "GET", "POST", "HEAD", "PUT"]);
    let scheme_port = if tls {
        "https://www.example.jp:443"
    } else {
        "http://www.example.jp:80"
    };
    let path = fill(rng.pick(PATHS), rng);
    let query = fill(rng.pick(QUERIES), rng);
    let protocol = if kind == "h2" || kind == "grpcs" {
        "HTTP/2.0"
    } else {
        "HTTP/1.1"
    };
    let ua = rng.pick(USER_AGENTS);
    let (cipher, proto) = if tls {
        (
            rng.pick(&["ECDHE-RSA-AES128-GCM-SHA256", "TLS_AES_128_GCM_SHA256"]),
            rng.pick(&["TLSv1.2", "TLSv1.3"]),
        )
    } else {
        ("-", "-")
    };
    let created = time_us - 1000 * rng.below(900) as i64;
    let redirect = status == "301";
    let (actions, redirect_url) = if redirect {
        ("redirect", format!("https://www.example.jp:443{path}"))
    } else if rng.chance(10) {
        ("waf,forward", "-".to_string())
    } else {
        ("forward", "-".to_string())
    };
    let target_list = if failed {
        "-".to_string()
    } else {
        target.clone()
    };
    let (sni, cert) = if tls {
        (
            "www.example.jp",
            "arn:aws:acm:ap-northeast-1:123456789012:certificate/1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        )
    } else {
        ("-", "-")
    };
    format!(
        "{kind} {time} app/web-prod/8a1b2c3d4e5f6a7b {client} {target} {rq} {tt} {rs} {status} {target_status} {rb} {sb} \"{method} {scheme_port}{path}{query} {protocol}\" \"{ua}\" {cipher} {proto} arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/web-prod-tg/0123456789abcdef \"Root=1-{t1}-{t2}\" \"{sni}\" \"{cert}\" {rule} {created} \"{actions}\" \"{redirect_url}\" \"{reason}\" \"{target_list}\" \"{target_status}\" \"-\" \"-\" TID_{tid} \"-\" \"-\" \"-\"",
        time = time_text(time_us),
        rb = 200 + rng.below(2000),
        sb = 300 + rng.below(200_000),
        t1 = rng.hex(8),
        t2 = rng.hex(24),
        rule = rng.below(20),
        created = time_text(created),
        reason = if failed { "LambdaInvalidResponse" } else { "-" },
        tid = rng.hex(32),
    )
}

/// About `mb` megabytes of newline-terminated lines.
fn generate(mb: usize) -> String {
    let mut rng = Rng(0x10_6d_e5_c0);
    let mut out = String::with_capacity(mb * 1_000_000 + 4096);
    let mut time_us = 1_756_684_800_000_000; // 2025-09-01T00:00:00Z
    while out.len() < mb * 1_000_000 {
        time_us += rng.below(20_000) as i64;
        out.push_str(&line(&mut rng, time_us));
        out.push('\n');
    }
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(6));
    encoder.write_all(data).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// The lines of `data`, split with memchr as a `BufRead` reader would.
fn lines(data: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', data.as_bytes()).map(move |end| {
        let line = data.get(start..end).unwrap_or_default();
        start = end + 1;
        line
    })
}

fn parse_all(data: &str) -> usize {
    let mut ok = 0;
    for line in lines(data) {
        ok += usize::from(black_box(alb::parse_line(line)).is_ok());
    }
    ok
}

fn parse_to_record(data: &str) -> usize {
    let mut ok = 0;
    for line in lines(data) {
        if let Ok(entry) = alb::parse_line(line) {
            ok += usize::from(black_box(entry.to_record()).status.is_some());
        }
    }
    ok
}

fn parse_to_json(data: &str, out: &mut Vec<u8>) -> usize {
    let mut bytes = 0;
    for line in lines(data) {
        out.clear();
        if let Ok(entry) = alb::parse_line(line) {
            Record::Alb(entry.to_record()).write_json(out);
        }
        bytes += black_box(&out).len();
    }
    bytes
}

fn parse_to_direct_json(data: &str, out: &mut String) -> usize {
    let mut bytes = 0;
    for line in lines(data) {
        out.clear();
        let _ = black_box(alb::line_to_json(line, out));
        bytes += black_box(&out).len();
    }
    bytes
}

fn gunzip(gz: &[u8], buf: &mut [u8]) -> usize {
    let mut decoder = MultiGzDecoder::new(gz);
    let mut total = 0;
    loop {
        match decoder.read(buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total += black_box(n),
        }
    }
}

/// Best of three runs, in MB/s of `bytes`.
fn mb_per_s(bytes: usize, mut run: impl FnMut()) -> f64 {
    let best = (0..3)
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .min()
        .unwrap_or(Duration::MAX);
    bytes as f64 / 1e6 / best.as_secs_f64()
}

fn bench(c: &mut Criterion) {
    let mb = std::env::var("LOGDESK_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let data = generate(mb);
    let gz = gzip(data.as_bytes());
    let lines = data.lines().count();
    let parsed = parse_all(&data);
    assert_eq!(parsed, lines, "every generated line parses");
    let mut json = Vec::with_capacity(4096);
    let mut direct_json = String::with_capacity(4096);
    let mut buf = vec![0u8; 256 * 1024];
    assert_eq!(gunzip(&gz, &mut buf), data.len());

    // For profilers: only alb::line_to_json (what the ingest runs per line), a few times over.
    if std::env::var_os("LOGDESK_BENCH_ONLY_LINE_TO_JSON").is_some() {
        let direct = mb_per_s(data.len(), || {
            parse_to_direct_json(&data, &mut direct_json);
        });
        println!("alb::line_to_json {direct:.0} MB/s");
        return;
    }
    let parse = mb_per_s(data.len(), || {
        parse_all(&data);
    });
    let record_only = mb_per_s(data.len(), || {
        parse_to_record(&data);
    });
    let record = mb_per_s(data.len(), || {
        parse_to_json(&data, &mut json);
    });
    let direct = mb_per_s(data.len(), || {
        parse_to_direct_json(&data, &mut direct_json);
    });
    let unzip = mb_per_s(data.len(), || {
        gunzip(&gz, &mut buf);
    });
    println!(
        "summary: {:.1} MB in {lines} lines (gzip {:.1} MB): (a) parse_line {parse:.0} MB/s, \
         (b) parse+to_record+write_json {record:.0} MB/s, (c) gunzip {unzip:.0} MB/s, \
         (b)/(c) = {:.2}; also parse+to_record {record_only:.0} MB/s, \
         (b2) alb::line_to_json (parse + record JSON written from the entry, as ingest does) {direct:.0} MB/s, (b2)/(c) = {:.2}",
        data.len() as f64 / 1e6,
        gz.len() as f64 / 1e6,
        record / unzip,
        direct / unzip,
    );

    // For profilers (callgrind counts instructions; criterion's own runs would swamp them).
    if std::env::var_os("LOGDESK_BENCH_SUMMARY_ONLY").is_some() {
        return;
    }
    let mut group = c.benchmark_group("alb");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(12));
    group.bench_function("a_parse_line", |b| b.iter(|| parse_all(&data)));
    group.bench_function("b_parse_record_json", |b| {
        b.iter(|| parse_to_json(&data, &mut json))
    });
    group.bench_function("b2_parse_write_record_json", |b| {
        b.iter(|| parse_to_direct_json(&data, &mut direct_json))
    });
    group.bench_function("c_gunzip", |b| b.iter(|| gunzip(&gz, &mut buf)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
