//! Synthetic log events for the tests, the end-to-end tests and the benchmark: a small, known
//! day of mail, load-balancer, nginx access and nginx error events, and any number of ALB
//! requests. Built from the core's record types, so they are what ingest writes. Compiled
//! only for tests and with the `test-support` feature, never into the function.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use logdesk_core::Record;
use logdesk_core::record::{MailRecord, RequestRecord};

use crate::source::MemorySource;

/// Which log group an event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Load-balancer records.
    Lb,
    /// Mail records.
    Mail,
    /// Raw nginx access lines.
    NginxAccess,
    /// Raw nginx error-log entries.
    NginxError,
}

impl Group {
    /// The group's name under `prefix` (`""` gives `/lb`, `/logdesk` gives `/logdesk/lb`).
    pub fn name(self, prefix: &str) -> String {
        let suffix = match self {
            Group::Lb => "/lb",
            Group::Mail => "/mail",
            Group::NginxAccess => "/nginx/access",
            Group::NginxError => "/nginx/error",
        };
        format!("{prefix}{suffix}")
    }
}

/// The day of [`day`] starting at `base_us` in a [`MemorySource`] with pages of `page_size`
/// events, each group under [`Group::name`] with `prefix`.
pub fn day_source(base_us: i64, prefix: &str, page_size: usize) -> MemorySource {
    let mut src = MemorySource::new(page_size);
    for e in day(base_us) {
        src.push(&e.group.name(prefix), e.timestamp, e.message);
    }
    src
}

/// One event to put: group, timestamp in ms, message.
#[derive(Debug, Clone)]
pub struct SampleEvent {
    /// The group.
    pub group: Group,
    /// Timestamp, ms.
    pub timestamp: i64,
    /// Message text.
    pub message: String,
}

const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const EDGE: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.0.0 Safari/537.36 Edg/114.0.1823.43";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

fn mail(t: i64, event: &str, mid: &str, to: &str, subject: &str) -> MailRecord {
    MailRecord {
        v: 1,
        t,
        event: event.to_owned(),
        message_id: mid.to_owned(),
        sent: Some(t),
        recipient: Some(to.to_owned()),
        from: Some("info@example.jp".to_owned()),
        from_name: Some("サンプル大学 入試課".to_owned()),
        subject: Some(subject.to_owned()),
        ..Default::default()
    }
}

fn alb(t: i64, ip: &str, path: &str, status: u16, target: Option<u16>, ua: &str) -> RequestRecord {
    RequestRecord {
        v: 1,
        t,
        end: Some(t + 50_000),
        kind: Some("https".to_owned()),
        server: Some("app/web-alb/50dc6c495c0c9188".to_owned()),
        client_ip: Some(ip.to_owned()),
        client_port: Some(50123),
        target_ip: Some("10.0.1.10".to_owned()),
        target_port: Some(80),
        method: Some("GET".to_owned()),
        url: Some(format!("https://www.example.jp:443{path}")),
        protocol: Some("HTTP/1.1".to_owned()),
        status: Some(status),
        target_status: target,
        received_bytes: Some(320),
        sent_bytes: Some(5120),
        user_agent: Some(ua.to_owned()),
        request_time: Some(0.001),
        target_time: Some(0.040),
        response_time: Some(0.001),
        ..Default::default()
    }
}

fn nginx_line(t_us: i64, ip: &str, request: &str, status: u16, ua: &str, secs: f64) -> String {
    let tz = TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC);
    let local = Timestamp::from_microsecond(t_us)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz)
        .strftime("%d/%b/%Y:%H:%M:%S %z")
        .to_string();
    format!(
        "{ip} - - [{local}] \"{request}\" {status} 5123 \"https://www.example.jp/\" \"{ua}\" {secs:.3} https www.example.jp"
    )
}

fn error_line(t_us: i64, level: &str, text: &str) -> String {
    let tz = TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC);
    let local = Timestamp::from_microsecond(t_us)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_zoned(tz)
        .strftime("%Y/%m/%d %H:%M:%S")
        .to_string();
    format!("{local} [{level}] 31#31: *1042 {text}")
}

/// A small known day starting at `base_us` (whole seconds recommended): 4 messages to 5
/// recipients, 8 ALB requests, 5 nginx access lines (one shares a trace id with an ALB row),
/// 3 nginx error entries. Times are within the first hour after `base_us`.
pub fn day(base_us: i64) -> Vec<SampleEvent> {
    let s = |secs: i64| base_us + secs * 1_000_000;
    let mut out = Vec::new();
    let mut push = |group: Group, t_us: i64, message: String| {
        out.push(SampleEvent {
            group,
            timestamp: t_us.div_euclid(1000),
            message,
        })
    };
    let rec = |r: Record| r.to_json();

    // m1: delivered, Japanese subject.
    push(
        Group::Mail,
        s(10),
        rec(Record::Mail(mail(
            s(10),
            "Send",
            "m-0001",
            "taro@example.jp",
            "【サンプル大学】出願受付のお知らせ",
        ))),
    );
    let mut d = mail(
        s(12),
        "Delivery",
        "m-0001",
        "taro@example.jp",
        "【サンプル大学】出願受付のお知らせ",
    );
    d.sent = Some(s(10));
    d.smtp_response = Some("250 2.0.0 OK".to_owned());
    push(Group::Mail, s(12), rec(Record::Mail(d)));
    // m2: hard bounce, mixed-case address.
    push(
        Group::Mail,
        s(60),
        rec(Record::Mail(mail(
            s(60),
            "Send",
            "m-0002",
            "Hanako@Example.JP",
            "Your application",
        ))),
    );
    let mut b = mail(
        s(63),
        "Bounce",
        "m-0002",
        "Hanako@Example.JP",
        "Your application",
    );
    b.sent = Some(s(60));
    b.bounce_type = Some("Permanent".to_owned());
    b.bounce_subtype = Some("General".to_owned());
    b.status = Some("5.1.1".to_owned());
    b.diagnostic = Some(
        "smtp; 550 5.1.1 <Hanako@Example.JP>: Recipient address rejected: User unknown".to_owned(),
    );
    push(Group::Mail, s(63), rec(Record::Mail(b)));
    // m3: two recipients; one delivered, one delayed then bounced (mailbox full).
    for to in ["a@example.com", "b@example.com"] {
        push(
            Group::Mail,
            s(120),
            rec(Record::Mail(mail(
                s(120),
                "Send",
                "m-0003",
                to,
                "出願書類の不備について",
            ))),
        );
    }
    let mut d = mail(
        s(121),
        "Delivery",
        "m-0003",
        "a@example.com",
        "出願書類の不備について",
    );
    d.sent = Some(s(120));
    push(Group::Mail, s(121), rec(Record::Mail(d)));
    let mut dd = mail(
        s(300),
        "DeliveryDelay",
        "m-0003",
        "b@example.com",
        "出願書類の不備について",
    );
    dd.sent = Some(s(120));
    dd.delay_type = Some("MailboxFull".to_owned());
    push(Group::Mail, s(300), rec(Record::Mail(dd)));
    let mut b = mail(
        s(900),
        "Bounce",
        "m-0003",
        "b@example.com",
        "出願書類の不備について",
    );
    b.sent = Some(s(120));
    b.bounce_type = Some("Transient".to_owned());
    b.bounce_subtype = Some("MailboxFull".to_owned());
    b.status = Some("5.2.2".to_owned());
    b.diagnostic = Some("smtp; 552 5.2.2 Mailbox full".to_owned());
    push(Group::Mail, s(900), rec(Record::Mail(b)));
    // m4: delivered, then a complaint.
    push(
        Group::Mail,
        s(1200),
        rec(Record::Mail(mail(
            s(1200),
            "Send",
            "m-0004",
            "c@example.org",
            "説明会のご案内",
        ))),
    );
    let mut d = mail(
        s(1201),
        "Delivery",
        "m-0004",
        "c@example.org",
        "説明会のご案内",
    );
    d.sent = Some(s(1200));
    push(Group::Mail, s(1201), rec(Record::Mail(d)));
    let mut c = mail(
        s(1500),
        "Complaint",
        "m-0004",
        "c@example.org",
        "説明会のご案内",
    );
    c.sent = Some(s(1200));
    c.complaint_type = Some("abuse".to_owned());
    push(Group::Mail, s(1500), rec(Record::Mail(c)));

    // ALB: one visitor on an iPhone, one on Edge, a bot, and a 502 without a target answer.
    let reqs = [
        (100, "203.0.113.5", "/apply/form", 200, Some(200), IPHONE),
        (
            160,
            "203.0.113.5",
            "/apply/confirm?id=123",
            200,
            Some(200),
            IPHONE,
        ),
        (400, "203.0.113.5", "/apply/done", 500, Some(500), IPHONE),
        (410, "203.0.113.5", "/static/app.js", 200, Some(200), IPHONE),
        (200, "198.51.100.7", "/news/12345", 200, Some(200), EDGE),
        (230, "198.51.100.7", "/news/67890", 404, Some(404), EDGE),
        (260, "198.51.100.7", "/api/submit", 502, None, EDGE),
        (300, "66.249.66.1", "/robots.txt", 200, Some(200), GOOGLEBOT),
    ];
    for (i, (t, ip, path, st, ts, ua)) in reqs.into_iter().enumerate() {
        let mut r = alb(s(t), ip, path, st, ts, ua);
        r.trace_id = Some(format!("Root=1-6740a000-00000000000000000000000{i}"));
        if st == 502 {
            r.error_reason = Some("TargetConnectionError".to_owned());
        }
        push(Group::Lb, s(t), rec(Record::Alb(r)));
    }

    // nginx access: raw lines (extended format), and one JSON record carrying the trace id
    // of the ALB request for /apply/done.
    let lines = [
        (
            101,
            "203.0.113.5",
            "GET /apply/form HTTP/1.1",
            200,
            IPHONE,
            0.043,
        ),
        (
            161,
            "203.0.113.5",
            "GET /apply/confirm?id=123 HTTP/1.1",
            200,
            IPHONE,
            0.051,
        ),
        (
            500,
            "2001:db8::1",
            "GET /申込/ガイド HTTP/2.0",
            200,
            EDGE,
            0.002,
        ),
        (
            520,
            "198.51.100.20",
            "POST /api/search?q=test HTTP/1.1",
            503,
            "curl/8.5.0",
            0.000,
        ),
    ];
    for (t, ip, request, st, ua, secs) in lines {
        push(
            Group::NginxAccess,
            s(t),
            nginx_line(s(t), ip, request, st, ua, secs),
        );
    }
    let mut n = alb(s(400), "203.0.113.5", "/apply/done", 500, None, IPHONE);
    n.url = Some("/apply/done".to_owned());
    n.server = Some("web-1".to_owned());
    n.host = Some("www.example.jp".to_owned());
    n.trace_id = Some("Root=1-6740a000-000000000000000000000002".to_owned());
    n.duration = Some(0.120);
    push(Group::NginxAccess, s(400), rec(Record::Nginx(n)));

    // nginx errors.
    push(
        Group::NginxError,
        s(400),
        error_line(
            s(400),
            "error",
            "upstream prematurely closed connection while reading response header from upstream, client: 203.0.113.5, server: www.example.jp, request: \"GET /apply/done HTTP/1.1\", upstream: \"http://127.0.0.1:9000/apply/done\", host: \"www.example.jp\"",
        ),
    );
    push(
        Group::NginxError,
        s(520),
        error_line(
            s(520),
            "warn",
            "limiting requests, excess: 20.480 by zone \"api\", client: 198.51.100.20, server: www.example.jp, request: \"POST /api/search?q=test HTTP/1.1\", host: \"www.example.jp\"",
        ),
    );
    push(
        Group::NginxError,
        s(1800),
        error_line(s(1800), "notice", "signal process started"),
    );

    out.sort_by_key(|e| e.timestamp);
    out
}

/// `n` ALB request records spread over `span_seconds` from `base_us`, deterministic: a mix of
/// paths (with ids that URL grouping collapses), clients, user agents, statuses and latencies.
pub fn alb_requests(
    n: usize,
    base_us: i64,
    span_seconds: i64,
) -> impl Iterator<Item = SampleEvent> {
    let step = (span_seconds.max(1) * 1_000_000) / (n.max(1) as i64);
    (0..n).map(move |i| {
        let x = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32;
        let t = base_us + step * i as i64;
        let path = match x % 6 {
            0 => format!("/news/{}", x % 5000),
            1 => "/apply/form".to_owned(),
            2 => format!("/api/items/{}?page={}", x % 997, x % 7),
            3 => "/".to_owned(),
            4 => format!("/static/app.{}.js", x % 3),
            _ => "/apply/confirm".to_owned(),
        };
        let status = match x % 50 {
            0 => 502,
            1 | 2 => 500,
            3..=6 => 404,
            _ => 200,
        };
        let target = if status == 502 { None } else { Some(status) };
        let ip = format!("198.51.{}.{}", x % 200, (x >> 8) % 250);
        let ua = [IPHONE, EDGE, GOOGLEBOT][(x % 3) as usize];
        let mut r = alb(t, &ip, &path, status, target, ua);
        r.target_time = Some((x % 1000) as f64 / 1000.0);
        SampleEvent {
            group: Group::Lb,
            timestamp: t.div_euclid(1000),
            message: Record::Alb(r).to_json(),
        }
    })
}
