//! The one error shape every answer that fails has: `{"error":{"code","message","parameter",
//! "request_id"}}` (`parameter` only for a 400 that names one).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::source::SourceError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A query parameter is missing, malformed or out of range (400, names the parameter).
    #[error("{message}")]
    BadParameter {
        /// The parameter at fault.
        parameter: String,
        /// What is wrong with it, in words a caller can act on.
        message: String,
    },
    /// The request needs `Authorization: Bearer <token>` and had none or a wrong one (401).
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// No route or no such item (404).
    #[error("{0}")]
    NotFound(String),
    /// Reading the logs failed (500; the cause is logged with the request id, never returned),
    /// or Logs Insights answered rows its query does not produce (502, likewise).
    #[error("reading logs failed: {0}")]
    Source(#[from] SourceError),
    /// Refused before a handler answered (a malformed path, a method the route does not
    /// answer): the status axum chose, with its words.
    #[error("{message}")]
    Rejected {
        /// The status of the refusal.
        status: StatusCode,
        /// What was wrong.
        message: String,
    },
}

impl ApiError {
    /// A 400 for `parameter` with `message`.
    pub fn bad(parameter: &str, message: impl Into<String>) -> ApiError {
        ApiError::BadParameter {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'a str>,
    request_id: String,
}

/// A short random-enough id to find a failed request in the function's own log.
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{:016x}", now ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The `code` of a refusal by its status.
fn rejection_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::NOT_FOUND => "not_found",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let rid = request_id();
        let (status, code, parameter, message) = match &self {
            ApiError::BadParameter { parameter, message } => (
                StatusCode::BAD_REQUEST,
                "bad_parameter",
                Some(parameter.as_str()),
                message.clone(),
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                None,
                self.to_string(),
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", None, m.clone()),
            ApiError::Source(e @ SourceError::Result(_)) => {
                tracing::error!(request_id = %rid, error = %e, "Logs Insights answer refused");
                (
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    None,
                    format!(
                        "Logs Insights answered rows its query does not produce; the answer was \
                         not used (request id {rid})"
                    ),
                )
            }
            ApiError::Source(e) => {
                tracing::error!(request_id = %rid, error = %e, "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    None,
                    format!("internal error (request id {rid})"),
                )
            }
            ApiError::Rejected { status, message } => {
                (*status, rejection_code(*status), None, message.clone())
            }
        };
        let body = Body {
            error: Inner {
                code,
                message,
                parameter,
                request_id: rid,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}
