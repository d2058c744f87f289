//! nginx error-log entries.
//!
//! nginx (`ngx_log_error_core`) writes
//! `YYYY/MM/DD HH:MM:SS [level] pid#tid: [*conn ]message[, client: …][, server: …]
//! [, request: "…"][, subrequest: "…"][, upstream: "…"][, host: "…"][, referrer: "…"]`.
//! The time has no zone (it is the server's local time), so the caller says which zone it is.
//! The context values are not escaped, so they are split off from the end of the message, right
//! to left, in the order nginx writes them. A message may span several physical lines (FastCGI
//! stderr): [`split_entries`] and [`ErrorLogAssembler`] group them into entries first.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::error::ParseError;
use crate::record::{ErrorRecord, Record, SCHEMA_VERSION};

/// The levels nginx writes (`err_levels[]` in `src/core/ngx_log.c`).
pub const LEVELS: [&str; 9] = [
    "stderr", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
];

/// Longest entry kept together. nginx cuts a message at 2048 bytes (`NGX_MAX_ERROR_STR`), so
/// anything much longer is not one entry (a file that is not an error log, say); it is cut at a
/// line boundary so memory stays bounded.
pub const MAX_ENTRY_BYTES: usize = 64 * 1024;

/// The context fields in the order nginx appends them; `true` when the value is quoted.
const CONTEXT: [(&str, bool); 7] = [
    (", client: ", false),
    (", server: ", false),
    (", request: ", true),
    (", subrequest: ", true),
    (", upstream: ", true),
    (", host: ", true),
    (", referrer: ", true),
];

/// Whether `line` starts like an entry: `YYYY/MM/DD HH:MM:SS [`.
pub fn is_entry_start(line: &str) -> bool {
    let b = line.as_bytes();
    const SHAPE: &[u8; 21] = b"0000/00/00 00:00:00 [";
    b.len() >= SHAPE.len()
        && SHAPE.iter().zip(b).all(|(want, got)| match want {
            b'0' => got.is_ascii_digit(),
            other => other == got,
        })
}

/// Reads one entry (one line, or the lines [`split_entries`] grouped) into an error record.
/// `tz` is the zone of the server that wrote the log; the time becomes UTC.
pub fn parse_line(line: &str, tz: &TimeZone) -> Result<ErrorRecord, ParseError> {
    let line = line.trim_end_matches(['\n', '\r']);
    if line.trim().is_empty() {
        return Err(ParseError::Empty);
    }
    if !is_entry_start(line) {
        let head: String = line.chars().take(20).collect();
        return Err(ParseError::invalid("time", &head));
    }
    let num =
        |at: usize, len: usize| -> Option<i16> { line.get(at..at + len)?.parse::<i16>().ok() };
    let t = (|| {
        let dt = DateTime::new(
            num(0, 4)?,
            i8::try_from(num(5, 2)?).ok()?,
            i8::try_from(num(8, 2)?).ok()?,
            i8::try_from(num(11, 2)?).ok()?,
            i8::try_from(num(14, 2)?).ok()?,
            i8::try_from(num(17, 2)?).ok()?,
            0,
        )
        .ok()?;
        // A time in a DST gap or fold resolves like jiff's "compatible" rule (as most tools do).
        Some(tz.to_timestamp(dt).ok()?.as_microsecond())
    })()
    .ok_or_else(|| ParseError::invalid("time", line.get(..19).unwrap_or(line)))?;
    // `[level] `; the header checked above is 21 ASCII bytes.
    let rest = line.get(21..).unwrap_or("");
    let (level, rest) = rest
        .split_once("] ")
        .or_else(|| rest.strip_suffix(']').map(|l| (l, "")))
        .ok_or(ParseError::MissingField("level"))?;
    if !LEVELS.contains(&level) {
        return Err(ParseError::invalid("level", level));
    }

    // `pid#tid: `
    let (ids, rest) = match rest.split_once(": ") {
        Some(split) => split,
        None => (
            rest.strip_suffix(':')
                .ok_or(ParseError::MissingField("pid"))?,
            "",
        ),
    };
    let (pid, tid) = ids
        .split_once('#')
        .ok_or_else(|| ParseError::invalid("pid", ids))?;
    let pid = pid
        .parse::<u32>()
        .map_err(|_| ParseError::invalid("pid", pid))?;
    let tid = tid
        .parse::<u64>()
        .map_err(|_| ParseError::invalid("tid", tid))?;

    // `*conn ` only when a connection is attached (not on startup or signal lines).
    let (connection, message) = match rest.strip_prefix('*').and_then(|r| r.split_once(' ')) {
        Some((n, msg)) if !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()) => {
            (n.parse::<u64>().ok(), msg)
        }
        _ => (None, rest),
    };

    let (message, ctx) = split_context(message);
    let text = |v: Option<&str>| v.filter(|v| !v.is_empty()).map(str::to_string);
    Ok(ErrorRecord {
        v: SCHEMA_VERSION,
        t,
        level: level.to_string(),
        pid: Some(pid),
        tid: Some(tid),
        connection,
        message: message.to_string(),
        // `client: ` the client address.
        client: text(ctx[0]),
        // `server: ` the server_name; nginx writes `server: ,` when there is none.
        server: text(ctx[1]),
        // `request: "…"` the request line, unescaped.
        request: text(ctx[2]),
        // `subrequest: "…"` the subrequest URI.
        subrequest: text(ctx[3]),
        // `upstream: "…"` the upstream URL (`fastcgi://127.0.0.1:9000`).
        upstream: text(ctx[4]),
        // `host: "…"` the Host header.
        host: text(ctx[5]),
        // `referrer: "…"` the Referer header.
        referrer: text(ctx[6]),
    })
}

/// Reads one entry into [`Record::NginxError`].
pub fn parse_record(line: &str, tz: &TimeZone) -> Result<Record, ParseError> {
    parse_line(line, tz).map(Record::NginxError)
}

/// Splits the context fields off the end of a message. Values are not escaped, so a request
/// line may hold a quote or even `, host: "`: each step takes the rightmost marker among the
/// fields that may still come (those before the last one taken, in nginx's order) whose value
/// has the right shape, and stops at the first that does not fit.
fn split_context(message: &str) -> (&str, [Option<&str>; 7]) {
    let mut ctx = [None; 7];
    let mut msg = message;
    let mut allowed = CONTEXT.len();
    loop {
        let mut best: Option<(usize, usize, &str)> = None;
        for (k, (marker, quoted)) in CONTEXT.iter().enumerate().take(allowed) {
            let Some(at) = msg.rfind(marker) else {
                continue;
            };
            if best.is_some_and(|(b, _, _)| b > at) {
                continue;
            }
            let value = &msg[at + marker.len()..];
            let value = if *quoted {
                match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                    Some(inner) => inner,
                    None => continue,
                }
            } else if value.contains(['"', ' ', '\n']) {
                continue;
            } else {
                value
            };
            best = Some((at, k, value));
        }
        let Some((at, k, value)) = best else {
            break;
        };
        ctx[k] = Some(value);
        msg = &msg[..at];
        allowed = k;
    }
    (msg, ctx)
}

/// Splits a whole error log into entries: a line that does not start with a
/// `YYYY/MM/DD HH:MM:SS [` header belongs to the entry before it. Each entry keeps its line
/// ends, so the entries joined give back `text`. Text before the first header is an entry of
/// its own (which then fails to parse).
pub fn split_entries(text: &str) -> Entries<'_> {
    Entries { rest: text }
}

/// Iterator over the entries of an error log, see [`split_entries`].
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Entries<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.rest.is_empty() {
            return None;
        }
        let bytes = self.rest.as_bytes();
        let line_end = |from: usize| {
            memchr::memchr(b'\n', bytes.get(from..).unwrap_or(&[]))
                .map_or(bytes.len(), |i| from + i + 1)
        };
        let mut end = line_end(0);
        while end < bytes.len() && end < MAX_ENTRY_BYTES && !is_entry_start(&self.rest[end..]) {
            end = line_end(end);
        }
        let (entry, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(entry)
    }
}

/// Groups error-log lines into entries one line at a time, for streaming huge files.
///
/// Push lines without their line ends; an entry comes out when the next header line arrives
/// (or at [`finish`](ErrorLogAssembler::finish)), its lines joined with `\n`.
#[derive(Debug, Clone, Default)]
pub struct ErrorLogAssembler {
    pending: Option<String>,
}

impl ErrorLogAssembler {
    /// An assembler with no pending entry.
    pub fn new() -> ErrorLogAssembler {
        ErrorLogAssembler::default()
    }

    /// Adds one physical line; returns the previous entry when this line starts a new one.
    pub fn push(&mut self, line: &str) -> Option<String> {
        match &mut self.pending {
            Some(entry)
                if !is_entry_start(line) && entry.len() + 1 + line.len() <= MAX_ENTRY_BYTES =>
            {
                entry.push('\n');
                entry.push_str(line);
                None
            }
            _ => self.pending.replace(line.to_string()),
        }
    }

    /// Returns the last entry, if any.
    pub fn finish(self) -> Option<String> {
        self.pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn context_split_table() {
        let cases: [(&str, &str, &str, [Option<&str>; 7]); 5] = [
            (
                "no_context",
                "signal process started",
                "signal process started",
                [None; 7],
            ),
            (
                "empty_server_at_the_end",
                "SSL_do_handshake() failed, client: 1.2.3.4, server: ",
                "SSL_do_handshake() failed",
                [Some("1.2.3.4"), Some(""), None, None, None, None, None],
            ),
            (
                "host_text_inside_message_is_not_context",
                r#"bad host, host: "x" seen, client: 1.2.3.4"#,
                r#"bad host, host: "x" seen"#,
                [Some("1.2.3.4"), None, None, None, None, None, None],
            ),
            (
                "unquoted_upstream_is_left_in_message",
                "m, upstream: http://x",
                "m, upstream: http://x",
                [None; 7],
            ),
            (
                "marker_inside_request_line",
                r#"m, client: 1.2.3.4, request: "GET /?x=, client: 5 HTTP/1.1""#,
                "m",
                [
                    Some("1.2.3.4"),
                    None,
                    Some("GET /?x=, client: 5 HTTP/1.1"),
                    None,
                    None,
                    None,
                    None,
                ],
            ),
        ];
        for (name, input, msg, ctx) in cases {
            assert_eq!(split_context(input), (msg, ctx), "case {name}");
        }
    }

    #[test]
    fn huge_continuation_is_cut_into_bounded_entries() {
        let text = "x\n".repeat(MAX_ENTRY_BYTES);
        let entries: Vec<&str> = split_entries(&text).collect();
        assert_eq!(entries.len(), 2);
        assert!(entries.iter().all(|e| e.len() <= MAX_ENTRY_BYTES));
        assert_eq!(entries.concat(), text);

        let mut asm = ErrorLogAssembler::new();
        let mut out: Vec<String> = text.lines().filter_map(|l| asm.push(l)).collect();
        out.extend(asm.finish());
        assert!(out.len() >= 2 && out.iter().all(|e| e.len() <= MAX_ENTRY_BYTES));
        assert_eq!(out.join("\n"), text.trim_end());
    }

    fn entry_text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                Just("2021/04/01 13:02:31 [error] 31#31: *1 ".to_string()),
                Just("2021/04/01 13:02:31 [".to_string()),
                Just("\n".to_string()),
                Just("\r\n".to_string()),
                Just(", client: ".to_string()),
                Just(", server: ".to_string()),
                Just(", request: \"".to_string()),
                Just(", host: \"".to_string()),
                Just("\"".to_string()),
                Just("] ".to_string()),
                Just("#".to_string()),
                ".{0,4}",
            ],
            0..40,
        )
        .prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn never_panics(line in ".*") {
            let _ = parse_line(&line, &TimeZone::UTC);
        }

        #[test]
        fn almost_entries_never_panic(text in entry_text()) {
            let tz = TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC);
            for entry in split_entries(&text) {
                let _ = parse_record(entry, &tz);
            }
        }

        #[test]
        fn split_entries_never_loses_bytes(text in entry_text()) {
            let entries: Vec<&str> = split_entries(&text).collect();
            prop_assert_eq!(entries.concat(), text.clone());
            prop_assert!(entries.iter().all(|e| !e.is_empty()));
            for e in entries.iter().skip(1) {
                prop_assert!(is_entry_start(e));
            }
        }

        #[test]
        fn assembler_keeps_every_line(text in entry_text()) {
            let lines: Vec<&str> = text.lines().collect();
            let mut asm = ErrorLogAssembler::new();
            let mut out: Vec<String> = lines.iter().filter_map(|l| asm.push(l)).collect();
            out.extend(asm.finish());
            prop_assert_eq!(out.join("\n"), lines.join("\n"));
        }
    }
}
