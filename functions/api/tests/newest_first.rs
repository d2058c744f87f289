//! `GET /v1/access?order=desc`: newest first through Logs Insights (aws-smithy-mocks rules that
//! answer StartQuery / GetQueryResults like Insights would, rows of one millisecond in a
//! different order on every query) and through the local engine (in memory, also with slow
//! pages and a tiny budget). Following the cursors gives every row once, newest first, also
//! through a second with more rows than one query returns (read through the local engine).

use logdesk_e2e::http;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_smithy_mocks::{MockResponse, Rule, RuleMode, mock, mock_client};
use logdesk_api::access::newest::{DescCursor, LocalDesc};
use logdesk_api::params;
use logdesk_api::source::{BoxFuture, FetchRequest, LogSource, MemorySource, Page, SourceError};
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, router};
use serde_json::Value;

mod support;
use support::{app, budget_config, get};

/// 2026-11-20T00:00:00Z in ms.
const BASE_MS: i64 = 1_795_132_800_000;
const RANGE: &str = "from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z";

/// 30 ALB events, three to a millisecond, ten milliseconds 400 ms apart (four seconds):
/// (timestamp ms, message).
fn events() -> Vec<(i64, String)> {
    synthetic::alb_requests(30, BASE_MS * 1000, 600)
        .enumerate()
        .map(|(i, e)| (BASE_MS + (i as i64 / 3) * 400, e.message))
        .collect()
}

fn memory(page: usize) -> MemorySource {
    let mut src = MemorySource::new(page);
    for (t, m) in events() {
        src.push("/logdesk/lb", t, m);
    }
    // And the nginx lines of the sample day, for source=all.
    for e in synthetic::day(BASE_MS * 1000) {
        if e.group == Group::NginxAccess {
            src.push("/logdesk/nginx/access", e.timestamp, e.message);
        }
    }
    src
}

/// Follows `uri`'s cursors: (every row, answers, partial answers).
async fn follow(app: &axum::Router, uri: &str) -> (Vec<Value>, usize, usize) {
    let answers = support::follow(app, uri).await;
    let partials = answers.iter().filter(|v| v["partial"] == true).count();
    let rows = answers
        .iter()
        .flat_map(|v| v["rows"].as_array().unwrap().iter().cloned())
        .collect();
    (rows, answers.len(), partials)
}

/// A row's identity across engines: its time and request (times are unique here).
fn who(r: &Value) -> String {
    format!("{} {} {}", r["time"], r["client_ip"], r["path"])
}

/// The oldest-first listing (the reference), as identities in order.
async fn oldest_first(app: &axum::Router, query: &str) -> Vec<String> {
    let (rows, _, _) = follow(app, &format!("/v1/access?{RANGE}&{query}&limit=1000")).await;
    rows.iter().map(who).collect()
}

#[tokio::test]
async fn locally_newest_first_pages_are_the_oldest_first_listing_reversed() {
    let app = app(memory(4), 20_000);
    for query in [
        "source=lb",
        "source=all",
        "source=lb&status=5xx,404",
        "source=all&path=/apply",
    ] {
        let mut want = oldest_first(&app, query).await;
        want.reverse();
        assert!(!want.is_empty(), "{query}");
        for limit in [1, 2, 3, 7, 100] {
            let (rows, _, partials) = follow(
                &app,
                &format!("/v1/access?{RANGE}&{query}&order=desc&limit={limit}"),
            )
            .await;
            assert_eq!(partials, 0);
            let got: Vec<String> = rows.iter().map(who).collect();
            assert_eq!(got, want, "{query} limit {limit}");
        }
    }
    let v = get(
        &app,
        &format!("/v1/access?{RANGE}&source=lb&order=desc&limit=5"),
    )
    .await;
    assert_eq!(v["engine"], "memory");
    let e = http::get(&app, &format!("/v1/access?{RANGE}&order=newest")).await;
    assert_eq!(e.status, 400);
    // An oldest-first cursor is not a newest-first one.
    let asc = get(&app, &format!("/v1/access?{RANGE}&source=lb&limit=5")).await;
    let c = asc["next_cursor"].as_str().unwrap();
    let uri = format!("/v1/access?{RANGE}&source=lb&order=desc&limit=5&cursor={c}");
    assert_eq!(http::get(&app, &uri).await.status, 400);
}

/// A source whose every page takes `delay`.
struct Slow(MemorySource, Duration);

impl LogSource for Slow {
    fn fetch<'a>(&'a self, req: &'a FetchRequest) -> BoxFuture<'a, Result<Page, SourceError>> {
        Box::pin(async move {
            tokio::time::sleep(self.1).await;
            self.0.fetch(req).await
        })
    }

    fn engine(&self) -> &'static str {
        "memory"
    }
}

#[tokio::test]
async fn locally_a_tiny_budget_gives_partial_answers_that_lose_nothing() {
    let full = app(memory(2), 20_000);
    let mut want = oldest_first(&full, "source=lb").await;
    want.reverse();
    // 15 pages of 15 ms each cannot be read in one 40 ms budget.
    let slow = Slow(memory(2), Duration::from_millis(15));
    let app = app(slow, 40);
    for limit in [4, 100] {
        let (rows, answers, partials) = follow(
            &app,
            &format!("/v1/access?{RANGE}&source=lb&order=desc&limit={limit}"),
        )
        .await;
        assert!(partials >= 1, "{partials} partial of {answers}");
        let got: Vec<String> = rows.iter().map(who).collect();
        assert_eq!(got, want, "limit {limit}");
    }
}

/// What the mocked Insights saw: (start s, end s, query) of every StartQuery.
type Started = Arc<Mutex<Vec<(i64, i64, String)>>>;

fn utc(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .unwrap()
        .strftime("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// StartQuery and GetQueryResults answering `sort @timestamp desc | limit N` over `events`
/// between the query's seconds (both ends included). Rows of one millisecond come in ascending
/// `@ptr` order on even queries and descending on odd ones, as Insights gives no fixed order.
fn insights_rules(events: Arc<Vec<(i64, String)>>, started: Started) -> Vec<Rule> {
    let seen = started.clone();
    let start = mock!(Client::start_query).then_compute_response(move |r| {
        let mut s = seen.lock().unwrap();
        s.push((
            r.start_time().unwrap_or(0),
            // endTime is sent one second past the part's last one (the query text keeps the
            // part's milliseconds): the part's last second is one less.
            r.end_time().unwrap_or(0) - 1,
            r.query_string().unwrap_or_default().to_owned(),
        ));
        MockResponse::Output(
            StartQueryOutput::builder()
                .query_id(format!("q{}", s.len() - 1))
                .build(),
        )
    });
    let results = mock!(Client::get_query_results).then_compute_response(move |r| {
        let n: usize = r.query_id().unwrap_or("q0")[1..].parse().unwrap();
        let (start_s, end_s, query) = started.lock().unwrap()[n].clone();
        let limit: usize = query.rsplit("| limit ").next().unwrap().parse().unwrap();
        let mut rows: Vec<(i64, String, &String)> = events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.0.div_euclid(1000) >= start_s && e.0.div_euclid(1000) <= end_s)
            .map(|(i, e)| (e.0, format!("ptr-{i:03}"), &e.1))
            .collect();
        rows.sort_by(|a, b| {
            b.0.cmp(&a.0).then_with(|| {
                if n.is_multiple_of(2) {
                    a.1.cmp(&b.1)
                } else {
                    b.1.cmp(&a.1)
                }
            })
        });
        rows.truncate(limit);
        let rows: Vec<Vec<ResultField>> = rows
            .into_iter()
            .map(|(t, ptr, m)| {
                [
                    ("@timestamp", utc(t)),
                    ("@message", m.clone()),
                    ("@ptr", ptr),
                ]
                .into_iter()
                .map(|(f, v)| ResultField::builder().field(f).value(v).build())
                .collect()
            })
            .collect();
        MockResponse::Output(
            GetQueryResultsOutput::builder()
                .status(QueryStatus::Complete)
                .set_results(Some(rows))
                .build(),
        )
    });
    vec![start, results]
}

#[tokio::test]
async fn insights_newest_first_pages_have_no_duplicates_or_gaps_inside_a_millisecond() {
    let reference = app(memory(100), 20_000);
    let events = Arc::new(events());
    for (query, re_checked) in [("source=lb", false), ("source=lb&path=/apply", true)] {
        let mut want = oldest_first(&reference, query).await;
        want.reverse();
        // Row identity → millisecond of its event, to check the order.
        let ms: BTreeMap<String, i64> = {
            let (rows, _, _) = follow(
                &reference,
                &format!("/v1/access?{RANGE}&{query}&limit=1000"),
            )
            .await;
            let all: Vec<String> = rows.iter().map(who).collect();
            let by_index: BTreeMap<String, usize> = oldest_first(&reference, "source=lb")
                .await
                .into_iter()
                .enumerate()
                .map(|(i, w)| (w, i))
                .collect();
            all.into_iter()
                .map(|w| {
                    let i = by_index[&w];
                    (w, events[i].0)
                })
                .collect()
        };
        for limit in [1, 2, 4, 5, 100] {
            let started: Started = Arc::default();
            let rules = insights_rules(events.clone(), started.clone());
            let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &rules, |c| c
                .retry_config(RetryConfig::disabled()));
            let app = router(
                AppState::new(budget_config(20_000), Arc::new(MemorySource::new(1)))
                    .with_insights(client),
            );
            let uri = format!("/v1/access?{RANGE}&{query}&order=desc&limit={limit}");
            let first = get(&app, &uri).await;
            assert_eq!(first["engine"], "logs_insights");
            let (rows, answers, partials) = follow(&app, &uri).await;
            assert_eq!(partials, 0);
            let got: Vec<String> = rows.iter().map(who).collect();
            // Every row once; newest first by millisecond (ties in any order).
            let mut sorted_got = got.clone();
            sorted_got.sort();
            let mut sorted_want = want.clone();
            sorted_want.sort();
            assert_eq!(sorted_got, sorted_want, "{query} limit {limit}");
            for w in got.windows(2) {
                assert!(ms[&w[0]] >= ms[&w[1]], "{query} limit {limit}: {w:?}");
            }
            let queries = started.lock().unwrap().clone();
            assert!(queries.len() >= answers.min(1), "{query} limit {limit}");
            for (s, e, q) in &queries {
                assert!(
                    q.starts_with(&format!(
                        "filter toMillis(@timestamp) >= {} and toMillis(@timestamp) < ",
                        s * 1000
                    )),
                    "{q}"
                );
                assert!(
                    q.contains(
                        "\n| fields @timestamp, @message, @ptr\n| filter k = \"alb\" or k = \"clb\" or ispresent(request_line)\n"
                    ),
                    "{q}"
                );
                assert!(q.contains("| sort @timestamp desc\n| limit "), "{q}");
                assert_eq!(*s, BASE_MS / 1000);
                assert!(*e <= BASE_MS / 1000 + 3599, "{e}");
            }
            if limit == 1 && !re_checked {
                // Pages end inside a millisecond: the next query ends with that second.
                assert!(queries.iter().any(|q| q.1 == BASE_MS / 1000 + 3));
            }
        }
    }
}

// ---- a second with more rows than one query returns ----

/// 3,000 requests over the hour and 12,000 more in its second 1800 (some twelve to a
/// millisecond): more rows in one second than a Logs Insights query returns. In time order, so
/// the local engine's event ids follow time.
fn busy_events() -> Vec<(i64, String)> {
    let mut events: Vec<(i64, String)> = synthetic::alb_requests(3_000, BASE_MS * 1000, 3600)
        .chain(synthetic::alb_requests(
            12_000,
            (BASE_MS + 1_800_000) * 1000,
            1,
        ))
        .map(|e| (e.timestamp, e.message))
        .collect();
    events.sort_by_key(|e| e.0);
    events
}

fn busy_memory(page: usize) -> MemorySource {
    let mut src = MemorySource::new(page);
    for (t, m) in busy_events() {
        src.push("/logdesk/lb", t, m);
    }
    src
}

/// The app over `source` with the mocked Insights answering over the same events.
fn busy_app(source: impl LogSource + 'static, budget_ms: u64, started: Started) -> axum::Router {
    let rules = insights_rules(Arc::new(busy_events()), started);
    let client = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, &rules, |c| c
        .retry_config(RetryConfig::disabled()));
    router(AppState::new(budget_config(budget_ms), Arc::new(source)).with_insights(client))
}

/// A row's millisecond.
fn ms_of(r: &Value) -> i64 {
    r["time"]
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond()
}

/// The rows by millisecond, in the order listed, each millisecond's rows (without the
/// engine's row `id`) sorted: two listings that agree here list the same rows, newest first,
/// up to the order inside a millisecond (which Insights does not fix).
fn by_millisecond(rows: &[Value]) -> Vec<(i64, Vec<String>)> {
    let mut out: Vec<(i64, Vec<String>)> = Vec::new();
    for r in rows {
        let mut r = r.clone();
        let t = ms_of(&r);
        r.as_object_mut().unwrap().remove("id");
        match out.last_mut() {
            Some((last, rows)) if *last == t => rows.push(r.to_string()),
            _ => out.push((t, vec![r.to_string()])),
        }
    }
    for (_, rows) in &mut out {
        rows.sort();
    }
    out
}

fn desc_cursor(v: &Value) -> Option<DescCursor> {
    params::decode_cursor::<(String, DescCursor)>("access:desc:insights", v["next_cursor"].as_str())
        .unwrap()
        .map(|(_, c)| c)
}

/// The local engine's listing of the busy hour, newest first.
async fn busy_reference() -> Vec<Value> {
    let reference = app(busy_memory(1000), 20_000);
    let (rows, _, _) = follow(
        &reference,
        &format!("/v1/access?{RANGE}&source=lb&order=desc&limit=1000"),
    )
    .await;
    assert_eq!(rows.len(), 15_000);
    rows
}

#[tokio::test]
async fn a_second_with_more_rows_than_a_query_returns_is_listed_once_through_filter_log_events() {
    let want = busy_reference().await;
    let events = busy_events();
    let busy_s = BASE_MS / 1000 + 1800;
    let mut mid_millisecond = 0;
    for limit in [1000, 333, 77] {
        let started: Started = Arc::default();
        let app = busy_app(busy_memory(1000), 20_000, started.clone());
        let uri = format!("/v1/access?{RANGE}&source=lb&order=desc&limit={limit}");
        let answers = support::follow(&app, &uri).await;
        assert!(answers.iter().all(|v| v["engine"] == "logs_insights"));
        assert!(answers.iter().all(|v| v["partial"] == false));
        let rows: Vec<Value> = answers
            .iter()
            .flat_map(|v| v["rows"].as_array().unwrap().iter().cloned())
            .collect();
        // Every request once, newest first, as the local engine lists them.
        assert_eq!(rows.len(), 15_000, "limit {limit}");
        assert_eq!(
            by_millisecond(&rows),
            by_millisecond(&want),
            "limit {limit}"
        );
        // Every answer but the last is full, and every cursor differs from the one before.
        for w in answers.windows(2) {
            assert_eq!(w[0]["count"], limit, "limit {limit}");
            assert_ne!(w[0]["next_cursor"], w[1]["next_cursor"]);
        }
        // The busy second was taken over by the local engine, then Insights went on before it.
        let cursors: Vec<DescCursor> = answers.iter().filter_map(desc_cursor).collect();
        let busy: Vec<&DescCursor> = cursors
            .iter()
            .filter(|c| matches!(c, DescCursor::Busy { .. }))
            .collect();
        assert!(!busy.is_empty(), "limit {limit}: {cursors:?}");
        for c in &busy {
            let DescCursor::Busy { at, local, .. } = c else {
                unreachable!()
            };
            assert_eq!(at.t.div_euclid(1000), busy_s);
            assert!(local.hi_ms <= at.t + 1);
        }
        let first_busy = cursors
            .iter()
            .position(|c| matches!(c, DescCursor::Busy { .. }))
            .unwrap();
        let last_busy = cursors
            .iter()
            .rposition(|c| matches!(c, DescCursor::Busy { .. }))
            .unwrap();
        // Insights had listed 10,000 rows of the second or so before the takeover; when that
        // was inside a millisecond, the local engine left out exactly the rows listed.
        let DescCursor::After(k) = &cursors[first_busy - 1] else {
            panic!("limit {limit}: {:?}", cursors[first_busy - 1]);
        };
        assert_eq!(k.t.div_euclid(1000), busy_s);
        assert!(k.newer + k.seen.len() + limit > 10_000, "limit {limit}");
        if k.seen.len() < events.iter().filter(|e| e.0 == k.t).count() {
            mid_millisecond += 1;
        }
        assert!(
            cursors[last_busy + 1..]
                .iter()
                .all(|c| matches!(c, DescCursor::After(k) if k.t < busy_s * 1000)),
            "limit {limit}"
        );
        let queries = started.lock().unwrap().clone();
        for (_, e, q) in &queries {
            let asked: usize = q.rsplit("| limit ").next().unwrap().parse().unwrap();
            assert!(asked <= 10_000, "{q}");
            assert!(*e <= BASE_MS / 1000 + 3599);
        }
    }
    assert!(mid_millisecond > 0, "no takeover inside a millisecond");
}

#[tokio::test]
async fn a_busy_second_read_on_a_tiny_budget_moves_on_with_every_answer() {
    let want = busy_reference().await;
    // Source pages of 500 events, 10 ms each, and 40 ms a request: the local read of the busy
    // second cannot finish in one answer.
    let slow = Slow(busy_memory(500), Duration::from_millis(10));
    let app = busy_app(slow, 40, Arc::default());
    let uri = format!("/v1/access?{RANGE}&source=lb&order=desc&limit=1000");
    let answers = support::follow(&app, &uri).await;
    let rows: Vec<Value> = answers
        .iter()
        .flat_map(|v| v["rows"].as_array().unwrap().iter().cloned())
        .collect();
    assert_eq!(by_millisecond(&rows), by_millisecond(&want));
    let busy_partials = answers
        .iter()
        .filter(|v| v["partial"] == true && matches!(desc_cursor(v), Some(DescCursor::Busy { .. })))
        .count();
    assert!(busy_partials >= 1, "{} answers", answers.len());
    // No answer stands still: it has rows or a cursor unlike the one it was given.
    for w in answers.windows(2) {
        assert!(
            w[1]["count"] != 0 || w[1]["next_cursor"] != w[0]["next_cursor"],
            "{}",
            w[1]
        );
    }
}

#[tokio::test]
async fn a_busy_second_cursor_is_refused_with_other_parameters_or_out_of_its_second() {
    let app = busy_app(busy_memory(1000), 20_000, Arc::default());
    let uri = format!("/v1/access?{RANGE}&source=lb&order=desc&limit=1000");
    let answers = support::follow_until(&app, &uri, |v| {
        matches!(desc_cursor(v), Some(DescCursor::Busy { .. }))
    })
    .await;
    let last = answers.last().unwrap();
    let cursor = last["next_cursor"].as_str().unwrap();
    let (status, v) = support::call(&app, &format!("{uri}&status=5xx&cursor={cursor}")).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["parameter"], "cursor");
    // Reading past the millisecond Insights stopped at, or outside the second: refused.
    let Some(DescCursor::Busy { fp, at, local }) = desc_cursor(last) else {
        unreachable!()
    };
    for local in [
        LocalDesc {
            hi_ms: at.t + 2,
            ..local.clone()
        },
        LocalDesc {
            hi_ms: at.t.div_euclid(1000) * 1000,
            before: None,
            width_ms: 1,
        },
        LocalDesc {
            width_ms: 0,
            ..local.clone()
        },
    ] {
        let forged = params::encode_bound(
            "access:desc:insights",
            &fp,
            &DescCursor::Busy {
                fp: fp.clone(),
                at: at.clone(),
                local,
            },
        );
        let (status, v) = support::call(&app, &format!("{uri}&cursor={forged}")).await;
        assert_eq!(status, 400, "{v}");
        assert_eq!(v["error"]["parameter"], "cursor");
    }
}
