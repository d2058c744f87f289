//! `GET /v1/openapi.json`: the OpenAPI document, generated from the handlers' annotations.

use axum::Json;
use utoipa::OpenApi;

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "logdesk API",
        description = "What happened to mail and web traffic, from CloudWatch Logs."
    ),
    paths(crate::health)
)]
pub struct ApiDoc;

/// `GET /v1/openapi.json`.
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
