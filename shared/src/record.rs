//! The records logdesk writes to CloudWatch Logs: one JSON object per log event.
//!
//! The writer (ingest) and the readers (api, notify) share these types, so they cannot disagree.
//! Every record carries `k` (what kind of record it is) and `v` (the schema version,
//! [`SCHEMA_VERSION`]). Keys are short because CloudWatch bills ingestion per byte; absent values
//! are omitted rather than written as `null`, and a value is never stored twice (a target list
//! that equals the single target is left out, for example). The key table is in `RECORDS.md`
//! beside this crate.
//!
//! Times are integers: microseconds since the Unix epoch, UTC. Durations are seconds as `f64`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The schema version written into every record's `v` field.
///
/// Bump it when a key changes meaning or disappears; adding an optional key does not need a bump.
pub const SCHEMA_VERSION: u32 = 1;

/// One log event's worth of data, tagged by `k`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Record {
    /// A request seen by an Application Load Balancer (`k: "alb"`).
    #[serde(rename = "alb")]
    Alb(RequestRecord),
    /// A request seen by a Classic Load Balancer (`k: "clb"`).
    #[serde(rename = "clb")]
    Clb(RequestRecord),
    /// A request from an nginx access log (`k: "nginx"`).
    #[serde(rename = "nginx")]
    Nginx(RequestRecord),
    /// An ALB connection-log entry (`k: "albc"`).
    #[serde(rename = "albc")]
    AlbConnection(ConnectionRecord),
    /// A Network Load Balancer TLS connection (`k: "nlb"`).
    #[serde(rename = "nlb")]
    Nlb(ConnectionRecord),
    /// An nginx error-log entry (`k: "nginxerr"`).
    #[serde(rename = "nginxerr")]
    NginxError(ErrorRecord),
    /// One SES event for one recipient (`k: "mail"`).
    #[serde(rename = "mail")]
    Mail(MailRecord),
    /// Input that could not be parsed, kept raw (`k: "bad"`).
    #[serde(rename = "bad")]
    Bad(BadRecord),
}

impl Record {
    /// Serialises the record as one compact line of JSON (no trailing newline).
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: every map key is a string and every number finite
        // or mapped to null by serde_json.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Appends the compact JSON of the record to `out` (no trailing newline).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        // Writing into a Vec cannot fail, see `to_json`.
        let _ = serde_json::to_writer(out, self);
    }

    /// Parses a record from its JSON text.
    pub fn from_json(text: &str) -> Result<Record, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The time of the event the record describes, in microseconds since the Unix epoch, if known.
    pub fn time_us(&self) -> Option<i64> {
        match self {
            Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) => Some(r.t),
            Record::AlbConnection(r) | Record::Nlb(r) => Some(r.t),
            Record::NginxError(r) => Some(r.t),
            Record::Mail(r) => Some(r.t),
            Record::Bad(r) => r.t,
        }
    }

    /// Marks a record whose line was cut before parsing (it was longer than a reader keeps):
    /// a bad record keeps the line's full length; request records say they are cut.
    pub fn mark_cut(&mut self, original_len: u64) {
        match self {
            Record::Bad(b) => {
                b.truncated = true;
                b.original_len = Some(original_len);
            }
            Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) => r.truncated = true,
            _ => {}
        }
    }

    /// Whether the record says it was cut ([`Record::mark_cut`]).
    pub fn is_cut(&self) -> bool {
        match self {
            Record::Bad(b) => b.truncated,
            Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) => r.truncated,
            _ => false,
        }
    }

    /// The request record inside, for the three request kinds.
    pub fn as_request(&self) -> Option<&RequestRecord> {
        match self {
            Record::Alb(r) | Record::Clb(r) | Record::Nginx(r) => Some(r),
            _ => None,
        }
    }
}

/// An ARN prefix that every value of a field repeats, so the record leaves it out.
///
/// ALB writes the full ARN of the target group and of the ACM certificate on every line; in the
/// `aws` partition they always start with the same `arn:aws:<service>:`, 12 to 29 bytes a record
/// pays for nothing. The written value is what follows (`ap-northeast-1:123456789012:
/// targetgroup/web/73e2d6bc24d8a067`), and readers put the prefix back. Only a value whose
/// remainder has the shape `<region>:<12-digit account>:<resource type>/…` is shortened, so a
/// short value is recognised by that shape: any other value (another partition, an IAM
/// certificate, `session-reused`) is written and read as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArnPrefix {
    /// The prefix left out (`arn:aws:elasticloadbalancing:`).
    pub prefix: &'static str,
    /// The resource type the short form carries (`targetgroup/`).
    pub resource: &'static str,
}

/// `tg`: ALB target group ARNs.
pub const TARGET_GROUP_ARN: ArnPrefix = ArnPrefix {
    prefix: "arn:aws:elasticloadbalancing:",
    resource: "targetgroup/",
};

/// `crt`: ACM certificate ARNs.
pub const CERTIFICATE_ARN: ArnPrefix = ArnPrefix {
    prefix: "arn:aws:acm:",
    resource: "certificate/",
};

impl ArnPrefix {
    /// The value as written into a record.
    pub fn compact<'a>(&self, value: &'a str) -> &'a str {
        match value.strip_prefix(self.prefix) {
            Some(rest) if self.is_short(rest) => rest,
            _ => value,
        }
    }

    /// The value as read from a record (the whole ARN again).
    pub fn expand(&self, value: String) -> String {
        if self.is_short(&value) {
            let mut whole = String::with_capacity(self.prefix.len() + value.len());
            whole.push_str(self.prefix);
            whole.push_str(&value);
            whole
        } else {
            value
        }
    }

    /// `<region>:<12-digit account>:<resource>…`.
    fn is_short(&self, text: &str) -> bool {
        let bytes = text.as_bytes();
        // The region: lowercase letters, digits and `-`, up to the first colon.
        let region = bytes
            .iter()
            .take_while(|&&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            .count();
        // Then `:<12-digit account>:<resource>`.
        let Some(rest) = bytes.get(region..) else {
            return false;
        };
        region > 0
            && rest.len() > 14
            && rest.first() == Some(&b':')
            && rest.get(13) == Some(&b':')
            && rest
                .get(1..13)
                .is_some_and(|a| a.iter().all(u8::is_ascii_digit))
            && rest
                .get(14..)
                .is_some_and(|r| r.starts_with(self.resource.as_bytes()))
    }
}

macro_rules! arn_field {
    ($module:ident, $prefix:ident) => {
        mod $module {
            use serde::{Deserialize, Deserializer, Serializer};

            pub(super) fn serialize<S: Serializer>(
                value: &Option<String>,
                s: S,
            ) -> Result<S::Ok, S::Error> {
                match value {
                    Some(v) => s.serialize_str(super::$prefix.compact(v)),
                    None => s.serialize_none(),
                }
            }

            pub(super) fn deserialize<'de, D: Deserializer<'de>>(
                d: D,
            ) -> Result<Option<String>, D::Error> {
                Ok(Option::<String>::deserialize(d)?.map(|v| super::$prefix.expand(v)))
            }
        }
    };
}

arn_field!(target_group_arn, TARGET_GROUP_ARN);
arn_field!(certificate_arn, CERTIFICATE_ARN);

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// One HTTP request (ALB, Classic ELB or nginx access log).
///
/// Field names in comments are the source log's; the serialised key is the `rename`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// Schema version.
    pub v: u32,
    /// When the request arrived (ALB `request_creation_time`, CLB `time`, nginx `$time_local`), µs.
    pub t: i64,
    /// When the response was sent (ALB `time`; for WebSockets the close time), µs.
    #[serde(rename = "te", default, skip_serializing_if = "Option::is_none")]
    pub end: Option<i64>,
    /// Request or connection type (ALB `type`: http, https, h2, grpcs, ws, wss).
    #[serde(rename = "ty", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The load balancer (ALB resource id, CLB name) or server that logged the line.
    #[serde(rename = "lb", default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// Client IP address (IPv4 or IPv6, without brackets).
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// Client port.
    #[serde(rename = "cp", default, skip_serializing_if = "Option::is_none")]
    pub client_port: Option<u16>,
    /// Target (backend) IP address.
    #[serde(rename = "tip", default, skip_serializing_if = "Option::is_none")]
    pub target_ip: Option<String>,
    /// Target (backend) port.
    #[serde(rename = "tpt", default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<u16>,
    /// HTTP method of the request line.
    #[serde(rename = "m", default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The URL of the request line as logged (ALB: absolute `scheme://host:port/path?query`;
    /// nginx: the request target), decoded from `\xNN` escapes. May contain spaces.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Protocol of the request line (`HTTP/1.1`, `HTTP/2.0`).
    #[serde(rename = "pr", default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    /// The whole request line, only when it does not split into method, URL and protocol.
    #[serde(rename = "rq", default, skip_serializing_if = "Option::is_none")]
    pub request_raw: Option<String>,
    /// Host (nginx `$host`); for ALB lines the host is inside `url`.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Status code sent to the client (ALB `elb_status_code`, nginx `$status`).
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Status code from the target (ALB `target_status_code`, CLB `backend_status_code`).
    #[serde(rename = "ts", default, skip_serializing_if = "Option::is_none")]
    pub target_status: Option<u16>,
    /// Bytes received from the client.
    #[serde(rename = "rb", default, skip_serializing_if = "Option::is_none")]
    pub received_bytes: Option<u64>,
    /// Bytes sent to the client (nginx `$body_bytes_sent`).
    #[serde(rename = "sb", default, skip_serializing_if = "Option::is_none")]
    pub sent_bytes: Option<u64>,
    /// Referer header.
    #[serde(rename = "rf", default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// User-Agent header.
    #[serde(rename = "ua", default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Total time to serve the request in seconds (nginx `$request_time`).
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// ALB/CLB `request_processing_time`, seconds.
    #[serde(rename = "dq", default, skip_serializing_if = "Option::is_none")]
    pub request_time: Option<f64>,
    /// ALB `target_processing_time` / CLB `backend_processing_time`, seconds.
    #[serde(rename = "dt", default, skip_serializing_if = "Option::is_none")]
    pub target_time: Option<f64>,
    /// ALB/CLB `response_processing_time`, seconds.
    #[serde(rename = "dr", default, skip_serializing_if = "Option::is_none")]
    pub response_time: Option<f64>,
    /// TLS cipher.
    #[serde(rename = "ci", default, skip_serializing_if = "Option::is_none")]
    pub ssl_cipher: Option<String>,
    /// TLS protocol.
    #[serde(rename = "sp", default, skip_serializing_if = "Option::is_none")]
    pub ssl_protocol: Option<String>,
    /// ALB `target_group_arn`. Written without its constant `arn:aws:elasticloadbalancing:`
    /// (see [`TARGET_GROUP_ARN`]); read back whole.
    #[serde(
        rename = "tg",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "target_group_arn::serialize",
        deserialize_with = "target_group_arn::deserialize"
    )]
    pub target_group: Option<String>,
    /// ALB `trace_id` (the X-Amzn-Trace-Id header), or the same header logged by nginx.
    #[serde(rename = "tr", default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// ALB `domain_name` (TLS SNI).
    #[serde(rename = "sni", default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// ALB `chosen_cert_arn` (or `session-reused`). An ACM certificate is written without its
    /// constant `arn:aws:acm:` (see [`CERTIFICATE_ARN`]); read back whole.
    #[serde(
        rename = "crt",
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "certificate_arn::serialize",
        deserialize_with = "certificate_arn::deserialize"
    )]
    pub cert: Option<String>,
    /// ALB `matched_rule_priority` (0 = default action, -1 = rule evaluation error).
    #[serde(rename = "rule", default, skip_serializing_if = "Option::is_none")]
    pub rule_priority: Option<i32>,
    /// ALB `actions_executed`, comma-separated.
    #[serde(rename = "act", default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<String>,
    /// ALB `redirect_url`.
    #[serde(rename = "rd", default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// ALB `error_reason`.
    #[serde(rename = "er", default, skip_serializing_if = "Option::is_none")]
    pub error_reason: Option<String>,
    /// ALB `target:port_list`, only when it differs from the single target.
    #[serde(rename = "tl", default, skip_serializing_if = "Option::is_none")]
    pub target_list: Option<String>,
    /// ALB `target_status_code_list`, only when it differs from the single target status.
    #[serde(rename = "tsl", default, skip_serializing_if = "Option::is_none")]
    pub target_status_list: Option<String>,
    /// ALB `classification` (Acceptable, Ambiguous, Severe).
    #[serde(rename = "cl", default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    /// ALB `classification_reason`.
    #[serde(rename = "clr", default, skip_serializing_if = "Option::is_none")]
    pub classification_reason: Option<String>,
    /// ALB `conn_trace_id` (`TID_…`), the link to the connection log.
    #[serde(rename = "cid", default, skip_serializing_if = "Option::is_none")]
    pub conn_trace_id: Option<String>,
    /// ALB `transformed_host`.
    #[serde(rename = "th", default, skip_serializing_if = "Option::is_none")]
    pub transformed_host: Option<String>,
    /// ALB `transformed_uri`.
    #[serde(rename = "tu", default, skip_serializing_if = "Option::is_none")]
    pub transformed_uri: Option<String>,
    /// ALB `request_transform_status`.
    #[serde(rename = "tst", default, skip_serializing_if = "Option::is_none")]
    pub transform_status: Option<String>,
    /// nginx `$remote_user`.
    #[serde(rename = "usr", default, skip_serializing_if = "Option::is_none")]
    pub remote_user: Option<String>,
    /// X-Forwarded-For header (nginx `$http_x_forwarded_for`).
    #[serde(rename = "xff", default, skip_serializing_if = "Option::is_none")]
    pub forwarded_for: Option<String>,
    /// X-Forwarded-Proto header (nginx `$http_x_forwarded_proto`).
    #[serde(rename = "xfp", default, skip_serializing_if = "Option::is_none")]
    pub forwarded_proto: Option<String>,
    /// Fields after the last documented one, in order (kept, never a reason to reject a line).
    #[serde(rename = "x", default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
    /// Other variables of a custom nginx `log_format`, by name without `$`.
    #[serde(rename = "var", default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vars: BTreeMap<String, String>,
    /// The raw line was longer than a CloudWatch event allows and fields were cut.
    #[serde(rename = "cut", default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

/// Seconds rounded to the microsecond, the finest unit the logs give: a sum of times such as
/// 0.001 + 0.002 + 0.000 is 0.0030000000000000005 in floating point, and should read 0.003.
pub fn to_microsecond(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}

impl RequestRecord {
    /// The time the client waited, in seconds: nginx `$request_time`, or for load balancers the
    /// sum of the three processing times when all are known (to the microsecond, see
    /// [`to_microsecond`]), else the target time.
    pub fn latency(&self) -> Option<f64> {
        if let Some(d) = self.duration {
            return Some(d);
        }
        match (self.request_time, self.target_time, self.response_time) {
            (Some(a), Some(b), Some(c)) => Some(to_microsecond(a + b + c)),
            (_, Some(b), _) => Some(b),
            _ => None,
        }
    }

    /// The host the request was for: `host`, else the host part of an absolute `url`.
    pub fn host_name(&self) -> Option<&str> {
        if let Some(h) = self.host.as_deref() {
            return Some(h);
        }
        self.url.as_deref().and_then(crate::urlgroup::host_of)
    }

    /// The path and query of the request: the URL without scheme and authority.
    pub fn path(&self) -> Option<&str> {
        self.url.as_deref().map(crate::urlgroup::path_of)
    }
}

/// One connection (ALB connection log, or NLB TLS access log).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionRecord {
    /// Schema version.
    pub v: u32,
    /// When the connection was logged (ALB conn `timestamp`, NLB `time`), µs.
    pub t: i64,
    /// NLB log version (`2.0`).
    #[serde(rename = "ver", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The load balancer's resource id.
    #[serde(rename = "lb", default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// NLB listener resource id.
    #[serde(rename = "li", default, skip_serializing_if = "Option::is_none")]
    pub listener: Option<String>,
    /// Client IP address.
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub client_ip: Option<String>,
    /// Client port.
    #[serde(rename = "cp", default, skip_serializing_if = "Option::is_none")]
    pub client_port: Option<u16>,
    /// ALB listener port.
    #[serde(rename = "lp", default, skip_serializing_if = "Option::is_none")]
    pub listener_port: Option<u16>,
    /// NLB destination IP.
    #[serde(rename = "dip", default, skip_serializing_if = "Option::is_none")]
    pub dest_ip: Option<String>,
    /// NLB destination port.
    #[serde(rename = "dpt", default, skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// NLB `connection_time`, seconds (logged in milliseconds).
    #[serde(rename = "dc", default, skip_serializing_if = "Option::is_none")]
    pub connection_time: Option<f64>,
    /// TLS handshake latency, seconds (NLB logs milliseconds, ALB seconds).
    #[serde(rename = "hs", default, skip_serializing_if = "Option::is_none")]
    pub handshake_time: Option<f64>,
    /// Bytes received from the client.
    #[serde(rename = "rb", default, skip_serializing_if = "Option::is_none")]
    pub received_bytes: Option<u64>,
    /// Bytes sent to the client.
    #[serde(rename = "sb", default, skip_serializing_if = "Option::is_none")]
    pub sent_bytes: Option<u64>,
    /// NLB `incoming_tls_alert`.
    #[serde(rename = "alert", default, skip_serializing_if = "Option::is_none")]
    pub tls_alert: Option<String>,
    /// Certificate ARN presented (NLB `chosen_cert_arn`).
    #[serde(rename = "crt", default, skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// Serial of the chosen certificate (NLB), or the client certificate serial (ALB mTLS).
    #[serde(rename = "csn", default, skip_serializing_if = "Option::is_none")]
    pub cert_serial: Option<String>,
    /// TLS cipher.
    #[serde(rename = "ci", default, skip_serializing_if = "Option::is_none")]
    pub tls_cipher: Option<String>,
    /// TLS protocol version.
    #[serde(rename = "tp", default, skip_serializing_if = "Option::is_none")]
    pub tls_protocol: Option<String>,
    /// TLS named group / key exchange (NLB `tls_named_group`, ALB `tls_keyexchange`).
    #[serde(rename = "kx", default, skip_serializing_if = "Option::is_none")]
    pub tls_key_exchange: Option<String>,
    /// SNI domain name (NLB, URL-decoded).
    #[serde(rename = "sni", default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// NLB `alpn_fe_protocol`.
    #[serde(rename = "afe", default, skip_serializing_if = "Option::is_none")]
    pub alpn_front: Option<String>,
    /// NLB `alpn_be_protocol`.
    #[serde(rename = "abe", default, skip_serializing_if = "Option::is_none")]
    pub alpn_back: Option<String>,
    /// NLB `alpn_client_preference_list` (URL-decoded).
    #[serde(rename = "acl", default, skip_serializing_if = "Option::is_none")]
    pub alpn_client_list: Option<String>,
    /// NLB `tls_connection_creation_time`, µs.
    #[serde(rename = "tct", default, skip_serializing_if = "Option::is_none")]
    pub tls_created: Option<i64>,
    /// ALB mTLS `leaf_client_cert_subject`.
    #[serde(rename = "cs", default, skip_serializing_if = "Option::is_none")]
    pub client_cert_subject: Option<String>,
    /// ALB mTLS `leaf_client_cert_validity`.
    #[serde(rename = "cv", default, skip_serializing_if = "Option::is_none")]
    pub client_cert_validity: Option<String>,
    /// ALB `tls_verify_status` (`Success` or `Failed:<code>`).
    #[serde(rename = "vs", default, skip_serializing_if = "Option::is_none")]
    pub verify_status: Option<String>,
    /// ALB `conn_trace_id` (`TID_…`).
    #[serde(rename = "cid", default, skip_serializing_if = "Option::is_none")]
    pub conn_trace_id: Option<String>,
    /// The load balancer node's IP address (ALB connection log `ip_address`).
    #[serde(rename = "nip", default, skip_serializing_if = "Option::is_none")]
    pub node_ip: Option<String>,
    /// Fields after the last documented one, in order.
    #[serde(rename = "x", default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
}

/// One nginx error-log entry (possibly several physical lines).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// Schema version.
    pub v: u32,
    /// When the entry was written (nginx writes local time; see the parser for the zone), µs.
    pub t: i64,
    /// Level: stderr, emerg, alert, crit, error, warn, notice, info, debug.
    #[serde(rename = "lvl")]
    pub level: String,
    /// Worker process id.
    #[serde(rename = "pid", default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// Thread id.
    #[serde(rename = "tid", default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<u64>,
    /// Connection number (`*N`).
    #[serde(rename = "cn", default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<u64>,
    /// The message, without the context fields below (may contain newlines).
    #[serde(rename = "msg")]
    pub message: String,
    /// `client:` context.
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// `server:` context.
    #[serde(rename = "srv", default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `request:` context (the request line).
    #[serde(rename = "rq", default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// `subrequest:` context.
    #[serde(rename = "sub", default, skip_serializing_if = "Option::is_none")]
    pub subrequest: Option<String>,
    /// `upstream:` context.
    #[serde(rename = "up", default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    /// `host:` context.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// `referrer:` context.
    #[serde(rename = "rf", default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// One SES event for one recipient (event publishing `eventType` or notification
/// `notificationType`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MailRecord {
    /// Schema version.
    pub v: u32,
    /// When the event happened (the event's own timestamp; `mail.timestamp` for Send), µs.
    pub t: i64,
    /// Event type as SES names it: Send, Delivery, Bounce, Complaint, Reject, Open, Click,
    /// Rendering Failure, DeliveryDelay, Subscription.
    #[serde(rename = "e")]
    pub event: String,
    /// The record came from an identity notification (`notificationType`), not event publishing.
    #[serde(rename = "n", default, skip_serializing_if = "is_false")]
    pub notification: bool,
    /// SES message id (`mail.messageId`).
    #[serde(rename = "mid")]
    pub message_id: String,
    /// When SES accepted the message (`mail.timestamp`), µs.
    #[serde(rename = "sent", default, skip_serializing_if = "Option::is_none")]
    pub sent: Option<i64>,
    /// The recipient this record is about.
    #[serde(rename = "to", default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// From address (the first `commonHeaders.from`, else `mail.source`).
    #[serde(rename = "from", default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// From display name, decoded from MIME encoded words.
    #[serde(rename = "fn", default, skip_serializing_if = "Option::is_none")]
    pub from_name: Option<String>,
    /// Subject, decoded from MIME encoded words.
    #[serde(rename = "subj", default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Configuration set (`mail.tags["ses:configuration-set"]`).
    #[serde(rename = "cs", default, skip_serializing_if = "Option::is_none")]
    pub config_set: Option<String>,
    /// Bounce type: Undetermined, Permanent, Transient.
    #[serde(rename = "bt", default, skip_serializing_if = "Option::is_none")]
    pub bounce_type: Option<String>,
    /// Bounce subtype (General, NoEmail, Suppressed, OnAccountSuppressionList, MailboxFull, …).
    #[serde(rename = "bst", default, skip_serializing_if = "Option::is_none")]
    pub bounce_subtype: Option<String>,
    /// DSN action of the recipient (`failed`, `delayed`).
    #[serde(rename = "act", default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Enhanced status code of the recipient (`5.1.1`).
    #[serde(rename = "sc", default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Diagnostic code (the remote server's words), bounce or delay.
    #[serde(rename = "diag", default, skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
    /// Reporting MTA.
    #[serde(rename = "mta", default, skip_serializing_if = "Option::is_none")]
    pub reporting_mta: Option<String>,
    /// Remote MTA IP (notifications only).
    #[serde(rename = "rip", default, skip_serializing_if = "Option::is_none")]
    pub remote_mta_ip: Option<String>,
    /// Feedback id of a bounce or complaint.
    #[serde(rename = "fid", default, skip_serializing_if = "Option::is_none")]
    pub feedback_id: Option<String>,
    /// Complaint feedback type (abuse, fraud, …).
    #[serde(rename = "cft", default, skip_serializing_if = "Option::is_none")]
    pub complaint_type: Option<String>,
    /// Complaint subtype (`OnAccountSuppressionList` or absent).
    #[serde(rename = "cst", default, skip_serializing_if = "Option::is_none")]
    pub complaint_subtype: Option<String>,
    /// Delivery delay type (MailboxFull, TransientCommunicationFailure, …).
    #[serde(rename = "dt", default, skip_serializing_if = "Option::is_none")]
    pub delay_type: Option<String>,
    /// When SES gives up on a delayed message, µs.
    #[serde(rename = "exp", default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// SMTP response of a delivery.
    #[serde(rename = "smtp", default, skip_serializing_if = "Option::is_none")]
    pub smtp_response: Option<String>,
    /// Delivery processing time in milliseconds.
    #[serde(rename = "ms", default, skip_serializing_if = "Option::is_none")]
    pub processing_ms: Option<u64>,
    /// Reject reason (`Bad content`).
    #[serde(rename = "rej", default, skip_serializing_if = "Option::is_none")]
    pub reject_reason: Option<String>,
    /// Rendering failure template name.
    #[serde(rename = "tpl", default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// Rendering failure error message.
    #[serde(rename = "err", default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// Open/click IP address.
    #[serde(rename = "ip", default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// Open/click (or complaint) user agent.
    #[serde(rename = "ua", default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Clicked link.
    #[serde(rename = "link", default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// Subscription contact list.
    #[serde(rename = "list", default, skip_serializing_if = "Option::is_none")]
    pub contact_list: Option<String>,
    /// Why it failed, as a [`crate::bounce::ReasonCode`] name (`mailbox_full`, …), for bounce,
    /// complaint, reject, delay and rendering failure.
    #[serde(rename = "rc", default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Input kept raw because it could not be parsed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BadRecord {
    /// Schema version.
    pub v: u32,
    /// The source kind the line was read as (`alb`, `nginx`, `ses`, …).
    #[serde(rename = "src")]
    pub source: String,
    /// Why it could not be parsed.
    #[serde(rename = "err")]
    pub error: String,
    /// The input, lossily decoded as UTF-8 (and possibly cut, see `truncated`).
    #[serde(rename = "raw")]
    pub raw: String,
    /// The time of the event, if it could be recovered, µs.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub t: Option<i64>,
    /// 1-based line (or record) number in the source object.
    #[serde(rename = "ln", default, skip_serializing_if = "is_zero")]
    pub line: u32,
    /// Original length in bytes, when `raw` was cut to fit a CloudWatch event.
    #[serde(rename = "len", default, skip_serializing_if = "Option::is_none")]
    pub original_len: Option<u64>,
    /// `raw` was cut to fit a CloudWatch event.
    #[serde(rename = "cut", default, skip_serializing_if = "is_false")]
    pub truncated: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latency_sum_reads_as_the_logs_write_it() {
        let r = RequestRecord {
            request_time: Some(0.001),
            target_time: Some(0.008),
            response_time: Some(0.0),
            ..RequestRecord::default()
        };
        let sum = [0.001, 0.008, 0.0].iter().sum::<f64>();
        assert_eq!(
            sum.to_string(),
            "0.009000000000000001",
            "the artifact this guards against"
        );
        assert_eq!(r.latency(), Some(0.009));
        assert_eq!(serde_json::to_string(&r.latency()).unwrap(), "0.009");
        assert_eq!(to_microsecond(0.0030000000000000005), 0.003);
        assert_eq!(to_microsecond(1.2345674), 1.234567);
    }

    #[test]
    fn request_round_trip_and_compact() {
        let r = Record::Alb(RequestRecord {
            v: SCHEMA_VERSION,
            t: 1_530_570_168_364_000,
            client_ip: Some("2001:db8::1".into()),
            client_port: Some(2817),
            method: Some("GET".into()),
            url: Some("https://www.example.com:443/a b?x=1".into()),
            protocol: Some("HTTP/1.1".into()),
            status: Some(200),
            extra: vec!["-".into()],
            ..Default::default()
        });
        let json = r.to_json();
        assert_eq!(
            json,
            r#"{"k":"alb","v":1,"t":1530570168364000,"ip":"2001:db8::1","cp":2817,"m":"GET","u":"https://www.example.com:443/a b?x=1","pr":"HTTP/1.1","s":200,"x":["-"]}"#
        );
        assert_eq!(Record::from_json(&json).unwrap(), r);
    }

    proptest::proptest! {
        #[test]
        fn short_arn_shape_is_recognised_exactly(text in "[a-z0-9:-]{0,6}(:[0-9]{10,13})?(:)?(targetgroup/|cert|x)?[a-z/]{0,3}") {
            // The rule as first written: region = up to the first colon, then
            // `:<12 digits>:<resource>`.
            let reference = text.find(':').is_some_and(|colon| {
                let (region, rest) = text.split_at(colon);
                !region.is_empty()
                    && region.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && rest.len() >= 14
                    && rest.as_bytes()[1..13].iter().all(u8::is_ascii_digit)
                    && rest.as_bytes()[13] == b':'
                    && rest[14..].starts_with("targetgroup/")
            });
            proptest::prop_assert_eq!(TARGET_GROUP_ARN.is_short(&text), reference);
        }
    }

    #[test]
    fn arns_written_without_their_constant_prefix() {
        let tg = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/web/73e2d6bc24d8a067";
        let cert = "arn:aws:acm:ap-northeast-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
        let r = Record::Alb(RequestRecord {
            v: SCHEMA_VERSION,
            t: 1,
            target_group: Some(tg.into()),
            cert: Some(cert.into()),
            ..Default::default()
        });
        let json = r.to_json();
        assert_eq!(
            json,
            r#"{"k":"alb","v":1,"t":1,"tg":"ap-northeast-1:123456789012:targetgroup/web/73e2d6bc24d8a067","crt":"ap-northeast-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"}"#
        );
        assert_eq!(Record::from_json(&json).unwrap(), r);
        // Records written whole (before the prefix was left out) read the same.
        let whole = format!(r#"{{"k":"alb","v":1,"t":1,"tg":"{tg}","crt":"{cert}"}}"#);
        assert_eq!(Record::from_json(&whole).unwrap(), r);
        // Anything else is kept as it is, both ways.
        for other in [
            "session-reused",
            "arn:aws-cn:acm:cn-north-1:123456789012:certificate/x",
            "arn:aws:iam::123456789012:server-certificate/x",
            "arn:aws:acm:ap-northeast-1:123456789012:other/x",
            "arn:aws:acm:ap-northeast-1:12345:certificate/x",
            "",
        ] {
            let r = Record::Alb(RequestRecord {
                cert: Some(other.into()),
                target_group: Some(other.into()),
                ..Default::default()
            });
            assert!(r.to_json().contains(&format!(r#""crt":"{other}""#)));
            assert_eq!(Record::from_json(&r.to_json()).unwrap(), r);
        }
    }

    #[test]
    fn host_and_path_from_absolute_url() {
        let mut r = RequestRecord {
            url: Some("https://www.example.com:443/p/1?q=2".into()),
            ..Default::default()
        };
        assert_eq!(r.host_name(), Some("www.example.com"));
        assert_eq!(r.path(), Some("/p/1?q=2"));
        r.url = Some("http://[2001:db8::1]:80".into());
        assert_eq!(r.host_name(), Some("2001:db8::1"));
        assert_eq!(r.path(), Some("/"));
        r.url = Some("/relative".into());
        assert_eq!(r.host_name(), None);
        r.host = Some("h.example".into());
        assert_eq!(r.host_name(), Some("h.example"));
        assert_eq!(r.path(), Some("/relative"));
        // Regression: a scheme inside the query of a relative URL is not an authority.
        r.url = Some("/go?to=https://x.example/".into());
        assert_eq!(r.path(), Some("/go?to=https://x.example/"));
    }

    #[test]
    fn mail_and_bad_round_trip() {
        for r in [
            Record::Mail(MailRecord {
                v: 1,
                t: 1,
                event: "Rendering Failure".into(),
                message_id: "m".into(),
                subject: Some("件名".into()),
                reason: Some("template_error".into()),
                ..Default::default()
            }),
            Record::Bad(BadRecord {
                v: 1,
                source: "alb".into(),
                error: "missing field trace_id".into(),
                raw: "http 2018".into(),
                line: 3,
                ..Default::default()
            }),
        ] {
            assert_eq!(Record::from_json(&r.to_json()).unwrap(), r);
        }
    }
}
