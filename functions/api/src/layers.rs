//! What every answer passes through on its way out: headers for answers that carry personal
//! data, axum's own refusals (a malformed path, a method the route does not answer) turned into
//! the one JSON error shape, and gzip for JSON answers when the client accepts it.

use std::io::Write as _;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::error::ApiError;

/// JSON answers at least this long are compressed (smaller ones gain nothing worth the work).
const GZIP_FROM: usize = 1024;
/// Longest answer body read back to compress it or to reword a refusal: JSON answers are a
/// page of at most `MAX_LIMIT` rows, far below this; a longer body is passed on as it is.
const MAX_BUFFERED: usize = 64 << 20;

/// `Cache-Control: no-store` (answers hold addresses and IPs; no shared or browser cache may
/// keep them) and `X-Content-Type-Options: nosniff` on every answer that does not set its own
/// caching (the dashboard's files may).
pub async fn headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// An error answer that is not the JSON shape (axum's rejections are plain text, a 405 has
/// no body) becomes [`ApiError::Rejected`] with the same status, its text as the message, and
/// its `Allow` header kept.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(resp.headers()) {
        return resp;
    }
    let allow = resp.headers().get(header::ALLOW).cloned();
    let text = axum::body::to_bytes(resp.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_owned()
    } else {
        text
    };
    let mut out = ApiError::Rejected { status, message }.into_response();
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

fn is_json(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Whether `Accept-Encoding` names gzip with a weight above zero.
fn accepts_gzip(h: &HeaderMap) -> bool {
    h.get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let q_zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !q_zero
        })
}

/// Compresses JSON answers with gzip when the client accepts it (`Vary: Accept-Encoding` on
/// every JSON answer, so a cache never serves one form for the other). CSV exports are
/// streamed and left as they are.
pub async fn gzip_json(req: Request, next: Next) -> Response {
    let gzip = accepts_gzip(req.headers());
    let mut resp = next.run(req).await;
    if !is_json(resp.headers()) || resp.headers().contains_key(header::CONTENT_ENCODING) {
        return resp;
    }
    resp.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if !gzip {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BUFFERED).await else {
        // Only a body past `MAX_BUFFERED` or a failing stream: answer the error shape.
        return ApiError::Rejected {
            status: axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            message: "the answer could not be sent".to_owned(),
        }
        .into_response();
    };
    if bytes.len() < GZIP_FROM {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut enc = GzEncoder::new(Vec::with_capacity(bytes.len() / 4), Compression::fast());
    let packed = enc.write_all(&bytes).and_then(|()| enc.finish());
    match packed {
        Ok(packed) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            Response::from_parts(parts, Body::from(packed))
        }
        Err(_) => Response::from_parts(parts, Body::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_with_weights() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&m)
        };
        assert!(h("gzip"));
        assert!(h("br, GZIP;q=0.5"));
        assert!(h("*"));
        assert!(!h("gzip;q=0"));
        assert!(!h("br, deflate"));
        assert!(!h("identity"));
    }
}
