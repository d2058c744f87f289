//! Metrics in CloudWatch Embedded Metric Format: one JSON line on standard output, which
//! Lambda sends to the function's log group, where CloudWatch turns it into a metric data
//! point. No API call, no permission, no latency; the template's alarms watch these names.
//!
//! Namespace from `METRICS_NAMESPACE` (default `logdesk`), one dimension set
//! `[["FunctionName"]]` with the value of `AWS_LAMBDA_FUNCTION_NAME`. Outside Lambda (the
//! command-line tools) that variable is unset and nothing is emitted.

use std::io::Write;

use serde_json::{Map, Value, json};

use crate::route::Config;

/// The metrics ingest emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// An object skipped for a reason that may mean records lost (see
    /// [`crate::route::Skip::is_expected`]).
    SkippedObjects,
    /// Events CloudWatch Logs refused as older than 14 days or than the group's retention.
    TooOldEvents,
}

impl Metric {
    /// The metric's name in CloudWatch.
    pub fn name(self) -> &'static str {
        match self {
            Metric::SkippedObjects => "SkippedObjects",
            Metric::TooOldEvents => "TooOldEvents",
        }
    }
}

/// The Embedded Metric Format line for `count` of `metric` at `timestamp_ms`, with
/// `properties` (searchable in Logs Insights, not dimensions) added; `None` outside Lambda.
pub fn emf_line(
    config: &Config,
    metric: Metric,
    count: u64,
    timestamp_ms: i64,
    properties: &[(&str, &str)],
) -> Option<String> {
    let function = config.function_name.as_deref()?;
    let mut root = Map::new();
    for (key, value) in properties {
        root.insert((*key).to_string(), Value::from(*value));
    }
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": config.metrics_namespace,
                "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": metric.name(), "Unit": "Count"}],
            }],
        }),
    );
    root.insert("FunctionName".into(), Value::from(function));
    root.insert(metric.name().into(), Value::from(count));
    Some(Value::Object(root).to_string())
}

/// Emits `count` of `metric` now (see [`emf_line`]): one whole line written at once, so that
/// lines from concurrent objects do not interleave.
pub fn emit(config: &Config, metric: Metric, count: u64, properties: &[(&str, &str)]) {
    let now = jiff::Timestamp::now().as_millisecond();
    if let Some(mut line) = emf_line(config, metric, count, now, properties) {
        line.push('\n');
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(line.as_bytes()).and_then(|()| out.flush()) {
            tracing::warn!(error = %e, metric = metric.name(), "could not write a metric");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(function: Option<&str>, namespace: Option<&str>) -> Config {
        Config::from_lookup(|name| match name {
            "LB_LOG_GROUP" => Some("/lb".into()),
            "MAIL_LOG_GROUP" => Some("/mail".into()),
            "AWS_LAMBDA_FUNCTION_NAME" => function.map(str::to_string),
            "METRICS_NAMESPACE" => namespace.map(str::to_string),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn emf_line_has_the_documented_shape() {
        let c = config(Some("logdesk-ingest"), None);
        let line = emf_line(
            &c,
            Metric::SkippedObjects,
            1,
            1_795_310_100_000,
            &[
                ("reason", "key outside the configured prefixes"),
                ("key", "a/b"),
            ],
        )
        .unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(
            v["_aws"],
            json!({
                "Timestamp": 1_795_310_100_000_i64,
                "CloudWatchMetrics": [{
                    "Namespace": "logdesk",
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": "SkippedObjects", "Unit": "Count"}],
                }],
            })
        );
        assert_eq!(v["FunctionName"], "logdesk-ingest");
        assert_eq!(v["SkippedObjects"], 1);
        assert_eq!(v["reason"], "key outside the configured prefixes");
        assert_eq!(v["key"], "a/b");
        assert!(!line.contains('\n'));
    }

    #[test]
    fn namespace_from_the_environment_and_nothing_outside_lambda() {
        let c = config(Some("f"), Some("acme/logs"));
        let line = emf_line(&c, Metric::TooOldEvents, 7, 0, &[]).unwrap();
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], "acme/logs");
        assert_eq!(v["TooOldEvents"], 7);
        assert_eq!(
            emf_line(&config(None, None), Metric::TooOldEvents, 7, 0, &[]),
            None
        );
    }
}
