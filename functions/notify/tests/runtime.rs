//! The real binary under a stand-in Lambda Runtime API on 127.0.0.1: it reads its settings
//! from the environment, the Slack webhook URL from a Secrets Manager secret (the moto
//! emulator), takes one SQS event, posts the alert to Slack and answers with the SQS batch
//! response.

mod support;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::slack_stub::{Answer, SlackStub};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

const EVENT: &str = include_str!("../../../events/notify/sqs-sns-bounces.json");

/// Serves one invocation, then holds further `next` requests open. Returns the address and
/// the response body the function posted, once it arrives.
async fn runtime_api() -> (String, Arc<Mutex<Option<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let posted: Arc<Mutex<Option<String>>> = Arc::default();
    let served = Arc::new(Mutex::new(false));
    let result = posted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let posted = posted.clone();
            let served = served.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut reader = BufReader::new(read);
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0usize;
                    loop {
                        let mut header = String::new();
                        if reader.read_line(&mut header).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let response = if request_line.contains("/invocation/next") {
                        let first = !std::mem::replace(&mut *served.lock().unwrap(), true);
                        if !first {
                            // No more events: hold the request open until the test ends.
                            tokio::time::sleep(Duration::from_secs(120)).await;
                            return;
                        }
                        let deadline = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_millis()
                            + 60_000;
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                             lambda-runtime-aws-request-id: req-1\r\n\
                             lambda-runtime-deadline-ms: {deadline}\r\n\
                             lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:logdesk-notify\r\n\
                             content-length: {}\r\n\r\n{EVENT}",
                            EVENT.len()
                        )
                    } else {
                        if request_line.contains("/invocation/req-1/response") {
                            *posted.lock().unwrap() =
                                Some(String::from_utf8_lossy(&body).into_owned());
                        }
                        "HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n".to_owned()
                    };
                    if write.write_all(response.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (addr, result)
}

#[tokio::test(flavor = "multi_thread")]
async fn binary_handles_one_sqs_invocation() {
    let (api, posted) = runtime_api().await;
    let slack = SlackStub::start(vec![Answer::ok()], "/services/T0/B0/runtime").await;
    let emulator = tokio::task::spawn_blocking(logdesk_e2e::Emulator::start)
        .await
        .unwrap()
        .expect("the moto emulator starts");
    let secret_arn = create_secret(&emulator.endpoint(), &slack.url).await;
    let mut child = Command::new(env!("CARGO_BIN_EXE_logdesk-notify"))
        .env_clear()
        .envs(logdesk_e2e::lambda_env(&api, "logdesk-notify"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", emulator.endpoint())
        .env("SLACK_WEBHOOK_SECRET_ARN", &secret_arn)
        .env("ALERT_LANG", "ja")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let response = loop {
        if let Some(body) = posted.lock().unwrap().clone() {
            break Some(body);
        }
        if started.elapsed() > Duration::from_secs(30) {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    let response: serde_json::Value =
        serde_json::from_str(&response.expect("no response")).unwrap();
    assert_eq!(response, serde_json::json!({"batchItemFailures": []}));
    let bodies = slack.bodies();
    assert_eq!(bodies.len(), 1);
    assert_eq!(bodies[0]["text"], "不達 2件");
}

/// A Secrets Manager secret in the emulator holding `url`; returns its ARN.
async fn create_secret(endpoint: &str, url: &str) -> String {
    let config = logdesk_e2e::sdk_config(endpoint, "us-east-1").await;
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let created = client
        .create_secret()
        .name("logdesk-local/slack-webhook")
        .secret_string(url)
        .send()
        .await
        .expect("CreateSecret in the emulator");
    created.arn().expect("the new secret's ARN").to_owned()
}
