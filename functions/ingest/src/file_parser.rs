//! The `parse` command's reading of a file: gzip (detected by its magic bytes) or plain, one
//! record per line of JSON out, memory flat (SES objects excepted, see [`ObjectParser`]).
//!
//! The file is read and gunzipped on a thread of its own while this one splits and parses
//! lines, and ALB lines take the ingest's fast path ([`AlbLines`] writing JSON straight from
//! the tokenizer), so the command runs at about the speed of the ingest, not of gunzip plus
//! serde. The output is byte for byte what `Record::write_json` writes for each record.

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;
use std::sync::mpsc;

use logdesk_core::Record;
use logdesk_core::alb_lines::{AlbLine, AlbLines, JsonOut};
use logdesk_core::input;
use logdesk_core::source::{Counts, ObjectParser, ParseOptions, SourceKind};
use memchr::{memchr, memchr_iter};

/// Errors reading a source file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file could not be opened.
    #[error("cannot open {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// Reading (or gunzipping) failed part-way; the records before the failure were emitted.
    #[error("cannot read {path} after {offset} decoded bytes: {source}")]
    Read {
        /// The file.
        path: String,
        /// Decoded bytes read before the failure.
        offset: u64,
        /// Why (a truncated or corrupt gzip stream, an I/O error).
        source: io::Error,
    },
}

/// Decoded bytes the reader thread hands over at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks waiting for the parser.
const QUEUE: usize = 4;

/// Parses one file of `kind`, writing each record to `out` in order; returns the counts.
pub fn parse_file<W: Write>(
    path: &Path,
    kind: SourceKind,
    options: ParseOptions,
    out: &mut JsonLines<W>,
) -> Result<Counts, ReadError> {
    let name = path.display().to_string();
    let file = File::open(path).map_err(|source| ReadError::Open {
        path: name.clone(),
        source,
    })?;
    let mut lines = FileLines::new(kind, options);
    let mut pending = Vec::new();
    let mut offset = 0u64;
    let failure = std::thread::scope(|scope| {
        let (send, chunks) = mpsc::sync_channel(QUEUE);
        scope.spawn(move || read_chunks(file, &send));
        for chunk in chunks {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(e) => return Some(e),
            };
            offset += split_lines(&chunk, &mut pending, |line| lines.line(line, out));
        }
        None
    });
    if let Some(source) = failure {
        // What was complete before the failure is written; then the failure is reported.
        lines.finish(out);
        return Err(ReadError::Read {
            path: name,
            offset,
            source,
        });
    }
    // The last line, if the file does not end with a line end.
    if !pending.is_empty() {
        lines.line(&pending, out);
    }
    Ok(lines.finish(out))
}

/// The reader thread: the file's plain bytes in chunks, then an error if reading failed.
fn read_chunks(file: File, send: &mpsc::SyncSender<io::Result<Vec<u8>>>) {
    let mut reader = match input::plain_reader(BufReader::with_capacity(CHUNK, file)) {
        Ok(reader) => reader,
        Err(e) => {
            let _ = send.send(Err(e));
            return;
        }
    };
    loop {
        let mut chunk = vec![0; CHUNK];
        let mut filled = 0;
        while filled < CHUNK {
            match reader.read(chunk.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    chunk.truncate(filled);
                    let _ = send.send(Ok(chunk));
                    let _ = send.send(Err(e));
                    return;
                }
            }
        }
        if filled == 0 {
            return;
        }
        chunk.truncate(filled);
        if send.send(Ok(chunk)).is_err() {
            return;
        }
    }
}

/// Calls `line` for each line that ends in `chunk` (without its `\n`), the first one after
/// the `pending` start of a line; keeps the unfinished last line in `pending`. Returns the
/// bytes of the lines completed.
fn split_lines(chunk: &[u8], pending: &mut Vec<u8>, mut line: impl FnMut(&[u8])) -> u64 {
    let mut done = 0u64;
    let mut rest = chunk;
    if !pending.is_empty() {
        let Some(end) = memchr(b'\n', rest) else {
            pending.extend_from_slice(rest);
            return 0;
        };
        pending.extend_from_slice(rest.get(..end).unwrap_or_default());
        done += pending.len() as u64 + 1;
        line(pending);
        pending.clear();
        rest = rest.get(end + 1..).unwrap_or_default();
    }
    let mut start = 0;
    for end in memchr_iter(b'\n', rest) {
        line(rest.get(start..end).unwrap_or_default());
        start = end + 1;
    }
    done += start as u64;
    pending.extend_from_slice(rest.get(start..).unwrap_or_default());
    done
}

/// How the lines of a file become output: ALB by the fast path, other kinds record by record.
enum FileLines {
    Alb {
        lines: AlbLines,
        counts: Counts,
        json: String,
    },
    Records(Box<ObjectParser>),
}

impl FileLines {
    fn new(kind: SourceKind, options: ParseOptions) -> FileLines {
        match kind {
            SourceKind::Alb => FileLines::Alb {
                lines: AlbLines::default(),
                counts: Counts::default(),
                json: String::with_capacity(4096),
            },
            kind => FileLines::Records(Box::new(ObjectParser::new(kind, options))),
        }
    }

    fn line<W: Write>(&mut self, line: &[u8], out: &mut JsonLines<W>) {
        match self {
            FileLines::Alb {
                lines,
                counts,
                json,
            } => {
                json.clear();
                let fast = JsonOut {
                    buf: json,
                    max_len: usize::MAX,
                };
                match lines.line(line, None, Some(fast)) {
                    AlbLine::Skipped => {}
                    AlbLine::Json(_) => {
                        counts.records += 1;
                        out.write_text(json);
                    }
                    AlbLine::Record(record) => {
                        counts.records += 1;
                        counts.bad += u64::from(matches!(*record, Record::Bad(_)));
                        out.write(&record);
                    }
                }
            }
            FileLines::Records(parser) => parser.push_line(line, &mut |r| out.write(&r)),
        }
    }

    fn finish<W: Write>(self, out: &mut JsonLines<W>) -> Counts {
        match self {
            FileLines::Alb { lines, counts, .. } => Counts {
                lines: lines.lines(),
                ..counts
            },
            FileLines::Records(parser) => parser.finish(&mut |r| out.write(&r)),
        }
    }
}

/// Writes each record as one line of JSON.
pub struct JsonLines<W: Write> {
    out: W,
    buf: Vec<u8>,
    error: Option<io::Error>,
}

impl<W: Write> JsonLines<W> {
    /// Writes to `out`.
    pub fn new(out: W) -> Self {
        JsonLines {
            out,
            buf: Vec::with_capacity(4096),
            error: None,
        }
    }

    /// Writes one record (errors are kept and returned by [`JsonLines::finish`]).
    pub fn write(&mut self, record: &Record) {
        if self.error.is_some() {
            return;
        }
        self.buf.clear();
        record.write_json(&mut self.buf);
        self.buf.push(b'\n');
        if let Err(e) = self.out.write_all(&self.buf) {
            self.error = Some(e);
        }
    }

    /// Writes one record already written as JSON (a line of it, without its `\n`).
    pub fn write_text(&mut self, json: &str) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self
            .out
            .write_all(json.as_bytes())
            .and_then(|()| self.out.write_all(b"\n"))
        {
            self.error = Some(e);
        }
    }

    /// Flushes and returns the first write error, if any.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALB: &str = include_str!("../../../events/samples/alb-access.log");

    /// The output and counts of `parse_file` over `text`, and of the record path.
    fn both_paths(text: &str, name: &str) -> ((Vec<u8>, Counts), (Vec<u8>, Counts)) {
        let path = std::env::temp_dir().join(format!("logdesk-{}-{name}", std::process::id()));
        std::fs::write(&path, text).unwrap();
        let mut out = JsonLines::new(Vec::new());
        let counts = parse_file(&path, SourceKind::Alb, ParseOptions::default(), &mut out);
        let _ = std::fs::remove_file(&path);
        let fast = (out.out, counts.unwrap());
        let mut parser = ObjectParser::new(SourceKind::Alb, ParseOptions::default());
        let mut want = JsonLines::new(Vec::new());
        for line in text.split_inclusive('\n') {
            parser.push_line(line.as_bytes(), &mut |r| want.write(&r));
        }
        let counts = parser.finish(&mut |r| want.write(&r));
        (fast, (want.out, counts))
    }

    #[test]
    fn alb_fast_path_writes_what_the_record_path_writes() {
        let mut text = format!("{ALB}\n\r\nnot an alb line\n");
        crate::sample::alb_lines(&mut text, 3_000, 1_795_310_100_000, 11);
        text.push_str("Enable AccessLog for ELB: app/x/y at 2025-05-30T16:47:00.781Z\n");
        text.push_str(ALB.lines().next().unwrap());
        let (fast, record) = both_paths(&text, "alb.log");
        assert_eq!(fast.1, record.1);
        assert_eq!(
            String::from_utf8(fast.0).unwrap(),
            String::from_utf8(record.0).unwrap()
        );
        assert_eq!(fast.1.bad, 2);
    }

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let text = b"one\ntwo\r\nthree\n\nfour";
        for cut in 0..text.len() {
            let mut pending = Vec::new();
            let mut got: Vec<Vec<u8>> = Vec::new();
            let mut done = 0;
            for chunk in [&text[..cut], &text[cut..]] {
                done += split_lines(chunk, &mut pending, |l| got.push(l.to_vec()));
            }
            let want: Vec<&[u8]> = vec![b"one", b"two\r", b"three", b""];
            assert_eq!(got, want, "cut at {cut}");
            assert_eq!(pending, b"four");
            assert_eq!(done, text.len() as u64 - 4);
        }
    }
}
