//! Visitor lists through Logs Insights (aws-smithy-mocks): the raw-record query over a busy
//! range is split wherever one query would pass 10,000 rows, a few queries at a time; StartQuery
//! refused for too many running queries is retried; and on the same data the Insights path and
//! the local engine give the same visits.

use logdesk_e2e::http;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::error::ErrorMetadata;
use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::operation::start_query::{StartQueryError, StartQueryOutput};
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, Config, router};
use serde_json::Value;

mod support;

const BASE: i64 = 1_795_132_800_000_000;

/// Load-balancer events as (timestamp ms, message).
type Events = Arc<Vec<(i64, String)>>;

/// What the mocked service saw.
#[derive(Default)]
struct Seen {
    started: AtomicUsize,
    running: AtomicUsize,
    most_running: AtomicUsize,
    refused: AtomicUsize,
    ranges: Mutex<Vec<(i64, i64)>>,
}

/// StartQuery (refusing the first `refuse` calls with LimitExceededException) and
/// GetQueryResults answering the raw-record query over `events`: the newest 10,000 records of
/// the query's seconds.
fn rules(events: Events, seen: Arc<Seen>, refuse: usize) -> Vec<Rule> {
    let ranges: Arc<Mutex<HashMap<String, (i64, i64)>>> = Default::default();
    let (r1, s1) = (ranges.clone(), seen.clone());
    let start = mock!(Client::start_query).then_compute_response(move |req| {
        if s1.refused.load(Ordering::SeqCst) < refuse {
            s1.refused.fetch_add(1, Ordering::SeqCst);
            return MockResponse::Error(StartQueryError::generic(
                ErrorMetadata::builder()
                    .code("LimitExceededException")
                    .message("too many concurrent queries")
                    .build(),
            ));
        }
        assert!(req.query_string().unwrap().contains("| limit 10000"));
        let n = s1.started.fetch_add(1, Ordering::SeqCst);
        let now = s1.running.fetch_add(1, Ordering::SeqCst) + 1;
        s1.most_running.fetch_max(now, Ordering::SeqCst);
        // endTime is sent one second past the part's last one (the query text keeps the
        // part's milliseconds): the part's last second is one less.
        let range = (req.start_time().unwrap(), req.end_time().unwrap() - 1);
        s1.ranges.lock().unwrap().push(range);
        let id = format!("q{n}");
        r1.lock().unwrap().insert(id.clone(), range);
        MockResponse::Output(StartQueryOutput::builder().query_id(id).build())
    });
    let results = mock!(Client::get_query_results).then_compute_output(move |req| {
        let (s, e) = ranges.lock().unwrap()[req.query_id().unwrap()];
        seen.running.fetch_sub(1, Ordering::SeqCst);
        let mut rows: Vec<&(i64, String)> = events
            .iter()
            .filter(|ev| ev.0.div_euclid(1000) >= s && ev.0.div_euclid(1000) <= e)
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.0));
        rows.truncate(10_000);
        GetQueryResultsOutput::builder()
            .status(QueryStatus::Complete)
            .set_results(Some(
                rows.into_iter()
                    .map(|ev| {
                        vec![
                            ResultField::builder()
                                .field("@timestamp")
                                .value(ev.0.to_string())
                                .build(),
                            ResultField::builder()
                                .field("@message")
                                .value(&ev.1)
                                .build(),
                            ResultField::builder().field("@ptr").value("p").build(),
                        ]
                    })
                    .collect(),
            ))
            .build()
    });
    vec![start, results]
}

fn app(events: &Events, rules: &[Rule]) -> axum::Router {
    app_with(events, rules, &[])
}

/// [`app`] with settings (`MAX_EVENTS`, …) other than the defaults.
fn app_with(events: &Events, rules: &[Rule], env: &[(&str, &str)]) -> axum::Router {
    let mut src = MemorySource::new(1000);
    for (t, m) in events.iter() {
        src.push("/logdesk/lb", *t, m.clone());
    }
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    let config = Config::from_lookup(|k| {
        env.iter()
            .find(|(name, _)| *name == k)
            .map(|(_, v)| (*v).to_owned())
    })
    .unwrap();
    router(AppState::new(config, Arc::new(src)).with_insights(client))
}

async fn get(app: &axum::Router, uri: &str) -> Value {
    http::get_ok(app, uri).await
}

fn same_answer(a: &Value, b: &Value) {
    assert_eq!(a["engine"], "logs_insights");
    assert_eq!(b["engine"], "memory");
    for k in ["partial", "count", "rows"] {
        assert_eq!(a[k], b[k], "{k}");
    }
    // Both have a next page, or neither (an Insights page cursor also carries its queries).
    assert_eq!(a["next_cursor"].is_string(), b["next_cursor"].is_string());
}

#[tokio::test]
async fn the_sample_day_gives_the_same_visits_by_insights_and_locally() {
    let events: Events = Arc::new(
        synthetic::day(BASE)
            .into_iter()
            .filter(|e| e.group == Group::Lb)
            .map(|e| (e.timestamp, e.message))
            .collect(),
    );
    let seen = Arc::new(Seen::default());
    let rules = rules(events.clone(), seen.clone(), 0);
    let app = app(&events, &rules);
    let range = "from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z&source=lb&bots=true";
    let by_insights = get(&app, &format!("/v1/visits?{range}&engine=insights")).await;
    let local = get(&app, &format!("/v1/visits?{range}&engine=local")).await;
    assert!(by_insights["count"].as_u64().unwrap() >= 2, "{by_insights}");
    same_answer(&by_insights, &local);
    assert_eq!(seen.started.load(Ordering::SeqCst), 1);
    // Over six hours `auto` picks Insights too.
    let auto = get(&app, &format!("/v1/visits?{range}")).await;
    assert_eq!(auto["engine"], "logs_insights");
}

#[tokio::test]
async fn a_busy_range_is_split_below_ten_thousand_rows_per_query() {
    // 40,000 requests in an hour: at least four queries' worth.
    let events: Events = Arc::new(
        synthetic::alb_requests(40_000, BASE, 3600)
            .map(|e| (e.timestamp, e.message))
            .collect(),
    );
    let seen = Arc::new(Seen::default());
    let rules = rules(events.clone(), seen.clone(), 2);
    let app = app(&events, &rules);
    let range = "from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z&source=lb&limit=1000";
    let by_insights = get(&app, &format!("/v1/visits?{range}&engine=insights")).await;
    let local = get(&app, &format!("/v1/visits?{range}&engine=local")).await;
    same_answer(&by_insights, &local);
    assert_eq!(by_insights["partial"], false);
    let started = seen.started.load(Ordering::SeqCst);
    // Later pages read the queries' results by id: the same visits as the local engine's
    // pages, and no query started again.
    let (mut a, mut b) = (by_insights.clone(), local.clone());
    let mut pages = 1;
    while let (Some(ca), Some(cb)) = (a["next_cursor"].as_str(), b["next_cursor"].as_str()) {
        a = get(
            &app,
            &format!("/v1/visits?{range}&engine=insights&cursor={ca}"),
        )
        .await;
        b = get(
            &app,
            &format!("/v1/visits?{range}&engine=local&cursor={cb}"),
        )
        .await;
        same_answer(&a, &b);
        pages += 1;
    }
    assert!(pages >= 2, "{pages} pages");
    assert_eq!(seen.started.load(Ordering::SeqCst), started);
    assert!(started >= 7, "split into parts: {started} queries");
    assert!(seen.most_running.load(Ordering::SeqCst) <= 3);
    assert_eq!(
        seen.refused.load(Ordering::SeqCst),
        2,
        "LimitExceeded retried"
    );
    // The parts that were kept cover the hour without overlap.
    let ranges = seen.ranges.lock().unwrap().clone();
    let mut leaves: Vec<(i64, i64)> = ranges
        .iter()
        .copied()
        .filter(|r| !ranges.iter().any(|o| o != r && o.0 >= r.0 && o.1 <= r.1))
        .collect();
    leaves.sort();
    assert_eq!(leaves.first().unwrap().0, BASE / 1_000_000);
    assert_eq!(leaves.last().unwrap().1, BASE / 1_000_000 + 3599);
    for w in leaves.windows(2) {
        assert_eq!(w[0].1 + 1, w[1].0);
    }
}

/// 3,000 requests over the hour from BASE, and 12,000 more in its second 1800 (09:30:00 in
/// Tokyo): more than one query returns.
fn busy_second() -> Events {
    let mut events: Vec<(i64, String)> = synthetic::alb_requests(3_000, BASE, 3600)
        .chain(synthetic::alb_requests(12_000, BASE + 1_800_000_000, 1))
        .map(|e| (e.timestamp, e.message))
        .collect();
    events.sort_by_key(|e| e.0);
    Arc::new(events)
}

const HOUR: &str = "/v1/visits?from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z&source=lb&bots=true&assets=true&limit=1000";

/// Every page view of the hour, as the local engine finds them (default settings).
async fn local_page_views(events: &Events) -> Vec<(String, String, String)> {
    let app = app(events, &rules(events.clone(), Arc::new(Seen::default()), 0));
    let answers = support::follow(&app, &format!("{HOUR}&engine=local")).await;
    assert_eq!(answers[0]["engine"], "memory");
    let views = support::page_views(&answers);
    assert_eq!(views.len(), 15_000);
    views
}

#[tokio::test]
async fn a_second_with_more_rows_than_a_query_returns_is_read_through_filter_log_events() {
    let events = busy_second();
    let seen = Arc::new(Seen::default());
    let rules = rules(events.clone(), seen.clone(), 0);
    let app = app(&events, &rules);
    let answers = support::follow(&app, &format!("{HOUR}&engine=insights")).await;
    assert!(answers.iter().all(|v| v["engine"] == "logs_insights"));
    let last = answers.last().unwrap();
    assert_eq!(last["partial"], false, "{last}");
    assert_eq!(
        support::page_views(&answers),
        local_page_views(&events).await
    );
    // The busy second was queried once (answering 10,000 rows), then split no further.
    let busy = BASE / 1_000_000 + 1800;
    let ranges = seen.ranges.lock().unwrap().clone();
    assert_eq!(ranges.iter().filter(|r| **r == (busy, busy)).count(), 1);
    assert!(ranges.iter().all(|r| r.0 <= r.1));
}

#[tokio::test]
async fn a_busy_second_cut_by_the_read_cap_continues_exactly_where_it_stopped() {
    // At most 3,000 events a request (three pages of the source): the busy second takes
    // several answers, each exact up to its covered_to.
    let events = busy_second();
    let seen = Arc::new(Seen::default());
    let rules = rules(events.clone(), seen.clone(), 0);
    let app = app_with(&events, &rules, &[("MAX_EVENTS", "3000")]);
    let answers = support::follow(&app, &format!("{HOUR}&engine=insights")).await;
    let first = &answers[0];
    assert_eq!(first["partial"], true, "{first}");
    let covered = first["covered_to"].as_str().unwrap();
    assert!(
        covered.starts_with("2026-11-20T09:30:00.") && covered.ends_with("+09:00"),
        "{covered}"
    );
    // Each continuation covers more of the second: no answer stands still.
    let mut covered: Vec<&str> = answers
        .iter()
        .filter_map(|v| v["covered_to"].as_str())
        .collect();
    covered.dedup();
    assert!(covered.len() >= 3, "{covered:?}");
    assert!(covered.windows(2).all(|w| w[0] < w[1]), "{covered:?}");
    assert_eq!(answers.last().unwrap()["partial"], false);
    // Only the first request queried: the continuations read the busy second through
    // FilterLogEvents and the other parts' queries by id.
    let started = seen.started.load(Ordering::SeqCst);
    assert_eq!(seen.ranges.lock().unwrap().len(), started);
    let again = support::follow(&app, &format!("{HOUR}&engine=insights")).await;
    assert_eq!(seen.started.load(Ordering::SeqCst), 2 * started);
    assert_eq!(support::page_views(&again), support::page_views(&answers));
    assert_eq!(
        support::page_views(&answers),
        local_page_views(&events).await
    );
}
