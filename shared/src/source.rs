//! The kinds of source logdesk reads, and [`ObjectParser`], which turns the lines of one source
//! object into records, keeping every line it cannot parse as a [`BadRecord`].
//!
//! Ingest, the `parse` CLI and the tests all go through this one place, so a line is read the
//! same way wherever it comes from.

use std::fmt;
use std::str::FromStr;

use crate::alb_lines::{AlbLine, AlbLines};
use crate::nginx::LogFormat;
use crate::nginx_error::ErrorLogAssembler;
use crate::record::{BadRecord, Record, SCHEMA_VERSION};
use crate::{alb, alb_connection, clb, input, nginx_error, nlb, ses};

/// What a source object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// ALB access log.
    Alb,
    /// ALB connection log.
    AlbConnection,
    /// NLB (TLS listener) access log.
    Nlb,
    /// Classic ELB access log.
    Clb,
    /// nginx access log (format given by a `log_format` directive).
    Nginx,
    /// nginx error log.
    NginxError,
    /// SES events (Firehose objects, newline-delimited or concatenated JSON).
    Ses,
}

impl SourceKind {
    /// Every kind, in the order the CLI lists them.
    pub const ALL: [SourceKind; 7] = [
        SourceKind::Alb,
        SourceKind::Nlb,
        SourceKind::Clb,
        SourceKind::AlbConnection,
        SourceKind::Nginx,
        SourceKind::NginxError,
        SourceKind::Ses,
    ];

    /// The name used on the command line and in bad records (`alb`, `alb-connection`, …).
    pub fn name(self) -> &'static str {
        match self {
            SourceKind::Alb => "alb",
            SourceKind::AlbConnection => "alb-connection",
            SourceKind::Nlb => "nlb",
            SourceKind::Clb => "clb",
            SourceKind::Nginx => "nginx",
            SourceKind::NginxError => "nginx-error",
            SourceKind::Ses => "ses",
        }
    }
}

impl fmt::Display for SourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A source kind name that is not one of [`SourceKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown source kind {0:?} (expected one of alb, nlb, clb, alb-connection, nginx, nginx-error, ses)"
)]
pub struct UnknownKind(pub String);

impl FromStr for SourceKind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SourceKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// How to read sources whose lines do not say everything themselves.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// The nginx access `log_format` (default: [`LogFormat::defaults`], which recognise the
    /// kit's `logdesk` JSON lines, `extended` and `combined`).
    pub nginx_format: Option<LogFormat>,
    /// The time zone of nginx error-log times, which carry none (default UTC).
    pub tz: jiff::tz::TimeZone,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            nginx_format: None,
            tz: jiff::tz::TimeZone::UTC,
        }
    }
}

/// What an [`ObjectParser`] saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Physical lines read (for SES, non-empty lines of the decoded object).
    pub lines: u64,
    /// Records produced, bad records included.
    pub records: u64,
    /// Lines or records that could not be parsed (kept as `bad` records).
    pub bad: u64,
}

/// Turns the lines of one object into records, in order.
///
/// Feed it every line (with or without its line ending) through [`ObjectParser::push_line`],
/// then call [`ObjectParser::finish`]. nginx error entries that continue over several lines
/// are joined; SES objects are parsed whole at `finish` (a Firehose object is at most 128 MiB,
/// and concatenated JSON records need not respect line ends).
pub struct ObjectParser {
    kind: SourceKind,
    formats: Vec<LogFormat>,
    tz: jiff::tz::TimeZone,
    counts: Counts,
    line_no: u32,
    errors: ErrorLogAssembler,
    error_start: u32,
    error_pending: bool,
    ses: Vec<u8>,
    alb: AlbLines,
}

impl ObjectParser {
    /// A parser for one object of `kind`.
    pub fn new(kind: SourceKind, options: ParseOptions) -> ObjectParser {
        let formats = match options.nginx_format {
            Some(f) => vec![f],
            None => LogFormat::defaults(),
        };
        ObjectParser {
            kind,
            formats,
            tz: options.tz,
            counts: Counts::default(),
            line_no: 0,
            errors: ErrorLogAssembler::default(),
            error_start: 1,
            error_pending: false,
            ses: Vec::new(),
            alb: AlbLines::default(),
        }
    }

    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Reads one line, calling `emit` for each record it completes.
    pub fn push_line(&mut self, line: &[u8], emit: &mut impl FnMut(Record)) {
        if self.kind == SourceKind::Alb {
            // The one ALB line loop (shared with the JSON fast path of the readers).
            if let AlbLine::Record(record) = self.alb.line(line, None, None) {
                self.count(&record);
                emit(*record);
            }
            self.counts.lines = self.alb.lines();
            return;
        }
        self.line_no = self.line_no.saturating_add(1);
        let line = input::trim_line_end(line);
        if self.kind == SourceKind::Ses {
            if !line.iter().all(u8::is_ascii_whitespace) {
                self.counts.lines += 1;
            }
            self.ses.extend_from_slice(line);
            self.ses.push(b'\n');
            return;
        }
        if line.is_empty() {
            return;
        }
        self.counts.lines += 1;
        let text = crate::input::line_text(line);
        if self.kind == SourceKind::NginxError {
            // An entry may continue over several lines; it is numbered by its first line.
            match self.errors.push(&text) {
                Some(entry) => {
                    let start = std::mem::replace(&mut self.error_start, self.line_no);
                    self.emit_error_entry(&entry, start, emit);
                }
                None if !self.error_pending => self.error_start = self.line_no,
                None => {}
            }
            self.error_pending = true;
            return;
        }
        let result = match self.kind {
            SourceKind::AlbConnection if alb::is_control_line(&text) => return,
            SourceKind::AlbConnection => alb_connection::parse_record(&text),
            SourceKind::Nlb => nlb::parse_record(&text),
            SourceKind::Clb => clb::parse_record(&text),
            SourceKind::Nginx => self.parse_nginx(&text),
            SourceKind::Alb | SourceKind::NginxError | SourceKind::Ses => return,
        };
        let line_no = self.line_no;
        self.emit_result(result, &text, line_no, emit);
    }

    /// Finishes the object: flushes a pending nginx error entry or parses the buffered SES
    /// object. Returns the final counts.
    pub fn finish(mut self, emit: &mut impl FnMut(Record)) -> Counts {
        match self.kind {
            SourceKind::NginxError => {
                let errors = std::mem::take(&mut self.errors);
                if let Some(entry) = errors.finish() {
                    let line_no = self.error_start;
                    self.emit_error_entry(&entry, line_no, emit);
                }
            }
            SourceKind::Ses => {
                let object = ses::parse_object(&self.ses);
                for record in object.records {
                    self.count(&record);
                    emit(record);
                }
            }
            _ => {}
        }
        self.counts
    }

    fn parse_nginx(&self, text: &str) -> Result<Record, crate::ParseError> {
        let mut first_err = None;
        for format in &self.formats {
            match format.parse_record(text) {
                Ok(r) => return Ok(r),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or(crate::ParseError::Empty))
    }

    fn emit_error_entry(&mut self, entry: &str, line_no: u32, emit: &mut impl FnMut(Record)) {
        let result = nginx_error::parse_record(entry, &self.tz);
        self.emit_result(result, entry, line_no, emit);
    }

    fn emit_result(
        &mut self,
        result: Result<Record, crate::ParseError>,
        raw: &str,
        line_no: u32,
        emit: &mut impl FnMut(Record),
    ) {
        let record = match result {
            Ok(r) => r,
            Err(e) => bad_record(self.kind, &e.to_string(), raw, line_no),
        };
        self.count(&record);
        emit(record);
    }

    fn count(&mut self, record: &Record) {
        self.counts.records += 1;
        if matches!(record, Record::Bad(_)) {
            self.counts.bad += 1;
        }
    }
}

/// A [`BadRecord`] for input of `kind` that failed with `error`.
pub fn bad_record(kind: SourceKind, error: &str, raw: &str, line_no: u32) -> Record {
    Record::Bad(BadRecord {
        v: SCHEMA_VERSION,
        source: kind.name().to_string(),
        error: error.to_string(),
        raw: raw.to_string(),
        line: line_no,
        ..Default::default()
    })
}

/// Parses a whole object held in memory (gzip or plain) and returns its records and counts.
pub fn parse_bytes(
    kind: SourceKind,
    options: ParseOptions,
    data: &[u8],
) -> std::io::Result<(Vec<Record>, Counts)> {
    let plain = input::plain_bytes(data)?;
    let mut parser = ObjectParser::new(kind, options);
    let mut out = Vec::new();
    let mut emit = |r| out.push(r);
    for line in plain.split_inclusive(|b| *b == b'\n') {
        parser.push_line(line, &mut emit);
    }
    let counts = parser.finish(&mut emit);
    Ok((out, counts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_all(kind: SourceKind, text: &[u8]) -> (Vec<Record>, Counts) {
        parse_bytes(kind, ParseOptions::default(), text).expect("plain input")
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in SourceKind::ALL {
            assert_eq!(kind.name().parse::<SourceKind>(), Ok(kind));
        }
        assert!("apache".parse::<SourceKind>().is_err());
    }

    #[test]
    fn nginx_error_entries_are_numbered_by_their_first_line() {
        let text = b"2026/11/22 10:17:03 [error] 31#31: *1 first\ncontinued\n2026/11/22 10:17:04 [warn] 31#31: second\n";
        let (records, counts) = parse_all(SourceKind::NginxError, text);
        assert_eq!(
            counts,
            Counts {
                lines: 3,
                records: 2,
                bad: 0
            }
        );
        match &records[0] {
            Record::NginxError(e) => assert_eq!(e.message, "first\ncontinued"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_lines_keep_their_line_number_and_text() {
        let (records, counts) = parse_all(SourceKind::Alb, b"\nnot an alb line\n");
        assert_eq!(
            counts,
            Counts {
                lines: 1,
                records: 1,
                bad: 1
            }
        );
        match &records[0] {
            Record::Bad(b) => {
                assert_eq!(
                    (b.line, b.raw.as_str(), b.source.as_str()),
                    (2, "not an alb line", "alb")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn alb_test_file_content_is_skipped() {
        let (records, _) = parse_all(
            SourceKind::Alb,
            b"Enable AccessLog for ELB: app/elb-name/abc123456 at 2025-05-30T16:47:00.781Z\n",
        );
        assert!(records.is_empty());
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic_and_counts_add_up(data in proptest::collection::vec(any::<u8>(), 0..2000), k in 0usize..7) {
            let kind = SourceKind::ALL[k];
            // Input that starts like gzip but is not is an I/O error, not a panic.
            let Ok((records, counts)) = parse_bytes(kind, ParseOptions::default(), &data) else {
                return Ok(());
            };
            prop_assert_eq!(records.len() as u64, counts.records);
            prop_assert_eq!(records.iter().filter(|r| matches!(r, Record::Bad(_))).count() as u64, counts.bad);
        }
    }
}
