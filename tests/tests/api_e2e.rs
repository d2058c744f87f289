//! The query API end to end: a day of mail, load-balancer, nginx access and nginx error events
//! put into the emulator's CloudWatch Logs with PutLogEvents, then read through the router with
//! the real FilterLogEvents reader. The emulator ignores filter patterns, so these tests also
//! show the API filters exactly on its own side.

use logdesk_e2e::http;
use std::sync::Arc;

use axum::http::StatusCode;
use logdesk_api::source::CloudWatchSource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, Config, router};
use logdesk_e2e::Emulator;
use serde_json::Value;

const GROUPS: [(Group, &str); 4] = [
    (Group::Lb, "/logdesk/lb"),
    (Group::Mail, "/logdesk/mail"),
    (Group::NginxAccess, "/logdesk/nginx/access"),
    (Group::NginxError, "/logdesk/nginx/error"),
];

async fn logs_client(emulator: &Emulator) -> aws_sdk_cloudwatchlogs::Client {
    let config = emulator.sdk_config().await;
    aws_sdk_cloudwatchlogs::Client::new(&config)
}

/// Seeds the sample day starting at `base_us` and returns the router over the emulator.
async fn seeded(emulator: &Emulator, base_us: i64, extra: &[(&str, &str)]) -> axum::Router {
    let logs = logs_client(emulator).await;
    let events = synthetic::day(base_us);
    for (group, name) in GROUPS {
        let mine: Vec<(i64, &str)> = events
            .iter()
            .filter(|e| e.group == group)
            .map(|e| (e.timestamp, e.message.as_str()))
            .collect();
        logdesk_e2e::log_group_with(&logs, name, &mine).await;
    }
    app_over(logs, extra)
}

/// The router over the emulator's groups, with `extra` settings.
fn app_over(logs: aws_sdk_cloudwatchlogs::Client, extra: &[(&str, &str)]) -> axum::Router {
    let mut vars = vec![
        ("LB_LOG_GROUP", "/logdesk/lb"),
        ("MAIL_LOG_GROUP", "/logdesk/mail"),
        ("NGINX_ACCESS_LOG_GROUP", "/logdesk/nginx/access"),
        ("NGINX_ERROR_LOG_GROUP", "/logdesk/nginx/error"),
    ];
    vars.extend_from_slice(extra);
    let config = Config::from_lookup(|k| {
        vars.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    router(AppState::new(config, Arc::new(CloudWatchSource::new(logs))))
}

/// The start of the sample day: two hours ago, on a whole minute (PutLogEvents refuses events
/// older than 14 days, so the day cannot be a fixed date).
fn base_us() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    (now - 7200) / 60 * 60 * 1_000_000
}

fn range(base: i64) -> String {
    let t = |us: i64| {
        // RFC 3339 in UTC without pulling a date crate into the test: seconds since the epoch
        // formatted by the API's own helper.
        logdesk_api::params::format_time(us, &jiff_utc())
    };
    format!(
        "from={}&to={}",
        enc(&t(base)),
        enc(&t(base + 3_600_000_000))
    )
}

fn jiff_utc() -> logdesk_api::params::Zone {
    logdesk_api::params::Zone::UTC
}

fn enc(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

async fn call(app: &axum::Router, uri: &str, headers: &[(&str, &str)]) -> (StatusCode, Vec<u8>) {
    let a = http::request(app, "GET", uri, headers).await;
    (a.status, a.body)
}

async fn get(app: &axum::Router, uri: &str) -> Value {
    http::get_ok(app, uri).await
}

fn col<'a>(v: &'a Value, key: &str) -> Vec<&'a Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r[key])
        .collect()
}

#[tokio::test]
async fn every_endpoint_against_the_emulator() {
    let emulator = Emulator::start().expect("start emulator");
    let base = base_us();
    let app = seeded(&emulator, base, &[]).await;
    let r = range(base);

    // Mail: rows, filters (the emulator returns everything: the API narrows), pagination.
    let v = get(&app, &format!("/v1/mail?{r}")).await;
    assert_eq!(v["engine"], "filter_log_events");
    assert_eq!(v["partial"], false);
    assert_eq!(
        col(&v, "message_id"),
        ["m-0004", "m-0003", "m-0003", "m-0002", "m-0001"]
    );
    let v = get(&app, &format!("/v1/mail?{r}&recipient=HANAKO")).await;
    assert_eq!(col(&v, "to"), ["Hanako@Example.JP"]);
    assert_eq!(v["rows"][0]["reason"]["code"], "user_unknown");
    let v = get(&app, &format!("/v1/mail?{r}&subject=%E5%87%BA%E9%A1%98")).await; // 出願
    assert_eq!(col(&v, "message_id"), ["m-0003", "m-0003", "m-0001"]);
    let v = get(&app, &format!("/v1/mail?{r}&status=bounce")).await;
    assert_eq!(col(&v, "status"), ["Bounce", "Bounce"]);
    let mut ids = Vec::new();
    let mut uri = format!("/v1/mail?{r}&limit=2");
    for _ in 0..5 {
        let v = get(&app, &uri).await;
        ids.extend(col(&v, "to").into_iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/mail?{r}&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(ids.len(), 5);

    let v = get(&app, &format!("/v1/mail/m-0003?{r}")).await;
    assert_eq!(v["recipients"][1]["status"], "Bounce");
    assert_eq!(v["recipients"][1]["events"].as_array().unwrap().len(), 3);
    let (s, _) = call(&app, &format!("/v1/mail/m-9999?{r}"), &[]).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let v = get(&app, &format!("/v1/recipients/hanako%40example.jp?{r}")).await;
    assert_eq!(v["likely_suppressed"], true);
    assert_eq!(v["bounces"][0]["reason"]["code"], "user_unknown");

    // Access: both sources, filters, pagination across pages, the trace-id link.
    let v = get(&app, &format!("/v1/access?{r}")).await;
    assert_eq!(v["count"], 13);
    let linked: Vec<&Value> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| !row["linked"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(linked.len(), 2);
    for (q, want) in [
        ("ip=203.0.113.5", 7),
        ("status=5xx", 4),
        ("path=/apply", 6),
        ("source=nginx", 5),
        ("host=www.example.jp&status=404", 1),
        ("trace_id=Root%3D1-6740a000-000000000000000000000002", 2),
    ] {
        let v = get(&app, &format!("/v1/access?{r}&{q}")).await;
        assert_eq!(v["count"], want, "{q}");
    }
    let mut seen = Vec::new();
    let mut uri = format!("/v1/access?{r}&limit=3");
    for _ in 0..10 {
        let v = get(&app, &uri).await;
        seen.extend(col(&v, "id").into_iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/access?{r}&limit=3&cursor={c}"),
            None => break,
        }
    }
    let mut dedup = seen.clone();
    dedup.sort_by_key(|v| v.to_string());
    dedup.dedup();
    assert_eq!((seen.len(), dedup.len()), (13, 13));
    // Newest first (no Logs Insights here: the local engine reads the range back from its end):
    // the same rows in reverse, across pages, with the filters still exact.
    let mut newest = Vec::new();
    let mut uri = format!("/v1/access?{r}&limit=3&order=desc");
    for _ in 0..10 {
        let v = get(&app, &uri).await;
        assert_eq!(v["engine"], "filter_log_events");
        newest.extend(col(&v, "id").into_iter().cloned());
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/access?{r}&limit=3&order=desc&cursor={c}"),
            None => break,
        }
    }
    let oldest = col(&get(&app, &format!("/v1/access?{r}&limit=100")).await, "id")
        .into_iter()
        .cloned()
        .rev()
        .collect::<Vec<_>>();
    assert_eq!(newest, oldest);
    let v = get(
        &app,
        &format!("/v1/access?{r}&order=desc&path=/apply&limit=2"),
    )
    .await;
    assert_eq!(v["count"], 2);
    assert!(v["next_cursor"].is_string());

    // The aggregating endpoints with no time budget at all: whatever part each answer covers,
    // following the cursors adds up to the whole range.
    let app0 = app_over(logs_client(&emulator).await, &[("TIME_BUDGET_MS", "0")]);
    let (mut count, mut answers) = (0, 0);
    let mut uri = format!("/v1/stats?{r}&source=lb&interval=1m");
    loop {
        let v = get(&app0, &uri).await;
        answers += 1;
        assert!(answers < 200, "no progress");
        count += v["stats"]["count"].as_u64().unwrap();
        match v["next_cursor"].as_str() {
            Some(c) => uri = format!("/v1/stats?{r}&source=lb&interval=1m&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(count, 8);

    // Stats, visits, errors.
    let v = get(&app, &format!("/v1/stats?{r}&source=lb&interval=1h")).await;
    assert_eq!(v["stats"]["count"], 8);
    assert_eq!(v["stats"]["lb_only_server_errors"], 1);
    let v = get(&app, &format!("/v1/visits?{r}")).await;
    assert_eq!(col(&v, "ip"), ["203.0.113.5", "198.51.100.7"]);
    let v = get(&app, &format!("/v1/errors?{r}&level=warn")).await;
    assert_eq!(col(&v, "level"), ["error", "warn"]);

    // CSV.
    let (s, body) = call(
        &app,
        &format!("/v1/access?{r}&format=csv&source=nginx"),
        &[],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let text = String::from_utf8(body).unwrap();
    assert!(text.starts_with('\u{feff}'));
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(text.contains("/申込/ガイド"));

    // Errors.
    let (s, b) = call(&app, "/v1/access?status=abc", &[]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"]["parameter"], "status");
}

#[tokio::test]
async fn token_auth_against_the_emulator() {
    let emulator = Emulator::start().expect("start emulator");
    let base = base_us();
    // printf %s secret | sha256sum
    let hash = "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b";
    let app = seeded(
        &emulator,
        base,
        &[("AUTH_MODE", "token"), ("TOKEN_SHA256", hash)],
    )
    .await;
    let uri = format!("/v1/mail?{}", range(base));
    assert_eq!(call(&app, &uri, &[]).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        call(&app, &uri, &[("authorization", "Bearer nope")])
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let (s, b) = call(&app, &uri, &[("authorization", "Bearer secret")]).await;
    assert_eq!(s, StatusCode::OK);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["count"], 5);
}

/// A failed AWS call is a 500 with a request id and no internals.
#[tokio::test]
async fn a_missing_log_group_is_a_500_without_internals() {
    let emulator = Emulator::start().expect("start emulator");
    let logs = logs_client(&emulator).await;
    let config =
        Config::from_lookup(|k| (k == "MAIL_LOG_GROUP").then(|| "/no/such/group".to_owned()))
            .unwrap();
    let app = router(AppState::new(config, Arc::new(CloudWatchSource::new(logs))));
    let (s, b) = call(&app, "/v1/mail", &[]).await;
    assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
    let v: Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(v["error"]["code"], "internal");
    assert!(v["error"]["request_id"].is_string());
    let text = v.to_string();
    assert!(
        !text.contains("ResourceNotFound") && !text.contains("/no/such/group"),
        "{text}"
    );
}
