//! The resource names of the local stack, read from `deploy/names.json` (generated from
//! `template.yaml` by `deploy/names.py`): the one place the demo takes names from.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `deploy/names.json`, embedded at build time.
pub const NAMES_JSON: &str = include_str!("../../deploy/names.json");

/// The parts of `deploy/names.json` the demo uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Names {
    /// The stack name the names were evaluated for.
    pub stack_name: String,
    /// The account id the ARNs carry (moto's default account).
    pub account_id: String,
    /// The region.
    pub region: String,
    /// Buckets.
    pub buckets: Buckets,
    /// Key prefixes.
    pub prefixes: Prefixes,
    /// Log groups.
    pub log_groups: LogGroups,
    /// Retention of the record and function log groups, in days.
    pub retention_days: Retention,
    /// SNS topics.
    pub topics: Topics,
    /// SQS queues.
    pub queues: Queues,
    /// SNS subscriptions.
    pub subscriptions: Vec<Subscription>,
    /// The SES configuration set.
    pub ses_configuration_set: String,
    /// The Firehose delivery stream.
    pub firehose: String,
    /// The functions.
    pub functions: Functions,
}

/// Buckets.
#[derive(Debug, Clone, Deserialize)]
pub struct Buckets {
    /// SES events (Firehose writes here).
    pub mail: String,
    /// Load balancer access logs.
    pub lb_logs: String,
    /// Athena query results.
    pub athena_results: String,
}

/// Key prefixes.
#[derive(Debug, Clone, Deserialize)]
pub struct Prefixes {
    /// Where SES objects are.
    pub ses: String,
    /// Where load balancers write.
    pub lb: String,
}

/// Log groups.
#[derive(Debug, Clone, Deserialize)]
pub struct LogGroups {
    /// Load-balancer records.
    pub lb: String,
    /// Mail records.
    pub mail: String,
    /// Raw nginx access lines (the CloudWatch agent's group).
    pub nginx_access: String,
    /// Raw nginx error lines.
    pub nginx_error: String,
    /// Firehose delivery errors.
    pub firehose_errors: String,
}

/// Retention in days.
#[derive(Debug, Clone, Deserialize)]
pub struct Retention {
    /// The load-balancer group.
    pub lb: i32,
    /// The mail group.
    pub mail: i32,
    /// The function log groups.
    pub functions: i32,
}

/// A topic.
#[derive(Debug, Clone, Deserialize)]
pub struct Topic {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
}

/// Topics.
#[derive(Debug, Clone, Deserialize)]
pub struct Topics {
    /// SES bounce/complaint notifications.
    pub ses_events: Topic,
    /// Alerts to people.
    pub alerts: Topic,
}

/// A queue.
#[derive(Debug, Clone, Deserialize)]
pub struct Queue {
    /// Name.
    pub name: String,
    /// ARN.
    pub arn: String,
}

/// Queues.
#[derive(Debug, Clone, Deserialize)]
pub struct Queues {
    /// SES events for notify.
    pub ses_events: Queue,
    /// Its dead-letter queue.
    pub ses_events_dlq: Queue,
    /// ingest's on-failure destination.
    pub ingest_dlq: Queue,
}

/// An SNS subscription.
#[derive(Debug, Clone, Deserialize)]
pub struct Subscription {
    /// Topic ARN.
    pub topic: String,
    /// Protocol (`sqs`).
    pub protocol: String,
    /// Endpoint (a queue ARN).
    pub endpoint: String,
    /// Raw message delivery.
    pub raw_message_delivery: bool,
}

/// One function.
#[derive(Debug, Clone, Deserialize)]
pub struct Function {
    /// Function name.
    pub name: String,
    /// The binary built for it.
    pub binary: String,
    /// Its log group.
    pub log_group: String,
    /// Its environment.
    pub env: BTreeMap<String, String>,
}

/// The functions.
#[derive(Debug, Clone, Deserialize)]
pub struct Functions {
    /// ingest.
    pub ingest: Function,
    /// notify.
    pub notify: Function,
    /// api.
    pub api: Function,
}

impl Names {
    /// The embedded `deploy/names.json`.
    pub fn embedded() -> anyhow::Result<Names> {
        Ok(serde_json::from_str(NAMES_JSON)?)
    }
}

impl Function {
    /// An environment lookup over this function's variables.
    pub fn lookup(&self) -> impl Fn(&str) -> Option<String> + '_ {
        |k| self.env.get(k).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_json_parses_and_agrees_with_itself() {
        let n = Names::embedded().unwrap();
        assert_eq!(n.functions.api.env["LB_LOG_GROUP"], n.log_groups.lb);
        assert_eq!(n.functions.ingest.env["MAIL_LOG_GROUP"], n.log_groups.mail);
        assert!(n.buckets.lb_logs.starts_with(&n.stack_name));
        assert!(
            n.subscriptions
                .iter()
                .any(|s| s.topic == n.topics.ses_events.arn)
        );
    }
}
