//! Logs Insights queries that run past the time budget (aws-smithy-mocks): the answer is
//! `partial` with a cursor that carries the queries, nothing is stopped, and the request with
//! the cursor reads the same queries by id (no StartQuery) and answers in full once they are
//! complete. A carried query that was lost is started again once; lost again, it is an error.
//! A cursor given with other parameters, or to another endpoint, is a 400 naming `cursor`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::error::ErrorMetadata;
use aws_sdk_cloudwatchlogs::operation::get_query_results::{
    GetQueryResultsError, GetQueryResultsOutput,
};
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
use aws_sdk_cloudwatchlogs::operation::stop_query::StopQueryOutput;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, router};
use serde_json::Value;

mod support;
use support::{budget_config, call, get, get_csv, page_views};

/// 2026-11-20T00:00:00Z in µs.
const BASE: i64 = 1_795_132_800_000_000;

fn fields(pairs: &[(&str, String)]) -> Vec<ResultField> {
    pairs
        .iter()
        .map(|(f, v)| ResultField::builder().field(*f).value(v).build())
        .collect()
}

/// What the mocked Insights holds and saw. A query is Running until `done`; a query whose id
/// is in `lost` ends as that status (`unknown`: GetQueryResults does not know the id).
#[derive(Default)]
struct Insights {
    done: AtomicBool,
    /// For the split read: the newer half completes only once this is set.
    newer_half_done: AtomicBool,
    lost: Mutex<HashMap<String, &'static str>>,
    /// Every StartQuery: (query id, start s, end s, query text).
    started: Mutex<Vec<(String, i64, i64, String)>>,
}

impl Insights {
    fn starts(&self) -> usize {
        self.started.lock().unwrap().len()
    }

    fn lose(&self, id: &str, how: &'static str) {
        self.lost.lock().unwrap().insert(id.to_owned(), how);
    }
}

/// StartQuery (ids `q0`, `q1`, … in order), GetQueryResults (lost, Running, or `complete`'s
/// rows for the query) and StopQuery (counted: it must not be called).
fn insights_rules(
    ins: Arc<Insights>,
    complete: impl Fn(i64, i64, &str) -> Option<Vec<Vec<ResultField>>> + Send + Sync + 'static,
) -> Vec<Rule> {
    let seen = ins.clone();
    let start = mock!(Client::start_query).then_compute_response(move |r| {
        let mut s = seen.started.lock().unwrap();
        let id = format!("q{}", s.len());
        s.push((
            id.clone(),
            r.start_time().unwrap(),
            // endTime is sent one second past the part's last one (the query text keeps the
            // part's milliseconds): the part's last second is one less.
            r.end_time().unwrap() - 1,
            r.query_string().unwrap().to_owned(),
        ));
        MockResponse::Output(StartQueryOutput::builder().query_id(id).build())
    });
    let results = mock!(Client::get_query_results).then_compute_response(move |r| {
        let id = r.query_id().unwrap();
        match ins.lost.lock().unwrap().get(id) {
            Some(&"unknown") => {
                return MockResponse::Error(GetQueryResultsError::generic(
                    ErrorMetadata::builder()
                        .code("ResourceNotFoundException")
                        .message("Query does not exist")
                        .build(),
                ));
            }
            Some(status) => {
                return MockResponse::Output(
                    GetQueryResultsOutput::builder()
                        .status(QueryStatus::from(*status))
                        .build(),
                );
            }
            None => {}
        }
        let (_, s, e, q) = ins
            .started
            .lock()
            .unwrap()
            .iter()
            .find(|x| x.0 == id)
            .cloned()
            .unwrap_or_else(|| panic!("GetQueryResults for {id}, never started"));
        let rows = ins
            .done
            .load(Ordering::SeqCst)
            .then_some(())
            .and_then(|_| complete(s, e, &q));
        MockResponse::Output(match rows {
            Some(rows) => GetQueryResultsOutput::builder()
                .status(QueryStatus::Complete)
                .set_results(Some(rows))
                .build(),
            None => GetQueryResultsOutput::builder()
                .status(QueryStatus::Running)
                .build(),
        })
    });
    let stop =
        mock!(Client::stop_query).then_output(|| StopQueryOutput::builder().success(true).build());
    vec![start, results, stop]
}

/// The router over `events` (load-balancer group) with Insights answering through `rules`.
/// Raw-row query results over `all` (newest first, at most 10,000), except that a query
/// starting after second `held` keeps running until `newer_half_done`.
fn raw_rows(
    all: Arc<Vec<(i64, String)>>,
    ins: Arc<Insights>,
    held: i64,
) -> impl Fn(i64, i64, &str) -> Option<Vec<Vec<ResultField>>> + Send + Sync + 'static {
    move |s: i64, e: i64, _: &str| {
        if s > held && !ins.newer_half_done.load(Ordering::SeqCst) {
            return None;
        }
        let mut rows: Vec<&(i64, String)> = all
            .iter()
            .filter(|ev| (s..=e).contains(&ev.0.div_euclid(1000)))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
        rows.truncate(10_000);
        Some(
            rows.into_iter()
                .map(|ev| {
                    fields(&[
                        ("@timestamp", ev.0.to_string()),
                        ("@message", ev.1.clone()),
                        ("@ptr", "p".to_owned()),
                    ])
                })
                .collect(),
        )
    }
}

/// Every answer of the local engine to the visits request, over the same events.
async fn local_visits(events: &[(i64, String)]) -> Vec<Value> {
    let mut src = MemorySource::new(1000);
    for (t, m) in events {
        src.push("/logdesk/lb", *t, m.clone());
    }
    let reference = support::app(src, 60_000);
    support::follow(
        &reference,
        &VISITS.replace("engine=insights", "engine=local"),
    )
    .await
}

fn insights_app(events: &[(i64, String)], rules: &[Rule], budget_ms: u64) -> axum::Router {
    let mut src = MemorySource::new(1000);
    for (t, m) in events {
        src.push("/logdesk/lb", *t, m.clone());
    }
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    router(AppState::new(budget_config(budget_ms), Arc::new(src)).with_insights(client))
}

fn sample_day() -> Vec<(i64, String)> {
    synthetic::day(BASE)
        .into_iter()
        .filter(|e| e.group == Group::Lb)
        .map(|e| (e.timestamp, e.message))
        .collect()
}

// ---- /v1/stats ----

const STATS: &str =
    "/v1/stats?from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z&source=lb&interval=1h";

/// The six stats queries' results for the sample day.
fn stats_results(_: i64, _: i64, q: &str) -> Option<Vec<Vec<ResultField>>> {
    let s = |v: &str| v.to_owned();
    for key in ["st", "agent", "referrer"] {
        if q.contains(&format!("by {key}\n")) {
            let value = if key == "st" { "200" } else { "-" };
            return Some(vec![fields(&[(key, s(value)), ("count", s("8"))])]);
        }
    }
    if q.contains("by gm, gu\n") {
        return Some(vec![fields(&[
            ("gm", s("GET")),
            ("gu", s("https://www.example.com:443/apply")),
            ("count", s("8")),
            ("client_errors", s("1")),
            ("server_errors", s("2")),
            ("target_server_errors", s("1")),
            ("both_server_errors", s("1")),
            ("timed", s("8")),
            ("mean", s("0.042")),
            ("min", s("0.042")),
            ("p50", s("0.042")),
            ("p90", s("0.042")),
            ("p95", s("0.042")),
            ("p99", s("0.042")),
            ("max", s("0.042")),
        ])]);
    }
    Some(vec![if q.contains("as bucket") {
        fields(&[
            // (00:00Z + 9 h) / 1 h: the hour from 09:00 in Tokyo.
            ("bucket", s("498657")),
            ("count", s("8")),
            ("client_errors", s("1")),
            ("server_errors", s("2")),
            ("p50", s("0.042")),
            ("p95", s("0.042")),
            ("max", s("0.042")),
        ])
    } else {
        fields(&[
            ("count", s("8")),
            ("client_errors", s("1")),
            ("server_errors", s("2")),
            ("target_server_errors", s("1")),
            ("mean", s("0.042")),
            ("median", s("0.042")),
            ("p90", s("0.042")),
            ("p95", s("0.042")),
            ("p99", s("0.042")),
            ("max", s("0.042")),
            ("visitors", s("3")),
        ])
    }])
}

/// The first answer: the six queries still running when the budget ends.
async fn pending_stats(app: &axum::Router, ins: &Insights, rules: &[Rule]) -> (Value, String) {
    let v = get(app, STATS).await;
    assert_eq!(v["engine"], "logs_insights");
    assert_eq!(v["partial"], true, "{v}");
    // Nothing is exact before the queries complete: the answer covers nothing.
    assert_eq!(v["covered_to"], v["from"]);
    assert_eq!(v["stats"]["count"], 0);
    assert_eq!(v["stats"]["buckets"], serde_json::json!([]));
    assert_eq!(ins.starts(), 6);
    assert!(rules[1].num_calls() >= 2, "polled");
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");
    let cursor = v["next_cursor"].as_str().expect("a cursor").to_owned();
    (v, cursor)
}

#[tokio::test]
async fn stats_past_the_budget_continue_from_the_running_queries() {
    let ins = Arc::new(Insights::default());
    let rules = insights_rules(ins.clone(), stats_results);
    let app = insights_app(&sample_day(), &rules, 300);
    let (_, cursor) = pending_stats(&app, &ins, &rules).await;
    // Still running: partial again, with the same queries and no new one.
    let again = get(&app, &format!("{STATS}&cursor={cursor}")).await;
    assert_eq!(again["partial"], true);
    assert_eq!(again["next_cursor"], cursor.as_str());
    assert_eq!(ins.starts(), 6);

    ins.done.store(true, Ordering::SeqCst);
    let v = get(&app, &format!("{STATS}&cursor={cursor}")).await;
    assert_eq!(ins.starts(), 6, "read by id, not started again");
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");
    assert_eq!(v["engine"], "logs_insights");
    assert_eq!(v["partial"], false);
    assert!(v.get("next_cursor").is_none(), "{v}");
    assert!(v.get("covered_to").is_none(), "{v}");
    assert_eq!(v["from"], "2026-11-20T09:00:00+09:00");
    assert_eq!(v["to"], "2026-11-20T17:00:00+09:00");
    let s = &v["stats"];
    assert_eq!(s["count"], 8);
    assert_eq!(
        s["lb"],
        serde_json::json!({
            "known": 8, "client_errors": 1, "server_errors": 2,
            "client_error_rate": 0.125, "server_error_rate": 0.25,
        })
    );
    assert_eq!(s["target"]["server_errors"], 1);
    assert_eq!(s["latency"]["p99"], 0.042);
    assert_eq!(s["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(s["buckets"][0]["count"], 8);
    assert_eq!(s["buckets"][0]["success"], 5);
    assert_eq!(s["buckets"][0]["time"], "2026-11-20T09:00:00+09:00");
    // The same numbers as a request that had the time to wait.
    let fresh = get(&app, STATS).await;
    assert_eq!(fresh["stats"], v["stats"]);
}

#[tokio::test]
async fn a_stats_cursor_belongs_to_its_parameters_and_endpoint() {
    let ins = Arc::new(Insights::default());
    let rules = insights_rules(ins.clone(), stats_results);
    let app = insights_app(&sample_day(), &rules, 300);
    let (_, cursor) = pending_stats(&app, &ins, &rules).await;
    for uri in [
        format!("{STATS}&ip=203.0.113.50&cursor={cursor}"),
        format!("{STATS}&status=5xx&cursor={cursor}"),
        format!(
            "/v1/visits?from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z&source=lb&cursor={cursor}"
        ),
        format!("/v1/mail?from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z&cursor={cursor}"),
    ] {
        let (status, v) = call(&app, &uri).await;
        assert_eq!(status, 400, "{uri}: {v}");
        assert_eq!(v["error"]["parameter"], "cursor", "{uri}: {v}");
    }
    assert_eq!(ins.starts(), 6);
    // With engine=local the same cursor is answered by the local engine: the whole range
    // (the pending answer covered nothing), exactly.
    let local = get(&app, &format!("{STATS}&engine=local&cursor={cursor}")).await;
    let whole = get(&app, &format!("{STATS}&engine=local")).await;
    assert_eq!(local["engine"], "memory");
    assert_eq!(local["partial"], false);
    assert_eq!(local["stats"], whole["stats"]);
    assert_eq!(ins.starts(), 6);
}

#[tokio::test]
async fn stats_csv_through_insights_has_the_local_columns_and_the_pending_headers() {
    // The series has a second bucket without latencies (Insights leaves p50, p95 and max
    // out when no request of the bin has one): empty cells, as the local CSV writes them.
    let complete = |s: i64, e: i64, q: &str| -> Option<Vec<Vec<ResultField>>> {
        let mut rows = stats_results(s, e, q)?;
        if q.contains("as bucket") {
            let v = |v: &str| v.to_owned();
            rows.push(fields(&[
                ("bucket", v("498658")),
                ("count", v("2")),
                ("client_errors", v("0")),
                ("server_errors", v("2")),
            ]));
        }
        Some(rows)
    };
    let ins = Arc::new(Insights::default());
    let rules = insights_rules(ins.clone(), complete);
    let app = insights_app(&sample_day(), &rules, 300);
    let uri = format!("{STATS}&format=csv");
    const HEADER: &str = "\u{feff}time,count,success,client_errors,server_errors,p50,p95,max\r\n";

    // The queries still running: the header alone, partial, and a cursor that carries them.
    let (h, text) = get_csv(&app, &uri).await;
    assert_eq!(text, HEADER);
    assert_eq!(h["x-partial"], "true");
    let cursor = h["x-next-cursor"].to_str().expect("a cursor").to_owned();
    assert_eq!(ins.starts(), 6);
    let (h, text) = get_csv(&app, &format!("{uri}&cursor={cursor}")).await;
    assert_eq!(text, HEADER);
    assert_eq!(h["x-partial"], "true");
    assert_eq!(h["x-next-cursor"], cursor.as_str(), "the same queries");

    ins.done.store(true, Ordering::SeqCst);
    let (h, text) = get_csv(&app, &format!("{uri}&cursor={cursor}")).await;
    assert_eq!(ins.starts(), 6, "read by id, not started again");
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");
    assert_eq!(h["x-partial"], "false");
    assert!(h.get("x-next-cursor").is_none(), "{h:?}");
    assert_eq!(
        text,
        format!(
            "{HEADER}2026-11-20T09:00:00+09:00,8,5,1,2,0.042,0.042,0.042\r\n\
             2026-11-20T10:00:00+09:00,2,0,0,2,,,\r\n"
        )
    );
    // The JSON answer has the same buckets.
    let v = get(&app, STATS).await;
    assert_eq!(
        v["stats"]["buckets"][1]["time"],
        "2026-11-20T10:00:00+09:00"
    );
    assert_eq!(v["stats"]["buckets"][1]["p50"], Value::Null);

    // The local CSV of the same day: the same header, and the same first bucket but for the
    // percentiles (Insights' are approximations).
    let (h, local) = get_csv(&app, &format!("{uri}&engine=local")).await;
    assert_eq!(h["x-partial"], "false");
    let cells = |t: &str| -> Vec<Vec<String>> {
        t.trim_start_matches('\u{feff}')
            .split_terminator("\r\n")
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect()
    };
    let (a, b) = (cells(&text), cells(&local));
    assert_eq!(a[0], b[0]);
    for i in [0, 1, 2, 3, 4, 7] {
        assert_eq!(a[1][i], b[1][i], "column {}", a[0][i]);
    }
}

#[tokio::test]
async fn a_lost_query_is_started_again_once_then_it_is_an_error() {
    // Cancelled, and an id Insights no longer knows: both started again, and the answer is
    // the full one.
    let ins = Arc::new(Insights::default());
    let rules = insights_rules(ins.clone(), stats_results);
    let app = insights_app(&sample_day(), &rules, 300);
    let (_, cursor) = pending_stats(&app, &ins, &rules).await;
    ins.lose("q0", "Cancelled");
    ins.lose("q1", "unknown");
    ins.done.store(true, Ordering::SeqCst);
    let v = get(&app, &format!("{STATS}&cursor={cursor}")).await;
    assert_eq!(ins.starts(), 8, "each lost query started once more");
    assert_eq!(v["partial"], false);
    assert_eq!(v["stats"]["count"], 8);
    assert_eq!(v["stats"]["buckets"][0]["count"], 8);

    // Started again and still running: the cursor carries the new queries (marked
    // restarted); lost once more, they are an error, not another restart.
    let ins = Arc::new(Insights::default());
    let rules = insights_rules(ins.clone(), stats_results);
    let app = insights_app(&sample_day(), &rules, 300);
    let (_, cursor) = pending_stats(&app, &ins, &rules).await;
    ins.lose("q0", "Timeout");
    ins.lose("q1", "Failed");
    let v = get(&app, &format!("{STATS}&cursor={cursor}")).await;
    assert_eq!(v["partial"], true);
    assert_eq!(ins.starts(), 8);
    let cursor = v["next_cursor"].as_str().unwrap().to_owned();
    // q6 is q0 started again.
    ins.lose("q6", "Cancelled");
    let (status, v) = call(&app, &format!("{STATS}&cursor={cursor}")).await;
    assert_eq!(status, 500, "{v}");
    assert_eq!(v["error"]["code"], "internal");
    assert_eq!(ins.starts(), 8);
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");
}

// ---- /v1/visits ----

const VISITS: &str = "/v1/visits?from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z&source=lb&engine=insights&bots=true&assets=true&limit=1000";

#[tokio::test]
async fn visits_continue_a_split_read_from_its_running_part() {
    // 12,000 requests in an hour: the first query answers 10,000 rows, so the hour is split
    // in two; the older half completes, the newer one is still running at the deadline.
    let events: Vec<(i64, String)> = synthetic::alb_requests(12_000, BASE, 3600)
        .map(|e| (e.timestamp, e.message))
        .collect();
    let hour_s = BASE / 1_000_000;
    let all = Arc::new(events.clone());
    let ins = Arc::new(Insights::default());
    let complete = raw_rows(all.clone(), ins.clone(), hour_s);
    // Every query completes at once but the newer half's, until `done`.
    ins.done.store(true, Ordering::SeqCst);
    let rules = insights_rules(ins.clone(), complete);
    let app = insights_app(&events, &rules, 3000);
    let first = get(&app, VISITS).await;
    assert_eq!(first["engine"], "logs_insights");
    assert_eq!(first["partial"], true, "{}", first["covered_to"]);
    let started: Vec<(i64, i64)> = ins
        .started
        .lock()
        .unwrap()
        .iter()
        .map(|x| (x.1, x.2))
        .collect();
    let mid = hour_s + 1799;
    assert_eq!(
        started,
        vec![
            (hour_s, hour_s + 3599),
            (hour_s, mid),
            (mid + 1, hour_s + 3599)
        ]
    );
    // Exact for the older half: it covers up to the newer half's first second.
    assert_eq!(first["covered_to"], "2026-11-20T09:30:00+09:00");
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");

    ins.newer_half_done.store(true, Ordering::SeqCst);
    let mut answers = vec![first.clone()];
    let mut cursor = first["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let v = get(&app, &format!("{VISITS}&cursor={c}")).await;
        cursor = v["next_cursor"].as_str().map(str::to_owned);
        answers.push(v);
        assert!(answers.len() < 50, "no progress");
    }
    let last = answers.last().unwrap();
    assert_eq!(last["partial"], false, "{last}");
    assert_eq!(last["from"], "2026-11-20T09:30:00+09:00");
    assert_eq!(ins.starts(), 3, "the running part was read by id");
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");

    // Every page view of the hour once, as the local engine sees them.
    let local = local_visits(&events).await;
    assert_eq!(local[0]["engine"], "memory");
    let want = page_views(&local);
    assert!(want.len() > 10_000, "{}", want.len());
    assert_eq!(page_views(&answers), want);

    // A cursor of the read, with other parameters, is refused.
    let c = first["next_cursor"].as_str().unwrap();
    let (status, v) = call(&app, &format!("{VISITS}&ip=198.51.1.1&cursor={c}")).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["parameter"], "cursor");
}

#[tokio::test]
async fn a_busy_second_found_at_the_deadline_is_read_first_by_the_continuation() {
    // 3,000 requests over the hour and 12,000 more in its second 1800 (09:30:00 in Tokyo):
    // the queries split down to that second, which answers 10,000 rows (it cannot be split,
    // so it is read through FilterLogEvents); the queries of the seconds after it keep
    // running past the deadline.
    let mut events: Vec<(i64, String)> = synthetic::alb_requests(3_000, BASE, 3600)
        .chain(synthetic::alb_requests(12_000, BASE + 1_800_000_000, 1))
        .map(|e| (e.timestamp, e.message))
        .collect();
    events.sort_by_key(|e| e.0);
    let busy = BASE / 1_000_000 + 1800;
    let all = Arc::new(events.clone());
    let ins = Arc::new(Insights::default());
    let complete = raw_rows(all.clone(), ins.clone(), busy);
    ins.done.store(true, Ordering::SeqCst);
    let rules = insights_rules(ins.clone(), complete);
    let app = insights_app(&events, &rules, 2000);
    // While the later queries run, the answers get as far as the end of the busy second and no
    // further: the second is found (split down to), and its read through FilterLogEvents is
    // continued by the next answers whatever those queries do.
    let second_end = "2026-11-20T09:30:01+09:00";
    let mut answers = support::follow_until(&app, VISITS, |v| v["covered_to"] == second_end).await;
    assert!(answers.iter().all(|v| v["partial"] == true));
    assert!(
        answers
            .iter()
            .all(|v| v["covered_to"].as_str() <= Some(second_end)),
        "no further than the queries that still run"
    );

    // Once the later queries complete, on to the end: every page view once, as the local
    // engine finds them.
    ins.newer_half_done.store(true, Ordering::SeqCst);
    let mut cursor = answers.last().unwrap()["next_cursor"]
        .as_str()
        .map(str::to_owned);
    while let Some(c) = cursor {
        let v = get(&app, &format!("{VISITS}&cursor={c}")).await;
        cursor = v["next_cursor"].as_str().map(str::to_owned);
        answers.push(v);
        assert!(answers.len() < 100, "no progress");
    }
    assert_eq!(answers.last().unwrap()["partial"], false);
    let queried = |range: (i64, i64)| {
        ins.started
            .lock()
            .unwrap()
            .iter()
            .filter(|q| (q.1, q.2) == range)
            .count()
    };
    assert_eq!(
        queried((busy, busy)),
        1,
        "the busy second is not queried again"
    );
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");
    let local = local_visits(&events).await;
    assert_eq!(page_views(&answers), page_views(&local));
    assert_eq!(page_views(&local).len(), 15_000);
}

// ---- /v1/access?order=desc ----

#[tokio::test]
async fn newest_first_continues_from_its_running_query() {
    let events: Vec<(i64, String)> = synthetic::alb_requests(30, BASE, 600)
        .map(|e| (e.timestamp, e.message))
        .collect();
    let all = Arc::new(events.clone());
    let utc = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .strftime("%Y-%m-%d %H:%M:%S%.3f")
            .to_string()
    };
    let complete = move |s: i64, e: i64, q: &str| -> Option<Vec<Vec<ResultField>>> {
        let limit: usize = q.rsplit("| limit ").next().unwrap().parse().unwrap();
        let mut rows: Vec<(usize, &(i64, String))> = all
            .iter()
            .enumerate()
            .filter(|(_, ev)| (s..=e).contains(&ev.0.div_euclid(1000)))
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.1.0));
        rows.truncate(limit);
        Some(
            rows.into_iter()
                .map(|(i, ev)| {
                    fields(&[
                        ("@timestamp", utc(ev.0)),
                        ("@message", ev.1.clone()),
                        ("@ptr", format!("ptr-{i}")),
                    ])
                })
                .collect(),
        )
    };
    let ins = Arc::new(Insights::default());
    let rules = insights_rules(ins.clone(), complete);
    let app = insights_app(&events, &rules, 300);
    let uri =
        "/v1/access?from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z&source=lb&order=desc&limit=7";
    let first = get(&app, uri).await;
    assert_eq!(first["engine"], "logs_insights");
    assert_eq!(first["partial"], true);
    assert_eq!(first["count"], 0);
    let cursor = first["next_cursor"].as_str().expect("a cursor").to_owned();
    assert_eq!(ins.starts(), 1);
    // Other parameters: refused.
    let (status, v) = call(&app, &format!("{}&status=5xx&cursor={cursor}", uri)).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["parameter"], "cursor");

    ins.done.store(true, Ordering::SeqCst);
    let second = get(&app, &format!("{uri}&cursor={cursor}")).await;
    assert_eq!(ins.starts(), 1, "read by id");
    assert_eq!(second["partial"], false);
    assert_eq!(second["count"], 7);
    // Then on to the end: every request once, newest first, as the local engine lists them.
    let mut rows: Vec<Value> = second["rows"].as_array().unwrap().clone();
    let mut next = second["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = next {
        let v = get(&app, &format!("{uri}&cursor={c}")).await;
        rows.extend(v["rows"].as_array().unwrap().iter().cloned());
        next = v["next_cursor"].as_str().map(str::to_owned);
    }
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    let local: Vec<Value> = support::follow(
        &support::app(
            {
                let mut src = MemorySource::new(100);
                for (t, m) in &events {
                    src.push("/logdesk/lb", *t, m.clone());
                }
                src
            },
            20_000,
        ),
        uri,
    )
    .await;
    let want: Vec<&str> = local
        .iter()
        .flat_map(|v| v["rows"].as_array().unwrap().iter())
        .map(|r| r["time"].as_str().unwrap())
        .collect();
    assert_eq!(times, want);
    assert_eq!(times.len(), 30);
    assert_eq!(rules[2].num_calls(), 0, "no StopQuery");
}
