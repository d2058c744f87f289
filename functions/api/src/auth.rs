//! Bearer-token auth (`AUTH_MODE=token`) and CORS for the origins in `CORS_ORIGINS`.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::config::AuthMode;
use crate::error::ApiError;
use crate::respond;

/// Whether `token` hashes to `expected`, compared in constant time.
pub fn token_matches(token: &str, expected: &[u8; 32]) -> bool {
    let digest = Sha256::digest(token.as_bytes());
    digest.as_slice().ct_eq(expected.as_slice()).into()
}

/// Rejects requests without the right bearer token when `AUTH_MODE=token`.
pub async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Two credentials are one too many: which one counts would be a guess (first-wins lets a
    // proxy's header and a caller's disagree unseen).
    if req
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .nth(1)
        .is_some()
    {
        return ApiError::bad("Authorization", "give the Authorization header once")
            .into_response();
    }
    if let AuthMode::Token(expected) = &state.config.auth {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, rest) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
            });
        if !token.is_some_and(|t| token_matches(t, expected)) {
            return ApiError::Unauthorized.into_response();
        }
    }
    next.run(req).await
}

/// Adds CORS headers for allowed origins (never `*`) and answers preflight requests.
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .filter(|o| state.config.cors_origins.iter().any(|a| a == o))
        .and_then(|o| HeaderValue::from_str(o).ok());
    let preflight = req.method() == Method::OPTIONS;
    let mut resp = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    // The answer depends on `Origin` whenever CORS is configured, allowed origin or not: a
    // cache must not hand one origin's answer to another.
    if !state.config.cors_origins.is_empty() {
        resp.headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
    }
    if let Some(origin) = origin {
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if preflight {
            respond::set_headers(
                h,
                &[
                    (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS"),
                    (
                        header::ACCESS_CONTROL_ALLOW_HEADERS,
                        "authorization, content-type",
                    ),
                    (header::ACCESS_CONTROL_MAX_AGE, "600"),
                ],
            );
        }
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_hash_comparison() {
        let mut expected = [0u8; 32];
        // printf %s secret | sha256sum
        hex::decode_to_slice(
            "2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b",
            &mut expected,
        )
        .unwrap();
        assert!(token_matches("secret", &expected));
        assert!(!token_matches("secret ", &expected));
        assert!(!token_matches("", &expected));
    }
}
