//! Canned Logs Insights answers built from the same records the local engine reads: for each
//! query the API sends, the rows that query yields on those records (its range read from the
//! query's own `toMillis(@timestamp)` bound, its buckets from its `floor(…)` expression),
//! counted with the core's functions. aws-smithy-mocks rules serve them, so a test runs the
//! whole Insights path (StartQuery, polling, paging, reading, finishing) and compares its
//! answer with the local engine's.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::operation::get_query_results::GetQueryResultsOutput;
use aws_sdk_cloudwatchlogs::operation::start_query::StartQueryOutput;
use aws_sdk_cloudwatchlogs::types::{QueryStatus, ResultField};
use aws_smithy_mocks::{MockResponse, Rule, mock};
use logdesk_core::Record;
use logdesk_core::record::{MailRecord, RequestRecord};
use logdesk_core::stats::{self, StatsOptions};

/// One row: field → value.
pub type Row = Vec<(String, String)>;

/// The number after `prefix` in `q` (digits, maybe a minus sign).
fn number_after(q: &str, prefix: &str) -> Option<i64> {
    let rest = &q[q.find(prefix)? + prefix.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The `[from, to)` milliseconds of a bounded query.
pub fn range_ms(q: &str) -> (i64, i64) {
    (
        number_after(q, "toMillis(@timestamp) >= ").unwrap_or(i64::MIN),
        number_after(q, "toMillis(@timestamp) < ").unwrap_or(i64::MAX),
    )
}

/// The `(offset ms, width ms)` of a query's `floor((toMillis(@timestamp) + O) / W)`.
pub fn bins_ms(q: &str) -> Option<(i64, i64)> {
    let o = number_after(q, "floor((toMillis(@timestamp) + ")?;
    let w = number_after(q, &format!("floor((toMillis(@timestamp) + {o}) / "))?;
    Some((o, w))
}

/// The load-balancer records of `events` (ours and native ones), with their event time (ms).
pub fn lb_records(events: &[(i64, String)]) -> Vec<(i64, RequestRecord)> {
    events
        .iter()
        .filter_map(|(t, m)| {
            let rec = Record::from_json(m)
                .ok()
                .or_else(|| logdesk_api::requests::native(m))?;
            match rec {
                Record::Alb(r) | Record::Clb(r) => Some((*t, r)),
                _ => None,
            }
        })
        .collect()
}

/// The mail records of `events`, with their event time (ms).
pub fn mail_records(events: &[(i64, String)]) -> Vec<(i64, MailRecord)> {
    events
        .iter()
        .filter_map(|(t, m)| match Record::from_json(m).ok()? {
            Record::Mail(r) => Some((*t, r)),
            _ => None,
        })
        .collect()
}

fn row(pairs: Vec<(&str, String)>) -> Row {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn opt(v: Option<f64>) -> Option<String> {
    v.map(|v| v.to_string())
}

fn push_opt(r: &mut Row, k: &str, v: Option<String>) {
    if let Some(v) = v {
        r.push((k.to_owned(), v));
    }
}

/// Rows counted per value of `key`, most first (`"-"` for a record without one).
fn grouped(
    recs: &[&RequestRecord],
    name: &str,
    key: impl Fn(&RequestRecord) -> Option<String>,
) -> Vec<Row> {
    let mut counts: HashMap<String, u64> = HashMap::new();
    for r in recs {
        if let Some(k) = key(r) {
            *counts.entry(k).or_default() += 1;
        }
    }
    let mut rows: Vec<(String, u64)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    rows.into_iter()
        .map(|(k, n)| row(vec![(name, k), ("count", n.to_string())]))
        .collect()
}

/// What a `/v1/stats` query (totals, series or a breakdown) yields on `records`.
pub fn stats_rows(records: &[(i64, RequestRecord)], q: &str) -> Vec<Row> {
    let (from, to) = range_ms(q);
    let recs: Vec<&RequestRecord> = records
        .iter()
        .filter(|(t, _)| (from..to).contains(t))
        .map(|(_, r)| r)
        .collect();
    if q.contains("by st\n") {
        return grouped(&recs, "st", |r| r.status.map(|s| s.to_string()));
    }
    if q.contains("by agent\n") {
        return grouped(&recs, "agent", |r| {
            Some(r.user_agent.clone().unwrap_or_else(|| "-".to_owned()))
        });
    }
    if q.contains("by referrer\n") {
        return grouped(&recs, "referrer", |r| {
            Some(r.referrer.clone().unwrap_or_else(|| "-".to_owned()))
        });
    }
    if q.contains("by gm, gu\n") {
        return path_rows(&recs);
    }
    if let Some((offset, width)) = bins_ms(q) {
        return series_rows(&recs, offset, width);
    }
    totals_rows(&recs)
}

/// The rows of the URL-groups query: per method and URL without its query (`-` for none),
/// most requests first.
fn path_rows(recs: &[&RequestRecord]) -> Vec<Row> {
    let mut by: BTreeMap<(String, String), Vec<&RequestRecord>> = BTreeMap::new();
    for r in recs {
        let method = r.method.clone().unwrap_or_else(|| "-".to_owned());
        let url = r
            .url
            .as_deref()
            .map_or("-", |u| u.split('?').next().unwrap_or(u));
        by.entry((method, url.to_owned())).or_default().push(r);
    }
    let mut out: Vec<(u64, Row)> = by
        .into_iter()
        .map(|((method, url), rs)| {
            let s = stats::compute(rs.iter().copied(), &StatsOptions::default());
            let server = |s: Option<u16>| s.is_some_and(|s| (500..=599).contains(&s));
            let both = rs
                .iter()
                .filter(|r| server(r.status) && server(r.target_status))
                .count();
            let mut r = row(vec![
                ("gm", method),
                ("gu", url),
                ("count", s.count.to_string()),
                ("client_errors", s.lb.client_errors.to_string()),
                ("server_errors", s.lb.server_errors.to_string()),
                ("target_server_errors", s.target.server_errors.to_string()),
                ("both_server_errors", both.to_string()),
            ]);
            let timed = s.latency.as_ref().map_or(0, |l| l.count);
            r.push(("timed".to_owned(), timed.to_string()));
            if let Some(l) = s.latency {
                let min = rs
                    .iter()
                    .filter_map(|r| r.latency())
                    .fold(f64::MAX, f64::min);
                for (k, v) in [
                    ("mean", l.mean),
                    ("min", min),
                    ("p50", l.median),
                    ("p90", l.p90),
                    ("p95", l.p95),
                    ("p99", l.p99),
                    ("max", l.max),
                ] {
                    r.push((k.to_owned(), v.to_string()));
                }
            }
            (s.count, r)
        })
        .collect();
    out.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    out.into_iter().map(|(_, r)| r).collect()
}

fn totals_rows(recs: &[&RequestRecord]) -> Vec<Row> {
    if recs.is_empty() {
        return Vec::new();
    }
    let s = stats::compute(recs.iter().copied(), &StatsOptions::default());
    let visitors: HashSet<(Option<&str>, &str)> = recs
        .iter()
        .map(|r| {
            (
                r.client_ip.as_deref(),
                r.user_agent.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let mut r = row(vec![
        ("count", s.count.to_string()),
        ("client_errors", s.lb.client_errors.to_string()),
        ("server_errors", s.lb.server_errors.to_string()),
        ("target_server_errors", s.target.server_errors.to_string()),
        ("visitors", visitors.len().to_string()),
    ]);
    if let Some(l) = s.latency {
        for (k, v) in [
            ("mean", l.mean),
            ("median", l.median),
            ("p90", l.p90),
            ("p95", l.p95),
            ("p99", l.p99),
            ("max", l.max),
        ] {
            r.push((k.to_owned(), v.to_string()));
        }
    }
    vec![r]
}

fn series_rows(recs: &[&RequestRecord], offset_ms: i64, width_ms: i64) -> Vec<Row> {
    let mut by: BTreeMap<i64, Vec<&RequestRecord>> = BTreeMap::new();
    for r in recs {
        let key = (r.t.div_euclid(1000) + offset_ms).div_euclid(width_ms);
        by.entry(key).or_default().push(r);
    }
    by.into_iter()
        .map(|(key, rs)| {
            let s = stats::compute(rs.iter().copied(), &StatsOptions::default());
            let mut r = row(vec![
                ("bucket", key.to_string()),
                ("count", s.count.to_string()),
                ("client_errors", s.lb.client_errors.to_string()),
                ("server_errors", s.lb.server_errors.to_string()),
            ]);
            let l = s.latency.as_ref();
            push_opt(&mut r, "p50", opt(l.map(|l| l.median)));
            push_opt(&mut r, "p95", opt(l.map(|l| l.p95)));
            push_opt(&mut r, "max", opt(l.map(|l| l.max)));
            r
        })
        .collect()
}

/// What the mocked Insights saw: every query started (id `qN` is the N-th).
#[derive(Default)]
pub struct Seen {
    /// The query texts, in the order started.
    pub started: Mutex<Vec<String>>,
}

/// StartQuery (ids `q0`, `q1`, … in order) and GetQueryResults answering `answer(query)`
/// (first `Running` once, then `Complete`), as aws-smithy-mocks rules.
pub fn rules(answer: impl Fn(&str) -> Vec<Row> + Send + Sync + 'static) -> (Vec<Rule>, Arc<Seen>) {
    rules_held(answer, Arc::default())
}

/// [`rules`], with every query `Running` while `held` is set.
pub fn rules_held(
    answer: impl Fn(&str) -> Vec<Row> + Send + Sync + 'static,
    held: Arc<std::sync::atomic::AtomicBool>,
) -> (Vec<Rule>, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    let start = mock!(Client::start_query).then_compute_response(move |r| {
        let mut started = s.started.lock().unwrap();
        let id = format!("q{}", started.len());
        started.push(r.query_string().unwrap_or_default().to_owned());
        MockResponse::Output(StartQueryOutput::builder().query_id(id).build())
    });
    let polled: Arc<Mutex<HashSet<String>>> = Arc::default();
    let s = seen.clone();
    let results = mock!(Client::get_query_results).then_compute_response(move |r| {
        let id = r.query_id().unwrap_or_default().to_owned();
        let running = held.load(std::sync::atomic::Ordering::SeqCst);
        if polled.lock().unwrap().insert(id.clone()) || running {
            return MockResponse::Output(
                GetQueryResultsOutput::builder()
                    .status(QueryStatus::Running)
                    .build(),
            );
        }
        let n: usize = id.trim_start_matches('q').parse().unwrap();
        let q = s.started.lock().unwrap()[n].clone();
        let rows = answer(&q)
            .into_iter()
            .map(|r| {
                r.into_iter()
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
    (vec![start, results], seen)
}

/// The sums of the mail queries' flags over `recs`, named as the queries name them.
fn mail_sums(recs: &[&MailRecord]) -> Row {
    let n = |f: &dyn Fn(&MailRecord) -> bool| recs.iter().filter(|r| f(r)).count().to_string();
    let is = |e: &'static str| move |r: &MailRecord| r.event == e;
    row(vec![
        ("sent", n(&is("Send"))),
        ("delivered", n(&is("Delivery"))),
        ("bounces", n(&is("Bounce"))),
        (
            "permanent_bounces",
            n(&|r| r.event == "Bounce" && r.bounce_type.as_deref() == Some("Permanent")),
        ),
        ("complaints", n(&is("Complaint"))),
        ("delays", n(&is("DeliveryDelay"))),
        ("rejects", n(&is("Reject"))),
        ("rendering_failures", n(&is("Rendering Failure"))),
        ("opens", n(&is("Open"))),
        ("clicks", n(&is("Click"))),
    ])
}

/// What follows the last `@` of the recipient, as the queries' `parse` cuts it.
fn raw_domain(r: &MailRecord) -> Option<String> {
    let to = r.recipient.as_deref()?;
    to.rfind('@').map(|i| to[i + 1..].to_owned())
}

/// What a `/v1/mail/stats` query (buckets, domains or reasons) yields on `records`.
pub fn mail_rows(records: &[(i64, MailRecord)], q: &str) -> Vec<Row> {
    let (from, to) = range_ms(q);
    let recs: Vec<&MailRecord> = records
        .iter()
        .filter(|(t, _)| (from..to).contains(t))
        .map(|(_, r)| r)
        .collect();
    if let Some((offset, width)) = bins_ms(q) {
        let mut by: BTreeMap<i64, Vec<&MailRecord>> = BTreeMap::new();
        for r in &recs {
            by.entry((r.t.div_euclid(1000) + offset).div_euclid(width))
                .or_default()
                .push(r);
        }
        return by
            .into_iter()
            .map(|(k, rs)| {
                let mut r = mail_sums(&rs);
                r.push(("bucket".to_owned(), k.to_string()));
                r
            })
            .collect();
    }
    if q.contains("by dom\n") {
        let mut by: BTreeMap<String, Vec<&MailRecord>> = BTreeMap::new();
        for r in &recs {
            if let Some(d) = raw_domain(r) {
                by.entry(d).or_default().push(r);
            }
        }
        return by
            .into_iter()
            .map(|(d, rs)| {
                let mut r = mail_sums(&rs);
                r.push(("dom".to_owned(), d));
                r.push(("records".to_owned(), rs.len().to_string()));
                r
            })
            .collect();
    }
    assert!(q.contains("by g_bt, g_bst"), "an unknown mail query: {q}");
    let mut by: BTreeMap<Vec<String>, u64> = BTreeMap::new();
    for r in recs.iter().filter(|r| r.event == "Bounce") {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        let key = vec![
            s(&r.bounce_type),
            s(&r.bounce_subtype),
            s(&r.status),
            s(&r.diagnostic),
            s(&r.remote_mta_ip),
            raw_domain(r).unwrap_or_default(),
            s(&r.reason),
        ];
        *by.entry(key).or_default() += 1;
    }
    by.into_iter()
        .map(|(k, n)| {
            let names = ["g_bt", "g_bst", "g_sc", "g_diag", "g_rip", "g_dom", "g_rc"];
            let mut r: Row = names
                .iter()
                .zip(k)
                .map(|(name, v)| ((*name).to_owned(), v))
                .collect();
            r.push(("count".to_owned(), n.to_string()));
            r
        })
        .collect()
}
