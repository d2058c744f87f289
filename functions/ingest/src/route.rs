//! Where an object goes, decided from its key alone: which parser reads it and which log group
//! its records are written to, or why it is skipped. Also the log stream name of an object.

use logdesk_core::source::SourceKind;

/// Settings the SAM template passes as environment variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `LB_LOG_GROUP`: the log group for load-balancer records.
    pub lb_log_group: String,
    /// `MAIL_LOG_GROUP`: the log group for mail records.
    pub mail_log_group: String,
    /// `SES_PREFIX`: where Firehose writes SES objects (default `ses/`); its `errors/`
    /// sub-prefix holds Firehose error objects.
    pub ses_prefix: String,
    /// `LB_PREFIX`: where load balancers write logs (default `AWSLogs/`).
    pub lb_prefix: String,
    /// `INGEST_CONCURRENCY`: objects processed at once in one invocation (default 4).
    pub concurrency: usize,
    /// `METRICS_NAMESPACE`: the CloudWatch namespace of the metrics ingest emits (default
    /// `logdesk`).
    pub metrics_namespace: String,
    /// `AWS_LAMBDA_FUNCTION_NAME`, set by Lambda: the metrics' `FunctionName` dimension. Unset
    /// (the command-line tools), no metric is emitted.
    pub function_name: Option<String>,
}

/// A required environment variable is missing or a value is unusable.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}: {problem}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl Config {
    /// Reads the configuration from the environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let required = |name: &'static str| {
            get(name)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| ConfigError {
                    name,
                    problem: "not set".into(),
                })
        };
        let concurrency = match get("INGEST_CONCURRENCY").filter(|v| !v.is_empty()) {
            None => 4,
            Some(v) => match v.parse::<usize>() {
                Ok(n) if n >= 1 => n,
                _ => {
                    return Err(ConfigError {
                        name: "INGEST_CONCURRENCY",
                        problem: format!("{v:?} is not a positive integer"),
                    });
                }
            },
        };
        Ok(Config {
            lb_log_group: required("LB_LOG_GROUP")?,
            mail_log_group: required("MAIL_LOG_GROUP")?,
            ses_prefix: get("SES_PREFIX").unwrap_or_else(|| "ses/".into()),
            lb_prefix: get("LB_PREFIX").unwrap_or_else(|| "AWSLogs/".into()),
            concurrency,
            metrics_namespace: get("METRICS_NAMESPACE")
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| "logdesk".into()),
            function_name: get("AWS_LAMBDA_FUNCTION_NAME").filter(|v| !v.is_empty()),
        })
    }
}

/// How an object's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A source the core's [`logdesk_core::source::ObjectParser`] reads.
    Source(SourceKind),
    /// A Firehose error-prefix object holding SES records that Firehose failed to deliver.
    FirehoseErrors,
}

impl ObjectKind {
    /// Short name for logs (`alb`, `ses`, `ses-firehose-error`, …).
    pub fn name(self) -> &'static str {
        match self {
            ObjectKind::Source(k) => k.name(),
            ObjectKind::FirehoseErrors => "ses-firehose-error",
        }
    }
}

/// What to do with an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// Parse it as `kind` and write the records to `log_group`.
    Ingest {
        /// How to read it.
        kind: ObjectKind,
        /// Destination log group.
        log_group: String,
    },
    /// Leave it alone, for the reason given.
    Skip(Skip),
}

/// Why an object is left alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// One of the lock objects ingest writes itself (see [`crate::once`]).
    LockObject,
    /// The test object ELB writes when logging is turned on.
    ElbTestFile,
    /// A zero-byte "folder" made by the S3 console.
    FolderPlaceholder,
    /// Under the load-balancer prefix (or an `AWSLogs/<account>/elasticloadbalancing/` part)
    /// but not named as an access or connection log (health-check logs, say).
    NotLbLog,
    /// Neither under a configured prefix nor an ELB key.
    OutsidePrefixes,
}

impl Skip {
    /// The reason, as logged and summarised.
    pub fn reason(self) -> &'static str {
        match self {
            Skip::LockObject => "ingest lock object",
            Skip::ElbTestFile => "ELB access log test file",
            Skip::FolderPlaceholder => "folder placeholder",
            Skip::NotLbLog => "not a load balancer access or connection log",
            Skip::OutsidePrefixes => "key outside the configured prefixes",
        }
    }

    /// Whether skipping is the normal fate of such an object (it holds no records): ingest's
    /// own lock objects (a bucket followed whole sends their events too), ELB's test file and
    /// console folders. Any other skip may be records lost and is a warning and a metric.
    pub fn is_expected(self) -> bool {
        matches!(
            self,
            Skip::LockObject | Skip::ElbTestFile | Skip::FolderPlaceholder
        )
    }
}

/// The prefix of the lock objects ingest writes into source buckets (never ingested).
pub const LOCK_PREFIX: &str = "logdesk-ingest-locks/";

/// Decides what to do with the object at `key`.
///
/// Load-balancer logs are recognised by `LB_PREFIX` or by the `AWSLogs/<account>/
/// elasticloadbalancing/` part ELB puts in every key, wherever it sits: a load balancer
/// configured with a log prefix writes `<prefix>/AWSLogs/…` (the `ExistingLbLogPrefix` case).
pub fn route(config: &Config, key: &str) -> Route {
    let file = key.rsplit('/').next().unwrap_or(key);
    if key.starts_with(LOCK_PREFIX) {
        return Route::Skip(Skip::LockObject);
    }
    if file == "ELBAccessLogTestFile" {
        return Route::Skip(Skip::ElbTestFile);
    }
    if key.ends_with('/') {
        return Route::Skip(Skip::FolderPlaceholder);
    }
    if let Some(rest) = key.strip_prefix(config.ses_prefix.as_str()) {
        let kind = if rest.starts_with("errors/") {
            ObjectKind::FirehoseErrors
        } else {
            ObjectKind::Source(SourceKind::Ses)
        };
        return Route::Ingest {
            kind,
            log_group: config.mail_log_group.clone(),
        };
    }
    if key.starts_with(config.lb_prefix.as_str()) || has_elb_part(key) {
        return match lb_kind(file) {
            Some(kind) => Route::Ingest {
                kind: ObjectKind::Source(kind),
                log_group: config.lb_log_group.clone(),
            },
            None => Route::Skip(Skip::NotLbLog),
        };
    }
    Route::Skip(Skip::OutsidePrefixes)
}

/// Whether `key` holds `AWSLogs/<account digits>/elasticloadbalancing/` at its start or right
/// after a `/`.
fn has_elb_part(key: &str) -> bool {
    const AWS_LOGS: &str = "AWSLogs/";
    let mut from = 0;
    while let Some(at) = key.get(from..).and_then(|rest| rest.find(AWS_LOGS)) {
        let at = from + at;
        let after_slash = at == 0 || key.as_bytes().get(at - 1) == Some(&b'/');
        let rest = key.get(at + AWS_LOGS.len()..).unwrap_or_default();
        if after_slash
            && let Some((account, tail)) = rest.split_once('/')
            && !account.is_empty()
            && account.bytes().all(|b| b.is_ascii_digit())
            && tail.starts_with("elasticloadbalancing/")
        {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The kind of a load-balancer log from its file name:
/// `[conn_log_]<account>_elasticloadbalancing_<region>_<lb-id>_<end-time>_…`, where the load
/// balancer id starts with `app.` (ALB) or `net.` (NLB) and Classic names have neither (and end
/// in `.log`, not gzip).
fn lb_kind(file: &str) -> Option<SourceKind> {
    let (connection, name) = match file.strip_prefix("conn_log_") {
        Some(rest) => (true, rest),
        None => (false, file),
    };
    let mut parts = name.split('_');
    let _account = parts.next()?;
    if parts.next()? != "elasticloadbalancing" {
        return None;
    }
    let _region = parts.next()?;
    let lb = parts.next()?;
    match (connection, lb) {
        (true, lb) if lb.starts_with("app.") => Some(SourceKind::AlbConnection),
        (true, _) => None,
        (false, lb) if lb.starts_with("app.") => Some(SourceKind::Alb),
        (false, lb) if lb.starts_with("net.") => Some(SourceKind::Nlb),
        (false, _) if file.ends_with(".log") => Some(SourceKind::Clb),
        (false, _) => None,
    }
}

/// Maximum length of a CloudWatch Logs stream name.
pub const MAX_STREAM_NAME: usize = 512;

/// The log stream that holds the records of one object: `<bucket>/<key>`, with `%`, `:` and `*`
/// percent-encoded (CloudWatch forbids `:` and `*`; encoding `%` keeps the mapping one-to-one).
/// Names over 512 characters keep a hash of the whole name and the readable tail of the key.
pub fn stream_name(bucket: &str, key: &str) -> String {
    let mut name = String::with_capacity(bucket.len() + key.len() + 1);
    for c in bucket
        .chars()
        .chain(std::iter::once('/'))
        .chain(key.chars())
    {
        match c {
            '%' => name.push_str("%25"),
            ':' => name.push_str("%3A"),
            '*' => name.push_str("%2A"),
            c => name.push(c),
        }
    }
    if name.len() <= MAX_STREAM_NAME {
        return name;
    }
    let hash = format!("{:016x}~", fnv1a(name.as_bytes()));
    let budget = MAX_STREAM_NAME - hash.len();
    let mut start = name.len() - budget;
    while !name.is_char_boundary(start) {
        start += 1;
    }
    format!("{hash}{}", &name[start..])
}

/// 64-bit FNV-1a: a stable, dependency-free hash for names (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::from_lookup(|name| match name {
            "LB_LOG_GROUP" => Some("/logdesk/lb".into()),
            "MAIL_LOG_GROUP" => Some("/logdesk/mail".into()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn routing_table() {
        let c = config();
        let lb = |k| Route::Ingest {
            kind: ObjectKind::Source(k),
            log_group: "/logdesk/lb".into(),
        };
        let base = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2022/05/01/";
        for (key, want) in [
            (
                format!(
                    "{base}123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20220215T2340Z_172.160.001.192_20sg8hgm.log.gz"
                ),
                lb(SourceKind::Alb),
            ),
            (
                format!(
                    "{base}123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20220215T2340Z_20sg8hgm.log.gz"
                ),
                lb(SourceKind::Nlb),
            ),
            (
                format!(
                    "{base}conn_log_123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20220215T2340Z_172.160.001.192_20sg8hgm.log.gz"
                ),
                lb(SourceKind::AlbConnection),
            ),
            (
                format!(
                    "{base}123456789012_elasticloadbalancing_us-east-2_my-classic_20140215T2340Z_172.160.001.192_20sg8hgm.log"
                ),
                lb(SourceKind::Clb),
            ),
            (
                format!(
                    "{base}health_check_log_123456789012_elasticloadbalancing_us-east-2_app.x.1_20220215T2340Z_1.2.3.4_a.log.gz"
                ),
                Route::Skip(Skip::NotLbLog),
            ),
            (
                "AWSLogs/123456789012/ELBAccessLogTestFile".to_string(),
                Route::Skip(Skip::ElbTestFile),
            ),
            (
                "ses/Bounce/2026/01/01/00/stream-1-2026-01-01-00-00-00-abc.gz".to_string(),
                Route::Ingest {
                    kind: ObjectKind::Source(SourceKind::Ses),
                    log_group: "/logdesk/mail".into(),
                },
            ),
            (
                "ses/errors/processing-failed/2026/01/01/x.gz".to_string(),
                Route::Ingest {
                    kind: ObjectKind::FirehoseErrors,
                    log_group: "/logdesk/mail".into(),
                },
            ),
            (
                "random/thing.txt".to_string(),
                Route::Skip(Skip::OutsidePrefixes),
            ),
            (
                format!(
                    "{LOCK_PREFIX}{base}123456789012_elasticloadbalancing_us-east-2_app.x.1_t_ip_r.log.gz"
                ),
                Route::Skip(Skip::LockObject),
            ),
            (
                format!(
                    "alb/{base}123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20220215T2340Z_172.160.001.192_20sg8hgm.log.gz"
                ),
                lb(SourceKind::Alb),
            ),
            (
                format!(
                    "team/alb/{base}123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20220215T2340Z_20sg8hgm.log.gz"
                ),
                lb(SourceKind::Nlb),
            ),
            (
                "xAWSLogs/123456789012/elasticloadbalancing/us-east-2/2022/05/01/123456789012_elasticloadbalancing_us-east-2_app.x.1_t_ip_r.log.gz".to_string(),
                Route::Skip(Skip::OutsidePrefixes),
            ),
            (
                "alb/AWSLogs/acct/elasticloadbalancing/us-east-2/123456789012_elasticloadbalancing_us-east-2_app.x.1_t_ip_r.log.gz".to_string(),
                Route::Skip(Skip::OutsidePrefixes),
            ),
            (
                "alb/AWSLogs/123456789012/ELBAccessLogTestFile".to_string(),
                Route::Skip(Skip::ElbTestFile),
            ),
            ("AWSLogs/".to_string(), Route::Skip(Skip::FolderPlaceholder)),
        ] {
            assert_eq!(route(&c, &key), want, "{key}");
        }
    }

    #[test]
    fn only_skips_that_may_lose_records_are_unexpected() {
        for (skip, expected) in [
            (Skip::LockObject, true),
            (Skip::ElbTestFile, true),
            (Skip::FolderPlaceholder, true),
            (Skip::NotLbLog, false),
            (Skip::OutsidePrefixes, false),
        ] {
            assert_eq!(skip.is_expected(), expected, "{skip:?}");
        }
    }

    #[test]
    fn config_defaults_and_errors() {
        let c = config();
        assert_eq!(c.ses_prefix, "ses/");
        assert_eq!(c.lb_prefix, "AWSLogs/");
        assert_eq!(c.concurrency, 4);
        assert_eq!(c.metrics_namespace, "logdesk");
        assert_eq!(c.function_name, None);
        let err = Config::from_lookup(|_| None).unwrap_err();
        assert_eq!(err.name, "LB_LOG_GROUP");
        let err = Config::from_lookup(|n| match n {
            "INGEST_CONCURRENCY" => Some("0".into()),
            _ => Some("x".into()),
        })
        .unwrap_err();
        assert_eq!(err.name, "INGEST_CONCURRENCY");
    }

    #[test]
    fn stream_names_are_legal_and_one_to_one() {
        assert_eq!(
            stream_name("logs", "AWSLogs/1/a:b*c%d.log.gz"),
            "logs/AWSLogs/1/a%3Ab%2Ac%25d.log.gz"
        );
        assert_ne!(stream_name("b", "a:"), stream_name("b", "a%3A"));
        let long_key = format!("{}/tail-of-the-key.log.gz", "é".repeat(400));
        let name = stream_name("logs", &long_key);
        assert!(name.len() <= MAX_STREAM_NAME, "{}", name.len());
        assert!(name.ends_with("tail-of-the-key.log.gz"));
        assert!(!name.contains(':') && !name.contains('*'));
        let other = stream_name("logs", &format!("x{long_key}"));
        assert_ne!(name, other);
    }
}
