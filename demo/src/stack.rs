//! The template's resources in the emulator, the generated day uploaded into them, and the
//! real ingest and notify code run over it.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use aws_config::SdkConfig;
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_sdk_sqs::types::QueueAttributeName;
use logdesk_ingest::backfill;
use logdesk_ingest::handler::Deps as IngestDeps;
use serde_json::{Value, json};

use crate::names::Names;
use crate::traffic::{Day, Line};

/// Clients for an endpoint (the emulator).
#[derive(Clone)]
pub struct Clients {
    /// The endpoint.
    pub endpoint: String,
    /// The shared SDK configuration.
    pub sdk: SdkConfig,
    /// S3 (path-style: the emulator has no bucket host names).
    pub s3: aws_sdk_s3::Client,
    /// CloudWatch Logs.
    pub logs: aws_sdk_cloudwatchlogs::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// SQS.
    pub sqs: aws_sdk_sqs::Client,
}

impl Clients {
    /// Clients with test credentials for `endpoint` in `region`.
    pub async fn new(endpoint: &str, region: &str) -> Clients {
        let sdk = logdesk_e2e::sdk_config(endpoint, region).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        );
        Clients {
            endpoint: endpoint.to_owned(),
            logs: aws_sdk_cloudwatchlogs::Client::new(&sdk),
            sns: aws_sdk_sns::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            s3,
            sdk,
        }
    }
}

fn err(what: &str, e: impl std::error::Error + Send + Sync + 'static) -> anyhow::Error {
    anyhow!(
        "{what}: {}",
        aws_sdk_s3::error::DisplayErrorContext(&e as &dyn std::error::Error)
    )
}

/// What [`create_resources`] made, and what it could not.
#[derive(Debug, Clone, Default)]
pub struct Created {
    /// One line per resource.
    pub lines: Vec<String>,
    /// Resources the emulator does not support (said in the output).
    pub missing: Vec<String>,
    /// The SES events queue's URL (the emulator's form).
    pub ses_events_queue_url: String,
}

/// Creates what `template.yaml` would, with the names of `deploy/names.json`.
pub async fn create_resources(c: &Clients, n: &Names) -> anyhow::Result<Created> {
    let mut out = Created::default();
    create_buckets(c, n, &mut out).await?;
    create_log_groups(c, n, &mut out).await?;
    create_topics(c, n, &mut out).await?;
    let urls = create_queues(c, n, &mut out).await?;
    subscribe(c, n, &mut out).await?;
    out.ses_events_queue_url = urls
        .iter()
        .find(|(arn, _)| *arn == n.queues.ses_events.arn)
        .map(|(_, u)| u.clone())
        .unwrap_or_default();
    ses_and_firehose(c, n, &mut out).await;
    out.missing.push(
        "Lambda functions and their S3/SQS triggers: the demo runs the same code in this process"
            .to_owned(),
    );
    out.missing.push(
        "Glue tables, Athena workgroup and CloudWatch alarms: not needed by the API".to_owned(),
    );
    Ok(out)
}

/// The buckets.
async fn create_buckets(c: &Clients, n: &Names, out: &mut Created) -> anyhow::Result<()> {
    for b in [
        &n.buckets.mail,
        &n.buckets.lb_logs,
        &n.buckets.athena_results,
    ] {
        c.s3.create_bucket()
            .bucket(b)
            .send()
            .await
            .map_err(|e| err(&format!("CreateBucket {b}"), e))?;
        out.lines.push(format!("bucket      s3://{b}"));
    }
    Ok(())
}

/// The log groups, with the template's retention where it sets one.
async fn create_log_groups(c: &Clients, n: &Names, out: &mut Created) -> anyhow::Result<()> {
    let groups = [
        (&n.log_groups.lb, Some(n.retention_days.lb)),
        (&n.log_groups.mail, Some(n.retention_days.mail)),
        (&n.log_groups.nginx_access, None),
        (&n.log_groups.nginx_error, None),
        (&n.log_groups.firehose_errors, None),
        (
            &n.functions.ingest.log_group,
            Some(n.retention_days.functions),
        ),
        (
            &n.functions.notify.log_group,
            Some(n.retention_days.functions),
        ),
        (&n.functions.api.log_group, Some(n.retention_days.functions)),
    ];
    for (g, days) in groups {
        c.logs
            .create_log_group()
            .log_group_name(g)
            .send()
            .await
            .map_err(|e| err(&format!("CreateLogGroup {g}"), e))?;
        if let Some(days) = days {
            c.logs
                .put_retention_policy()
                .log_group_name(g)
                .retention_in_days(days)
                .send()
                .await
                .map_err(|e| err(&format!("PutRetentionPolicy {g}"), e))?;
            out.lines
                .push(format!("log group   {g} (retention {days} days)"));
        } else {
            out.lines.push(format!("log group   {g}"));
        }
    }
    Ok(())
}

/// The topics, whose ARNs must be those `names.json` gives.
async fn create_topics(c: &Clients, n: &Names, out: &mut Created) -> anyhow::Result<()> {
    for t in [&n.topics.ses_events, &n.topics.alerts] {
        let got = c
            .sns
            .create_topic()
            .name(&t.name)
            .send()
            .await
            .map_err(|e| err(&format!("CreateTopic {}", t.name), e))?;
        if got.topic_arn() != Some(t.arn.as_str()) {
            return Err(anyhow!(
                "topic {} has ARN {:?}, names.json says {}",
                t.name,
                got.topic_arn(),
                t.arn
            ));
        }
        out.lines.push(format!("topic       {}", t.arn));
    }
    Ok(())
}

/// The queues (the SES events queue with its dead-letter queue); (ARN, URL) of each.
async fn create_queues(
    c: &Clients,
    n: &Names,
    out: &mut Created,
) -> anyhow::Result<Vec<(String, String)>> {
    let mut urls = Vec::new();
    for q in [
        &n.queues.ses_events_dlq,
        &n.queues.ingest_dlq,
        &n.queues.ses_events,
    ] {
        let mut req = c.sqs.create_queue().queue_name(&q.name);
        if q.name == n.queues.ses_events.name {
            req = req
                .attributes(
                    QueueAttributeName::RedrivePolicy,
                    json!({"deadLetterTargetArn": n.queues.ses_events_dlq.arn, "maxReceiveCount": 5})
                        .to_string(),
                )
                .attributes(QueueAttributeName::VisibilityTimeout, "360");
        }
        let got = req
            .send()
            .await
            .map_err(|e| err(&format!("CreateQueue {}", q.name), e))?;
        let url = got.queue_url().unwrap_or_default().to_owned();
        out.lines.push(format!("queue       {}", q.arn));
        urls.push((q.arn.clone(), url));
    }
    Ok(urls)
}

/// The topics' subscriptions.
async fn subscribe(c: &Clients, n: &Names, out: &mut Created) -> anyhow::Result<()> {
    for s in &n.subscriptions {
        c.sns
            .subscribe()
            .topic_arn(&s.topic)
            .protocol(&s.protocol)
            .endpoint(&s.endpoint)
            .attributes(
                "RawMessageDelivery",
                if s.raw_message_delivery {
                    "true"
                } else {
                    "false"
                },
            )
            .send()
            .await
            .map_err(|e| err(&format!("Subscribe {} to {}", s.endpoint, s.topic), e))?;
        out.lines
            .push(format!("subscription {} → {}", s.topic, s.endpoint));
    }
    Ok(())
}

/// The SES configuration set with its event destinations and the Firehose stream, through
/// the emulator's query/JSON APIs (the workspace does not build the SES and Firehose SDKs).
/// Failures are reported, not fatal: the API does not need them.
async fn ses_and_firehose(c: &Clients, n: &Names, out: &mut Created) {
    let http = reqwest::Client::new();
    let stream_arn = format!(
        "arn:aws:firehose:{}:{}:deliverystream/{}",
        n.region, n.account_id, n.firehose
    );
    create_firehose(&http, c, n, out).await;
    let calls = ses_calls(n, &stream_arn);
    for (what, mut form) in calls {
        form.push(("Version".into(), "2010-12-01".into()));
        let r = http
            .post(&c.endpoint)
            .header("Authorization", auth(n, "ses"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form_body(&form))
            .send()
            .await;
        match r {
            Ok(r) if r.status().is_success() => out.lines.push(format!("ses         {what}")),
            Ok(r) => out
                .missing
                .push(format!("SES {what} (emulator answered {})", r.status())),
            Err(e) => out.missing.push(format!("SES {what} ({e})")),
        }
    }
}

/// The emulator's signature check only reads the credential scope.
fn auth(n: &Names, service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=test/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
        n.region
    )
}

/// The Firehose stream that writes SES events to the mail bucket, partitioned by event type.
async fn create_firehose(http: &reqwest::Client, c: &Clients, n: &Names, out: &mut Created) {
    let firehose = json!({
        "DeliveryStreamName": n.firehose,
        "DeliveryStreamType": "DirectPut",
        "ExtendedS3DestinationConfiguration": {
            "RoleARN": format!("arn:aws:iam::{}:role/{}-firehose", n.account_id, n.stack_name),
            "BucketARN": format!("arn:aws:s3:::{}", n.buckets.mail),
            "Prefix": "ses/partitioned/!{partitionKeyFromQuery:EventType}/!{timestamp:yyyy/MM/dd}/",
            "ErrorOutputPrefix": "ses/errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/",
            "CompressionFormat": "GZIP",
            "BufferingHints": {"IntervalInSeconds": 300, "SizeInMBs": 64},
        },
    });
    let r = http
        .post(&c.endpoint)
        .header("Authorization", auth(n, "firehose"))
        .header("X-Amz-Target", "Firehose_20150804.CreateDeliveryStream")
        .header("Content-Type", "application/x-amz-json-1.1")
        .body(firehose.to_string())
        .send()
        .await;
    match r {
        Ok(r) if r.status().is_success() => out.lines.push(format!(
            "firehose    {} → s3://{}/ses/",
            n.firehose, n.buckets.mail
        )),
        Ok(r) => out.missing.push(format!(
            "Firehose delivery stream {} (emulator answered {})",
            n.firehose,
            r.status()
        )),
        Err(e) => out
            .missing
            .push(format!("Firehose delivery stream {} ({e})", n.firehose)),
    }
}

/// The SES query-API calls: (what, form fields) of the configuration set and its two event
/// destinations (all events to Firehose, bounces and complaints to SNS).
fn ses_calls(n: &Names, stream_arn: &str) -> Vec<(String, Vec<(String, String)>)> {
    let set = &n.ses_configuration_set;
    vec![
        (
            format!("configuration set {set}"),
            vec![
                ("Action".into(), "CreateConfigurationSet".into()),
                ("ConfigurationSet.Name".into(), set.clone()),
            ],
        ),
        (
            format!("event destination {set} → Firehose (all events)"),
            vec![
                (
                    "Action".into(),
                    "CreateConfigurationSetEventDestination".into(),
                ),
                ("ConfigurationSetName".into(), set.clone()),
                ("EventDestination.Name".into(), "firehose".into()),
                ("EventDestination.Enabled".into(), "true".into()),
                (
                    "EventDestination.KinesisFirehoseDestination.DeliveryStreamARN".into(),
                    stream_arn.to_owned(),
                ),
                (
                    "EventDestination.KinesisFirehoseDestination.IAMRoleARN".into(),
                    format!(
                        "arn:aws:iam::{}:role/{}-ses-firehose",
                        n.account_id, n.stack_name
                    ),
                ),
                (
                    "EventDestination.MatchingEventTypes.member.1".into(),
                    "send".into(),
                ),
                (
                    "EventDestination.MatchingEventTypes.member.2".into(),
                    "delivery".into(),
                ),
                (
                    "EventDestination.MatchingEventTypes.member.3".into(),
                    "bounce".into(),
                ),
                (
                    "EventDestination.MatchingEventTypes.member.4".into(),
                    "complaint".into(),
                ),
                (
                    "EventDestination.MatchingEventTypes.member.5".into(),
                    "open".into(),
                ),
            ],
        ),
        (
            format!("event destination {set} → SNS {}", n.topics.ses_events.name),
            vec![
                (
                    "Action".into(),
                    "CreateConfigurationSetEventDestination".into(),
                ),
                ("ConfigurationSetName".into(), set.clone()),
                ("EventDestination.Name".into(), "sns".into()),
                ("EventDestination.Enabled".into(), "true".into()),
                (
                    "EventDestination.SNSDestination.TopicARN".into(),
                    n.topics.ses_events.arn.clone(),
                ),
                (
                    "EventDestination.MatchingEventTypes.member.1".into(),
                    "bounce".into(),
                ),
                (
                    "EventDestination.MatchingEventTypes.member.2".into(),
                    "complaint".into(),
                ),
            ],
        ),
    ]
}

fn form_body(pairs: &[(String, String)]) -> String {
    let enc = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Uploads the day's objects (a few at a time).
pub async fn upload(c: &Clients, day: &Day) -> anyhow::Result<usize> {
    let mut n = 0;
    for chunk in day.objects.chunks(8) {
        let puts = chunk.iter().map(|o| {
            c.s3.put_object()
                .bucket(&o.bucket)
                .key(&o.key)
                .content_encoding("gzip")
                .body(o.body.clone().into())
                .send()
        });
        for (r, o) in futures_util::future::join_all(puts)
            .await
            .into_iter()
            .zip(chunk)
        {
            r.map_err(|e| err(&format!("PutObject s3://{}/{}", o.bucket, o.key), e))?;
            n += 1;
        }
    }
    Ok(n)
}

/// The agent's log stream name (the instance id).
pub const AGENT_STREAM: &str = "i-0a1b2c3d4e5f67890";

/// Puts raw lines into a group as the CloudWatch agent would (one stream, batches in order).
pub async fn put_lines(c: &Clients, group: &str, lines: &[Line]) -> anyhow::Result<usize> {
    c.logs
        .create_log_stream()
        .log_group_name(group)
        .log_stream_name(AGENT_STREAM)
        .send()
        .await
        .map_err(|e| err(&format!("CreateLogStream {group}"), e))?;
    let mut n = 0;
    for chunk in lines.chunks(2000) {
        let events = chunk
            .iter()
            .map(|l| {
                InputLogEvent::builder()
                    .timestamp(l.timestamp_ms)
                    .message(&l.message)
                    .build()
                    .map_err(|e| anyhow!("log event: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let out = c
            .logs
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(AGENT_STREAM)
            .set_log_events(Some(events))
            .send()
            .await
            .map_err(|e| err(&format!("PutLogEvents {group}"), e))?;
        if let Some(info) = out.rejected_log_events_info() {
            return Err(anyhow!("PutLogEvents {group} rejected events: {info:?}"));
        }
        n += chunk.len();
    }
    Ok(n)
}

/// What ingest did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ingested {
    /// Objects listed.
    pub objects: u64,
    /// Objects written.
    pub ingested: u64,
    /// Objects that failed.
    pub failed: u64,
    /// Records written.
    pub records: u64,
    /// Bad records.
    pub bad: u64,
}

/// Runs ingest's backfill code (what `logdesk-ingest backfill` runs) over both buckets, with
/// the function's environment from names.json.
pub async fn ingest(c: &Clients, n: &Names) -> anyhow::Result<Ingested> {
    let config = logdesk_ingest::route::Config::from_lookup(n.functions.ingest.lookup())
        .context("ingest configuration from names.json")?;
    let deps = IngestDeps::new(c.s3.clone(), c.logs.clone(), config);
    let mut total = Ingested::default();
    for (bucket, prefix) in [
        (&n.buckets.lb_logs, &n.prefixes.lb),
        (&n.buckets.mail, &n.prefixes.ses),
    ] {
        let objects = backfill::list(&deps, bucket, prefix, None).await?;
        let mut first_error = None;
        let t = backfill::run(&deps, objects, |_, results| {
            for r in results {
                if let Err(e) = r {
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        })
        .await;
        if let Some(e) = first_error {
            return Err(anyhow!("ingest of s3://{bucket}/{prefix} failed: {e}"));
        }
        total.objects += t.objects;
        total.ingested += t.ingested + t.already;
        total.failed += t.failed;
        total.records += t.records;
        total.bad += t.bad;
    }
    Ok(total)
}

/// The alert notify published, as read back from a queue subscribed to the alerts topic.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The SNS subject (the e-mail subject).
    pub subject: String,
    /// The message (the e-mail body).
    pub message: String,
}

/// Runs notify's handler on the sample bounce the way it arrives on AWS: published to the SES
/// events topic, delivered to the SES events queue, received as an SQS batch. A demo queue
/// subscribed to the alerts topic receives the alert, which is returned.
pub async fn notify(
    c: &Clients,
    n: &Names,
    created: &Created,
    sample_bounce: &str,
) -> anyhow::Result<Alert> {
    let readback = format!("{}-demo-readback", n.topics.alerts.name);
    let q = c
        .sqs
        .create_queue()
        .queue_name(&readback)
        .send()
        .await
        .map_err(|e| err("CreateQueue (alerts read-back)", e))?;
    let readback_url = q.queue_url().unwrap_or_default().to_owned();
    let readback_arn = format!("arn:aws:sqs:{}:{}:{readback}", n.region, n.account_id);
    c.sns
        .subscribe()
        .topic_arn(&n.topics.alerts.arn)
        .protocol("sqs")
        .endpoint(&readback_arn)
        .send()
        .await
        .map_err(|e| err("Subscribe (alerts read-back)", e))?;

    c.sns
        .publish()
        .topic_arn(&n.topics.ses_events.arn)
        .subject("Amazon SES Email Event Notification")
        .message(sample_bounce)
        .send()
        .await
        .map_err(|e| err("Publish to the SES events topic", e))?;
    let got = receive(c, &created.ses_events_queue_url, 1).await?;
    let records: Vec<Value> = got
        .iter()
        .map(|m| {
            json!({
                "messageId": m.message_id().unwrap_or_default(),
                "receiptHandle": m.receipt_handle().unwrap_or_default(),
                "body": m.body().unwrap_or_default(),
                "attributes": {}, "messageAttributes": {},
                "md5OfBody": m.md5_of_body().unwrap_or_default(),
                "eventSource": "aws:sqs",
                "eventSourceARN": n.queues.ses_events.arn,
                "awsRegion": n.region,
            })
        })
        .collect();
    let config = logdesk_notify::Config::from_lookup(n.functions.notify.lookup())
        .map_err(|e| anyhow!("notify configuration from names.json: {e}"))?;
    let deps =
        logdesk_notify::Deps::new(config, c.sns.clone()).map_err(|e| anyhow!("notify: {e}"))?;
    let response = logdesk_notify::handler(&deps, json!({ "Records": records }))
        .await
        .map_err(|e| anyhow!("notify handler: {e}"))?;
    let failures = response["batchItemFailures"]
        .as_array()
        .map(Vec::len)
        .unwrap_or(0);
    if failures > 0 {
        return Err(anyhow!("notify reported failures: {response}"));
    }
    for m in &got {
        if let Some(h) = m.receipt_handle() {
            let _ = c
                .sqs
                .delete_message()
                .queue_url(&created.ses_events_queue_url)
                .receipt_handle(h)
                .send()
                .await;
        }
    }
    let alerts = receive(c, &readback_url, 1).await?;
    let body = alerts
        .first()
        .and_then(|m| m.body())
        .ok_or_else(|| anyhow!("no alert arrived on the alerts topic"))?;
    let envelope: Value = serde_json::from_str(body).context("alert envelope")?;
    Ok(Alert {
        subject: envelope["Subject"].as_str().unwrap_or_default().to_owned(),
        message: envelope["Message"].as_str().unwrap_or_default().to_owned(),
    })
}

async fn receive(
    c: &Clients,
    url: &str,
    want: usize,
) -> anyhow::Result<Vec<aws_sdk_sqs::types::Message>> {
    let mut out = Vec::new();
    for _ in 0..10 {
        let got = c
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| err("ReceiveMessage", e))?;
        out.extend(got.messages().iter().cloned());
        if out.len() >= want {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(out)
}
