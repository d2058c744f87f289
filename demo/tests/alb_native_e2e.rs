//! ALB records CloudWatch Logs delivers natively (vended logs, JSON) read by every request
//! endpoint exactly like the records ingest writes from the S3 files: AWS's example requests,
//! once as native records (`shared/tests/data/alb-native-access.jsonl`) and once as our records
//! of the same S3 lines (`alb-samples.log`), each in its own load-balancer group of the
//! emulator, must give the same rows, filters, statistics and visits.

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use logdesk_api::source::CloudWatchSource;
use logdesk_api::{AppState, Config, router};
use logdesk_demo::stack::Clients;
use logdesk_e2e::{Emulator, http};
use serde_json::Value;

const S3_LINES: &str = include_str!("../../shared/tests/data/alb-samples.log");
const NATIVE: &str = include_str!("../../shared/tests/data/alb-native-access.jsonl");
/// The length of the examples' times, `2018-07-02T22:22:48.364000Z`.
const TIME_LEN: usize = 27;

/// The examples' times are from 2018 (two of them months apart); PutLogEvents takes events of
/// the last 14 days only. So the times of example `i` are moved by one amount, in the S3 line
/// and in the native record alike, so that its `time` lands on `base` + `i` minutes.
fn moved(text: &str, base: i64) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let first = first_time(l).expect("an example has a time");
            shifted(l, base + i as i64 * 60_000_000 - first)
        })
        .collect()
}

/// The first time in `line` (`time`, the second field of the line and the second key of the
/// record), µs.
fn first_time(line: &str) -> Option<i64> {
    (0..line.len()).find_map(|i| time_at(line, i))
}

fn time_at(text: &str, i: usize) -> Option<i64> {
    text.get(i..i + TIME_LEN)
        .filter(|w| w.starts_with("20") && w.ends_with('Z') && w.as_bytes()[10] == b'T')
        .and_then(|w| w.parse::<jiff::Timestamp>().ok())
        .map(|t| t.as_microsecond())
}

/// `text` with every `YYYY-MM-DDTHH:MM:SS.ffffffZ` time moved by `shift_us`.
fn shifted(text: &str, shift_us: i64) -> String {
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        match time_at(text, i) {
            Some(t) => {
                let moved = jiff::Timestamp::from_microsecond(t + shift_us).unwrap();
                out.push_str(&moved.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
                i += TIME_LEN;
            }
            None => {
                let c = text[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    out
}

async fn put(c: &Clients, group: &str, messages: &[String], t_ms: i64) {
    for g in [group, "/t/mail", "/t/nginx/access", "/t/nginx/error"] {
        let _ = c.logs.create_log_group().log_group_name(g).send().await;
    }
    c.logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name("s")
        .send()
        .await
        .unwrap();
    let events: Vec<InputLogEvent> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            InputLogEvent::builder()
                .timestamp(t_ms + i as i64)
                .message(m)
                .build()
                .unwrap()
        })
        .collect();
    let out = c
        .logs
        .put_log_events()
        .log_group_name(group)
        .log_stream_name("s")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    assert!(out.rejected_log_events_info().is_none(), "{out:?}");
}

fn app(c: &Clients, lb_group: &str) -> axum::Router {
    let vars = [
        ("LB_LOG_GROUP", lb_group),
        ("MAIL_LOG_GROUP", "/t/mail"),
        ("NGINX_ACCESS_LOG_GROUP", "/t/nginx/access"),
        ("NGINX_ERROR_LOG_GROUP", "/t/nginx/error"),
        ("DEFAULT_TZ", "UTC"),
    ];
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    router(AppState::new(
        config,
        Arc::new(CloudWatchSource::new(c.logs.clone())),
    ))
}

async fn get(app: &axum::Router, uri: &str) -> Value {
    http::get_ok(app, uri).await
}

/// An answer without what differs by construction between two groups: row ids (event ids)
/// and the links made of them, and paging cursors.
fn comparable(mut v: Value) -> Value {
    if let Some(rows) = v.get_mut("rows").and_then(Value::as_array_mut) {
        for r in rows {
            if let Some(o) = r.as_object_mut() {
                o.remove("id");
                o.remove("linked");
            }
        }
    }
    if let Some(o) = v.as_object_mut() {
        o.remove("next");
        o.remove("cursor");
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_records_read_like_the_s3_path() {
    let emulator = Emulator::start().expect("start emulator");
    let c = Clients::new(&emulator.endpoint(), "us-east-1").await;
    let now_us = logdesk_demo::now_us();
    let base = (now_us - 2 * 3_600_000_000) / 60_000_000 * 60_000_000;
    let ours: Vec<String> = moved(S3_LINES, base)
        .iter()
        .map(|l| logdesk_core::alb::parse_record(l).unwrap().to_json())
        .collect();
    let native = moved(NATIVE, base);
    assert_eq!(ours.len(), 7);
    assert_eq!(native.len(), 7);
    put(&c, "/t/ours", &ours, base / 1000).await;
    put(&c, "/t/native", &native, base / 1000).await;
    let (a, b) = (app(&c, "/t/ours"), app(&c, "/t/native"));

    let fmt = |us: i64| {
        logdesk_api::params::format_time(us, &logdesk_api::params::Zone::UTC)
            .replace('+', "%2B")
            .replace(':', "%3A")
    };
    let range = format!("from={}&to={}", fmt(base - 3_600_000_000), fmt(now_us));
    let uris = [
        format!("/v1/access?{range}&source=lb&limit=100"),
        format!("/v1/access?{range}&source=lb&status=5xx"),
        format!("/v1/access?{range}&source=lb&ip=192.168.131.39"),
        format!("/v1/access?{range}&source=lb&path=/"),
        format!("/v1/access?{range}&trace_id=Root=1-58337262-36d228ad5d99923122bbe354"),
        format!("/v1/stats?{range}&interval=1h"),
        format!("/v1/visits?{range}&ip=192.168.131.39"),
    ];
    for uri in &uris {
        let (x, y) = (get(&a, uri).await, get(&b, uri).await);
        assert_eq!(comparable(x), comparable(y), "{uri}");
    }
    // Not empty answers compared: the listing has every request, the trace id finds one.
    let all = get(&b, &uris[0]).await;
    assert_eq!(all["rows"].as_array().map(Vec::len), Some(7), "{all}");
    assert!(
        all["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["source"] == "alb")
    );
    let one = get(&b, &uris[4]).await;
    assert_eq!(one["rows"].as_array().map(Vec::len), Some(1), "{one}");
}
