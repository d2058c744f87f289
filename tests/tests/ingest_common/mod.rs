//! Shared set-up for the ingest end-to-end tests: the emulator, real SDK clients against it,
//! a bucket and the two log groups, and helpers to upload objects and count events.

#![allow(dead_code)]

use std::io::Write;
use std::time::Duration;

use logdesk_e2e::Emulator;
use logdesk_ingest::handler::Deps;
use logdesk_ingest::log_writer::RetryPolicy;
use logdesk_ingest::once::LockPolicy;
use logdesk_ingest::route::Config;
use serde_json::{Value, json};

pub const BUCKET: &str = "logdesk-logs";
pub const LB_GROUP: &str = "/logdesk/lb";
pub const MAIL_GROUP: &str = "/logdesk/mail";

pub struct Env {
    pub emulator: Emulator,
    pub deps: Deps,
}

pub async fn env() -> Env {
    let emulator = Emulator::start().expect("start emulator");
    let config = emulator.sdk_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    for g in [LB_GROUP, MAIL_GROUP] {
        logs.create_log_group()
            .log_group_name(g)
            .send()
            .await
            .unwrap();
    }
    let cfg = Config::from_lookup(|n| match n {
        "LB_LOG_GROUP" => Some(LB_GROUP.into()),
        "MAIL_LOG_GROUP" => Some(MAIL_GROUP.into()),
        _ => None,
    })
    .unwrap();
    let mut deps = Deps::new(s3, logs, cfg);
    deps.retry = RetryPolicy {
        attempts: 3,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
    };
    deps.lock = LockPolicy {
        lease: Duration::from_secs(60),
        wait: Duration::from_secs(60),
        poll: Duration::from_millis(100),
    };
    Env { emulator, deps }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// An ALB object key as ELB names them.
pub fn alb_key(name: &str) -> String {
    prefixed_alb_key("", name)
}

/// An ALB object key under `prefix`, as a load balancer configured with a log prefix names
/// them (`prefix` empty or ending in `/`).
pub fn prefixed_alb_key(prefix: &str, name: &str) -> String {
    format!(
        "{prefix}AWSLogs/123456789012/elasticloadbalancing/us-east-1/2026/11/22/123456789012_elasticloadbalancing_us-east-1_app.my-loadbalancer.50dc6c495c0c9188_20261122T0115Z_10.0.0.1_{name}.log.gz"
    )
}

/// `n` recent ALB lines, gzipped.
pub fn alb_object(n: usize, seed: u64) -> Vec<u8> {
    let mut text = String::new();
    logdesk_ingest::sample::alb_lines(&mut text, n, now_ms() - 3_600_000, seed);
    gz(text.as_bytes())
}

pub async fn put(deps: &Deps, key: &str, body: Vec<u8>) {
    deps.s3
        .put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

/// An S3 notification for `keys` (URL-encoded as S3 does: space as `+`).
pub fn s3_event(keys: &[&str]) -> Value {
    let records: Vec<Value> = keys
        .iter()
        .map(|k| {
            let encoded = k.replace('%', "%25").replace('+', "%2B").replace(' ', "+");
            json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2026-11-22T01:15:00.000Z", "eventName": "ObjectCreated:Put",
                "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": BUCKET, "arn": "arn:aws:s3:::logdesk-logs"},
                       "object": {"key": encoded, "size": 1}}
            })
        })
        .collect();
    json!({ "Records": records })
}

/// Every event message in a stream, oldest first.
pub async fn stream_messages(deps: &Deps, group: &str, stream: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10_000 {
        let page = deps
            .logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await;
        let page = match page {
            Ok(p) => p,
            Err(e) if format!("{e:?}").contains("ResourceNotFound") => return out,
            Err(e) => panic!("{e:?}"),
        };
        let n = page.events().len();
        out.extend(
            page.events()
                .iter()
                .filter_map(|e| e.message().map(str::to_string)),
        );
        let next = page.next_forward_token().map(str::to_string);
        if n == 0 || next == token {
            break;
        }
        token = next;
    }
    out
}

/// Events in every stream of `group`.
pub async fn group_event_count(deps: &Deps, group: &str) -> usize {
    let streams = deps
        .logs
        .describe_log_streams()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    let mut n = 0;
    for s in streams.log_streams() {
        n += stream_messages(deps, group, s.log_stream_name().unwrap())
            .await
            .len();
    }
    n
}

pub async fn is_tagged(deps: &Deps, key: &str) -> bool {
    logdesk_ingest::once::read_tags(&deps.s3, BUCKET, key)
        .await
        .unwrap()
        .0
}
