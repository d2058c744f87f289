//! `/v1/stats` through Logs Insights (aws-smithy-mocks) against the local engine on the same
//! records: the sample day plus ALB records delivered natively to the group
//! (`tests/data/alb-native-day.jsonl`, built from the documented field list: numbers written
//! as strings and as numbers, `-1` times, a `-` target status and User-Agent, an IPv6
//! client). Insights answers what each query yields on those records (`canned`), so the two
//! engines must give the same totals, series and breakdowns, and the queries must read native
//! records.

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_smithy_mocks::{RuleMode, mock_client};
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, router};
use serde_json::Value;

mod canned;
mod support;
use support::{budget_config, get};

/// 2026-11-20T00:00:00Z in µs.
const BASE: i64 = 1_795_132_800_000_000;

const STATS: &str =
    "/v1/stats?from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z&source=lb&interval=1h";

/// The native records of the fixture, each at its `time` (the event time delivery gives it).
fn native_events() -> Vec<(i64, String)> {
    include_str!("data/alb-native-day.jsonl")
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let t = jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%.fZ", v["time"].as_str().unwrap())
                .or_else(|_| v["time"].as_str().unwrap().parse::<jiff::Timestamp>())
                .unwrap();
            (t.as_millisecond(), l.to_owned())
        })
        .collect()
}

fn events() -> Vec<(i64, String)> {
    let mut all: Vec<(i64, String)> = synthetic::day(BASE)
        .into_iter()
        .filter(|e| e.group == Group::Lb)
        .map(|e| (e.timestamp, e.message))
        .collect();
    all.extend(native_events());
    all
}

fn app(events: &[(i64, String)], rules: &[aws_smithy_mocks::Rule]) -> axum::Router {
    let mut src = MemorySource::new(1000);
    for (t, m) in events {
        src.push("/logdesk/lb", *t, m.clone());
    }
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    router(AppState::new(budget_config(20_000), Arc::new(src)).with_insights(client))
}

#[tokio::test]
async fn native_records_are_read_and_both_engines_agree() {
    let events = events();
    let records = canned::lb_records(&events);
    // Every native record of the fixture reads as a request.
    assert_eq!(
        canned::lb_records(&native_events()).len(),
        native_events().len()
    );
    let (rules, seen) = canned::rules(move |q| canned::stats_rows(&records, q));
    let app = app(&events, &rules);
    let by_insights = get(&app, STATS).await;
    let local = get(&app, &format!("{STATS}&engine=local")).await;
    assert_eq!(by_insights["engine"], "logs_insights", "{by_insights}");
    assert_eq!(local["engine"], "memory");
    assert_eq!(by_insights["partial"], false);
    // Six queries, each reading our records and native ones alike.
    let started = seen.started.lock().unwrap().clone();
    assert_eq!(started.len(), 6);
    for q in &started {
        assert!(q.contains("or ispresent(request_line)"), "{q}");
        assert!(q.contains("coalesce(s, elb_status_code) as st"), "{q}");
    }
    let (a, b) = (&by_insights["stats"], &local["stats"]);
    for path in [
        "/count",
        "/lb/client_errors",
        "/lb/server_errors",
        "/target/server_errors",
        "/latency/median",
        "/latency/p95",
        "/latency/max",
        "/bucket_seconds",
        "/buckets",
        "/breakdowns/unique_visitors",
        "/breakdowns/status",
        "/breakdowns/browser",
        "/breakdowns/os",
        "/breakdowns/device",
        "/breakdowns/referrer",
    ] {
        assert_eq!(a.pointer(path), b.pointer(path), "{path}");
    }
    // The native 404 and 502 are counted (the sample day alone has neither in the first
    // hours' native records).
    let status = &a["breakdowns"]["status"];
    assert!(
        status.as_array().unwrap().iter().any(|s| s["key"] == "502"),
        "{status}"
    );
    assert_eq!(
        a["breakdowns"]["approximate"],
        serde_json::json!(["unique_visitors"])
    );
    assert_eq!(b["breakdowns"]["approximate"], serde_json::json!([]));
}

#[tokio::test]
async fn filters_apply_to_native_records_as_to_ours() {
    let events = events();
    let records = canned::lb_records(&events);
    // The filter an Insights query expresses, applied by the canned answer the way the query
    // applies it: the API re-checks nothing of an aggregate, so the numbers must match.
    let (rules, seen) = canned::rules(move |q| {
        let kept: Vec<(i64, logdesk_core::record::RequestRecord)> = records
            .iter()
            .filter(|(_, r)| {
                r.client_ip.as_deref() == Some("198.51.100.7")
                    && r.status.is_some_and(|s| (500..=599).contains(&s))
                    || r.client_ip.as_deref() == Some("198.51.100.7")
                        && r.target_status.is_some_and(|s| (500..=599).contains(&s))
            })
            .cloned()
            .collect();
        canned::stats_rows(&kept, q)
    });
    let app = app(&events, &rules);
    let uri = format!("{STATS}&ip=198.51.100.7&status=5xx");
    let by_insights = get(&app, &uri).await;
    let local = get(&app, &format!("{uri}&engine=local")).await;
    assert_eq!(by_insights["engine"], "logs_insights");
    // The sample day's 502 for that client and the native one.
    assert_eq!(by_insights["stats"]["count"], 2, "{by_insights}");
    assert_eq!(by_insights["stats"]["count"], local["stats"]["count"]);
    assert_eq!(
        by_insights["stats"]["breakdowns"]["status"],
        local["stats"]["breakdowns"]["status"]
    );
    let started = seen.started.lock().unwrap().clone();
    assert!(
        started
            .iter()
            .all(|q| q.contains("| filter cip = \"198.51.100.7\"\n")),
        "{started:?}"
    );
}

// ---- /v1/mail/stats ----

const MAIL_STATS: &str = "/v1/mail/stats?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z";

fn mail_events() -> Vec<(i64, String)> {
    synthetic::day(BASE)
        .into_iter()
        .filter(|e| e.group == Group::Mail)
        .map(|e| (e.timestamp, e.message))
        .collect()
}

fn mail_app(events: &[(i64, String)], rules: &[aws_smithy_mocks::Rule]) -> axum::Router {
    mail_app_within(events, rules, 20_000)
}

fn mail_app_within(
    events: &[(i64, String)],
    rules: &[aws_smithy_mocks::Rule],
    budget_ms: u64,
) -> axum::Router {
    let mut src = MemorySource::new(1000);
    for (t, m) in events {
        src.push("/logdesk/mail", *t, m.clone());
    }
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    router(AppState::new(budget_config(budget_ms), Arc::new(src)).with_insights(client))
}

#[tokio::test]
async fn mail_stats_through_insights_are_the_local_engines() {
    let events = mail_events();
    let records = canned::mail_records(&events);
    assert!(records.iter().any(|(_, r)| r.event == "Bounce"));
    let (rules, seen) = canned::rules(move |q| canned::mail_rows(&records, q));
    let app = mail_app(&events, &rules);
    for interval in ["1h", "1d"] {
        let uri = format!("{MAIL_STATS}&interval={interval}");
        let by_insights = get(&app, &uri).await;
        let local = get(&app, &format!("{uri}&engine=local")).await;
        assert_eq!(by_insights["engine"], "logs_insights", "{by_insights}");
        assert_eq!(local["engine"], "memory");
        assert_eq!(by_insights["partial"], false);
        assert_eq!(by_insights["covered_to"], local["covered_to"]);
        assert_eq!(by_insights["stats"], local["stats"], "{interval}");
        assert!(by_insights["stats"]["totals"]["sent"].as_u64().unwrap() > 0);
    }
    assert_eq!(
        seen.started.lock().unwrap().len(),
        6,
        "three queries a request"
    );
    // A short range, or engine=local, reads locally; engine=insights without Insights is a 400.
    let short = get(
        &app,
        "/v1/mail/stats?from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z",
    )
    .await;
    assert_eq!(short["engine"], "memory");
    let no_insights = support::app(MemorySource::new(10), 20_000);
    let (status, v) = support::call(&no_insights, &format!("{MAIL_STATS}&engine=insights")).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["parameter"], "engine");
}

#[tokio::test]
async fn mail_stats_past_the_budget_continue_from_the_running_queries() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let events = mail_events();
    let records = canned::mail_records(&events);
    let held = Arc::new(AtomicBool::new(true));
    let (rules, seen) = canned::rules_held(move |q| canned::mail_rows(&records, q), held.clone());
    let app = mail_app_within(&events, &rules, 300);
    // Still running when the time is up: nothing covered, the queries carried.
    let first = get(&app, MAIL_STATS).await;
    assert_eq!(first["engine"], "logs_insights");
    assert_eq!(first["partial"], true, "{first}");
    assert_eq!(first["covered_to"], first["from"]);
    assert_eq!(first["stats"]["totals"]["sent"], 0);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    assert_eq!(seen.started.lock().unwrap().len(), 3);
    // Complete now: read by id, not started again, and the whole answer.
    held.store(false, Ordering::SeqCst);
    let v = get(&app, &format!("{MAIL_STATS}&cursor={cursor}")).await;
    assert_eq!(v["partial"], false, "{v}");
    assert!(v.get("next_cursor").is_none());
    assert_eq!(seen.started.lock().unwrap().len(), 3, "read by id");
    let local = get(&app, &format!("{MAIL_STATS}&engine=local")).await;
    assert_eq!(v["stats"], local["stats"]);
    // The cursor belongs to its parameters.
    let (status, e) =
        support::call(&app, &format!("{MAIL_STATS}&interval=1d&cursor={cursor}")).await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["error"]["parameter"], "cursor");
}

/// The URL groups of both engines: the same groups in the same order with the same counts;
/// latencies the same where a group is one URL, and within the group's range where Insights'
/// percentiles of several URLs are estimated (`approximate`).
#[tokio::test]
async fn url_groups_through_insights_are_the_local_engines() {
    let events = events();
    let records = canned::lb_records(&events);
    let (rules, _) = canned::rules(move |q| canned::stats_rows(&records, q));
    let app = app(&events, &rules);
    for uri in [
        STATS.to_owned(),
        format!("{STATS}&top=3"),
        format!("{STATS}&url_groups=^/item/"),
    ] {
        let by_insights = get(&app, &uri).await;
        let local = get(&app, &format!("{uri}&engine=local")).await;
        assert_eq!(by_insights["engine"], "logs_insights", "{by_insights}");
        let (a, b) = (&by_insights["stats"], &local["stats"]);
        assert_eq!(a["group_count"], b["group_count"], "{uri}");
        assert_eq!(a["other_groups"], b["other_groups"], "{uri}");
        let (ga, gb) = (
            a["groups"].as_array().unwrap(),
            b["groups"].as_array().unwrap(),
        );
        assert!(!ga.is_empty(), "{uri}");
        assert_eq!(ga.len(), gb.len(), "{uri}");
        for (x, y) in ga.iter().zip(gb) {
            for key in [
                "method",
                "host",
                "group",
                "count",
                "client_errors",
                "server_errors",
                "target_server_errors",
                "lb_only_server_errors",
            ] {
                assert_eq!(x.get(key), y.get(key), "{uri} {key}: {x} vs {y}");
            }
            let (lx, ly) = (&x["latency"], &y["latency"]);
            assert_eq!(lx["max"], ly["max"], "{x} vs {y}");
            assert_eq!(lx["count"], ly["count"], "{x} vs {y}");
            if ly.is_null() {
                continue;
            }
            let mean = |l: &Value| l["mean"].as_f64().unwrap();
            assert!((mean(lx) - mean(ly)).abs() < 1e-9, "{x} vs {y}");
            for p in ["median", "p90", "p95", "p99"] {
                if x.get("approximate").is_some() {
                    let v = lx[p].as_f64().unwrap();
                    assert!(v >= 0.0 && v <= ly["max"].as_f64().unwrap(), "{p}: {x}");
                } else {
                    assert_eq!(lx[p], ly[p], "{p}: {x} vs {y}");
                }
            }
        }
    }
    // The sample day has groups of several URLs, so the estimate is exercised.
    let v = get(&app, STATS).await;
    assert!(
        v["stats"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["approximate"] == true),
        "{v}"
    );
}
