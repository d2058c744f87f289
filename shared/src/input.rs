//! Source objects as byte streams: gzip is detected by its magic bytes (never by the key or the
//! Content-Type, which Firehose and ELB do not set reliably), and multi-member gzip (what
//! concatenated gzip writers produce) is read to the end.

use std::borrow::Cow;
use std::io::{self, BufRead, Read};

use flate2::bufread::MultiGzDecoder;

/// The two bytes every gzip member starts with.
pub const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Whether `prefix` starts like a gzip stream.
pub fn is_gzip(prefix: &[u8]) -> bool {
    prefix.starts_with(&GZIP_MAGIC)
}

/// Wraps `reader` so that reading yields the plain bytes: gunzipped (all members) when the
/// stream starts with the gzip magic, unchanged otherwise.
pub fn plain_reader<'a, R: BufRead + 'a>(mut reader: R) -> io::Result<Box<dyn BufRead + 'a>> {
    let head = reader.fill_buf()?;
    if is_gzip(head) {
        Ok(Box::new(io::BufReader::with_capacity(
            256 * 1024,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Decodes a whole in-memory object (gzip or plain) into its plain bytes.
pub fn plain_bytes(data: &[u8]) -> io::Result<Vec<u8>> {
    if is_gzip(data) {
        let mut out = Vec::with_capacity(data.len() * 8);
        MultiGzDecoder::new(data).read_to_end(&mut out)?;
        Ok(out)
    } else {
        Ok(data.to_vec())
    }
}

/// Strips one trailing `\n` and then one `\r` from a line.
pub fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// A line as text: borrowed when it is valid UTF-8 (nearly always; the standard library's
/// validation reads ASCII many bytes at a time), else with U+FFFD for the invalid bytes.
/// `String::from_utf8_lossy` alone gives the same, but checks byte by byte even valid text.
pub fn line_text(line: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(line) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(line),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{Compression, write::GzEncoder};
    use std::io::Write;

    #[test]
    fn line_text_borrows_valid_text_and_replaces_invalid_bytes() {
        assert!(matches!(
            line_text("日本 ok".as_bytes()),
            Cow::Borrowed("日本 ok")
        ));
        assert_eq!(line_text(b"a\xffb"), "a\u{fffd}b");
    }

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn plain_passes_through() {
        assert_eq!(plain_bytes(b"abc\n").unwrap(), b"abc\n");
        let mut out = String::new();
        plain_reader(&b"x\ny"[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "x\ny");
    }

    #[test]
    fn multi_member_gzip_is_read_to_the_end() {
        let mut data = gz(b"first\n");
        data.extend(gz(b"second\n"));
        assert_eq!(plain_bytes(&data).unwrap(), b"first\nsecond\n");
        let mut out = String::new();
        plain_reader(&data[..])
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "first\nsecond\n");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        let data = gz(&vec![b'a'; 100_000]);
        assert!(plain_bytes(&data[..data.len() / 2]).is_err());
    }

    #[test]
    fn empty_input_is_empty() {
        assert_eq!(plain_bytes(b"").unwrap(), b"");
    }

    #[test]
    fn line_ends() {
        assert_eq!(trim_line_end(b"a\r\n"), b"a");
        assert_eq!(trim_line_end(b"a\n"), b"a");
        assert_eq!(trim_line_end(b"a"), b"a");
    }
}
