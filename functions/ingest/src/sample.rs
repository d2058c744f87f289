//! Synthetic but realistic ALB access-log objects for benchmarks and end-to-end tests: every
//! documented field, a mix of browsers, bots, paths, statuses and TLS settings, request times
//! spread over a five-minute delivery window (as one ELB node writes them).

use std::fmt::Write;

const AGENTS: [&str; 5] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.5.0",
];
const PATHS: [&str; 6] = [
    "/",
    "/apply/confirm?id=123&lang=ja",
    "/static/css/site.3f2a9c.css",
    "/api/v1/courses/4711/sessions",
    "/images/logo.png",
    "/news/2026/11/open-campus",
];
const STATUS: [u16; 8] = [200, 200, 200, 200, 304, 302, 404, 503];

/// Appends `n` ALB access lines (newline-terminated) to `out`, with request times from
/// `start_ms` (Unix milliseconds) spread over five minutes. `seed` varies the content.
pub fn alb_lines(out: &mut String, n: usize, start_ms: i64, seed: u64) {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..n {
        let r = next();
        let created = start_ms + (i as i64 * 300_000) / n.max(1) as i64;
        let target_ms = (r % 900) as i64;
        let end = created + target_ms + 1;
        let status = STATUS[(r >> 8) as usize % STATUS.len()];
        let path = PATHS[(r >> 16) as usize % PATHS.len()];
        let agent = AGENTS[(r >> 24) as usize % AGENTS.len()];
        let (ty, scheme, port) = if r & 1 == 0 {
            ("h2", "https", 443)
        } else {
            ("https", "https", 443)
        };
        let ip = format!("{}.{}.{}.{}", 203, 0, (r >> 32) as u8 % 8, (r >> 40) as u8);
        let _ = writeln!(
            out,
            "{ty} {end} app/my-loadbalancer/50dc6c495c0c9188 {ip}:{cport} 10.0.0.{t}:8080 0.001 {tt:.3} 0.000 {status} {status} {rb} {sb} \"GET {scheme}://www.example.jp:{port}{path} HTTP/2.0\" \"{agent}\" TLS_AES_128_GCM_SHA256 TLSv1.3 arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/web/73e2d6bc24d8a067 \"Root=1-{root:08x}-{trace:024x}\" \"www.example.jp\" \"arn:aws:acm:ap-northeast-1:123456789012:certificate/12345678-1234-1234-1234-123456789012\" 10 {created} \"forward\" \"-\" \"-\" \"10.0.0.{t}:8080\" \"{status}\" \"-\" \"-\" TID_{tid:032x} \"-\" \"-\" \"-\"",
            end = iso(end * 1000 + (r % 1000) as i64),
            cport = 1024 + (r >> 48) % 60_000,
            t = (r >> 56) % 8 + 10,
            tt = target_ms as f64 / 1000.0,
            rb = 200 + (r >> 12) % 900,
            sb = 300 + (r >> 20) % 40_000,
            root = (created / 1000) as u32,
            trace = u128::from(next()) & ((1u128 << 96) - 1),
            created = iso(created * 1000),
            tid = u128::from(next()) << 64 | u128::from(next()),
        );
    }
}

/// `2026-11-22T01:15:02.481233Z` from Unix microseconds.
fn iso(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000000Z".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use logdesk_core::source::{ParseOptions, SourceKind, parse_bytes};

    #[test]
    fn generated_lines_parse_cleanly() {
        let mut s = String::new();
        alb_lines(&mut s, 500, 1_795_310_100_000, 7);
        let (records, counts) =
            parse_bytes(SourceKind::Alb, ParseOptions::default(), s.as_bytes()).unwrap();
        assert_eq!(
            counts.bad,
            0,
            "{:?}",
            records
                .iter()
                .find(|r| matches!(r, logdesk_core::Record::Bad(_)))
        );
        assert_eq!(records.len(), 500);
        assert_eq!(records[0].time_us(), Some(1_795_310_100_000_000));
    }
}
