//! # logdesk-api
//!
//! The HTTP query API behind a Lambda Function URL: what happened to mail (`/v1/mail`,
//! `/v1/mail/{message_id}`, `/v1/recipients/{address}`) and to web traffic (`/v1/access`,
//! `/v1/visits`, `/v1/stats`, `/v1/errors`), read from the CloudWatch Logs groups ingest and the
//! CloudWatch agent write.
//!
//! One axum [`router`] serves both front doors: `lambda_http::run` on Lambda and `axum::serve`
//! on 127.0.0.1 (`logdesk-api serve --port N`). Logs are read through a [`source::LogSource`]
//! (FilterLogEvents on AWS, memory in tests and benchmarks); server-side filter patterns only
//! narrow what is read, and every row is re-checked here, so answers are exact whatever the
//! engine. Every response says which `engine` answered and whether it is `partial`.
//!
//! Errors are one JSON shape, `{"error":{"code","message","parameter"}}`: 400 names the bad
//! parameter, unknown routes are 404, and internal failures are 500 with a request id and no
//! internals.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod budget;
pub mod config;
pub mod csv;
pub mod csv_header;
pub mod dashboard;
pub mod engine;
pub mod error;
pub mod errors;
pub mod group_read;
pub mod insights;
pub mod layers;
pub mod mail;
pub mod mail_stats;
pub mod openapi;
pub mod params;
pub mod pattern;
pub mod recipients;
pub mod request_view;
pub mod requests;
pub mod respond;
pub mod serve;
pub mod source;
pub mod stats;
#[cfg(any(test, feature = "test-support"))]
pub mod synthetic;
pub mod visits;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

pub use config::Config;
pub use error::ApiError;

use crate::group_read::Limits;
use crate::source::LogSource;

/// What every handler shares: the settings and the log reader.
#[derive(Clone)]
pub struct AppState {
    /// Settings from the environment.
    pub config: Arc<Config>,
    /// Where log events come from.
    pub source: Arc<dyn LogSource>,
    /// Logs Insights, when the function runs against CloudWatch (stats over busy ranges).
    pub insights: Option<aws_sdk_cloudwatchlogs::Client>,
}

impl AppState {
    /// State over `source` with `config`.
    pub fn new(config: Config, source: Arc<dyn LogSource>) -> AppState {
        AppState {
            config: Arc::new(config),
            source,
            insights: None,
        }
    }

    /// The same state with Logs Insights available through `client`, unless the settings
    /// say Insights cannot be trusted here ([`Config::insights`]: an emulator): then the local
    /// engine answers every request, and every answer says so in `engine`.
    pub fn with_insights(mut self, client: aws_sdk_cloudwatchlogs::Client) -> AppState {
        if self.config.insights {
            self.insights = Some(client);
        }
        self
    }

    /// Read limits for a request that started now.
    pub fn limits(&self) -> Limits {
        Limits {
            deadline: budget::current().unwrap_or_else(|| Instant::now() + self.config.budget),
            max_events: self.config.max_events,
        }
    }
}

/// The API: every route, auth and CORS.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/v1/mail", get(mail::list))
        .route("/v1/mail/stats", get(mail_stats::stats))
        .route("/v1/mail/{message_id}", get(mail::timeline))
        .route("/v1/recipients/{address}", get(recipients::recipient))
        .route("/v1/access", get(access::list))
        .route("/v1/stats", get(stats::stats))
        .route("/v1/visits", get(visits::visits))
        .route("/v1/errors", get(errors::list))
        .route("/v1/openapi.json", get(openapi::document))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        .route("/v1/health", get(health))
        .merge(api)
        .merge(dashboard::routes())
        .fallback(not_found)
        .layer(axum::middleware::from_fn(layers::json_errors))
        .layer(axum::middleware::from_fn(layers::gzip_json))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            budget::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::cors,
        ))
        .layer(axum::middleware::from_fn(layers::headers))
        .with_state(state)
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// Always `ok` when the function answers.
    status: &'static str,
    /// The crate version.
    version: &'static str,
}

/// `GET /v1/health`: the function is up (no auth, reads nothing).
#[utoipa::path(get, path = "/v1/health", responses((status = 200, body = Health)))]
async fn health() -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

async fn not_found() -> Response {
    let mut r = ApiError::NotFound("no such route".to_owned()).into_response();
    *r.status_mut() = StatusCode::NOT_FOUND;
    r
}

/// Microseconds since the Unix epoch, now.
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}
