//! ALB access records delivered natively to the load-balancer group (JSON keyed by the access
//! log's field names, no `k`), beside ours, through the emulator: every listing (both orders),
//! the filters (client IP, status, trace id) and the stats read them as the requests they
//! stand for. The fixture (`functions/api/tests/data/alb-native-day.jsonl`) is built from the
//! documented field list; its times are moved to two hours ago (PutLogEvents refuses events
//! older than 14 days).

use std::sync::Arc;

use logdesk_api::source::CloudWatchSource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, Config, router};
use logdesk_e2e::{Emulator, http};
use serde_json::Value;

const GROUP: &str = "/logdesk/lb";

/// `us` as RFC 3339 with microseconds, as ALB writes its times.
fn alb_time(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us)
        .unwrap()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// The fixture's native records moved to `base_us` on (each keeps its offset from the
/// fixture's first record), with their event time.
fn native_events(base_us: i64) -> Vec<(i64, String)> {
    let lines: Vec<Value> = include_str!("../../functions/api/tests/data/alb-native-day.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let t = |v: &Value, k: &str| -> i64 {
        v[k].as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_microsecond()
    };
    let first = t(&lines[0], "request_creation_time");
    lines
        .into_iter()
        .map(|mut v| {
            let shift = base_us - first;
            let (created, time) = (t(&v, "request_creation_time"), t(&v, "time"));
            v["request_creation_time"] = alb_time(created + shift).into();
            v["time"] = alb_time(time + shift).into();
            ((time + shift).div_euclid(1000), v.to_string())
        })
        .collect()
}

async fn seed(logs: &aws_sdk_cloudwatchlogs::Client, events: &[(i64, String)]) {
    let events: Vec<(i64, &str)> = events.iter().map(|(t, m)| (*t, m.as_str())).collect();
    logdesk_e2e::log_group_with(logs, GROUP, &events).await;
}

async fn get(app: &axum::Router, uri: &str) -> Value {
    http::get_ok(app, uri).await
}

fn ips(v: &Value) -> Vec<String> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["client_ip"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn native_alb_records_are_read_by_every_listing_and_the_stats() {
    let emulator = Emulator::start().expect("start emulator");
    let endpoint = emulator.endpoint();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&emulator.sdk_config().await);
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let base = (now_s - 7200) / 60 * 60 * 1_000_000;
    let ours: Vec<(i64, String)> = synthetic::day(base)
        .into_iter()
        .filter(|e| e.group == Group::Lb)
        .map(|e| (e.timestamp, e.message))
        .collect();
    let native = native_events(base + 30 * 60_000_000);
    let mut all = ours.clone();
    all.extend(native.iter().cloned());
    seed(&logs, &all).await;
    let config = Config::from_lookup(|k| match k {
        "AWS_ENDPOINT_URL" => Some(endpoint.clone()),
        "DEFAULT_TZ" => Some("UTC".to_owned()),
        _ => None,
    })
    .unwrap();
    let app = router(AppState::new(
        config,
        Arc::new(CloudWatchSource::new(logs.clone())),
    ));
    let range = format!(
        "from={}&to={}",
        alb_time(base - 3_600_000_000).replace(':', "%3A"),
        alb_time(base + 4 * 3_600_000_000).replace(':', "%3A")
    );
    let list = format!("/v1/access?{range}&source=lb&limit=1000");

    // Both orders list our records and the native ones, the same rows reversed.
    let asc = get(&app, &format!("{list}&order=asc")).await;
    let desc = get(&app, &format!("{list}&order=desc")).await;
    let n = asc["count"].as_u64().unwrap() as usize;
    assert_eq!(n, ours.len() + native.len(), "{asc}");
    assert_eq!(desc["count"], n);
    let mut reversed = ips(&desc);
    reversed.reverse();
    assert_eq!(reversed, ips(&asc));
    assert!(ips(&asc).iter().any(|ip| ip == "2001:db8::7"), "{asc}");

    // The filters read a native record's client IP, status and trace id.
    let by_ip = get(&app, &format!("{list}&ip=2001:db8::7")).await;
    assert_eq!(by_ip["count"], 1, "{by_ip}");
    assert_eq!(by_ip["rows"][0]["status"], 404);
    let by_trace = get(
        &app,
        &format!("{list}&trace_id=Root%3D1-673d2a12-0123456789abcdef01234567"),
    )
    .await;
    assert_eq!(by_trace["count"], 1, "{by_trace}");
    assert_eq!(by_trace["rows"][0]["status"], 502);
    let fives = get(&app, &format!("{list}&status=502")).await;
    assert!(
        fives["rows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["client_ip"] == "198.51.100.7"),
        "{fives}"
    );

    // The stats count them, with the native 404 in the breakdown.
    let stats = get(&app, &format!("/v1/stats?{range}&source=lb")).await;
    assert_eq!(stats["stats"]["count"], n, "{stats}");
    let status = stats["stats"]["breakdowns"]["status"].as_array().unwrap();
    assert!(status.iter().any(|s| s["key"] == "404"), "{status:?}");
    drop(emulator);
}
