//! A generated day of traffic for a small Japanese web shop, ending at a given time: the
//! Application Load Balancer's access-log objects for `www.example.jp`, the raw nginx access
//! lines of the shop's targets behind it (the same requests, in the nginx kit's `logdesk`
//! format, with the load balancer's trace ids), the raw nginx access and error lines of
//! `blog.example.jp` (`extended` format; both as the CloudWatch agent ships them), and the SES
//! event objects Firehose writes to the mail bucket. The content is fixed by a seed; only the
//! times move with `now`.
//!
//! Fixed content other tests and the README rely on is described by [`FIXED`] and the
//! constants next to it.

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine as _;
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use crate::names::Names;
use crate::recipients::{self, Failure};
use crate::rng::Rng;

/// The seed of the generated day.
pub const SEED: u64 = 0x6c6f_6764_6573_6b21;

/// The visitor every demo day has (desktop Chrome).
pub const VISITOR_IP: &str = "203.0.113.50";
/// Its user agent.
pub const VISITOR_UA: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
/// Its pages, in order.
pub const VISITOR_PATHS: [&str; 5] = ["/", "/products", "/products/42", "/cart", "/checkout"];
/// The hard bounce (user unknown, 550 5.1.1) with a Japanese subject.
pub const HARD_BOUNCE_TO: &str = "no-such-user@example.co.jp";
/// The soft bounce (mailbox full, 552 5.2.2).
pub const SOFT_BOUNCE_TO: &str = "full-mailbox@example.jp";
/// The delivered (and opened) mail.
pub const DELIVERED_TO: &str = "hanako@example.jp";
/// The path of the fixed HTTP 500 under `/api/`.
pub const API_500_PATH: &str = "/api/cart/items";

/// A short description of the fixed content, printed by the demo and listed in the README.
pub const FIXED: &str = concat!(
    "  - hard bounce (user unknown, 550 5.1.1) to no-such-user@example.co.jp, Japanese subject\n",
    "  - soft bounce (mailbox full, 552 5.2.2) to full-mailbox@example.jp\n",
    "  - delivered (and opened) mail to hanako@example.jp\n",
    "  - visitor 203.0.113.50 (desktop Chrome): / → /products → /products/42 → /cart → /checkout\n",
    "  - HTTP 500 on POST /api/cart/items, in the ALB log and in nginx's (same trace id)\n",
    "  - the nginx site blog.example.jp with its error log",
);

const HOST: &str = "www.example.jp";
const BLOG: &str = "blog.example.jp";
const LB_NAME: &str = "example-shop";
const LB_ID: &str = "5d1b0e7c3a9f2e41";
const TARGETS: [&str; 2] = ["10.0.1.10", "10.0.2.20"];
const LB_NODES: [&str; 2] = ["10.0.0.15", "10.0.1.27"];
const FROM: &str = "Example Shop <no-reply@example.jp>";
const US: i64 = 1_000_000;
const MIN: i64 = 60 * US;
const HOUR: i64 = 60 * MIN;
/// ALB writes one object per node and interval.
const LB_INTERVAL: i64 = 20 * MIN;

/// An S3 object to upload.
#[derive(Debug, Clone)]
pub struct Object {
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Gzip bytes.
    pub body: Vec<u8>,
}

/// A raw line for a CloudWatch Logs group, as the agent ships it.
#[derive(Debug, Clone)]
pub struct Line {
    /// Event time, ms since the epoch.
    pub timestamp_ms: i64,
    /// The line.
    pub message: String,
}

/// The message ids of the fixed mails.
#[derive(Debug, Clone, Default)]
pub struct FixedIds {
    /// The hard bounce.
    pub hard_bounce: String,
    /// The soft bounce.
    pub soft_bounce: String,
    /// The delivered mail.
    pub delivered: String,
    /// The trace id of the fixed visitor's HTTP 500 (in the ALB and the nginx access log).
    pub api_500_trace: String,
}

/// Counts for the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counts {
    /// ALB requests.
    pub alb_requests: usize,
    /// Visitors (sessions) on the ALB site.
    pub visitors: usize,
    /// nginx access lines (the shop's and the blog's).
    pub nginx_access: usize,
    /// nginx access lines of the blog (`extended` format); the rest are the shop's (`logdesk`).
    pub nginx_blog: usize,
    /// nginx error lines.
    pub nginx_error: usize,
    /// Messages sent.
    pub mails: usize,
    /// SES events.
    pub ses_events: usize,
    /// Bounces.
    pub bounces: usize,
}

/// The generated day.
#[derive(Debug, Clone)]
pub struct Day {
    /// ALB and Firehose objects.
    pub objects: Vec<Object>,
    /// nginx access lines (oldest first).
    pub nginx_access: Vec<Line>,
    /// nginx error lines (oldest first).
    pub nginx_error: Vec<Line>,
    /// The fixed hard bounce as an SES event (what the SNS event destination publishes).
    pub sample_bounce: String,
    /// The fixed mails' ids.
    pub fixed: FixedIds,
    /// Counts.
    pub counts: Counts,
}

/// One HTTP request.
#[derive(Debug, Clone)]
struct Req {
    t: i64,
    ip: String,
    port: u16,
    method: &'static str,
    path: String,
    status: u16,
    /// `None`: the target never answered (502/504 from the load balancer).
    target_status: Option<u16>,
    ua: String,
    secs: f64,
    bytes: u64,
    referer: String,
    h2: bool,
}

/// When the day's newsletter goes out: at 10:00 JST within `start..end`, or 20 minutes before
/// `end` when 10:00 JST is later than that, so that its 160 mails and what follows them (a
/// delay notice 15 minutes on) all fall inside the day, whatever the time of the run.
fn newsletter_time(start: i64, end: i64) -> i64 {
    let tz = jst();
    // The first whole hour at or after the start (rounding down could land before it).
    let mut t = start.div_euclid(HOUR) * HOUR;
    if t < start {
        t += HOUR;
    }
    while t < end && ts(t).to_zoned(tz.clone()).hour() != 10 {
        t += HOUR;
    }
    t.min(end - 20 * MIN).max(start)
}

/// Generates the day ending at `now` (microseconds since the epoch).
pub fn generate(names: &Names, now_us: i64) -> Day {
    let now = now_us / MIN * MIN;
    let start = now - 24 * HOUR;
    let end = now - MIN;
    let mut rng = Rng::new(SEED);
    let mut counts = Counts::default();

    // The shop behind the load balancer.
    let mut reqs = Vec::new();
    let mut orders = Vec::new();
    let visitors = 560;
    for _ in 0..visitors {
        let t0 = diurnal_time(&mut rng, start, end - 30 * MIN);
        let (ip, ua) = visitor(&mut rng);
        shop_session(&mut rng, t0, end, &ip, &ua, &mut reqs, &mut orders);
    }
    fixed_visitor(now, &mut reqs);
    bots(&mut rng, start, end, &mut reqs);
    incident(&mut rng, now, &mut reqs);
    reqs.retain(|r| r.t >= start && r.t <= end);
    reqs.sort_by_key(|r| r.t);
    counts.alb_requests = reqs.len();
    counts.visitors = visitors + 1;
    let (mut objects, hops) = alb_objects(&mut rng, names, &reqs);
    let api_500_trace = reqs
        .iter()
        .zip(&hops)
        .find(|(r, _)| r.ip == VISITOR_IP && r.path == API_500_PATH && r.status == 500)
        .map(|(_, h)| h.trace.clone())
        .unwrap_or_default();
    // nginx on the targets logged the same requests, in the kit's format.
    let shop: Vec<Line> = reqs
        .iter()
        .zip(&hops)
        .filter_map(|(r, hop)| shop_nginx_line(r, hop))
        .collect();

    // The blog on its own instance with nginx and the CloudWatch agent.
    let mut blog = Vec::new();
    let mut errors = Vec::new();
    for _ in 0..140 {
        let t0 = diurnal_time(&mut rng, start, end - 10 * MIN);
        let (ip, ua) = visitor(&mut rng);
        blog_session(&mut rng, t0, &ip, &ua, &mut blog, &mut errors);
    }
    blog_incident(&mut rng, now, &mut blog, &mut errors);
    blog_noise(&mut rng, start, end, &mut errors);
    blog.retain(|r| r.t >= start && r.t <= end);
    blog.sort_by_key(|r| r.t);
    errors.retain(|l: &Line| l.timestamp_ms * 1000 >= start && l.timestamp_ms * 1000 <= end);
    errors.sort_by_key(|l| l.timestamp_ms);
    let mut nginx_access: Vec<Line> = blog
        .iter()
        .map(|r| Line {
            timestamp_ms: r.t / 1000,
            message: nginx_line(r),
        })
        .collect();
    counts.nginx_blog = nginx_access.len();
    nginx_access.extend(shop);
    // One agent stream takes its events in time order (a stable sort keeps each site's order).
    nginx_access.sort_by_key(|l| l.timestamp_ms);
    counts.nginx_access = nginx_access.len();
    counts.nginx_error = errors.len();

    // Mail.
    let mut mail = Mail::new(names);
    mail.day(&mut rng, start, end, now, &orders);
    let mut events = std::mem::take(&mut mail.events);
    events.retain(|(t, _, _)| *t >= start && *t <= end);
    events.sort_by_key(|(t, _, _)| *t);
    counts.mails = mail.sent;
    counts.ses_events = events.len();
    counts.bounces = events.iter().filter(|(_, k, _)| *k == "Bounce").count();
    objects.extend(firehose_objects(&mut rng, names, &events));

    Day {
        objects,
        nginx_access,
        nginx_error: errors,
        sample_bounce: mail.sample_bounce.clone(),
        fixed: FixedIds {
            api_500_trace,
            ..mail.fixed.clone()
        },
        counts,
    }
}

// ---------------------------------------------------------------------------------------------
// Times and formats

fn ts(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn jst() -> TimeZone {
    TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC)
}

/// `2026-11-23T01:02:03.456789Z`.
fn iso_us(us: i64) -> String {
    format!(
        "{}.{:06}Z",
        ts(us).strftime("%Y-%m-%dT%H:%M:%S"),
        us.rem_euclid(US)
    )
}

/// `2026-11-23T01:02:03.456Z`.
fn iso_ms(us: i64) -> String {
    format!(
        "{}.{:03}Z",
        ts(us).strftime("%Y-%m-%dT%H:%M:%S"),
        us.rem_euclid(US) / 1000
    )
}

/// A start time in `[start, end)` following a Japanese day: quiet at night, busy at lunch and
/// in the evening.
fn diurnal_time(rng: &mut Rng, start: i64, end: i64) -> i64 {
    const WEIGHT: [u32; 24] = [
        4, 2, 1, 1, 1, 2, 3, 5, 7, 8, 9, 10, 12, 11, 9, 9, 9, 10, 11, 13, 15, 14, 10, 7,
    ];
    let tz = jst();
    for _ in 0..100 {
        let t = rng.range(start, end.max(start + 1) - 1);
        let hour = ts(t).to_zoned(tz.clone()).hour() as usize;
        if rng.below(15) < u64::from(WEIGHT[hour % 24]) {
            return t;
        }
    }
    rng.range(start, end.max(start + 1) - 1)
}

// ---------------------------------------------------------------------------------------------
// Visitors

const UAS: [(&str, u32); 7] = [
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        34,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
        18,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
        22,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
        10,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
        9,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
        4,
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
        3,
    ),
];

/// A client address (documentation ranges; never the fixed visitor's) and user agent.
fn visitor(rng: &mut Rng) -> (String, String) {
    let ip = loop {
        let ip = match rng.below(10) {
            0..=3 => format!("198.51.100.{}", rng.range(1, 254)),
            4..=7 => format!("203.0.113.{}", rng.range(1, 254)),
            8 => format!("192.0.2.{}", rng.range(1, 254)),
            _ => format!(
                "2001:db8:{:x}::{:x}",
                rng.range(1, 0xfff),
                rng.range(1, 0xffff)
            ),
        };
        if ip != VISITOR_IP {
            break ip;
        }
    };
    (ip, rng.weighted(&UAS).to_string())
}

fn req(t: i64, ip: &str, ua: &str, method: &'static str, path: String, status: u16) -> Req {
    Req {
        t,
        ip: ip.to_owned(),
        port: 0,
        method,
        path,
        status,
        target_status: Some(status),
        ua: ua.to_owned(),
        secs: 0.0,
        bytes: 0,
        referer: "-".to_owned(),
        h2: true,
    }
}

/// A page view with its timing and size, plus the assets a first view loads.
fn page(rng: &mut Rng, out: &mut Vec<Req>, t: i64, ip: &str, ua: &str, path: &str, first: bool) {
    let port = rng.range(30000, 65000) as u16;
    let mut r = req(t, ip, ua, "GET", path.to_owned(), 200);
    r.port = port;
    r.secs = 0.02 + rng.exp(0.06);
    r.bytes = rng.range(9_000, 42_000) as u64;
    if path.starts_with("/search") {
        // The search is slow: a full-text query without an index.
        r.secs = 0.8 + rng.exp(1.2);
    }
    if path == "/products/999" || path.starts_with("/products/0") {
        r.status = 404;
        r.target_status = Some(404);
        r.bytes = 3_100;
    }
    if path == "/checkout/complete" && rng.chance(0.02) {
        r.status = 500;
        r.target_status = Some(500);
        r.bytes = 512;
        r.secs = 1.2 + rng.exp(0.5);
    }
    out.push(r);
    let mut assets: Vec<String> = Vec::new();
    if first {
        assets.extend(
            [
                "/static/css/site.css?v=20261101",
                "/static/js/app.js?v=20261101",
                "/favicon.ico",
            ]
            .map(str::to_owned),
        );
    }
    if let Some(id) = path.strip_prefix("/products/") {
        assets.push(format!("/images/products/{id}.jpg"));
    }
    for (i, a) in assets.into_iter().enumerate() {
        let mut r = req(t + (i as i64 + 1) * 40_000, ip, ua, "GET", a, 200);
        r.port = port;
        r.secs = 0.001 + rng.exp(0.004);
        r.bytes = rng.range(2_000, 180_000) as u64;
        out.push(r);
    }
}

fn product(rng: &mut Rng) -> String {
    if rng.chance(0.03) {
        "/products/999".to_owned()
    } else {
        format!("/products/{}", rng.range(1, 96))
    }
}

/// The XHR that puts a product in the cart (one in a hundred fails with a 500).
fn add_to_cart(rng: &mut Rng, at: i64, ip: &str, ua: &str) -> Req {
    let mut r = req(at, ip, ua, "POST", "/api/cart/items".to_owned(), 200);
    r.secs = 0.03 + rng.exp(0.05);
    r.bytes = 420;
    if rng.chance(0.01) {
        r.status = 500;
        r.target_status = Some(500);
    }
    r
}

/// The form post that places an order, answered with a redirect.
fn confirm_order(rng: &mut Rng, at: i64, ip: &str, ua: &str) -> Req {
    let mut r = req(at, ip, ua, "POST", "/checkout/confirm".to_owned(), 303);
    r.secs = 0.2 + rng.exp(0.3);
    r.bytes = 380;
    r
}

/// One visitor browsing the shop; orders placed go to `orders` (time of the confirmation mail).
fn shop_session(
    rng: &mut Rng,
    t0: i64,
    end: i64,
    ip: &str,
    ua: &str,
    out: &mut Vec<Req>,
    orders: &mut Vec<i64>,
) {
    let mut t = t0;
    let mut path = match rng.below(10) {
        0..=5 => "/".to_owned(),
        6..=8 => product(rng),
        _ => "/news".to_owned(),
    };
    for n in 0..14 {
        if t > end {
            return;
        }
        page(rng, out, t, ip, ua, &path, n == 0);
        let mut dwell = ((5.0 + rng.exp(35.0)) * US as f64) as i64;
        let next: Option<String> = match path.as_str() {
            "/" => match rng.below(20) {
                0..=7 => Some("/products".to_owned()),
                8..=12 => Some(product(rng)),
                13..=14 => Some("/news".to_owned()),
                15 => Some("/about".to_owned()),
                16..=17 => Some(format!(
                    "/search?q={}",
                    rng.pick(&[
                        "coat",
                        "sale",
                        "gift",
                        "%E3%82%BB%E3%83%BC%E3%82%BF%E3%83%BC"
                    ])
                )),
                _ => None,
            },
            p if p.starts_with("/products/") => match rng.below(20) {
                0..=3 => {
                    // Add to cart: an XHR, then the cart page.
                    out.push(add_to_cart(rng, t + dwell, ip, ua));
                    dwell += 800_000;
                    Some("/cart".to_owned())
                }
                4..=10 => Some(product(rng)),
                11..=13 => Some("/products".to_owned()),
                _ => None,
            },
            p if p.starts_with("/products") || p.starts_with("/search") => match rng.below(10) {
                0..=5 => Some(product(rng)),
                6 => Some("/products?category=outer&page=2".to_owned()),
                _ => None,
            },
            "/cart" => match rng.below(10) {
                0..=4 => Some("/checkout".to_owned()),
                5..=6 => Some(product(rng)),
                _ => None,
            },
            "/checkout" => {
                if rng.chance(0.7) {
                    out.push(confirm_order(rng, t + dwell, ip, ua));
                    dwell += 1_500_000;
                    orders.push(t + dwell + 2 * US);
                    Some("/checkout/complete".to_owned())
                } else {
                    None
                }
            }
            "/news" => match rng.below(10) {
                0..=4 => Some(format!("/news/2026-11-{:02}", rng.range(1, 22))),
                5..=6 => Some("/".to_owned()),
                _ => None,
            },
            _ => match rng.below(10) {
                0..=2 => Some("/".to_owned()),
                3..=4 => Some("/products".to_owned()),
                _ => None,
            },
        };
        match next {
            Some(p) => path = p,
            None => return,
        }
        t += dwell;
    }
}

/// The fixed visitor, three hours before `now`, with a failing add-to-cart call.
fn fixed_visitor(now: i64, out: &mut Vec<Req>) {
    let mut rng = Rng::new(SEED ^ 0x50);
    let mut t = now - 3 * HOUR;
    for (i, p) in VISITOR_PATHS.iter().enumerate() {
        page(&mut rng, out, t, VISITOR_IP, VISITOR_UA, p, i == 0);
        if *p == "/products/42" {
            let mut r = req(
                t + 25 * US,
                VISITOR_IP,
                VISITOR_UA,
                "POST",
                API_500_PATH.to_owned(),
                500,
            );
            r.secs = 0.412;
            r.bytes = 389;
            out.push(r.clone());
            r.t += 4 * US;
            r.status = 200;
            r.target_status = Some(200);
            r.secs = 0.048;
            out.push(r);
        }
        t += 45 * US;
    }
}

/// Crawlers and scanners.
fn bots(rng: &mut Rng, start: i64, end: i64, out: &mut Vec<Req>) {
    const GOOGLEBOT: &str =
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
    const BINGBOT: &str = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)";
    for i in 0..260 {
        let t = rng.range(start, end);
        let (ip, ua) = if i % 3 == 0 {
            ("192.0.2.201", BINGBOT)
        } else {
            ("192.0.2.200", GOOGLEBOT)
        };
        let path = match rng.below(12) {
            0 => "/robots.txt".to_owned(),
            1 => "/sitemap.xml".to_owned(),
            2..=3 => format!("/news/2026-11-{:02}", rng.range(1, 22)),
            _ => product(rng),
        };
        let mut r = req(t, ip, ua, "GET", path.clone(), 200);
        r.secs = 0.02 + rng.exp(0.05);
        r.bytes = rng.range(3_000, 30_000) as u64;
        r.h2 = false;
        if path == "/products/999" {
            r.status = 404;
            r.target_status = Some(404);
        }
        out.push(r);
    }
    const PROBES: [&str; 8] = [
        "/wp-login.php",
        "/.env",
        "/.git/config",
        "/phpmyadmin/index.php",
        "/admin/",
        "/xmlrpc.php",
        "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
        "/cgi-bin/luci",
    ];
    for _ in 0..6 {
        let t0 = rng.range(start, end - 5 * MIN);
        let ip = format!("198.51.100.{}", rng.range(200, 250));
        for (i, p) in PROBES.iter().enumerate() {
            let mut r = req(
                t0 + i as i64 * 700_000,
                &ip,
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.129 Safari/537.36",
                "GET",
                (*p).to_owned(),
                404,
            );
            r.secs = 0.004;
            r.bytes = 3_100;
            r.h2 = false;
            out.push(r);
        }
    }
}

/// Seven hours before `now` a database lock made the shop slow for a quarter of an hour:
/// slow answers, some 502 (target reset) and 504 (timeout) from the load balancer.
fn incident(rng: &mut Rng, now: i64, out: &mut [Req]) {
    let from = now - 7 * HOUR;
    let to = from + 15 * MIN;
    for r in out.iter_mut().filter(|r| r.t >= from && r.t < to) {
        if r.path.starts_with("/static")
            || r.path.starts_with("/images")
            || r.path == "/favicon.ico"
        {
            continue;
        }
        match rng.below(10) {
            0 => {
                r.status = 504;
                r.target_status = None;
                r.secs = 60.0;
            }
            1 => {
                r.status = 502;
                r.target_status = None;
                r.secs = 3.0 + rng.exp(4.0);
            }
            _ => r.secs += 2.0 + rng.exp(3.0),
        }
    }
}

/// What the load balancer passed on to the target with a request: the node nginx saw as
/// `$remote_addr`, the `X-Amzn-Trace-Id` it added, and its target processing time.
#[derive(Debug, Clone)]
struct Hop {
    node: &'static str,
    trace: String,
    target_secs: Option<f64>,
}

/// One access-log line and the hop it describes (without the node, chosen per object).
fn alb_line(rng: &mut Rng, account: &str, region: &str, r: &Req) -> (String, String) {
    let target = TARGETS[(r.ip.len() + r.port as usize) % TARGETS.len()];
    let total = r.secs;
    let created = r.t - (total * US as f64) as i64;
    let (tpt, rpt2, target_status, target_field) = match r.target_status {
        Some(s) => (
            format!("{:.3}", target_secs(total)),
            "0.000".to_owned(),
            s.to_string(),
            format!("{target}:80"),
        ),
        None => (
            "-1".to_owned(),
            "-1".to_owned(),
            "-".to_owned(),
            format!("{target}:80"),
        ),
    };
    let (kind, version) = if r.h2 {
        ("h2", "HTTP/2.0")
    } else {
        ("https", "HTTP/1.1")
    };
    let received = 300 + r.ua.len() as u64 + r.path.len() as u64;
    let trace = format!("Root=1-{:08x}-{}", (created / US).max(0), rng.hex(24));
    let line = format!(
        "{kind} {time} app/{LB_NAME}/{LB_ID} {ip}:{port} {target_field} 0.001 {tpt} {rpt2} {status} {target_status} {received} {sent} \"{method} https://{HOST}:443{path} {version}\" \"{ua}\" TLS_AES_128_GCM_SHA256 TLSv1.3 arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{LB_NAME}-web/8f3c2a1b0d9e7f65 \"{trace}\" \"{HOST}\" \"arn:aws:acm:{region}:{account}:certificate/3f1c9a7e-2b4d-4e8f-9a6c-1d2e3f4a5b6c\" 1 {created} \"forward\" \"-\" \"-\" \"{target_field}\" \"{target_status}\" \"-\" \"-\" TID_{tid} \"-\" \"-\" \"-\"",
        time = iso_us(r.t),
        ip = r.ip,
        port = if r.port == 0 {
            443 + (r.t % 20000) as u16 + 30000
        } else {
            r.port
        },
        status = r.status,
        sent = r.bytes,
        method = r.method,
        path = r.path,
        ua = r.ua,
        created = iso_us(created),
        tid = rng.hex(32),
    );
    (line, trace)
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(text.as_bytes());
    enc.finish().unwrap_or_default()
}

/// One object per load-balancer node and 20-minute interval, under the key form ELB uses;
/// with the hop of each request, in the order of `reqs`.
fn alb_objects(rng: &mut Rng, names: &Names, reqs: &[Req]) -> (Vec<Object>, Vec<Hop>) {
    let account = &names.account_id;
    let region = &names.region;
    let mut groups: BTreeMap<(i64, usize), String> = BTreeMap::new();
    let mut hops = Vec::with_capacity(reqs.len());
    for r in reqs {
        let node = rng.below(LB_NODES.len() as u64) as usize;
        let end = (r.t / LB_INTERVAL + 1) * LB_INTERVAL;
        let (line, trace) = alb_line(rng, account, region, r);
        hops.push(Hop {
            node: LB_NODES[node],
            trace,
            target_secs: r.target_status.map(|_| target_secs(r.secs)),
        });
        let text = groups.entry((end, node)).or_default();
        text.push_str(&line);
        text.push('\n');
    }
    let objects = groups
        .into_iter()
        .map(|((end, node), text)| {
            let t = ts(end);
            let key = format!(
                "{prefix}{account}/elasticloadbalancing/{region}/{date}/{account}_elasticloadbalancing_{region}_app.{LB_NAME}.{LB_ID}_{stamp}_{ip}_{rand}.log.gz",
                prefix = names.prefixes.lb,
                date = t.strftime("%Y/%m/%d"),
                stamp = t.strftime("%Y%m%dT%H%MZ"),
                ip = LB_NODES[node],
                rand = rng.hex(8),
            );
            Object {
                bucket: names.buckets.lb_logs.clone(),
                key,
                body: gzip(&text),
            }
        })
        .collect();
    (objects, hops)
}

/// The ALB's `target_processing_time` of a request that took `total` seconds: all but the
/// millisecond of `request_processing_time`.
fn target_secs(total: f64) -> f64 {
    (total - 0.001).max(0.0)
}

/// Files nginx serves itself; everything else goes to the shop's application (upstream).
fn is_static(path: &str) -> bool {
    path.starts_with("/static/") || path.starts_with("/images/") || path == "/favicon.ico"
}

/// A JSON string as nginx's `escape=json` writes it (the demo's values hold no control
/// characters, where serde_json's lowercase `\u001f` would differ from nginx's uppercase).
fn json_str(value: &str) -> String {
    Value::from(value).to_string()
}

/// The shop's nginx line for a request the load balancer forwarded, in the kit's `logdesk`
/// format (`deploy/nginx/logdesk.conf`), or `None` when nginx logged nothing (a target reset,
/// the 502s of the incident). nginx writes its line as the response ends, a little before the
/// load balancer's `time`; its `$request_time` is the ALB's target time less the network, and
/// the application's share (`$upstream_response_time`) is a millisecond less again. When the
/// load balancer gave up (504 after 60 s), nginx sees the client go away: 499.
fn shop_nginx_line(r: &Req, hop: &Hop) -> Option<Line> {
    let (status, request_ms, bytes) = match hop.target_secs {
        Some(secs) => {
            let ms = (secs * 1000.0).round() as i64;
            (r.status, (ms - 1).max(0), r.bytes)
        }
        None if r.status == 504 => (499, (r.secs * 1000.0).round() as i64, 0),
        None => return None,
    };
    let end_ms = r.t / 1000 - 1;
    let upstream = if is_static(&r.path) {
        String::new()
    } else {
        format!("{:.3}", (request_ms - 1).max(0) as f64 / 1000.0)
    };
    // The load balancer speaks HTTP/1.1 to its targets whatever the client spoke.
    let version = "HTTP/1.1";
    let time = ts(end_ms * 1000)
        .to_zoned(jst())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    let referer = if r.referer == "-" { "" } else { &r.referer };
    let message = format!(
        concat!(
            r#"{{"time":"{time}","msec":{secs}.{ms:03},"#,
            r#""remote_addr":"{node}","x_forwarded_for":{xff},"#,
            r#""host":"{host}","request":{request},"status":{status},"#,
            r#""body_bytes_sent":{bytes},"request_time":{rt}.{rt_ms:03},"#,
            r#""upstream_response_time":"{upstream}","#,
            r#""referer":{referer},"user_agent":{ua},"#,
            r#""trace_id":"{trace}"}}"#,
        ),
        time = time,
        secs = end_ms.div_euclid(1000),
        ms = end_ms.rem_euclid(1000),
        node = hop.node,
        host = HOST,
        xff = json_str(&r.ip),
        request = json_str(&format!("{} {} {version}", r.method, r.path)),
        status = status,
        bytes = bytes,
        rt = request_ms / 1000,
        rt_ms = request_ms % 1000,
        upstream = upstream,
        referer = json_str(referer),
        ua = json_str(&r.ua),
        trace = hop.trace,
    );
    Some(Line {
        // The agent's timestamp_format reads `time`, to the second.
        timestamp_ms: end_ms.div_euclid(1000) * 1000,
        message,
    })
}

// ---------------------------------------------------------------------------------------------
// The nginx blog

fn blog_session(
    rng: &mut Rng,
    t0: i64,
    ip: &str,
    ua: &str,
    out: &mut Vec<Req>,
    errors: &mut Vec<Line>,
) {
    const POSTS: [&str; 6] = [
        "winter-coat-guide",
        "how-we-pack-orders",
        "2026-autumn-sale-report",
        "care-for-wool",
        "new-shop-in-osaka",
        "faq-returns",
    ];
    let referers = [
        "https://www.google.com/",
        "https://www.example.jp/",
        "https://t.co/x1Ab2Cd",
        "-",
    ];
    let mut referer = rng.pick(&referers).to_string();
    let mut t = t0;
    let mut path = if rng.chance(0.6) {
        format!("/posts/{}", rng.pick(&POSTS))
    } else {
        "/".to_owned()
    };
    for n in 0..6 {
        let mut r = req(t, ip, ua, "GET", path.clone(), 200);
        r.secs = 0.05 + rng.exp(0.15);
        r.bytes = rng.range(12_000, 60_000) as u64;
        r.referer = referer.clone();
        r.h2 = rng.chance(0.7);
        if path.ends_with("care-for-wool") && rng.chance(0.3) {
            // A PHP warning on one post, logged by nginx from FastCGI's stderr.
            errors.push(error_line(
                t,
                "error",
                &format!(
                    "FastCGI sent in stderr: \"PHP message: PHP Warning:  Undefined array key \"thumbnail\" in /var/www/blog/wp-content/themes/shop/single.php on line 27\" while reading response header from upstream, client: {ip}, server: {BLOG}, request: \"GET {path} HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"{BLOG}\""
                ),
                rng,
            ));
        }
        out.push(r);
        if n == 0 {
            for a in [
                "/wp-content/themes/shop/style.css?ver=6.7",
                "/wp-includes/js/jquery/jquery.min.js?ver=3.7.1",
            ] {
                let mut r = req(t + 60_000, ip, ua, "GET", a.to_owned(), 200);
                r.secs = 0.0;
                r.bytes = rng.range(8_000, 90_000) as u64;
                r.referer = format!("https://{BLOG}{path}");
                out.push(r);
            }
        }
        referer = format!("https://{BLOG}{path}");
        if !rng.chance(0.45) {
            return;
        }
        t += ((10.0 + rng.exp(70.0)) * US as f64) as i64;
        path = if rng.chance(0.7) {
            format!("/posts/{}", rng.pick(&POSTS))
        } else {
            format!("/tags/{}", rng.pick(&["coat", "wool", "shop", "sale"]))
        };
    }
}

/// Five hours before `now` php-fpm hung: 504s with their error-log lines.
fn blog_incident(rng: &mut Rng, now: i64, out: &mut Vec<Req>, errors: &mut Vec<Line>) {
    let from = now - 5 * HOUR;
    for i in 0..9 {
        let t = from + i * 70 * US;
        let (ip, ua) = visitor(rng);
        let path = "/posts/2026-autumn-sale-report";
        let mut r = req(t, &ip, &ua, "GET", path.to_owned(), 504);
        r.secs = 60.001;
        r.bytes = 562;
        r.referer = "https://www.google.com/".to_owned();
        out.push(r);
        errors.push(error_line(
            t,
            "error",
            &format!(
                "upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, server: {BLOG}, request: \"GET {path} HTTP/2.0\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock\", host: \"{BLOG}\""
            ),
            rng,
        ));
    }
    errors.push(error_line(
        from + 11 * MIN,
        "warn",
        "an upstream response is buffered to a temporary file /var/cache/nginx/fastcgi_temp/3/02/0000000023 while reading upstream, client: 198.51.100.31, server: blog.example.jp, request: \"GET /feed HTTP/1.1\", upstream: \"fastcgi://unix:/run/php/php8.2-fpm.sock:\", host: \"blog.example.jp\"",
        rng,
    ));
    // A scanner's probes: 404 in the access log, "open() failed" in the error log.
    let t0 = now - 9 * HOUR;
    for (i, p) in ["/wp-config.php.bak", "/.env", "/backup.zip"]
        .iter()
        .enumerate()
    {
        let t = t0 + i as i64 * US;
        let mut r = req(
            t,
            "198.51.100.240",
            "python-requests/2.32.3",
            "GET",
            (*p).to_owned(),
            404,
        );
        r.bytes = 548;
        r.h2 = false;
        out.push(r);
        errors.push(error_line(
            t,
            "error",
            &format!(
                "open() \"/var/www/blog{p}\" failed (2: No such file or directory), client: 198.51.100.240, server: {BLOG}, request: \"GET {p} HTTP/1.1\", host: \"{BLOG}\""
            ),
            rng,
        ));
    }
}

/// Rate limiting, a too-large upload, and the nightly log rotation.
fn blog_noise(rng: &mut Rng, start: i64, end: i64, errors: &mut Vec<Line>) {
    for _ in 0..4 {
        let t = rng.range(start, end);
        errors.push(error_line(
            t,
            "warn",
            &format!(
                "limiting requests, excess: {}.{:03} by zone \"blog\", client: 192.0.2.77, server: {BLOG}, request: \"POST /wp-comments-post.php HTTP/1.1\", host: \"{BLOG}\"",
                rng.range(5, 20),
                rng.range(0, 999)
            ),
            rng,
        ));
    }
    let t = rng.range(start, end);
    errors.push(error_line(
        t,
        "error",
        &format!(
            "client intended to send too large body: 15728640 bytes, client: 203.0.113.77, server: {BLOG}, request: \"POST /wp-admin/async-upload.php HTTP/2.0\", host: \"{BLOG}\""
        ),
        rng,
    ));
    // logrotate's reload at 04:00 JST.
    let tz = jst();
    let mut t = start;
    while t < end {
        if ts(t).to_zoned(tz.clone()).hour() == 4 {
            errors.push(Line {
                timestamp_ms: t / 1000,
                message: format!(
                    "{} [notice] 1#1: signal process started",
                    local_error_time(t)
                ),
            });
            break;
        }
        t += HOUR;
    }
}

fn local_error_time(us: i64) -> String {
    ts(us)
        .to_zoned(jst())
        .strftime("%Y/%m/%d %H:%M:%S")
        .to_string()
}

fn error_line(t: i64, level: &str, text: &str, rng: &mut Rng) -> Line {
    let worker = 1200 + rng.below(4);
    Line {
        timestamp_ms: t / 1000,
        message: format!(
            "{} [{level}] {worker}#{worker}: *{} {text}",
            local_error_time(t),
            rng.range(10_000, 99_999)
        ),
    }
}

/// The `extended` format: `combined` plus `$request_time $http_x_forwarded_proto $host`.
fn nginx_line(r: &Req) -> String {
    let local = ts(r.t)
        .to_zoned(jst())
        .strftime("%d/%b/%Y:%H:%M:%S %z")
        .to_string();
    let version = if r.h2 { "HTTP/2.0" } else { "HTTP/1.1" };
    format!(
        "{} - - [{local}] \"{} {} {version}\" {} {} \"{}\" \"{}\" {:.3} https {BLOG}",
        r.ip, r.method, r.path, r.status, r.bytes, r.referer, r.ua, r.secs
    )
}

// ---------------------------------------------------------------------------------------------
// Mail

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Delivered,
    Opened,
    /// The recipient's server refused it, in its own words ([`recipients::bounce`]).
    Bounced(Failure),
    Suppressed,
    AccountSuppressed,
    Complaint,
    Delayed,
}

/// What happens to most mail: delivered, and opened by almost half.
fn normal(rng: &mut Rng) -> Fate {
    if rng.chance(0.45) {
        Fate::Opened
    } else {
        Fate::Delivered
    }
}

impl Fate {
    /// The failure a recipient must be able to meet (a filter needs a carrier's customer).
    fn failure(self) -> Option<Failure> {
        match self {
            Fate::Bounced(f) => Some(f),
            _ => None,
        }
    }
}

struct Mail<'a> {
    names: &'a Names,
    events: Vec<(i64, &'static str, String)>,
    sent: usize,
    sample_bounce: String,
    fixed: FixedIds,
}

/// `=?UTF-8?B?…?=`, as mailers encode a Japanese subject.
fn encoded_word(text: &str) -> String {
    format!(
        "=?UTF-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

impl<'a> Mail<'a> {
    fn new(names: &'a Names) -> Mail<'a> {
        Mail {
            names,
            events: Vec::new(),
            sent: 0,
            sample_bounce: String::new(),
            fixed: FixedIds::default(),
        }
    }

    fn day(&mut self, rng: &mut Rng, start: i64, end: i64, now: i64, orders: &[i64]) {
        self.order_mails(rng, orders);
        self.account_mails(rng, start, end);
        self.newsletter(rng, start, end);
        self.fixed_mails(rng, now);
    }

    /// Order confirmations follow the shop's checkouts.
    fn order_mails(&mut self, rng: &mut Rng, orders: &[i64]) {
        for (i, t) in orders.iter().enumerate() {
            let to = recipients::address(rng, None);
            let subject = format!(
                "【Example Shop】ご注文ありがとうございます（注文番号 {}）",
                10_100 + i
            );
            let fate = normal(rng);
            let encode = rng.chance(0.6);
            self.message(rng, *t, &to, &subject, encode, fate);
        }
    }

    /// Sign-ups and password resets through the day.
    fn account_mails(&mut self, rng: &mut Rng, start: i64, end: i64) {
        for _ in 0..24 {
            let t = diurnal_time(rng, start, end);
            // A sign-up to a phone address is where reception settings refuse mail most.
            let fate = match rng.float() {
                x if x < 0.03 => Fate::Bounced(Failure::UserUnknown),
                x if x < 0.08 => Fate::Bounced(Failure::Filtered),
                _ => normal(rng),
            };
            let to = recipients::address(rng, fate.failure());
            let subject = "【Example Shop】会員登録ありがとうございます";
            self.message(rng, t, &to, subject, true, fate);
        }
        for _ in 0..14 {
            let t = diurnal_time(rng, start, end);
            let to = recipients::address(rng, None);
            let fate = normal(rng);
            let subject = "Password reset / パスワード再設定のご案内";
            self.message(rng, t, &to, subject, false, fate);
        }
    }

    /// The newsletter at 10:00 JST, to 160 members.
    fn newsletter(&mut self, rng: &mut Rng, start: i64, end: i64) {
        let t = newsletter_time(start, end);
        // A bounce rate a little under SES's review level of 5 %, as a shop that cleans its
        // list now and then has.
        let special = [
            Fate::Bounced(Failure::UserUnknown),
            Fate::Bounced(Failure::Filtered),
            Fate::Bounced(Failure::MailboxFull),
            Fate::Bounced(Failure::Filtered),
            Fate::Bounced(Failure::Blocked),
            Fate::Bounced(Failure::UserUnknown),
            Fate::Bounced(Failure::Spam),
            Fate::Suppressed,
            Fate::AccountSuppressed,
            Fate::Bounced(Failure::MailboxFull),
            Fate::Complaint,
            Fate::Delayed,
        ];
        for i in 0..160 {
            let fate = if i % 13 == 5 && (i / 13) < special.len() {
                special[i / 13]
            } else {
                normal(rng)
            };
            let to = recipients::address(rng, fate.failure());
            let subject = "【Example Shop】冬のセール開催中！最大50%OFF";
            self.message(rng, t + i as i64 * 700_000, &to, subject, true, fate);
        }
    }

    /// The mails the examples and the browser tests look up, and the sample bounce.
    fn fixed_mails(&mut self, rng: &mut Rng, now: i64) {
        self.fixed.hard_bounce = self.message(
            rng,
            now - 5 * HOUR,
            HARD_BOUNCE_TO,
            "【Example Shop】ご注文ありがとうございます（注文番号 10001）",
            true,
            Fate::Bounced(Failure::UserUnknown),
        );
        self.fixed.soft_bounce = self.message(
            rng,
            now - 4 * HOUR,
            SOFT_BOUNCE_TO,
            "【Example Shop】商品を発送しました",
            true,
            Fate::Bounced(Failure::MailboxFull),
        );
        self.fixed.delivered = self.message(
            rng,
            now - 3 * HOUR - 20 * MIN,
            DELIVERED_TO,
            "【Example Shop】パスワード再設定のご案内",
            false,
            Fate::Opened,
        );
        let hard = self
            .events
            .iter()
            .rev()
            .find(|(_, k, body)| *k == "Bounce" && body.contains(HARD_BOUNCE_TO))
            .map(|(_, _, body)| body.clone())
            .unwrap_or_default();
        self.sample_bounce = hard;
    }

    fn mail_object(&self, t: i64, id: &str, to: &str, subject: &str, outgoing: bool) -> Value {
        let n = self.names;
        let mut tags = json!({
            "ses:configuration-set": [n.ses_configuration_set],
            "ses:source-ip": ["192.0.2.10"],
            "ses:from-domain": ["example.jp"],
            "ses:caller-identity": ["example-shop-app"],
            "category": ["transactional"],
        });
        if outgoing {
            tags["ses:outgoing-ip"] = json!(["54.240.8.41"]);
        }
        json!({
            "timestamp": iso_ms(t),
            "source": FROM,
            "sourceArn": format!("arn:aws:ses:{}:{}:identity/example.jp", n.region, n.account_id),
            "sendingAccountId": n.account_id,
            "messageId": id,
            "destination": [to],
            "headersTruncated": false,
            "headers": [
                {"name": "From", "value": FROM},
                {"name": "To", "value": to},
                {"name": "Subject", "value": subject},
                {"name": "MIME-Version", "value": "1.0"},
                {"name": "Content-Type", "value": "text/plain; charset=UTF-8"},
                {"name": "Content-Transfer-Encoding", "value": "base64"},
            ],
            "commonHeaders": {
                "from": [FROM],
                "to": [to],
                "messageId": id,
                "subject": subject,
            },
            "tags": tags,
        })
    }

    fn push(&mut self, t: i64, kind: &'static str, event: Value) {
        self.events.push((t, kind, event.to_string()));
    }

    /// One message to one recipient and what happened to it; returns its message id.
    fn message(
        &mut self,
        rng: &mut Rng,
        t: i64,
        to: &str,
        subject: &str,
        encode: bool,
        fate: Fate,
    ) -> String {
        self.sent += 1;
        let id = format!(
            "0100019{}-{}-{}-{}-{}-{}-000000",
            rng.hex(9),
            rng.hex(8),
            rng.hex(4),
            rng.hex(4),
            rng.hex(4),
            rng.hex(12)
        );
        let subject = if encode {
            encoded_word(subject)
        } else {
            subject.to_owned()
        };
        let mail = self.mail_object(t, &id, to, &subject, false);
        self.push(
            t,
            "Send",
            json!({"eventType": "Send", "mail": mail, "send": {}}),
        );
        let sent = Sent {
            mail: self.mail_object(t, &id, to, &subject, true),
            to,
            t,
            delivered_at: t + rng.range(800_000, 6 * US),
        };
        self.outcome(rng, &sent, fate);
        id
    }

    /// The events after the Send event.
    fn outcome(&mut self, rng: &mut Rng, s: &Sent<'_>, fate: Fate) {
        let delivery = s.delivery(rng);
        match fate {
            Fate::Delivered => self.push(s.delivered_at, "Delivery", delivery),
            Fate::Opened | Fate::Complaint => {
                self.push(s.delivered_at, "Delivery", delivery);
                self.opened(rng, s, fate == Fate::Complaint);
            }
            Fate::Bounced(failure) => {
                let (kind, sub, status, diag) = recipients::bounce(failure, s.to);
                self.push(s.delivered_at, "Bounce", s.bounce(kind, sub, status, &diag));
            }
            Fate::Suppressed => {
                let b = s.bounce(
                    "Permanent",
                    "Suppressed",
                    "5.1.1",
                    "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.",
                );
                self.push(s.t + 200_000, "Bounce", b);
            }
            Fate::AccountSuppressed => {
                let b = s.bounce(
                    "Permanent",
                    "OnAccountSuppressionList",
                    "5.1.1",
                    "Amazon SES did not send the message to this address because it is on the suppression list for your account.",
                );
                self.push(s.t + 200_000, "Bounce", b);
            }
            Fate::Delayed => self.delayed(s, delivery),
        }
    }

    /// The recipient opens the message, and with `complain` reports it as spam.
    fn opened(&mut self, rng: &mut Rng, s: &Sent<'_>, complain: bool) {
        let opened = s.delivered_at + (rng.exp(50.0 * 60.0) * US as f64) as i64 + 20 * US;
        let (ip, ua) = visitor(rng);
        self.push(
            opened,
            "Open",
            json!({
                "eventType": "Open", "mail": s.mail.clone(),
                "open": {"ipAddress": ip, "timestamp": iso_ms(opened), "userAgent": ua},
            }),
        );
        if !complain {
            return;
        }
        let at = opened + 90 * US;
        self.push(
            at,
            "Complaint",
            json!({
                "eventType": "Complaint", "mail": s.mail.clone(),
                "complaint": {
                    "feedbackId": FEEDBACK_ID,
                    "complaintSubType": null,
                    "complainedRecipients": [{"emailAddress": s.to}],
                    "timestamp": iso_ms(at),
                    "userAgent": "Yahoo!-Mail-Feedback/2.0",
                    "complaintFeedbackType": "abuse",
                    "arrivalDate": iso_ms(at - 30 * US),
                },
            }),
        );
    }

    /// A delay of 15 minutes, then `delivery` 40 minutes later.
    fn delayed(&mut self, s: &Sent<'_>, mut delivery: Value) {
        let at = s.t + 15 * MIN;
        self.push(
            at,
            "DeliveryDelay",
            json!({
                "eventType": "DeliveryDelay", "mail": s.mail.clone(),
                "deliveryDelay": {
                    "timestamp": iso_ms(at),
                    "delayType": "TransientCommunicationFailure",
                    "expirationTime": iso_ms(at + 12 * HOUR),
                    "delayedRecipients": [{
                        "emailAddress": s.to, "status": "4.4.1",
                        "diagnosticCode": "smtp; 421 4.4.1 Connection timed out",
                    }],
                },
            }),
        );
        let done = at + 40 * MIN;
        delivery["delivery"]["timestamp"] = json!(iso_ms(done));
        delivery["delivery"]["processingTimeMillis"] = json!((done - s.t) / 1000);
        self.push(done, "Delivery", delivery);
    }
}

/// The feedback id of the demo's bounces and complaints.
const FEEDBACK_ID: &str = "01000193f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c-000000";

/// A message SES accepted for one recipient, and when the recipient's server answered.
struct Sent<'a> {
    /// The event's `mail` object.
    mail: Value,
    to: &'a str,
    /// When SES accepted it, µs.
    t: i64,
    /// When the recipient's server answered, µs.
    delivered_at: i64,
}

impl Sent<'_> {
    /// The Delivery event.
    fn delivery(&self, rng: &mut Rng) -> Value {
        let domain = self.to.rsplit('@').next().unwrap_or("example.jp");
        json!({
            "eventType": "Delivery",
            "mail": self.mail.clone(),
            "delivery": {
                "timestamp": iso_ms(self.delivered_at),
                "processingTimeMillis": (self.delivered_at - self.t) / 1000,
                "recipients": [self.to],
                "smtpResponse": format!("250 2.0.0 OK  {} {}.{} - gsmtp", self.delivered_at / US, rng.hex(8), domain),
                "remoteMtaIp": "192.0.2.25",
                "reportingMTA": "a8-41.smtp-out.amazonses.com",
            },
        })
    }

    /// A Bounce event with SES's type and subtype, the status and the server's words.
    fn bounce(&self, kind: &str, sub: &str, status: &str, diag: &str) -> Value {
        json!({
            "eventType": "Bounce",
            "mail": self.mail.clone(),
            "bounce": {
                "feedbackId": FEEDBACK_ID,
                "bounceType": kind,
                "bounceSubType": sub,
                "bouncedRecipients": [{
                    "emailAddress": self.to, "action": "failed", "status": status,
                    "diagnosticCode": diag,
                }],
                "timestamp": iso_ms(self.delivered_at),
                "reportingMTA": "dsn; a8-41.smtp-out.amazonses.com",
                "remoteMtaIp": "192.0.2.25",
            },
        })
    }
}

/// Firehose's objects: one per event type and hour, newline-delimited JSON, gzip, under the
/// dynamic-partitioning prefix `ses/partitioned/<EventType>/yyyy/MM/dd/`.
fn firehose_objects(
    rng: &mut Rng,
    names: &Names,
    events: &[(i64, &'static str, String)],
) -> Vec<Object> {
    let mut groups: BTreeMap<(&str, i64), (i64, String)> = BTreeMap::new();
    for (t, kind, body) in events {
        // Firehose delivers a few minutes after the event (its buffer interval).
        let arrival = t + 3 * MIN;
        let e = groups
            .entry((kind, arrival / HOUR))
            .or_insert_with(|| (arrival, String::new()));
        e.1.push_str(body);
        e.1.push('\n');
    }
    groups
        .into_iter()
        .map(|((kind, _), (first, text))| {
            let t = ts(first);
            let key = format!(
                "{prefix}partitioned/{kind}/{date}/{stream}-1-{stamp}-{a}-{b}-{c}-{d}-{e}.gz",
                prefix = names.prefixes.ses,
                date = t.strftime("%Y/%m/%d"),
                stream = names.firehose,
                stamp = t.strftime("%Y-%m-%d-%H-%M-%S"),
                a = rng.hex(8),
                b = rng.hex(4),
                c = rng.hex(4),
                d = rng.hex(4),
                e = rng.hex(12),
            );
            Object {
                bucket: names.buckets.mail.clone(),
                key,
                body: gzip(&text),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn day() -> Day {
        let names = Names::embedded().unwrap();
        generate(&names, 1_795_000_000 * US)
    }

    fn text(o: &Object) -> String {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&o.body[..])
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn the_newsletter_falls_inside_the_day_at_any_time_of_run() {
        // Every minute of a day: the 10:00 JST hour itself is where rounding went wrong.
        let base = 1_795_000_000 * US / HOUR * HOUR;
        for minute in 0..24 * 60 {
            let now = base + minute * MIN;
            let (start, end) = (now - 24 * HOUR, now - MIN);
            let t = newsletter_time(start, end);
            assert!(
                start <= t && t + 20 * MIN <= end,
                "now {now}: newsletter at {t}"
            );
            let jst_hour = ts(t).to_zoned(jst()).hour();
            assert!(
                jst_hour == 10 || t == end - 20 * MIN,
                "now {now}: hour {jst_hour}"
            );
        }
    }

    #[test]
    fn a_day_is_big_enough_and_deterministic() {
        let a = day();
        let b = day();
        assert_eq!(a.objects.len(), b.objects.len());
        assert_eq!(a.objects[3].key, b.objects[3].key);
        assert!(a.counts.alb_requests > 3000, "{:?}", a.counts);
        assert!(a.counts.nginx_access > 300, "{:?}", a.counts);
        assert!(a.counts.nginx_error >= 10, "{:?}", a.counts);
        assert!(a.counts.bounces >= 10, "{:?}", a.counts);
        assert!(a.sample_bounce.contains(HARD_BOUNCE_TO));
    }

    /// The bounces reach the providers the mail overview names, each in its own words: the
    /// carriers' reception settings read as `filtered`, not only example domains (その他).
    #[test]
    fn bounces_come_from_real_providers_in_their_words() {
        use logdesk_core::bounce::{BounceFacts, classify};
        use logdesk_core::provider::Provider;
        let d = day();
        let mut providers = std::collections::BTreeSet::new();
        let mut filtered = 0;
        let bounces = d.objects.iter().filter(|o| o.key.contains("/Bounce/"));
        for line in bounces.map(text).collect::<String>().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let b = &v["bounce"];
            let r = &b["bouncedRecipients"][0];
            let to = r["emailAddress"].as_str().unwrap();
            let domain = to.rsplit('@').next().unwrap();
            let code = classify(&BounceFacts {
                bounce_type: b["bounceType"].as_str().unwrap(),
                bounce_subtype: b["bounceSubType"].as_str().unwrap(),
                status: r["status"].as_str(),
                diagnostic: r["diagnosticCode"].as_str(),
                remote_mta: None,
                recipient_domain: Some(domain),
            });
            if let Some(p) = Provider::from_domain(domain) {
                providers.insert(p.name(logdesk_core::bounce::Lang::En));
            }
            if code.as_str() == "filtered" {
                assert!(
                    matches!(
                        Provider::from_domain(domain),
                        Some(Provider::Docomo | Provider::Au)
                    ),
                    "{to}"
                );
                filtered += 1;
            }
        }
        assert!(filtered >= 3, "{filtered}");
        assert!(providers.len() >= 4, "{providers:?}");
    }

    /// Every request the load balancer forwarded has its nginx line, in the kit's format,
    /// with the same trace id; the blog keeps its `extended` lines.
    #[test]
    fn the_shop_logs_each_forwarded_request_in_nginx_too() {
        let d = day();
        let formats = logdesk_core::nginx::LogFormat::defaults();
        let alb: String = d
            .objects
            .iter()
            .filter(|o| o.key.contains("elasticloadbalancing"))
            .map(text)
            .collect();
        let mut shop = 0;
        for l in &d.nginx_access {
            let r = formats
                .iter()
                .find_map(|f| f.parse_line(&l.message).ok())
                .unwrap_or_else(|| panic!("unread: {}", l.message));
            if r.host.as_deref() != Some(HOST) {
                continue;
            }
            shop += 1;
            assert!(l.message.starts_with("{\"time\":"), "{}", l.message);
            let trace = r.trace_id.unwrap();
            assert!(alb.contains(&format!("\"{trace}\"")), "{trace}");
            assert!(LB_NODES.contains(&r.client_ip.as_deref().unwrap()));
            assert!(r.forwarded_for.is_some());
        }
        assert_eq!(shop, d.counts.nginx_access - d.counts.nginx_blog);
        // All but the incident's 502s (target reset: nginx logged nothing).
        let reset = alb.matches(" 502 - ").count();
        assert_eq!(shop + reset, d.counts.alb_requests, "{:?}", d.counts);
        assert!(d.nginx_access.is_sorted_by_key(|l| l.timestamp_ms));
    }

    #[test]
    fn the_fixed_content_is_there() {
        let d = day();
        let alb: String = d
            .objects
            .iter()
            .filter(|o| o.key.contains("elasticloadbalancing"))
            .map(text)
            .collect();
        for p in VISITOR_PATHS {
            let needle = format!("\"GET https://www.example.jp:443{p} HTTP/2.0\" \"{VISITOR_UA}\"");
            assert!(alb.contains(&needle), "{p}");
        }
        assert!(alb.contains(" 500 500 "));
        let mail: String = d
            .objects
            .iter()
            .filter(|o| o.key.starts_with("ses/"))
            .map(text)
            .collect();
        assert!(mail.contains(HARD_BOUNCE_TO) && mail.contains("550 5.1.1"));
        assert!(mail.contains(SOFT_BOUNCE_TO) && mail.contains("552 5.2.2"));
        assert!(mail.contains(DELIVERED_TO));
        assert!(mail.contains("=?UTF-8?B?"));
        for o in &d.objects {
            assert!(o.key.ends_with(".gz"), "{}", o.key);
        }
    }
}
