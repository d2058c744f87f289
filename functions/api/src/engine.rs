//! Which engine answers: the `engine` parameter of `/v1/stats` and `/v1/visits`, read once
//! into an [`Engine`], and the names answers give in their `engine` field.

use crate::error::ApiError;

/// `engine=auto` uses Logs Insights for ranges at least this long (µs): six hours.
pub const INSIGHTS_FROM_US: i64 = 6 * 3_600_000_000;

/// The `engine` of an answer read through Logs Insights (the local engine names itself:
/// [`crate::source::LogSource::engine`]).
pub const LOGS_INSIGHTS: &str = "logs_insights";

/// The engine a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// Logs Insights for long ranges when it can answer, else the local engine (the default).
    Auto,
    /// Logs Insights, or a 400 when it cannot answer the request.
    Insights,
    /// The local engine (FilterLogEvents, every row re-checked here).
    Local,
}

impl Engine {
    /// Reads the value of `engine` (absent: `auto`).
    pub fn parse(v: Option<&str>) -> Result<Engine, ApiError> {
        match v {
            None | Some("auto") => Ok(Engine::Auto),
            Some("insights") => Ok(Engine::Insights),
            Some("local") => Ok(Engine::Local),
            Some(_) => Err(ApiError::bad("engine", "expected auto, insights or local")),
        }
    }

    /// Whether Logs Insights answers: never for `local`; for `insights` when it `can` (else a
    /// 400 naming `engine` that says `why` it cannot); for `auto` when it can and `suits` the
    /// request (a long range).
    pub fn use_insights(self, can: bool, suits: bool, why: &str) -> Result<bool, ApiError> {
        match self {
            Engine::Local => Ok(false),
            Engine::Auto => Ok(can && suits),
            Engine::Insights if can => Ok(true),
            Engine::Insights => Err(ApiError::bad("engine", why)),
        }
    }
}
