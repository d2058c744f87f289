//! Logs Insights results read defensively, through the router with aws-smithy-mocks: the
//! newest-first listing reads `@timestamp` in AWS's form and in the emulator's (epoch
//! milliseconds) alike; a stats query answered with rows it does not produce (the emulator
//! ignores `stats` and answers raw rows) is a 502 with the one error shape, never zeros; and
//! every page of GetQueryResults is read.

use std::sync::Arc;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic;
use logdesk_api::{AppState, router};

mod support;
use support::{budget_config, call};

/// 2026-11-20T00:00:00Z in ms.
const BASE_MS: i64 = 1_795_132_800_000;
const DESC: &str =
    "/v1/access?order=desc&source=lb&from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z";

/// Five load-balancer records one second apart: (timestamp ms, message).
fn events() -> Vec<(i64, String)> {
    synthetic::alb_requests(5, BASE_MS * 1000, 600)
        .enumerate()
        .map(|(i, e)| (BASE_MS + i as i64 * 1000, e.message))
        .collect()
}

fn app(rules: &[Rule]) -> axum::Router {
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, rules, |c| c
        .retry_config(RetryConfig::disabled()));
    let mut src = MemorySource::new(100);
    for (t, m) in events() {
        src.push("/logdesk/lb", t, m);
    }
    router(AppState::new(budget_config(20_000), Arc::new(src)).with_insights(client))
}

fn row(pairs: &[(&str, String)]) -> Vec<ResultField> {
    pairs
        .iter()
        .map(|(f, v)| ResultField::builder().field(*f).value(v).build())
        .collect()
}

fn aws_time(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .strftime("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// StartQuery, and GetQueryResults answering `rows` in pages of `page` rows (nextToken = the
/// next row's index).
fn answering(rows: Vec<Vec<ResultField>>, page: usize) -> Vec<Rule> {
    let start = mock!(Client::start_query)
        .then_output(|| StartQueryOutput::builder().query_id("q").build());
    let results = mock!(Client::get_query_results).then_compute_output(move |r| {
        let from: usize = r.next_token().map_or(0, |t| t.parse().unwrap());
        let to = (from + page).min(rows.len());
        let mut out = GetQueryResultsOutput::builder()
            .status(QueryStatus::Complete)
            .set_results(Some(rows[from..to].to_vec()));
        if to < rows.len() {
            out = out.next_token(to.to_string());
        }
        out.build()
    });
    vec![start, results]
}

/// The newest-first rows of the five records with `@timestamp` written by `time`.
fn listing(time: fn(i64) -> String) -> Vec<Vec<ResultField>> {
    let mut evs = events();
    evs.reverse();
    evs.into_iter()
        .enumerate()
        .map(|(i, (t, m))| {
            row(&[
                ("@timestamp", time(t)),
                ("@message", m),
                ("@ptr", format!("ptr-{i}")),
            ])
        })
        .collect()
}

#[tokio::test]
async fn newest_first_reads_both_timestamp_forms_alike() {
    let mut answers = Vec::new();
    for time in [aws_time as fn(i64) -> String, |ms: i64| ms.to_string()] {
        let rules = answering(listing(time), 10_000);
        let (status, v) = call(&app(&rules), DESC).await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["engine"], "logs_insights");
        assert_eq!(v["count"], 5, "{v}");
        answers.push(v["rows"].clone());
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn every_page_of_results_is_read() {
    let rules = answering(listing(aws_time), 2);
    let (status, v) = call(&app(&rules), DESC).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["count"], 5, "{v}");
    // Three pages: two rows, two rows, one row.
    assert_eq!(rules[1].num_calls(), 3);
}

#[tokio::test]
async fn rows_a_query_does_not_produce_are_a_502_never_zeros() {
    // The emulator's answer to a stats query: raw rows, no `count`.
    let raw = listing(|ms| ms.to_string());
    let rules = answering(raw.clone(), 10_000);
    let (status, v) = call(
        &app(&rules),
        "/v1/stats?source=lb&engine=insights&from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z",
    )
    .await;
    assert_eq!(status, 502, "{v}");
    assert_eq!(v["error"]["code"], "bad_gateway");
    assert!(v["error"]["request_id"].is_string(), "{v}");
    // A listing row without its pointer is refused the same way, not dropped.
    let mut broken = listing(aws_time);
    broken[2].retain(|f| f.field() != Some("@ptr"));
    let rules = answering(broken, 10_000);
    let (status, v) = call(&app(&rules), DESC).await;
    assert_eq!(status, 502, "{v}");
    assert_eq!(v["error"]["code"], "bad_gateway");
}

#[tokio::test]
async fn values_insights_cannot_quote_are_refused_naming_the_parameter() {
    let rules = answering(Vec::new(), 10_000);
    let app = app(&rules);
    let (status, v) = call(
        &app,
        "/v1/stats?source=lb&engine=insights&trace_id=Root%3D1-x%23y&from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z",
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["parameter"], "trace_id");
    // The automatic engine answers it locally instead (exact either way).
    let (status, v) = call(
        &app,
        "/v1/stats?source=lb&trace_id=Root%3D1-x%23y&from=2026-11-20T00:00:00Z&to=2026-11-20T08:00:00Z",
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["engine"], "memory");
    assert_eq!(rules[0].num_calls(), 0, "no query sent");
}
