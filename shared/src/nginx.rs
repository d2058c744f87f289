//! nginx access-log lines, read with the `log_format` the user actually configured.
//!
//! nginx has no fixed access-log layout: every site writes its own `log_format`. So the user
//! pastes the directive (or just the format string) and [`LogFormat::parse`] compiles it into a
//! prefix literal followed by (variable, literal) segments. A line is then matched left to right:
//! each variable runs to the next occurrence of the literal after it, the last variable takes the
//! rest of the line, and text after the end of the format is kept in `extra`.
//!
//! The predefined `combined` format, the `main` format that `conf/nginx.conf` ships commented out,
//! the `extended` format our operators use and the `logdesk` format the nginx kit recommends
//! (`deploy/nginx/logdesk.conf`) are built in ([`LogFormat::builtin`]). Without a configured
//! format, lines are read with [`LogFormat::defaults`], which recognises `logdesk`, `extended`
//! and `combined` lines by their shape.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::Offset;
use memchr::memmem;

use crate::error::ParseError;
use crate::record::{Record, RequestRecord, SCHEMA_VERSION};
use crate::unescape::{decode_hex_escapes, decode_json_escapes};

/// The predefined `combined` format (nginx docs, `ngx_http_combined_fmt`).
const COMBINED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

/// `combined` plus X-Forwarded-For, as in the commented-out `main` of `conf/nginx.conf`.
const MAIN: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#;

/// `combined` plus the three fields the operators this is built for append.
const EXTENDED: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time $http_x_forwarded_proto $host"#;

/// The nginx kit's format (`deploy/nginx/logdesk.conf`, `escape=json`): one JSON object per
/// line with everything logdesk reads. Numbers nginx always writes (`$msec`, `$status`,
/// `$body_bytes_sent`, `$request_time`) are bare; values that may be empty or lists are strings.
/// `time` comes first so that the CloudWatch agent's `timestamp_format` finds it.
const LOGDESK: &str = concat!(
    r#"{"time":"$time_iso8601","msec":$msec,"#,
    r#""remote_addr":"$remote_addr","x_forwarded_for":"$http_x_forwarded_for","#,
    r#""host":"$host","request":"$request","status":$status,"#,
    r#""body_bytes_sent":$body_bytes_sent,"request_time":$request_time,"#,
    r#""upstream_response_time":"$upstream_response_time","#,
    r#""referer":"$http_referer","user_agent":"$http_user_agent","#,
    r#""trace_id":"$http_x_amzn_trace_id"}"#,
);

/// How many candidate splits one line may try before giving up, so that a hostile line cannot
/// make backtracking expensive. A well-formed line needs one try per variable.
const MATCH_BUDGET: u32 = 256;

/// How variable values are escaped in the log (`log_format … escape=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Escape {
    /// `escape=default`: `"`, `\`, control bytes and bytes above 126 are written as `\xXX`.
    #[default]
    Default,
    /// `escape=json`: `\"`, `\\`, `\n`, … and `\u00XX`; other bytes are written raw.
    Json,
    /// `escape=none`: values are written as they are, quotes included.
    None,
}

/// Why a `log_format` text cannot be used to read lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The text holds no format at all.
    #[error("the format is empty")]
    Empty,
    /// A quoted piece is opened and never closed.
    #[error("the quote {quote} opened at byte {at} is never closed")]
    UnterminatedQuote {
        /// The quote character, `'` or `"`.
        quote: char,
        /// Byte offset of the opening quote in the pasted text (after leading white space).
        at: usize,
    },
    /// `${name` without the closing brace.
    #[error("`${{{name}` has no closing `}}`")]
    UnterminatedBrace {
        /// What follows `${`.
        name: String,
    },
    /// `escape=` with a value nginx does not know.
    #[error("unknown escape={0:?} (nginx knows default, json and none)")]
    UnknownEscape(String),
    /// `log_format` with nothing after it.
    #[error("`log_format` needs a name and a format")]
    MissingName,
    /// The format has no `$variable`, so a line could never be read into fields.
    #[error("the format has no variables")]
    NoVariables,
    /// Two variables follow each other with no literal text between them.
    #[error(
        "`${first}` and `${second}` follow each other with nothing between them, so a line cannot be split between them"
    )]
    AdjacentVariables {
        /// The first variable's name (without `$`).
        first: String,
        /// The second variable's name (without `$`).
        second: String,
    },
    /// Text after the directive's closing `;` (another directive pasted along, for example).
    #[error("unexpected text after the end of the log_format directive: {0:?}")]
    TrailingText(String),
}

/// What a variable's value becomes in a [`RequestRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    RemoteAddr,
    RemotePort,
    RemoteUser,
    TimeLocal,
    TimeIso8601,
    Msec,
    Request,
    RequestMethod,
    RequestUri,
    ServerProtocol,
    Status,
    SentBytes,
    RequestLength,
    Referer,
    UserAgent,
    RequestTime,
    UpstreamResponseTime,
    UpstreamAddr,
    UpstreamStatus,
    ForwardedFor,
    ForwardedProto,
    Host,
    TraceId,
    SslProtocol,
    SslCipher,
    Hostname,
    Other,
}

/// What a value may look like; used to reject a wrong split while matching, and to end the
/// last variable at white space when it can never contain any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Anything.
    Any,
    /// No white space.
    Token,
    /// `-`, empty or decimal digits.
    Digits,
    /// `-`, empty or digits with a decimal point.
    Decimal,
    /// Exactly three digits.
    Status,
    /// `31/Mar/2021:12:04:07 +0900`.
    TimeLocal,
}

/// Variables this module knows: the field each maps to and the shape of its values. Names not
/// listed map to `vars`; listing a name also lets errors name it as a `&'static str`.
const VARIABLES: &[(&str, Field, Shape)] = &[
    ("remote_addr", Field::RemoteAddr, Shape::Token),
    ("remote_port", Field::RemotePort, Shape::Digits),
    ("remote_user", Field::RemoteUser, Shape::Any),
    ("time_local", Field::TimeLocal, Shape::TimeLocal),
    ("time_iso8601", Field::TimeIso8601, Shape::Token),
    ("msec", Field::Msec, Shape::Decimal),
    ("request", Field::Request, Shape::Any),
    ("request_method", Field::RequestMethod, Shape::Token),
    ("request_uri", Field::RequestUri, Shape::Any),
    ("server_protocol", Field::ServerProtocol, Shape::Token),
    ("status", Field::Status, Shape::Status),
    ("body_bytes_sent", Field::SentBytes, Shape::Digits),
    ("bytes_sent", Field::SentBytes, Shape::Digits),
    ("request_length", Field::RequestLength, Shape::Digits),
    ("http_referer", Field::Referer, Shape::Any),
    ("http_user_agent", Field::UserAgent, Shape::Any),
    ("request_time", Field::RequestTime, Shape::Decimal),
    (
        "upstream_response_time",
        Field::UpstreamResponseTime,
        Shape::Any,
    ),
    ("upstream_addr", Field::UpstreamAddr, Shape::Any),
    ("upstream_status", Field::UpstreamStatus, Shape::Any),
    ("http_x_forwarded_for", Field::ForwardedFor, Shape::Any),
    (
        "http_x_forwarded_proto",
        Field::ForwardedProto,
        Shape::Token,
    ),
    ("host", Field::Host, Shape::Token),
    ("http_host", Field::Host, Shape::Any),
    ("server_name", Field::Host, Shape::Token),
    ("http_x_amzn_trace_id", Field::TraceId, Shape::Token),
    ("ssl_protocol", Field::SslProtocol, Shape::Token),
    ("ssl_cipher", Field::SslCipher, Shape::Token),
    ("hostname", Field::Hostname, Shape::Token),
    // Common variables kept in `vars`, listed for their shape and their name in errors.
    ("scheme", Field::Other, Shape::Token),
    ("server_addr", Field::Other, Shape::Token),
    ("server_port", Field::Other, Shape::Digits),
    ("request_id", Field::Other, Shape::Token),
    ("connection", Field::Other, Shape::Digits),
    ("connection_requests", Field::Other, Shape::Digits),
    ("pipe", Field::Other, Shape::Token),
    ("gzip_ratio", Field::Other, Shape::Token),
    ("upstream_connect_time", Field::Other, Shape::Any),
    ("upstream_header_time", Field::Other, Shape::Any),
    ("upstream_cache_status", Field::Other, Shape::Token),
    ("uri", Field::Other, Shape::Any),
    ("args", Field::Other, Shape::Any),
    ("query_string", Field::Other, Shape::Any),
    ("content_length", Field::Other, Shape::Token),
    ("content_type", Field::Other, Shape::Any),
    ("realip_remote_addr", Field::Other, Shape::Token),
    ("ssl_server_name", Field::Other, Shape::Token),
];

/// One `$variable` of a compiled format.
#[derive(Debug, Clone, PartialEq)]
struct Var {
    /// Name without `$` or braces, lowercased like nginx does.
    name: String,
    /// The name as a static string, when it is one of [`VARIABLES`].
    known: Option<&'static str>,
    field: Field,
    shape: Shape,
}

impl Var {
    fn new(name: &str) -> Var {
        let name = name.to_ascii_lowercase();
        let entry = VARIABLES.iter().find(|(n, _, _)| *n == name);
        Var {
            known: entry.map(|(n, _, _)| *n),
            field: entry.map_or(Field::Other, |e| e.1),
            shape: entry.map_or(Shape::Any, |e| e.2),
            name,
        }
    }

    /// Width of every value, when fixed; only such a variable may be followed directly by another.
    fn fixed_width(&self) -> Option<usize> {
        match self.field {
            Field::Status => Some(3),
            Field::TimeLocal => Some("31/Mar/2021:12:04:07 +0900".len()),
            Field::TimeIso8601 => Some("2021-03-31T12:04:07+09:00".len()),
            // Ten digits of seconds last until the year 2286.
            Field::Msec => Some("1617192247.123".len()),
            _ => None,
        }
    }

    fn fits(&self, value: &str) -> bool {
        let b = value.as_bytes();
        match self.shape {
            Shape::Any => true,
            Shape::Token => !b.iter().any(u8::is_ascii_whitespace),
            Shape::Digits => value == "-" || b.iter().all(u8::is_ascii_digit),
            Shape::Decimal => value == "-" || b.iter().all(|c| c.is_ascii_digit() || *c == b'.'),
            Shape::Status => b.len() == 3 && b.iter().all(u8::is_ascii_digit),
            Shape::TimeLocal => parse_time_local(value).is_some(),
        }
    }

    fn missing(&self) -> ParseError {
        match self.known {
            Some(name) => ParseError::MissingField(name),
            None => ParseError::Format(format!("line ends before field `{}`", self.name)),
        }
    }

    fn unterminated(&self) -> ParseError {
        match self.known {
            Some(name) => ParseError::Unterminated(name),
            None => ParseError::Format(format!("field `{}` has no closing quote", self.name)),
        }
    }

    fn invalid(&self, value: &str) -> ParseError {
        match self.known {
            Some(name) => ParseError::invalid(name, value),
            None => ParseError::Format(format!(
                "field `{}` has an invalid value {:?}",
                self.name, value
            )),
        }
    }
}

/// A variable and the literal text that follows it in the format.
#[derive(Debug, Clone, PartialEq)]
struct Segment {
    var: Var,
    /// Literal text up to the next variable (empty after the last variable, or before a variable
    /// that follows directly).
    after: String,
    /// The literal before ends with `"` and the literal after starts with `"`.
    quoted: bool,
}

/// A compiled nginx `log_format`, ready to read lines.
#[derive(Debug, Clone, PartialEq)]
pub struct LogFormat {
    name: Option<String>,
    escape: Escape,
    /// Literal text before the first variable.
    prefix: String,
    segments: Vec<Segment>,
}

/// Where the matcher is in one segment: the value starts at `start`; `cursor` is where the next
/// search for the literal begins (forward) or ends (backward).
struct Frame {
    start: usize,
    cursor: usize,
    backward: bool,
    tried: bool,
    /// Some occurrence of the literal was seen, so a failure was already reported deeper.
    found: bool,
}

impl LogFormat {
    /// Compiles a format from what the user pasted: a whole `log_format name [escape=…] '…' …;`
    /// directive (pieces in single or double quotes, over several lines, `#` comment markers of a
    /// commented-out block removed), a bare format string (quoted or not), or the name of a
    /// built-in format.
    pub fn parse(text: &str) -> Result<LogFormat, FormatError> {
        let uncommented = strip_comment_markers(text);
        let text = uncommented.trim();
        if text.is_empty() {
            return Err(FormatError::Empty);
        }
        if let Some(builtin) = LogFormat::builtin(text) {
            return Ok(builtin);
        }
        if let Some(rest) = strip_keyword(text, "log_format") {
            return parse_directive(rest, text.len() - rest.len());
        }
        if text.starts_with('\'') {
            let (escape, pieces) = split_escape(read_tokens(text, 0)?)?;
            return LogFormat::compile(None, escape, &pieces);
        }
        if text.starts_with('"') {
            // A leading double quote is usually a literal of a bare format (`"$http_x_forwarded_for"
            // $remote_addr …`); read it as quoted pieces only when that reading is unambiguous.
            if let Ok(tokens) = read_tokens(text, 0) {
                let all_quoted = tokens.iter().all(|t| t.quoted);
                if all_quoted && (tokens.len() == 1 || text.contains('\n')) {
                    let pieces: Vec<String> = tokens.into_iter().map(|t| t.text).collect();
                    if let Ok(format) = LogFormat::compile(None, Escape::Default, &pieces) {
                        return Ok(format);
                    }
                }
            }
        }
        LogFormat::compile(None, Escape::Default, &[text.to_string()])
    }

    /// nginx's predefined `combined` format.
    pub fn combined() -> LogFormat {
        LogFormat::built_in("combined", COMBINED)
    }

    /// `combined` followed by `"$http_x_forwarded_for"` (the `main` of `conf/nginx.conf`).
    pub fn main() -> LogFormat {
        LogFormat::built_in("main", MAIN)
    }

    /// `combined` followed by ` $request_time $http_x_forwarded_proto $host`.
    pub fn extended() -> LogFormat {
        LogFormat::built_in("extended", EXTENDED)
    }

    /// The nginx kit's `logdesk` format (`escape=json`, one JSON object per line).
    pub fn logdesk() -> LogFormat {
        LogFormat::built_in_escaped("logdesk", Escape::Json, LOGDESK)
    }

    /// A built-in format by name: `combined`, `main`, `extended` or `logdesk`.
    pub fn builtin(name: &str) -> Option<LogFormat> {
        match name {
            "combined" => Some(LogFormat::combined()),
            "main" => Some(LogFormat::main()),
            "extended" => Some(LogFormat::extended()),
            "logdesk" => Some(LogFormat::logdesk()),
            _ => None,
        }
    }

    /// The formats tried, in order, when none is configured: `logdesk`, `extended`, `combined`.
    /// A line is read by the first that matches; the JSON format goes first because its `{"`
    /// prefix rejects every other line at once.
    pub fn defaults() -> Vec<LogFormat> {
        vec![
            LogFormat::logdesk(),
            LogFormat::extended(),
            LogFormat::combined(),
        ]
    }

    fn built_in(name: &str, format: &str) -> LogFormat {
        LogFormat::built_in_escaped(name, Escape::Default, format)
    }

    fn built_in_escaped(name: &str, escape: Escape, format: &str) -> LogFormat {
        // The built-in strings are constants covered by tests; they always compile.
        LogFormat::compile(Some(name.to_string()), escape, &[format.to_string()])
            .expect("built-in log_format compiles")
    }

    /// The format's name from the directive (`main`), if there was one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// How values are escaped.
    pub fn escape(&self) -> Escape {
        self.escape
    }

    /// The variable names in order, without `$`.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(|s| s.var.name.as_str())
    }

    /// Whether the format has a time variable (`$time_local`, `$time_iso8601` or `$msec`);
    /// without one every line is rejected, so callers can warn when the format is saved.
    pub fn has_time(&self) -> bool {
        self.segments.iter().any(|s| {
            matches!(
                s.var.field,
                Field::TimeLocal | Field::TimeIso8601 | Field::Msec
            )
        })
    }

    /// Compiles the concatenated pieces of a format string.
    fn compile(
        name: Option<String>,
        escape: Escape,
        pieces: &[String],
    ) -> Result<LogFormat, FormatError> {
        let format: String = pieces.concat();
        let mut prefix = String::new();
        let mut segments: Vec<Segment> = Vec::new();
        let mut literal = String::new();
        let mut rest = format.as_str();
        while let Some(dollar) = rest.find('$') {
            literal.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            let (var_name, consumed) = if let Some(braced) = after.strip_prefix('{') {
                match braced.find('}') {
                    Some(close) if close > 0 && braced[..close].bytes().all(is_name_byte) => {
                        (&braced[..close], close + 2)
                    }
                    Some(_) => ("", 0),
                    None => {
                        return Err(FormatError::UnterminatedBrace {
                            name: braced
                                .chars()
                                .take_while(|c| c.is_ascii() && is_name_byte(*c as u8))
                                .take(40)
                                .collect(),
                        });
                    }
                }
            } else {
                let len = after.bytes().take_while(|b| is_name_byte(*b)).count();
                (&after[..len], len)
            };
            if var_name.is_empty() {
                // nginx refuses such a config; read the `$` as text rather than fail.
                literal.push('$');
                rest = after;
                continue;
            }
            match segments.last_mut() {
                Some(last) => last.after = std::mem::take(&mut literal),
                None => prefix = std::mem::take(&mut literal),
            }
            segments.push(Segment {
                var: Var::new(var_name),
                after: String::new(),
                quoted: false,
            });
            rest = &after[consumed..];
        }
        literal.push_str(rest);
        match segments.last_mut() {
            Some(last) => last.after = literal,
            None => return Err(FormatError::NoVariables),
        }
        for i in 0..segments.len() {
            let before_quote = match i.checked_sub(1) {
                Some(p) => segments[p].after.ends_with('"'),
                None => prefix.ends_with('"'),
            };
            let seg = &segments[i];
            if let Some(next) = segments.get(i + 1)
                && seg.after.is_empty()
                && seg.var.fixed_width().is_none()
            {
                return Err(FormatError::AdjacentVariables {
                    first: seg.var.name.clone(),
                    second: next.var.name.clone(),
                });
            }
            let quoted = before_quote && seg.after.starts_with('"');
            segments[i].quoted = quoted;
        }
        Ok(LogFormat {
            name,
            escape,
            prefix,
            segments,
        })
    }

    /// Reads one access-log line into a request record.
    pub fn parse_line(&self, line: &str) -> Result<RequestRecord, ParseError> {
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            return Err(ParseError::Empty);
        }
        let (values, extra) = self.match_line(line)?;
        self.build(&values, extra)
    }

    /// Reads one access-log line into [`Record::Nginx`].
    pub fn parse_record(&self, line: &str) -> Result<Record, ParseError> {
        self.parse_line(line).map(Record::Nginx)
    }

    /// Splits a line into one raw value per variable plus the unmatched tail, backtracking over
    /// candidate split points (within [`MATCH_BUDGET`]) when a later field does not fit.
    fn match_line<'a>(&self, line: &'a str) -> Result<(Vec<&'a str>, &'a str), ParseError> {
        let Some(start) = line
            .strip_prefix(self.prefix.as_str())
            .map(|_| self.prefix.len())
        else {
            return Err(ParseError::Format(format!(
                "line does not start with {:?}",
                self.prefix
            )));
        };
        let mut values: Vec<&'a str> = Vec::with_capacity(self.segments.len());
        let mut frames = vec![self.frame(0, start)];
        let mut budget = MATCH_BUDGET;
        let mut failure: Option<(usize, ParseError)> = None;
        while let Some(i) = frames.len().checked_sub(1) {
            let Some(frame) = frames.get_mut(i) else {
                break;
            };
            match self.next_candidate(line, i, frame, &mut budget, &mut failure) {
                Some((value, next)) => {
                    values.truncate(i);
                    values.push(value);
                    if i + 1 == self.segments.len() {
                        return Ok((values, line.get(next..).unwrap_or("")));
                    }
                    frames.push(self.frame(i + 1, next));
                }
                None => {
                    frames.pop();
                    if budget == 0 {
                        break;
                    }
                }
            }
        }
        Err(failure.map_or_else(|| ParseError::Format("line does not match".into()), |f| f.1))
    }

    fn frame(&self, i: usize, start: usize) -> Frame {
        // With escape=none a quoted value may hold raw quotes: prefer the last closing quote.
        let backward =
            self.escape == Escape::None && self.segments.get(i).is_some_and(|s| s.quoted);
        Frame {
            start,
            cursor: if backward { usize::MAX } else { 0 },
            backward,
            tried: false,
            found: false,
        }
    }

    /// The next way to end segment `i`'s value: the value and where the next segment starts.
    fn next_candidate<'a>(
        &self,
        line: &'a str,
        i: usize,
        frame: &mut Frame,
        budget: &mut u32,
        failure: &mut Option<(usize, ParseError)>,
    ) -> Option<(&'a str, usize)> {
        let seg = self.segments.get(i)?;
        let rest = line.get(frame.start..)?;
        let mut fail = |err: ParseError| {
            if failure.as_ref().is_none_or(|(depth, _)| i > *depth) {
                *failure = Some((i, err));
            }
        };
        let first_try = !frame.tried;
        frame.tried = true;
        if seg.after.is_empty() {
            // One candidate only: the rest of the line, or a fixed width.
            if !first_try || *budget == 0 {
                return None;
            }
            *budget -= 1;
            let (value, next) = if i + 1 == self.segments.len() {
                if seg.var.shape == Shape::Any {
                    (rest, line.len())
                } else {
                    // A value that never holds spaces ends at the first one; the rest is extra.
                    let end = rest
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(rest.len());
                    (&rest[..end], frame.start + end)
                }
            } else {
                let width = seg.var.fixed_width().unwrap_or(0);
                match rest.get(..width) {
                    Some(value) => (value, frame.start + width),
                    None => {
                        fail(seg.var.missing());
                        return None;
                    }
                }
            };
            if !seg.var.fits(value) {
                fail(seg.var.invalid(value));
                return None;
            }
            return Some((value, next));
        }
        let needle = seg.after.as_bytes();
        let hay = rest.as_bytes();
        while *budget > 0 {
            let found = if frame.backward {
                let end = frame.cursor.min(hay.len());
                let at = memmem::rfind(&hay[..end], needle);
                // The next try searches strictly left of this one.
                frame.cursor = at.unwrap_or(0);
                at
            } else {
                let from = frame.cursor;
                let at = hay
                    .get(from..)
                    .and_then(|tail| memmem::find(tail, needle))
                    .map(|p| p + from);
                frame.cursor = at.map_or(hay.len() + 1, |p| p + 1);
                at
            };
            let Some(at) = found else {
                if !frame.found {
                    // No end for this value: a quote left open, or the line ends before the
                    // next field.
                    fail(match self.segments.get(i + 1) {
                        _ if seg.quoted => seg.var.unterminated(),
                        Some(next) => next.var.missing(),
                        None => seg.var.missing(),
                    });
                }
                return None;
            };
            frame.found = true;
            if seg.quoted && self.escape == Escape::Json && escaped_quote(rest, at) {
                continue;
            }
            *budget -= 1;
            let value = &rest[..at];
            if !seg.var.fits(value) {
                fail(seg.var.invalid(value));
                continue;
            }
            return Some((value, frame.start + at + needle.len()));
        }
        None
    }

    fn decode<'a>(&self, raw: &'a str) -> std::borrow::Cow<'a, str> {
        match self.escape {
            Escape::Default => decode_hex_escapes(raw),
            Escape::Json => decode_json_escapes(raw),
            Escape::None => std::borrow::Cow::Borrowed(raw),
        }
    }

    /// The decoded value, or `None` for nginx's "not found" hyphen and for empty values.
    fn text(&self, raw: &str) -> Option<String> {
        if raw.is_empty() || raw == "-" {
            None
        } else {
            Some(self.decode(raw).into_owned())
        }
    }

    fn build(&self, values: &[&str], extra: &str) -> Result<RequestRecord, ParseError> {
        let mut r = RequestRecord {
            v: SCHEMA_VERSION,
            ..Default::default()
        };
        let mut times: Vec<(&Var, &str)> = Vec::new();
        let mut method = None;
        let mut uri = None;
        let mut protocol = None;
        for (seg, raw) in self.segments.iter().zip(values.iter().copied()) {
            let var = &seg.var;
            let vars = &mut r.vars;
            match var.field {
                // TCP peer address (or the real_ip module's client address).
                Field::RemoteAddr => put(&mut r.client_ip, vars, var, self.text(raw)),
                // TCP peer port.
                Field::RemotePort => {
                    let port = number::<u16>(raw).map_err(|_| var.invalid(raw))?;
                    put(&mut r.client_port, vars, var, port);
                }
                // HTTP basic-auth user name.
                Field::RemoteUser => put(&mut r.remote_user, vars, var, self.text(raw)),
                // The time is picked after the loop: `$msec` is the most precise.
                Field::TimeLocal | Field::TimeIso8601 | Field::Msec => times.push((var, raw)),
                // The raw request line: method, target and protocol, or kept whole.
                Field::Request => self.request(&mut r, var, raw),
                // Parts of the request line, used when `$request` is not logged.
                Field::RequestMethod => method = self.text(raw),
                Field::RequestUri => uri = self.text(raw),
                Field::ServerProtocol => protocol = self.text(raw),
                // Status sent to the client; nginx writes 000 when none was sent.
                Field::Status => {
                    let status = number::<u16>(raw)
                        .map_err(|_| var.invalid(raw))?
                        .filter(|s| *s != 0);
                    put(&mut r.status, vars, var, status);
                }
                // `$body_bytes_sent` (body only) or `$bytes_sent` (with headers); first wins.
                Field::SentBytes => {
                    let n = number::<u64>(raw).map_err(|_| var.invalid(raw))?;
                    put(&mut r.sent_bytes, vars, var, n);
                }
                // Request line, headers and body as received.
                Field::RequestLength => {
                    let n = number::<u64>(raw).map_err(|_| var.invalid(raw))?;
                    put(&mut r.received_bytes, vars, var, n);
                }
                // Referer header (`""` when sent empty, `-` when absent: both None).
                Field::Referer => put(&mut r.referrer, vars, var, self.text(raw)),
                // User-Agent header.
                Field::UserAgent => put(&mut r.user_agent, vars, var, self.text(raw)),
                // Seconds from the first byte read to the last byte written, ms resolution.
                Field::RequestTime => {
                    let d = seconds_us(raw).map_err(|_| var.invalid(raw))?;
                    put(&mut r.duration, vars, var, d.map(us_to_seconds));
                }
                // One time per upstream tried (`0.012, 0.003`, `:` across redirects): the sum.
                Field::UpstreamResponseTime => match upstream_time(raw) {
                    Some(sum) => put(&mut r.target_time, vars, var, sum),
                    None => keep(vars, var, self.text(raw)),
                },
                // `ip:port` of the upstream; lists and unix sockets stay in `vars`.
                Field::UpstreamAddr => match split_addr(raw) {
                    Some((ip, port)) if r.target_ip.is_none() => {
                        r.target_ip = Some(ip.to_string());
                        r.target_port = Some(port);
                    }
                    _ => keep(vars, var, self.text(raw)),
                },
                // Status from the upstream when there was exactly one; a list stays in `vars`.
                Field::UpstreamStatus => match raw.parse::<u16>() {
                    Ok(s) if r.target_status.is_none() => r.target_status = Some(s),
                    _ => keep(vars, var, self.text(raw)),
                },
                // X-Forwarded-For as sent, possibly a list; never copied into `client_ip`.
                Field::ForwardedFor => put(&mut r.forwarded_for, vars, var, self.text(raw)),
                // X-Forwarded-Proto header.
                Field::ForwardedProto => put(&mut r.forwarded_proto, vars, var, self.text(raw)),
                // `$host`, `$http_host` or `$server_name`, whichever comes first in the format.
                Field::Host => put(&mut r.host, vars, var, self.text(raw)),
                // X-Amzn-Trace-Id set by an ALB in front of nginx.
                Field::TraceId => put(&mut r.trace_id, vars, var, self.text(raw)),
                // TLS protocol of the client connection.
                Field::SslProtocol => put(&mut r.ssl_protocol, vars, var, self.text(raw)),
                // TLS cipher of the client connection.
                Field::SslCipher => put(&mut r.ssl_cipher, vars, var, self.text(raw)),
                // The machine that wrote the line.
                Field::Hostname => put(&mut r.server, vars, var, self.text(raw)),
                // Everything else by variable name.
                Field::Other => keep(vars, var, self.text(raw)),
            }
        }
        request_parts(&mut r, method, uri, protocol);
        r.t = pick_time(&times)?;
        r.extra = self.split_extra(extra);
        Ok(r)
    }

    /// Splits the request line like the ALB parser: method to the first space, protocol after
    /// the last, the target in between (it may hold spaces). Anything else (an empty request,
    /// a TLS ClientHello sent to a plain-HTTP port) is kept whole, as logged: decoding binary
    /// garbage would only turn its bytes into U+FFFD.
    fn request(&self, r: &mut RequestRecord, var: &Var, raw: &str) {
        if raw.is_empty() || raw == "-" {
            return;
        }
        if r.method.is_some() || r.request_raw.is_some() {
            keep(&mut r.vars, var, self.text(raw));
            return;
        }
        let split = raw.split_once(' ').and_then(|(method, rest)| {
            if !is_method(method) {
                return None;
            }
            match rest.rsplit_once(' ') {
                Some((url, proto)) if proto.starts_with("HTTP/") && !url.is_empty() => {
                    Some((method, url, Some(proto)))
                }
                // HTTP/0.9: `GET /` has no protocol.
                None if rest.starts_with('/') => Some((method, rest, None)),
                _ => None,
            }
        });
        match split {
            Some((method, url, proto)) => {
                r.method = Some(method.to_string());
                r.url = Some(self.decode(url).into_owned());
                r.protocol = proto.map(str::to_string);
            }
            None => r.request_raw = Some(raw.to_string()),
        }
    }

    /// Fields after the end of the format: quoted strings as one field each (decoded), other
    /// text split at white space. `-` is kept as written, like other positional extras.
    fn split_extra(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text.trim_start();
        while !rest.is_empty() {
            if let Some(inner) = rest.strip_prefix('"') {
                let close = match self.escape {
                    Escape::Json => {
                        let mut from = 0;
                        loop {
                            match inner.get(from..).and_then(|t| t.find('"')) {
                                Some(p) if escaped_quote(inner, from + p) => from += p + 1,
                                Some(p) => break Some(from + p),
                                None => break None,
                            }
                        }
                    }
                    _ => inner.find('"'),
                };
                let end = close.unwrap_or(inner.len());
                out.push(self.decode(&inner[..end]).into_owned());
                rest = inner.get(end + 1..).unwrap_or("");
            } else {
                let end = rest
                    .find(|c: char| c.is_ascii_whitespace())
                    .unwrap_or(rest.len());
                out.push(self.decode(&rest[..end]).into_owned());
                rest = &rest[end..];
            }
            rest = rest.trim_start();
        }
        out
    }
}

impl std::str::FromStr for LogFormat {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<LogFormat, FormatError> {
        LogFormat::parse(s)
    }
}

/// `$request_method`, `$request_uri` and `$server_protocol` become the record's method, URL and
/// protocol when the format logs no `$request`; next to a `$request` they stay in `vars`.
fn request_parts(
    r: &mut RequestRecord,
    method: Option<String>,
    uri: Option<String>,
    protocol: Option<String>,
) {
    if r.method.is_none() && r.url.is_none() && r.request_raw.is_none() {
        r.method = method;
        r.url = uri;
        r.protocol = protocol;
    } else {
        let parts = [
            ("request_method", method),
            ("request_uri", uri),
            ("server_protocol", protocol),
        ];
        for (name, value) in parts {
            if let Some(value) = value {
                r.vars.insert(name.to_string(), value);
            }
        }
    }
}

/// Sets a record field once; a second variable mapping to the same field goes to `vars`.
fn put<T: ToString>(
    slot: &mut Option<T>,
    vars: &mut BTreeMap<String, String>,
    var: &Var,
    value: Option<T>,
) {
    match (slot.is_some(), value) {
        (_, None) => {}
        (false, value) => *slot = value,
        (true, Some(v)) => keep(vars, var, Some(v.to_string())),
    }
}

/// Keeps a value in `vars` under its variable name.
fn keep(vars: &mut BTreeMap<String, String>, var: &Var, value: Option<String>) {
    if let Some(v) = value {
        vars.insert(var.name.clone(), v);
    }
}

/// A number, `None` for `-` or empty.
fn number<T: std::str::FromStr>(raw: &str) -> Result<Option<T>, ()> {
    if raw.is_empty() || raw == "-" {
        return Ok(None);
    }
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    raw.parse::<T>().map(Some).map_err(|_| ())
}

/// `12.345` seconds as integer microseconds (exact, unlike summing floats); `None` for `-`.
fn seconds_us(raw: &str) -> Result<Option<i64>, ()> {
    if raw.is_empty() || raw == "-" {
        return Ok(None);
    }
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let secs: i64 = whole.parse().map_err(|_| ())?;
    let mut micros: i64 = 0;
    for (i, b) in frac.bytes().take(6).enumerate() {
        micros += i64::from(b - b'0') * 10_i64.pow(5 - i as u32);
    }
    secs.checked_mul(1_000_000)
        .and_then(|us| us.checked_add(micros))
        .map(Some)
        .ok_or(())
}

fn us_to_seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

/// Sum of `$upstream_response_time` (`0.012, 0.003 : 0.001`); `None` when no part is a time.
fn upstream_time(raw: &str) -> Option<Option<f64>> {
    if raw.is_empty() || raw == "-" {
        return Some(None);
    }
    let mut sum: i64 = 0;
    let mut any = false;
    for part in raw.split([',', ':']).map(str::trim) {
        match seconds_us(part) {
            Ok(Some(us)) => {
                sum = sum.checked_add(us)?;
                any = true;
            }
            Ok(None) => {}
            Err(()) => return None,
        }
    }
    Some(any.then(|| us_to_seconds(sum)))
}

/// `10.0.0.1:8080` or `[2001:db8::1]:8080` into IP and port.
fn split_addr(raw: &str) -> Option<(&str, u16)> {
    let (host, port) = raw.rsplit_once(':')?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse::<std::net::IpAddr>().ok()?;
    Some((host, port.parse().ok()?))
}

fn is_method(m: &str) -> bool {
    (1..=32).contains(&m.len())
        && m.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The time of the line: `$msec` first (it has milliseconds), then `$time_iso8601`, then
/// `$time_local`; a present but unreadable time is an error rather than a guess.
fn pick_time(times: &[(&Var, &str)]) -> Result<i64, ParseError> {
    let rank = |f: Field| match f {
        Field::Msec => 0,
        Field::TimeIso8601 => 1,
        _ => 2,
    };
    let mut sorted: Vec<&(&Var, &str)> = times.iter().collect();
    sorted.sort_by_key(|(var, _)| rank(var.field));
    for (var, raw) in &sorted {
        let t = match var.field {
            Field::Msec => parse_msec(raw),
            Field::TimeIso8601 => raw.parse::<Timestamp>().ok().map(Timestamp::as_microsecond),
            _ => parse_time_local(raw),
        };
        if let Some(t) = t {
            return Ok(t);
        }
    }
    match sorted.first() {
        Some((var, raw)) => Err(var.invalid(raw)),
        None => Err(ParseError::MissingField("time_local")),
    }
}

/// `$msec`: seconds with milliseconds, `1617192247.123`.
fn parse_msec(raw: &str) -> Option<i64> {
    let us = seconds_us(raw).ok()??;
    Timestamp::from_microsecond(us)
        .ok()
        .map(|t| t.as_microsecond())
}

/// `$time_local`: `31/Mar/2021:12:04:07 +0900` to UTC microseconds.
fn parse_time_local(raw: &str) -> Option<i64> {
    let b = raw.as_bytes();
    if b.len() != 26 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[20] != b' ' {
        return None;
    }
    let month = match raw.get(3..6)? {
        "Jan" => 1,
        "Feb" => 2,
        "Mar" => 3,
        "Apr" => 4,
        "May" => 5,
        "Jun" => 6,
        "Jul" => 7,
        "Aug" => 8,
        "Sep" => 9,
        "Oct" => 10,
        "Nov" => 11,
        "Dec" => 12,
        _ => return None,
    };
    let day = digits(b, 0, 2)?;
    let year = digits(b, 7, 4)?;
    let (hour, minute, second) = (digits(b, 12, 2)?, digits(b, 15, 2)?, digits(b, 18, 2)?);
    if b[14] != b':' || b[17] != b':' {
        return None;
    }
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let offset = sign * (digits(b, 22, 2)? * 3600 + digits(b, 24, 2)? * 60);
    let dt = DateTime::new(
        i16::try_from(year).ok()?,
        month,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        i8::try_from(second).ok()?,
        0,
    )
    .ok()?;
    let ts = Offset::from_seconds(offset).ok()?.to_timestamp(dt).ok()?;
    Some(ts.as_microsecond())
}

fn digits(b: &[u8], at: usize, len: usize) -> Option<i32> {
    let s = b.get(at..at + len)?;
    s.iter().try_fold(0i32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i32::from(c - b'0'))
    })
}

/// Whether the `"` at byte `at` of `s` is escaped by an odd run of backslashes (json escaping).
fn escaped_quote(s: &str, at: usize) -> bool {
    let before = s.as_bytes().get(..at).unwrap_or(&[]);
    before.iter().rev().take_while(|b| **b == b'\\').count() % 2 == 1
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A pasted commented-out block (`#log_format main '…'` from `conf/nginx.conf`): when every
/// non-blank line starts with `#`, the markers are dropped.
fn strip_comment_markers(text: &str) -> std::borrow::Cow<'_, str> {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty()).peekable();
    if lines.peek().is_none() || !lines.all(|l| l.trim_start().starts_with('#')) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim_start();
        out.push_str(line.strip_prefix('#').unwrap_or(line));
        out.push('\n');
    }
    std::borrow::Cow::Owned(out)
}

/// `text` without a leading keyword followed by white space (or the end).
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(keyword)?;
    (rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_whitespace())).then_some(rest)
}

/// One token of a directive: a quoted string (escapes resolved) or a bare word.
struct Token {
    text: String,
    quoted: bool,
}

/// Tokens of directive arguments up to an optional `;`, the way nginx's config reader sees them:
/// `#` starts a comment, quotes group, `\"` `\'` `\\` `\t` `\r` `\n` are escapes inside quotes.
/// `base` is the offset of `text` in the pasted text, for error positions.
fn read_tokens(text: &str, base: usize) -> Result<Vec<Token>, FormatError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(at, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '#' => {
                for (_, c) in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            ';' => {
                let rest = text[at + 1..].trim();
                if !rest.is_empty() {
                    return Err(FormatError::TrailingText(rest.chars().take(80).collect()));
                }
                break;
            }
            '\'' | '"' => {
                chars.next();
                tokens.push(read_quoted(&mut chars, c, base + at)?);
            }
            _ => tokens.push(read_bare(&mut chars)),
        }
    }
    Ok(tokens)
}

/// The characters of a directive with their byte offsets, as [`read_tokens`] walks them.
type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// A quoted token after its opening `quote` (at offset `at` of the pasted text): the text up
/// to the closing quote with `\"` `\'` `\\` `\t` `\r` `\n` resolved; any other backslash stays.
fn read_quoted(chars: &mut Chars<'_>, quote: char, at: usize) -> Result<Token, FormatError> {
    let mut out = String::new();
    let mut closed = false;
    while let Some((_, ch)) = chars.next() {
        if ch == quote {
            closed = true;
            break;
        }
        if ch != '\\' {
            out.push(ch);
            continue;
        }
        match chars.peek().map(|&(_, n)| n) {
            Some(n @ ('"' | '\'' | '\\')) => {
                out.push(n);
                chars.next();
            }
            Some('t') => {
                out.push('\t');
                chars.next();
            }
            Some('r') => {
                out.push('\r');
                chars.next();
            }
            Some('n') => {
                out.push('\n');
                chars.next();
            }
            _ => out.push('\\'),
        }
    }
    if !closed {
        return Err(FormatError::UnterminatedQuote { quote, at });
    }
    Ok(Token {
        text: out,
        quoted: true,
    })
}

/// A bare word: up to white space, `;` or a quote.
fn read_bare(chars: &mut Chars<'_>) -> Token {
    let mut out = String::new();
    while let Some(&(_, ch)) = chars.peek() {
        if ch.is_whitespace() || ch == ';' || ch == '\'' || ch == '"' {
            break;
        }
        out.push(ch);
        chars.next();
    }
    Token {
        text: out,
        quoted: false,
    }
}

/// Takes a leading `escape=…` token off the format pieces.
fn split_escape(tokens: Vec<Token>) -> Result<(Escape, Vec<String>), FormatError> {
    let mut escape = Escape::Default;
    let mut pieces = Vec::with_capacity(tokens.len());
    for (i, token) in tokens.into_iter().enumerate() {
        match token.text.strip_prefix("escape=") {
            Some(value) if i == 0 && !token.quoted => {
                escape = match value {
                    "default" => Escape::Default,
                    "json" => Escape::Json,
                    "none" => Escape::None,
                    other => return Err(FormatError::UnknownEscape(other.to_string())),
                }
            }
            _ => pieces.push(token.text),
        }
    }
    if pieces.is_empty() {
        return Err(FormatError::Empty);
    }
    Ok((escape, pieces))
}

/// `log_format` arguments: the name, an optional `escape=`, then the format pieces.
fn parse_directive(args: &str, base: usize) -> Result<LogFormat, FormatError> {
    let mut tokens = read_tokens(args, base)?;
    if tokens.is_empty() {
        return Err(FormatError::MissingName);
    }
    let name = tokens.remove(0).text;
    let (escape, pieces) = split_escape(tokens)?;
    LogFormat::compile(Some(name), escape, &pieces)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn builtins_compile() {
        for (name, vars) in [("combined", 8), ("main", 9), ("extended", 11)] {
            let f = LogFormat::builtin(name).expect(name);
            assert_eq!(f.name(), Some(name));
            assert_eq!(f.variables().count(), vars, "{name}");
            assert!(f.has_time());
        }
    }

    #[test]
    fn directive_shapes() {
        /// Name, text, escape, format name, variables.
        type Case<'a> = (&'a str, &'a str, Escape, Option<&'a str>, &'a [&'a str]);
        let cases: [Case; 6] = [
            (
                "double_quoted_pieces_with_escaped_quotes",
                "log_format q \"$remote_addr \\\"$request\\\"\"\n  \" [$time_local]\";",
                Escape::Default,
                Some("q"),
                &["remote_addr", "request", "time_local"],
            ),
            (
                "explicit_escape_default_and_no_semicolon",
                "log_format d escape=default '[$time_local] $status'",
                Escape::Default,
                Some("d"),
                &["time_local", "status"],
            ),
            (
                "unquoted_piece_and_comment_between_pieces",
                "log_format u escape=none $remote_addr # the peer\n ' [$time_local]';",
                Escape::None,
                Some("u"),
                &["remote_addr", "time_local"],
            ),
            (
                "bare_format_starting_with_a_literal_quote",
                "\"$http_x_forwarded_for\" $remote_addr [$time_local]",
                Escape::Default,
                None,
                &["http_x_forwarded_for", "remote_addr", "time_local"],
            ),
            (
                "bare_single_quoted_pieces",
                "'$remote_addr [$time_local]'\n'  $status';",
                Escape::Default,
                None,
                &["remote_addr", "time_local", "status"],
            ),
            (
                "uppercase_variable_names_and_lone_dollar",
                "log_format c '$Remote_Addr costs $ 5 [$time_local]';",
                Escape::Default,
                Some("c"),
                &["remote_addr", "time_local"],
            ),
        ];
        for (name, text, escape, fname, vars) in cases {
            let f = LogFormat::parse(text).unwrap_or_else(|e| panic!("case {name}: {e}"));
            assert_eq!(f.escape(), escape, "case {name}");
            assert_eq!(f.name(), fname, "case {name}");
            assert_eq!(f.variables().collect::<Vec<_>>(), vars, "case {name}");
        }
        // The double-quoted piece keeps its quotes as literals around $request.
        let f = LogFormat::parse(cases[0].1).unwrap();
        assert_eq!(f.segments[0].after, " \"");
        assert!(f.segments[1].quoted);
        // A bare format starting with a quote keeps it as a literal.
        let f = LogFormat::parse(cases[3].1).unwrap();
        assert_eq!(f.prefix, "\"");
    }

    #[test]
    fn upstream_fields() {
        let cases = [
            ("two_upstreams", "0.012, 0.003", Some(Some(0.015))),
            (
                "across_internal_redirect",
                "0.010 : 0.002",
                Some(Some(0.012)),
            ),
            ("first_upstream_failed_fast", "-, 0.003", Some(Some(0.003))),
            ("absent", "-", Some(None)),
            ("not_a_time", "abc", None),
        ];
        for (name, raw, want) in cases {
            assert_eq!(upstream_time(raw), want, "case {name}");
        }
        assert_eq!(split_addr("10.0.0.1:8080"), Some(("10.0.0.1", 8080)));
        assert_eq!(split_addr("[2001:db8::1]:443"), Some(("2001:db8::1", 443)));
        assert_eq!(split_addr("unix:/run/php.sock"), None);
        assert_eq!(split_addr("backend"), None);
    }

    #[test]
    fn time_variables() {
        assert_eq!(
            parse_time_local("31/Mar/2021:12:04:07 +0900"),
            Some(1_617_159_847_000_000)
        );
        assert_eq!(parse_time_local("31/Mar/2021:12:04:07 +09"), None);
        assert_eq!(parse_time_local("31/Mar/2021:12:04:07 09000"), None);
        assert_eq!(parse_time_local("30/Feb/2021:12:04:07 +0000"), None);
        assert_eq!(parse_msec("1617192247.123"), Some(1_617_192_247_123_000));
        assert_eq!(parse_msec("-"), None);
        assert_eq!(seconds_us("99999999999999999999"), Err(()));
    }

    #[test]
    fn escape_none_line_full_of_quotes_stays_within_budget() {
        let f = LogFormat::parse(
            "log_format n escape=none '\"$a\" \"$b\" \"$c\" \"$d\" [$time_local] \"$e\"';",
        )
        .unwrap();
        let line = "\" \"".repeat(20_000);
        let started = std::time::Instant::now();
        assert!(f.parse_line(&line).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    /// Pieces that make lines look almost like log lines, so the matcher goes deep.
    fn line_piece() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"".to_string()),
            Just(" ".to_string()),
            Just(" - ".to_string()),
            Just("-".to_string()),
            Just("[31/Mar/2021:12:04:07 +0900]".to_string()),
            Just("2021-03-31T12:04:07+09:00".to_string()),
            Just("\\x22".to_string()),
            Just("\\\"".to_string()),
            Just("\\".to_string()),
            Just("GET / HTTP/1.1".to_string()),
            Just("\",\"".to_string()),
            Just("{\"time\":\"".to_string()),
            "[0-9]{1,4}",
            "[0-9]\\.[0-9]{3}",
            ".{0,3}",
        ]
    }

    fn formats() -> Vec<LogFormat> {
        vec![
            LogFormat::combined(),
            LogFormat::main(),
            LogFormat::extended(),
            LogFormat::parse(
                "log_format j escape=json '{\"time\":\"$time_iso8601\",\"ip\":\"$remote_addr\",\"request\":\"$request\",\"status\":$status,\"urt\":\"$upstream_response_time\",\"ua\":\"$http_user_agent\"}';",
            )
            .unwrap(),
            LogFormat::parse(
                "log_format n escape=none '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"';",
            )
            .unwrap(),
        ]
    }

    proptest! {
        #[test]
        fn any_line_never_panics(line in ".*") {
            for f in formats() {
                let _ = f.parse_line(&line);
            }
        }

        #[test]
        fn almost_log_lines_never_panic(pieces in prop::collection::vec(line_piece(), 0..40)) {
            let line = pieces.concat();
            for f in formats() {
                let _ = f.parse_record(&line);
            }
        }

        #[test]
        fn any_directive_never_panics(text in ".*") {
            if let Ok(f) = LogFormat::parse(&text) {
                let _ = f.parse_line(&text);
            }
        }

        #[test]
        fn almost_directives_never_panic(pieces in prop::collection::vec(prop_oneof![
            Just("log_format ".to_string()),
            Just("escape=json ".to_string()),
            Just("'".to_string()),
            Just("\"".to_string()),
            Just("\\".to_string()),
            Just("$".to_string()),
            Just("${".to_string()),
            Just("}".to_string()),
            Just(";".to_string()),
            Just("#".to_string()),
            Just("\n".to_string()),
            Just("$status".to_string()),
            Just("$time_local".to_string()),
            Just("$msec".to_string()),
            "[a-z_]{1,8}",
            ".{0,2}",
        ], 0..30), line in ".{0,60}") {
            let text = pieces.concat();
            if let Ok(f) = LogFormat::parse(&text) {
                let _ = f.parse_line(&line);
                let _ = f.parse_line(&text);
            }
        }
    }
}
