//! The ALB line loop: what happens to each line of an ALB access-log object, in one place for
//! every reader (the [`crate::source::ObjectParser`], the ingest pipeline and its gunzip
//! thread, the `parse` command).
//!
//! Lines are numbered (for bad records), empty lines and ELB's test-file line are skipped, and
//! each other line becomes a record. Readers that want JSON take the fast path: a good line is
//! written straight to JSON ([`alb::line_to_json`], byte for byte what
//! `Record::Alb(..).write_json` writes, held so by property tests) without building a
//! [`Record`]; a bad line, a line cut before parsing or a record longer than the reader allows
//! becomes a [`Record`] as on the record path.

use crate::alb;
use crate::input::{line_text, trim_line_end};
use crate::record::Record;
use crate::source::{SourceKind, bad_record};

/// What one line became.
#[derive(Debug)]
pub enum AlbLine {
    /// Nothing: an empty line or ELB's test-file line.
    Skipped,
    /// A good record, whose JSON was appended to the caller's buffer; the record's time, µs.
    Json(i64),
    /// A record built the general way (bad lines, cut lines, JSON over the limit, or a reader
    /// that asked for records). Boxed: the fast path's result stays a few bytes.
    Record(Box<Record>),
}

/// Where the JSON of a good line goes, and how long it may be.
pub struct JsonOut<'a> {
    /// Appended to; left as it was when the line yields no JSON.
    pub buf: &'a mut String,
    /// Longer JSON is dropped and the line returned as a [`Record`] (whose writer may cut it).
    pub max_len: usize,
}

/// Reads the lines of one ALB object, in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlbLines {
    /// Physical lines seen (the number of the current line, for bad records).
    line_no: u32,
    /// Non-empty lines.
    lines: u64,
}

impl AlbLines {
    /// A reader whose next line is line `line_no + 1` of the object (a chunk of an object
    /// read from its middle).
    pub fn after(line_no: u32) -> AlbLines {
        AlbLines { line_no, lines: 0 }
    }

    /// Non-empty lines read.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Counts lines read elsewhere (a chunk parsed by another reader): `physical` line ends,
    /// `lines` of them not empty.
    pub fn skip(&mut self, physical: u32, lines: u64) {
        self.line_no = self.line_no.saturating_add(physical);
        self.lines += lines;
    }

    /// Reads one line (with or without its line end). `cut_from` is the line's full length
    /// when the caller cut it before handing it over; `json` asks for the fast path.
    pub fn line(
        &mut self,
        line: &[u8],
        cut_from: Option<u64>,
        json: Option<JsonOut<'_>>,
    ) -> AlbLine {
        self.line_no = self.line_no.saturating_add(1);
        let line = trim_line_end(line);
        if line.is_empty() {
            return AlbLine::Skipped;
        }
        self.lines += 1;
        let text = line_text(line);
        if alb::is_control_line(&text) {
            return AlbLine::Skipped;
        }
        if let (Some(out), None) = (json, cut_from) {
            let start = out.buf.len();
            match alb::line_to_json(&text, out.buf) {
                Ok(time) if out.buf.len() - start <= out.max_len => return AlbLine::Json(time),
                // Too long: the record's writer knows how to cut it.
                Ok(_) => out.buf.truncate(start),
                Err(e) => {
                    return AlbLine::Record(Box::new(bad_record(
                        SourceKind::Alb,
                        &e.to_string(),
                        &text,
                        self.line_no,
                    )));
                }
            }
        }
        let mut record = match alb::parse_line(&text) {
            Ok(entry) => Record::Alb(entry.to_record()),
            Err(e) => bad_record(SourceKind::Alb, &e.to_string(), &text, self.line_no),
        };
        if let Some(len) = cut_from {
            record.mark_cut(len);
        }
        AlbLine::Record(Box::new(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#;

    #[test]
    fn both_paths_give_the_same_json_and_count_alike() {
        let text = format!(
            "\n{GOOD}\r\nEnable AccessLog for ELB: app/x/1 at 2026-01-01T00:00:00Z\nhttp nonsense\n"
        );
        let (mut fast, mut slow) = (AlbLines::default(), AlbLines::default());
        let (mut fast_json, mut slow_json) = (Vec::new(), Vec::new());
        for line in text.split_inclusive('\n') {
            let mut buf = String::new();
            let out = JsonOut {
                buf: &mut buf,
                max_len: usize::MAX,
            };
            match fast.line(line.as_bytes(), None, Some(out)) {
                AlbLine::Json(_) => fast_json.push(buf),
                AlbLine::Record(r) => fast_json.push(r.to_json()),
                AlbLine::Skipped => {}
            }
            match slow.line(line.as_bytes(), None, None) {
                AlbLine::Record(r) => slow_json.push(r.to_json()),
                AlbLine::Json(_) => panic!("JSON without asking"),
                AlbLine::Skipped => {}
            }
        }
        assert_eq!(fast_json, slow_json);
        assert_eq!(fast_json.len(), 2);
        assert!(fast_json[1].contains("\"ln\":4"), "{}", fast_json[1]);
        assert_eq!((fast.lines(), slow.lines()), (3, 3));
    }

    #[test]
    fn over_the_limit_or_cut_is_a_record() {
        let mut lines = AlbLines::after(41);
        let mut buf = String::from("kept");
        let out = JsonOut {
            buf: &mut buf,
            max_len: 10,
        };
        assert!(matches!(
            lines.line(GOOD.as_bytes(), None, Some(out)),
            AlbLine::Record(r) if matches!(*r, Record::Alb(_))
        ));
        assert_eq!(buf, "kept");
        let AlbLine::Record(record) = lines.line(b"http cut", Some(9_000_000), None) else {
            panic!("a record")
        };
        let Record::Bad(bad) = *record else {
            panic!("a bad record")
        };
        assert!(bad.truncated);
        assert_eq!((bad.line, bad.original_len), (43, Some(9_000_000)));
    }
}
