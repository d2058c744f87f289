//! CSV output of list endpoints: UTF-8 with a byte-order mark (so Excel reads Japanese), CRLF
//! line ends, RFC 4180 quoting, and cells that Excel would run as formulas made inert.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Appends one cell, quoted when needed.
fn push_cell(out: &mut String, cell: &str) {
    // A leading = + - @ (or tab/CR) makes Excel evaluate the cell; a quote mark stops that.
    let inert = matches!(
        cell.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    ) && cell.parse::<f64>().is_err();
    let needs_quotes = inert || cell.contains([',', '"', '\n', '\r']);
    if needs_quotes {
        out.push('"');
        if inert {
            out.push('\'');
        }
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

/// The whole CSV text: BOM, header, rows.
pub fn render(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = String::from("\u{feff}");
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        for (i, c) in cells.enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_cell(out, c);
        }
        out.push_str("\r\n");
    };
    line(&mut out, &mut header.iter().copied());
    for row in rows {
        line(&mut out, &mut row.iter().map(String::as_str));
    }
    out
}

/// Bytes rendered before a chunk of a streamed body is handed on.
const CHUNK: usize = 64 * 1024;

/// The CSV text (BOM, header, rows) rendered lazily, about [`CHUNK`] bytes at a time.
struct Chunks<I> {
    header: Option<Vec<&'static str>>,
    rows: I,
}

impl<I: Iterator<Item = Vec<String>>> Iterator for Chunks<I> {
    type Item = Result<axum::body::Bytes, std::convert::Infallible>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut out = String::with_capacity(CHUNK + 1024);
        if let Some(h) = self.header.take() {
            out = render(&h, std::iter::empty());
        }
        while out.len() < CHUNK {
            let Some(row) = self.rows.next() else { break };
            for (i, c) in row.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_cell(&mut out, c);
            }
            out.push_str("\r\n");
        }
        (!out.is_empty()).then(|| Ok(out.into()))
    }
}

/// A `text/csv` response offered as `name.csv` whose body is rendered while it is sent, so
/// an export of any size never sits in memory as one string (on Lambda the function streams
/// it: a buffered Function URL response is at most 6 MB).
pub fn stream_response<I>(
    name: &str,
    header: Vec<&'static str>,
    rows: I,
    next_cursor: Option<&str>,
    partial: bool,
) -> Response
where
    I: Iterator<Item = Vec<String>> + Send + 'static,
{
    let chunks = Chunks {
        header: Some(header),
        rows,
    };
    let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
    let mut resp = response(name, String::new(), next_cursor, partial);
    *resp.body_mut() = body;
    resp
}

/// A `text/csv` response offered as `name.csv`.
pub fn response(name: &str, body: String, next_cursor: Option<&str>, partial: bool) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(c) = next_cursor.and_then(|c| HeaderValue::from_str(c).ok()) {
        h.insert("x-next-cursor", c);
    }
    h.insert(
        "x-partial",
        HeaderValue::from_static(if partial { "true" } else { "false" }),
    );
    resp
}

/// An optional value as a cell.
pub fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_streamed_body_is_the_rendered_text() {
        use http_body_util::BodyExt;
        let rows = (0..20_000).map(|i| vec![format!("行{i}"), "a,b".to_owned()]);
        let want = render(&["n", "v"], rows.clone());
        let resp = stream_response("x", vec!["n", "v"], rows, Some("c1"), true);
        assert_eq!(resp.headers()["x-next-cursor"], "c1");
        assert_eq!(resp.headers()["x-partial"], "true");
        let mut body = resp.into_body();
        let mut got = Vec::new();
        let mut frames = 0;
        while let Some(f) = body.frame().await {
            got.extend_from_slice(f.unwrap().data_ref().unwrap());
            frames += 1;
        }
        assert!(frames > 3, "{frames} chunks");
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }

    #[test]
    fn quoting_bom_and_formula_guard() {
        let got = render(
            &["a", "b"],
            vec![
                vec!["件名, テスト".to_owned(), "say \"hi\"".to_owned()],
                vec!["=HYPERLINK(\"x\")".to_owned(), "-1".to_owned()],
            ],
        );
        assert_eq!(
            got,
            "\u{feff}a,b\r\n\"件名, テスト\",\"say \"\"hi\"\"\"\r\n\"'=HYPERLINK(\"\"x\"\")\",-1\r\n"
        );
    }
}
