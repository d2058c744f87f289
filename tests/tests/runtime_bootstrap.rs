//! The functions' binaries run as Lambda runs them: each `bootstrap` is started with
//! `AWS_LAMBDA_RUNTIME_API` pointing at a local Runtime API ([`logdesk_e2e::runtime_api`]) and
//! the SDK pointing at the emulator, and answers the events of `events/`:
//!
//! - ingest: the S3 test event, an ALB object's S3 notification and an SES object's EventBridge
//!   notification (the objects put into the emulator's bucket first; their records read back);
//! - notify: the SNS bounce and the SQS batch, and an SQS batch with one unreadable message
//!   (a partial batch failure naming it); Slack is not configured;
//! - api: Function URL events, answered as streamed responses: health, the dashboard and a
//!   CSV export.
//!
//! The binaries: `$LOGDESK_BOOTSTRAP_DIR/<function>/bootstrap` when set (CI sets it to the
//! release build of `cargo lambda build`, `target/ci-lambda/lambda`), else the workspace's
//! debug binaries (`cargo build --bins`). Every wait is bounded.

mod ingest_common;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ingest_common::{BUCKET, LB_GROUP, MAIL_GROUP, alb_object, gz, put};
use logdesk_e2e::runtime_api::{Answer, RuntimeApi};
use logdesk_e2e::{Emulator, lambda_env, project_root};
use serde_json::Value;

/// Longest wait for any answer.
const BOUND: Duration = Duration::from_secs(60);

/// The binary of `function` (`logdesk-ingest`, …).
fn binary(function: &str) -> PathBuf {
    match std::env::var_os("LOGDESK_BOOTSTRAP_DIR") {
        Some(dir) => PathBuf::from(dir).join(function).join("bootstrap"),
        None => project_root().join("target").join("debug").join(function),
    }
}

fn event(path: &str) -> String {
    std::fs::read_to_string(project_root().join("events").join(path)).unwrap()
}

/// A running bootstrap behind its own Runtime API; killed when dropped.
struct Function {
    api: RuntimeApi,
    child: Child,
}

impl Function {
    fn start(function: &str, emulator: &Emulator, env: &[(&str, &str)]) -> Function {
        let api = RuntimeApi::start().unwrap();
        let path = binary(function);
        assert!(path.exists(), "{} is not built", path.display());
        let child = Command::new(&path)
            .env_clear()
            .envs(lambda_env(api.address(), function))
            .env("AWS_ENDPOINT_URL", emulator.endpoint())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Function { api, child }
    }

    /// Invokes `payload` and waits for the answer.
    fn invoke(&self, id: &str, payload: &str) -> Answer {
        self.api.invoke(id, payload);
        match self.api.answer(id, BOUND) {
            Some(a) => a,
            None => panic!(
                "no answer to {id} within {BOUND:?} (init error: {:?})",
                self.api.init_error()
            ),
        }
    }

    /// Invokes `payload`; the JSON it answered (a buffered response).
    fn json(&self, id: &str, payload: &str) -> Value {
        match self.invoke(id, payload) {
            Answer::Response {
                body,
                streamed: false,
            } => serde_json::from_slice(&body).unwrap_or(Value::Null),
            other => panic!("{id}: {other:?}"),
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A streamed Function URL answer: the prelude's JSON and the body.
fn streamed(answer: Answer) -> (Value, Vec<u8>) {
    let Answer::Response {
        body,
        streamed: true,
    } = answer
    else {
        panic!("not a streamed response: {answer:?}");
    };
    let at = body
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("the prelude's eight NUL bytes");
    (
        serde_json::from_slice(&body[..at]).unwrap(),
        body[at + 8..].to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_answers_the_s3_and_eventbridge_events() {
    let env = ingest_common::env().await;
    let f = Function::start(
        "logdesk-ingest",
        &env.emulator,
        &[
            ("LB_LOG_GROUP", LB_GROUP),
            ("MAIL_LOG_GROUP", MAIL_GROUP),
            ("LOGDESK_S3_PATH_STYLE", "1"),
        ],
    );
    // The objects the notifications name.
    let alb: Value = serde_json::from_str(&event("ingest/s3-alb-put.json")).unwrap();
    let alb_key = alb["Records"][0]["s3"]["object"]["key"].as_str().unwrap();
    put(&env.deps, alb_key, alb_object(20, 7)).await;
    let eb: Value =
        serde_json::from_str(&event("ingest/eventbridge-ses-object-created.json")).unwrap();
    let ses_key = eb["detail"]["object"]["key"].as_str().unwrap();
    let sns: Value = serde_json::from_str(&event("notify/sns-bounce.json")).unwrap();
    let ses_line = sns["Records"][0]["Sns"]["Message"].as_str().unwrap();
    let mut ses: Value = serde_json::from_str(ses_line).unwrap();
    // Recent, or CloudWatch Logs refuses the records (older than 14 days).
    let now = jiff::Timestamp::now().to_string();
    ses["mail"]["timestamp"] = now.clone().into();
    ses["bounce"]["timestamp"] = now.into();
    put(&env.deps, ses_key, gz(format!("{ses}\n").as_bytes())).await;
    assert_eq!(eb["detail"]["bucket"]["name"], BUCKET);

    for (id, payload) in [
        ("s3-test", event("ingest/s3-test-event.json")),
        ("s3-alb", event("ingest/s3-alb-put.json")),
        (
            "eventbridge-ses",
            event("ingest/eventbridge-ses-object-created.json"),
        ),
    ] {
        let answer = f.invoke(id, &payload);
        assert!(
            matches!(answer, Answer::Response { .. }),
            "{id}: {answer:?}"
        );
    }
    // The records are in the groups.
    for (group, least) in [(LB_GROUP, 20), (MAIL_GROUP, 1)] {
        let out = env
            .deps
            .logs
            .filter_log_events()
            .log_group_name(group)
            .send()
            .await
            .unwrap();
        assert!(
            out.events().len() >= least,
            "{group}: {}",
            out.events().len()
        );
    }
}

/// The emulator's SNS client.
async fn sns_client(emulator: &Emulator) -> aws_sdk_sns::Client {
    let config = emulator.sdk_config().await;
    aws_sdk_sns::Client::new(&config)
}

#[tokio::test(flavor = "multi_thread")]
async fn notify_answers_sns_and_sqs_with_partial_batch_failures() {
    let emulator = Emulator::start().unwrap();
    let topic = sns_client(&emulator)
        .await
        .create_topic()
        .name("logdesk-alerts")
        .send()
        .await
        .unwrap();
    let topic = topic.topic_arn().unwrap();
    // Slack is not configured: alerts go to the topic only.
    let f = Function::start("logdesk-notify", &emulator, &[("ALERT_TOPIC_ARN", topic)]);
    let answer = f.invoke("sns", &event("notify/sns-bounce.json"));
    assert!(matches!(answer, Answer::Response { .. }), "{answer:?}");
    let v = f.json("sqs", &event("notify/sqs-sns-bounces.json"));
    assert_eq!(v["batchItemFailures"], serde_json::json!([]), "{v}");

    // A topic that does not exist: the bounce's alert is not delivered, so its message is
    // reported for SQS to retry; a message with nothing to alert about is not.
    let lost = topic.replace("logdesk-alerts", "logdesk-missing");
    let f = Function::start("logdesk-notify", &emulator, &[("ALERT_TOPIC_ARN", &lost)]);
    let mut batch: Value = serde_json::from_str(&event("notify/sqs-sns-bounces.json")).unwrap();
    let records = batch["Records"].as_array_mut().unwrap();
    records.truncate(1);
    let bounce_id = records[0]["messageId"].clone();
    let mut other = records[0].clone();
    other["messageId"] = "nothing-to-alert".into();
    other["body"] = "not an SES notification".into();
    records.push(other);
    let v = f.json("sqs-partial", &batch.to_string());
    assert_eq!(
        v["batchItemFailures"],
        serde_json::json!([{ "itemIdentifier": bounce_id }]),
        "{v}"
    );
    // An SNS invocation whose alert is not delivered fails (Lambda retries it).
    let answer = f.invoke("sns-lost", &event("notify/sns-bounce.json"));
    assert!(matches!(answer, Answer::Error(_)), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_answers_function_url_events_streamed() {
    // Empty groups: the answers are empty, but whole.
    let env = ingest_common::env().await;
    for g in ["/logdesk/nginx/access", "/logdesk/nginx/error"] {
        env.deps
            .logs
            .create_log_group()
            .log_group_name(g)
            .send()
            .await
            .unwrap();
    }
    let f = Function::start("logdesk-api", &env.emulator, &[]);
    let (head, body) = streamed(f.invoke("health", &event("api/health.json")));
    assert_eq!(head["statusCode"], 200, "{head}");
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["status"], "ok");
    // The dashboard: the same event on `/`.
    let mut dash: Value = serde_json::from_str(&event("api/health.json")).unwrap();
    dash["rawPath"] = "/".into();
    dash["requestContext"]["http"]["path"] = "/".into();
    let (head, body) = streamed(f.invoke("dashboard", &dash.to_string()));
    assert_eq!(head["statusCode"], 200, "{head}");
    assert!(
        String::from_utf8_lossy(&body).contains("<html"),
        "not the dashboard"
    );
    // A CSV export, streamed: the header row (with its BOM) at least.
    let (head, body) = streamed(f.invoke("csv", &event("api/access-csv.json")));
    assert_eq!(head["statusCode"], 200, "{head}");
    let text = String::from_utf8_lossy(&body);
    assert!(text.starts_with('\u{feff}'), "{text}");
    assert!(text.lines().next().unwrap().contains("time"), "{text}");
}
