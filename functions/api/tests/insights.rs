//! Logs Insights through aws-smithy-mocks: the queries sent, polling until Complete, results
//! parsed into the same numbers the local engine computes from the same day, failure states,
//! and a query past the time budget left running (pending, with its id), not stopped.

use logdesk_e2e::http;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
use aws_sdk_cloudwatchlogs::operation::stop_query::StopQueryOutput;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use axum::body::Body;
use axum::http::Request;
use logdesk_api::insights::{self, Backoff, Part, Ran, Split};
use logdesk_api::source::{MemorySource, Retry, SourceError};
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, Config, router};
use serde_json::Value;
use tower::ServiceExt;

mod canned;

const BASE: i64 = 1_795_132_800_000_000;
const RANGE: &str = "from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z&source=lb&interval=1h";

fn fields(pairs: &[(&str, &str)]) -> Vec<ResultField> {
    pairs
        .iter()
        .map(|(f, v)| ResultField::builder().field(*f).value(*v).build())
        .collect()
}

fn app(client: Option<Client>, budget_ms: &str) -> axum::Router {
    let mut src = MemorySource::new(100);
    for e in synthetic::day(BASE) {
        if e.group == Group::Lb {
            src.push("/logdesk/lb", e.timestamp, e.message);
        }
    }
    let budget = budget_ms.to_owned();
    let config = Config::from_lookup(|k| (k == "TIME_BUDGET_MS").then(|| budget.clone())).unwrap();
    let state = AppState::new(config, Arc::new(src));
    router(match client {
        Some(c) => state.with_insights(c),
        None => state,
    })
}

async fn get(app: &axum::Router, uri: &str) -> Value {
    http::get_ok(app, uri).await
}

/// What Insights answers for the sample day: what each query yields on its records.
fn day_rules() -> Vec<aws_smithy_mocks::Rule> {
    let events: Vec<(i64, String)> = synthetic::day(BASE)
        .into_iter()
        .filter(|e| e.group == Group::Lb)
        .map(|e| (e.timestamp, e.message))
        .collect();
    let records = canned::lb_records(&events);
    canned::rules(move |q| canned::stats_rows(&records, q)).0
}

#[tokio::test]
async fn insights_and_local_give_the_same_stats_for_the_same_day() {
    let rules = day_rules();
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &rules, |c| c
        .retry_config(RetryConfig::disabled()));
    let app = app(Some(client), "20000");
    let by_insights = get(&app, &format!("/v1/stats?{RANGE}")).await;
    let local = get(&app, &format!("/v1/stats?{RANGE}&engine=local")).await;
    assert_eq!(by_insights["engine"], "logs_insights");
    assert_eq!(local["engine"], "memory");
    assert_eq!(by_insights["partial"], false);
    let (a, b) = (&by_insights["stats"], &local["stats"]);
    for path in [
        "/count",
        "/lb/client_errors",
        "/lb/server_errors",
        "/lb/server_error_rate",
        "/target/server_errors",
        "/bucket_seconds",
        "/buckets/0/time",
        "/buckets/0/count",
        "/buckets/0/success",
        "/buckets/0/server_errors",
        "/latency/max",
    ] {
        assert_eq!(a.pointer(path), b.pointer(path), "{path}: {a} vs {b}");
    }
    // Polled until Complete: each of the six queries answered Running first.
    assert_eq!(rules[0].num_calls(), 6);
    assert_eq!(rules[1].num_calls(), 12);
}

#[tokio::test]
async fn filters_insights_cannot_express_go_to_the_local_engine() {
    let rules = day_rules();
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &rules, |c| c
        .retry_config(RetryConfig::disabled()));
    let app = app(Some(client), "20000");
    let v = get(&app, &format!("/v1/stats?{RANGE}&path=/apply")).await;
    assert_eq!(v["engine"], "memory");
    assert_eq!(v["stats"]["count"], 3);
    assert_eq!(rules[0].num_calls() + rules[1].num_calls(), 0);
    let resp = app
        .clone()
        .oneshot(
            Request::builder()
                .uri(format!("/v1/stats?{RANGE}&path=/apply&engine=insights"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

fn split(deadline: Instant) -> Split {
    Split {
        concurrency: 3,
        backoff: Backoff {
            initial: Duration::from_millis(5),
            max: Duration::from_millis(20),
        },
        retry: Retry::default(),
        deadline,
        range_ms: None,
    }
}

#[tokio::test]
async fn a_failed_query_is_an_error() {
    let start = mock!(Client::start_query)
        .then_output(|| StartQueryOutput::builder().query_id("q").build());
    let failed = mock!(Client::get_query_results).then_output(|| {
        GetQueryResultsOutput::builder()
            .status(QueryStatus::Failed)
            .build()
    });
    let client = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        [&start, &failed],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let err = insights::run_part(
        &client,
        &["/g".to_owned()],
        Part::new(0, 60),
        "stats count(*)",
        split(Instant::now() + Duration::from_secs(5)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, SourceError::Query { ref status, .. } if status == "Failed"),
        "{err}"
    );
    // Started by this request: not started again.
    assert_eq!(start.num_calls(), 1);
}

#[tokio::test]
async fn a_query_past_the_budget_runs_on_and_is_pending_with_its_id() {
    let start = mock!(Client::start_query)
        .then_output(|| StartQueryOutput::builder().query_id("q").build());
    let running = mock!(Client::get_query_results).then_output(|| {
        GetQueryResultsOutput::builder()
            .status(QueryStatus::Running)
            .results(fields(&[("count", "5")]))
            .build()
    });
    let stop =
        mock!(Client::stop_query).then_output(|| StopQueryOutput::builder().success(true).build());
    let client = mock_client!(
        aws_sdk_cloudwatchlogs,
        RuleMode::MatchAny,
        [&start, &running, &stop],
        |c| c.retry_config(RetryConfig::disabled())
    );
    let got = insights::run_part(
        &client,
        &["/g".to_owned()],
        Part::new(0, 60),
        "stats count(*)",
        split(Instant::now() + Duration::from_millis(60)),
    )
    .await
    .unwrap();
    assert_eq!(
        got,
        Ran::Pending(Part {
            s: 0,
            e: 60,
            q: Some("q".to_owned()),
            r: false,
            l: false,
        })
    );
    assert_eq!(stop.num_calls(), 0, "not stopped");
    assert!(running.num_calls() >= 2);
}
