//! Partial answers of the endpoints that read a whole range (`/v1/stats`, `/v1/visits`,
//! `/v1/mail`): with slow pages and a tiny time budget each answer covers `[from, covered_to)`
//! exactly and its cursor asks for the rest; followed to the end, the answers add up to the
//! unbudgeted answer. Cursors are refused with other parameters or on another endpoint.

use std::collections::BTreeMap;
use std::time::Duration;

use logdesk_api::source::{BoxFuture, FetchRequest, LogSource, MemorySource, Page, SourceError};
use logdesk_api::synthetic::{self, Group};
use serde_json::Value;

mod support;
use support::{app, call, get};

/// 2026-11-20T00:00:00Z in µs.
const BASE: i64 = 1_795_132_800_000_000;

/// A source whose every page takes `delay`.
struct Slow {
    inner: MemorySource,
    delay: Duration,
}

impl LogSource for Slow {
    fn fetch<'a>(&'a self, req: &'a FetchRequest) -> BoxFuture<'a, Result<Page, SourceError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.inner.fetch(req).await
        })
    }

    fn engine(&self) -> &'static str {
        "memory"
    }
}

fn memory(page: usize) -> MemorySource {
    let mut src = MemorySource::new(page);
    for e in synthetic::alb_requests(400, BASE, 3600) {
        src.push("/logdesk/lb", e.timestamp, e.message);
    }
    for e in synthetic::day(BASE) {
        if e.group == Group::Mail {
            src.push("/logdesk/mail", e.timestamp, e.message);
        }
    }
    src
}

/// The unbudgeted app and the slow one with a 40 ms budget, over the same events.
fn apps(page: usize) -> (axum::Router, axum::Router) {
    let slow = Slow {
        inner: memory(page),
        delay: Duration::from_millis(15),
    };
    (app(memory(page), 60_000), app(slow, 40))
}

/// Every answer to `uri` and its cursors, in order; each starts where the one before stopped,
/// or is a later page of its part.
async fn follow(app: &axum::Router, uri: &str) -> Vec<Value> {
    let answers = support::follow(app, uri).await;
    for pair in answers.windows(2) {
        let (prev, v) = (&pair[0], &pair[1]);
        let prev_end = prev.get("covered_to").unwrap_or(&prev["to"]);
        assert!(v["from"] == prev["from"] || &v["from"] == prev_end, "{v}");
    }
    answers
}

const RANGE: &str = "from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z";

fn bucket_counts(v: &Value) -> BTreeMap<i64, [u64; 4]> {
    v["stats"]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            let n = |k: &str| b[k].as_u64().unwrap();
            (
                b["start"].as_i64().unwrap(),
                [
                    n("count"),
                    n("success"),
                    n("client_errors"),
                    n("server_errors"),
                ],
            )
        })
        .collect()
}

#[tokio::test]
async fn partial_stats_answers_concatenate_into_the_whole_answer() {
    let (full, slow) = apps(16);
    let uri = format!("/v1/stats?{RANGE}&source=lb&interval=1m");
    let whole = get(&full, &uri).await;
    assert_eq!(whole["partial"], false);
    assert!(whole.get("next_cursor").is_none() && whole.get("covered_to").is_none());
    assert_eq!(whole["stats"]["count"], 400);

    let answers = follow(&slow, &uri).await;
    let partials = answers.iter().filter(|a| a["partial"] == true).count();
    // 25 pages of 15 ms cannot fit in one 40 ms budget.
    assert!(partials >= 3, "{partials} partial answers");
    let mut series: BTreeMap<i64, [u64; 4]> = BTreeMap::new();
    let (mut count, mut lb_5xx, mut target_5xx) = (0, 0, 0);
    for a in &answers {
        let s = &a["stats"];
        count += s["count"].as_u64().unwrap();
        lb_5xx += s["lb"]["server_errors"].as_u64().unwrap();
        target_5xx += s["target"]["server_errors"].as_u64().unwrap();
        for (start, n) in bucket_counts(a) {
            // Cut at bucket boundaries: no bucket is in two answers.
            assert!(series.insert(start, n).is_none(), "bucket {start} twice");
            if let Some(end) = a["covered_to"].as_str() {
                let end: jiff::Timestamp = end.parse().unwrap();
                assert!(start + 60_000_000 <= end.as_microsecond());
            }
        }
    }
    assert_eq!(count, 400);
    assert_eq!(
        lb_5xx,
        whole["stats"]["lb"]["server_errors"].as_u64().unwrap()
    );
    assert_eq!(
        target_5xx,
        whole["stats"]["target"]["server_errors"].as_u64().unwrap()
    );
    assert_eq!(series, bucket_counts(&whole));
}

fn visit_pages(answers: &[Value]) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for a in answers {
        for v in a["rows"].as_array().unwrap() {
            let key = (
                v["ip"].as_str().unwrap().to_owned(),
                v["user_agent"].as_str().unwrap_or("").to_owned(),
            );
            for p in v["pages"].as_array().unwrap() {
                out.entry(key.clone())
                    .or_default()
                    .push(format!("{} {}", p["time"], p["path"]));
            }
        }
    }
    for pages in out.values_mut() {
        pages.sort();
    }
    out
}

#[tokio::test]
async fn partial_visits_answers_and_pages_give_every_page_view_once() {
    let (full, slow) = apps(16);
    for limit in [1000, 7] {
        let uri = format!("/v1/visits?{RANGE}&source=lb&limit={limit}&bots=true&assets=true");
        let whole = follow(&full, &uri).await;
        assert!(whole.iter().all(|a| a["partial"] == false));
        let answers = follow(&slow, &uri).await;
        if limit == 1000 {
            let partials = answers.iter().filter(|a| a["partial"] == true).count();
            assert!(partials >= 3, "{partials} partial answers");
        }
        let (got, want) = (visit_pages(&answers), visit_pages(&whole));
        assert_eq!(got.values().map(Vec::len).sum::<usize>(), 400);
        assert_eq!(got, want, "limit {limit}");
    }
}

#[tokio::test]
async fn partial_mail_answers_show_every_event_and_end_on_the_latest_status() {
    // One event a page: every answer stops after two or three.
    let (full, slow) = apps(1);
    for limit in [100, 1] {
        let uri = format!("/v1/mail?{RANGE}&limit={limit}");
        let whole = follow(&full, &uri).await;
        let answers = follow(&slow, &uri).await;
        assert!(answers.iter().filter(|a| a["partial"] == true).count() >= 3);
        let rows = |answers: &[Value]| {
            // (message, recipient) → (events seen, status in the last answer that shows it).
            let mut out: BTreeMap<(String, String), (u64, String)> = BTreeMap::new();
            for a in answers {
                for r in a["rows"].as_array().unwrap() {
                    let key = (r["message_id"].to_string(), r["to"].to_string());
                    let e = out.entry(key).or_default();
                    e.0 += r["events"].as_u64().unwrap();
                    e.1 = r["status"].as_str().unwrap().to_owned();
                }
            }
            out
        };
        let want = rows(&whole);
        assert_eq!(want.len(), 5, "{whole:?}");
        assert_eq!(rows(&answers), want, "limit {limit}");
    }
}

#[tokio::test]
async fn cursors_are_refused_with_other_parameters_or_elsewhere() {
    let (_, slow) = apps(1);
    let v = get(&slow, &format!("/v1/mail?{RANGE}")).await;
    let cursor = v["next_cursor"].as_str().unwrap().to_owned();
    let (s, e) = call(
        &slow,
        &format!("/v1/mail?{RANGE}&cursor={cursor}&subject=x"),
    )
    .await;
    assert_eq!((s, e["error"]["parameter"].as_str()), (400, Some("cursor")));
    for other in ["visits", "stats", "access", "errors"] {
        let (s, e) = call(&slow, &format!("/v1/{other}?{RANGE}&cursor={cursor}")).await;
        assert_eq!(
            (s, e["error"]["parameter"].as_str()),
            (400, Some("cursor")),
            "{other}"
        );
    }
    // Without `to` the first answer fixes the range's end: a continuation asks for the same one.
    let v = get(&slow, "/v1/stats?from=2026-11-20T00:00:00Z&source=lb").await;
    let first_to = v["to"].clone();
    if let Some(c) = v["next_cursor"].as_str() {
        let w = get(
            &slow,
            &format!("/v1/stats?from=2026-11-20T00:00:00Z&source=lb&cursor={c}"),
        )
        .await;
        assert_eq!(w["to"], first_to);
    }
}

#[tokio::test]
async fn forged_cursors_are_refused_or_answered_never_a_crash() {
    use logdesk_api::access::newest::{InsightsDesc, LocalDesc};
    use logdesk_api::group_read::Key;
    use logdesk_api::insights::Part;
    use logdesk_api::params::{Params, Resume, encode_cursor};
    let (full, _) = apps(16);
    let query = format!("{RANGE}&source=lb");
    let fp = Params::parse(Some(&query)).unwrap().fingerprint();
    let mail_fp = Params::parse(Some(RANGE)).unwrap().fingerprint();
    let access_fp = Params::parse(Some(&format!("{query}&order=desc")))
        .unwrap()
        .fingerprint();
    let extremes = [i64::MIN, -1, 0, 1, i64::MAX];
    for &a in &extremes {
        for &b in &extremes {
            let rest = Resume::<()>::Rest {
                start: a,
                to: b,
                origin: a,
            };
            let page = Resume::Page {
                start: a,
                end: b,
                to: b,
                origin: a,
                after: (a, "m".to_owned()),
                parts: vec![Part {
                    s: a,
                    e: b,
                    q: Some("q".to_owned()),
                    r: false,
                    l: false,
                }],
            };
            let pending = Resume::<()>::Pending {
                start: a,
                to: b,
                origin: a,
                parts: vec![Part::new(a, b), Part::new(b, a)],
            };
            for (path, cursor) in [
                ("stats", encode_cursor("stats", &(&fp, &rest))),
                ("stats", encode_cursor("stats", &(&fp, &pending))),
                ("visits", encode_cursor("visits", &(&fp, &pending))),
                ("visits", encode_cursor("visits", &(&fp, &page))),
                ("mail", encode_cursor("mail", &(&mail_fp, &page))),
                (
                    "access",
                    encode_cursor(
                        "access:desc",
                        &(
                            &access_fp,
                            &LocalDesc {
                                hi_ms: a,
                                before: Some(Key {
                                    t: b,
                                    g: 0,
                                    id: String::new(),
                                }),
                                width_ms: b,
                            },
                        ),
                    ),
                ),
                (
                    "access",
                    encode_cursor(
                        "access:desc:insights",
                        &(
                            &access_fp,
                            &InsightsDesc {
                                t: a,
                                seen: vec!["x".to_owned()],
                                newer: usize::MAX,
                            },
                        ),
                    ),
                ),
            ] {
                let q = match path {
                    "access" => format!("{query}&order=desc"),
                    "mail" => RANGE.to_owned(),
                    _ => query.clone(),
                };
                let (status, v) = call(&full, &format!("/v1/{path}?{q}&cursor={cursor}")).await;
                assert!(
                    status == 200 || status == 400,
                    "{path} {a} {b}: {status} {v}"
                );
            }
        }
    }
}
