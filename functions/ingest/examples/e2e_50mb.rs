//! End to end against the local emulator: one 50 MB (plain) ALB object through the real
//! handler (S3 GetObject → … → PutLogEvents), reporting wall time and PutLogEvents calls.
//!
//! `cargo run --release -p logdesk-ingest --example e2e_50mb` (SIZE_MB=… to change the size).

use std::io::Write;
use std::time::Instant;

use logdesk_e2e::Emulator;
use logdesk_ingest::handler::{Deps, handler};
use logdesk_ingest::route::Config;

#[global_allocator]
static ALLOC: logdesk_ingest::Allocator = logdesk_ingest::Allocator;

#[tokio::main]
async fn main() {
    let size_mb: usize = std::env::var("SIZE_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let emulator = Emulator::start().expect("start emulator");
    let aws = emulator.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&aws)
            .force_path_style(true)
            .build(),
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(&aws);
    s3.create_bucket()
        .bucket("bench")
        .send()
        .await
        .expect("bucket");
    logs.create_log_group()
        .log_group_name("/logdesk/lb")
        .send()
        .await
        .expect("group");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let mut text = String::new();
    let mut seed = 0;
    while text.len() < size_mb * 1024 * 1024 {
        logdesk_ingest::sample::alb_lines(
            &mut text,
            10_000,
            now - 7_200_000 + seed * 300_000,
            seed as u64,
        );
        seed += 1;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let key = "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/22/123456789012_elasticloadbalancing_us-east-1_app.bench.1_20261122T0115Z_10.0.0.1_x.log.gz";
    s3.put_object()
        .bucket("bench")
        .key(key)
        .body(gz.clone().into())
        .send()
        .await
        .expect("upload");
    let config = Config::from_lookup(|n| match n {
        "LB_LOG_GROUP" => Some("/logdesk/lb".into()),
        "MAIL_LOG_GROUP" => Some("/logdesk/mail".into()),
        _ => None,
    })
    .expect("config");
    let deps = Deps::new(s3, logs, config);
    let event = serde_json::json!({"Records": [{"eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": "bench"}, "object": {"key": key}}}]});
    let started = Instant::now();
    let summary = handler(&deps, event).await.expect("handler");
    let elapsed = started.elapsed().as_secs_f64();
    let s = &summary.objects[0];
    println!(
        "{:.1} MB plain ({:.1} MB gzip), {} records, {} PutLogEvents calls (ideal {}), rejected {}, wall {:.1} s ({:.1} MB/s)",
        text.len() as f64 / 1048576.0,
        gz.len() as f64 / 1048576.0,
        s.stats.records,
        s.batches,
        (s.stats.encoded_bytes as usize).div_ceil(logdesk_ingest::batch::MAX_BATCH_BYTES),
        s.rejected,
        elapsed,
        text.len() as f64 / 1048576.0 / elapsed
    );
}
