//! Every endpoint, in both orders and with each engine choice, against the emulator, as the demo
//! and the local `serve` run it: the emulator runs no Logs Insights query as AWS does, so the
//! settings of a run against it (`AWS_ENDPOINT_URL`) turn Insights off and the local engine
//! answers everything, saying so in `engine`. Each answer is compared with the local engine's.

use std::sync::Arc;

use logdesk_api::source::CloudWatchSource;
use logdesk_api::synthetic::{self, Group};
use logdesk_api::{AppState, Config, router};
use logdesk_e2e::{Emulator, http};
use serde_json::Value;

const GROUPS: [(Group, &str); 4] = [
    (Group::Lb, "/logdesk/lb"),
    (Group::Mail, "/logdesk/mail"),
    (Group::NginxAccess, "/logdesk/nginx/access"),
    (Group::NginxError, "/logdesk/nginx/error"),
];

async fn logs_client(endpoint: &str) -> aws_sdk_cloudwatchlogs::Client {
    let config = logdesk_e2e::sdk_config(endpoint, "us-east-1").await;
    aws_sdk_cloudwatchlogs::Client::new(&config)
}

/// Puts the synthetic day starting at `base_us` into the emulator's groups.
async fn seed(logs: &aws_sdk_cloudwatchlogs::Client, base_us: i64) {
    let events = synthetic::day(base_us);
    for (group, name) in GROUPS {
        let mine: Vec<(i64, &str)> = events
            .iter()
            .filter(|e| e.group == group)
            .map(|e| (e.timestamp, e.message.as_str()))
            .collect();
        logdesk_e2e::log_group_with(logs, name, &mine).await;
    }
}

/// The router over the emulator with the settings of a run against it (`AWS_ENDPOINT_URL`
/// set), given the Insights client as `main` gives it; or, as `reference`, without Insights.
fn app(logs: &aws_sdk_cloudwatchlogs::Client, endpoint: &str, reference: bool) -> axum::Router {
    let config = Config::from_lookup(|k| match k {
        "AWS_ENDPOINT_URL" if !reference => Some(endpoint.to_owned()),
        "DEFAULT_TZ" => Some("UTC".to_owned()),
        _ => None,
    })
    .unwrap();
    assert!(
        reference || !config.insights,
        "an emulator turns Insights off"
    );
    let state = AppState::new(config, Arc::new(CloudWatchSource::new(logs.clone())));
    router(if reference {
        state
    } else {
        state.with_insights(logs.clone())
    })
}

async fn get(app: &axum::Router, uri: &str) -> (u16, Value) {
    let a = http::get(app, uri).await;
    (a.status.as_u16(), a.json())
}

/// `us` as the API writes times in UTC, escaped for a query string.
fn at(us: i64) -> String {
    logdesk_api::params::format_time(us, &logdesk_api::params::Zone::UTC)
        .replace(":", "%3A")
        .replace("+", "%2B")
}

fn ids(v: &Value) -> Vec<String> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_endpoint_order_and_engine_answers_as_the_local_engine() {
    let emulator = Emulator::start().expect("start emulator");
    let endpoint = emulator.endpoint();
    let logs = logs_client(&endpoint).await;
    // Two hours ago on a whole minute: PutLogEvents refuses events older than 14 days.
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let base = (now_s - 7200) / 60 * 60 * 1_000_000;
    seed(&logs, base).await;
    let (demo, reference) = (app(&logs, &endpoint, false), app(&logs, &endpoint, true));
    // A day-long range: `engine=auto` would pick Insights for it on AWS.
    let range = format!(
        "from={}&to={}",
        at(base - 20 * 3_600_000_000),
        at(base + 4 * 3_600_000_000)
    );

    let mut uris = vec![
        format!("/v1/mail?{range}"),
        format!("/v1/mail/m-0003?{range}"),
        format!("/v1/recipients/taro%40example.jp?{range}"),
        format!("/v1/errors?{range}"),
    ];
    for source in ["lb", "nginx", "all"] {
        for order in ["asc", "desc"] {
            uris.push(format!(
                "/v1/access?{range}&source={source}&order={order}&limit=1000"
            ));
        }
        for engine in ["auto", "local"] {
            uris.push(format!("/v1/stats?{range}&source={source}&engine={engine}"));
            uris.push(format!(
                "/v1/visits?{range}&source={source}&engine={engine}"
            ));
        }
    }
    for uri in &uris {
        let (status, got) = get(&demo, uri).await;
        assert_eq!(status, 200, "{uri}: {got}");
        let (_, want) = get(&reference, uri).await;
        assert_eq!(got, want, "{uri}");
        assert_eq!(got["engine"], "filter_log_events", "{uri}");
    }

    // Newest first lists the day's requests, the same ones as oldest first.
    for source in ["lb", "all"] {
        let q = format!("/v1/access?{range}&source={source}&limit=1000");
        let (_, asc) = get(&demo, &format!("{q}&order=asc")).await;
        let (_, desc) = get(&demo, &format!("{q}&order=desc")).await;
        let n = asc["count"].as_u64().unwrap();
        assert!(n > 0, "{source}: {asc}");
        assert_eq!(desc["count"], n, "{source}");
        let mut reversed = ids(&desc);
        reversed.reverse();
        assert_eq!(reversed, ids(&asc), "{source}");
    }
    // Stats count every load-balancer request.
    let (_, lb) = get(&demo, &format!("/v1/access?{range}&source=lb&limit=1000")).await;
    let (_, stats) = get(&demo, &format!("/v1/stats?{range}&source=lb")).await;
    assert_eq!(stats["stats"]["count"], lb["count"], "{stats}");

    // Asked for by name, Insights is refused with the reason, never answered with zeros.
    for path in ["stats", "visits"] {
        let (status, v) = get(
            &demo,
            &format!("/v1/{path}?{range}&source=lb&engine=insights"),
        )
        .await;
        assert_eq!(status, 400, "{path}: {v}");
        assert_eq!(v["error"]["parameter"], "engine", "{path}");
    }
    drop(emulator);
}
