//! `/v1/stats` over 1,000,000 ALB records held in memory (the CloudWatch reader replaced by the
//! in-memory source), through the router as a request: wall time of the request and the
//! process's peak memory. Goal: under 1.5 s on one core and under 512 MB. The request runs on a
//! single-threaded runtime; its CPU time is printed beside the wall time, which a busy machine
//! stretches.
//!
//! Run: `cargo bench -p logdesk-api --bench stats` (or `cargo xtask bench --package logdesk-api`).

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use logdesk_api::source::MemorySource;
use logdesk_api::synthetic;
use logdesk_api::{AppState, Config, router};
use tower::ServiceExt;

const N: usize = 1_000_000;
/// 2026-11-20T00:00:00Z.
const BASE: i64 = 1_795_132_800_000_000;

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU time of this thread so far (the runtime is single-threaded, so the request's CPU time is
/// a difference of two readings; unlike wall time it does not grow on a busy machine).
fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut src = MemorySource::new(10_000);
    let mut bytes = 0usize;
    for e in synthetic::alb_requests(N, BASE, 86_400) {
        bytes += e.message.len();
        src.push("/logdesk/lb", e.timestamp, e.message);
    }
    let loaded = peak_rss_mb();
    let config = Config::from_lookup(|_| None).unwrap();
    let app = router(AppState::new(config, Arc::new(src)));
    let uri = "/v1/stats?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z&source=lb&interval=5m";
    for round in 0..3 {
        let start = Instant::now();
        let cpu_start = thread_cpu_seconds();
        let resp = rt
            .block_on(
                app.clone()
                    .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap()),
            )
            .unwrap();
        let status = resp.status();
        let body = rt.block_on(resp.into_body().collect()).unwrap().to_bytes();
        let elapsed = start.elapsed();
        let cpu = thread_cpu_seconds()
            .zip(cpu_start)
            .map_or(f64::NAN, |(b, a)| b - a);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["stats"]["count"], N as u64);
        println!(
            "round {round}: /v1/stats over {N} records ({:.0} MB of JSON) in {:.3} s on CPU ({:.3} s wall); peak RSS {:.0} MB (data loaded: {:.0} MB)",
            bytes as f64 / 1e6,
            cpu,
            elapsed.as_secs_f64(),
            peak_rss_mb().unwrap_or(f64::NAN),
            loaded.unwrap_or(f64::NAN),
        );
    }
}
