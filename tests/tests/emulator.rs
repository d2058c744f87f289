//! The emulator harness works end to end: CloudWatch Logs through the real AWS SDK.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use logdesk_e2e::Emulator;

async fn logs_client(emulator: &Emulator) -> aws_sdk_cloudwatchlogs::Client {
    let config = emulator.sdk_config().await;
    aws_sdk_cloudwatchlogs::Client::new(&config)
}

#[tokio::test]
async fn put_and_read_back_log_events() {
    let emulator = Emulator::start().expect("start emulator");
    let logs = logs_client(&emulator).await;
    logs.create_log_group()
        .log_group_name("/logdesk/test")
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name("/logdesk/test")
        .log_stream_name("s1")
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let messages = [
        r#"{"k":"alb","v":1}"#,
        r#"{"k":"mail","v":1,"subj":"件名"}"#,
    ];
    let events: Vec<InputLogEvent> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            InputLogEvent::builder()
                .timestamp(now + i as i64)
                .message(*m)
                .build()
                .unwrap()
        })
        .collect();
    logs.put_log_events()
        .log_group_name("/logdesk/test")
        .log_stream_name("s1")
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
    let got = logs
        .get_log_events()
        .log_group_name("/logdesk/test")
        .log_stream_name("s1")
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let read: Vec<&str> = got.events().iter().filter_map(|e| e.message()).collect();
    assert_eq!(read, messages);
}
